// Dataset: what the trainer consumes, independent of where examples come from.
//
// Examples are stored column-wise: one example is one contiguous column of a
// (input_dim x n) float matrix, so a minibatch is a block of adjacent columns
// and `W * X` needs no transpose. Labels are class ids in [0, num_classes).
//
// A Dataset bundles a training stream (finite and reshuffled every epoch, or
// infinite like the paper's online Shapeset) with fixed validation, test and
// probe sets (the probe set feeds LayerProbe; the paper uses 300 examples).
//
// Thread-safety: a TrainingStream is used by one thread; fixed sets are
// immutable after construction and may be shared.
#ifndef DEEPSWEEP_ML_DATASET_H_
#define DEEPSWEEP_ML_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "common/byte_codec.h"

namespace deepsweep::ml {

// Column-major: each column is one example.
using ExampleMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

struct Examples {
  ExampleMatrix x;         // input_dim x n
  std::vector<int32_t> y;  // n labels
  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

class TrainingStream {
 public:
  virtual ~TrainingStream() = default;
  virtual int input_dim() const = 0;
  virtual int num_classes() const = 0;
  // Writes the next `x.cols()` examples into the columns of `x` and their
  // labels into y[0 .. x.cols()). `x` has input_dim() rows. Deterministic for a
  // stream built from the same seed.
  virtual void NextBatch(Eigen::Ref<ExampleMatrix> x, int32_t* y) = 0;
  // The stream's position (random state, order, offset) for snapshots. A
  // stream built the same way (same dataset options and seed) and given these
  // bytes by RestoreState yields exactly the batches this one would next.
  // RestoreState records malformed or mismatched state in `in` (the stream is
  // then unusable until restored again or rebuilt).
  virtual void SaveState(ByteWriter& out) const = 0;
  virtual void RestoreState(ByteReader& in) = 0;
};

struct Dataset {
  std::string name;
  int input_dim = 0;
  int num_classes = 0;
  std::unique_ptr<TrainingStream> train;
  Examples validation;
  Examples test;
  Examples probe;  // held out from training; statistics are computed on it
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_DATASET_H_
