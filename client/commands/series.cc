#include "client/commands/series.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/format.h"
#include "client/plot.h"
#include "client/trial_fields.h"
#include "common/status_macros.h"

namespace deepsweep::client {
namespace {

absl::StatusOr<std::vector<TrialId>> ParseTrialIds(const std::vector<std::string>& texts) {
  if (texts.empty()) return absl::InvalidArgumentError("name at least one trial id");
  std::vector<TrialId> ids;
  for (const std::string& text : texts) {
    ASSIGN_OR_RETURN(const TrialId id, ParseTrialId(text));
    ids.push_back(id);
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

// A trial's record and checkpoints; NOT_FOUND says which trial is missing.
struct TrialData {
  TrialRecord trial;
  std::vector<Checkpoint> checkpoints;
};

absl::StatusOr<TrialData> FetchTrial(rpc::CoordinatorClient& coordinator, TrialId id,
                                     std::optional<int> attempt, bool with_layer_stats) {
  TrialData data;
  absl::StatusOr<TrialRecord> trial = coordinator.GetTrial(id);
  if (trial.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("no trial ", id));
  }
  RETURN_IF_ERROR(trial.status());
  data.trial = *std::move(trial);
  ASSIGN_OR_RETURN(data.checkpoints, coordinator.GetCheckpoints(id, attempt, with_layer_stats));
  return data;
}

absl::StatusOr<std::vector<TrialData>> FetchTrials(CommandContext& context,
                                                   const std::vector<std::string>& texts,
                                                   std::optional<int> attempt,
                                                   bool with_layer_stats) {
  ASSIGN_OR_RETURN(const std::vector<TrialId> ids, ParseTrialIds(texts));
  ASSIGN_OR_RETURN(rpc::CoordinatorClient * coordinator, context.Reader());
  std::vector<TrialData> trials;
  for (TrialId id : ids) {
    ASSIGN_OR_RETURN(TrialData data, FetchTrial(*coordinator, id, attempt, with_layer_stats));
    trials.push_back(std::move(data));
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

std::string HistogramText(const std::vector<float>& bins) {
  std::vector<std::string> parts;
  parts.reserve(bins.size());
  for (float bin : bins) parts.push_back(FormatShortest(bin));
  return absl::StrJoin(parts, " ");
}

}  // namespace

absl::Status ShowCurves(CommandContext& context, const CurvesOptions& options) {
  ASSIGN_OR_RETURN(const OutputFormat format, ParseOutputFormat(options.format));
  ASSIGN_OR_RETURN(const std::vector<TrialData> trials,
                   FetchTrials(context, options.trials, options.attempt, false));
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
                   FetchTrials(context, options.trials, options.attempt, true));
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
        std::vector<Value> row = {data.trial.id,
                                  c.step,
                                  c.examples_seen,
                                  int64_t{s.layer},
                                  std::string(LayerQuantityName(s.quantity)),
                                  s.mean,
                                  s.std,
                                  s.p02,
                                  s.p50,
                                  s.p98,
                                  s.saturated_fraction,
                                  s.jacobian_sv_mean};
        if (options.histogram) {
          row.push_back(s.hist_lo);
          row.push_back(s.hist_hi);
          row.push_back(HistogramText(s.histogram));
        }
        table.AddRow(std::move(row));
      }
    }
  }
  WriteTable(table, format, context.out());
  return absl::OkStatus();
}

absl::Status Plot(CommandContext& context, const PlotOptions& options) {
  ASSIGN_OR_RETURN(const FigureKind kind, ParseFigureKind(options.kind));
  if (options.out.empty()) return absl::InvalidArgumentError("--out FILE.png is required");
  FigureOptions figure_options;
  ASSIGN_OR_RETURN(figure_options.quantity, ParseQuantity(options.quantity));
  ASSIGN_OR_RETURN(std::tie(figure_options.width, figure_options.height), ParseSize(options.size));
  figure_options.step = options.step;
  figure_options.log_y = options.log_y;
  figure_options.title = options.title;
  const bool needs_layers = kind != FigureKind::kTestError;
  ASSIGN_OR_RETURN(std::vector<TrialData> trials,
                   FetchTrials(context, options.trials, options.attempt, needs_layers));
  std::vector<TrialSeries> series;
  for (TrialData& data : trials) {
    series.push_back({TrialLabel(data.trial.id, data.trial.spec), std::move(data.checkpoints)});
  }
  ASSIGN_OR_RETURN(const GnuplotFigure figure, BuildFigure(kind, series, figure_options));
  GnuplotOptions gnuplot;
  gnuplot.work_dir = options.script_dir;
  RETURN_IF_ERROR(RenderPng(figure, options.out, gnuplot));
  context.out() << "wrote " << options.out << '\n';
  return absl::OkStatus();
}

void AddSeriesCommands(CLI::App& app, CommandContext& context) {
  auto add_attempt = [](CLI::App* command, std::optional<int>* attempt) {
    command->add_option_function<int>(
        "--attempt", [attempt](const int& value) { *attempt = value; },
        "Attempt to read (default: the latest)");
  };

  auto curves = std::make_shared<CurvesOptions>();
  CLI::App* curves_command =
      app.add_subcommand("curves", "Test error and losses per checkpoint, as CSV");
  curves_command->add_option("TRIAL", curves->trials, "Trial ids")->required();
  add_attempt(curves_command, &curves->attempt);
  AddFormatOption(curves_command, &curves->format);
  curves_command->callback(
      [&context, curves] { context.Run([&] { return ShowCurves(context, *curves); }); });

  auto layers = std::make_shared<LayersOptions>();
  CLI::App* layers_command =
      app.add_subcommand("layers", "Per-layer statistics per checkpoint, as CSV");
  layers_command->add_option("TRIAL", layers->trials, "Trial ids")->required();
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

  auto plot = std::make_shared<PlotOptions>();
  CLI::App* plot_command = app.add_subcommand(
      "plot",
      "Draw a figure like the paper's to PNG (gnuplot). KIND: activations (Fig. 2), percentiles "
      "(Figs. 3, 10), histogram (Figs. 4, 6-8), gradient-std (Fig. 9), test-error (Fig. 11), "
      "jacobian");
  plot_command->add_option("KIND", plot->kind, "Which figure")->required();
  plot_command->add_option("TRIAL", plot->trials, "Trial ids")->required();
  plot_command->add_option("-o,--out", plot->out, "PNG file to write")->required();
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
  plot_command->callback([&context, plot] { context.Run([&] { return Plot(context, *plot); }); });
}

}  // namespace deepsweep::client
