// Roles: every RPC against every role over a real server, the credentials
// file format, and reloading the credentials (add, revoke, a bad file).
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/signals.h"
#include "deepsweep/v1/coordinator.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using ::testing::HasSubstr;
using testing::LoopbackOptions;

using Stub = v1::CoordinatorService::Stub;
using Call = std::function<grpc::Status(Stub&, grpc::ClientContext*)>;

// One call per RPC, each with a request that is harmless when allowed (an
// unknown id, an empty spec, a lease that does not exist): what is checked is
// only whether the role check let it through.
struct Method {
  const char* name;
  Access access;
  Call call;
};

template <typename Request, typename Response>
Call Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
           Request request = {}) {
  return [method, request](Stub& stub, grpc::ClientContext* context) {
    Response response;
    return (stub.*method)(context, request, &response);
  };
}

std::vector<Method> AllMethods() {
  v1::GetSweepRequest get_sweep;
  get_sweep.set_sweep_id(999);
  v1::CancelSweepRequest cancel;
  cancel.set_sweep_id(999);
  v1::RetryTrialsRequest retry;
  retry.set_sweep_id(999);
  v1::GetTrialRequest get_trial;
  get_trial.set_trial_id(999);
  v1::ListAttemptsRequest attempts;
  attempts.set_trial_id(999);
  v1::GetCheckpointsRequest checkpoints;
  checkpoints.set_trial_id(999);
  v1::RenewLeaseRequest renew;
  renew.set_trial_id(999);
  renew.set_lease_id("no-such-lease");
  v1::ReportCheckpointsRequest report;
  report.set_trial_id(999);
  report.set_lease_id("no-such-lease");
  v1::CompleteTrialRequest complete;
  complete.set_trial_id(999);
  complete.set_lease_id("no-such-lease");
  v1::FailTrialRequest fail;
  fail.set_trial_id(999);
  fail.set_lease_id("no-such-lease");
  v1::ReleaseTrialRequest release;
  release.set_trial_id(999);
  release.set_lease_id("no-such-lease");
  return {
      {"CreateSweep", Access::kSubmit, Unary(&Stub::CreateSweep)},
      {"GetSweep", Access::kRead, Unary(&Stub::GetSweep, get_sweep)},
      {"ListSweeps", Access::kRead, Unary(&Stub::ListSweeps)},
      {"CancelSweep", Access::kSubmit, Unary(&Stub::CancelSweep, cancel)},
      {"RetryTrials", Access::kSubmit, Unary(&Stub::RetryTrials, retry)},
      {"ListTrials", Access::kRead, Unary(&Stub::ListTrials)},
      {"GetTrial", Access::kRead, Unary(&Stub::GetTrial, get_trial)},
      {"GetCheckpoints", Access::kRead, Unary(&Stub::GetCheckpoints, checkpoints)},
      {"ListWorkers", Access::kRead, Unary(&Stub::ListWorkers)},
      {"ListAttempts", Access::kRead, Unary(&Stub::ListAttempts, attempts)},
      {"WatchSweep", Access::kRead,
       [](Stub& stub, grpc::ClientContext* context) {
         v1::WatchSweepRequest request;
         request.set_sweep_id(999);
         std::unique_ptr<grpc::ClientReader<v1::SweepProgress>> reader =
             stub.WatchSweep(context, request);
         v1::SweepProgress progress;
         while (reader->Read(&progress)) {
         }
         return reader->Finish();
       }},
      {"AcquireTrial", Access::kWork, Unary(&Stub::AcquireTrial)},
      {"RenewLease", Access::kWork, Unary(&Stub::RenewLease, renew)},
      {"ReportCheckpoints", Access::kWork, Unary(&Stub::ReportCheckpoints, report)},
      {"CompleteTrial", Access::kWork, Unary(&Stub::CompleteTrial, complete)},
      {"FailTrial", Access::kWork, Unary(&Stub::FailTrial, fail)},
      {"ReleaseTrial", Access::kWork, Unary(&Stub::ReleaseTrial, release)},
      {"BackupDatabase", Access::kAdmin,
       [](Stub& stub, grpc::ClientContext* context) {
         std::unique_ptr<grpc::ClientReader<v1::BackupChunk>> reader =
             stub.BackupDatabase(context, v1::BackupDatabaseRequest());
         v1::BackupChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
      {"UploadSnapshot", Access::kWork,
       [](Stub& stub, grpc::ClientContext* context) {
         v1::UploadSnapshotResponse response;
         std::unique_ptr<grpc::ClientWriter<v1::SnapshotChunk>> writer =
             stub.UploadSnapshot(context, &response);
         v1::SnapshotChunk chunk;
         chunk.set_trial_id(999);
         chunk.set_lease_id("no-such-lease");
         chunk.set_total_bytes(1);
         chunk.set_data("x");
         if (writer->Write(chunk)) writer->WritesDone();
         return writer->Finish();
       }},
      {"DownloadSnapshot", Access::kWork,
       [](Stub& stub, grpc::ClientContext* context) {
         v1::DownloadSnapshotRequest request;
         request.set_trial_id(999);
         request.set_lease_id("no-such-lease");
         std::unique_ptr<grpc::ClientReader<v1::SnapshotChunk>> reader =
             stub.DownloadSnapshot(context, request);
         v1::SnapshotChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
      {"DownloadWeights", Access::kRead,
       [](Stub& stub, grpc::ClientContext* context) {
         v1::DownloadWeightsRequest request;
         request.set_trial_id(999);
         std::unique_ptr<grpc::ClientReader<v1::SnapshotChunk>> reader =
             stub.DownloadWeights(context, request);
         v1::SnapshotChunk chunk;
         while (reader->Read(&chunk)) {
         }
         return reader->Finish();
       }},
  };
}

// The tokens of the credentials file below, one per role.
struct RoleToken {
  Role role;
  const char* name;
  const char* token;
};
constexpr RoleToken kRoleTokens[] = {
    {Role::kWorker, "pool-a", "worker-token-0123456789abcdef"},
    {Role::kReader, "grafana", "reader-token-0123456789abcdef"},
    {Role::kSubmitter, "alice", "submitter-token-0123456789abcdef"},
    {Role::kAdmin, "ops", "admin-token-0123456789abcdef"},
};

std::string Hex(const TokenDigest& digest) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// The file lists the worker's and the admin's tokens as digests, the others raw.
std::string CredentialsFileText() {
  std::string text = "# role name secret\n\n";
  for (const RoleToken& entry : kRoleTokens) {
    const bool hashed = entry.role == Role::kWorker || entry.role == Role::kAdmin;
    absl::StrAppend(&text, RoleName(entry.role), "\t", entry.name, "  ",
                    hashed ? absl::StrCat("sha256:", Hex(Sha256(entry.token))) : entry.token, "\n");
  }
  return text;
}

grpc::Status CallAs(const std::shared_ptr<grpc::Channel>& channel, const Method& method,
                    const std::string& token) {
  std::unique_ptr<Stub> stub = v1::CoordinatorService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return method.call(*stub, &context);
}

// A server on port 0 whose credentials file is CredentialsFileText().
absl::StatusOr<std::unique_ptr<Server>> StartWithFourRoles() {
  const auto dir = FreshDirectory();
  std::ofstream(dir / "credentials") << CredentialsFileText();
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.credentials_file = (dir / "credentials").string();
  return Server::Start(options);
}

TEST(RolesTest, EveryMethodAgainstEveryRole) {
  absl::StatusOr<std::unique_ptr<Server>> server = StartWithFourRoles();
  ASSERT_TRUE(server.ok()) << server.status();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials());

  const std::vector<Method> methods = AllMethods();
  const google::protobuf::ServiceDescriptor* service =
      v1::CreateSweepRequest::descriptor()->file()->FindServiceByName("CoordinatorService");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(static_cast<int>(methods.size()), service->method_count())
      << "a method of CoordinatorService is missing from this table";
  int allowed = 0, denied = 0;
  for (const Method& method : methods) {
    for (const RoleToken& entry : kRoleTokens) {
      SCOPED_TRACE(absl::StrCat(method.name, " as ", RoleName(entry.role)));
      const grpc::Status status = CallAs(channel, method, entry.token);
      if (RoleAllows(entry.role, method.access)) {
        ++allowed;
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
      } else {
        ++denied;
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_THAT(status.error_message(), HasSubstr(std::string(RoleName(entry.role))));
        EXPECT_THAT(status.error_message(), HasSubstr(method.name));
        EXPECT_THAT(status.error_message(), HasSubstr(entry.name));
        EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr(entry.token)));
      }
    }
    // No token, and a token the file does not list.
    for (const std::string token : {"", "not-a-listed-token-0123456789"}) {
      const grpc::Status status = CallAs(channel, method, token);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method.name;
      EXPECT_THAT(status.error_message(), HasSubstr("--token"));
      EXPECT_THAT(status.error_message(), HasSubstr("DEEPSWEEP_TOKEN"));
    }
  }
  // 8 work methods x {worker, admin} + 9 reads x {reader, submitter, admin}
  // + 3 submits x {submitter, admin} + the backup x {admin}.
  EXPECT_EQ(allowed, 8 * 2 + 9 * 3 + 3 * 2 + 1);
  EXPECT_EQ(denied, 21 * 4 - allowed);
}

TEST(RolesTest, TheRoleTable) {
  // Each role's permissions spelled out, so a change to RoleAllows is a
  // deliberate change to this table.
  struct Row {
    Role role;
    bool work, read, submit, admin;
  };
  for (const Row& row : {Row{Role::kWorker, true, false, false, false},
                         Row{Role::kReader, false, true, false, false},
                         Row{Role::kSubmitter, false, true, true, false},
                         Row{Role::kAdmin, true, true, true, true}}) {
    SCOPED_TRACE(RoleName(row.role));
    EXPECT_EQ(RoleAllows(row.role, Access::kWork), row.work);
    EXPECT_EQ(RoleAllows(row.role, Access::kRead), row.read);
    EXPECT_EQ(RoleAllows(row.role, Access::kSubmit), row.submit);
    EXPECT_EQ(RoleAllows(row.role, Access::kAdmin), row.admin);
  }
}

TEST(RolesTest, WorkersCannotCancelButSubmittersCan) {
  absl::StatusOr<std::unique_ptr<Server>> server = StartWithFourRoles();
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::unique_ptr<rpc::CoordinatorClient> submitter = Connect(port, kRoleTokens[2].token);
  std::unique_ptr<rpc::CoordinatorClient> worker = Connect(port, kRoleTokens[0].token);
  absl::StatusOr<SweepRecord> sweep = submitter->CreateSweep(testing::kThreeTrialSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(worker->CancelSweep(sweep->id).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(submitter->GetSweep(sweep->id)->state, SweepState::kActive);
  absl::StatusOr<Acquisition> leased = worker->AcquireTrial(testing::TestWorker("w"));
  ASSERT_TRUE(leased.ok() && leased->trial.has_value()) << leased.status();
  EXPECT_EQ(submitter->AcquireTrial(testing::TestWorker("s")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(submitter->CancelSweep(sweep->id).ok());
}

TEST(CredentialsFileTest, ParsesRolesNamesDigestsAndTokens) {
  absl::StatusOr<std::vector<Credential>> credentials =
      ParseCredentials(CredentialsFileText(), "creds");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ASSERT_EQ(credentials->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*credentials)[i].role, kRoleTokens[i].role);
    EXPECT_EQ((*credentials)[i].name, kRoleTokens[i].name);
    EXPECT_EQ((*credentials)[i].digest, Sha256(kRoleTokens[i].token));
  }
  // The SHA-256 of "abc" (FIPS 180-2's first example), upper-case hex accepted.
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  absl::StatusOr<std::vector<Credential>> upper = ParseCredentials(
      "reader r sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "creds");
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ((*upper)[0].digest, Sha256("abc"));
}

TEST(CredentialsFileTest, BadLinesAreRejectedWithTheirLineNumber) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"worker a\n", "line 1: expected 'ROLE NAME SECRET'"},
           {"# ok\nroot a token1\n", "line 2: unknown role 'root'"},
           {"worker a sha256:abc\n", "line 1: 'sha256:' must be followed by 64 hex digits"},
           {"worker a sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "64 hex digits"},
           {"worker a t1-0123456789abcdefghij\nreader a t2-0123456789abcdefghij\n",
            "line 2: name 'a' appears twice"},
           {"worker a t1-0123456789abcdefghij\nadmin b t1-0123456789abcdefghij\n",
            "line 2: the token of 'b' is also another"},
           {"worker a abc-0123456789abcdefghij\nadmin b "
            "sha256:f387a8063aef4e76174716be2bf58f24c25811f4ba6445cf3194f747bcf40868\n",
            "line 2: the token of 'b'"},
           {"worker a t1 extra\n", "found 4"},
           {"# ok\nworker a t1-short\n", "line 2: the bearer token is 8 characters long"},
       }) {
    absl::StatusOr<std::vector<Credential>> parsed = ParseCredentials(c.text, "creds");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message)) << c.text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("creds")) << c.text;
    EXPECT_THAT(parsed.status().message(), ::testing::Not(HasSubstr("t1"))) << c.text;
  }
  absl::StatusOr<std::vector<Credential>> empty = ParseCredentials("\n# nobody\n", "creds");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(CredentialsFileTest, TheOldTokenIsAnAdminCredential) {
  const auto dir = FreshDirectory();
  std::ofstream(dir / "credentials") << "worker pool w-token-0123456789abcd\n";
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.credentials_file = (dir / "credentials").string();
  options.token = "legacy-admin-token-0123456789";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  EXPECT_TRUE(Connect(port, options.token)->CreateSweep(testing::kThreeTrialSpec).ok());
  EXPECT_TRUE(Connect(port, "w-token-0123456789abcd")->AcquireTrial(testing::TestWorker("w")).ok());
  absl::Status denied = Connect(port, "w-token-0123456789abcd")->ListSweeps().status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);

  // The same token as --token and in the file would have two roles.
  options.token = "w-token-0123456789abcd";
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// Rewrites the credentials file: written to a temporary name and renamed, as
// an operator's editor or a Secret update does, so a reload never sees half.
void WriteCredentials(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".new";
  std::ofstream(temporary) << text;
  std::filesystem::rename(temporary, path);
}

TEST(CredentialsReloadTest, AddRevokeAndKeepTheOldSetOnABadFile) {
  const auto dir = FreshDirectory();
  const auto file = dir / "credentials";
  WriteCredentials(file, "submitter alice alice-token-0123456789\n");
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.credentials_file = file.string();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::unique_ptr<rpc::CoordinatorClient> alice = Connect(port, "alice-token-0123456789");
  std::unique_ptr<rpc::CoordinatorClient> bob = Connect(port, "bob-token-0123456789ab");
  ASSERT_TRUE(alice->ListSweeps().ok());
  ASSERT_EQ(bob->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);

  // Add bob as a reader.
  WriteCredentials(file,
                   "submitter alice alice-token-0123456789\nreader bob bob-token-0123456789ab\n");
  ASSERT_TRUE((*server)->ReloadCredentials().ok());
  EXPECT_TRUE(bob->ListSweeps().ok());
  EXPECT_EQ(bob->CreateSweep(testing::kThreeTrialSpec).status().code(),
            absl::StatusCode::kPermissionDenied);

  // A broken file: the reload fails, says why, and both keep working.
  WriteCredentials(file, "submitter alice alice-token-0123456789\nsuperuser eve eve-token\n");
  absl::Status bad = (*server)->ReloadCredentials();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("line 2"));
  EXPECT_TRUE(alice->ListSweeps().ok());
  EXPECT_TRUE(bob->ListSweeps().ok());
  std::filesystem::remove(file);
  EXPECT_EQ((*server)->ReloadCredentials().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(alice->ListSweeps().ok());

  // Revoke alice; bob stays.
  WriteCredentials(file, "reader bob bob-token-0123456789ab\n");
  ASSERT_TRUE((*server)->ReloadCredentials().ok());
  EXPECT_EQ(alice->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(bob->ListSweeps().ok());

  // Revoke everyone: calls still need a credential, and none is accepted.
  WriteCredentials(file, "# nobody\n");
  ASSERT_TRUE((*server)->ReloadCredentials().ok());
  EXPECT_EQ(bob->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Connect(port)->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(CredentialsReloadTest, NothingToReloadWithoutCredentials) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(LoopbackOptions(FreshDirectory() / "db.sqlite"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->ReloadCredentials().code(), absl::StatusCode::kFailedPrecondition);
}

// Polls `probe` until it returns `code` (the reload runs on the serving
// thread, after the signal); false after 20 s.
bool Eventually(const std::function<absl::StatusCode()>& probe, absl::StatusCode code) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (probe() == code) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

TEST(CredentialsReloadTest, SighupReloadsWhileServing) {
  const auto dir = FreshDirectory();
  const auto file = dir / "credentials";
  WriteCredentials(file, "reader old old-token-0123456789ab\n");
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.credentials_file = file.string();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(InstallTerminationHandlers().ok());
  ASSERT_TRUE(InstallReloadHandler().ok());
  std::thread serving([&] { (*server)->ServeUntilSignal(); });
  std::unique_ptr<rpc::CoordinatorClient> old_reader =
      Connect((*server)->port(), "old-token-0123456789ab");
  std::unique_ptr<rpc::CoordinatorClient> new_reader =
      Connect((*server)->port(), "new-token-0123456789abcd");
  ASSERT_TRUE(old_reader->ListSweeps().ok());

  WriteCredentials(file, "reader new new-token-0123456789abcd\n");
  ASSERT_EQ(raise(SIGHUP), 0);
  EXPECT_TRUE(
      Eventually([&] { return new_reader->ListSweeps().status().code(); }, absl::StatusCode::kOk));
  EXPECT_EQ(old_reader->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);

  ASSERT_EQ(raise(SIGINT), 0);
  serving.join();
}

}  // namespace
}  // namespace deepsweep::server
