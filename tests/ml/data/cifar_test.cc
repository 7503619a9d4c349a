#include "ml/data/cifar.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ml/data/test_files.h"

namespace deepsweep::ml {
namespace {

using ::testing::AllOf;
using testing::Bytes;
using testing::FreshTestDir;
using ::testing::HasSubstr;
using testing::WriteGzip;
using testing::WritePlain;

// `records` CIFAR records; record r has label (first + r) % 10 and every
// red byte = 10 + r, green = 20 + r, blue = 30 + r.
Bytes CifarBatch(int records, int first = 0) {
  Bytes bytes;
  for (int r = 0; r < records; ++r) {
    bytes.push_back(static_cast<uint8_t>((first + r) % 10));
    for (int channel = 0; channel < 3; ++channel) {
      bytes.insert(bytes.end(), 1024, static_cast<uint8_t>(10 * (channel + 1) + r));
    }
  }
  return bytes;
}

void WriteCifarSet(const std::filesystem::path& dir, int per_batch) {
  for (int b = 1; b <= 5; ++b) {
    WritePlain(dir / ("data_batch_" + std::to_string(b) + ".bin"), CifarBatch(per_batch, b));
  }
  WritePlain(dir / "test_batch.bin", CifarBatch(per_batch));
}

TEST(CifarTest, ReadsTheSixBatches) {
  const auto dir = FreshTestDir();
  WriteCifarSet(dir, 3);
  const auto set = LoadCifar10(dir.string());
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->train.count(), 15);
  EXPECT_EQ(set->test.count(), 3);
  EXPECT_EQ(set->train.shape.channels, 3);
  EXPECT_EQ(set->train.shape.pixels(), 3072);
  EXPECT_EQ(set->num_classes(), 10);
  EXPECT_EQ(set->class_names[1], "automobile");
  // Batch 2's records start at training index 3, with labels 2, 3, 4.
  EXPECT_EQ(set->train.labels[3], 2);
  EXPECT_EQ(set->train.labels[5], 4);
  // Record 1 of batch 2: red plane 11, green 21, blue 31.
  EXPECT_EQ(set->train.image(4)[0], 11);
  EXPECT_EQ(set->train.image(4)[1024], 21);
  EXPECT_EQ(set->train.image(4)[3071], 31);
}

TEST(CifarTest, FindsTheArchiveSubfolderAndGzipFiles) {
  const auto dir = FreshTestDir();
  const auto nested = dir / "cifar-10-batches-bin";
  std::filesystem::create_directories(nested);
  for (int b = 1; b <= 5; ++b) {
    WriteGzip(nested / ("data_batch_" + std::to_string(b) + ".bin"), CifarBatch(2));
  }
  WriteGzip(nested / "test_batch.bin", CifarBatch(2));
  const auto set = LoadCifar10(dir.string());
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->train.count(), 10);
}

TEST(CifarTest, MissingBatchIsNotFound) {
  const auto dir = FreshTestDir();
  WriteCifarSet(dir, 1);
  std::filesystem::remove(dir / "data_batch_4.bin");
  const auto set = LoadCifar10(dir.string());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr("data_batch_4.bin"));
}

TEST(CifarTest, TruncatedBatchIsDataLoss) {
  const auto dir = FreshTestDir();
  WriteCifarSet(dir, 2);
  Bytes cut = CifarBatch(2);
  cut.resize(cut.size() - 100);
  WritePlain(dir / "data_batch_2.bin", cut);
  const auto set = LoadCifar10(dir.string());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(), AllOf(HasSubstr("data_batch_2.bin"), HasSubstr("truncated"),
                                            HasSubstr("not a whole number of 3073-byte records")));
}

TEST(CifarTest, EmptyBatchIsDataLoss) {
  const auto dir = FreshTestDir();
  WriteCifarSet(dir, 2);
  WritePlain(dir / "test_batch.bin", Bytes{});
  const auto set = LoadCifar10(dir.string());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(), AllOf(HasSubstr("test_batch.bin"), HasSubstr("empty")));
}

TEST(CifarTest, LabelOutOfRangeIsDataLoss) {
  const auto dir = FreshTestDir();
  WriteCifarSet(dir, 2);
  Bytes bad = CifarBatch(2);
  bad[3073] = 10;  // label of record 1
  WritePlain(dir / "data_batch_5.bin", bad);
  const auto set = LoadCifar10(dir.string());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("data_batch_5.bin"), HasSubstr("label 10 of record 1")));
}

}  // namespace
}  // namespace deepsweep::ml
