// The one entry point the worker calls: DatasetOptions + a seed -> Dataset.
//
// Datasets: "shapeset" (generated, see shapeset.h), "fashion-mnist" and
// "mnist" (IDX files, idx.h), "cifar10" (binary batches, cifar.h).
//
// Splits of the file datasets (the paper's): the last `validation_examples`
// images of the training file(s) are the validation split, the training split
// is the first `train_examples` of the rest (0 = all of it), the test split is
// the first `test_examples` of the test file(s). With the defaults MNIST and
// Fashion-MNIST give 50k / 10k / 10k and CIFAR-10 40k / 10k / 10k. These splits
// do not depend on the seed; the seed sets the training order (reshuffled
// every epoch) and the probe set.
//
// Probe set (LayerProbe's fixed held-out examples, 300 in the paper): drawn
// without replacement from the validation split, so it is never trained on.
// For Shapeset it is its own set of fresh scenes.
//
// Shapeset: train_examples = 0 gives the paper's online stream (every example
// a fresh scene); > 0 a fixed training set of that many scenes, reshuffled each
// epoch. Validation, test, probe and training draws come from disjoint Rng
// streams of one data seed, DeriveSeed(seed, kDataSeedLabel), so they never
// share a draw with each other nor with the trainer's own Rng(seed, k) streams.
//
// Preprocessing: images are first scaled to [0, 1] (Shapeset is generated in
// [-1, 1]); then pm1 maps to [-1, 1], unit to [0, 1], and standardize fits a
// per-feature z-score on the training split only (feature_transform.h; for
// the online Shapeset stream, on `standardize_sample` scenes from a separate
// stream of the training distribution) and applies it to every split.
//
// Errors: InvalidArgument for unknown names or split sizes the data cannot
// provide; the loaders' errors (NotFound, InvalidArgument, DataLoss) for bad
// files, each naming the file.
//
// Thread-safety: the functions are safe to call concurrently; RawImageCache is
// thread-safe.
#ifndef DEEPSWEEP_ML_DATA_DATASET_FACTORY_H_
#define DEEPSWEEP_ML_DATA_DATASET_FACTORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/dataset_paths.h"
#include "ml/data/epoch_stream.h"
#include "ml/data/image_set.h"
#include "ml/dataset.h"

namespace deepsweep::ml {

enum class Preprocess {
  kPm1,          // [-1, 1]
  kUnit,         // [0, 1]
  kStandardize,  // per-feature z-score fitted on the training split
};

// "pm1", "unit", "standardize".
absl::StatusOr<Preprocess> ParsePreprocess(std::string_view name);
std::string_view PreprocessName(Preprocess preprocess);
// "grey" (or "gray"), "rgb".
absl::StatusOr<ColorMode> ParseColorMode(std::string_view name);

// Mirrors core's DatasetSpec, plus the fields it does not carry.
struct DatasetOptions {
  // "shapeset", "fashion-mnist", "mnist" or "cifar10".
  std::string name = "shapeset";
  // Directory holding the files; empty = DefaultDatasetPath(name).
  std::string path;
  // Training examples; 0 = the whole training split (Shapeset: online stream).
  int64_t train_examples = 0;
  int64_t validation_examples = 10000;
  int64_t test_examples = 10000;
  // Held-out examples for layer statistics; at most validation_examples for
  // the file datasets.
  int64_t probe_examples = 300;
  Preprocess preprocess = Preprocess::kPm1;
  // CIFAR-10 only: grey (1024 features) or RGB planes (3072 features).
  ColorMode color = ColorMode::kGrey;
  // Online Shapeset with kStandardize: scenes drawn to fit the z-score.
  int64_t standardize_sample = 10000;
};

// Label mixed into the trial seed to get the data seed (ASCII "data").
inline constexpr uint64_t kDataSeedLabel = 0x64617461;

// Where the files are without a path (common/dataset_paths.h).
using ::deepsweep::DefaultDatasetPath;

// What a dataset's examples look like, known without reading its files.
struct DatasetDescription {
  ImageShape shape;                      // of one example as fed to the model
  std::vector<std::string> class_names;  // indexed by label
};
absl::StatusOr<DatasetDescription> DescribeDataset(const DatasetOptions& options);

// Reads the files of a file dataset ("fashion-mnist", "mnist", "cifar10") from
// `path` (empty = the default location).
absl::StatusOr<std::shared_ptr<const RawImageSet>> LoadRawImageSet(std::string_view name,
                                                                   const std::string& path);

// Builds one seed's Dataset from files already in memory; cheap compared with
// reading them (the training split stays shared as bytes).
absl::StatusOr<Dataset> BuildImageDataset(std::shared_ptr<const RawImageSet> set,
                                          const DatasetOptions& options, uint64_t seed);

// Builds one seed's Shapeset Dataset.
absl::StatusOr<Dataset> BuildShapesetDataset(const DatasetOptions& options, uint64_t seed);

// Keeps each file dataset read once per process. Thread-safe: concurrent Get
// calls for the same files read them once (later callers wait).
class RawImageCache {
 public:
  absl::StatusOr<std::shared_ptr<const RawImageSet>> Get(std::string_view name,
                                                         const std::string& path);

 private:
  absl::Mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const RawImageSet>> sets_
      ABSL_GUARDED_BY(mutex_);
};

// Shapeset is generated; file datasets are read through `cache` when given,
// else read afresh.
absl::StatusOr<Dataset> LoadDataset(const DatasetOptions& options, uint64_t seed,
                                    RawImageCache* cache = nullptr);

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATA_DATASET_FACTORY_H_
