#include "ml/trainer.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/byte_codec.h"
#include "common/status_macros.h"
#include "ml/kernel_threads.h"
#include "ml/mlp.h"
#include "ml/snapshot_format.h"

namespace deepsweep::ml {
namespace {

constexpr uint64_t kWeightStream = 1;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("train config: ", std::string(field), " ", std::string(why)));
}

absl::Status ValidateSet(const Examples& set, std::string_view name, int input_dim,
                         int num_classes) {
  if (set.size() == 0) return absl::OkStatus();
  if (set.x.rows() != input_dim || set.x.cols() != set.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset ", std::string(name), " set is ", set.x.rows(), " x ", set.x.cols(),
                     " with ", set.size(), " labels; want ", input_dim, " x ", set.size()));
  }
  for (int64_t i = 0; i < set.size(); ++i) {
    if (set.y[i] < 0 || set.y[i] >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat("dataset ", std::string(name), " label ",
                                                     set.y[i], " at ", i, " is outside [0, ",
                                                     num_classes, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDataset(const TrainConfig& config, const Dataset& data) {
  if (data.train == nullptr) return absl::InvalidArgumentError("dataset has no training stream");
  if (data.input_dim <= 0 || data.num_classes < 2) {
    return absl::InvalidArgumentError(absl::StrCat("dataset '", data.name, "' has input_dim ",
                                                   data.input_dim, " and ", data.num_classes,
                                                   " classes; want > 0 and >= 2"));
  }
  if (data.train->input_dim() != data.input_dim || data.train->num_classes() != data.num_classes) {
    return absl::InvalidArgumentError(
        "dataset training stream disagrees with its input_dim or classes");
  }
  RETURN_IF_ERROR(ValidateSet(data.test, "test", data.input_dim, data.num_classes));
  RETURN_IF_ERROR(ValidateSet(data.validation, "validation", data.input_dim, data.num_classes));
  RETURN_IF_ERROR(ValidateSet(data.probe, "probe", data.input_dim, data.num_classes));
  if (config.probe_examples > data.probe.size()) {
    return absl::InvalidArgumentError(absl::StrCat("train config: probe_examples ",
                                                   config.probe_examples, " > probe set size ",
                                                   data.probe.size()));
  }
  return absl::OkStatus();
}

// Every TrainConfig field the trajectory depends on (threads may differ
// between the snapshot's run and the resumed one; see the header).
std::string ConfigFingerprint(const TrainConfig& c) {
  return absl::StrFormat(
      "activation=%s init=%s gain=%a hidden=%s loss=%s lr=%a momentum=%a lr_decay=%a batch=%d "
      "updates=%d checkpoint_every=%d probe=%d bins=%d jacobian=%d seed=%d "
      "backend=%d eval_chunk=%d",
      std::string(ActivationName(c.activation)), std::string(InitName(c.init)), c.init_gain,
      absl::StrJoin(c.hidden, ","), std::string(LossName(c.loss)), c.learning_rate, c.momentum,
      c.lr_decay, c.batch_size, c.updates, c.checkpoint_every, c.probe_examples, c.histogram_bins,
      c.jacobian_examples, c.seed, static_cast<int>(c.gemm_backend), c.eval_chunk);
}

void WriteCheckpointScalars(const CheckpointMetrics& m, ByteWriter& out) {
  out.I64(m.step);
  out.I64(m.examples_seen);
  for (double v : {m.train_nll, m.train_loss, m.test_error, m.test_nll, m.validation_error,
                   m.validation_nll, m.wall_seconds, m.monitor_seconds}) {
    out.F64(v);
  }
  out.U64(m.layers.size());
  for (const LayerStats& layer : m.layers) {
    out.I64(layer.layer);
    for (const QuantityStats* q : {&layer.activation, &layer.backprop_grad, &layer.weight_grad}) {
      for (double v : {q->mean, q->std, q->p02, q->p50, q->p98, q->saturated_fraction,
                       q->jacobian_sv_mean, q->hist_lo, q->hist_hi}) {
        out.F64(v);
      }
      out.F32Array(q->histogram);
    }
  }
}

void ReadCheckpointScalars(ByteReader& in, CheckpointMetrics& m) {
  m.step = in.I64();
  m.examples_seen = in.I64();
  for (double* v : {&m.train_nll, &m.train_loss, &m.test_error, &m.test_nll, &m.validation_error,
                    &m.validation_nll, &m.wall_seconds, &m.monitor_seconds}) {
    *v = in.F64();
  }
  const uint64_t layers = in.U64();
  if (layers > static_cast<uint64_t>(kMaxHiddenLayers)) {
    in.Fail(absl::StrCat(layers, " layers of statistics"));
    return;
  }
  m.layers.resize(layers);
  for (LayerStats& layer : m.layers) {
    layer.layer = static_cast<int>(in.I64());
    for (QuantityStats* q : {&layer.activation, &layer.backprop_grad, &layer.weight_grad}) {
      for (double* v : {&q->mean, &q->std, &q->p02, &q->p50, &q->p98, &q->saturated_fraction,
                        &q->jacobian_sv_mean, &q->hist_lo, &q->hist_hi}) {
        *v = in.F64();
      }
      in.F32Array(q->histogram);
    }
  }
}

// The payload up to the net (ml/trainer.h lists it).
struct PayloadHead {
  std::string config;
  std::string name;
  int64_t input_dim = 0;
  int64_t classes = 0;
  int64_t step = 0;
  double nll_sum = 0, loss_sum = 0;
  int64_t batches = 0;
  double elapsed = 0, monitor = 0;
  CheckpointMetrics last;
};

void ReadHead(ByteReader& in, PayloadHead& h) {
  h.config = in.String();
  h.name = in.String();
  h.input_dim = in.I64();
  h.classes = in.I64();
  h.step = in.I64();
  h.nll_sum = in.F64();
  h.loss_sum = in.F64();
  h.batches = in.I64();
  h.elapsed = in.F64();
  h.monitor = in.F64();
  ReadCheckpointScalars(in, h.last);
}

}  // namespace

absl::Status ValidateTrainConfig(const TrainConfig& c) {
  MlpShape shape{.input_dim = 1, .hidden = c.hidden, .output_dim = 2};
  if (absl::Status s = ValidateShape(shape); !s.ok())
    return Invalid("hidden:", std::string(s.message()));
  if (!(c.init_gain > 0) || !std::isfinite(c.init_gain)) return Invalid("init_gain", "must be > 0");
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
    return Invalid("learning_rate", "must be > 0 and finite");
  }
  if (!(c.momentum >= 0 && c.momentum < 1)) return Invalid("momentum", "must be in [0, 1)");
  if (!(c.lr_decay >= 0) || !std::isfinite(c.lr_decay)) return Invalid("lr_decay", "must be >= 0");
  if (c.batch_size < 1) return Invalid("batch_size", "must be >= 1");
  if (c.updates < 0) return Invalid("updates", "must be >= 0");
  if (c.checkpoint_every < 1) return Invalid("checkpoint_every", "must be >= 1");
  if (c.probe_examples < 0) return Invalid("probe_examples", "must be >= 0");
  if (c.histogram_bins < 1) return Invalid("histogram_bins", "must be >= 1");
  if (c.jacobian_examples < 0 || c.jacobian_examples > c.probe_examples) {
    return Invalid("jacobian_examples", "must be in [0, probe_examples]");
  }
  if (c.threads < 1) return Invalid("threads", "must be >= 1");
  if (c.eval_chunk < 1) return Invalid("eval_chunk", "must be >= 1");
  return absl::OkStatus();
}

std::string_view TrainStatusName(TrainStatus status) {
  switch (status) {
    case TrainStatus::kSucceeded:
      return "succeeded";
    case TrainStatus::kDiverged:
      return "diverged";
    case TrainStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

absl::StatusOr<int64_t> SnapshotStep(std::string_view snapshot) {
  ASSIGN_OR_RETURN(std::string_view payload, UnframeSnapshot(snapshot));
  ByteReader in(payload, "snapshot");
  PayloadHead head;
  ReadHead(in, head);
  RETURN_IF_ERROR(in.status());
  return head.step;
}

absl::StatusOr<SnapshotNet> ReadSnapshotNet(std::string_view snapshot, const TrainConfig& config) {
  ASSIGN_OR_RETURN(std::string_view payload, UnframeSnapshot(snapshot));
  ByteReader in(payload, "snapshot");
  PayloadHead head;
  ReadHead(in, head);
  RETURN_IF_ERROR(in.status());
  if (head.config != ConfigFingerprint(config)) {
    return absl::FailedPreconditionError(absl::StrCat("snapshot was taken with train config {",
                                                      head.config, "}; expected {",
                                                      ConfigFingerprint(config), "}"));
  }
  if (head.input_dim <= 0 || head.input_dim > (int64_t{1} << 30) || head.classes < 2 ||
      head.classes > (int64_t{1} << 30)) {
    return absl::DataLossError(
        absl::StrCat("snapshot has ", head.input_dim, " inputs and ", head.classes, " classes"));
  }
  const MlpShape shape{.input_dim = static_cast<int>(head.input_dim),
                       .hidden = config.hidden,
                       .output_dim = static_cast<int>(head.classes),
                       .activation = config.activation};
  ASSIGN_OR_RETURN(Mlp<float> net, Mlp<float>::Create(shape));
  net.Restore(in);
  RETURN_IF_ERROR(in.status());
  return SnapshotNet{.step = head.step, .net = std::move(net)};
}

Trainer::Trainer(TrainConfig config, const Clock* clock)
    : config_(std::move(config)), clock_(clock) {}

absl::StatusOr<TrainResult> Trainer::Train(Dataset& data, const CheckpointObserver& observer,
                                           const std::atomic<bool>* stop) {
  return Train(data, TrainHooks{.observer = observer, .stop = stop});
}

absl::StatusOr<TrainResult> Trainer::Train(Dataset& data, const TrainHooks& hooks) {
  const TrainConfig& c = config_;
  RETURN_IF_ERROR(ValidateTrainConfig(c));
  RETURN_IF_ERROR(ValidateDataset(c, data));
  if ((hooks.snapshot_due || hooks.snapshot_on_stop) && !hooks.on_snapshot) {
    return absl::InvalidArgumentError("train hooks: snapshots asked for without on_snapshot");
  }
  SetBlasThreads(1);
  const KernelThreads kernel_threads(c.threads);

  const MlpShape shape{.input_dim = data.input_dim,
                       .hidden = c.hidden,
                       .output_dim = data.num_classes,
                       .activation = c.activation};
  ASSIGN_OR_RETURN(Mlp<float> net, Mlp<float>::Create(shape));
  Sgd<float> sgd(
      SgdOptions{.learning_rate = c.learning_rate, .momentum = c.momentum, .lr_decay = c.lr_decay},
      c.gemm_backend);

  Examples probe_set;
  if (c.probe_examples > 0) {
    probe_set.x = data.probe.x.leftCols(c.probe_examples);
    probe_set.y.assign(data.probe.y.begin(), data.probe.y.begin() + c.probe_examples);
  }
  LayerProbe probe(
      ProbeOptions{.histogram_bins = c.histogram_bins, .jacobian_examples = c.jacobian_examples},
      std::move(probe_set), c.loss);

  TrainResult result;
  double nll_sum = 0, loss_sum = 0;  // over the minibatches since the last checkpoint
  int64_t batches = 0;
  int64_t resumed_step = 0;
  double prior_seconds = 0, monitor_seconds = 0;  // clock readings carried by a snapshot
  const std::string fingerprint = ConfigFingerprint(c);
  if (hooks.resume_from.empty()) {
    Rng weight_rng(c.seed, kWeightStream);
    net.Initialize(c.init, c.init_gain, weight_rng);
  } else {
    ASSIGN_OR_RETURN(std::string_view payload, UnframeSnapshot(hooks.resume_from));
    ByteReader in(payload, "snapshot");
    PayloadHead head;
    ReadHead(in, head);
    const std::string& config = head.config;
    const std::string& name = head.name;
    const int64_t input_dim = head.input_dim;
    const int64_t classes = head.classes;
    if (in.ok() && config != fingerprint) {
      return absl::FailedPreconditionError(absl::StrCat("snapshot was taken with train config {",
                                                        config, "}; this trainer has {",
                                                        fingerprint, "}"));
    }
    if (in.ok() &&
        (name != data.name || input_dim != data.input_dim || classes != data.num_classes)) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot was taken on dataset '", name, "' (", input_dim, " inputs, ",
                       classes, " classes); this one is '", data.name, "' (", data.input_dim, ", ",
                       data.num_classes, ")"));
    }
    resumed_step = head.step;
    nll_sum = head.nll_sum;
    loss_sum = head.loss_sum;
    batches = head.batches;
    prior_seconds = head.elapsed;
    monitor_seconds = head.monitor;
    result.last_checkpoint = std::move(head.last);
    net.Restore(in);
    sgd.RestoreState(in, net);
    const std::string stream = in.String();
    ByteReader stream_in(stream, "snapshot training stream");
    if (in.ok()) {
      data.train->RestoreState(stream_in);
      if (stream_in.ok() && stream_in.remaining() != 0) stream_in.Fail("trailing bytes");
      RETURN_IF_ERROR(stream_in.status());
    }
    if (in.ok() && in.remaining() != 0) in.Fail("trailing bytes");
    if (in.ok() && (resumed_step < 0 || resumed_step > c.updates || batches < 0 ||
                    sgd.updates() != resumed_step)) {
      in.Fail(absl::StrCat("step ", resumed_step, " (optimizer at ", sgd.updates(), ", budget ",
                           c.updates, ", batches ", batches, ") is inconsistent"));
    }
    RETURN_IF_ERROR(in.status());
    result.steps = resumed_step;
  }

  const absl::Time start = clock_->Now();
  auto elapsed = [&](absl::Time now) { return prior_seconds + absl::ToDoubleSeconds(now - start); };
  Pass<float> train_pass, eval_pass;

  // Evaluation and probing; their time is the monitoring cost.
  auto checkpoint = [&](int64_t step) {
    const absl::Time begin = clock_->Now();
    CheckpointMetrics m;
    m.step = step;
    m.examples_seen = step * c.batch_size;
    m.train_nll = batches > 0 ? nll_sum / (static_cast<double>(batches) * c.batch_size) : kNaN;
    m.train_loss = batches > 0 ? loss_sum / (static_cast<double>(batches) * c.batch_size) : kNaN;
    auto evaluate = [&](const Examples& set, double& error, double& nll) {
      if (set.size() == 0) {
        error = nll = kNaN;
        return;
      }
      const BatchLoss total =
          EvaluateSet(net, c.loss, set.x, set.y.data(), eval_pass, c.eval_chunk, c.gemm_backend);
      error = static_cast<double>(total.errors) / static_cast<double>(set.size());
      nll = total.nll / static_cast<double>(set.size());
    };
    evaluate(data.test, m.test_error, m.test_nll);
    evaluate(data.validation, m.validation_error, m.validation_nll);
    m.layers = probe.Measure(net);
    const absl::Time end = clock_->Now();
    monitor_seconds += absl::ToDoubleSeconds(end - begin);
    m.wall_seconds = elapsed(end);
    m.monitor_seconds = monitor_seconds;
    nll_sum = loss_sum = 0;
    batches = 0;
    return m;
  };

  int64_t last_snapshot = resumed_step;  // a snapshot at the resumed step exists already
  auto snapshot = [&](int64_t step) {
    ByteWriter out;
    out.String(fingerprint);
    out.String(data.name);
    out.I64(data.input_dim);
    out.I64(data.num_classes);
    out.I64(step);
    out.F64(nll_sum);
    out.F64(loss_sum);
    out.I64(batches);
    out.F64(elapsed(clock_->Now()));
    out.F64(monitor_seconds);
    WriteCheckpointScalars(result.last_checkpoint, out);
    net.Save(out);
    sgd.SaveState(out);
    ByteWriter stream;
    data.train->SaveState(stream);
    out.String(stream.bytes());
    last_snapshot = step;
    hooks.on_snapshot(step, FrameSnapshot(out.bytes()));
  };

  auto finish = [&](TrainStatus status, std::string reason, int64_t steps) {
    if (status == TrainStatus::kStopped && hooks.snapshot_on_stop && steps != last_snapshot) {
      snapshot(steps);
    }
    result.status = status;
    result.reason = std::move(reason);
    result.steps = steps;
    return result;
  };
  auto report = [&](CheckpointMetrics m) -> std::optional<TrainResult> {
    result.last_checkpoint = std::move(m);
    const CheckpointMetrics& cm = result.last_checkpoint;
    if (hooks.observer && hooks.observer(cm)) {
      return finish(TrainStatus::kStopped, absl::StrCat("observer stopped at update ", cm.step),
                    cm.step);
    }
    return std::nullopt;
  };

  if (hooks.resume_from.empty()) {
    if (auto done = report(checkpoint(0))) return *done;
  }
  ExampleMatrix batch(data.input_dim, c.batch_size);
  std::vector<int32_t> labels(static_cast<size_t>(c.batch_size));
  for (int64_t step = resumed_step + 1; step <= c.updates; ++step) {
    if (hooks.stop != nullptr && hooks.stop->load(std::memory_order_relaxed)) {
      return finish(TrainStatus::kStopped, absl::StrCat("stop requested before update ", step),
                    step - 1);
    }
    data.train->NextBatch(batch, labels.data());
    for (int32_t y : labels) {
      if (y < 0 || y >= data.num_classes) {
        return absl::InvalidArgumentError(absl::StrCat("training label ", y, " at update ", step,
                                                       " is outside [0, ", data.num_classes, ")"));
      }
    }
    const BatchLoss loss = sgd.Step(net, c.loss, batch, labels.data(), train_pass);
    if (!std::isfinite(loss.loss)) {
      return finish(TrainStatus::kDiverged,
                    absl::StrCat("minibatch loss became ", loss.loss, " at update ", step), step);
    }
    nll_sum += loss.nll;
    loss_sum += loss.loss;
    ++batches;
    if (step % c.checkpoint_every == 0 || step == c.updates) {
      if (!net.IsFinite()) {
        return finish(TrainStatus::kDiverged,
                      absl::StrCat("a parameter became NaN or Inf by update ", step), step);
      }
      if (auto done = report(checkpoint(step))) return *done;
    }
    if (hooks.snapshot_due && hooks.snapshot_due(step)) snapshot(step);
  }
  return finish(TrainStatus::kSucceeded, "", c.updates);
}

}  // namespace deepsweep::ml
