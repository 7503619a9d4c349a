// Figures like Glorot & Bengio (2010)'s, drawn by gnuplot from stored
// checkpoints.
//
// BuildFigure turns checkpoints (domain values, no I/O) into a GnuplotFigure:
// a gnuplot script plus the data files it plots. RenderFigure writes both to
// a temporary directory, runs gnuplot as a child process with the terminal of
// the output's format (pngcairo, svg or pdfcairo) and checks that it
// succeeded and wrote the file.
//
// Series are coloured from a 12-colour palette readable on white (no yellow),
// then repeated with dashes; a legend of more than 6 entries, or with long
// entries, goes to the right of the plot, otherwise below it.
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
// RenderFigure: INVALID_ARGUMENT for an unknown extension,
// FAILED_PRECONDITION when gnuplot is missing, INTERNAL when it
// fails (with its first error line), UNAVAILABLE for file-system errors.
// Thread-safety: BuildFigure is pure; RenderFigure touches only its own temp dir.
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

// The image format, from the output file's extension: .png (pngcairo),
// .svg (svg) or .pdf (pdfcairo), in any case; INVALID_ARGUMENT naming the
// extension otherwise.
enum class ImageFormat { kPng, kSvg, kPdf };
absl::StatusOr<ImageFormat> ImageFormatOf(std::string_view path);

// What the x axis of the over-training figures counts: examples seen (the
// paper's), updates (steps) or epochs (examples seen / training-set size).
enum class XAxis { kExamples, kUpdates, kEpochs };
// "examples", "updates" or "epochs".
absl::StatusOr<XAxis> ParseXAxis(std::string_view name);

// One trial's checkpoints (with layer statistics for the per-layer kinds).
struct TrialSeries {
  std::string label;  // legend / title text, e.g. "tanh normalized, depth 5, lr 0.01, seed 0"
  std::vector<Checkpoint> checkpoints;
  // Training examples per epoch, for XAxis::kEpochs; 0 = unknown (an online
  // stream, or a whole split whose size the spec does not state).
  int64_t epoch_examples = 0;
  // test-error with bands: series of one non-empty group are the seeds of one
  // configuration, drawn as their mean and its confidence band, labelled by
  // the group.
  std::string group;
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
  // The x axis of activations, percentiles, gradient-std and test-error.
  XAxis x_axis = XAxis::kExamples;
  // test-error: one line per group (TrialSeries::group), the mean across its
  // seeds at each step they share, in a band of the `confidence` interval of
  // that mean (Student's t; no band for a group of one).
  bool bands = false;
  double confidence = 0.95;
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

// Renders `figure` to `path` (overwritten) in the format its extension names
// (ImageFormatOf).
absl::Status RenderFigure(const GnuplotFigure& figure, const std::string& path,
                          const GnuplotOptions& options = {});

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_PLOT_H_
