// BackupDatabase over real gRPC: an admin downloads a copy that opens as a
// results file; other roles, a server without a file and an existing
// destination are refused, leaving no file behind.
#include "rpc/database_backup.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_sweep_store.h"
#include "tests/server/test_server.h"

namespace deepsweep::server {
namespace {

using testing::FreshDirectory;
using ::testing::HasSubstr;
using testing::LoopbackOptions;

rpc::ClientOptions Options(int port, const std::string& token) {
  rpc::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.token = token;
  options.call_timeout = absl::Seconds(30);
  return options;
}

TEST(BackupTest, AnAdminDownloadsACopyThatOpens) {
  const auto dir = FreshDirectory();
  std::ofstream(dir / "credentials") << "admin ops admin-token-0123456789\n"
                                        "reader r reader-token-0123456789\n";
  Server::Options options = LoopbackOptions(dir / "db.sqlite");
  options.credentials_file = (dir / "credentials").string();
  options.service.backup_chunk_bytes = 4096;  // many chunks
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::unique_ptr<rpc::CoordinatorClient> admin = testing::Connect(port, "admin-token-0123456789");
  ASSERT_TRUE(admin->CreateSweep(testing::kThreeTrialSpec).ok());
  testing::SucceedNextTrials(*admin, 1);

  const std::string out = (dir / "copy.db").string();
  absl::StatusOr<int64_t> bytes =
      rpc::DownloadDatabaseBackup(Options(port, "admin-token-0123456789"), out);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(static_cast<uintmax_t>(*bytes), std::filesystem::file_size(out));
  EXPECT_GT(*bytes, 4096);
  auto copy = SqliteSweepStore::OpenReadOnly(out);
  ASSERT_TRUE(copy.ok()) << copy.status();
  auto sweeps = (*copy)->ListSweeps();
  ASSERT_TRUE(sweeps.ok() && sweeps->size() == 1u);
  EXPECT_EQ((*sweeps)[0].counts.succeeded, 1);
  EXPECT_EQ((*sweeps)[0].counts.pending, 2);
  // Nothing is left beside the server's database.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr("backup")));
  }

  // Never over an existing file.
  EXPECT_EQ(
      rpc::DownloadDatabaseBackup(Options(port, "admin-token-0123456789"), out).status().code(),
      absl::StatusCode::kFailedPrecondition);
  // A reader may not, and no partial file stays.
  const std::string refused = (dir / "refused.db").string();
  absl::Status denied =
      rpc::DownloadDatabaseBackup(Options(port, "reader-token-0123456789"), refused).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("BackupDatabase"));
  EXPECT_FALSE(std::filesystem::exists(refused));
  EXPECT_FALSE(std::filesystem::exists(refused + ".partial"));
}

TEST(BackupTest, AMemoryServerHasNothingToBackUp) {
  const auto dir = FreshDirectory();
  Server::Options options = LoopbackOptions(":memory:");
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::Status status =
      rpc::DownloadDatabaseBackup(Options((*server)->port(), ""), (dir / "x.db").string()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(":memory:"));
  EXPECT_FALSE(std::filesystem::exists(dir / "x.db"));
}

}  // namespace
}  // namespace deepsweep::server
