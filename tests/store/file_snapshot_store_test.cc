// FileSnapshotStore: durable puts named by step, attempt and CRC-32, checked
// reads, retention, and no trace of a write a crash interrupted.
#include "store/file_snapshot_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/crc32.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

class FileSnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("snapstore_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<FileSnapshotStore> Open() {
    auto store = FileSnapshotStore::Open(dir_.string());
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }
  static SnapshotInfo Info(TrialId trial, int64_t step, int attempt, std::string_view bytes) {
    return SnapshotInfo{.trial_id = trial, .step = step, .attempt = attempt, .crc32 = Crc32(bytes)};
  }
  std::filesystem::path dir_;
};

TEST_F(FileSnapshotStoreTest, StoresListsNewestFirstAndReadsBack) {
  auto store = Open();
  const std::string a(3'000'000, 'a'), b = "bbbb";
  ASSERT_TRUE(store->Put(Info(7, 100, 1, a), a).ok());
  ASSERT_TRUE(store->Put(Info(7, 200, 2, b), b).ok());
  auto list = store->List(7);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].step, 200);
  EXPECT_EQ((*list)[0].attempt, 2);
  EXPECT_EQ((*list)[0].bytes, 4);
  EXPECT_EQ((*list)[1].bytes, 3'000'000);
  EXPECT_EQ(*store->Read(7, 100), a);
  EXPECT_EQ(store->Read(7, 150).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->List(8)->empty());
  // A reopened store sees the same.
  EXPECT_EQ(Open()->List(7)->size(), 2u);
}

TEST_F(FileSnapshotStoreTest, RefusesBytesThatDoNotMatchTheirChecksum) {
  auto store = Open();
  SnapshotInfo info = Info(1, 10, 1, "abc");
  EXPECT_EQ(store->Put(info, "abd").code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(store->List(1)->empty());
}

TEST_F(FileSnapshotStoreTest, ADamagedFileIsDetectedOnRead) {
  auto store = Open();
  const std::string bytes(1000, 'x');
  ASSERT_TRUE(store->Put(Info(3, 5, 1, bytes), bytes).ok());
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!f.is_regular_file()) continue;
    std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(500);
    file.put('y');
  }
  EXPECT_EQ(store->Read(3, 5).status().code(), absl::StatusCode::kDataLoss);
  // Truncated.
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_)) {
    if (f.is_regular_file()) std::filesystem::resize_file(f.path(), 10);
  }
  EXPECT_EQ(store->Read(3, 5).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(FileSnapshotStoreTest, PruneKeepsTheNewestAndTheSameStepIsReplaced) {
  auto store = Open();
  for (int64_t step : {10, 20, 30}) {
    const std::string bytes = "s" + std::to_string(step);
    ASSERT_TRUE(store->Put(Info(4, step, 1, bytes), bytes).ok());
  }
  ASSERT_TRUE(store->Put(Info(4, 30, 2, "again"), "again").ok());
  EXPECT_EQ(store->List(4)->size(), 3u);
  EXPECT_EQ(*store->Read(4, 30), "again");
  ASSERT_TRUE(store->Prune(4, 1).ok());
  auto list = store->List(4);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].step, 30);
  ASSERT_TRUE(store->Prune(4, 0).ok());
  EXPECT_TRUE(store->List(4)->empty());
}

TEST_F(FileSnapshotStoreTest, ATemporaryFileACrashLeftIsNeitherListedNorKept) {
  auto store = Open();
  ASSERT_TRUE(store->Put(Info(9, 1, 1, "x"), "x").ok());
  const auto partial = dir_ / "trial-9" / ".tmp-2-123-0";
  std::ofstream(partial) << "half a snapshot";
  EXPECT_EQ(store->List(9)->size(), 1u);
  Open();  // a restarted coordinator
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_EQ(Open()->List(9)->size(), 1u);
}

}  // namespace
}  // namespace deepsweep
