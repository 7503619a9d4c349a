#include "ml/data/dataset_factory.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/shapeset.h"
#include "tests/ml/data/test_files.h"

namespace deepsweep::ml {
namespace {

using testing::CyclicLabels;
using testing::FreshTestDir;
using ::testing::HasSubstr;
using testing::IdxImages;
using testing::IdxLabels;
using testing::WriteGzip;

constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist";

DatasetOptions SmallShapeset() {
  DatasetOptions options;
  options.validation_examples = 300;
  options.test_examples = 400;
  options.probe_examples = 50;
  return options;
}

// Draws `count` examples from a stream in batches of 10.
Examples Draw(TrainingStream& stream, int count) {
  Examples out;
  out.x.resize(stream.input_dim(), count);
  out.y.resize(count);
  for (int first = 0; first < count; first += 10) {
    const int n = std::min(10, count - first);
    stream.NextBatch(out.x.middleCols(first, n), out.y.data() + first);
  }
  return out;
}

// True when column `j` of `a` equals some column of `b`.
bool HasColumn(const ExampleMatrix& b, const ExampleMatrix& a, Eigen::Index j) {
  for (Eigen::Index k = 0; k < b.cols(); ++k) {
    if (b.col(k) == a.col(j)) return true;
  }
  return false;
}

TEST(ShapesetDatasetTest, DefaultsGiveThePaperSetup) {
  const auto dataset = LoadDataset(DatasetOptions{}, 1);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->name, "shapeset");
  EXPECT_EQ(dataset->input_dim, 1024);
  EXPECT_EQ(dataset->num_classes, 9);
  EXPECT_EQ(dataset->validation.size(), 10000);
  EXPECT_EQ(dataset->test.size(), 10000);
  EXPECT_EQ(dataset->probe.size(), 300);
  EXPECT_EQ(dataset->train->input_dim(), 1024);
  EXPECT_LE(dataset->test.x.maxCoeff(), 1.0f);
  EXPECT_GE(dataset->test.x.minCoeff(), -1.0f);
}

TEST(ShapesetDatasetTest, SameSeedSameDataOtherSeedOtherData) {
  auto a = BuildShapesetDataset(SmallShapeset(), 7);
  auto b = BuildShapesetDataset(SmallShapeset(), 7);
  auto c = BuildShapesetDataset(SmallShapeset(), 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->validation.x, b->validation.x);
  EXPECT_EQ(a->test.x, b->test.x);
  EXPECT_EQ(a->probe.x, b->probe.x);
  EXPECT_EQ(Draw(*a->train, 50).x, Draw(*b->train, 50).x);
  EXPECT_NE(a->test.x, c->test.x);
  EXPECT_NE(Draw(*a->train, 50).x, Draw(*c->train, 50).x);
}

TEST(ShapesetDatasetTest, FixedSetsComeFromDisjointStreams) {
  auto dataset = BuildShapesetDataset(SmallShapeset(), 3);
  ASSERT_TRUE(dataset.ok());
  const Examples train = Draw(*dataset->train, 300);
  // With 2^-60-ish odds of a repeated scene, no example may be shared.
  for (Eigen::Index j = 0; j < 50; ++j) {
    EXPECT_FALSE(HasColumn(dataset->test.x, dataset->probe.x, j));
    EXPECT_FALSE(HasColumn(dataset->validation.x, dataset->probe.x, j));
    EXPECT_FALSE(HasColumn(train.x, dataset->probe.x, j));
  }
}

TEST(ShapesetDatasetTest, UnitScalingMapsToZeroOne) {
  DatasetOptions options = SmallShapeset();
  options.preprocess = Preprocess::kUnit;
  auto dataset = BuildShapesetDataset(options, 4);
  ASSERT_TRUE(dataset.ok());
  const Examples batch = Draw(*dataset->train, 100);
  EXPECT_GE(batch.x.minCoeff(), 0.0f);
  EXPECT_LE(batch.x.maxCoeff(), 1.0f);
  EXPECT_GE(dataset->validation.x.minCoeff(), 0.0f);
  EXPECT_LE(dataset->validation.x.maxCoeff(), 1.0f);
}

TEST(ShapesetDatasetTest, FixedTrainingSetHoldsPaperPixels) {
  DatasetOptions options = SmallShapeset();
  options.train_examples = 40;
  auto dataset = BuildShapesetDataset(options, 5);
  ASSERT_TRUE(dataset.ok());
  const Examples epoch = Draw(*dataset->train, 40);
  // Stored as grey levels, read back as v / 127.5 - 1 exactly.
  for (Eigen::Index j = 0; j < epoch.x.cols(); ++j) {
    for (Eigen::Index p = 0; p < epoch.x.rows(); ++p) {
      const float value = epoch.x(p, j);
      const long grey = std::lround((value + 1.0f) * 127.5f);
      ASSERT_EQ(value, ShapesetPixelValue(static_cast<uint8_t>(grey)));
    }
  }
}

TEST(ShapesetDatasetTest, FixedTrainingSetIsStandardizedOnItselfAndReshuffled) {
  DatasetOptions options = SmallShapeset();
  options.train_examples = 500;
  options.preprocess = Preprocess::kStandardize;
  auto dataset = BuildShapesetDataset(options, 5);
  ASSERT_TRUE(dataset.ok());
  // One epoch is the whole training set once: per-feature mean 0, std 1.
  const Examples epoch1 = Draw(*dataset->train, 500);
  const Eigen::ArrayXf mean = epoch1.x.rowwise().mean().array();
  const Eigen::ArrayXf var = (epoch1.x.array().colwise() - mean).square().rowwise().sum() / 500.0f;
  EXPECT_LT(mean.abs().maxCoeff(), 1e-4);
  EXPECT_NEAR(var.mean(), 1.0, 1e-3);
  // The next epoch visits the same examples in another order.
  const Examples epoch2 = Draw(*dataset->train, 500);
  EXPECT_NE(epoch1.x, epoch2.x);
  std::vector<int32_t> labels1 = epoch1.y, labels2 = epoch2.y;
  std::sort(labels1.begin(), labels1.end());
  std::sort(labels2.begin(), labels2.end());
  EXPECT_EQ(labels1, labels2);
  for (Eigen::Index j = 0; j < 20; ++j) EXPECT_TRUE(HasColumn(epoch1.x, epoch2.x, j));
}

TEST(ShapesetDatasetTest, OnlineStandardizationCentresTheData) {
  DatasetOptions options = SmallShapeset();
  options.preprocess = Preprocess::kStandardize;
  options.standardize_sample = 3000;
  options.validation_examples = 3000;
  auto dataset = BuildShapesetDataset(options, 6);
  ASSERT_TRUE(dataset.ok());
  const Eigen::ArrayXf mean = dataset->validation.x.rowwise().mean().array();
  // Fitted on another sample of the same distribution: near, not exactly, 0.
  EXPECT_LT(mean.abs().mean(), 0.05);
  const Examples batch = Draw(*dataset->train, 100);
  EXPECT_LT(batch.x.rowwise().mean().array().abs().mean(), 0.3);
}

// A fake MNIST directory: 100 training images, 20 test images, 28 x 28.
std::filesystem::path WriteFakeMnist() {
  const auto dir = FreshTestDir();
  WriteGzip(dir / "train-images-idx3-ubyte.gz", IdxImages(100, 28, 28));
  WriteGzip(dir / "train-labels-idx1-ubyte.gz", IdxLabels(CyclicLabels(100, 10)));
  WriteGzip(dir / "t10k-images-idx3-ubyte.gz", IdxImages(20, 28, 28));
  WriteGzip(dir / "t10k-labels-idx1-ubyte.gz", IdxLabels(CyclicLabels(20, 10)));
  return dir;
}

DatasetOptions FakeMnistOptions(const std::filesystem::path& dir) {
  DatasetOptions options;
  options.name = "mnist";
  options.path = dir.string();
  options.validation_examples = 30;
  options.test_examples = 20;
  options.probe_examples = 10;
  return options;
}

TEST(ImageDatasetTest, SplitsCarveValidationFromTheEndOfTraining) {
  const auto dir = WriteFakeMnist();
  RawImageCache cache;
  const auto raw = cache.Get("mnist", dir.string());
  ASSERT_TRUE(raw.ok()) << raw.status();
  const auto dataset = BuildImageDataset(*raw, FakeMnistOptions(dir), 1);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->input_dim, 784);
  EXPECT_EQ(dataset->num_classes, 10);
  ASSERT_EQ(dataset->validation.size(), 30);
  ASSERT_EQ(dataset->test.size(), 20);
  ASSERT_EQ(dataset->probe.size(), 10);
  // Validation example k is training-file image 70 + k; pm1: v / 127.5 - 1.
  for (int k = 0; k < 30; ++k) {
    EXPECT_EQ(dataset->validation.y[k], (70 + k) % 10);
    EXPECT_NEAR(dataset->validation.x(5, k), (*raw)->train.image(70 + k)[5] / 127.5 - 1, 1e-6);
  }
  EXPECT_NEAR(dataset->test.x(0, 3), (*raw)->test.image(3)[0] / 127.5 - 1, 1e-6);
  // The probe set is held out: a subset of validation, never training images.
  for (Eigen::Index j = 0; j < 10; ++j) {
    EXPECT_TRUE(HasColumn(dataset->validation.x, dataset->probe.x, j));
  }
  // Training draws only images 0..69: one epoch sees each once.
  const Examples epoch = Draw(*dataset->train, 70);
  for (Eigen::Index j = 0; j < 70; ++j) {
    EXPECT_FALSE(HasColumn(dataset->validation.x, epoch.x, j));
  }
  std::vector<int32_t> labels = epoch.y;
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(std::count(labels.begin(), labels.end(), 3), 7);
}

TEST(ImageDatasetTest, CacheReadsOnceAndProbeDependsOnTheSeed) {
  const auto dir = WriteFakeMnist();
  RawImageCache cache;
  const auto first = cache.Get("mnist", dir.string());
  const auto second = cache.Get("mnist", dir.string());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get());
  const auto a = LoadDataset(FakeMnistOptions(dir), 1, &cache);
  const auto b = LoadDataset(FakeMnistOptions(dir), 2, &cache);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->validation.x, b->validation.x);
  EXPECT_NE(a->probe.x, b->probe.x);
}

TEST(ImageDatasetTest, StandardizationIsFittedOnTheTrainingSplitOnly) {
  const auto dir = WriteFakeMnist();
  DatasetOptions options = FakeMnistOptions(dir);
  options.preprocess = Preprocess::kStandardize;
  const auto dataset = LoadDataset(options, 1);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Examples epoch = Draw(*dataset->train, 70);
  EXPECT_LT(epoch.x.rowwise().mean().array().abs().maxCoeff(), 1e-4);
  // Validation images (70..99) have other means, so their z-scores are not 0.
  EXPECT_GT(dataset->validation.x.rowwise().mean().array().abs().maxCoeff(), 0.1);
}

TEST(ImageDatasetTest, UnitAndTrainingSubset) {
  const auto dir = WriteFakeMnist();
  DatasetOptions options = FakeMnistOptions(dir);
  options.preprocess = Preprocess::kUnit;
  options.train_examples = 10;
  const auto dataset = LoadDataset(options, 1);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const Examples epoch = Draw(*dataset->train, 10);
  std::vector<int32_t> labels = epoch.y;
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_GE(epoch.x.minCoeff(), 0.0f);
  EXPECT_LE(epoch.x.maxCoeff(), 1.0f);
}

TEST(ImageDatasetTest, ImpossibleSplitsAreInvalidArgument) {
  const auto dir = WriteFakeMnist();
  const auto base = FakeMnistOptions(dir);
  struct Case {
    const char* what;
    DatasetOptions options;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({"validation", base, "leave none"});
  cases.back().options.validation_examples = 100;
  cases.push_back({"train", base, "71 training examples asked"});
  cases.back().options.train_examples = 71;
  cases.push_back({"test", base, "21 test examples asked"});
  cases.back().options.test_examples = 21;
  cases.push_back({"probe", base, "drawn from the validation split"});
  cases.back().options.probe_examples = 31;
  cases.push_back({"negative", base, ">= 0"});
  cases.back().options.test_examples = -1;
  cases.push_back({"name", base, "unknown dataset 'imagenet'"});
  cases.back().options.name = "imagenet";
  cases.push_back({"no path", base, "no default location"});
  cases.back().options.path = "";
  for (const Case& c : cases) {
    const auto dataset = LoadDataset(c.options, 1);
    EXPECT_EQ(dataset.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(dataset.status().message(), HasSubstr(c.message)) << c.what;
  }
}

TEST(ImageDatasetTest, WrongImageSizeForMnistIsRejected) {
  const auto dir = FreshTestDir();
  WriteGzip(dir / "train-images-idx3-ubyte.gz", IdxImages(10, 8, 8));
  WriteGzip(dir / "train-labels-idx1-ubyte.gz", IdxLabels(CyclicLabels(10, 10)));
  WriteGzip(dir / "t10k-images-idx3-ubyte.gz", IdxImages(2, 8, 8));
  WriteGzip(dir / "t10k-labels-idx1-ubyte.gz", IdxLabels(CyclicLabels(2, 10)));
  const auto set = LoadRawImageSet("mnist", dir.string());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), HasSubstr("mnist images are 28x28, these are 8x8"));
}

TEST(ImageDatasetTest, CifarGreyIsLuminanceAndRgbKeepsPlanes) {
  const auto dir = FreshTestDir();
  // One record per batch: red 10, green 20, blue 30 (test_files.h style).
  testing::Bytes record = {3};
  for (uint8_t value : {10, 20, 30}) record.insert(record.end(), 1024, value);
  for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
    testing::WritePlain(dir / name, record);
  }
  DatasetOptions options;
  options.name = "cifar10";
  options.path = dir.string();
  options.validation_examples = 1;
  options.test_examples = 1;
  options.probe_examples = 1;
  options.preprocess = Preprocess::kUnit;
  const auto grey = LoadDataset(options, 1);
  ASSERT_TRUE(grey.ok()) << grey.status();
  EXPECT_EQ(grey->input_dim, 1024);
  EXPECT_NEAR(grey->test.x(17, 0), (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255, 1e-6);
  options.color = ColorMode::kRgb;
  const auto rgb = LoadDataset(options, 1);
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  EXPECT_EQ(rgb->input_dim, 3072);
  EXPECT_NEAR(rgb->test.x(17, 0), 10 / 255.0, 1e-6);
  EXPECT_NEAR(rgb->test.x(1024 + 17, 0), 20 / 255.0, 1e-6);
  EXPECT_NEAR(rgb->test.x(2048 + 17, 0), 30 / 255.0, 1e-6);
  EXPECT_EQ(DescribeDataset(options)->shape.channels, 3);
}

TEST(DatasetOptionsTest, ParsesNames) {
  EXPECT_EQ(*ParsePreprocess("pm1"), Preprocess::kPm1);
  EXPECT_EQ(*ParsePreprocess("unit"), Preprocess::kUnit);
  EXPECT_EQ(*ParsePreprocess("standardize"), Preprocess::kStandardize);
  EXPECT_EQ(ParsePreprocess("zca").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PreprocessName(Preprocess::kStandardize), "standardize");
  EXPECT_EQ(*ParseColorMode("gray"), ColorMode::kGrey);
  EXPECT_EQ(*ParseColorMode("rgb"), ColorMode::kRgb);
  EXPECT_THAT(ParseColorMode("cmyk").status().message(), HasSubstr("cmyk"));
  EXPECT_EQ(DefaultDatasetPath("fashion-mnist"), kFashionDir);
  EXPECT_EQ(DefaultDatasetPath("mnist"), "");
}

TEST(FashionMnistTest, LoadsTheDebianPackage) {
  if (!std::filesystem::exists(kFashionDir)) {
    GTEST_SKIP() << "SKIPPED: " << kFashionDir
                 << " is absent; install the Debian package dataset-fashion-mnist "
                    "(scripts/install-deps.sh) to run this test";
  }
  RawImageCache cache;
  const auto raw = cache.Get("fashion-mnist", "");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ((*raw)->train.count(), 60000);
  EXPECT_EQ((*raw)->test.count(), 10000);
  std::array<int, 10> per_class{};
  for (int32_t label : (*raw)->train.labels) ++per_class[label];
  for (int label = 0; label < 10; ++label) EXPECT_EQ(per_class[label], 6000) << label;

  DatasetOptions options;
  options.name = "fashion-mnist";
  const auto dataset = LoadDataset(options, 1, &cache);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->input_dim, 784);
  EXPECT_EQ(dataset->validation.size(), 10000);
  EXPECT_EQ(dataset->test.size(), 10000);
  EXPECT_EQ(dataset->probe.size(), 300);
  EXPECT_GE(dataset->test.x.minCoeff(), -1.0f);
  EXPECT_LE(dataset->test.x.maxCoeff(), 1.0f);
}

}  // namespace
}  // namespace deepsweep::ml
