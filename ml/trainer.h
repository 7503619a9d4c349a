// Trainer: trains an Mlp with minibatch SGD on an ml::Dataset for a budget of
// updates, evaluating and probing it at checkpoints.
//
// Checkpoints come at step 0 (the untrained net), every `checkpoint_every`
// updates and after the last update. Each evaluates test and validation error
// and NLL, runs the LayerProbe on the first `probe_examples` probe examples,
// and hands the CheckpointMetrics to the observer, which returns true to stop.
//
// Outcome (TrainResult::status):
//   kSucceeded  the budget of updates ran out;
//   kDiverged   a minibatch loss or a parameter became NaN or Inf (the loss is
//               checked every update, the parameters at each checkpoint);
//   kStopped    the observer returned true, or `stop` (when given) was set;
//               the flag is read before every update, so another thread (a
//               worker's heartbeat, a signal) stops training within one update.
// A non-OK Status means the run could not be done as asked: an invalid config
// or dataset (InvalidArgument naming the field) or a training label out of
// range (InvalidArgument).
//
// Randomness: the weights come from Rng(seed, stream 1); the data order is the
// Dataset's business (its stream is built from the trial seed by its maker).
// Same config + seed + dataset + binary + ml::ComputePath = the same metrics
// except the two clock readings (wall_seconds, monitor_seconds), which come
// from the injected Clock.
//
// Snapshots (TrainHooks): after any update the trainer can serialize its
// complete state -- weights, biases, optimizer state (velocities, the lr decay
// position), the training stream's position and random state, the step, the
// train-NLL sums since the last checkpoint, the elapsed clock readings and the
// last checkpoint's scalars -- into a versioned, checksummed byte string
// (format below, ml/snapshot_format.h for the frame). A Trainer of the same
// config (threads aside) given those bytes as `resume_from` with a Dataset
// built the same way continues from the next update, and every later
// CheckpointMetrics equals the uninterrupted run's bit for bit except the two
// clock readings, which continue from the snapshot's. The weight Rng is not
// kept: it is used only before update 1. A snapshot is taken only after the checkpoint of
// its step (if any) was reported, so a resumed run reports checkpoints after
// the snapshot's step only.
//
// Snapshot payload, version 1 (little-endian, common/byte_codec.h):
//   string  config fingerprint (every TrainConfig field but threads)
//   string  dataset name; i64 input_dim; i64 num_classes
//   i64     step (updates done)
//   f64     nll_sum, loss_sum; i64 batches     (since the last checkpoint)
//   f64     elapsed seconds, monitor seconds  (clock readings at the snapshot)
//   last checkpoint: i64 step, examples_seen; f64 train_nll, train_loss,
//           test_error, test_nll, validation_error, validation_nll,
//           wall_seconds, monitor_seconds; u64 layers, each i64 layer and
//           for activation, backprop and weight gradients 9 f64 (mean, std,
//           p02, p50, p98, saturated, jacobian, hist_lo, hist_hi) and the
//           f32 histogram array
//   net     per layer: f32 array W_l (column-major), f32 array b_l
//   sgd     i64 updates; u64 velocity layers (0 without momentum); arrays
//   string  the training stream's state (TrainingStream::SaveState)
//
// Thread-safety: a Trainer runs one Train at a time. Train sets OpenBLAS's
// process-wide thread count to 1; config.threads - 1 helpers live per call.
#ifndef DEEPSWEEP_ML_TRAINER_H_
#define DEEPSWEEP_ML_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "ml/activation.h"
#include "ml/dataset.h"
#include "ml/initializer.h"
#include "ml/kernels.h"
#include "ml/layer_probe.h"
#include "ml/loss.h"
#include "ml/mlp.h"

namespace deepsweep::ml {

struct TrainConfig {
  // Model: every hidden layer uses `activation`; W from `init` times
  // `init_gain` (ml/initializer.h); biases 0.
  Activation activation = Activation::kTanh;
  Init init = Init::kNormalized;
  double init_gain = 1.0;
  std::vector<int> hidden = {1000, 1000, 1000, 1000, 1000};  // 0 .. 64 widths
  Loss loss = Loss::kNll;
  // Optimizer (ml/mlp.h SgdOptions): the paper's plain SGD by default.
  double learning_rate = 0.01;
  double momentum = 0.0;
  double lr_decay = 0.0;
  int batch_size = 10;              // >= 1
  int64_t updates = 20000;          // minibatch updates in all, >= 0
  int64_t checkpoint_every = 2000;  // >= 1
  // Monitoring (ml/layer_probe.h): the first probe_examples of Dataset::probe;
  // 0 = no layer statistics.
  int probe_examples = 300;
  int histogram_bins = 50;    // >= 1
  int jacobian_examples = 2;  // 0 .. probe_examples; 0 = no Jacobian SVD
  // Seeds the weights (stream 1 of Rng).
  uint64_t seed = 0;
  // Performance knobs (results may differ in the last bits between backends).
  int threads = 1;  // per trial (ml/kernel_threads.h): the same bits for every count
  GemmBackend gemm_backend = GemmBackend::kAuto;
  int eval_chunk = 1000;  // test/validation examples per forward pass
};

// InvalidArgument naming the first bad field (config alone).
absl::Status ValidateTrainConfig(const TrainConfig& config);

struct CheckpointMetrics {
  int64_t step = 0;           // updates done
  int64_t examples_seen = 0;  // step * batch_size
  // Mean over the minibatches since the previous checkpoint (NaN at step 0):
  double train_nll = 0;   // -log p_y
  double train_loss = 0;  // the optimized loss (equals train_nll for nll)
  // Over the whole sets (NaN when a set is empty).
  double test_error = 0;  // fraction in [0, 1]
  double test_nll = 0;
  double validation_error = 0;
  double validation_nll = 0;
  double wall_seconds = 0;         // since Train started, by the injected clock
  double monitor_seconds = 0;      // of which spent evaluating and probing
  std::vector<LayerStats> layers;  // one per hidden layer (empty without probe)
};

enum class TrainStatus { kSucceeded, kDiverged, kStopped };
// "succeeded", "diverged", "stopped".
std::string_view TrainStatusName(TrainStatus status);

struct TrainResult {
  TrainStatus status = TrainStatus::kSucceeded;
  std::string reason;  // why it diverged or stopped; empty on success
  int64_t steps = 0;   // updates done
  CheckpointMetrics last_checkpoint;
};

// Returns true to stop training.
using CheckpointObserver = std::function<bool(const CheckpointMetrics&)>;

struct TrainHooks {
  CheckpointObserver observer;  // may be empty
  // When not null, read before every update; must outlive the call.
  const std::atomic<bool>* stop = nullptr;
  // Asked after every update (after that update's checkpoint, if any): true =
  // snapshot now. Empty = never.
  std::function<bool(int64_t step)> snapshot_due;
  // Also snapshot when training stops (kStopped), at the last update done.
  bool snapshot_on_stop = false;
  // Receives each snapshot (the framed bytes) and its step; required when
  // snapshot_due or snapshot_on_stop is set. Runs on the training thread.
  std::function<void(int64_t step, std::string bytes)> on_snapshot;
  // A snapshot of an earlier run of the same config and dataset to continue
  // from; empty = start at update 0. Rejected (DataLoss for damage,
  // FailedPrecondition for a different config or dataset) before any update.
  std::string_view resume_from;
};

// The step a snapshot was taken at, after checking its frame (DataLoss /
// FailedPrecondition as UnframeSnapshot).
absl::StatusOr<int64_t> SnapshotStep(std::string_view snapshot);

// The net a snapshot holds (its trained weights), for a snapshot taken with
// `config` (FailedPrecondition otherwise; DataLoss when damaged).
struct SnapshotNet {
  int64_t step = 0;
  Mlp<float> net;
};
absl::StatusOr<SnapshotNet> ReadSnapshotNet(std::string_view snapshot, const TrainConfig& config);

class Trainer {
 public:
  // `clock` must outlive the Trainer.
  explicit Trainer(TrainConfig config, const Clock* clock = SystemClock::Default());

  // `stop`, when not null, must outlive the call; see kStopped above.
  absl::StatusOr<TrainResult> Train(Dataset& dataset, const CheckpointObserver& observer,
                                    const std::atomic<bool>* stop = nullptr);
  // The same with snapshots and resume.
  absl::StatusOr<TrainResult> Train(Dataset& dataset, const TrainHooks& hooks);

 private:
  TrainConfig config_;
  const Clock* clock_;
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_TRAINER_H_
