#include "ml/data/idx.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/file_bytes.h"
#include "tests/ml/data/test_files.h"

namespace deepsweep::ml {
namespace {

using ::testing::AllOf;
using testing::Bytes;
using testing::FreshTestDir;
using ::testing::HasSubstr;
using testing::IdxImages;
using testing::IdxLabels;
using testing::WriteGzip;
using testing::WritePlain;

// Writes a complete IDX dataset (train 6 images, test 4, 3x2 pixels).
void WriteIdxSet(const std::filesystem::path& dir, bool gzip) {
  auto write = gzip ? WriteGzip : WritePlain;
  const std::string suffix = gzip ? ".gz" : "";
  write(dir / ("train-images-idx3-ubyte" + suffix), IdxImages(6, 3, 2));
  write(dir / ("train-labels-idx1-ubyte" + suffix), IdxLabels({0, 1, 2, 3, 4, 9}));
  write(dir / ("t10k-images-idx3-ubyte" + suffix), IdxImages(4, 3, 2));
  write(dir / ("t10k-labels-idx1-ubyte" + suffix), IdxLabels({9, 8, 7, 6}));
}

class IdxFormatTest : public ::testing::TestWithParam<bool> {};

TEST_P(IdxFormatTest, ReadsImagesAndLabels) {
  const auto dir = FreshTestDir();
  WriteIdxSet(dir, /*gzip=*/GetParam());
  const absl::StatusOr<RawImageSet> set = LoadIdxImageSet(dir.string(), "mnist", MnistClassNames());
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->train.count(), 6);
  EXPECT_EQ(set->test.count(), 4);
  EXPECT_EQ(set->train.shape.rows, 3);
  EXPECT_EQ(set->train.shape.cols, 2);
  EXPECT_EQ(set->train.shape.channels, 1);
  EXPECT_EQ(set->train.labels, (std::vector<int32_t>{0, 1, 2, 3, 4, 9}));
  EXPECT_EQ(set->test.labels, (std::vector<int32_t>{9, 8, 7, 6}));
  // Pixel i of image n is (n * 7 + i) % 256.
  EXPECT_EQ(set->train.image(5)[4], 39);
  EXPECT_EQ(set->test.image(3)[0], 21);
  EXPECT_EQ(set->num_classes(), 10);
}

INSTANTIATE_TEST_SUITE_P(PlainAndGzip, IdxFormatTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Gzip" : "Plain"; });

TEST(IdxErrorTest, MissingFileIsNotFoundAndNamesIt) {
  const auto dir = FreshTestDir();
  WriteIdxSet(dir, true);
  std::filesystem::remove(dir / "t10k-labels-idx1-ubyte.gz");
  const auto set = LoadIdxImageSet(dir.string(), "mnist", MnistClassNames());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr("t10k-labels-idx1-ubyte"));

  const auto direct = ReadIdxImages((dir / "nope").string(), (dir / "nope2").string(), 10);
  EXPECT_EQ(direct.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(direct.status().message(), AllOf(HasSubstr("nope"), HasSubstr("no such file")));
}

TEST(IdxErrorTest, WrongMagicIsInvalidArgument) {
  const auto dir = FreshTestDir();
  // A label file given where images are expected.
  WritePlain(dir / "images", IdxLabels({1, 2}));
  WritePlain(dir / "labels", IdxLabels({1, 2}));
  const auto set = ReadIdxImages((dir / "images").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr((dir / "images").string()),
                    HasSubstr("wrong magic number 0x00000801"), HasSubstr("0x00000803")));
}

TEST(IdxErrorTest, TruncatedDataIsDataLoss) {
  const auto dir = FreshTestDir();
  Bytes images = IdxImages(5, 4, 4);
  images.resize(images.size() - 3);
  WriteGzip(dir / "images.gz", images);
  WritePlain(dir / "labels", IdxLabels({1, 2, 3, 4, 5}));
  const auto set = ReadIdxImages((dir / "images.gz").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("images.gz"), HasSubstr("truncated"), HasSubstr("5 images")));

  WritePlain(dir / "short", Bytes{0, 0, 8, 3, 0, 0});
  const auto header = ReadIdxImages((dir / "short").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(header.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(header.status().message(), AllOf(HasSubstr("short"), HasSubstr("truncated")));
}

TEST(IdxErrorTest, TrailingBytesAreDataLoss) {
  const auto dir = FreshTestDir();
  Bytes labels = IdxLabels({1, 2});
  labels.push_back(7);
  WritePlain(dir / "images", IdxImages(2, 2, 2));
  WritePlain(dir / "labels", labels);
  const auto set = ReadIdxImages((dir / "images").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(), AllOf(HasSubstr("labels"), HasSubstr("1 unexpected bytes")));
}

TEST(IdxErrorTest, CountMismatchNamesBothFiles) {
  const auto dir = FreshTestDir();
  WritePlain(dir / "images", IdxImages(3, 2, 2));
  WritePlain(dir / "labels", IdxLabels({1, 2}));
  const auto set = ReadIdxImages((dir / "images").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("count mismatch"), HasSubstr("3 images"), HasSubstr("2 labels"),
                    HasSubstr((dir / "images").string()), HasSubstr((dir / "labels").string())));
}

TEST(IdxErrorTest, LabelOutOfRangeIsDataLoss) {
  const auto dir = FreshTestDir();
  WritePlain(dir / "images", IdxImages(3, 2, 2));
  WritePlain(dir / "labels", IdxLabels({1, 10, 2}));
  const auto set = ReadIdxImages((dir / "images").string(), (dir / "labels").string(), 10);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(), AllOf(HasSubstr("labels"), HasSubstr("label 10 of example 1"),
                                            HasSubstr("out of range [0, 10)")));
}

TEST(IdxErrorTest, UnreadableGzipIsDataLoss) {
  const auto dir = FreshTestDir();
  // A gzip stream cut in half.
  WriteGzip(dir / "cut.gz", IdxImages(50, 8, 8));
  Bytes cut = testing::ReadPlain(dir / "cut.gz");
  cut.resize(cut.size() / 2);
  WritePlain(dir / "cut.gz", cut);
  // A gzip header followed by garbage.
  Bytes garbage = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03};
  for (int i = 0; i < 64; ++i) garbage.push_back(static_cast<uint8_t>(0xff - i));
  WritePlain(dir / "garbage.gz", garbage);
  WritePlain(dir / "labels", IdxLabels({1}));

  for (const char* name : {"cut.gz", "garbage.gz"}) {
    const auto set = ReadIdxImages((dir / name).string(), (dir / "labels").string(), 10);
    EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss) << name << ": " << set.status();
    EXPECT_THAT(set.status().message(), AllOf(HasSubstr(name), HasSubstr("unreadable gzip")));
  }
}

TEST(IdxErrorTest, TestImagesOfAnotherSizeAreRejected) {
  const auto dir = FreshTestDir();
  WriteIdxSet(dir, false);
  WritePlain(dir / "t10k-images-idx3-ubyte", IdxImages(4, 2, 3));
  const auto set = LoadIdxImageSet(dir.string(), "mnist", MnistClassNames());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), HasSubstr("3x2 but test images are 2x3"));
}

TEST(FileBytesTest, DirectoryAndSizeLimitAreErrors) {
  const auto dir = FreshTestDir();
  EXPECT_EQ(ReadFileBytes(dir.string()).status().code(), absl::StatusCode::kInvalidArgument);
  WritePlain(dir / "big", Bytes(5000, 1));
  const auto limited = ReadFileBytes((dir / "big").string(), 100);
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  const auto whole = ReadFileBytes((dir / "big").string());
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->size(), 5000u);
}

}  // namespace
}  // namespace deepsweep::ml
