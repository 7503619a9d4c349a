#include "ml/auto_calibration.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "ml/dataset.h"
#include "ml/kernel_threads.h"
#include "ml/random.h"

namespace deepsweep::ml {
namespace {

absl::Status ValidateOptions(const CalibrationOptions& options) {
  if (options.columns.empty()) {
    return absl::InvalidArgumentError("calibration: no minibatch widths to measure");
  }
  for (size_t i = 0; i < options.columns.size(); ++i) {
    if (options.columns[i] < 1 || (i > 0 && options.columns[i] <= options.columns[i - 1])) {
      return absl::InvalidArgumentError(
          "calibration: minibatch widths must be >= 1 and increasing");
    }
  }
  if (options.candidates.empty()) {
    return absl::InvalidArgumentError("calibration: no candidate backends");
  }
  for (GemmBackend backend : options.candidates) {
    if (backend == GemmBackend::kAuto) {
      return absl::InvalidArgumentError("calibration: `auto` is not a candidate backend");
    }
  }
  if (!(options.budget_seconds > 0)) {
    return absl::InvalidArgumentError("calibration: budget_seconds must be > 0");
  }
  if (options.min_rounds < 1) {
    return absl::InvalidArgumentError("calibration: min_rounds must be >= 1");
  }
  if (options.max_rounds < options.min_rounds) {
    return absl::InvalidArgumentError("calibration: max_rounds must be >= min_rounds");
  }
  if (!(options.contender_margin >= 0)) {
    return absl::InvalidArgumentError("calibration: contender_margin must be >= 0");
  }
  return absl::OkStatus();
}

// The first width served by the winner at columns[i], i > 0: the log-scale
// midpoint ceil(sqrt(c_{i-1} c_i)), and above c_{i-1} in any case.
int RangeStart(const std::vector<int>& columns, size_t i) {
  const double mid = std::sqrt(static_cast<double>(columns[i - 1]) * columns[i]);
  return std::max(columns[i - 1] + 1, static_cast<int>(std::ceil(mid)));
}

// Which candidates the next round measures at each width: every one in the
// first min_rounds rounds; then, at widths with two or more, the contenders
// (score <= (1 + contender_margin) x the width's best score).
std::vector<std::vector<bool>> NextRound(const Calibration& c, const CalibrationOptions& options) {
  const size_t candidates = options.candidates.size();
  std::vector<std::vector<bool>> measured(c.best_seconds.size(),
                                          std::vector<bool>(candidates, true));
  if (c.rounds < options.min_rounds) return measured;
  for (size_t i = 0; i < measured.size(); ++i) {
    const std::vector<double>& row = c.best_seconds[i];
    const double limit = (1 + options.contender_margin) * *std::min_element(row.begin(), row.end());
    size_t contenders = 0;
    for (size_t j = 0; j < candidates; ++j) {
      measured[i][j] = row[j] <= limit;
      contenders += measured[i][j];
    }
    if (contenders < 2) measured[i].assign(candidates, false);
  }
  return measured;
}

}  // namespace

absl::StatusOr<Calibration> CalibrateAutoPlan(StepTimer& timer, const CalibrationOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  const size_t widths = options.columns.size(), candidates = options.candidates.size();
  Calibration out;
  out.best_seconds.assign(widths,
                          std::vector<double>(candidates, std::numeric_limits<double>::infinity()));
  out.measurements.assign(widths, std::vector<int>(candidates, 0));
  // Timed seconds (steps x seconds per step) of each one's last measurement.
  std::vector<std::vector<double>> last_timed(widths, std::vector<double>(candidates, 0));
  while (out.rounds < options.max_rounds) {
    const std::vector<std::vector<bool>> measured = NextRound(out, options);
    if (out.rounds >= options.min_rounds) {
      double next_timed = 0;
      bool any = false;
      for (size_t i = 0; i < widths; ++i) {
        for (size_t j = 0; j < candidates; ++j) {
          if (!measured[i][j]) continue;
          any = true;
          next_timed += last_timed[i][j];
        }
      }
      if (!any || out.elapsed_seconds + next_timed > options.budget_seconds) break;
    }
    for (size_t i = 0; i < widths; ++i) {
      for (size_t k = 0; k < candidates; ++k) {
        const size_t j = (static_cast<size_t>(out.rounds) + k) % candidates;
        if (!measured[i][j]) continue;
        const StepTiming t = timer.Measure(options.candidates[j], options.columns[i]);
        out.best_seconds[i][j] = std::min(out.best_seconds[i][j], t.seconds_per_step);
        ++out.measurements[i][j];
        out.elapsed_seconds += t.elapsed_seconds;
        last_timed[i][j] = t.seconds_per_step * static_cast<double>(t.steps);
      }
    }
    ++out.rounds;
  }
  for (size_t i = 0; i < widths; ++i) {
    const std::vector<double>& row = out.best_seconds[i];
    const GemmBackend winner =
        options.candidates[std::min_element(row.begin(), row.end()) - row.begin()];
    if (!out.plan.ranges.empty() && out.plan.ranges.back().backend == winner) continue;
    out.plan.ranges.push_back(
        {.first = i == 0 ? 1 : RangeStart(options.columns, i), .backend = winner});
  }
  return out;
}

std::vector<std::string> CalibrationSummary(const Calibration& calibration,
                                            const CalibrationOptions& options) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < calibration.best_seconds.size() && i < options.columns.size(); ++i) {
    std::string line = absl::StrCat(options.columns[i], " columns:");
    for (size_t j = 0; j < options.candidates.size(); ++j) {
      absl::StrAppend(&line, j == 0 ? " " : ", ",
                      std::string(GemmBackendName(options.candidates[j])), " ",
                      absl::StrFormat("%.3f ms", 1e3 * calibration.best_seconds[i][j]));
      if (i < calibration.measurements.size() && j < calibration.measurements[i].size()) {
        absl::StrAppend(&line, " (", calibration.measurements[i][j], ")");
      }
    }
    absl::StrAppend(&line, " -> ",
                    std::string(GemmBackendName(calibration.plan.For(options.columns[i]))));
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::Time ThreadCpuClock::Now() const {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::UnixEpoch() + absl::DurationFromTimespec(ts);
}

absl::StatusOr<std::unique_ptr<TrainingStepTimer>> TrainingStepTimer::Create(
    const Clock* wall_clock, const Clock* step_clock, StepTimerOptions options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError("calibration timer: threads must be >= 1");
  }
  ASSIGN_OR_RETURN(Mlp<float> net, Mlp<float>::Create(options.shape));
  Rng rng(options.seed);
  net.Initialize(Init::kNormalized, 1.0, rng);
  return std::unique_ptr<TrainingStepTimer>(
      new TrainingStepTimer(wall_clock, step_clock, std::move(options), std::move(net)));
}

TrainingStepTimer::TrainingStepTimer(const Clock* wall_clock, const Clock* step_clock,
                                     StepTimerOptions options, Mlp<float> net)
    : wall_clock_(wall_clock),
      step_clock_(step_clock),
      options_(std::move(options)),
      net_(std::move(net)) {}

StepTiming TrainingStepTimer::Measure(GemmBackend backend, int columns) {
  auto [it, added] = inputs_.try_emplace(columns);
  Examples& batch = it->second;
  if (added) {
    // Inputs uniform in [-1, 1] with random labels, like a Shapeset stream.
    Rng rng(DeriveSeed(options_.seed, static_cast<uint64_t>(columns)));
    batch.x.resize(options_.shape.input_dim, columns);
    for (Eigen::Index i = 0; i < batch.x.size(); ++i) {
      batch.x.data()[i] = static_cast<float>(rng.Uniform(-1, 1));
    }
    for (int i = 0; i < columns; ++i) {
      batch.y.push_back(static_cast<int32_t>(rng.UniformInt(options_.shape.output_dim)));
    }
  }
  std::optional<KernelThreads> threads;
  if (options_.threads > 1) threads.emplace(options_.threads);
  // A small rate: hundreds of steps on one batch must not saturate the net.
  Sgd<float> sgd(SgdOptions{.learning_rate = 1e-4}, backend);
  const auto step = [&] { sgd.Step(net_, Loss::kNll, batch.x, batch.y.data(), pass_); };

  const absl::Time start = wall_clock_->Now();
  bool& warm = warm_[{static_cast<int>(backend), columns}];
  if (!warm) {
    step();
    warm = true;
  }
  const absl::Time timed_start = step_clock_->Now();
  StepTiming t;
  absl::Time now = timed_start;
  do {
    step();
    ++t.steps;
    now = step_clock_->Now();
  } while (absl::ToDoubleSeconds(now - timed_start) < options_.min_seconds &&
           t.steps < options_.max_steps);
  t.seconds_per_step = absl::ToDoubleSeconds(now - timed_start) / static_cast<double>(t.steps);
  t.elapsed_seconds = absl::ToDoubleSeconds(wall_clock_->Now() - start);
  return t;
}

}  // namespace deepsweep::ml
