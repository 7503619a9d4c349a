#include "client/commands/series.h"

#include <algorithm>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/commands/results.h"
#include "client/format.h"
#include "client/plot.h"
#include "client/trial_filter.h"
#include "common/status_macros.h"
#include "core/trial_fields.h"

namespace deepsweep::client {
namespace {

absl::StatusOr<std::vector<TrialId>> ParseTrialIds(const std::vector<std::string>& texts) {
  if (texts.empty()) {
    return absl::InvalidArgumentError(
        "name trials by id, or select them as results does: [SWEEP] FILTER...");
  }
  std::vector<TrialId> ids;
  for (const std::string& text : texts) {
    absl::StatusOr<TrialId> id = ParseTrialId(text);
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text,
                       "' is not a trial id: name trials by id, or select them as results does, "
                       "[SWEEP] FILTER..., e.g. tiny activation=tanh seed_index:le:2"));
    }
    ids.push_back(*id);
  }
  return ids;
}

absl::StatusOr<std::optional<LayerQuantity>> ParseQuantity(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const std::optional<LayerQuantity> quantity = ParseLayerQuantity(name);
  if (!quantity.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown quantity '", name, "' (expected activation, backprop_grad or weight_grad)"));
  }
  return quantity;
}

// A trial's record and checkpoints.
struct TrialData {
  TrialRecord trial;
  std::vector<Checkpoint> checkpoints;
};

// Why `trial` has no checkpoints, in words that say what to do.
absl::Status NoCheckpoints(const TrialRecord& trial) {
  const std::string name = absl::StrCat("trial ", trial.id);
  switch (trial.state) {
    case TrialState::kPending:
      return absl::FailedPreconditionError(
          absl::StrCat(name, " has not started yet (pending): it has no checkpoints"));
    case TrialState::kLeased:
      return absl::FailedPreconditionError(absl::StrCat(name, " is running on ", trial.worker_id,
                                                        " and has reported no checkpoint yet"));
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          name, " ", std::string(TrialStateName(trial.state)), " before its first checkpoint",
          trial.reason.empty() ? std::string() : absl::StrCat(": ", trial.reason)));
  }
}

// The trials the arguments name: trial ids (each must exist), or, when any
// argument is a condition or the first is no id, "[SWEEP] FILTER..." as
// `results` reads them (NOT_FOUND when none matches). `named` says which.
struct TrialSelection {
  std::vector<TrialRecord> trials;
  bool named = false;
};

absl::StatusOr<TrialSelection> SelectTrials(CommandContext& context,
                                            const std::vector<std::string>& args) {
  // A first argument that is not a number names a sweep: "curves tiny" is
  // every trial of sweep tiny.
  const bool selecting = (!args.empty() && !absl::c_all_of(args.front(), absl::ascii_isdigit)) ||
                         std::any_of(args.begin(), args.end(), [](const std::string& arg) {
                           return LooksLikeTrialCondition(arg);
                         });
  TrialSelection selection{.named = !selecting};
  if (selecting) {
    ASSIGN_OR_RETURN(selection.trials, QueryTrials(context, args, "id", 0));
    if (selection.trials.empty()) return absl::NotFoundError("no trials match");
    return selection;
  }
  ASSIGN_OR_RETURN(const std::vector<TrialId> ids, ParseTrialIds(args));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  for (TrialId id : ids) {
    absl::StatusOr<TrialRecord> trial = coordinator->GetTrial(id);
    if (trial.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("no trial ", id));
    }
    RETURN_IF_ERROR(trial.status());
    selection.trials.push_back(*std::move(trial));
  }
  return selection;
}

// SelectTrials with each trial's checkpoints. Named trials without
// checkpoints are errors when `need_checkpoints`; selected ones are skipped
// with a note on the error stream (an error when none is left).
absl::StatusOr<std::vector<TrialData>> FetchTrials(CommandContext& context,
                                                   const std::vector<std::string>& args,
                                                   std::optional<int> attempt,
                                                   bool with_layer_stats, bool need_checkpoints) {
  ASSIGN_OR_RETURN(TrialSelection selection, SelectTrials(context, args));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  std::vector<TrialData> trials;
  if (selection.named) {
    for (TrialRecord& trial : selection.trials) {
      TrialData data{.trial = std::move(trial)};
      ASSIGN_OR_RETURN(data.checkpoints,
                       coordinator->GetCheckpoints(data.trial.id, attempt, with_layer_stats));
      if (need_checkpoints && data.checkpoints.empty()) return NoCheckpoints(data.trial);
      trials.push_back(std::move(data));
    }
    return trials;
  }
  const std::vector<TrialRecord>& selected = selection.trials;
  for (const TrialRecord& trial : selected) {
    TrialData data{.trial = trial};
    ASSIGN_OR_RETURN(data.checkpoints,
                     coordinator->GetCheckpoints(trial.id, attempt, with_layer_stats));
    if (need_checkpoints && data.checkpoints.empty()) {
      context.err() << "skipped: " << NoCheckpoints(trial).message() << '\n';
      continue;
    }
    trials.push_back(std::move(data));
  }
  if (trials.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("none of the ", selected.size(), " matching trials has checkpoints"));
  }
  return trials;
}

absl::StatusOr<std::pair<int, int>> ParseSize(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, 'x');
  int width = 0, height = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &width) ||
      !absl::SimpleAtoi(parts[1], &height)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--size must be WIDTHxHEIGHT in pixels, e.g. 1000x700, got '", text, "'"));
  }
  return std::pair{width, height};
}

// INVALID_ARGUMENT when no trial has hidden layer `layer`.
absl::Status CheckLayer(int layer, const std::vector<TrialData>& trials) {
  int deepest = 0;
  for (const TrialData& data : trials) deepest = std::max(deepest, data.trial.spec.depth);
  if (layer >= 1 && layer <= deepest) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--layer ", layer, ": ", trials.size() == 1 ? "the trial has " : "the deepest trial has ",
      deepest, " hidden layers, numbered 1 to ", deepest));
}

}  // namespace

absl::Status ShowCurves(CommandContext& context, const CurvesOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  ASSIGN_OR_RETURN(const std::vector<TrialData> trials,
                   FetchTrials(context, options.trials, options.attempt, false, false));
  Table table({{"trial_id"},
               {"step"},
               {"examples_seen"},
               {"train_nll"},
               {"test_error"},
               {"test_nll"},
               {"validation_error"},
               {"validation_nll"},
               {"wall_seconds"}});
  for (const TrialData& data : trials) {
    for (const Checkpoint& c : data.checkpoints) {
      table.AddRow({data.trial.id, c.step, c.examples_seen, c.train_nll, c.test_error, c.test_nll,
                    c.validation_error, c.validation_nll, c.wall_seconds});
    }
  }
  WriteTable(table, format, context.out());
  return absl::OkStatus();
}

absl::Status ShowLayers(CommandContext& context, const LayersOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  ASSIGN_OR_RETURN(const std::optional<LayerQuantity> quantity, ParseQuantity(options.quantity));
  ASSIGN_OR_RETURN(const std::vector<TrialData> trials,
                   FetchTrials(context, options.trials, options.attempt, true, false));
  if (options.layer.has_value()) RETURN_IF_ERROR(CheckLayer(*options.layer, trials));
  std::vector<Column> columns = {{"trial_id"},
                                 {"step"},
                                 {"examples_seen"},
                                 {"layer"},
                                 {"quantity"},
                                 {"mean"},
                                 {"std"},
                                 {"p02"},
                                 {"p50"},
                                 {"p98"},
                                 {"saturated_fraction"},
                                 {"jacobian_sv_mean"}};
  if (options.histogram) {
    columns.push_back({"hist_lo"});
    columns.push_back({"hist_hi"});
    columns.push_back({"histogram"});
  }
  Table table(std::move(columns));
  for (const TrialData& data : trials) {
    for (const Checkpoint& c : data.checkpoints) {
      for (const LayerStat& s : c.layer_stats) {
        if (quantity.has_value() && s.quantity != *quantity) continue;
        if (options.layer.has_value() && s.layer != *options.layer) continue;
        const bool activation = s.quantity == LayerQuantity::kActivation;
        std::vector<Value> row = {data.trial.id, c.step, c.examples_seen, int64_t{s.layer},
                                  std::string(LayerQuantityName(s.quantity)), s.mean, s.std, s.p02,
                                  s.p50, s.p98,
                                  // Defined for activations only: null elsewhere.
                                  activation ? Value{s.saturated_fraction} : Value{},
                                  activation ? Value{s.jacobian_sv_mean} : Value{}};
        if (options.histogram) {
          row.push_back(s.hist_lo);
          row.push_back(s.hist_hi);
          row.push_back(std::vector<double>(s.histogram.begin(), s.histogram.end()));
        }
        table.AddRow(std::move(row));
      }
    }
  }
  WriteTable(table, format, context.out());
  return absl::OkStatus();
}

absl::Status ShowAttempts(CommandContext& context, const AttemptsOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  ASSIGN_OR_RETURN(const TrialSelection selection, SelectTrials(context, options.trials));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  auto optional = [](const std::optional<int64_t>& v) { return v ? Value{*v} : Value{}; };
  Table per_trial({{"trial_id"},
                   {"state"},
                   {"steps_done"},
                   {"updates"},
                   {"attempts"},
                   {"interruptions"},
                   {"updates_redone"},
                   {"snapshots"},
                   {"snapshot_step"}});
  Table per_attempt({{"trial_id"},
                     {"attempt"},
                     {"worker_id"},
                     {"outcome"},
                     {"acquired_at"},
                     {"ended_at"},
                     {"started_at_step"},
                     {"reached_step"},
                     {"updates_redone"},
                     {"snapshots"},
                     {"snapshot_step"}});
  std::vector<std::string> totals;  // one line per trial under the text table
  for (const TrialRecord& trial : selection.trials) {
    ASSIGN_OR_RETURN(const std::vector<TrialAttempt> attempts, coordinator->ListAttempts(trial.id));
    const AttemptTotals sum = SumAttempts(attempts);
    per_trial.AddRow({trial.id, std::string(TrialStateName(trial.state)), trial.steps_done,
                      trial.spec.updates, int64_t{sum.attempts}, int64_t{sum.interruptions},
                      sum.updates_redone, sum.snapshots, optional(sum.snapshot_step)});
    for (const TrialAttempt& a : attempts) {
      per_attempt.AddRow({trial.id, int64_t{a.attempt}, TerminalSafe(a.worker_id),
                          a.outcome.empty() ? Value{} : Value{TerminalSafe(a.outcome)},
                          UtcTimestamp(a.acquired_at),
                          a.ended_at ? Value{UtcTimestamp(*a.ended_at)} : Value{},
                          a.started_at_step, optional(a.reached_step), optional(a.updates_redone),
                          a.snapshots, optional(a.snapshot_step)});
    }
    std::string line =
        absl::StrCat("trial ", trial.id, " (", std::string(TrialStateName(trial.state)), ", ",
                     trial.steps_done, "/", trial.spec.updates, " updates): ");
    if (attempts.empty()) {
      absl::StrAppend(&line, "no attempt yet");
    } else {
      absl::StrAppend(
          &line, sum.attempts, sum.attempts == 1 ? " attempt, " : " attempts, ", sum.interruptions,
          sum.interruptions == 1 ? " interruption, " : " interruptions, ", sum.updates_redone,
          " updates redone; ", sum.snapshots, sum.snapshots == 1 ? " snapshot" : " snapshots");
      if (sum.snapshot_step) absl::StrAppend(&line, ", the latest at step ", *sum.snapshot_step);
    }
    totals.push_back(std::move(line));
  }
  if (options.per_trial) {
    WriteTable(per_trial, format, context.out());
    return absl::OkStatus();
  }
  WriteTable(per_attempt, format, context.out());
  if (format == OutputFormat::kTable) {
    for (const std::string& line : totals) context.out() << line << '\n';
  }
  return absl::OkStatus();
}

namespace {

// Legend labels: the fields that vary among the plotted trials (and the
// seed, when it varies), or the whole configuration for a single trial;
// groups: the configuration without the seed.
std::vector<TrialSeries> SeriesOf(std::vector<TrialData>& trials, bool ids) {
  std::vector<TrialSpec> specs;
  for (const TrialData& data : trials) specs.push_back(data.trial.spec);
  const std::vector<const SpecField*> varying = VaryingConfigFields(specs);
  const bool seeds_vary = std::any_of(specs.begin(), specs.end(), [&](const TrialSpec& spec) {
    return spec.seed_index != specs.front().seed_index;
  });
  std::vector<TrialSeries> series;
  for (TrialData& data : trials) {
    const TrialSpec& spec = data.trial.spec;
    const std::string group =
        varying.empty() ? ConfigDescription(spec) : ConfigLabel(spec, varying);
    std::string label;
    if (trials.size() == 1 || (varying.empty() && !seeds_vary)) {
      label = absl::StrCat(ConfigDescription(spec), ", seed ", spec.seed_index);
    } else if (varying.empty()) {
      label = absl::StrCat("seed ", spec.seed_index);
    } else {
      label = seeds_vary ? absl::StrCat(group, " seed_index=", spec.seed_index) : group;
    }
    if (ids) label = absl::StrCat("#", data.trial.id, " ", label);
    series.push_back(TrialSeries{.label = std::move(label),
                                 .checkpoints = std::move(data.checkpoints),
                                 .epoch_examples = spec.dataset.train_examples,
                                 .group = group});
  }
  return series;
}

}  // namespace

absl::Status Plot(CommandContext& context, const PlotOptions& options) {
  ASSIGN_OR_RETURN(const FigureKind kind, ParseFigureKind(options.kind));
  if (options.out.empty()) return absl::InvalidArgumentError("--out FILE.png is required");
  // Checked before any call: a figure that cannot be written is not fetched.
  RETURN_IF_ERROR(ImageFormatOf(options.out).status());
  FigureOptions figure_options;
  ASSIGN_OR_RETURN(figure_options.x_axis, ParseXAxis(options.x_axis));
  ASSIGN_OR_RETURN(figure_options.quantity, ParseQuantity(options.quantity));
  ASSIGN_OR_RETURN(std::tie(figure_options.width, figure_options.height), ParseSize(options.size));
  figure_options.step = options.step;
  figure_options.log_y = options.log_y;
  figure_options.title = options.title;
  figure_options.bands = options.bands;
  figure_options.confidence = options.confidence;
  if (options.bands && kind != FigureKind::kTestError) {
    return absl::InvalidArgumentError("--bands is for the test-error figure");
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--confidence must be in (0, 1), got ", options.confidence));
  }
  const bool needs_layers = kind != FigureKind::kTestError;
  ASSIGN_OR_RETURN(std::vector<TrialData> trials,
                   FetchTrials(context, options.trials, options.attempt, needs_layers, true));
  const std::vector<TrialSeries> series = SeriesOf(trials, options.ids);
  ASSIGN_OR_RETURN(const GnuplotFigure figure, BuildFigure(kind, series, figure_options));
  GnuplotOptions gnuplot;
  gnuplot.work_dir = options.script_dir;
  RETURN_IF_ERROR(RenderFigure(figure, options.out, gnuplot));
  context.out() << "wrote " << options.out << '\n';
  return absl::OkStatus();
}

void AddSeriesCommands(CLI::App& app, CommandContext& context) {
  const std::string kTrialsHelp =
      "Trial ids, or [SWEEP] and conditions as results takes them, e.g. tiny activation=tanh "
      "'depth>=3' (or depth:ge:3)";
  auto add_attempt = [](CLI::App* command, std::optional<int>* attempt) {
    command->add_option_function<int>(
        "--attempt", [attempt](const int& value) { *attempt = value; },
        "Attempt to read (default: the latest)");
  };

  auto curves = std::make_shared<CurvesOptions>();
  CLI::App* curves_command =
      app.add_subcommand("curves", "Test error and losses per checkpoint, as CSV");
  curves_command->add_option("TRIAL", curves->trials, kTrialsHelp)->required();
  add_attempt(curves_command, &curves->attempt);
  AddFormatOption(curves_command, &curves->format);
  curves_command->callback(
      [&context, curves] { context.Run([&] { return ShowCurves(context, *curves); }); });

  auto layers = std::make_shared<LayersOptions>();
  CLI::App* layers_command =
      app.add_subcommand("layers", "Per-layer statistics per checkpoint, as CSV");
  layers_command->add_option("TRIAL", layers->trials, kTrialsHelp)->required();
  add_attempt(layers_command, &layers->attempt);
  layers_command->add_option("--quantity", layers->quantity,
                             "activation, backprop_grad or weight_grad (default: all)");
  layers_command->add_option_function<int>(
      "--layer", [layers](const int& value) { layers->layer = value; },
      "Only this hidden layer (1-based)");
  layers_command->add_flag("--histogram", layers->histogram, "Add the histogram bins");
  AddFormatOption(layers_command, &layers->format);
  layers_command->callback(
      [&context, layers] { context.Run([&] { return ShowLayers(context, *layers); }); });

  auto attempts = std::make_shared<AttemptsOptions>();
  CLI::App* attempts_command = app.add_subcommand(
      "attempts",
      "Each attempt of the trials: where it started and got to, the updates it redid after an "
      "interruption, the snapshots taken; --per-trial adds them up per trial");
  attempts_command->add_option("TRIAL", attempts->trials, kTrialsHelp)->required();
  attempts_command->add_flag("--per-trial", attempts->per_trial,
                             "One row per trial: attempts, interruptions, updates redone, "
                             "snapshots and the latest snapshot's step");
  AddFormatOption(attempts_command, &attempts->format);
  attempts_command->callback(
      [&context, attempts] { context.Run([&] { return ShowAttempts(context, *attempts); }); });

  auto plot = std::make_shared<PlotOptions>();
  CLI::App* plot_command = app.add_subcommand(
      "plot",
      "Draw a figure like the paper's to PNG, SVG or PDF (gnuplot). KIND: activations (Fig. 2), "
      "percentiles "
      "(Figs. 3, 10), histogram (Figs. 4, 6-8), gradient-std (Fig. 9), test-error (Fig. 11), "
      "jacobian");
  plot_command->add_option("KIND", plot->kind, "Which figure")->required();
  plot_command->add_option("TRIAL", plot->trials, kTrialsHelp)->required();
  plot_command->add_option("-o,--out", plot->out, "Image to write: FILE.png, FILE.svg or FILE.pdf")
      ->required();
  add_attempt(plot_command, &plot->attempt);
  plot_command->add_option("--quantity", plot->quantity,
                           "activation, backprop_grad or weight_grad (default: the figure's)");
  plot_command->add_option_function<int64_t>(
      "--step", [plot](const int64_t& value) { plot->step = value; },
      "histogram, jacobian: the last checkpoint at or before this step (default: the last)");
  plot_command->add_flag("--log-y", plot->log_y, "Logarithmic y axis");
  plot_command->add_option("--size", plot->size, "Image size WIDTHxHEIGHT")->capture_default_str();
  plot_command->add_option("--title", plot->title, "Title (default: describes the figure)");
  plot_command->add_option("--script-dir", plot->script_dir,
                           "Keep the gnuplot script and data files in this directory");
  plot_command->add_option("--x", plot->x_axis, "x axis: examples (seen), updates or epochs")
      ->capture_default_str();
  plot_command->add_flag("--bands", plot->bands,
                         "test-error: one line per configuration, the mean across its seeds, in "
                         "a confidence band");
  plot_command->add_option("--confidence", plot->confidence, "Confidence level of the bands")
      ->capture_default_str();
  plot_command->add_flag("--ids", plot->ids, "Show trial ids in legends and titles");
  plot_command->callback([&context, plot] { context.Run([&] { return Plot(context, *plot); }); });
}

}  // namespace deepsweep::client
