// DatasetCache: the datasets of one worker process, built once and shared by
// its trials.
//
// File datasets (Fashion-MNIST, MNIST, CIFAR-10) are read from disk once per
// process (ml::RawImageCache); each trial then builds its own splits and
// training order from the bytes in memory. Shapeset's fixed sets
// (validation, test, probe) are generated once per (dataset options, seed) and
// kept for the most recent `shapeset_sets` keys; a trial gets a copy of them
// and a fresh training stream, bit-identical to what ml::LoadDataset builds
// for the same options and seed.
//
// Thread-safety: Load may be called from several threads (an embedded run's
// worker threads share one cache). Concurrent loads of the same files read
// them once.
//
// Errors: those of ml::LoadDataset (InvalidArgument for bad options, NotFound
// or DataLoss for missing or damaged files, each naming the file).
#ifndef DEEPSWEEP_WORKER_DATASET_CACHE_H_
#define DEEPSWEEP_WORKER_DATASET_CACHE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ml/data/dataset_factory.h"
#include "ml/dataset.h"

namespace deepsweep::worker {

struct DatasetCacheOptions {
  // Shapeset (options, seed) keys whose fixed sets are kept; the paper's
  // 10k validation + 10k test scenes take about 80 MB per key. 0 = no caching.
  int shapeset_sets = 2;
};

class DatasetCache {
 public:
  explicit DatasetCache(DatasetCacheOptions options = {});

  // The dataset for one trial: fresh training stream, shared or copied fixed
  // sets. Same options + seed = the same examples, bit for bit, hit or miss.
  absl::StatusOr<ml::Dataset> Load(const ml::DatasetOptions& options, uint64_t seed);

  // Times Shapeset fixed sets were generated (misses), for tests and logs.
  int64_t shapeset_generations() const;

 private:
  struct FixedSets {
    std::string key;
    ml::Examples validation;
    ml::Examples test;
    ml::Examples probe;
  };
  absl::StatusOr<ml::Dataset> LoadShapeset(const ml::DatasetOptions& options, uint64_t seed);

  const DatasetCacheOptions options_;
  ml::RawImageCache files_;
  mutable absl::Mutex mu_;
  // Most recently used first.
  std::deque<std::shared_ptr<const FixedSets>> shapeset_ ABSL_GUARDED_BY(mu_);
  int64_t shapeset_generations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_DATASET_CACHE_H_
