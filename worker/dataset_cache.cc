#include "worker/dataset_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace deepsweep::worker {
namespace {

constexpr std::string_view kShapeset = "shapeset";

// Every option that can change a generated example, and the seed.
std::string ShapesetKey(const ml::DatasetOptions& o, uint64_t seed) {
  return absl::StrCat(o.train_examples, "/", o.validation_examples, "/", o.test_examples, "/",
                      o.probe_examples, "/", std::string(ml::PreprocessName(o.preprocess)), "/",
                      o.standardize_sample, "/", seed);
}

}  // namespace

DatasetCache::DatasetCache(DatasetCacheOptions options) : options_(options) {}

int64_t DatasetCache::shapeset_generations() const {
  absl::MutexLock lock(&mu_);
  return shapeset_generations_;
}

absl::StatusOr<ml::Dataset> DatasetCache::Load(const ml::DatasetOptions& options, uint64_t seed) {
  if (options.name == kShapeset) return LoadShapeset(options, seed);
  return ml::LoadDataset(options, seed, &files_);
}

absl::StatusOr<ml::Dataset> DatasetCache::LoadShapeset(const ml::DatasetOptions& options,
                                                       uint64_t seed) {
  const std::string key = ShapesetKey(options, seed);
  std::shared_ptr<const FixedSets> sets;
  {
    // Generating under the lock (tens of milliseconds for the paper's sizes)
    // lets threads that want the same seed wait for one generation.
    absl::MutexLock lock(&mu_);
    for (auto it = shapeset_.begin(); it != shapeset_.end(); ++it) {
      if ((*it)->key == key) {
        sets = *it;
        shapeset_.erase(it);
        shapeset_.push_front(sets);
        break;
      }
    }
    if (sets == nullptr) {
      ASSIGN_OR_RETURN(ml::Dataset full, ml::BuildShapesetDataset(options, seed));
      ++shapeset_generations_;
      if (options_.shapeset_sets > 0) {
        shapeset_.push_front(std::make_shared<const FixedSets>(
            FixedSets{key, full.validation, full.test, full.probe}));
        while (shapeset_.size() > static_cast<size_t>(options_.shapeset_sets)) {
          shapeset_.pop_back();
        }
      }
      return full;
    }
  }
  // The training stream draws from its own Rng stream of the data seed, so a
  // build without fixed sets gives the same stream as the full build.
  ml::DatasetOptions stream_only = options;
  stream_only.validation_examples = 0;
  stream_only.test_examples = 0;
  stream_only.probe_examples = 0;
  ASSIGN_OR_RETURN(ml::Dataset dataset, ml::BuildShapesetDataset(stream_only, seed));
  dataset.validation = sets->validation;
  dataset.test = sets->test;
  dataset.probe = sets->probe;
  return dataset;
}

}  // namespace deepsweep::worker
