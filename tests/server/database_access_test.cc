// Database files the server must refuse (issue 17, defect 5) and the
// read-only copy the CLI must read (defect 6), with the real binaries.
//
// Permission bits do not stop root, and CI runs as root: the programs then
// run as the unprivileged uid 65534 (setpriv), for which the bits hold.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_sweep_store.h"
#include "tests/server/test_server.h"
#include "tests/testing/child_process.h"

namespace deepsweep::server {
namespace {

using ::deepsweep::testing::ChildProcess;
using ::deepsweep::testing::ReadLog;
using testing::FreshDirectory;
using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;

// `argv` as uid/gid 65534 when this process is root, else as itself.
std::vector<std::string> Unprivileged(std::vector<std::string> argv) {
  if (geteuid() != 0) return argv;
  std::vector<std::string> wrapped = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

// Runs `argv` to its end (at most 30 s); its exit code (-1 when it did not
// end by itself) and its output.
std::pair<int, std::string> RunToEnd(const std::vector<std::string>& argv,
                                     const std::filesystem::path& log) {
  ChildProcess child(argv, log.string());
  EXPECT_TRUE(child.started());
  std::optional<int> status = child.WaitFor(30'000);
  if (!status.has_value()) return {-1, ReadLog(log.string())};
  return {WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, ReadLog(log.string())};
}

std::pair<int, std::string> RunServer(const std::filesystem::path& db,
                                      const std::filesystem::path& log) {
  return RunToEnd(Unprivileged({DEEPSWEEP_SERVER_BINARY, "--address", "127.0.0.1:0", "--db",
                                db.string(), "--log-level", "warn"}),
                  log);
}

// A results file with one sweep, closed (so no -wal or -shm is left), in a
// directory of its own that uid 65534 owns.
std::filesystem::path MakeDatabase(const std::filesystem::path& dir) {
  const std::filesystem::path data = dir / "data";
  std::filesystem::create_directories(data);
  const std::filesystem::path db = data / "sweeps.db";
  {
    absl::StatusOr<std::unique_ptr<SqliteSweepStore>> store = SqliteSweepStore::Open(db.string());
    EXPECT_TRUE(store.ok()) << store.status();
    NewSweep sweep{.name = "readable", .spec_yaml = "name: readable\n", .created_at = {}};
    EXPECT_TRUE((*store)->CreateSweep(sweep, {TrialSpec{}}).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(db.string() + "-wal"));
  if (geteuid() == 0) {
    EXPECT_EQ(chown(data.c_str(), kNobody, kNobody), 0);
    EXPECT_EQ(chown(db.c_str(), kNobody, kNobody), 0);
  }
  return db;
}

TEST(DatabaseAccessTest, ServerRefusesAFileItCannotWrite) {
  const auto dir = FreshDirectory();
  const auto db = MakeDatabase(dir);
  ASSERT_EQ(chmod(db.c_str(), 0444), 0);
  auto [code, output] = RunServer(db, dir / "server.log");
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr(absl::StrCat("cannot write database file '", db.string())));
  EXPECT_THAT(output, HasSubstr("writable"));
}

TEST(DatabaseAccessTest, ServerRefusesADirectoryItCannotWrite) {
  const auto dir = FreshDirectory();
  const auto db = MakeDatabase(dir);
  ASSERT_EQ(chmod(db.parent_path().c_str(), 0555), 0);
  auto [code, output] = RunServer(db, dir / "server.log");
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output,
              HasSubstr(absl::StrCat("cannot write the directory '", db.parent_path().string())));
  EXPECT_THAT(output, HasSubstr("-wal and -shm"));
}

TEST(DatabaseAccessTest, ServerRefusesACorruptFileAndLeavesItAlone) {
  const auto dir = FreshDirectory();
  const auto db = MakeDatabase(dir);
  {
    // Garbage over the second page (a table's b-tree), header intact.
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    const std::string garbage(512, '\xA5');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const auto size_before = std::filesystem::file_size(db);
  auto [code, output] = RunServer(db, dir / "server.log");
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("is corrupt (PRAGMA quick_check"));
  EXPECT_THAT(output, HasSubstr(".recover"));
  EXPECT_EQ(std::filesystem::file_size(db), size_before);
}

// docs/CLI.md: "a copy without write permission reads fine", here in a
// directory without write permission too (SQLite cannot create -shm there).
TEST(DatabaseAccessTest, CliReadsAReadOnlyCopyInAReadOnlyDirectory) {
  const auto dir = FreshDirectory();
  const auto db = MakeDatabase(dir);
  ASSERT_EQ(chmod(db.c_str(), 0444), 0);
  ASSERT_EQ(chmod(db.parent_path().c_str(), 0555), 0);
  auto [code, output] = RunToEnd(
      Unprivileged({DEEPSWEEP_CLI_BINARY, "--db", db.string(), "status"}), dir / "cli.log");
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("readable"));
  EXPECT_FALSE(std::filesystem::exists(db.string() + "-shm"));
}

}  // namespace
}  // namespace deepsweep::server
