#include "core/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/splitmix64.h"

namespace deepsweep {
namespace {

const char* MetricName(ScheduleSpec::Metric m) {
  return m == ScheduleSpec::Metric::kValidationNll ? "validation_nll" : "validation_error";
}

}  // namespace

std::optional<StopDecision> StuckRule(int64_t after_updates, double error, std::string_view metric,
                                      int64_t step, double value, std::string_view source) {
  if (after_updates <= 0 || step < after_updates || !(value >= error)) return std::nullopt;
  return StopDecision{.state = TrialState::kDiverged,
                      .rung = step,
                      .reason = absl::StrFormat("stuck: %s %.4f >= %.4f at update %d (%s)", metric,
                                                value, error, step, source)};
}

std::vector<int64_t> AshaRungs(int64_t min_updates, int64_t eta, int64_t updates) {
  std::vector<int64_t> rungs;
  if (min_updates <= 0 || eta < 2) return rungs;
  for (int64_t r = min_updates; r < updates;) {
    rungs.push_back(r);
    if (r > std::numeric_limits<int64_t>::max() / eta) break;
    r *= eta;
  }
  return rungs;
}

uint64_t LeaseOrderKey(const ScheduleSpec& schedule, uint64_t sweep_seed, int index) {
  if (schedule.rule != ScheduleSpec::Rule::kAsha && schedule.rule != ScheduleSpec::Rule::kMedian) {
    return static_cast<uint64_t>(index);
  }
  const uint64_t base = Mix64(sweep_seed ^ 0x6c656173656f7264ULL);  // "leaseord"
  return Mix64(base + static_cast<uint64_t>(index));
}

std::vector<int> LeaseOrder(const ScheduleSpec& schedule, uint64_t sweep_seed, int trials) {
  std::vector<std::pair<uint64_t, int>> keyed;
  keyed.reserve(static_cast<size_t>(std::max(trials, 0)));
  for (int i = 0; i < trials; ++i) keyed.emplace_back(LeaseOrderKey(schedule, sweep_seed, i), i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<int> order;
  order.reserve(keyed.size());
  for (const auto& [key, index] : keyed) order.push_back(index);
  return order;
}

Scheduler::Scheduler(ScheduleSpec spec) : spec_(std::move(spec)) {}

std::optional<StopDecision> Scheduler::Report(TrialId id, const TrialSpec& spec,
                                              absl::Span<const Checkpoint> checkpoints) {
  return Observe(id, spec, checkpoints, /*decide=*/true);
}

void Scheduler::Restore(TrialId id, const TrialSpec& spec,
                        absl::Span<const Checkpoint> checkpoints) {
  // Attempts come in order; within one, steps ascend. Observe sorts by step,
  // so hand each attempt's run over separately.
  size_t begin = 0;
  for (size_t i = 1; i <= checkpoints.size(); ++i) {
    if (i == checkpoints.size() || checkpoints[i].step <= checkpoints[i - 1].step) {
      Observe(id, spec, checkpoints.subspan(begin, i - begin), false);
      begin = i;
    }
  }
}

double Scheduler::MetricOf(const Checkpoint& c) const {
  const double m =
      spec_.metric == ScheduleSpec::Metric::kValidationNll ? c.validation_nll : c.validation_error;
  return std::isnan(m) ? std::numeric_limits<double>::infinity() : m;
}

std::optional<StopDecision> Scheduler::Observe(TrialId id, const TrialSpec& spec,
                                               absl::Span<const Checkpoint> checkpoints,
                                               bool decide) {
  if (!Judges(spec)) return std::nullopt;
  // In step order; a copy (layer statistics and all) only when not already.
  const auto by_step = [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; };
  std::vector<Checkpoint> sorted;
  if (!std::is_sorted(checkpoints.begin(), checkpoints.end(), by_step)) {
    sorted.assign(checkpoints.begin(), checkpoints.end());
    std::stable_sort(sorted.begin(), sorted.end(), by_step);
    checkpoints = sorted;
  }
  const std::string group = GroupKey(spec, spec_.group_by);
  const std::vector<int64_t> rungs = spec_.rule == ScheduleSpec::Rule::kAsha
                                         ? AshaRungs(spec_.min_updates, spec_.eta, spec.updates)
                                         : std::vector<int64_t>{};
  TrialRecordings& t = trials_[id];
  for (size_t i = 0; i < checkpoints.size(); ++i) {
    const Checkpoint& c = checkpoints[i];
    if (c.step <= t.last_step) continue;  // recorded before (a repeat or an earlier attempt)
    t.last_step = c.step;
    const double m = MetricOf(c);
    std::optional<StopDecision> stop;
    switch (spec_.rule) {
      case ScheduleSpec::Rule::kAsha:
        stop = Asha(t, group, rungs, c.step, m, decide);
        break;
      case ScheduleSpec::Rule::kMedian:
        stop = Median(t, group, c.step, m, decide);
        break;
      case ScheduleSpec::Rule::kStuck:
        if (decide) {
          stop = StuckRule(spec_.after_updates, spec_.error, MetricName(spec_.metric), c.step, m,
                           "schedule");
        }
        break;
      case ScheduleSpec::Rule::kNone:
        break;
    }
    // The trial's own rule, on what the trainer's rule read.
    if (!stop.has_value() && decide && spec.stuck_after_updates > 0) {
      const bool validation = spec.dataset.validation_examples > 0;
      stop =
          StuckRule(spec.stuck_after_updates, spec.stuck_error,
                    validation ? "validation_error" : "test_error", c.step,
                    validation ? c.validation_error : c.test_error, "training.stuck_after_updates");
    }
    if (stop.has_value()) {
      stop->checkpoints_used = i + 1;
      return stop;
    }
  }
  return std::nullopt;
}

std::optional<StopDecision> Scheduler::Asha(TrialRecordings& t, const std::string& group,
                                            const std::vector<int64_t>& rungs, int64_t step,
                                            double m, bool decide) {
  while (t.next_rung < rungs.size() && step >= rungs[t.next_rung]) {
    const size_t k = t.next_rung++;
    std::vector<double>& recorded = rungs_[{group, k}];
    recorded.push_back(m);
    if (!decide) continue;
    // Keep the top ceil(n / eta): continue iff fewer than that many are
    // strictly better.
    const int64_t n = static_cast<int64_t>(recorded.size());
    const int64_t keep = (n + spec_.eta - 1) / spec_.eta;
    const int64_t better =
        std::count_if(recorded.begin(), recorded.end(), [m](double v) { return v < m; });
    if (better < keep) continue;
    return StopDecision{
        .state = TrialState::kPruned,
        .rung = rungs[k],
        .reason = absl::StrFormat(
            "asha rung %d (%d updates): %s %.6g at update %d ranks %d of %d in its group%s; "
            "the top %d continue",
            k, rungs[k], MetricName(spec_.metric), m, step, better + 1, n,
            group.empty() ? "" : absl::StrCat(" (", group, ")"), keep)};
  }
  return std::nullopt;
}

std::optional<StopDecision> Scheduler::Median(TrialRecordings& t, const std::string& group,
                                              int64_t step, double m, bool decide) {
  t.best = t.count == 0 ? m : std::min(t.best, m);
  t.sum += m;
  ++t.count;
  std::vector<double>& others = averages_[{group, step}];
  std::optional<StopDecision> stop;
  if (decide && step >= spec_.grace_updates &&
      static_cast<int64_t>(others.size()) >= spec_.min_trials) {
    std::vector<double> sorted = others;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    if (t.best > median) {
      stop = StopDecision{
          .state = TrialState::kPruned,
          .rung = step,
          .reason = absl::StrFormat(
              "median rule at update %d: best %s %.6g is above the median %.6g of %d other "
              "trials' running averages%s",
              step, MetricName(spec_.metric), t.best, median, n,
              group.empty() ? "" : absl::StrCat(" in its group (", group, ")"))};
    }
  }
  // A stopped trial's average still counts for later trials: it did reach
  // this step.
  others.push_back(t.sum / static_cast<double>(t.count));
  return stop;
}

}  // namespace deepsweep
