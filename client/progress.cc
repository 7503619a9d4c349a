#include "client/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/format.h"

namespace deepsweep::client {
namespace {

std::string CountsText(const TrialCounts& c, const std::string& separator) {
  // "pruned" only for sweeps that have some: most sweeps have no schedule.
  return absl::StrCat("succeeded ", c.succeeded, separator, "diverged ", c.diverged, separator,
                      "failed ", c.failed, separator, "cancelled ", c.cancelled, separator,
                      c.pruned > 0 ? absl::StrCat("pruned ", c.pruned, separator) : "", "leased ",
                      c.leased, separator, "pending ", c.pending);
}

std::string RateText(const SweepRecord& sweep, const ProgressEstimate& estimate) {
  if (sweep.state != SweepState::kActive) {
    if (sweep.finished_at.has_value()) {
      return absl::StrCat(std::string(SweepStateName(sweep.state)), " after ",
                          HumanDuration(*sweep.finished_at - sweep.created_at));
    }
    return std::string(SweepStateName(sweep.state));
  }
  if (!estimate.trials_per_hour.has_value()) return "throughput unknown yet, ETA unknown";
  std::string text = absl::StrFormat("%.1f trials/h", *estimate.trials_per_hour);
  if (estimate.eta.has_value()) absl::StrAppend(&text, ", ETA ", HumanDuration(*estimate.eta));
  return text;
}

std::string Percent(double fraction) { return absl::StrFormat("%.1f%%", 100 * fraction); }

}  // namespace

ProgressEstimate EstimateProgress(const ProgressInputs& inputs, absl::Time now) {
  ProgressEstimate estimate;
  const TrialCounts& counts = inputs.counts;
  const double partial = std::clamp(inputs.partial, 0.0, static_cast<double>(counts.leased));
  if (counts.total() > 0) {
    estimate.fraction = std::clamp(
        (static_cast<double>(counts.done()) + partial) / static_cast<double>(counts.total()), 0.0,
        1.0);
  }
  if (inputs.state != SweepState::kActive) return estimate;
  const double remaining = static_cast<double>(counts.pending + counts.leased) - partial;
  if (inputs.finish_times.empty()) {
    // No trial has finished yet: the work the running trials did so far,
    // over the sweep's age, is the only rate there is.
    const double hours = absl::ToDoubleHours(now - inputs.created_at);
    if (partial <= 0 || hours <= 0) return estimate;
    estimate.trials_per_hour = partial / hours;
    estimate.eta = absl::Hours(std::max(0.0, remaining) / *estimate.trials_per_hour);
    return estimate;
  }
  std::vector<absl::Time> recent = inputs.finish_times;
  const size_t k = std::min(recent.size(), static_cast<size_t>(std::max(1, inputs.rate_window)));
  std::nth_element(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   recent.end(), std::greater<>());
  const absl::Time since = k == recent.size() ? inputs.created_at : recent[k - 1];
  const double hours = absl::ToDoubleHours(now - since);
  if (hours <= 0) return estimate;
  estimate.trials_per_hour = static_cast<double>(k) / hours;
  estimate.eta = absl::Hours(std::max(0.0, remaining) / *estimate.trials_per_hour);
  return estimate;
}

std::string ProgressBar(double fraction, int width) {
  const int filled =
      static_cast<int>(std::floor(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(width)));
  return absl::StrCat("[", std::string(static_cast<size_t>(filled), '#'),
                      std::string(static_cast<size_t>(width - filled), '.'), "]");
}

std::string HumanDuration(absl::Duration duration) {
  int64_t seconds = absl::ToInt64Seconds(duration);
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  if (seconds < 86400) return absl::StrFormat("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
  return absl::StrFormat("%dd%02dh", seconds / 86400, seconds % 86400 / 3600);
}

std::vector<std::string> SweepStatusLines(const SweepRecord& sweep,
                                          const ProgressEstimate& estimate, absl::Time now,
                                          int bar_width) {
  return {
      absl::StrCat("sweep ", sweep.id, " '", TerminalSafe(sweep.name),
                   "': ", std::string(SweepStateName(sweep.state)), ", created ",
                   HumanDuration(now - sweep.created_at), " ago"),
      absl::StrCat(ProgressBar(estimate.fraction, bar_width), " ",
                   absl::StrFormat("%6s", Percent(estimate.fraction)), "  ", sweep.counts.done(),
                   "/", sweep.counts.total(), " done"),
      CountsText(sweep.counts, "  "),
      RateText(sweep, estimate),
  };
}

std::string SweepStatusLine(const SweepRecord& sweep, const ProgressEstimate& estimate,
                            absl::Time now) {
  return absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone()), " sweep ",
                      sweep.id, " ", std::string(SweepStateName(sweep.state)), " ",
                      sweep.counts.done(), "/", sweep.counts.total(), " done (",
                      Percent(estimate.fraction), "): ", CountsText(sweep.counts, ", "), "; ",
                      RateText(sweep, estimate));
}

}  // namespace deepsweep::client
