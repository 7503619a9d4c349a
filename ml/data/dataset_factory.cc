#include "ml/data/dataset_factory.h"

#include <numeric>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ml/data/cifar.h"
#include "ml/data/idx.h"
#include "ml/data/shapeset.h"

namespace deepsweep::ml {
namespace {

// Rng streams of the data seed; distinct ids give disjoint sequences.
enum DataStream : uint64_t {
  kTrainStream = 1,  // Shapeset training scenes
  kOrderStream = 2,  // epoch shuffles of finite training sets
  kValidationStream = 3,
  kTestStream = 4,
  kProbeStream = 5,    // Shapeset probe scenes, or the probe subset's choice
  kMomentsStream = 6,  // Shapeset scenes that fit the online z-score
};

constexpr std::string_view kShapeset = "shapeset";
constexpr std::string_view kFashionMnist = "fashion-mnist";
constexpr std::string_view kMnist = "mnist";
constexpr std::string_view kCifar10 = "cifar10";
constexpr int kIdxSide = 28;

absl::Status CheckSizes(const DatasetOptions& options) {
  if (options.train_examples < 0 || options.validation_examples < 0 || options.test_examples < 0 ||
      options.probe_examples < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.name, ": example counts must be >= 0 (train ", options.train_examples,
                     ", validation ", options.validation_examples, ", test ", options.test_examples,
                     ", probe ", options.probe_examples, ")"));
  }
  return absl::OkStatus();
}

// The transform from a source's base scale ([0, 1] for images, [-1, 1] for
// Shapeset) to the requested preprocessing. `fit` yields the training split's
// moments and is called only for kStandardize.
template <typename FitMoments>
FeatureTransform MakeTransform(Preprocess preprocess, int dim, bool base_is_pm1, FitMoments fit) {
  switch (preprocess) {
    case Preprocess::kPm1:
      // From [0, 1]: x' = 2 x - 1.
      return base_is_pm1 ? FeatureTransform() : FeatureTransform::Uniform(dim, 2.0f, -1.0f);
    case Preprocess::kUnit:
      // From [-1, 1]: x' = (x + 1) / 2.
      return base_is_pm1 ? FeatureTransform::Uniform(dim, 0.5f, 0.5f) : FeatureTransform();
    case Preprocess::kStandardize:
      break;
  }
  return fit().Standardizing();
}

// `count` indices of [first, first + size) chosen without replacement by `rng`.
std::vector<int64_t> ChooseSubset(Rng rng, int64_t first, int64_t size, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(size));
  std::iota(indices.begin(), indices.end(), first);
  rng.Shuffle(indices.begin(), indices.end());
  indices.resize(static_cast<size_t>(count));
  return indices;
}

std::vector<int64_t> Range(int64_t first, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), first);
  return indices;
}

}  // namespace

absl::StatusOr<Preprocess> ParsePreprocess(std::string_view name) {
  if (name == "pm1") return Preprocess::kPm1;
  if (name == "unit") return Preprocess::kUnit;
  if (name == "standardize") return Preprocess::kStandardize;
  return absl::InvalidArgumentError(absl::StrCat("unknown preprocessing '", std::string(name),
                                                 "' (expected pm1, unit or standardize)"));
}

std::string_view PreprocessName(Preprocess preprocess) {
  switch (preprocess) {
    case Preprocess::kPm1:
      return "pm1";
    case Preprocess::kUnit:
      return "unit";
    case Preprocess::kStandardize:
      break;
  }
  return "standardize";
}

absl::StatusOr<ColorMode> ParseColorMode(std::string_view name) {
  if (name == "grey" || name == "gray") return ColorMode::kGrey;
  if (name == "rgb") return ColorMode::kRgb;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown colour mode '", std::string(name), "' (expected grey or rgb)"));
}

absl::StatusOr<DatasetDescription> DescribeDataset(const DatasetOptions& options) {
  DatasetDescription description;
  if (options.name == kShapeset) {
    description.shape = ImageShape{.rows = kShapesetSide, .cols = kShapesetSide, .channels = 1};
    for (int label = 0; label < kShapesetClasses; ++label) {
      description.class_names.emplace_back(ShapesetClassName(label));
    }
  } else if (options.name == kFashionMnist || options.name == kMnist) {
    description.shape = ImageShape{.rows = kIdxSide, .cols = kIdxSide, .channels = 1};
    description.class_names = options.name == kMnist ? MnistClassNames() : FashionMnistClassNames();
  } else if (options.name == kCifar10) {
    description.shape = ImageShape{.rows = kCifarSide,
                                   .cols = kCifarSide,
                                   .channels = options.color == ColorMode::kRgb ? 3 : 1};
    description.class_names = Cifar10ClassNames();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown dataset '", options.name,
                     "' (expected shapeset, fashion-mnist, mnist or cifar10)"));
  }
  return description;
}

absl::StatusOr<std::shared_ptr<const RawImageSet>> LoadRawImageSet(std::string_view name,
                                                                   const std::string& path) {
  const std::string dir = path.empty() ? DefaultDatasetPath(name) : path;
  if (name != kFashionMnist && name != kMnist && name != kCifar10) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(name),
                     "' is not a file dataset (expected fashion-mnist, mnist or cifar10)"));
  }
  if (dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(name), " has no default location: give the directory holding its files"));
  }
  RawImageSet set;
  if (name == kCifar10) {
    ASSIGN_OR_RETURN(set, LoadCifar10(dir));
  } else {
    ASSIGN_OR_RETURN(
        set, LoadIdxImageSet(dir, std::string(name),
                             name == kMnist ? MnistClassNames() : FashionMnistClassNames()));
    if (set.train.shape.rows != kIdxSide || set.train.shape.cols != kIdxSide) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": ", std::string(name), " images are ", kIdxSide, "x", kIdxSide,
                       ", these are ", set.train.shape.rows, "x", set.train.shape.cols));
    }
  }
  return std::make_shared<const RawImageSet>(std::move(set));
}

absl::StatusOr<Dataset> BuildImageDataset(std::shared_ptr<const RawImageSet> set,
                                          const DatasetOptions& options, uint64_t seed) {
  RETURN_IF_ERROR(CheckSizes(options));
  const int64_t available = set->train.count();
  const int64_t validation = options.validation_examples;
  if (validation >= available) {
    return absl::InvalidArgumentError(
        absl::StrCat(set->name, ": ", validation, " validation examples leave none of the ",
                     available, " training-file examples for training"));
  }
  const int64_t pool = available - validation;
  const int64_t train = options.train_examples == 0 ? pool : options.train_examples;
  if (train > pool) {
    return absl::InvalidArgumentError(
        absl::StrCat(set->name, ": ", train, " training examples asked, the training split has ",
                     pool, " (", available, " minus ", validation, " for validation)"));
  }
  if (options.test_examples > set->test.count()) {
    return absl::InvalidArgumentError(absl::StrCat(set->name, ": ", options.test_examples,
                                                   " test examples asked, the test files hold ",
                                                   set->test.count()));
  }
  if (options.probe_examples > validation) {
    return absl::InvalidArgumentError(absl::StrCat(
        set->name, ": the ", options.probe_examples,
        " probe examples are drawn from the validation split, which has ", validation));
  }

  const uint64_t data_seed = DeriveSeed(seed, kDataSeedLabel);
  auto train_source = std::make_unique<const ImageSource>(set, set->train, 0, train, options.color);
  const ImageSource held_out(set, set->train, 0, available, options.color);
  const ImageSource test_source(set, set->test, 0, set->test.count(), options.color);
  const FeatureTransform transform =
      MakeTransform(options.preprocess, train_source->input_dim(), /*base_is_pm1=*/false,
                    [&] { return MomentsOf(*train_source); });

  Dataset dataset;
  dataset.name = set->name;
  dataset.input_dim = train_source->input_dim();
  dataset.num_classes = set->num_classes();
  dataset.validation = GatherExamples(held_out, Range(pool, validation), transform);
  dataset.test = GatherExamples(test_source, Range(0, options.test_examples), transform);
  dataset.probe = GatherExamples(
      held_out,
      ChooseSubset(Rng(data_seed, kProbeStream), pool, validation, options.probe_examples),
      transform);
  dataset.train = std::make_unique<EpochStream>(std::move(train_source), dataset.num_classes,
                                                Rng(data_seed, kOrderStream), transform);
  return dataset;
}

namespace {

// Scenes kept for a whole run (a fixed training set, the standardization
// sample) are stored as grey levels and read back as [-1, 1] values.
std::unique_ptr<const ImageSource> StoredShapesetSource(Rng rng, int64_t count) {
  auto set = std::make_shared<RawImageSet>();
  set->name = std::string(kShapeset);
  set->train = GenerateShapesetTable(rng, count);
  const ImageTable& table = set->train;
  return std::make_unique<const ImageSource>(std::move(set), table, 0, count, ColorMode::kGrey,
                                             ShapesetPixelLevels());
}

}  // namespace

absl::StatusOr<Dataset> BuildShapesetDataset(const DatasetOptions& options, uint64_t seed) {
  RETURN_IF_ERROR(CheckSizes(options));
  const uint64_t data_seed = DeriveSeed(seed, kDataSeedLabel);
  Dataset dataset;
  dataset.name = std::string(kShapeset);
  dataset.input_dim = kShapesetInputDim;
  dataset.num_classes = kShapesetClasses;

  std::unique_ptr<const ImageSource> fixed_train;
  if (options.train_examples > 0) {
    fixed_train = StoredShapesetSource(Rng(data_seed, kTrainStream), options.train_examples);
  }
  const FeatureTransform transform =
      MakeTransform(options.preprocess, kShapesetInputDim, /*base_is_pm1=*/true, [&] {
        if (fixed_train != nullptr) return MomentsOf(*fixed_train);
        const int64_t sample = std::max<int64_t>(1, options.standardize_sample);
        return MomentsOf(*StoredShapesetSource(Rng(data_seed, kMomentsStream), sample));
      });

  auto fixed_set = [&](DataStream stream, int64_t count) {
    Rng rng(data_seed, stream);
    Examples examples = GenerateShapesetExamples(rng, count);
    transform.Apply(examples.x);
    return examples;
  };
  dataset.validation = fixed_set(kValidationStream, options.validation_examples);
  dataset.test = fixed_set(kTestStream, options.test_examples);
  dataset.probe = fixed_set(kProbeStream, options.probe_examples);
  if (fixed_train != nullptr) {
    dataset.train = std::make_unique<EpochStream>(std::move(fixed_train), kShapesetClasses,
                                                  Rng(data_seed, kOrderStream), transform);
  } else {
    auto online = std::make_unique<ShapesetStream>(Rng(data_seed, kTrainStream));
    if (transform.is_identity()) {
      dataset.train = std::move(online);
    } else {
      dataset.train = std::make_unique<TransformingStream>(std::move(online), transform);
    }
  }
  return dataset;
}

absl::StatusOr<std::shared_ptr<const RawImageSet>> RawImageCache::Get(std::string_view name,
                                                                      const std::string& path) {
  const std::string dir = path.empty() ? DefaultDatasetPath(name) : path;
  absl::MutexLock lock(&mutex_);
  auto key = std::make_pair(std::string(name), dir);
  if (auto it = sets_.find(key); it != sets_.end()) return it->second;
  // Read under the lock: concurrent requests for the same files wait for one
  // read instead of each reading. Failures are not cached.
  ASSIGN_OR_RETURN(std::shared_ptr<const RawImageSet> set, LoadRawImageSet(name, dir));
  sets_.emplace(std::move(key), set);
  return set;
}

absl::StatusOr<Dataset> LoadDataset(const DatasetOptions& options, uint64_t seed,
                                    RawImageCache* cache) {
  if (options.name == kShapeset) return BuildShapesetDataset(options, seed);
  RETURN_IF_ERROR(DescribeDataset(options).status());
  std::shared_ptr<const RawImageSet> set;
  if (cache != nullptr) {
    ASSIGN_OR_RETURN(set, cache->Get(options.name, options.path));
  } else {
    ASSIGN_OR_RETURN(set, LoadRawImageSet(options.name, options.path));
  }
  return BuildImageDataset(std::move(set), options, seed);
}

}  // namespace deepsweep::ml
