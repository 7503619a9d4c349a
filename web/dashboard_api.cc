#include "web/dashboard_api.h"

#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "core/paper_table.h"
#include "core/progress_estimate.h"
#include "core/stats.h"
#include "core/trial_fields.h"

namespace deepsweep::web {
namespace {

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

void WriteOptional(JsonWriter& json, const std::optional<double>& value) {
  if (value.has_value()) {
    json.Number(*value);
  } else {
    json.Null();
  }
}

void WriteFieldValue(JsonWriter& json, const TrialFieldValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) {
    json.Int(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    json.Number(*d);
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    json.String(*s);
  } else {
    json.Null();
  }
}

void WriteCounts(JsonWriter& json, const TrialCounts& c) {
  json.BeginObject()
      .Key("pending")
      .Int(c.pending)
      .Key("leased")
      .Int(c.leased)
      .Key("succeeded")
      .Int(c.succeeded)
      .Key("diverged")
      .Int(c.diverged)
      .Key("failed")
      .Int(c.failed)
      .Key("cancelled")
      .Int(c.cancelled)
      .Key("pruned")
      .Int(c.pruned)
      .Key("total")
      .Int(c.total())
      .Key("done")
      .Int(c.done())
      .EndObject();
}

// The summary of a sample given by its sums, or nothing for n = 0.
std::optional<SampleSummary> FromSums(int64_t n, double sum, double sum_squares,
                                      double confidence) {
  if (n <= 0) return std::nullopt;
  absl::StatusOr<SampleSummary> s = SummarizeSums(n, sum, sum_squares, confidence);
  if (!s.ok()) return std::nullopt;
  return *s;
}

int64_t CountOf(const TrialCounts& c, TrialState state) {
  switch (state) {
    case TrialState::kPending:
      return c.pending;
    case TrialState::kLeased:
      return c.leased;
    case TrialState::kSucceeded:
      return c.succeeded;
    case TrialState::kDiverged:
      return c.diverged;
    case TrialState::kFailed:
      return c.failed;
    case TrialState::kCancelled:
      return c.cancelled;
    case TrialState::kPruned:
      return c.pruned;
  }
  return 0;
}

void WriteTrial(JsonWriter& json, const TrialRecord& t) {
  const TrialSpec& s = t.spec;
  json.BeginObject()
      .Key("id")
      .Int(t.id)
      .Key("sweep_id")
      .Int(t.sweep_id)
      .Key("index")
      .Int(t.index)
      .Key("state")
      .String(TrialStateName(t.state))
      .Key("attempt")
      .Int(t.attempt)
      .Key("worker_id")
      .String(t.worker_id)
      .Key("reason")
      .String(t.reason)
      .Key("label")
      .String(TrialLabel(t.id, s))
      .Key("dataset")
      .String(s.dataset.name)
      .Key("activation")
      .String(s.activation)
      .Key("init")
      .String(s.init)
      .Key("depth")
      .Int(s.depth)
      .Key("width")
      .Int(s.width)
      .Key("learning_rate")
      .Number(s.learning_rate)
      .Key("seed_index")
      .Int(s.seed_index)
      .Key("updates")
      .Int(s.updates)
      .Key("steps_done")
      .Int(t.steps_done)
      .Key("final_test_error");
  WriteOptional(json, t.final_test_error);
  json.Key("final_validation_error");
  WriteOptional(json, t.final_validation_error);
  json.Key("updated_at").String(TimeText(t.updated_at)).EndObject();
}

void WriteDiagnosis(JsonWriter& json, const std::vector<DiagnosisFinding>& findings) {
  json.BeginObject().Key("line").String(DiagnosisLine(findings)).Key("findings").BeginArray();
  for (const DiagnosisFinding& f : findings) {
    json.BeginObject().Key("kind").String(DiagnosisKindName(f.kind)).Key("step");
    if (f.step.has_value()) {
      json.Int(*f.step);
    } else {
      json.Null();
    }
    json.Key("recovered_step");
    if (f.recovered_step.has_value()) {
      json.Int(*f.recovered_step);
    } else {
      json.Null();
    }
    json.Key("text").String(f.text).EndObject();
  }
  json.EndArray().EndObject();
}

void WriteLayerStat(JsonWriter& json, const LayerStat& l) {
  json.BeginObject()
      .Key("layer")
      .Int(l.layer)
      .Key("quantity")
      .String(LayerQuantityName(l.quantity))
      .Key("mean")
      .Number(l.mean)
      .Key("std")
      .Number(l.std)
      .Key("p02")
      .Number(l.p02)
      .Key("p50")
      .Number(l.p50)
      .Key("p98")
      .Number(l.p98)
      .Key("saturated_fraction")
      .Number(l.saturated_fraction)
      .Key("jacobian_sv_mean")
      .Number(l.jacobian_sv_mean)
      .Key("hist_lo")
      .Number(l.hist_lo)
      .Key("hist_hi")
      .Number(l.hist_hi)
      .Key("histogram")
      .BeginArray();
  for (float v : l.histogram) json.Number(v);
  json.EndArray().EndObject();
}

}  // namespace

DashboardApi::DashboardApi(Coordinator* coordinator, SweepStore* store, const Clock* clock,
                           DashboardApiOptions options)
    : coordinator_(coordinator), store_(store), clock_(clock), options_(std::move(options)) {}

namespace {

// The sweep's fields with its progress estimate (reads its leased trials and
// recent completions).
absl::Status WriteSweep(JsonWriter& json, const SweepRecord& sweep, Coordinator& coordinator,
                        SweepStore& store, absl::Time now, int rate_window) {
  ProgressInputs inputs{.state = sweep.state,
                        .counts = sweep.counts,
                        .created_at = sweep.created_at,
                        .rate_window = rate_window};
  if (sweep.counts.leased > 0) {
    ASSIGN_OR_RETURN(
        std::vector<TrialRecord> leased,
        coordinator.ListTrials(TrialQuery{
            .sweep_id = sweep.id, .conditions = {{"state", TrialCondition::Op::kEq, "leased"}}}));
    for (const TrialRecord& t : leased) {
      if (t.spec.updates > 0) {
        inputs.partial += static_cast<double>(t.steps_done) / static_cast<double>(t.spec.updates);
      }
    }
  }
  ASSIGN_OR_RETURN(inputs.finish_times, store.RecentFinishTimes(sweep.id, rate_window));
  const ProgressEstimate estimate = EstimateProgress(inputs, now);
  json.BeginObject()
      .Key("id")
      .Int(sweep.id)
      .Key("name")
      .String(sweep.name)
      .Key("state")
      .String(SweepStateName(sweep.state))
      .Key("created_at")
      .String(TimeText(sweep.created_at))
      .Key("finished_at");
  if (sweep.finished_at.has_value()) {
    json.String(TimeText(*sweep.finished_at));
  } else {
    json.Null();
  }
  json.Key("counts");
  WriteCounts(json, sweep.counts);
  json.Key("fraction").Number(estimate.fraction).Key("trials_per_hour");
  WriteOptional(json, estimate.trials_per_hour);
  json.Key("eta_seconds");
  if (estimate.eta.has_value()) {
    json.Number(absl::ToDoubleSeconds(*estimate.eta));
  } else {
    json.Null();
  }
  json.EndObject();
  return absl::OkStatus();
}

void WriteSummary(JsonWriter& json, const std::optional<SampleSummary>& s) {
  json.Key("n").Int(s.has_value() ? s->n : 0).Key("mean");
  WriteOptional(json, s.has_value() ? std::optional<double>(s->mean) : std::nullopt);
  json.Key("std");
  WriteOptional(json, s.has_value() ? s->std : std::nullopt);
  json.Key("ci_half");
  WriteOptional(json, s.has_value() ? s->ci_half : std::nullopt);
}

// Writes the keys "trial" and "diagnosis" (of its latest attempt) into an
// open object; returns that attempt's checkpoints.
absl::StatusOr<std::vector<Checkpoint>> WriteTrialAndDiagnosis(JsonWriter& json,
                                                               Coordinator& coordinator, TrialId id,
                                                               const DiagnosisOptions& options) {
  ASSIGN_OR_RETURN(TrialRecord trial, coordinator.GetTrial(id));
  ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints,
                   coordinator.GetCheckpoints(id, std::nullopt, /*with_layer_stats=*/true));
  json.Key("trial");
  WriteTrial(json, trial);
  json.Key("diagnosis");
  WriteDiagnosis(json, DiagnoseTrial(trial, checkpoints, options));
  return checkpoints;
}

}  // namespace

absl::StatusOr<std::string> DashboardApi::Sweeps() {
  ASSIGN_OR_RETURN(std::vector<SweepRecord> sweeps, coordinator_->ListSweeps());
  const absl::Time now = clock_->Now();
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginArray();
  for (const SweepRecord& sweep : sweeps) {
    RETURN_IF_ERROR(WriteSweep(json, sweep, *coordinator_, *store_, now, options_.rate_window));
  }
  json.EndArray();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Sweep(SweepId id) {
  ASSIGN_OR_RETURN(SweepRecord sweep, coordinator_->GetSweep(id));
  ASSIGN_OR_RETURN(std::vector<ConfigAggregate> configs, store_->AggregateConfigs(id));
  ASSIGN_OR_RETURN(PaperTable table1, BuildPaperTable(configs, options_.confidence));

  std::vector<TrialSpec> specs;
  for (const ConfigAggregate& c : configs) specs.push_back(c.config);
  const std::vector<const SpecField*> varying = VaryingConfigFields(specs);
  std::vector<std::optional<SampleSummary>> summaries;
  std::optional<size_t> best;
  for (size_t i = 0; i < configs.size(); ++i) {
    const ConfigAggregate& c = configs[i];
    summaries.push_back(
        FromSums(c.n, c.sum_test_error, c.sum_squares_test_error, options_.confidence));
    if (summaries.back().has_value() &&
        (!best.has_value() || summaries.back()->mean < summaries[*best]->mean)) {
      best = i;
    }
  }

  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject().Key("sweep");
  RETURN_IF_ERROR(
      WriteSweep(json, sweep, *coordinator_, *store_, clock_->Now(), options_.rate_window));
  json.Key("confidence").Number(options_.confidence).Key("fields").BeginArray();
  for (const SpecField* f : varying) json.String(f->name);
  json.EndArray().Key("configs").BeginArray();
  for (size_t i = 0; i < configs.size(); ++i) {
    const ConfigAggregate& c = configs[i];
    json.BeginObject()
        .Key("first_trial")
        .Int(c.first_trial)
        .Key("label")
        .String(ConfigLabel(c.config, varying))
        .Key("values")
        .BeginObject();
    for (const SpecField* f : varying) WriteFieldValue(json.Key(f->name), f->get(c.config));
    json.EndObject().Key("counts");
    WriteCounts(json, c.counts);
    WriteSummary(json, summaries[i]);
    json.Key("mean_validation_error");
    WriteOptional(json, c.n_validation > 0
                            ? std::optional<double>(c.sum_validation_error /
                                                    static_cast<double>(c.n_validation))
                            : std::nullopt);
    json.Key("best").Bool(best == i).EndObject();
  }
  json.EndArray().Key("table1").BeginObject().Key("datasets").BeginArray();
  for (const std::string& d : table1.datasets) json.String(d);
  json.EndArray().Key("rows").BeginArray();
  for (const PaperRow& row : table1.rows) {
    json.BeginObject()
        .Key("activation")
        .String(row.activation)
        .Key("init")
        .String(row.init)
        .Key("cells")
        .BeginObject();
    for (const auto& [dataset, cell] : row.cells) {
      json.Key(dataset).BeginObject();
      WriteSummary(json, cell.test_error);
      json.Key("selected")
          .String(cell.selected)
          .Key("candidates")
          .Int(cell.candidates)
          .Key("selected_on_test")
          .Bool(cell.selected_on_test)
          .EndObject();
    }
    json.EndObject().EndObject();
  }
  json.EndArray().EndObject().EndObject();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Curves(SweepId id, TrialId config_trial) {
  ASSIGN_OR_RETURN(TrialRecord trial, coordinator_->GetTrial(config_trial));
  if (trial.sweep_id != id) {
    return absl::NotFoundError(absl::StrCat("trial ", config_trial, " is not in sweep ", id));
  }
  ASSIGN_OR_RETURN(std::vector<StepAggregate> steps, store_->AggregateCheckpoints(id, trial.spec));
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject().Key("first_trial").Int(config_trial).Key("steps").BeginArray();
  for (const StepAggregate& a : steps) {
    const std::optional<SampleSummary> test =
        FromSums(a.n_test, a.sum_test_error, a.sum_squares_test_error, options_.confidence);
    const std::optional<SampleSummary> validation =
        FromSums(a.n_validation, a.sum_validation_error, a.sum_squares_validation_error,
                 options_.confidence);
    json.BeginObject().Key("step").Int(a.step).Key("n").Int(a.n_test).Key("test_mean");
    WriteOptional(json, test.has_value() ? std::optional<double>(test->mean) : std::nullopt);
    json.Key("test_ci_half");
    WriteOptional(json, test.has_value() ? test->ci_half : std::nullopt);
    json.Key("validation_mean");
    WriteOptional(json,
                  validation.has_value() ? std::optional<double>(validation->mean) : std::nullopt);
    json.Key("validation_ci_half");
    WriteOptional(json, validation.has_value() ? validation->ci_half : std::nullopt);
    json.EndObject();
  }
  json.EndArray().EndObject();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Trials(SweepId id, const TrialPage& page) {
  const int64_t limit = page.limit == 0 ? options_.default_page_size : page.limit;
  if (page.offset < 0 || limit < 0 || limit > options_.max_page_size) {
    return absl::InvalidArgumentError(absl::StrCat("a page is offset >= 0 and 1 to ",
                                                   options_.max_page_size, " trials, got offset ",
                                                   page.offset, " limit ", limit));
  }
  ASSIGN_OR_RETURN(SweepRecord sweep, coordinator_->GetSweep(id));
  TrialQuery query{.sweep_id = id, .limit = limit, .offset = page.offset};
  int64_t total = sweep.counts.total();
  if (page.state.has_value()) {
    query.conditions.push_back(
        {"state", TrialCondition::Op::kEq, std::string(TrialStateName(*page.state))});
    total = CountOf(sweep.counts, *page.state);
  }
  ASSIGN_OR_RETURN(std::vector<TrialRecord> trials, coordinator_->ListTrials(query));
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject()
      .Key("total")
      .Int(total)
      .Key("offset")
      .Int(page.offset)
      .Key("limit")
      .Int(limit)
      .Key("trials")
      .BeginArray();
  for (const TrialRecord& t : trials) WriteTrial(json, t);
  json.EndArray().EndObject();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Trial(TrialId id) {
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject();
  RETURN_IF_ERROR(WriteTrialAndDiagnosis(json, *coordinator_, id, options_.diagnosis).status());
  json.EndObject();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Checkpoints(TrialId id) {
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginObject();
  ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints,
                   WriteTrialAndDiagnosis(json, *coordinator_, id, options_.diagnosis));
  json.Key("checkpoints").BeginArray();
  for (const Checkpoint& c : checkpoints) {
    json.BeginObject()
        .Key("step")
        .Int(c.step)
        .Key("examples_seen")
        .Int(c.examples_seen)
        .Key("train_nll")
        .Number(c.train_nll)
        .Key("test_error")
        .Number(c.test_error)
        .Key("test_nll")
        .Number(c.test_nll)
        .Key("validation_error")
        .Number(c.validation_error)
        .Key("validation_nll")
        .Number(c.validation_nll)
        .Key("wall_seconds")
        .Number(c.wall_seconds)
        .Key("layers")
        .BeginArray();
    for (const LayerStat& l : c.layer_stats) WriteLayerStat(json, l);
    json.EndArray().EndObject();
  }
  json.EndArray().EndObject();
  return out.str();
}

absl::StatusOr<std::string> DashboardApi::Workers() {
  ASSIGN_OR_RETURN(std::vector<WorkerRecord> workers, coordinator_->ListWorkers());
  const absl::Time now = clock_->Now();
  std::ostringstream out;
  JsonWriter json(out);
  json.BeginArray();
  for (const WorkerRecord& w : workers) {
    json.BeginObject()
        .Key("worker_id")
        .String(w.info.worker_id)
        .Key("host")
        .String(w.info.host)
        .Key("pid")
        .Int(w.info.pid)
        .Key("version")
        .String(w.info.version)
        .Key("cores")
        .Int(w.info.cores)
        .Key("first_seen")
        .String(TimeText(w.first_seen))
        .Key("last_seen")
        .String(TimeText(w.last_seen))
        .Key("seconds_since_seen")
        .Number(absl::ToDoubleSeconds(now - w.last_seen))
        .Key("alive")
        .Bool(now - w.last_seen <= options_.worker_timeout)
        .Key("current_trial");
    if (w.current_trial.has_value()) {
      json.Int(*w.current_trial);
    } else {
      json.Null();
    }
    json.EndObject();
  }
  json.EndArray();
  return out.str();
}

}  // namespace deepsweep::web
