#include "worker/trial_runner.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ml/activation.h"
#include "ml/initializer.h"
#include "ml/loss.h"
#include "ml/trainer.h"

namespace deepsweep::worker {
namespace {

// Prefixes a parse error with the TrialSpec field it came from.
absl::Status InField(std::string_view field, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("trial spec ", std::string(field), ": ", status.message()));
}

LayerStat ToLayerStat(int layer, LayerQuantity quantity, const ml::QuantityStats& q) {
  return LayerStat{.layer = layer,
                   .quantity = quantity,
                   .mean = q.mean,
                   .std = q.std,
                   .p02 = q.p02,
                   .p50 = q.p50,
                   .p98 = q.p98,
                   .saturated_fraction = q.saturated_fraction,
                   .jacobian_sv_mean = q.jacobian_sv_mean,
                   .hist_lo = q.hist_lo,
                   .hist_hi = q.hist_hi,
                   .histogram = q.histogram};
}

}  // namespace

absl::StatusOr<ml::TrainConfig> ToTrainConfig(const TrialSpec& spec,
                                              const TrialRunnerOptions& options) {
  ml::TrainConfig c;
  auto activation = ml::ParseActivation(spec.activation);
  if (!activation.ok()) return InField("activation", activation.status());
  auto init = ml::ParseInit(spec.init);
  if (!init.ok()) return InField("init", init.status());
  auto loss = ml::ParseLoss(spec.loss);
  if (!loss.ok()) return InField("loss", loss.status());
  if (spec.depth < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("trial spec depth: must be >= 0, got ", spec.depth));
  }
  if (spec.width < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("trial spec width: must be >= 1, got ", spec.width));
  }
  c.activation = *activation;
  c.init = *init;
  c.init_gain = spec.init_gain;
  c.hidden.assign(static_cast<size_t>(spec.depth), spec.width);
  c.loss = *loss;
  c.learning_rate = spec.learning_rate;
  c.momentum = spec.momentum;
  c.lr_decay = spec.lr_decay;
  c.batch_size = spec.batch_size;
  c.updates = spec.updates;
  c.checkpoint_every = spec.checkpoint_every;
  c.probe_examples = spec.probe_examples;
  c.histogram_bins = spec.histogram_bins;
  c.jacobian_examples = std::clamp(spec.jacobian_examples, 0, std::max(0, spec.probe_examples));
  c.seed = spec.seed;
  c.threads = options.threads;
  if (absl::Status valid = ml::ValidateTrainConfig(c); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("trial spec: ", valid.message()));
  }
  return c;
}

absl::StatusOr<ml::DatasetOptions> ToDatasetOptions(const TrialSpec& spec) {
  ml::DatasetOptions d;
  d.name = spec.dataset.name;
  d.path = spec.dataset.path;
  d.train_examples = spec.dataset.train_examples;
  d.validation_examples = spec.dataset.validation_examples;
  d.test_examples = spec.dataset.test_examples;
  d.probe_examples = spec.probe_examples;
  auto preprocess = ml::ParsePreprocess(spec.dataset.preprocess);
  if (!preprocess.ok()) return InField("dataset.preprocess", preprocess.status());
  d.preprocess = *preprocess;
  return d;
}

Checkpoint ToCheckpoint(const ml::CheckpointMetrics& m) {
  Checkpoint c{.step = m.step,
               .examples_seen = m.examples_seen,
               .train_nll = m.train_nll,
               .test_error = m.test_error,
               .test_nll = m.test_nll,
               .validation_error = m.validation_error,
               .validation_nll = m.validation_nll,
               .wall_seconds = m.wall_seconds};
  c.layer_stats.reserve(m.layers.size() * 3);
  for (const ml::LayerStats& l : m.layers) {
    c.layer_stats.push_back(ToLayerStat(l.layer, LayerQuantity::kActivation, l.activation));
    c.layer_stats.push_back(ToLayerStat(l.layer, LayerQuantity::kBackpropGrad, l.backprop_grad));
    c.layer_stats.push_back(ToLayerStat(l.layer, LayerQuantity::kWeightGrad, l.weight_grad));
  }
  return c;
}

TrialRunner::TrialRunner(DatasetCache* datasets, const Clock* clock, TrialRunnerOptions options)
    : datasets_(datasets), clock_(clock), options_(options) {}

absl::StatusOr<TrialRun> TrialRunner::RunTrial(const TrialSpec& spec, const TrialObserver& observer,
                                               const std::atomic<bool>* stop,
                                               const TrialSnapshotHooks* snapshots) const {
  ASSIGN_OR_RETURN(ml::TrainConfig config, ToTrainConfig(spec, options_));
  ASSIGN_OR_RETURN(ml::DatasetOptions data_options, ToDatasetOptions(spec));
  ml::Trainer trainer(std::move(config), clock_);
  ml::TrainHooks hooks{.stop = stop};
  if (observer) {
    hooks.observer = [&observer](const ml::CheckpointMetrics& m) {
      return observer(ToCheckpoint(m));
    };
  }
  absl::Time last_snapshot = clock_->Now();
  if (snapshots != nullptr && snapshots->on_snapshot) {
    hooks.snapshot_due = [&](int64_t step) {
      if (step == spec.updates) return spec.keep_weights == "final";
      if (spec.snapshot_every > 0 && step % spec.snapshot_every == 0) return true;
      return spec.snapshot_seconds > 0 &&
             clock_->Now() - last_snapshot >= absl::Seconds(spec.snapshot_seconds);
    };
    hooks.snapshot_on_stop = true;
    hooks.on_snapshot = [&](int64_t step, std::string bytes) {
      snapshots->on_snapshot(step, std::move(bytes));
      last_snapshot = clock_->Now();
    };
  }
  TrialRun run;
  if (snapshots != nullptr && !snapshots->resume_from.empty()) {
    ASSIGN_OR_RETURN(ml::Dataset dataset, datasets_->Load(data_options, spec.data_seed));
    hooks.resume_from = snapshots->resume_from;
    absl::StatusOr<int64_t> step = ml::SnapshotStep(snapshots->resume_from);
    absl::StatusOr<ml::TrainResult> resumed =
        step.ok() ? trainer.Train(dataset, hooks) : step.status();
    const absl::StatusCode code = resumed.status().code();
    if (resumed.ok() ||
        (code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kFailedPrecondition)) {
      if (!resumed.ok()) return resumed.status();
      return TrialRun{.status = resumed->status,
                      .reason = std::move(resumed->reason),
                      .steps = resumed->steps,
                      .resumed_from = *step};
    }
    // A snapshot the trainer refuses is never used: start over.
    run.resume_error = resumed.status().ToString();
    hooks.resume_from = {};
  }
  ASSIGN_OR_RETURN(ml::Dataset dataset, datasets_->Load(data_options, spec.data_seed));
  ASSIGN_OR_RETURN(ml::TrainResult result, trainer.Train(dataset, hooks));
  run.status = result.status;
  run.reason = std::move(result.reason);
  run.steps = result.steps;
  return run;
}

}  // namespace deepsweep::worker
