// `deepsweep` commands over trials' time series:
//   curves TRIALS [--attempt N] [--format csv|json|table]
//       one row per checkpoint: step, examples seen, losses and errors
//   layers TRIALS [--attempt N] [--quantity Q] [--layer L] [--histogram] [--format F]
//       one row per checkpoint, layer and quantity: mean, std, percentiles,
//       saturation, Jacobian singular value (and the histogram with --histogram)
//   attempts TRIALS [--per-trial] [--format F]
//       one row per attempt (lease): where it started and got to, the updates
//       it redid, the snapshots acknowledged; --per-trial: their totals
//   plot KIND TRIALS --out FILE.png|svg|pdf [--quantity Q] [--step N] [--log-y]
//        [--size WxH] [--title T] [--script-dir DIR] [--attempt N]
//        [--x examples|updates|epochs] [--bands [--confidence C]] [--ids]
//       the paper's figures (client/plot.h lists the kinds)
// TRIALS are trial ids, or "[SWEEP] FILTER..." as `results` takes them.
// Checkpoints come from each trial's latest attempt unless --attempt says.
//
// Thread-safety: registration happens once, from RunCli.
#ifndef DEEPSWEEP_CLIENT_COMMANDS_SERIES_H_
#define DEEPSWEEP_CLIENT_COMMANDS_SERIES_H_

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/command_context.h"

namespace deepsweep::client {

struct CurvesOptions {
  std::vector<std::string> trials;
  std::optional<int> attempt;
  std::string format = "csv";
};
absl::Status ShowCurves(CommandContext& context, const CurvesOptions& options);

struct LayersOptions {
  std::vector<std::string> trials;
  std::optional<int> attempt;
  std::string quantity;  // empty = all
  std::optional<int> layer;
  bool histogram = false;  // add hist_lo, hist_hi and the bins (space-separated)
  std::string format = "csv";
};
absl::Status ShowLayers(CommandContext& context, const LayersOptions& options);

struct AttemptsOptions {
  std::vector<std::string> trials;
  bool per_trial = false;  // one row per trial with the attempts' totals
  std::string format = "table";
};
absl::Status ShowAttempts(CommandContext& context, const AttemptsOptions& options);

struct PlotOptions {
  std::string kind;
  std::vector<std::string> trials;
  std::string out;
  std::optional<int> attempt;
  std::string quantity;  // empty = the figure's default
  std::optional<int64_t> step;
  bool log_y = false;
  std::string size = "1000x700";
  std::string title;
  std::string script_dir;           // keep the gnuplot script and data here
  std::string x_axis = "examples";  // examples, updates or epochs
  bool bands = false;               // test-error: mean and CI band per configuration
  double confidence = 0.95;         // of the bands
  bool ids = false;                 // trial ids in legends and titles
};
absl::Status Plot(CommandContext& context, const PlotOptions& options);

void AddSeriesCommands(CLI::App& app, CommandContext& context);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_COMMANDS_SERIES_H_
