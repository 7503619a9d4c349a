// Bearer tokens and the loopback rule, as units and over real gRPC.
#include "server/auth.h"

#include <fstream>
#include <memory>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "spdlog/spdlog.h"
#include "tests/server/health_probe.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::Connect;
using testing::FreshDirectory;
using ::testing::HasSubstr;
using testing::LoopbackOptions;

TEST(IsLoopbackAddressTest, Table) {
  struct Case {
    const char* address;
    bool loopback;
  };
  for (const Case& c : std::vector<Case>{{"127.0.0.1:7070", true},
                                         {"127.1.2.3:0", true},
                                         {"localhost:7070", true},
                                         {"LOCALHOST:1", true},
                                         {"[::1]:7070", true},
                                         {"ipv4:127.0.0.1:80", true},
                                         {"unix:/tmp/deepsweep.sock", true},
                                         {"0.0.0.0:7070", false},
                                         {"[::]:7070", false},
                                         {":7070", false},
                                         {"10.0.0.5:7070", false},
                                         {"coordinator:7070", false},
                                         {"127.0.0.1.evil.example:1", false},
                                         {"128.0.0.1:1", false}}) {
    EXPECT_EQ(IsLoopbackAddress(c.address), c.loopback) << c.address;
  }
}

std::multimap<grpc::string_ref, grpc::string_ref> Metadata(const std::string& authorization) {
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  metadata.emplace("authorization", authorization);
  return metadata;
}

TEST(TokenAuthenticatorTest, ChecksTheBearerToken) {
  TokenAuthenticator authenticator(
      {{.role = Role::kAdmin, .name = "ops", .digest = Sha256("s3cret")}},
      /*required=*/true);
  const std::string right = "Bearer s3cret", wrong = "Bearer s3creT", bare = "s3cret",
                    longer = "Bearer s3cret2";
  absl::StatusOr<Caller> caller = authenticator.Authenticate(Metadata(right));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->role, Role::kAdmin);
  EXPECT_EQ(caller->name, "ops");
  EXPECT_EQ(authenticator.Authenticate(Metadata(wrong)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authenticator.Authenticate(Metadata(bare)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authenticator.Authenticate(Metadata(longer)).status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::Status missing = authenticator.Authenticate({}).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(missing.message(), HasSubstr("missing"));
  EXPECT_THAT(missing.message(), HasSubstr("--token"));  // says what to do, in the CLI's words
  EXPECT_THAT(missing.message(), HasSubstr("DEEPSWEEP_TOKEN"));
  EXPECT_THAT(authenticator.Authenticate(Metadata(wrong)).status().message(),
              ::testing::Not(HasSubstr("s3cret")));
}

TEST(TokenAuthenticatorTest, NoCredentialsLetEveryCallThrough) {
  TokenAuthenticator authenticator({}, /*required=*/false);
  EXPECT_FALSE(authenticator.required());
  absl::StatusOr<Caller> caller = authenticator.Authorize({}, Access::kAdmin, "Anything");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->role, Role::kAdmin);
}

TEST(ServerAuthTest, TokenIsRequiredOnEveryCall) {
  Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
  options.token = "s3cret-s3cret-s3cret-s3cret";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  EXPECT_EQ(Connect(port)->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Connect(port, "wrong")->ListSweeps().status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Connect(port)->AcquireTrial(testing::TestWorker("w")).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Refused calls changed nothing: no worker was registered.
  std::unique_ptr<rpc::CoordinatorClient> authorized = Connect(port, "s3cret-s3cret-s3cret-s3cret");
  absl::StatusOr<std::vector<WorkerRecord>> workers = authorized->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  EXPECT_TRUE(workers->empty());
  EXPECT_TRUE(authorized->CreateSweep(testing::kThreeTrialSpec).ok());

  // Health checks stay open for probes.
  EXPECT_TRUE(testing::IsServing(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials())));
}

TEST(ServerAuthTest, WithoutTokenCallsNeedNone) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(LoopbackOptions(FreshDirectory() / "db.sqlite"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Connect((*server)->port())->ListSweeps().ok());
  // A token the server does not expect is ignored.
  EXPECT_TRUE(Connect((*server)->port(), "anything")->ListSweeps().ok());
}

TEST(ServerAuthTest, TokenFileIsReadAndTrimmed) {
  const auto dir = FreshDirectory();
  std::ofstream(dir / "token") << "  from-file-from-file-from-file\n";
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.token_file = (dir / "token").string();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Connect((*server)->port(), "from-file-from-file-from-file")->ListSweeps().ok());
  EXPECT_EQ(Connect((*server)->port())->ListSweeps().status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(ServerAuthTest, TokensShorterThan128BitsAreRefused) {
  const auto dir = FreshDirectory();
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.token = "t";
  absl::StatusOr<std::unique_ptr<Server>> refused = Server::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("at least 22"));
  options.token = std::string(kMinTokenLength - 1, 'x');
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  std::ofstream(dir / "token") << "short\n";
  options.token.clear();
  options.token_file = (dir / "token").string();
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.token_file.clear();
  options.token = std::string(kMinTokenLength, 'x');
  EXPECT_TRUE(Server::Start(options).ok());
}

// Counts the lines logged at warn or above while it lives.
class WarningCounter {
 public:
  WarningCounter()
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)) {
    auto logger = std::make_shared<spdlog::logger>("counted", sink_);
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
  }
  ~WarningCounter() { spdlog::set_default_logger(previous_); }
  size_t lines() const { return sink_->last_raw().size(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST(ServerAuthTest, FailedLoginsAreLoggedOncePerInterval) {
  FakeClock clock;
  Server::Options options = LoopbackOptions(FreshDirectory() / "db.sqlite");
  options.token = std::string(kMinTokenLength, 'x');
  options.clock = &clock;
  options.service.failed_login_log_interval = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<rpc::CoordinatorClient> guesser = Connect((*server)->port(), "guess");

  WarningCounter warnings;
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(guesser->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(warnings.lines(), 1u);
  clock.Advance(absl::Seconds(10));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(guesser->ListSweeps().status().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(warnings.lines(), 2u);
}

TEST(ServerAuthTest, TokenAndTokenFileTogetherAreRejected) {
  const auto dir = FreshDirectory();
  std::ofstream(dir / "token") << "t-0123456789abcdefghijkl";
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.token = "t-0123456789abcdefghijkl";
  options.token_file = (dir / "token").string();
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.token.clear();
  options.token_file = (dir / "missing").string();
  EXPECT_EQ(Server::Start(options).status().code(), absl::StatusCode::kNotFound);
}

// Binding 0.0.0.0 port 0 is local; no traffic leaves loopback.
TEST(ServerAuthTest, RefusesNonLoopbackAddressWithoutTokenOrInsecure) {
  const auto dir = FreshDirectory();
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.address = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<Server>> refused = Server::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("0.0.0.0:0"));
  EXPECT_THAT(refused.status().message(), HasSubstr("token"));
  EXPECT_THAT(refused.status().message(), HasSubstr("--insecure"));

  options.insecure = true;
  absl::StatusOr<std::unique_ptr<Server>> insecure = Server::Start(options);
  ASSERT_TRUE(insecure.ok()) << insecure.status();
  EXPECT_TRUE(Connect((*insecure)->port())->ListSweeps().ok());
  insecure->reset();

  options.insecure = false;
  options.token = "s3cret-s3cret-s3cret-s3cret";
  absl::StatusOr<std::unique_ptr<Server>> with_token = Server::Start(options);
  ASSERT_TRUE(with_token.ok()) << with_token.status();
  EXPECT_TRUE(Connect((*with_token)->port(), "s3cret-s3cret-s3cret-s3cret")->ListSweeps().ok());
}

}  // namespace
}  // namespace deepsweep::server
