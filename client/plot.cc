#include "client/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client/format.h"
#include "common/status_macros.h"
#include "core/stats.h"

extern char** environ;

namespace deepsweep::client {
namespace {

namespace fs = std::filesystem;

absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

// A gnuplot single-quoted string: no escapes inside, a quote is doubled.
std::string Quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  quoted += '\'';
  return quoted;
}

std::string QuantityTitle(LayerQuantity quantity) {
  switch (quantity) {
    case LayerQuantity::kActivation:
      return "activation values";
    case LayerQuantity::kBackpropGrad:
      return "back-propagated gradients";
    case LayerQuantity::kWeightGrad:
      return "weight gradients";
  }
  return "values";
}

// Okabe-Ito's colour-blind-safe colours without its yellow, then Tol's darker
// ones: distinct from each other and readable on white.
constexpr std::array<const char*, 12> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                  "#E69F00", "#56B4E9", "#000000", "#882255",
                                                  "#44AA99", "#999933", "#AA4499", "#661100"};

std::string Colour(size_t series) { return kPalette[series % kPalette.size()]; }

// Line colour and dash of the series-th series (0-based): the palette, then
// the palette again dashed.
std::string SeriesStyle(size_t series) {
  return absl::StrCat("lc rgb '", Colour(series), "' dt ", series / kPalette.size() % 5 + 1);
}

// Below the plot for a few short entries; to its right, one per line, for
// many short ones; long labels (a configuration's fields) below, one per line,
// since beside the plot they would squeeze it to a sliver.
std::string KeyPlacement(size_t entries, size_t longest_label) {
  if (longest_label > 40) return "set key below vertical maxcols 1\n";
  if (entries > 6) return "set key outside right top vertical\n";
  return "set key below\n";
}

// The x column's name in data files.
const char* XAxisColumn(XAxis x_axis) {
  switch (x_axis) {
    case XAxis::kExamples:
      return "examples_seen";
    case XAxis::kUpdates:
      return "updates";
    case XAxis::kEpochs:
      return "epochs";
  }
  return "";
}

const char* XAxisLabel(XAxis x_axis) {
  switch (x_axis) {
    case XAxis::kExamples:
      return "examples seen";
    case XAxis::kUpdates:
      return "updates";
    case XAxis::kEpochs:
      return "epochs";
  }
  return "";
}

// FAILED_PRECONDITION when the x axis cannot be drawn for `trial`.
absl::Status CheckXAxis(const TrialSeries& trial, XAxis x_axis) {
  if (x_axis != XAxis::kEpochs || trial.epoch_examples > 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "--x epochs needs the training-set size, which ", trial.label,
      " does not state (train_examples 0: an online stream or a whole split); use --x examples "
      "or --x updates"));
}

// A checkpoint's position on the x axis, as text for a data file.
std::string XText(const Checkpoint& checkpoint, const TrialSeries& trial, XAxis x_axis) {
  switch (x_axis) {
    case XAxis::kUpdates:
      return absl::StrCat(checkpoint.step);
    case XAxis::kEpochs:
      return FormatShortest(static_cast<double>(checkpoint.examples_seen) /
                            static_cast<double>(trial.epoch_examples));
    case XAxis::kExamples:
      break;
  }
  return absl::StrCat(checkpoint.examples_seen);
}

LayerQuantity QuantityFor(FigureKind kind, const FigureOptions& options) {
  if (options.quantity.has_value()) return *options.quantity;
  return kind == FigureKind::kGradientStd ? LayerQuantity::kWeightGrad : LayerQuantity::kActivation;
}

const LayerStat* FindStat(const Checkpoint& checkpoint, int layer, LayerQuantity quantity) {
  for (const LayerStat& stat : checkpoint.layer_stats) {
    if (stat.layer == layer && stat.quantity == quantity) return &stat;
  }
  return nullptr;
}

// The hidden layers that have statistics of `quantity` in any checkpoint.
std::vector<int> LayersWith(const std::vector<Checkpoint>& checkpoints, LayerQuantity quantity) {
  std::vector<int> layers;
  for (const Checkpoint& checkpoint : checkpoints) {
    for (const LayerStat& stat : checkpoint.layer_stats) {
      if (stat.quantity == quantity) layers.push_back(stat.layer);
    }
  }
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  return layers;
}

absl::Status NeedCheckpoints(const TrialSeries& trial) {
  if (!trial.checkpoints.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(trial.label, " has no checkpoints yet"));
}

absl::StatusOr<std::vector<int>> NeedLayers(const TrialSeries& trial, LayerQuantity quantity) {
  std::vector<int> layers = LayersWith(trial.checkpoints, quantity);
  if (layers.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(trial.label, " has no ", AbslView(LayerQuantityName(quantity)),
                     " statistics (the trial stored no layer statistics)"));
  }
  return layers;
}

// The last checkpoint at or before `step` (the last one when unset).
absl::StatusOr<const Checkpoint*> CheckpointAt(const TrialSeries& trial,
                                               std::optional<int64_t> step) {
  RETURN_IF_ERROR(NeedCheckpoints(trial));
  const Checkpoint* chosen = nullptr;
  for (const Checkpoint& checkpoint : trial.checkpoints) {
    if (step.has_value() && checkpoint.step > *step) continue;
    if (chosen == nullptr || checkpoint.step > chosen->step) chosen = &checkpoint;
  }
  if (chosen == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(trial.label, " has no checkpoint at or before step ", *step,
                     " (the first is at step ", trial.checkpoints.front().step, ")"));
  }
  return chosen;
}

absl::Status NeedOneTrial(FigureKind kind, absl::Span<const TrialSeries> trials) {
  if (trials.size() == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("the ", AbslView(FigureKindName(kind)),
                                                 " figure shows one trial, got ", trials.size()));
}

// Lines common to every figure; `labels` are the legend's entries.
std::string Preamble(const std::string& title, std::string_view xlabel, std::string_view ylabel,
                     const std::vector<std::string>& labels, const FigureOptions& options) {
  size_t longest = 0;
  for (const std::string& label : labels) longest = std::max(longest, label.size());
  std::string script = absl::StrCat(
      "set encoding utf8\n", "set termoption noenhanced\n", "set title ", Quote(title), "\n",
      "set xlabel ", Quote(xlabel), "\n", "set ylabel ", Quote(ylabel), "\n", "set grid\n",
      KeyPlacement(labels.size(), longest),
      // Ranges hug the data, plus a margin that keeps points and
      // error bars at the edges off the border.
      "set autoscale fix\n", "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n");
  if (options.log_y) absl::StrAppend(&script, "set logscale y\n");
  return script;
}

std::string DefaultOr(const FigureOptions& options, std::string fallback) {
  return options.title.empty() ? std::move(fallback) : options.title;
}

// One file per layer with every over-training statistic:
//   examples_seen mean std p02 p50 p98 (columns 1..6)
absl::StatusOr<GnuplotFigure> OverTraining(FigureKind kind, const TrialSeries& trial,
                                           const FigureOptions& options) {
  RETURN_IF_ERROR(NeedCheckpoints(trial));
  RETURN_IF_ERROR(CheckXAxis(trial, options.x_axis));
  const LayerQuantity quantity = QuantityFor(kind, options);
  ASSIGN_OR_RETURN(const std::vector<int> layers, NeedLayers(trial, quantity));
  GnuplotFigure figure;
  std::vector<std::string> plots;
  std::vector<std::string> labels;
  for (size_t i = 0; i < layers.size(); ++i) {
    const int layer = layers[i];
    std::string data = absl::StrCat("# ", XAxisColumn(options.x_axis), " mean std p02 p50 p98\n");
    for (const Checkpoint& checkpoint : trial.checkpoints) {
      const LayerStat* stat = FindStat(checkpoint, layer, quantity);
      if (stat == nullptr) continue;
      absl::StrAppend(&data, XText(checkpoint, trial, options.x_axis), " ",
                      FormatShortest(stat->mean), " ", FormatShortest(stat->std), " ",
                      FormatShortest(stat->p02), " ", FormatShortest(stat->p50), " ",
                      FormatShortest(stat->p98), "\n");
    }
    const std::string file = absl::StrCat("layer", layer, ".dat");
    const std::string name = absl::StrCat("layer ", layer);
    labels.push_back(name);
    const std::string style = SeriesStyle(i);
    switch (kind) {
      case FigureKind::kActivations:
        plots.push_back(absl::StrCat(Quote(file), " using 1:2:3 with yerrorlines ", style,
                                     " pt 7 ps 0.6 title ", Quote(name)));
        break;
      case FigureKind::kPercentiles:
        // One legend entry per layer; the title says which mark is which.
        plots.push_back(
            absl::StrCat(Quote(file), " using 1:6 with points ", style, " pt 7 notitle"));
        plots.push_back(absl::StrCat(Quote(file), " using 1:3 with linespoints ", style,
                                     " pt 6 title ", Quote(name)));
        break;
      default:  // kGradientStd
        plots.push_back(absl::StrCat(Quote(file), " using 1:3 with linespoints ", style,
                                     " pt 7 ps 0.6 title ", Quote(name)));
    }
    figure.data_files.emplace_back(file, std::move(data));
  }
  const std::string what = QuantityTitle(quantity);
  std::string title;
  std::string ylabel;
  switch (kind) {
    case FigureKind::kActivations:
      title = absl::StrCat("Mean and std (bars) of ", what, " per layer — ", trial.label);
      ylabel = what;
      break;
    case FigureKind::kPercentiles:
      title =
          absl::StrCat("98th percentile (points) and std (lines) of ", what, " — ", trial.label);
      ylabel = what;
      break;
    default:
      title = absl::StrCat("Standard deviation of ", what, " per layer — ", trial.label);
      ylabel = absl::StrCat("std of ", what);
  }
  figure.script = absl::StrCat(
      Preamble(DefaultOr(options, title), XAxisLabel(options.x_axis), ylabel, labels, options),
      "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return figure;
}

// One file per layer: bin_center density, density = fraction / bin width, so
// layers with different histogram ranges stay comparable.
absl::StatusOr<GnuplotFigure> Histogram(const TrialSeries& trial, const FigureOptions& options) {
  const LayerQuantity quantity = QuantityFor(FigureKind::kHistogram, options);
  ASSIGN_OR_RETURN(const Checkpoint* checkpoint, CheckpointAt(trial, options.step));
  GnuplotFigure figure;
  std::vector<std::string> plots;
  std::vector<const LayerStat*> stats;
  for (const LayerStat& stat : checkpoint->layer_stats) {
    if (stat.quantity == quantity && !stat.histogram.empty()) stats.push_back(&stat);
  }
  if (stats.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        trial.label, " has no ", AbslView(LayerQuantityName(quantity)), " histograms at step ",
        checkpoint->step, " (the trial stored no layer statistics)"));
  }
  std::sort(stats.begin(), stats.end(),
            [](const LayerStat* a, const LayerStat* b) { return a->layer < b->layer; });
  std::vector<std::string> labels;
  for (size_t s = 0; s < stats.size(); ++s) {
    const LayerStat* stat = stats[s];
    const double bins = static_cast<double>(stat->histogram.size());
    const double width = (stat->hist_hi - stat->hist_lo) / bins;
    if (!(width > 0)) {
      return absl::FailedPreconditionError(absl::StrCat(trial.label, ": layer ", stat->layer,
                                                        " has an empty histogram range [",
                                                        stat->hist_lo, ", ", stat->hist_hi, "]"));
    }
    std::string data = "# bin_center density\n";
    for (size_t i = 0; i < stat->histogram.size(); ++i) {
      const double center = stat->hist_lo + (static_cast<double>(i) + 0.5) * width;
      absl::StrAppend(&data, FormatShortest(center), " ",
                      FormatShortest(static_cast<double>(stat->histogram[i]) / width), "\n");
    }
    const std::string file = absl::StrCat("layer", stat->layer, ".dat");
    labels.push_back(absl::StrCat("layer ", stat->layer));
    plots.push_back(absl::StrCat(Quote(file), " using 1:2 with lines lw 2 ", SeriesStyle(s),
                                 " title ", Quote(labels.back())));
    figure.data_files.emplace_back(file, std::move(data));
  }
  const std::string what = QuantityTitle(quantity);
  const std::string title = absl::StrCat("Normalized histograms of ", what, " at step ",
                                         checkpoint->step, " — ", trial.label);
  figure.script =
      absl::StrCat(Preamble(DefaultOr(options, title), what, "density", labels, options), "plot ",
                   absl::StrJoin(plots, ", \\\n     "), "\n");
  return figure;
}

// test-error with bands: per group, at every step all its series have, the
// mean and the confidence interval across them:
//   x mean ci_low ci_high   (ci = mean for a group of one)
absl::StatusOr<GnuplotFigure> TestErrorBands(absl::Span<const TrialSeries> trials,
                                             const FigureOptions& options) {
  std::vector<std::string> groups;
  std::map<std::string, std::vector<const TrialSeries*>> members;
  for (const TrialSeries& trial : trials) {
    RETURN_IF_ERROR(NeedCheckpoints(trial));
    RETURN_IF_ERROR(CheckXAxis(trial, options.x_axis));
    const std::string group = trial.group.empty() ? trial.label : trial.group;
    if (members.find(group) == members.end()) groups.push_back(group);
    members[group].push_back(&trial);
  }
  GnuplotFigure figure;
  std::vector<std::string> plots;
  std::vector<std::string> labels;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<const TrialSeries*>& seeds = members[groups[g]];
    // step -> (checkpoint of the first seed, test errors)
    std::map<int64_t, std::pair<const Checkpoint*, std::vector<double>>> by_step;
    for (const TrialSeries* seed : seeds) {
      for (const Checkpoint& checkpoint : seed->checkpoints) {
        auto& [first, errors] = by_step[checkpoint.step];
        if (first == nullptr) first = &checkpoint;
        errors.push_back(checkpoint.test_error);
      }
    }
    std::string data = absl::StrCat("# ", XAxisColumn(options.x_axis), " mean ci_low ci_high\n");
    for (const auto& [step, entry] : by_step) {
      if (entry.second.size() != seeds.size()) continue;  // a step some seed lacks
      ASSIGN_OR_RETURN(const SampleSummary summary, Summarize(entry.second, options.confidence));
      absl::StrAppend(&data, XText(*entry.first, *seeds.front(), options.x_axis), " ",
                      FormatShortest(summary.mean), " ",
                      FormatShortest(summary.ci_low.value_or(summary.mean)), " ",
                      FormatShortest(summary.ci_high.value_or(summary.mean)), "\n");
    }
    const std::string file = absl::StrCat("group", g + 1, ".dat");
    labels.push_back(absl::StrCat(groups[g], " (n=", seeds.size(), ")"));
    plots.push_back(absl::StrCat(Quote(file), " using 1:3:4 with filledcurves fc rgb '", Colour(g),
                                 "' fs transparent solid 0.18 noborder notitle"));
    plots.push_back(absl::StrCat(Quote(file), " using 1:2 with lines lw 2 ", SeriesStyle(g),
                                 " title ", Quote(labels.back())));
    figure.data_files.emplace_back(file, std::move(data));
  }
  const std::string title =
      absl::StrCat("Test error during training: mean across seeds and its ",
                   FormatShortest(100 * options.confidence), "% confidence band");
  figure.script =
      absl::StrCat(Preamble(DefaultOr(options, title), XAxisLabel(options.x_axis), "test error",
                            labels, options),
                   "set yrange [0:*]\n", "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return figure;
}

absl::StatusOr<GnuplotFigure> TestError(absl::Span<const TrialSeries> trials,
                                        const FigureOptions& options) {
  if (options.bands) return TestErrorBands(trials, options);
  GnuplotFigure figure;
  std::vector<std::string> plots;
  std::vector<std::string> labels;
  for (size_t i = 0; i < trials.size(); ++i) {
    RETURN_IF_ERROR(NeedCheckpoints(trials[i]));
    RETURN_IF_ERROR(CheckXAxis(trials[i], options.x_axis));
    std::string data = absl::StrCat("# ", XAxisColumn(options.x_axis), " test_error\n");
    for (const Checkpoint& checkpoint : trials[i].checkpoints) {
      absl::StrAppend(&data, XText(checkpoint, trials[i], options.x_axis), " ",
                      FormatShortest(checkpoint.test_error), "\n");
    }
    const std::string file = absl::StrCat("trial", i + 1, ".dat");
    labels.push_back(trials[i].label);
    plots.push_back(absl::StrCat(Quote(file), " using 1:2 with linespoints lw 2 pt 7 ps 0.5 ",
                                 SeriesStyle(i), " title ", Quote(trials[i].label)));
    figure.data_files.emplace_back(file, std::move(data));
  }
  figure.script =
      absl::StrCat(Preamble(DefaultOr(options, "Test error during training"),
                            XAxisLabel(options.x_axis), "test error", labels, options),
                   "set yrange [0:*]\n", "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return figure;
}

absl::StatusOr<GnuplotFigure> Jacobian(absl::Span<const TrialSeries> trials,
                                       const FigureOptions& options) {
  GnuplotFigure figure;
  std::vector<std::string> plots;
  std::vector<std::string> labels;
  for (size_t i = 0; i < trials.size(); ++i) {
    ASSIGN_OR_RETURN(const Checkpoint* checkpoint, CheckpointAt(trials[i], options.step));
    std::map<int, double> by_layer;
    for (const LayerStat& stat : checkpoint->layer_stats) {
      if (stat.quantity == LayerQuantity::kActivation) by_layer[stat.layer] = stat.jacobian_sv_mean;
    }
    if (by_layer.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(trials[i].label, " has no activation statistics at step ", checkpoint->step,
                       " (the trial stored no layer statistics)"));
    }
    std::string data = "# layer jacobian_sv_mean\n";
    for (const auto& [layer, value] : by_layer) {
      absl::StrAppend(&data, layer, " ", FormatShortest(value), "\n");
    }
    const std::string file = absl::StrCat("trial", i + 1, ".dat");
    labels.push_back(absl::StrCat(trials[i].label, " (step ", checkpoint->step, ")"));
    plots.push_back(absl::StrCat(Quote(file), " using 1:2 with linespoints lw 2 pt 7 ",
                                 SeriesStyle(i), " title ", Quote(labels.back())));
    figure.data_files.emplace_back(file, std::move(data));
  }
  const std::string title =
      options.step.has_value()
          ? absl::StrCat("Mean singular value of the layer Jacobian at step ", *options.step)
          : std::string("Mean singular value of the layer Jacobian at the last checkpoint");
  figure.script =
      absl::StrCat(Preamble(DefaultOr(options, title), "hidden layer",
                            "mean singular value of diag(f'(s)) W", labels, options),
                   "set xtics 1\n", "set offsets 0.25, 0.25, graph 0.05, 0\n", "set yrange [0:*]\n",
                   "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return figure;
}

absl::Status WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// What gnuplot said, for an error message: its last few non-empty lines,
// without the script-name prefix (`"/tmp/.../figure.gp" line 3: ...`).
std::string GnuplotMessages(const fs::path& log, const fs::path& script) {
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string prefix = absl::StrCat("\"", script.string(), "\" ");
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text.str(), '\n', absl::SkipWhitespace())) {
    if (absl::StartsWith(line, prefix)) line.remove_prefix(prefix.size());
    lines.emplace_back(line);
  }
  constexpr size_t kKeep = 3;
  if (lines.size() > kKeep) lines.erase(lines.begin(), lines.end() - kKeep);
  return lines.empty() ? "no message" : absl::StrJoin(lines, "; ");
}

// Runs `program script` with stdout and stderr to `log`; returns its exit code.
absl::StatusOr<int> Run(const std::string& program, const fs::path& script, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string script_arg = script.string();
  std::string program_arg = program;
  char* argv[] = {program_arg.data(), script_arg.data(), nullptr};
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error == ENOENT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", program, "' not found: install gnuplot (Debian: gnuplot-nox) to draw plots"));
  }
  if (error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start '", program, "': ", std::strerror(error)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("waiting for '", program, "': ", std::strerror(errno)));
    }
  }
  if (WIFSIGNALED(status)) {
    return absl::InternalError(
        absl::StrCat("'", program, "' was killed by signal ", WTERMSIG(status)));
  }
  return WEXITSTATUS(status);
}

}  // namespace

absl::StatusOr<FigureKind> ParseFigureKind(std::string_view name) {
  for (FigureKind kind :
       {FigureKind::kActivations, FigureKind::kPercentiles, FigureKind::kHistogram,
        FigureKind::kGradientStd, FigureKind::kTestError, FigureKind::kJacobian}) {
    if (FigureKindName(kind) == name) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown figure '", AbslView(name),
      "' (expected activations, percentiles, histogram, gradient-std, test-error or jacobian)"));
}

std::string_view FigureKindName(FigureKind kind) {
  switch (kind) {
    case FigureKind::kActivations:
      return "activations";
    case FigureKind::kPercentiles:
      return "percentiles";
    case FigureKind::kHistogram:
      return "histogram";
    case FigureKind::kGradientStd:
      return "gradient-std";
    case FigureKind::kTestError:
      return "test-error";
    case FigureKind::kJacobian:
      return "jacobian";
  }
  return "?";
}

absl::StatusOr<GnuplotFigure> BuildFigure(FigureKind kind, absl::Span<const TrialSeries> trials,
                                          const FigureOptions& options) {
  if (trials.empty()) return absl::InvalidArgumentError("a figure needs at least one trial");
  if (options.width < 100 || options.height < 100 || options.width > 10000 ||
      options.height > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("image size ", options.width, "x", options.height, " is outside 100..10000"));
  }
  absl::StatusOr<GnuplotFigure> figure;
  switch (kind) {
    case FigureKind::kActivations:
    case FigureKind::kPercentiles:
    case FigureKind::kGradientStd:
      RETURN_IF_ERROR(NeedOneTrial(kind, trials));
      figure = OverTraining(kind, trials[0], options);
      break;
    case FigureKind::kHistogram:
      RETURN_IF_ERROR(NeedOneTrial(kind, trials));
      figure = Histogram(trials[0], options);
      break;
    case FigureKind::kTestError:
      figure = TestError(trials, options);
      break;
    case FigureKind::kJacobian:
      figure = Jacobian(trials, options);
      break;
  }
  if (figure.ok()) {
    figure->width = options.width;
    figure->height = options.height;
  }
  return figure;
}

absl::StatusOr<ImageFormat> ImageFormatOf(std::string_view path) {
  const std::string extension =
      absl::AsciiStrToLower(fs::path(std::string(path)).extension().string());
  if (extension == ".png") return ImageFormat::kPng;
  if (extension == ".svg") return ImageFormat::kSvg;
  if (extension == ".pdf") return ImageFormat::kPdf;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell the image format of '", AbslView(path), "' from ",
                   extension.empty() ? std::string("its missing extension")
                                     : absl::StrCat("its extension '", extension, "'"),
                   ": name the file .png, .svg or .pdf"));
}

absl::StatusOr<XAxis> ParseXAxis(std::string_view name) {
  if (name == "examples") return XAxis::kExamples;
  if (name == "updates") return XAxis::kUpdates;
  if (name == "epochs") return XAxis::kEpochs;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown x axis '", AbslView(name), "' (expected examples, updates or epochs)"));
}

absl::Status RenderFigure(const GnuplotFigure& figure, const std::string& path,
                          const GnuplotOptions& options) {
  ASSIGN_OR_RETURN(const ImageFormat format, ImageFormatOf(path));
  std::error_code error;
  const fs::path output = fs::absolute(path, error);
  if (error || output.filename().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("bad output path '", path, "'"));
  }
  if (!fs::is_directory(output.parent_path())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write ", path, ": directory ", output.parent_path().string(), " does not exist"));
  }
  fs::path dir;
  const bool temporary = options.work_dir.empty();
  if (temporary) {
    std::string pattern = (fs::temp_directory_path(error) / "deepsweep-plot-XXXXXX").string();
    if (error || ::mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError("cannot create a temporary directory for gnuplot");
    }
    dir = pattern;
  } else {
    dir = fs::absolute(options.work_dir, error);
    fs::create_directories(dir, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", options.work_dir, ": ", error.message()));
    }
  }
  // Removes the temporary directory on every path out.
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove_all(dir, ignored);
    }
  } cleanup{temporary ? dir : fs::path()};

  for (const auto& [name, contents] : figure.data_files) {
    RETURN_IF_ERROR(WriteFile(dir / name, contents));
  }
  // The same layout in every format: PDF sizes are in inches, at 100 pixels
  // an inch.
  std::string terminal;
  switch (format) {
    case ImageFormat::kPng:
      terminal =
          absl::StrCat("pngcairo size ", figure.width, ",", figure.height, " font 'sans,11'");
      break;
    case ImageFormat::kSvg:
      terminal = absl::StrCat("svg size ", figure.width, ",", figure.height,
                              " font 'sans,11' background rgb 'white'");
      break;
    case ImageFormat::kPdf:
      terminal = absl::StrCat("pdfcairo size ", FormatShortest(figure.width / 100.0), "in,",
                              FormatShortest(figure.height / 100.0), "in font 'sans,8'");
      break;
  }
  const std::string script =
      absl::StrCat("cd ", Quote(dir.string()), "\n", "set terminal ", terminal, "\n", "set output ",
                   Quote(output.string()), "\n", figure.script, "set output\n");
  const fs::path script_path = dir / "figure.gp";
  RETURN_IF_ERROR(WriteFile(script_path, script));
  fs::remove(output, error);
  ASSIGN_OR_RETURN(const int exit_code, Run(options.program, script_path, dir / "gnuplot.log"));
  if (exit_code != 0) {
    return absl::InternalError(absl::StrCat("gnuplot failed (exit ", exit_code, "): ",
                                            GnuplotMessages(dir / "gnuplot.log", script_path)));
  }
  if (!fs::exists(output) || fs::file_size(output, error) == 0) {
    return absl::InternalError(absl::StrCat("gnuplot wrote no image to ", output.string(), ": ",
                                            GnuplotMessages(dir / "gnuplot.log", script_path)));
  }
  return absl::OkStatus();
}

}  // namespace deepsweep::client
