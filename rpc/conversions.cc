#include "rpc/conversions.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "common/status_macros.h"

namespace deepsweep::rpc {
namespace {

// One row per domain value; the wire's UNSPECIFIED (0) has no row, so it and
// any number a newer client might send are rejected by FromProto.
template <typename Domain, typename Proto>
struct EnumRow {
  Domain domain;
  Proto proto;
};

constexpr std::array<EnumRow<TrialState, v1::TrialState>, 7> kTrialStates = {{
    {TrialState::kPending, v1::TRIAL_STATE_PENDING},
    {TrialState::kLeased, v1::TRIAL_STATE_LEASED},
    {TrialState::kSucceeded, v1::TRIAL_STATE_SUCCEEDED},
    {TrialState::kDiverged, v1::TRIAL_STATE_DIVERGED},
    {TrialState::kFailed, v1::TRIAL_STATE_FAILED},
    {TrialState::kCancelled, v1::TRIAL_STATE_CANCELLED},
    {TrialState::kPruned, v1::TRIAL_STATE_PRUNED},
}};

constexpr std::array<EnumRow<LayerQuantity, v1::LayerQuantity>, 3> kLayerQuantities = {{
    {LayerQuantity::kActivation, v1::LAYER_QUANTITY_ACTIVATION},
    {LayerQuantity::kBackpropGrad, v1::LAYER_QUANTITY_BACKPROP_GRAD},
    {LayerQuantity::kWeightGrad, v1::LAYER_QUANTITY_WEIGHT_GRAD},
}};

constexpr std::array<EnumRow<SweepState, v1::SweepState>, 3> kSweepStates = {{
    {SweepState::kActive, v1::SWEEP_STATE_ACTIVE},
    {SweepState::kCancelled, v1::SWEEP_STATE_CANCELLED},
    {SweepState::kFinished, v1::SWEEP_STATE_FINISHED},
}};

constexpr std::array<EnumRow<TrialCondition::Op, v1::TrialFilter::Operator>, 6> kOperators = {{
    {TrialCondition::Op::kEq, v1::TrialFilter::OPERATOR_EQ},
    {TrialCondition::Op::kNe, v1::TrialFilter::OPERATOR_NE},
    {TrialCondition::Op::kLt, v1::TrialFilter::OPERATOR_LT},
    {TrialCondition::Op::kLe, v1::TrialFilter::OPERATOR_LE},
    {TrialCondition::Op::kGt, v1::TrialFilter::OPERATOR_GT},
    {TrialCondition::Op::kGe, v1::TrialFilter::OPERATOR_GE},
}};

template <typename Domain, typename Proto, size_t N>
Proto ProtoOf(const std::array<EnumRow<Domain, Proto>, N>& table, Domain value) {
  for (const auto& row : table) {
    if (row.domain == value) return row.proto;
  }
  return Proto{};  // unreachable for the enums above: every value has a row
}

// `name_of` spells a wire value for the error message (the generated *_Name).
template <typename Domain, typename Proto, size_t N, typename NameOf>
absl::Status DomainOf(const std::array<EnumRow<Domain, Proto>, N>& table, Proto value,
                      NameOf name_of, Domain* out) {
  for (const auto& row : table) {
    if (row.proto == value) {
      *out = row.domain;
      return absl::OkStatus();
    }
  }
  std::string allowed;
  for (const auto& row : table)
    absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", name_of(row.proto));
  const std::string got = name_of(value);
  return absl::InvalidArgumentError(
      absl::StrCat("must be one of ", allowed, "; got ",
                   got.empty() ? absl::StrCat(static_cast<int>(value)) : got));
}

// Copies a proto3 `optional` scalar into a std::optional.
template <typename T>
std::optional<T> OptionalOf(bool has, T value) {
  return has ? std::optional<T>(value) : std::nullopt;
}

}  // namespace

absl::Status WithFieldPrefix(absl::string_view field, absl::Status status) {
  if (status.ok()) return status;
  // A message that already starts with a field path ("x: ..." or "x[2].y: ...")
  // continues that path with '.'; any other message is a leaf: "field: message".
  const absl::string_view message = status.message();
  const size_t colon = message.find(':');
  const bool nested = colon != absl::string_view::npos && colon < message.find(' ');
  return absl::Status(status.code(), absl::StrCat(field, nested ? "." : ": ", message));
}

// --- Enums -------------------------------------------------------------------

v1::TrialState ToProto(TrialState state) { return ProtoOf(kTrialStates, state); }
absl::Status FromProto(v1::TrialState proto, TrialState* out) {
  return DomainOf(
      kTrialStates, proto, [](v1::TrialState v) { return v1::TrialState_Name(v); }, out);
}

v1::LayerQuantity ToProto(LayerQuantity quantity) { return ProtoOf(kLayerQuantities, quantity); }
absl::Status FromProto(v1::LayerQuantity proto, LayerQuantity* out) {
  return DomainOf(
      kLayerQuantities, proto, [](v1::LayerQuantity v) { return v1::LayerQuantity_Name(v); }, out);
}

v1::SweepState ToProto(SweepState state) { return ProtoOf(kSweepStates, state); }
absl::Status FromProto(v1::SweepState proto, SweepState* out) {
  return DomainOf(
      kSweepStates, proto, [](v1::SweepState v) { return v1::SweepState_Name(v); }, out);
}

v1::TrialFilter::Operator ToProto(TrialCondition::Op op) { return ProtoOf(kOperators, op); }
absl::Status FromProto(v1::TrialFilter::Operator proto, TrialCondition::Op* out) {
  return DomainOf(
      kOperators, proto,
      [](v1::TrialFilter::Operator v) { return v1::TrialFilter::Operator_Name(v); }, out);
}

// --- Time ----------------------------------------------------------------------

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  // Timestamp wants whole seconds rounded down plus nanos in [0, 1e9).
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Time FromProto(const google::protobuf::Timestamp& proto) {
  return absl::FromUnixSeconds(proto.seconds()) + absl::Nanoseconds(proto.nanos());
}

void ToProto(absl::Duration duration, google::protobuf::Duration* out) {
  // Duration wants seconds and nanos of the same sign.
  const int64_t seconds = absl::ToInt64Seconds(duration);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration - absl::Seconds(seconds))));
}

absl::Duration FromProto(const google::protobuf::Duration& proto) {
  return absl::Seconds(proto.seconds()) + absl::Nanoseconds(proto.nanos());
}

// --- Trials --------------------------------------------------------------------

void ToProto(const DatasetSpec& spec, v1::DatasetSpec* out) {
  out->set_name(spec.name);
  out->set_path(spec.path);
  out->set_train_examples(spec.train_examples);
  out->set_validation_examples(spec.validation_examples);
  out->set_test_examples(spec.test_examples);
  out->set_preprocess(spec.preprocess);
}

absl::Status FromProto(const v1::DatasetSpec& proto, DatasetSpec* out) {
  out->name = proto.name();
  out->path = proto.path();
  out->train_examples = proto.train_examples();
  out->validation_examples = proto.validation_examples();
  out->test_examples = proto.test_examples();
  out->preprocess = proto.preprocess();
  return absl::OkStatus();
}

void ToProto(const TrialSpec& spec, v1::TrialSpec* out) {
  ToProto(spec.dataset, out->mutable_dataset());
  out->set_activation(spec.activation);
  out->set_init(spec.init);
  out->set_init_gain(spec.init_gain);
  out->set_depth(spec.depth);
  out->set_width(spec.width);
  out->set_loss(spec.loss);
  out->set_learning_rate(spec.learning_rate);
  out->set_momentum(spec.momentum);
  out->set_lr_decay(spec.lr_decay);
  out->set_batch_size(spec.batch_size);
  out->set_updates(spec.updates);
  out->set_checkpoint_every(spec.checkpoint_every);
  out->set_probe_examples(spec.probe_examples);
  out->set_seed(spec.seed);
  out->set_seed_index(spec.seed_index);
  out->set_data_seed(spec.data_seed);
  out->set_histogram_bins(spec.histogram_bins);
  out->set_jacobian_examples(spec.jacobian_examples);
  out->set_stuck_after_updates(spec.stuck_after_updates);
  out->set_stuck_error(spec.stuck_error);
  out->set_snapshot_every(spec.snapshot_every);
  out->set_snapshot_seconds(spec.snapshot_seconds);
  out->set_keep_weights(spec.keep_weights);
}

absl::Status FromProto(const v1::TrialSpec& proto, TrialSpec* out) {
  RETURN_IF_ERROR(WithFieldPrefix("dataset", FromProto(proto.dataset(), &out->dataset)));
  out->activation = proto.activation();
  out->init = proto.init();
  out->init_gain = proto.init_gain();
  out->depth = proto.depth();
  out->width = proto.width();
  out->loss = proto.loss();
  out->learning_rate = proto.learning_rate();
  out->momentum = proto.momentum();
  out->lr_decay = proto.lr_decay();
  out->batch_size = proto.batch_size();
  out->updates = proto.updates();
  out->checkpoint_every = proto.checkpoint_every();
  out->probe_examples = proto.probe_examples();
  out->seed = proto.seed();
  out->seed_index = proto.seed_index();
  // Unset fields come from senders older than the fields: they mean what
  // those senders did (the data from the trial seed, the worker's defaults).
  const TrialSpec defaults;
  out->data_seed = proto.has_data_seed() ? proto.data_seed() : proto.seed();
  out->histogram_bins =
      proto.has_histogram_bins() ? proto.histogram_bins() : defaults.histogram_bins;
  out->jacobian_examples =
      proto.has_jacobian_examples() ? proto.jacobian_examples() : defaults.jacobian_examples;
  out->stuck_after_updates =
      proto.has_stuck_after_updates() ? proto.stuck_after_updates() : defaults.stuck_after_updates;
  out->stuck_error = proto.has_stuck_error() ? proto.stuck_error() : defaults.stuck_error;
  out->snapshot_every =
      proto.has_snapshot_every() ? proto.snapshot_every() : defaults.snapshot_every;
  out->snapshot_seconds =
      proto.has_snapshot_seconds() ? proto.snapshot_seconds() : defaults.snapshot_seconds;
  out->keep_weights = proto.has_keep_weights() ? proto.keep_weights() : defaults.keep_weights;
  return absl::OkStatus();
}

void ToProto(const LayerStat& stat, v1::LayerStat* out) {
  out->set_layer(stat.layer);
  out->set_quantity(ToProto(stat.quantity));
  out->set_mean(stat.mean);
  out->set_std(stat.std);
  out->set_p02(stat.p02);
  out->set_p50(stat.p50);
  out->set_p98(stat.p98);
  out->set_saturated_fraction(stat.saturated_fraction);
  out->set_jacobian_sv_mean(stat.jacobian_sv_mean);
  out->set_hist_lo(stat.hist_lo);
  out->set_hist_hi(stat.hist_hi);
  out->mutable_histogram()->Assign(stat.histogram.begin(), stat.histogram.end());
}

absl::Status FromProto(const v1::LayerStat& proto, LayerStat* out) {
  out->layer = proto.layer();
  RETURN_IF_ERROR(WithFieldPrefix("quantity", FromProto(proto.quantity(), &out->quantity)));
  out->mean = proto.mean();
  out->std = proto.std();
  out->p02 = proto.p02();
  out->p50 = proto.p50();
  out->p98 = proto.p98();
  out->saturated_fraction = proto.saturated_fraction();
  out->jacobian_sv_mean = proto.jacobian_sv_mean();
  out->hist_lo = proto.hist_lo();
  out->hist_hi = proto.hist_hi();
  out->histogram.assign(proto.histogram().begin(), proto.histogram().end());
  return absl::OkStatus();
}

void ToProto(const Checkpoint& checkpoint, v1::Checkpoint* out) {
  out->set_step(checkpoint.step);
  out->set_examples_seen(checkpoint.examples_seen);
  out->set_train_nll(checkpoint.train_nll);
  out->set_test_error(checkpoint.test_error);
  out->set_test_nll(checkpoint.test_nll);
  out->set_validation_error(checkpoint.validation_error);
  out->set_validation_nll(checkpoint.validation_nll);
  out->set_wall_seconds(checkpoint.wall_seconds);
  ToProtoList(checkpoint.layer_stats, out->mutable_layer_stats());
}

absl::Status FromProto(const v1::Checkpoint& proto, Checkpoint* out) {
  out->step = proto.step();
  out->examples_seen = proto.examples_seen();
  out->train_nll = proto.train_nll();
  out->test_error = proto.test_error();
  out->test_nll = proto.test_nll();
  out->validation_error = proto.validation_error();
  out->validation_nll = proto.validation_nll();
  out->wall_seconds = proto.wall_seconds();
  return FromProtoList(proto.layer_stats(), "layer_stats", &out->layer_stats);
}

void ToProto(const TrialRecord& trial, v1::Trial* out) {
  out->set_id(trial.id);
  out->set_sweep_id(trial.sweep_id);
  out->set_index(trial.index);
  ToProto(trial.spec, out->mutable_spec());
  out->set_state(ToProto(trial.state));
  out->set_attempt(trial.attempt);
  out->set_attempt_limit(trial.attempt_limit);
  out->set_worker_id(trial.worker_id);
  out->set_compute_path(trial.compute_path);
  out->set_reason(trial.reason);
  if (trial.final_test_error) out->set_final_test_error(*trial.final_test_error);
  if (trial.final_test_nll) out->set_final_test_nll(*trial.final_test_nll);
  if (trial.final_validation_error) {
    out->set_final_validation_error(*trial.final_validation_error);
  }
  if (trial.rung) out->set_rung(*trial.rung);
  out->set_steps_done(trial.steps_done);
  ToProto(trial.updated_at, out->mutable_update_time());
}

absl::Status FromProto(const v1::Trial& proto, TrialRecord* out) {
  out->id = proto.id();
  out->sweep_id = proto.sweep_id();
  out->index = proto.index();
  RETURN_IF_ERROR(WithFieldPrefix("spec", FromProto(proto.spec(), &out->spec)));
  RETURN_IF_ERROR(WithFieldPrefix("state", FromProto(proto.state(), &out->state)));
  out->attempt = proto.attempt();
  out->attempt_limit = proto.attempt_limit();
  out->worker_id = proto.worker_id();
  out->compute_path = proto.compute_path();
  out->reason = proto.reason();
  out->final_test_error = OptionalOf(proto.has_final_test_error(), proto.final_test_error());
  out->final_test_nll = OptionalOf(proto.has_final_test_nll(), proto.final_test_nll());
  out->final_validation_error =
      OptionalOf(proto.has_final_validation_error(), proto.final_validation_error());
  out->rung = OptionalOf(proto.has_rung(), proto.rung());
  out->steps_done = proto.steps_done();
  out->updated_at = FromProto(proto.update_time());
  return absl::OkStatus();
}

void ToProto(const Lease& lease, v1::Lease* out) {
  out->set_trial_id(lease.trial_id);
  out->set_lease_id(lease.lease_id);
  out->set_attempt(lease.attempt);
  ToProto(lease.deadline, out->mutable_deadline());
  ToProto(lease.ttl, out->mutable_ttl());
}

absl::Status FromProto(const v1::Lease& proto, Lease* out) {
  out->trial_id = proto.trial_id();
  out->lease_id = proto.lease_id();
  out->attempt = proto.attempt();
  out->deadline = FromProto(proto.deadline());
  out->ttl = FromProto(proto.ttl());
  return absl::OkStatus();
}

// --- Sweeps --------------------------------------------------------------------

void ToProto(const TrialCounts& counts, v1::TrialCounts* out) {
  out->set_pending(counts.pending);
  out->set_leased(counts.leased);
  out->set_succeeded(counts.succeeded);
  out->set_diverged(counts.diverged);
  out->set_failed(counts.failed);
  out->set_cancelled(counts.cancelled);
  out->set_pruned(counts.pruned);
}

absl::Status FromProto(const v1::TrialCounts& proto, TrialCounts* out) {
  out->pending = proto.pending();
  out->leased = proto.leased();
  out->succeeded = proto.succeeded();
  out->diverged = proto.diverged();
  out->failed = proto.failed();
  out->cancelled = proto.cancelled();
  out->pruned = proto.pruned();
  return absl::OkStatus();
}

void ToProto(const SweepRecord& sweep, v1::Sweep* out) {
  out->set_id(sweep.id);
  out->set_name(sweep.name);
  out->set_spec_yaml(sweep.spec_yaml);
  out->set_state(ToProto(sweep.state));
  out->set_max_attempts(sweep.max_attempts);
  ToProto(sweep.created_at, out->mutable_create_time());
  if (sweep.finished_at) ToProto(*sweep.finished_at, out->mutable_finish_time());
  ToProto(sweep.counts, out->mutable_counts());
}

absl::Status FromProto(const v1::Sweep& proto, SweepRecord* out) {
  out->id = proto.id();
  out->name = proto.name();
  out->spec_yaml = proto.spec_yaml();
  RETURN_IF_ERROR(WithFieldPrefix("state", FromProto(proto.state(), &out->state)));
  out->max_attempts = proto.max_attempts();
  out->created_at = FromProto(proto.create_time());
  out->finished_at =
      proto.has_finish_time() ? std::optional(FromProto(proto.finish_time())) : std::nullopt;
  return FromProto(proto.counts(), &out->counts);
}

void ToProto(const SweepProgress& progress, v1::SweepProgress* out) {
  out->set_sweep_id(progress.sweep_id);
  out->set_state(ToProto(progress.state));
  ToProto(progress.counts, out->mutable_counts());
  for (const RunningTrial& r : progress.running) {
    v1::RunningTrial* running = out->add_running();
    running->set_trial_id(r.trial_id);
    running->set_attempt(r.attempt);
    running->set_worker_id(r.worker_id);
    running->set_steps_done(r.steps_done);
    running->set_updates(r.updates);
  }
}

absl::Status FromProto(const v1::SweepProgress& proto, SweepProgress* out) {
  out->sweep_id = proto.sweep_id();
  RETURN_IF_ERROR(WithFieldPrefix("state", FromProto(proto.state(), &out->state)));
  RETURN_IF_ERROR(FromProto(proto.counts(), &out->counts));
  out->running.clear();
  for (const v1::RunningTrial& r : proto.running()) {
    out->running.push_back({.trial_id = r.trial_id(),
                            .attempt = r.attempt(),
                            .worker_id = r.worker_id(),
                            .steps_done = r.steps_done(),
                            .updates = r.updates()});
  }
  return absl::OkStatus();
}

// --- Workers -------------------------------------------------------------------

void ToProto(const WorkerInfo& info, v1::WorkerInfo* out) {
  out->set_worker_id(info.worker_id);
  out->set_host(info.host);
  out->set_pid(info.pid);
  out->set_version(info.version);
  out->set_cores(info.cores);
  out->set_compute_path(info.compute_path);
}

absl::Status FromProto(const v1::WorkerInfo& proto, WorkerInfo* out) {
  out->worker_id = proto.worker_id();
  out->host = proto.host();
  out->pid = proto.pid();
  out->version = proto.version();
  out->cores = proto.cores();
  out->compute_path = proto.compute_path();
  return absl::OkStatus();
}

void ToProto(const WorkerRecord& worker, v1::Worker* out) {
  ToProto(worker.info, out->mutable_info());
  ToProto(worker.first_seen, out->mutable_first_seen_time());
  ToProto(worker.last_seen, out->mutable_last_seen_time());
  if (worker.current_trial) out->set_current_trial_id(*worker.current_trial);
}

absl::Status FromProto(const v1::Worker& proto, WorkerRecord* out) {
  RETURN_IF_ERROR(WithFieldPrefix("info", FromProto(proto.info(), &out->info)));
  out->first_seen = FromProto(proto.first_seen_time());
  out->last_seen = FromProto(proto.last_seen_time());
  out->current_trial = OptionalOf(proto.has_current_trial_id(), proto.current_trial_id());
  return absl::OkStatus();
}

void ToProto(const TrialAttempt& attempt, v1::TrialAttempt* out) {
  out->set_trial_id(attempt.trial_id);
  out->set_attempt(attempt.attempt);
  out->set_worker_id(attempt.worker_id);
  out->set_outcome(attempt.outcome);
  ToProto(attempt.acquired_at, out->mutable_acquire_time());
  if (attempt.ended_at) ToProto(*attempt.ended_at, out->mutable_end_time());
  out->set_started_at_step(attempt.started_at_step);
  if (attempt.reached_step) out->set_reached_step(*attempt.reached_step);
  if (attempt.updates_redone) out->set_updates_redone(*attempt.updates_redone);
  out->set_snapshots(attempt.snapshots);
  if (attempt.snapshot_step) out->set_snapshot_step(*attempt.snapshot_step);
}

absl::Status FromProto(const v1::TrialAttempt& proto, TrialAttempt* out) {
  out->trial_id = proto.trial_id();
  out->attempt = proto.attempt();
  out->worker_id = proto.worker_id();
  out->outcome = proto.outcome();
  out->acquired_at = FromProto(proto.acquire_time());
  out->ended_at = proto.has_end_time() ? std::optional(FromProto(proto.end_time())) : std::nullopt;
  out->started_at_step = proto.started_at_step();
  out->reached_step = OptionalOf(proto.has_reached_step(), proto.reached_step());
  out->updates_redone = OptionalOf(proto.has_updates_redone(), proto.updates_redone());
  out->snapshots = proto.snapshots();
  out->snapshot_step = OptionalOf(proto.has_snapshot_step(), proto.snapshot_step());
  return absl::OkStatus();
}

// --- Requests and responses ----------------------------------------------------

void ToProto(const TrialCondition& condition, v1::TrialFilter* out) {
  out->set_field(condition.field);
  out->set_op(ToProto(condition.op));
  out->set_value(condition.value);
}

absl::Status FromProto(const v1::TrialFilter& proto, TrialCondition* out) {
  out->field = proto.field();
  RETURN_IF_ERROR(WithFieldPrefix("op", FromProto(proto.op(), &out->op)));
  out->value = proto.value();
  return absl::OkStatus();
}

void ToProto(const TrialQuery& query, v1::ListTrialsRequest* out) {
  if (query.sweep_id) out->set_sweep_id(*query.sweep_id);
  ToProtoList(query.conditions, out->mutable_filters());
  out->set_order_by(query.order_by);
  out->set_descending(query.descending);
  out->set_limit(query.limit);
  out->set_offset(query.offset);
}

absl::Status FromProto(const v1::ListTrialsRequest& proto, TrialQuery* out) {
  out->sweep_id = OptionalOf(proto.has_sweep_id(), proto.sweep_id());
  RETURN_IF_ERROR(FromProtoList(proto.filters(), "filters", &out->conditions));
  out->order_by = proto.order_by().empty() ? "id" : proto.order_by();
  out->descending = proto.descending();
  if (proto.limit() < 0) return absl::InvalidArgumentError("limit: must be >= 0");
  if (proto.offset() < 0) return absl::InvalidArgumentError("offset: must be >= 0");
  out->limit = proto.limit();
  out->offset = proto.offset();
  return absl::OkStatus();
}

void ToProto(const Acquisition& acquisition, v1::AcquireTrialResponse* out) {
  if (acquisition.trial) ToProto(*acquisition.trial, out->mutable_trial());
  if (acquisition.lease) ToProto(*acquisition.lease, out->mutable_lease());
  ToProto(acquisition.retry_after, out->mutable_retry_after());
}

absl::Status FromProto(const v1::AcquireTrialResponse& proto, Acquisition* out) {
  out->trial.reset();
  out->lease.reset();
  if (proto.has_trial()) {
    RETURN_IF_ERROR(WithFieldPrefix("trial", FromProto(proto.trial(), &out->trial.emplace())));
  }
  if (proto.has_lease()) {
    RETURN_IF_ERROR(WithFieldPrefix("lease", FromProto(proto.lease(), &out->lease.emplace())));
  }
  if (out->trial.has_value() != out->lease.has_value()) {
    return absl::InvalidArgumentError("trial and lease must be both set or both unset");
  }
  out->retry_after = FromProto(proto.retry_after());
  return absl::OkStatus();
}

void ToProto(const RenewResult& renewal, v1::LeaseRenewal* out) {
  ToProto(renewal.deadline, out->mutable_deadline());
  ToProto(renewal.ttl, out->mutable_ttl());
  out->set_cancelled(renewal.cancelled);
  if (renewal.stopped.has_value()) out->set_stopped(ToProto(*renewal.stopped));
  out->set_stop_reason(renewal.stop_reason);
}

absl::Status FromProto(const v1::LeaseRenewal& proto, RenewResult* out) {
  out->deadline = FromProto(proto.deadline());
  out->ttl = FromProto(proto.ttl());
  out->cancelled = proto.cancelled();
  if (proto.stopped() != v1::TRIAL_STATE_UNSPECIFIED) {
    TrialState stopped;
    RETURN_IF_ERROR(FromProto(proto.stopped(), &stopped));
    out->stopped = stopped;
  }
  out->stop_reason = proto.stop_reason();
  return absl::OkStatus();
}

void ToProto(const TrialOutcome& outcome, v1::CompleteTrialRequest* out) {
  out->set_state(ToProto(outcome.state));
  out->set_reason(outcome.reason);
}

absl::Status FromProto(const v1::CompleteTrialRequest& proto, TrialOutcome* out) {
  RETURN_IF_ERROR(WithFieldPrefix("state", FromProto(proto.state(), &out->state)));
  out->reason = proto.reason();
  return absl::OkStatus();
}

}  // namespace deepsweep::rpc
