#include "client/commands/sweeps.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/format.h"
#include "client/progress.h"
#include "client/sweep_watch.h"
#include "common/status_macros.h"
#include "core/sweep_spec.h"
#include "core/trial_fields.h"

namespace deepsweep::client {
namespace {

absl::StatusOr<std::string> ReadSpec(CommandContext& context, const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << context.in().rdbuf();
    return text.str();
  }
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read spec file '", path, "'"));
  text << file.rdbuf();
  return text.str();
}

// The fields a spec varies (its grid and random axes), for the sample table.
std::vector<const SpecField*> AxisFields(const SweepSpec& spec) {
  std::vector<const SpecField*> fields;
  auto add = [&](const std::string& name) {
    absl::StatusOr<const SpecField*> field = FindConfigField(name);
    if (field.ok() && std::find(fields.begin(), fields.end(), *field) == fields.end()) {
      fields.push_back(*field);
    }
  };
  for (const GridAxis& axis : spec.grid) add(axis.field);
  for (const SampledAxis& axis : spec.random) add(axis.field);
  return fields;
}

void PrintSample(CommandContext& context, const std::vector<const SpecField*>& fields,
                 const std::vector<std::pair<int, TrialSpec>>& sample, int64_t total) {
  std::vector<Column> columns = {{"index"}};
  for (const SpecField* field : fields) columns.push_back({std::string(field->name), 6});
  columns.push_back({"seed_index"});
  columns.push_back({"seed"});
  columns.push_back({"data_seed"});
  Table table(std::move(columns));
  for (const auto& [index, spec] : sample) {
    std::vector<Value> row = {int64_t{index}};
    for (const SpecField* field : fields) row.push_back(ToValue(field->get(spec)));
    row.push_back(int64_t{spec.seed_index});
    row.push_back(static_cast<int64_t>(spec.seed));  // seeds use 63 bits
    row.push_back(static_cast<int64_t>(spec.data_seed));
    table.AddRow(std::move(row));
  }
  WriteTable(table, OutputFormat::kTable, context.out());
  const int64_t hidden = total - static_cast<int64_t>(sample.size());
  if (hidden > 0) context.out() << "... and " << hidden << " more (--sample 0 shows all)\n";
}

// One row per sweep; the progress bar and age only for people, timestamps
// for programs.
Table SweepTable(const std::vector<SweepRecord>& sweeps, OutputFormat format, absl::Time now) {
  const bool people = format == OutputFormat::kTable;
  // A "pruned" column only when some sweep has pruned trials.
  bool pruned = false;
  for (const SweepRecord& s : sweeps) pruned = pruned || s.counts.pruned > 0;
  std::vector<Column> columns = {{"id"}, {"name"}, {"state"}};
  if (people) columns.push_back({"progress"});
  for (const char* name : {"done", "total", "succeeded", "diverged", "failed", "cancelled"}) {
    columns.push_back({name});
  }
  if (pruned) columns.push_back({"pruned"});
  for (const char* name : {"leased", "pending"}) columns.push_back({name});
  columns.push_back({people ? "age" : "created_at"});
  Table table(std::move(columns));
  for (const SweepRecord& s : sweeps) {
    std::vector<Value> row = {s.id, s.name, std::string(SweepStateName(s.state))};
    if (people) {
      const double fraction = s.counts.total() > 0 ? static_cast<double>(s.counts.done()) /
                                                         static_cast<double>(s.counts.total())
                                                   : 0.0;
      row.push_back(ProgressBar(fraction, 20));
    }
    for (int64_t count : {s.counts.done(), s.counts.total(), s.counts.succeeded, s.counts.diverged,
                          s.counts.failed, s.counts.cancelled}) {
      row.push_back(count);
    }
    if (pruned) row.push_back(s.counts.pruned);
    row.push_back(s.counts.leased);
    row.push_back(s.counts.pending);
    row.push_back(people ? HumanDuration(now - s.created_at) : UtcTimestamp(s.created_at));
    table.AddRow(std::move(row));
  }
  return table;
}

absl::Status ShowAllSweeps(CommandContext& context, rpc::CoordinatorClient& coordinator,
                           OutputFormat format) {
  ASSIGN_OR_RETURN(std::vector<SweepRecord> sweeps, coordinator.ListSweeps());
  if (sweeps.empty() && format == OutputFormat::kTable) {
    context.out() << "no sweeps yet (deepsweep submit SPEC creates one)\n";
    return absl::OkStatus();
  }
  WriteTable(SweepTable(sweeps, format, context.clock().Now()), format, context.out());
  return absl::OkStatus();
}

// The failed and diverged trials of a sweep with their reasons, newest first.
Table EndedBadlyTable(const std::vector<TrialRecord>& trials) {
  Table table({{"trial"}, {"state"}, {"attempt"}, {"worker_id"}, {"reason"}});
  std::vector<const TrialRecord*> ended;
  for (const TrialRecord& t : trials) {
    if (t.state == TrialState::kFailed || t.state == TrialState::kDiverged) ended.push_back(&t);
  }
  std::sort(ended.begin(), ended.end(), [](const TrialRecord* a, const TrialRecord* b) {
    return a->updated_at != b->updated_at ? a->updated_at > b->updated_at : a->id > b->id;
  });
  for (const TrialRecord* t : ended) {
    table.AddRow({t->id, std::string(TrialStateName(t->state)), int64_t{t->attempt}, t->worker_id,
                  t->reason});
  }
  return table;
}

absl::StatusOr<std::vector<TrialRecord>> TrialsOf(rpc::CoordinatorClient& coordinator,
                                                  SweepId sweep) {
  TrialQuery query;
  query.sweep_id = sweep;
  return coordinator.ListTrials(query);
}

absl::StatusOr<std::vector<TrialState>> ParseStates(const std::vector<std::string>& names) {
  std::vector<TrialState> states;
  for (const std::string& name : names) {
    const std::optional<TrialState> state = ParseTrialState(name);
    if (!state.has_value() || !IsTerminal(*state) || *state == TrialState::kSucceeded) {
      return absl::InvalidArgumentError(absl::StrCat("cannot retry trials in state '", name,
                                                     "' (expected failed, diverged or cancelled)"));
    }
    states.push_back(*state);
  }
  if (states.empty()) return absl::InvalidArgumentError("--states is empty");
  return states;
}

}  // namespace

absl::Status Submit(CommandContext& context, const SubmitOptions& options) {
  if (options.sample < 0) return absl::InvalidArgumentError("--sample must be >= 0");
  rpc::CoordinatorClient* coordinator = nullptr;
  if (!options.dry_run) {
    ASSIGN_OR_RETURN(coordinator, context.Writer("submit"));
  }
  ASSIGN_OR_RETURN(const std::string yaml, ReadSpec(context, options.spec_path));
  // Parsed here in both modes: a malformed spec fails before any call, and
  // the axes name the columns of the sample.
  ASSIGN_OR_RETURN(const SweepSpec spec, ParseSweepSpec(yaml));
  const std::vector<const SpecField*> fields = AxisFields(spec);
  const size_t sample_size = options.sample == 0 ? SIZE_MAX : static_cast<size_t>(options.sample);
  std::vector<std::pair<int, TrialSpec>> sample;
  if (options.dry_run) {
    ASSIGN_OR_RETURN(const std::vector<TrialSpec> trials, ExpandSweep(spec, SweepLimits{}));
    const int64_t total = static_cast<int64_t>(trials.size());
    context.out() << TerminalSafe(spec.name) << ": " << total << " trials = " << total / spec.seeds
                  << " configurations x " << spec.seeds << " seeds (dry run: nothing submitted)\n";
    for (size_t i = 0; i < trials.size() && i < sample_size; ++i) {
      sample.emplace_back(static_cast<int>(i), trials[i]);
    }
    PrintSample(context, fields, sample, total);
    context.out() << "schedule: " << DescribeSchedule(spec.schedule) << '\n';
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const SubmittedSweep submitted,
                   coordinator->SubmitSweep(yaml, {.new_sweep = options.new_sweep}));
  const SweepRecord& sweep = submitted.sweep;
  if (submitted.existing) {
    context.out() << "sweep " << sweep.id << " '" << sweep.name
                  << "' already has this spec: nothing submitted (" << SweepStateName(sweep.state)
                  << ", " << sweep.counts.done() << "/" << sweep.counts.total()
                  << " trials done). deepsweep status " << sweep.id
                  << " shows it; submit --new makes a second sweep of this name\n";
    return absl::OkStatus();
  }
  const int64_t total = sweep.counts.total();
  context.out() << "submitted sweep " << sweep.id << " '" << TerminalSafe(sweep.name)
                << "': " << total << " trials = " << total / spec.seeds << " configurations x "
                << spec.seeds << " seeds\n";
  TrialQuery query;
  query.sweep_id = sweep.id;
  query.order_by = "id";
  query.limit = options.sample == 0 ? 0 : options.sample;
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials, coordinator->ListTrials(query));
  for (const TrialRecord& trial : trials) sample.emplace_back(trial.index, trial.spec);
  PrintSample(context, fields, sample, total);
  return absl::OkStatus();
}

absl::Status ShowStatus(CommandContext& context, const std::optional<std::string>& sweep_ref,
                        OutputFormat format) {
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  if (!sweep_ref.has_value()) return ShowAllSweeps(context, *coordinator, format);
  ASSIGN_OR_RETURN(const SweepRecord sweep, ResolveSweep(*coordinator, *sweep_ref));
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials, TrialsOf(*coordinator, sweep.id));
  const absl::Time now = context.clock().Now();
  const ProgressEstimate estimate = EstimateProgress(ProgressInputsFor(sweep, trials), now);
  const Table ended = EndedBadlyTable(trials);
  if (format == OutputFormat::kCsv) {
    WriteTable(SweepTable({sweep}, format, now), format, context.out());
    return absl::OkStatus();
  }
  if (format == OutputFormat::kJson) {
    JsonWriter json(context.out(), 2);
    json.BeginObject().Key("sweep");
    WriteJsonRows(SweepTable({sweep}, format, now), json);
    json.Key("fraction_done").Number(estimate.fraction);
    json.Key("trials_per_hour");
    estimate.trials_per_hour.has_value() ? json.Number(*estimate.trials_per_hour) : json.Null();
    json.Key("eta_seconds");
    estimate.eta.has_value() ? json.Number(absl::ToDoubleSeconds(*estimate.eta)) : json.Null();
    json.Key("failed_or_diverged");
    WriteJsonRows(ended, json);
    json.EndObject();
    context.out() << '\n';
    return absl::OkStatus();
  }
  for (const std::string& line : SweepStatusLines(sweep, estimate, now)) {
    context.out() << line << '\n';
  }
  std::vector<rpc::RunningTrial> running;
  absl::flat_hash_map<TrialId, TrialSpec> specs;
  for (const TrialRecord& t : trials) {
    if (t.state != TrialState::kLeased) continue;
    running.push_back({.trial_id = t.id,
                       .attempt = t.attempt,
                       .worker_id = t.worker_id,
                       .steps_done = t.steps_done,
                       .updates = t.spec.updates});
    specs.emplace(t.id, t.spec);
  }
  // Where each shown trial would resume if its worker were lost now.
  constexpr size_t kRunningShown = 10;
  absl::flat_hash_map<TrialId, std::optional<int64_t>> snapshot_steps;
  for (size_t i = 0; i < running.size() && i < kRunningShown; ++i) {
    ASSIGN_OR_RETURN(const std::vector<TrialAttempt> attempts,
                     coordinator->ListAttempts(running[i].trial_id));
    snapshot_steps[running[i].trial_id] = SumAttempts(attempts).snapshot_step;
  }
  for (const std::string& line : RunningLines(running, specs, kRunningShown, &snapshot_steps)) {
    context.out() << line << '\n';
  }
  if (!ended.rows().empty()) {
    constexpr size_t kShown = 10;
    context.out() << "failed or diverged, newest first:\n";
    Table shown(ended.columns());
    for (size_t i = 0; i < ended.rows().size() && i < kShown; ++i) shown.AddRow(ended.rows()[i]);
    WriteTable(shown, OutputFormat::kTable, context.out());
    if (ended.rows().size() > kShown) {
      context.out() << "... and " << ended.rows().size() - kShown << " more (deepsweep results "
                    << sweep.id << " state:ne:succeeded --columns id,state,reason)\n";
    }
  }
  return absl::OkStatus();
}

absl::Status Watch(CommandContext& context, const std::string& sweep_ref) {
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  ASSIGN_OR_RETURN(SweepRecord sweep, ResolveSweep(*coordinator, sweep_ref));
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials, TrialsOf(*coordinator, sweep.id));
  const SweepId id = sweep.id;
  SweepWatchView view(std::move(sweep), trials, {.terminal = context.out_is_tty()}, context.out());
  RETURN_IF_ERROR(coordinator->WatchSweep(id, [&](const rpc::SweepProgress& progress) {
    view.Update(progress, context.clock().Now());
    return true;
  }));
  view.Finish(context.clock().Now());
  return absl::OkStatus();
}

absl::Status Cancel(CommandContext& context, const std::string& sweep_ref) {
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Writer("cancel"));
  ASSIGN_OR_RETURN(const SweepRecord before, ResolveSweep(*coordinator, sweep_ref));
  RETURN_IF_ERROR(coordinator->CancelSweep(before.id));
  ASSIGN_OR_RETURN(const SweepRecord after, coordinator->GetSweep(before.id));
  context.out() << "cancelled sweep " << after.id << " '" << TerminalSafe(after.name)
                << "': " << after.counts.cancelled - before.counts.cancelled
                << " pending trials cancelled";
  if (after.counts.leased > 0) {
    context.out() << ", " << after.counts.leased << " running trials stop at their next heartbeat";
  }
  context.out() << '\n';
  return absl::OkStatus();
}

absl::Status Retry(CommandContext& context, const RetryOptions& options) {
  ASSIGN_OR_RETURN(const std::vector<TrialState> states, ParseStates(options.states));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Writer("retry"));
  ASSIGN_OR_RETURN(const SweepRecord sweep, ResolveSweep(*coordinator, options.sweep));
  ASSIGN_OR_RETURN(const int64_t requeued, coordinator->RetryTrials(sweep.id, states));
  context.out() << "requeued " << requeued << " trials of sweep " << sweep.id << " '"
                << TerminalSafe(sweep.name) << "' (" << absl::StrJoin(options.states, ", ")
                << ")\n";
  return absl::OkStatus();
}

absl::Status ListWorkers(CommandContext& context, OutputFormat format) {
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  ASSIGN_OR_RETURN(const std::vector<WorkerRecord> workers, coordinator->ListWorkers());
  const absl::Time now = context.clock().Now();
  Table table({{"worker_id"},
               {"host"},
               {"pid"},
               {"version"},
               {"cores"},
               {"trial"},
               {"last_seen"},
               {"seconds_since_seen"},
               {"first_seen"}});
  for (const WorkerRecord& w : workers) {
    table.AddRow({w.info.worker_id, w.info.host, w.info.pid, w.info.version, int64_t{w.info.cores},
                  w.current_trial.has_value() ? Value{*w.current_trial} : Value{},
                  UtcTimestamp(w.last_seen), absl::ToInt64Seconds(now - w.last_seen),
                  UtcTimestamp(w.first_seen)});
  }
  WriteTable(table, format, context.out());
  return absl::OkStatus();
}

void AddSweepCommands(CLI::App& app, CommandContext& context) {
  auto submit = std::make_shared<SubmitOptions>();
  CLI::App* submit_command =
      app.add_subcommand("submit", "Submit a sweep spec (YAML); --dry-run only expands it");
  submit_command->add_option("SPEC", submit->spec_path, "Spec file, or - for standard input")
      ->required();
  submit_command->add_flag("--dry-run", submit->dry_run,
                           "Expand the spec offline and print it; submit nothing");
  submit_command
      ->add_option("--sample", submit->sample, "Trials of the expansion to show (0 = all)")
      ->capture_default_str();
  submit_command->add_flag("--new", submit->new_sweep,
                           "Make a new sweep even if one of this name exists (by default the "
                           "same spec returns the existing sweep and a changed spec is refused)");
  submit_command->callback(
      [&context, submit] { context.Run([&] { return Submit(context, *submit); }); });

  auto status_sweep = std::make_shared<std::string>();
  auto status_format = std::make_shared<std::string>("table");
  CLI::App* status = app.add_subcommand("status", "Progress of every sweep, or of one in detail");
  CLI::Option* status_arg = status->add_option("SWEEP", *status_sweep, "Sweep id or name");
  AddFormatOption(status, status_format.get());
  status->callback([&context, status_sweep, status_arg, status_format] {
    context.Run([&]() -> absl::Status {
      ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(*status_format));
      return ShowStatus(
          context,
          status_arg->count() > 0 ? std::optional<std::string>(*status_sweep) : std::nullopt,
          format);
    });
  });

  auto watch_sweep = std::make_shared<std::string>();
  CLI::App* watch = app.add_subcommand("watch", "Follow a sweep live until it ends");
  watch->add_option("SWEEP", *watch_sweep, "Sweep id or name")->required();
  watch->callback(
      [&context, watch_sweep] { context.Run([&] { return Watch(context, *watch_sweep); }); });

  auto cancel_sweep = std::make_shared<std::string>();
  CLI::App* cancel = app.add_subcommand("cancel", "Cancel a sweep");
  cancel->add_option("SWEEP", *cancel_sweep, "Sweep id or name")->required();
  cancel->callback(
      [&context, cancel_sweep] { context.Run([&] { return Cancel(context, *cancel_sweep); }); });

  auto retry = std::make_shared<RetryOptions>();
  CLI::App* retry_command =
      app.add_subcommand("retry", "Run a sweep's failed and diverged trials again");
  retry_command->add_option("SWEEP", retry->sweep, "Sweep id or name")->required();
  retry_command->add_option("--states", retry->states, "Which trials: failed, diverged, cancelled")
      ->delimiter(',')
      ->capture_default_str();
  retry_command->callback(
      [&context, retry] { context.Run([&] { return Retry(context, *retry); }); });

  auto workers_format = std::make_shared<std::string>("table");
  CLI::App* workers = app.add_subcommand("workers", "The workers the coordinator has seen");
  AddFormatOption(workers, workers_format.get());
  workers->callback([&context, workers_format] {
    context.Run([&]() -> absl::Status {
      ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(*workers_format));
      return ListWorkers(context, format);
    });
  });
}

}  // namespace deepsweep::client
