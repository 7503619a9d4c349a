// TrialRunner: one trial, start to finish, in this process: TrialSpec ->
// ml::TrainConfig + dataset -> Trainer -> core Checkpoints.
//
// The worker loop and `deepsweep replay` both run trials through RunTrial, so
// a replayed trial is computed by exactly the code that computed it first.
//
// Determinism: the weights come from the trial seed (ml::Trainer), the data
// (training stream, Shapeset scenes, validation, test and probe sets) from
// the trial's data_seed through the DatasetCache (ml::LoadDataset). Same TrialSpec + same binary =
// the same checkpoints, bit for bit, on any machine with the same compute path
// (ml::ComputePath: the small-batch kernels' ISA, OpenBLAS's core and the
// auto plan), except
// Checkpoint::wall_seconds (read from the clock), whatever `threads`: the small-batch products
// of a training step are split over `threads` threads in fixed output ranges, each element
// computed the same way whatever range holds it (ml/kernel_threads.h); OpenBLAS (wider
// minibatches, evaluating whole sets) runs on one thread.
//
// Thread-safety: RunTrial may run concurrently on several threads (each call
// has its own net, dataset and helper threads); they may use different
// `threads`.
//
// Errors: InvalidArgument for a spec the trainer cannot run (unknown
// activation, init, loss or preprocessing, bad sizes), naming the field; the
// dataset's errors (NotFound, DataLoss) when its files are missing or bad.
#ifndef DEEPSWEEP_WORKER_TRIAL_RUNNER_H_
#define DEEPSWEEP_WORKER_TRIAL_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "core/trial.h"
#include "ml/data/dataset_factory.h"
#include "ml/trainer.h"
#include "worker/dataset_cache.h"

namespace deepsweep::worker {

// The parts of a run that a sweep spec does not set: the same for every trial
// of a worker (and of a replay, to reproduce it). Everything that changes the
// stored metrics otherwise (histogram bins, Jacobian examples, both seeds)
// is part of the TrialSpec.
struct TrialRunnerOptions {
  // Threads per trial (each step's products split over them); the results
  // do not depend on the count (see above).
  int threads = 1;
};

// How a run ended.
struct TrialRun {
  ml::TrainStatus status = ml::TrainStatus::kSucceeded;
  std::string reason;        // why it diverged or stopped; empty on success
  int64_t steps = 0;         // updates done
  int64_t resumed_from = 0;  // the step it resumed from (0 = from scratch)
  std::string resume_error;  // why a given snapshot was not used; empty when it was
};

// Called with each checkpoint as it is measured; returns true to stop.
using TrialObserver = std::function<bool(const Checkpoint&)>;

// Snapshots of a run (ml/trainer.h) and the one it resumes from.
struct TrialSnapshotHooks {
  // A snapshot of an earlier run of the same spec; empty = start at update 0.
  // One the trainer refuses (damaged, or of another spec or binary) is not
  // used: the run starts at update 0 and TrialRun::resume_error says why.
  std::string resume_from;
  // Receives each snapshot: every spec.snapshot_every updates, whenever
  // spec.snapshot_seconds of this run's clock passed since the run started or
  // the last snapshot, after the last update when spec.keep_weights is
  // "final", and when training stops. Runs on the training thread.
  std::function<void(int64_t step, std::string bytes)> on_snapshot;
};

// The mappings RunTrial uses, exposed for tests and for `deepsweep replay`.
absl::StatusOr<ml::TrainConfig> ToTrainConfig(const TrialSpec& spec,
                                              const TrialRunnerOptions& options);
absl::StatusOr<ml::DatasetOptions> ToDatasetOptions(const TrialSpec& spec);
// One LayerStat per (hidden layer, quantity): activation, backprop_grad,
// weight_grad, in layer order.
Checkpoint ToCheckpoint(const ml::CheckpointMetrics& metrics);

class TrialRunner {
 public:
  // `datasets` and `clock` must outlive the runner. The clock only times the
  // run (Checkpoint::wall_seconds).
  TrialRunner(DatasetCache* datasets, const Clock* clock, TrialRunnerOptions options = {});

  // Trains `spec` to its end, handing every checkpoint (step 0, every
  // checkpoint_every updates, the last update) to `observer`. Training stops
  // with status kStopped when the observer returns true or, before any update,
  // when `stop` (if given) is set.
  absl::StatusOr<TrialRun> RunTrial(const TrialSpec& spec, const TrialObserver& observer,
                                    const std::atomic<bool>* stop = nullptr,
                                    const TrialSnapshotHooks* snapshots = nullptr) const;

  const TrialRunnerOptions& options() const { return options_; }

 private:
  DatasetCache* datasets_;
  const Clock* clock_;
  TrialRunnerOptions options_;
};

}  // namespace deepsweep::worker

#endif  // DEEPSWEEP_WORKER_TRIAL_RUNNER_H_
