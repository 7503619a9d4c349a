// Scheduler: a sweep's early-stopping rule (the spec's `schedule` section,
// docs/SPEC.md), as pure decisions over the checkpoints its trials report.
//
// The Coordinator keeps one Scheduler per live sweep with a schedule, hands it
// every report under its lock, and ends a trial the scheduler stops in the
// same store mutation that records the report; so each decision is taken
// once, in report order. After a restart it rebuilds the scheduler from the
// store with Restore(): every stored checkpoint recorded, nothing decided
// again. A decision depends only on what was recorded before it, so the same
// reports in the same order give the same decisions, restart or not.
//
// Rules (metric m = validation_error or validation_nll, lower is better; a
// NaN counts as +infinity; "group" = the trials sharing the values of the
// schedule's group_by axes, the whole sweep when none):
//   asha    Asynchronous successive halving (Li et al., 2018, "A System for
//           Massively Parallel Hyperparameter Tuning"), stop-based: rungs at
//           r_k = min_updates * eta^k for every r_k < the trial's updates. The
//           first checkpoint of a trial at or past r_k records its m at rung
//           k of its group; the trial continues iff fewer than
//           ceil(n / eta) of the n values recorded there so far (its own
//           included) are strictly lower than its own. Ties continue; the
//           first trial at a rung always does. Stopped: PRUNED, rung = r_k.
//   median  The median stopping rule (Golovin et al., 2017, "Google Vizier"):
//           at a checkpoint at step s >= grace_updates, with at least
//           min_trials other trials of the group having reported step s, the
//           trial stops iff its best m so far is strictly above the median of
//           their running averages of m up to step s. Stopped: PRUNED,
//           rung = s.
//   stuck   "Stuck at chance": at a checkpoint at step s >= after_updates
//           with m >= error the trial stops as DIVERGED, rung = s.
// Every trial also carries its own stuck rule (TrialSpec::stuck_after_updates
// > 0, the spec's training.stuck_*), judged here after the sweep's rule by the
// same code (StuckRule): at step s >= stuck_after_updates with its validation
// error (test error when it has no validation set) >= stuck_error it stops as
// DIVERGED, rung = s. This is the only implementation of the stuck rule (the
// trainer has none), so it needs a Scheduler for every sweep, with or without
// a schedule; it keeps no state beyond the last step.
// A trial's checkpoints count once per step: a later attempt re-reporting
// steps already recorded changes nothing.
//
// Thread-safety: none; the Coordinator calls it under its lock.
#ifndef DEEPSWEEP_CORE_SCHEDULER_H_
#define DEEPSWEEP_CORE_SCHEDULER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "core/sweep_spec.h"
#include "core/trial.h"

namespace deepsweep {

// Why and where a scheduler stopped a trial.
struct StopDecision {
  TrialState state = TrialState::kPruned;  // kPruned, or kDiverged for the stuck rule
  int64_t rung = 0;                        // asha: the rung's updates; median and stuck: the step
  std::string reason;
  // The report's checkpoints (sorted by step) up to and including the one
  // decided on; later ones are not recorded, so the trial ends at that step.
  size_t checkpoints_used = 0;
};

// The stuck rule: stops as DIVERGED at a checkpoint at `step` >=
// `after_updates` (> 0) whose `value` of `metric` is >= `error`; a NaN value
// does not stop (`source` names where the rule came from, for the reason).
std::optional<StopDecision> StuckRule(int64_t after_updates, double error, std::string_view metric,
                                      int64_t step, double value, std::string_view source);

// The updates of the rungs of a trial with `updates` updates:
// min_updates * eta^k below updates, ascending.
std::vector<int64_t> AshaRungs(int64_t min_updates, int64_t eta, int64_t updates);

// The lease order of a sweep's pending trials: the Coordinator leases the
// trial of the smallest key first (then, among equal keys, by trial id).
// - asha and median: key = Mix64(Mix64(sweep_seed ^ "leaseord") + index), a
//   bijection of the index, so the keys are distinct and sorting by them is a
//   pseudo-random permutation of the trial indices, the same on every machine
//   and after every restart (recomputed, never stored). These rules compare a
//   report with the ones that came before it in its group, so an order
//   correlated with quality biases them: in index order a grid's learning
//   rates come in ascending order, and when quality rises with the rate every
//   trial beats all before it and nothing is stopped.
// - none and stuck: key = index (the expansion order: seed_index outermost,
//   so a half-done sweep covers every configuration once); their decisions
//   look at one trial alone, so the order cannot bias them.
uint64_t LeaseOrderKey(const ScheduleSpec& schedule, uint64_t sweep_seed, int index);
// Trial indices 0 .. trials-1 in lease order (ascending LeaseOrderKey).
std::vector<int> LeaseOrder(const ScheduleSpec& schedule, uint64_t sweep_seed, int trials);

class Scheduler {
 public:
  explicit Scheduler(ScheduleSpec spec);

  // Records a report of trial `id` and decides: a decision stops it, nullopt
  // lets it continue. `checkpoints` are sorted by step here.
  std::optional<StopDecision> Report(TrialId id, const TrialSpec& spec,
                                     absl::Span<const Checkpoint> checkpoints);
  // Records stored checkpoints without deciding (rebuilding after a restart);
  // call it per trial with its checkpoints in (attempt, step) order.
  void Restore(TrialId id, const TrialSpec& spec, absl::Span<const Checkpoint> checkpoints);

  const ScheduleSpec& spec() const { return spec_; }
  // Whether a report of a trial of `spec` can stop it (the sweep has a rule,
  // or the trial its own stuck rule).
  bool Judges(const TrialSpec& spec) const {
    return spec_.rule != ScheduleSpec::Rule::kNone || spec.stuck_after_updates > 0;
  }
  // Whether decisions depend on earlier reports (asha, median): only then
  // must Restore be given the stored checkpoints after a restart.
  bool KeepsHistory() const {
    return spec_.rule == ScheduleSpec::Rule::kAsha || spec_.rule == ScheduleSpec::Rule::kMedian;
  }

 private:
  struct TrialRecordings {
    int64_t last_step = -1;  // highest step recorded
    size_t next_rung = 0;    // asha
    double sum = 0;          // median: sum, count and best of m so far
    int64_t count = 0;
    double best = 0;
  };

  std::optional<StopDecision> Observe(TrialId id, const TrialSpec& spec,
                                      absl::Span<const Checkpoint> checkpoints, bool decide);
  std::optional<StopDecision> Asha(TrialRecordings& t, const std::string& group,
                                   const std::vector<int64_t>& rungs, int64_t step, double m,
                                   bool decide);
  std::optional<StopDecision> Median(TrialRecordings& t, const std::string& group, int64_t step,
                                     double m, bool decide);
  double MetricOf(const Checkpoint& c) const;

  ScheduleSpec spec_;
  absl::flat_hash_map<TrialId, TrialRecordings> trials_;
  // asha: the values recorded at rung k of a group.
  std::map<std::pair<std::string, size_t>, std::vector<double>> rungs_;
  // median: running averages of m up to a step, per group and step.
  std::map<std::pair<std::string, int64_t>, std::vector<double>> averages_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SCHEDULER_H_
