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
  return absl::StrCat(UtcTimestamp(now), " sweep ", sweep.id, " ",
                      std::string(SweepStateName(sweep.state)), " ", sweep.counts.done(), "/",
                      sweep.counts.total(), " done (", Percent(estimate.fraction),
                      "): ", CountsText(sweep.counts, ", "), "; ", RateText(sweep, estimate));
}

}  // namespace deepsweep::client
