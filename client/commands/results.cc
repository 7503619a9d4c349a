#include "client/commands/results.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/format.h"
#include "client/summary.h"
#include "client/trial_filter.h"
#include "common/status_macros.h"
#include "core/paper_table.h"
#include "core/trial_fields.h"

namespace deepsweep::client {
namespace {

Value Optional(const std::optional<double>& value) {
  return value.has_value() ? Value{*value} : Value{};
}

struct ResultColumn {
  std::string_view name;
  Value (*get)(const TrialRecord& trial);
  int precision = 4;
};

const std::array<ResultColumn, 25> kResultColumns = {{
    {"id", [](const TrialRecord& t) { return Value{t.id}; }},
    {"sweep_id", [](const TrialRecord& t) { return Value{t.sweep_id}; }},
    {"index", [](const TrialRecord& t) { return Value{int64_t{t.index}}; }},
    {"state", [](const TrialRecord& t) { return Value{std::string(TrialStateName(t.state))}; }},
    {"dataset", [](const TrialRecord& t) { return Value{t.spec.dataset.name}; }},
    {"activation", [](const TrialRecord& t) { return Value{t.spec.activation}; }},
    {"init", [](const TrialRecord& t) { return Value{t.spec.init}; }},
    {"depth", [](const TrialRecord& t) { return Value{int64_t{t.spec.depth}}; }},
    {"width", [](const TrialRecord& t) { return Value{int64_t{t.spec.width}}; }},
    {"learning_rate", [](const TrialRecord& t) { return Value{t.spec.learning_rate}; }, 6},
    {"momentum", [](const TrialRecord& t) { return Value{t.spec.momentum}; }},
    {"batch_size", [](const TrialRecord& t) { return Value{int64_t{t.spec.batch_size}}; }},
    {"loss", [](const TrialRecord& t) { return Value{t.spec.loss}; }},
    {"seed", [](const TrialRecord& t) { return Value{static_cast<int64_t>(t.spec.seed)}; }},
    {"seed_index", [](const TrialRecord& t) { return Value{int64_t{t.spec.seed_index}}; }},
    {"data_seed",
     [](const TrialRecord& t) { return Value{static_cast<int64_t>(t.spec.data_seed)}; }},
    {"attempt", [](const TrialRecord& t) { return Value{int64_t{t.attempt}}; }},
    {"steps_done", [](const TrialRecord& t) { return Value{t.steps_done}; }},
    {"final_test_error", [](const TrialRecord& t) { return Optional(t.final_test_error); }},
    {"final_test_nll", [](const TrialRecord& t) { return Optional(t.final_test_nll); }},
    {"final_validation_error",
     [](const TrialRecord& t) { return Optional(t.final_validation_error); }},
    {"worker_id", [](const TrialRecord& t) { return Value{t.worker_id}; }},
    {"reason", [](const TrialRecord& t) { return Value{t.reason}; }},
    {"updated_at",
     [](const TrialRecord& t) {
       return Value{absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t.updated_at, absl::UTCTimeZone())};
     }},
    // Where the sweep's schedule stopped the trial (pruned, or diverged by
    // the stuck rule); empty otherwise.
    {"rung", [](const TrialRecord& t) { return t.rung.has_value() ? Value{*t.rung} : Value{}; }},
}};

const std::vector<std::string> kCompactColumns = {
    "id",         "sweep_id", "state",      "dataset",          "activation",
    "init",       "depth",    "width",      "learning_rate",    "batch_size",
    "seed_index", "attempt",  "steps_done", "final_test_error", "reason"};

absl::StatusOr<const ResultColumn*> FindResultColumn(const std::string& name) {
  for (const ResultColumn& column : kResultColumns) {
    if (column.name == name) return &column;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown column '", name, "' (known: ", absl::StrJoin(ResultColumns(), ", "), ")"));
}

}  // namespace

absl::StatusOr<std::vector<TrialRecord>> QueryTrials(CommandContext& context,
                                                     const std::vector<std::string>& args,
                                                     std::string sort, int64_t limit) {
  TrialFilterArgs filter;
  filter.sort = std::move(sort);
  filter.limit = limit;
  std::optional<std::string> sweep_ref;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i == 0 && !LooksLikeTrialCondition(args[i])) {
      sweep_ref = args[i];
    } else {
      filter.conditions.push_back(args[i]);
    }
  }
  // Parsed before connecting: a malformed filter never reaches the server.
  ASSIGN_OR_RETURN(TrialQuery query, ParseTrialQuery(filter));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  if (sweep_ref.has_value()) {
    ASSIGN_OR_RETURN(const SweepRecord sweep, ResolveSweep(*coordinator, *sweep_ref));
    query.sweep_id = sweep.id;
  }
  return coordinator->ListTrials(query);
}

namespace {

std::string Percent(double fraction, int decimals) {
  return absl::StrFormat("%.*f", decimals, 100 * fraction);
}

int64_t PrunedCount(absl::Span<const TrialRecord> trials) {
  return std::count_if(trials.begin(), trials.end(),
                       [](const TrialRecord& t) { return t.state == TrialState::kPruned; });
}

Table ConfigTable(const SweepSummary& summary, double confidence) {
  const std::string level = absl::StrCat(static_cast<int>(std::lround(confidence * 100)));
  std::vector<Column> columns = {{"rank"}, {"best"}};
  for (const std::string& field : summary.fields) columns.push_back({field, 6});
  for (std::string name : {"n", "mean", "std"}) columns.push_back({name});
  columns.push_back({"ci" + level + "_low"});
  columns.push_back({"ci" + level + "_high"});
  for (std::string name : {"diverged", "failed", "unfinished"}) columns.push_back({name});
  // A "pruned" column only when some configuration has pruned trials.
  int64_t pruned = 0;
  for (const ConfigSummary& config : summary.configs) pruned += config.pruned;
  if (pruned > 0) columns.push_back({"pruned"});
  Table table(std::move(columns));
  int64_t rank = 0;
  for (const ConfigSummary& config : summary.configs) {
    std::vector<Value> row = {config.stats.has_value() ? Value{++rank} : Value{},
                              std::string(config.best ? "*" : "")};
    for (const Value& value : config.key) row.push_back(value);
    if (config.stats.has_value()) {
      const SampleSummary& s = *config.stats;
      row.push_back(s.n);
      row.push_back(s.mean);
      row.push_back(s.std.has_value() ? Value{*s.std} : Value{});
      row.push_back(s.ci_low.has_value() ? Value{*s.ci_low} : Value{});
      row.push_back(s.ci_high.has_value() ? Value{*s.ci_high} : Value{});
    } else {
      row.push_back(int64_t{0});
      row.insert(row.end(), 4, Value{});
    }
    row.push_back(config.diverged);
    row.push_back(config.failed);
    row.push_back(config.unfinished);
    if (pruned > 0) row.push_back(config.pruned);
    table.AddRow(std::move(row));
  }
  return table;
}

// What `table` chose per cell, for its header.
std::string SelectionNote(const std::vector<TrialRecord>& trials) {
  std::vector<TrialSpec> specs;
  for (const TrialRecord& trial : trials) {
    if (trial.state == TrialState::kSucceeded) specs.push_back(trial.spec);
  }
  std::vector<std::string> chosen;
  for (const SpecField* field : VaryingConfigFields(specs)) {
    if (field->name != "activation" && field->name != "init" && field->name != "dataset") {
      chosen.emplace_back(field->name);
    }
  }
  if (chosen.empty())
    return "each cell is the one configuration of its activation, init and dataset";
  return absl::StrCat(
      "each cell: of its activation, init and dataset, the configuration (",
      absl::StrJoin(chosen, ", "),
      ") with the lowest mean validation error, as the paper chose (test error where trials have "
      "none, flagged below); the choices are listed below");
}

// FAILED_PRECONDITION when `trials` come from sweeps that train for different
// budgets (updates x batch size): their errors are not comparable cells.
absl::Status CheckOneBudget(CommandContext& context, const std::vector<TrialRecord>& trials) {
  std::map<SweepId, std::set<int64_t>> budgets;
  for (const TrialRecord& trial : trials) {
    budgets[trial.sweep_id].insert(static_cast<int64_t>(trial.spec.updates) *
                                   trial.spec.batch_size);
  }
  if (budgets.size() < 2) return absl::OkStatus();
  const std::set<int64_t>& first = budgets.begin()->second;
  if (std::all_of(budgets.begin(), budgets.end(),
                  [&](const auto& entry) { return entry.second == first; })) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  std::vector<std::string> parts;
  for (const auto& [sweep_id, examples] : budgets) {
    std::string name;
    if (absl::StatusOr<SweepRecord> sweep = coordinator->GetSweep(sweep_id); sweep.ok()) {
      name = absl::StrCat(" '", sweep->name, "'");
    }
    std::vector<std::string> amounts;
    for (int64_t e : examples) amounts.push_back(absl::StrCat(e));
    parts.push_back(
        absl::StrCat("sweep ", sweep_id, name, ": ", absl::StrJoin(amounts, ", "), " examples"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the trials come from sweeps with different training budgets (updates x batch size: ",
      absl::StrJoin(parts, "; "),
      "): name one sweep, or pass --mix-budgets to put them in one table anyway"));
}

Table ComparisonTable(const SweepSummary& summary) {
  Table table({{"a"}, {"b"}, {"difference"}, {"t"}, {"df"}, {"p"}, {"p_holm"}, {"significant"}});
  for (const ConfigComparison& c : summary.comparisons) {
    table.AddRow({summary.configs[c.a].label, summary.configs[c.b].label, c.welch.mean_difference,
                  c.welch.t, c.welch.df, c.welch.p_value, c.p_holm,
                  std::string(c.significant ? "yes" : "no")});
  }
  return table;
}

}  // namespace

const std::vector<std::string>& ResultColumns() {
  static const auto* const names = [] {
    auto* list = new std::vector<std::string>();
    for (const ResultColumn& column : kResultColumns) list->emplace_back(column.name);
    return list;
  }();
  return *names;
}

absl::Status ShowResults(CommandContext& context, const ResultsOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  const std::vector<std::string>& names =
      !options.columns.empty()
          ? options.columns
          : (format == OutputFormat::kTable ? kCompactColumns : ResultColumns());
  std::vector<const ResultColumn*> selected;
  std::vector<Column> columns;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(const ResultColumn* column, FindResultColumn(name));
    selected.push_back(column);
    columns.push_back({name, column->precision});
  }
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials,
                   QueryTrials(context, options.args, options.sort, options.limit));
  Table table(std::move(columns));
  for (const TrialRecord& trial : trials) {
    std::vector<Value> row;
    for (const ResultColumn* column : selected) row.push_back(column->get(trial));
    table.AddRow(std::move(row));
  }
  WriteTable(table, format, context.out());
  return absl::OkStatus();
}

absl::Status ShowSummary(CommandContext& context, const SummaryCommandOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  SummaryOptions summary_options;
  summary_options.by = options.by;
  summary_options.confidence = options.confidence;
  summary_options.all_pairs = options.all_pairs;
  // Checked before any call, so a bad option never waits on the network.
  RETURN_IF_ERROR(SummarizeTrials({}, summary_options).status());
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials,
                   QueryTrials(context, options.args, "id", 0));
  ASSIGN_OR_RETURN(const SweepSummary summary, SummarizeTrials(trials, summary_options));
  const Table configs = ConfigTable(summary, options.confidence);
  const Table comparisons = ComparisonTable(summary);
  std::ostream& out = context.out();
  switch (format) {
    case OutputFormat::kCsv:
      WriteTable(options.comparisons ? comparisons : configs, format, out);
      return absl::OkStatus();
    case OutputFormat::kJson: {
      JsonWriter json(out, 2);
      json.BeginObject().Key("fields").BeginArray();
      for (const std::string& field : summary.fields) json.String(field);
      json.EndArray().Key("confidence").Number(options.confidence);
      json.Key("configs");
      WriteJsonRows(configs, json);
      json.Key("comparisons");
      WriteJsonRows(comparisons, json);
      json.EndObject();
      out << '\n';
      return absl::OkStatus();
    }
    case OutputFormat::kTable:
      break;
  }
  if (summary.configs.empty()) {
    out << "no trials match\n";
    return absl::OkStatus();
  }
  out << "final test error (a fraction: 0.05 = 5%) of succeeded trials by "
      << (summary.fields.empty() ? std::string("(one configuration)")
                                 : absl::StrJoin(summary.fields, ", "))
      << ": mean, sample std and " << FormatShortest(100 * options.confidence)
      << "% CI (Student's t) across seeds; * = lowest mean\n";
  WriteTable(configs, format, out);
  if (const int64_t pruned = PrunedCount(trials); pruned > 0) {
    out << pruned << " pruned trials (stopped early by the sweep's schedule) are not ranked\n";
  }
  if (summary.comparisons.empty()) {
    out << "\nno comparisons (they need 2 or more succeeded trials per configuration)\n";
    return absl::OkStatus();
  }
  out << "\nWelch's t-test, "
      << (options.all_pairs ? "every pair" : "the best against each other configuration")
      << "; p_holm = Holm-adjusted over the " << summary.comparisons.size()
      << " comparisons, significant at 0.05\n";
  WriteTable(comparisons, format, out);
  return absl::OkStatus();
}

absl::Status ShowPaperTable(CommandContext& context, const PaperTableOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  RETURN_IF_ERROR(BuildPaperTable(absl::Span<const TrialRecord>(), options.confidence).status());
  ASSIGN_OR_RETURN(const std::vector<TrialRecord> trials,
                   QueryTrials(context, options.args, "id", 0));
  if (!options.mix_budgets) RETURN_IF_ERROR(CheckOneBudget(context, trials));
  ASSIGN_OR_RETURN(const PaperTable paper, BuildPaperTable(trials, options.confidence));
  std::vector<Column> columns = {{"activation"}, {"init"}};
  for (const std::string& dataset : paper.datasets) {
    if (format == OutputFormat::kTable) {
      columns.push_back({dataset});
    } else {
      for (const char* suffix : {"_mean", "_ci_half", "_n", "_selected"}) {
        columns.push_back({dataset + suffix});
      }
    }
  }
  Table table(std::move(columns));
  std::vector<std::string> notes;
  for (const PaperRow& row : paper.rows) {
    std::vector<Value> values = {row.activation, row.init};
    for (const std::string& dataset : paper.datasets) {
      auto it = row.cells.find(dataset);
      if (it == row.cells.end()) {
        values.insert(values.end(), format == OutputFormat::kTable ? 1 : 4, Value{});
        continue;
      }
      const PaperCell& cell = it->second;
      const SampleSummary& s = cell.test_error;
      if (format == OutputFormat::kTable) {
        std::string text = Percent(s.mean, 2);
        if (s.ci_half.has_value()) absl::StrAppend(&text, " ± ", Percent(*s.ci_half, 2));
        absl::StrAppend(&text, " (n=", s.n, ")");
        values.push_back(text);
      } else {
        values.push_back(s.mean);
        values.push_back(s.ci_half.has_value() ? Value{*s.ci_half} : Value{});
        values.push_back(s.n);
        values.push_back(cell.selected);
      }
      if (cell.candidates > 1) {
        notes.push_back(absl::StrCat(
            row.activation, " ", row.init, " / ", dataset, ": ", cell.selected, " (best of ",
            cell.candidates, " by ",
            cell.selected_on_test ? "TEST error: no validation error" : "validation error", ")"));
      }
    }
    table.AddRow(std::move(values));
  }
  if (format != OutputFormat::kTable) {
    WriteTable(table, format, context.out());
    return absl::OkStatus();
  }
  context.out() << "test error (%) of succeeded trials, mean ± "
                << FormatShortest(100 * options.confidence)
                << "% CI half-width across seeds (n = seeds)\n"
                << SelectionNote(trials) << '\n';
  WriteTable(table, format, context.out());
  if (const int64_t pruned = PrunedCount(trials); pruned > 0) {
    context.out() << pruned
                  << " pruned trials (stopped early by the sweep's schedule) are not counted; "
                     "each cell chooses among succeeded trials\n";
  }
  if (!notes.empty()) {
    context.out() << "\nhyperparameters chosen per cell:\n";
    for (const std::string& note : notes) context.out() << "  " << note << '\n';
  }
  return absl::OkStatus();
}

void AddResultCommands(CLI::App& app, CommandContext& context) {
  const std::string filter_help =
      "[SWEEP] then conditions such as activation=tanh 'depth>=3' state=succeeded (quote < and "
      ">, or write depth:ge:3; ops eq ne lt le gt ge)";

  auto results = std::make_shared<ResultsOptions>();
  CLI::App* results_command = app.add_subcommand("results", "List trials with their results");
  results_command->add_option("FILTER", results->args, filter_help);
  results_command->add_option("--sort", results->sort, "Order by this field; -field = descending")
      ->capture_default_str();
  results_command->add_option("--limit", results->limit, "At most this many trials (0 = all)");
  results_command
      ->add_option("--columns", results->columns,
                   "Columns to show, comma-separated: " + absl::StrJoin(ResultColumns(), ","))
      ->delimiter(',');
  AddFormatOption(results_command, &results->format);
  results_command->callback(
      [&context, results] { context.Run([&] { return ShowResults(context, *results); }); });

  auto summary = std::make_shared<SummaryCommandOptions>();
  CLI::App* summary_command = app.add_subcommand(
      "summary", "Final test error per configuration across seeds, with comparisons");
  summary_command->add_option("FILTER", summary->args, filter_help);
  summary_command
      ->add_option("--by", summary->by, "Group by these fields (default: the ones that vary)")
      ->delimiter(',');
  summary_command->add_option("--confidence", summary->confidence, "Confidence level")
      ->capture_default_str();
  summary_command->add_flag("--all-pairs", summary->all_pairs,
                            "Compare every pair, not just the best against each other");
  summary_command->add_flag("--comparisons", summary->comparisons,
                            "With --format csv: print the comparisons");
  AddFormatOption(summary_command, &summary->format);
  summary_command->callback(
      [&context, summary] { context.Run([&] { return ShowSummary(context, *summary); }); });

  auto paper = std::make_shared<PaperTableOptions>();
  CLI::App* table_command =
      app.add_subcommand("table", "The paper's Table 1: test error by activation+init x dataset");
  table_command->add_option("FILTER", paper->args, filter_help);
  table_command->add_option("--confidence", paper->confidence, "Confidence level")
      ->capture_default_str();
  table_command->add_flag("--mix-budgets", paper->mix_budgets,
                          "Allow trials of sweeps with different training budgets in one table");
  AddFormatOption(table_command, &paper->format);
  table_command->callback(
      [&context, paper] { context.Run([&] { return ShowPaperTable(context, *paper); }); });
}

}  // namespace deepsweep::client
