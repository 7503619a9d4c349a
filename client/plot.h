// Figures like Glorot & Bengio (2010)'s, drawn by gnuplot from stored
// checkpoints.
//
// BuildFigure turns checkpoints (domain values, no I/O) into a GnuplotFigure:
// a gnuplot script plus the data files it plots. RenderPng writes both to a
// temporary directory, runs gnuplot as a child process with the pngcairo
// terminal and checks that it succeeded and wrote the PNG.
//
//   kind           paper    shows
//   activations    Fig. 2   mean +- std of a layer quantity per layer over training
//   percentiles    Figs 3, 10  98th percentile (points) and std (lines) per layer over training
//   histogram      Figs 4, 6-8 per-layer density of a quantity at one checkpoint
//   gradient-std   Fig. 9   std of weight gradients per layer over training
//   test-error     Fig. 11  test error against examples seen, one line per trial
//   jacobian       Sec. 4.2.1  mean singular value of each layer's Jacobian at one
//                           checkpoint, one line per trial
// The per-layer kinds take exactly one trial; test-error and jacobian take
// one or more.
//
// Errors: INVALID_ARGUMENT for a bad kind or trial count; FAILED_PRECONDITION
// when the data lacks what the figure needs (no checkpoints, no statistics of
// the quantity, no histogram, no checkpoint at or before the asked step);
// RenderPng: FAILED_PRECONDITION when gnuplot is missing, INTERNAL when it
// fails (with its first error line), UNAVAILABLE for file-system errors.
// Thread-safety: BuildFigure is pure; RenderPng touches only its own temp dir.
#ifndef DEEPSWEEP_CLIENT_PLOT_H_
#define DEEPSWEEP_CLIENT_PLOT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/trial.h"

namespace deepsweep::client {

enum class FigureKind {
  kActivations,
  kPercentiles,
  kHistogram,
  kGradientStd,
  kTestError,
  kJacobian
};

// "activations", "percentiles", "histogram", "gradient-std", "test-error", "jacobian".
absl::StatusOr<FigureKind> ParseFigureKind(std::string_view name);
std::string_view FigureKindName(FigureKind kind);

// One trial's checkpoints (with layer statistics for the per-layer kinds).
struct TrialSeries {
  std::string label;  // legend / title text, e.g. "#12 tanh normalized depth=5"
  std::vector<Checkpoint> checkpoints;
};

struct FigureOptions {
  // Title above the plot; empty = a default naming the figure and the trial.
  std::string title;
  // The layer quantity to show; empty = the kind's default (weight_grad for
  // gradient-std, activation otherwise). Ignored by test-error and jacobian.
  std::optional<LayerQuantity> quantity;
  // histogram and jacobian: the last checkpoint at or before this step;
  // empty = the last checkpoint. 0 = at initialization, when stored.
  std::optional<int64_t> step;
  // Log scale on the y axis (useful for gradient spreads).
  bool log_y = false;
  // Image size in pixels.
  int width = 1000;
  int height = 700;
};

// A figure ready for gnuplot: `script` reads the data files by name from its
// working directory and draws on whatever terminal and output were set before.
struct GnuplotFigure {
  std::string script;
  std::vector<std::pair<std::string, std::string>> data_files;  // name, contents
  int width = 1000;
  int height = 700;
};

absl::StatusOr<GnuplotFigure> BuildFigure(FigureKind kind, absl::Span<const TrialSeries> trials,
                                          const FigureOptions& options);

struct GnuplotOptions {
  // The gnuplot program: a path, or a name looked up on PATH.
  std::string program = "gnuplot";
  // Where to write the script and data; empty = a fresh directory under the
  // system temp directory, removed afterwards. A given directory is created
  // if needed and kept, for inspecting or editing the script.
  std::string work_dir;
};

// Renders `figure` to `png_path` (overwritten).
absl::Status RenderPng(const GnuplotFigure& figure, const std::string& png_path,
                       const GnuplotOptions& options = {});

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_PLOT_H_
