#include "core/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "core/splitmix64.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Checkpoint At(int64_t step, double validation_error) {
  Checkpoint c;
  c.step = step;
  c.validation_error = validation_error;
  c.validation_nll = 10 * validation_error;
  return c;
}

ScheduleSpec Asha(int64_t min_updates, int64_t eta, std::vector<std::string> group_by = {}) {
  ScheduleSpec s;
  s.rule = ScheduleSpec::Rule::kAsha;
  s.min_updates = min_updates;
  s.eta = eta;
  s.group_by = std::move(group_by);
  return s;
}

TrialSpec Trial(int64_t updates = 1000, std::string activation = "tanh") {
  TrialSpec t;
  t.updates = updates;
  t.activation = std::move(activation);
  return t;
}

// Reports one checkpoint; true when the trial may continue.
bool Continues(Scheduler& s, TrialId id, const TrialSpec& spec, int64_t step, double error) {
  const std::vector<Checkpoint> one = {At(step, error)};
  return !s.Report(id, spec, one).has_value();
}

TEST(AshaRungs, AreMinUpdatesTimesPowersOfEtaBelowTheTrialsUpdates) {
  EXPECT_THAT(AshaRungs(100, 3, 1000), ElementsAre(100, 300, 900));
  EXPECT_THAT(AshaRungs(100, 3, 900), ElementsAre(100, 300));  // the last update is no rung
  EXPECT_THAT(AshaRungs(100, 2, 901), ElementsAre(100, 200, 400, 800));
  EXPECT_THAT(AshaRungs(100, 2, 100), ElementsAre());
  EXPECT_THAT(AshaRungs(1, 1000, std::numeric_limits<int64_t>::max()).size(), 7u);
}

// Rung 0 of a sweep with eta = 3: a trial continues iff fewer than
// ceil(n / 3) of the n values there (its own included) are strictly lower.
TEST(Asha, KeepsTheTopThirdOfWhatTheRungHasSeenSoFar) {
  Scheduler s(Asha(100, 3));
  const TrialSpec spec = Trial();
  EXPECT_TRUE(Continues(s, 1, spec, 100, 0.50));   // n=1 keep 1, 0 better
  EXPECT_FALSE(Continues(s, 2, spec, 100, 0.60));  // n=2 keep 1, 1 better
  EXPECT_TRUE(Continues(s, 3, spec, 100, 0.40));   // n=3 keep 1, 0 better
  EXPECT_TRUE(Continues(s, 4, spec, 100, 0.45));   // n=4 keep 2, 1 better
  EXPECT_FALSE(Continues(s, 5, spec, 100, 0.55));  // n=5 keep 2, 3 better
  EXPECT_TRUE(Continues(s, 6, spec, 100, 0.45));   // n=6 keep 2, 1 better: ties continue
  EXPECT_TRUE(Continues(s, 7, spec, 100, 0.45));   // n=7 keep 3, 1 better
  EXPECT_FALSE(Continues(s, 8, spec, 100, 0.46));  // n=8 keep 3, 4 better
}

TEST(Asha, ThePrunedDecisionSaysWhereAndWhy) {
  Scheduler s(Asha(100, 3, {"activation"}));
  const TrialSpec spec = Trial();
  ASSERT_TRUE(Continues(s, 1, spec, 100, 0.2));
  const std::vector<Checkpoint> late = {At(100, 0.3)};
  const std::optional<StopDecision> stop = s.Report(2, spec, late);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->state, TrialState::kPruned);
  EXPECT_EQ(stop->rung, 100);
  EXPECT_EQ(stop->checkpoints_used, 1u);
  EXPECT_THAT(stop->reason, HasSubstr("asha rung 0 (100 updates)"));
  EXPECT_THAT(stop->reason, HasSubstr("ranks 2 of 2"));
  EXPECT_THAT(stop->reason, HasSubstr("activation=tanh"));
}

// Checkpoints between rungs record nothing; the first one at or past a rung
// records there (a straggler with a coarse checkpoint_every included).
TEST(Asha, TheFirstCheckpointAtOrPastARungIsTheOneRecorded) {
  Scheduler s(Asha(100, 3));
  const TrialSpec spec = Trial();
  EXPECT_TRUE(Continues(s, 1, spec, 50, 0.9));    // before rung 0: nothing recorded
  EXPECT_TRUE(Continues(s, 1, spec, 100, 0.30));  // rung 0: first there
  EXPECT_TRUE(Continues(s, 1, spec, 200, 0.99));  // between rungs: no decision
  EXPECT_TRUE(Continues(s, 2, spec, 50, 0.10));   // not at rung 0 yet
  // Trial 2's 0.10 at step 50 is not its rung value; 0.31 at step 150 is.
  EXPECT_FALSE(Continues(s, 2, spec, 150, 0.31));  // n=2 keep 1, 1 better
}

// A trial that arrives at a rung late is ranked against everything recorded
// there before it, whatever happened at later rungs meanwhile.
TEST(Asha, AStragglerIsComparedWithEverythingRecordedBeforeIt) {
  Scheduler s(Asha(100, 2));
  const TrialSpec spec = Trial();
  ASSERT_TRUE(Continues(s, 1, spec, 100, 0.30));   // rung 0: n=1
  ASSERT_TRUE(Continues(s, 1, spec, 200, 0.20));   // rung 1: n=1
  ASSERT_TRUE(Continues(s, 2, spec, 100, 0.25));   // rung 0: n=2 keep 1, 0 better
  ASSERT_TRUE(Continues(s, 3, spec, 100, 0.27));   // rung 0: n=3 keep 2, 1 better
  EXPECT_FALSE(Continues(s, 4, spec, 100, 0.29));  // rung 0: n=4 keep 2, 2 better
  EXPECT_FALSE(Continues(s, 2, spec, 200, 0.21));  // rung 1: n=2 keep 1, 1 better
}

// A trial that diverges (or fails) before a rung records nothing there: the
// rung's counts are those of the trials that reached it.
TEST(Asha, TrialsEndingBeforeARungDoNotCountThere) {
  Scheduler s(Asha(100, 2));
  const TrialSpec spec = Trial();
  ASSERT_TRUE(Continues(s, 9, spec, 50, std::nan("")));  // then it diverged at step 60
  ASSERT_TRUE(Continues(s, 1, spec, 100, 0.30));         // n=1
  EXPECT_FALSE(Continues(s, 2, spec, 100, 0.31));        // n=2 keep 1: 9 is not there
  // A NaN at a rung counts as the worst value.
  EXPECT_FALSE(Continues(s, 3, spec, 100, std::nan("")));  // n=3 keep 2, 2 better
}

TEST(Asha, GroupsAreRankedApart) {
  Scheduler s(Asha(100, 2, {"activation"}));
  const TrialSpec tanh = Trial(1000, "tanh");
  const TrialSpec sigmoid = Trial(1000, "sigmoid");
  ASSERT_TRUE(Continues(s, 1, tanh, 100, 0.10));
  // Far worse than the tanh trial, but first among sigmoids.
  EXPECT_TRUE(Continues(s, 2, sigmoid, 100, 0.80));
  EXPECT_FALSE(Continues(s, 3, sigmoid, 100, 0.85));
  EXPECT_FALSE(Continues(s, 4, tanh, 100, 0.20));
}

// One report may carry several checkpoints across rungs: each rung decides
// in step order, and the checkpoints after a stop are not used.
TEST(Asha, AReportSpanningRungsDecidesEachInOrder) {
  Scheduler s(Asha(100, 2));
  const TrialSpec spec = Trial();
  const std::vector<Checkpoint> first = {At(200, 0.2), At(100, 0.3), At(300, 0.25)};
  EXPECT_FALSE(s.Report(1, spec, first).has_value());  // first at rungs 0 and 1
  const std::vector<Checkpoint> second = {At(100, 0.25), At(200, 0.3), At(300, 0.1)};
  const std::optional<StopDecision> stop = s.Report(2, spec, second);
  ASSERT_TRUE(stop.has_value());  // rung 0 keeps it (0.25 < 0.3); rung 1 does not
  EXPECT_EQ(stop->rung, 200);
  EXPECT_EQ(stop->checkpoints_used, 2u);
}

// Steps already recorded (a repeated report, or a later attempt retraining
// them) are not recorded nor decided again.
TEST(Asha, RepeatedStepsAreNotDecidedTwice) {
  Scheduler s(Asha(100, 2));
  const TrialSpec spec = Trial();
  ASSERT_TRUE(Continues(s, 1, spec, 100, 0.30));
  ASSERT_TRUE(Continues(s, 1, spec, 100, 0.90));   // a repeat: no second value at rung 0
  ASSERT_TRUE(Continues(s, 2, spec, 100, 0.29));   // n=2: 0.30 and 0.29
  EXPECT_FALSE(Continues(s, 3, spec, 100, 0.31));  // n=3 keep 2, 2 better
}

TEST(Median, StopsATrialWhoseBestIsAboveTheMedianOfOthersRunningAverages) {
  ScheduleSpec spec;
  spec.rule = ScheduleSpec::Rule::kMedian;
  spec.min_trials = 2;
  Scheduler s(spec);
  const TrialSpec t = Trial();
  EXPECT_TRUE(Continues(s, 1, t, 1, 0.5));
  EXPECT_TRUE(Continues(s, 1, t, 2, 0.3));   // trial 1's average at step 2: 0.4
  EXPECT_TRUE(Continues(s, 2, t, 1, 0.4));   // 1 other at step 1 < min_trials
  EXPECT_FALSE(Continues(s, 3, t, 1, 0.9));  // median of {0.5, 0.4} = 0.45 < 0.9
  EXPECT_TRUE(Continues(s, 4, t, 1, 0.45));  // median of {0.5, 0.4, 0.9} = 0.5
  EXPECT_TRUE(Continues(s, 2, t, 2, 0.5));   // 1 other at step 2; average (0.4+0.5)/2
  // Trial 4 at step 2: best 0.45 > median of {0.4, 0.45} = 0.425.
  const std::vector<Checkpoint> step2 = {At(2, 0.6)};
  const std::optional<StopDecision> stop = s.Report(4, t, step2);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->state, TrialState::kPruned);
  EXPECT_EQ(stop->rung, 2);
  EXPECT_THAT(stop->reason, HasSubstr("median 0.425"));
}

TEST(Median, WaitsForTheGracePeriod) {
  ScheduleSpec spec;
  spec.rule = ScheduleSpec::Rule::kMedian;
  spec.min_trials = 1;
  spec.grace_updates = 200;
  Scheduler s(spec);
  const TrialSpec t = Trial();
  ASSERT_TRUE(Continues(s, 1, t, 100, 0.1));
  ASSERT_TRUE(Continues(s, 1, t, 200, 0.1));
  EXPECT_TRUE(Continues(s, 2, t, 100, 0.9));  // in the grace period
  EXPECT_FALSE(Continues(s, 2, t, 200, 0.9));
}

TEST(Stuck, EndsATrialStillAtChanceAsDiverged) {
  ScheduleSpec spec;
  spec.rule = ScheduleSpec::Rule::kStuck;
  spec.after_updates = 100;
  spec.error = 0.8;
  Scheduler s(spec);
  const TrialSpec t = Trial();
  EXPECT_TRUE(Continues(s, 1, t, 50, 0.9));
  EXPECT_TRUE(Continues(s, 1, t, 100, 0.7));
  const std::vector<Checkpoint> stuck = {At(150, 0.85)};
  const std::optional<StopDecision> stop = s.Report(2, t, stuck);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->state, TrialState::kDiverged);
  EXPECT_EQ(stop->rung, 150);
  EXPECT_THAT(stop->reason, HasSubstr("stuck: validation_error 0.8500 >= 0.8000 at update 150"));
}

// The trial's own stuck rule (training.stuck_*), judged with or without a
// sweep rule: validation error, or test error when the trial has no
// validation set; a NaN does not stop it; the sweep's rule decides first.
TEST(Stuck, TheTrialsOwnRuleReadsValidationOrTestError) {
  TrialSpec t = Trial();
  t.stuck_after_updates = 100;
  t.stuck_error = 0.8;
  Scheduler none(ScheduleSpec{});
  EXPECT_TRUE(none.Judges(t));
  EXPECT_FALSE(none.Judges(Trial()));
  EXPECT_FALSE(none.KeepsHistory());
  EXPECT_TRUE(Continues(none, 1, t, 50, 0.9));  // before stuck_after_updates
  EXPECT_TRUE(Continues(none, 1, t, 100, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_TRUE(Continues(none, 1, t, 200, 0.79));
  const std::vector<Checkpoint> stuck = {At(300, 0.8)};
  std::optional<StopDecision> stop = none.Report(1, t, stuck);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->state, TrialState::kDiverged);
  EXPECT_EQ(stop->rung, 300);
  EXPECT_EQ(stop->reason,
            "stuck: validation_error 0.8000 >= 0.8000 at update 300 "
            "(training.stuck_after_updates)");

  // Without a validation set the rule reads the test error.
  TrialSpec no_validation = t;
  no_validation.dataset.validation_examples = 0;
  Checkpoint c = At(100, std::numeric_limits<double>::quiet_NaN());
  c.test_error = 0.7;
  EXPECT_FALSE(none.Report(2, no_validation, std::vector{c}).has_value());
  c.step = 200;
  c.test_error = 0.9;
  stop = none.Report(2, no_validation, std::vector{c});
  ASSERT_TRUE(stop.has_value());
  EXPECT_THAT(stop->reason, HasSubstr("stuck: test_error 0.9000 >= 0.8000 at update 200"));

  // With ASHA, a trial worse than the only other value at rung 100 is pruned
  // there, not ended as stuck.
  Scheduler asha(Asha(100, 2));
  ASSERT_TRUE(Continues(asha, 3, t, 100, 0.5));
  stop = asha.Report(4, t, std::vector{At(100, 0.9)});
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->state, TrialState::kPruned);
}

// Random report orders. Each trial has a fixed learning curve; the order in
// which their checkpoints arrive is drawn from a seed. The same order gives
// the same decisions; and cutting the run anywhere, restoring a fresh
// scheduler from what was recorded so far and going on gives the same
// decisions as never stopping (the coordinator's restart).
struct SimulatedRun {
  std::map<TrialId, StopDecision> stops;
  // What the store holds per trial, in step order.
  std::map<TrialId, std::vector<Checkpoint>> stored;
};

SimulatedRun Simulate(const ScheduleSpec& spec, uint64_t order_seed, int64_t cut) {
  constexpr int kTrials = 24;
  constexpr int64_t kEvery = 50;
  const TrialSpec trial = Trial(800);
  SplitMix64 curves(7);
  std::map<TrialId, std::vector<Checkpoint>> curve;
  for (TrialId id = 1; id <= kTrials; ++id) {
    const double level = curves.NextUnit();
    for (int64_t step = kEvery; step <= 800; step += kEvery) {
      curve[id].push_back(At(step, level / (1 + step / 400.0) + 0.05 * curves.NextUnit()));
    }
  }
  std::map<TrialId, size_t> next;
  std::vector<TrialId> running;
  for (TrialId id = 1; id <= kTrials; ++id) running.push_back(id);
  SplitMix64 order(order_seed);
  auto scheduler = std::make_unique<Scheduler>(spec);
  SimulatedRun run;
  int64_t reports = 0;
  while (!running.empty()) {
    if (reports++ == cut) {
      scheduler = std::make_unique<Scheduler>(spec);
      for (const auto& [id, stored] : run.stored) scheduler->Restore(id, trial, stored);
    }
    const size_t pick = order.NextBelow(running.size());
    const TrialId id = running[pick];
    // One or two checkpoints per report.
    const size_t n = std::min<size_t>(1 + order.NextBelow(2), curve[id].size() - next[id]);
    const std::vector<Checkpoint> report(curve[id].begin() + next[id],
                                         curve[id].begin() + next[id] + n);
    const std::optional<StopDecision> stop = scheduler->Report(id, trial, report);
    const size_t used = stop.has_value() ? stop->checkpoints_used : n;
    for (size_t i = 0; i < used; ++i) run.stored[id].push_back(report[i]);
    next[id] += n;
    if (stop.has_value()) run.stops[id] = *stop;
    if (stop.has_value() || next[id] == curve[id].size()) running.erase(running.begin() + pick);
  }
  return run;
}

void ExpectSameStops(const SimulatedRun& a, const SimulatedRun& b) {
  ASSERT_EQ(a.stops.size(), b.stops.size());
  for (const auto& [id, stop] : a.stops) {
    ASSERT_TRUE(b.stops.contains(id)) << "trial " << id;
    EXPECT_EQ(b.stops.at(id).rung, stop.rung) << "trial " << id;
    EXPECT_EQ(b.stops.at(id).reason, stop.reason) << "trial " << id;
  }
}

TEST(SchedulerProperty, SameOrderSameDecisionsAndRestartChangesNothing) {
  ScheduleSpec median;
  median.rule = ScheduleSpec::Rule::kMedian;
  median.grace_updates = 100;
  median.min_trials = 3;
  for (const ScheduleSpec& spec : {Asha(50, 2), Asha(100, 3), median}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const SimulatedRun a = Simulate(spec, seed, -1);
      const SimulatedRun again = Simulate(spec, seed, -1);
      ExpectSameStops(a, again);
      EXPECT_GT(a.stops.size(), 0u);
      EXPECT_LT(a.stops.size(), 24u);
      for (int64_t cut : {1, 17, 40, 77}) ExpectSameStops(a, Simulate(spec, seed, cut));
      if (spec.rule != ScheduleSpec::Rule::kAsha) continue;
      // The lowest value recorded at rung 0 is never stopped there.
      TrialId best = 0;
      double best_value = 2;
      for (const auto& [id, stored] : a.stored) {
        for (const Checkpoint& c : stored) {
          if (c.step < spec.min_updates) continue;
          if (c.validation_error < best_value) best = id, best_value = c.validation_error;
          break;
        }
      }
      ASSERT_NE(best, 0);
      EXPECT_TRUE(!a.stops.contains(best) || a.stops.at(best).rung > spec.min_updates);
    }
  }
}

// The lease order: index order for the rules that judge a trial alone, a
// seeded permutation for those that compare it with earlier reports.
TEST(LeaseOrder, IsASeededPermutationForAshaAndMedianAndIndexOrderOtherwise) {
  ScheduleSpec median;
  median.rule = ScheduleSpec::Rule::kMedian;
  ScheduleSpec stuck;
  stuck.rule = ScheduleSpec::Rule::kStuck;
  const std::vector<int> identity = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(LeaseOrder(ScheduleSpec{}, 7, 10), identity);
  EXPECT_EQ(LeaseOrder(stuck, 7, 10), identity);
  // Fixed numbers: the order must be the same on every machine and version.
  EXPECT_THAT(LeaseOrder(Asha(100, 3), 7, 10), ElementsAre(8, 2, 6, 4, 3, 7, 9, 0, 5, 1));
  EXPECT_THAT(LeaseOrder(Asha(100, 3), 8, 10), ElementsAre(9, 4, 5, 7, 3, 1, 0, 8, 2, 6));
  // The rule's parameters do not matter, only that it compares trials.
  EXPECT_EQ(LeaseOrder(median, 7, 10), LeaseOrder(Asha(100, 3), 7, 10));
  // A permutation of 0 .. n-1, and a prefix of a longer sweep's order keeps
  // its relative order (the key depends on the index alone).
  std::vector<int> order = LeaseOrder(Asha(100, 3), 12345, 1000);
  const std::vector<int> longer = LeaseOrder(Asha(100, 3), 12345, 2000);
  std::vector<int> longer_prefix;
  for (int i : longer) {
    if (i < 1000) longer_prefix.push_back(i);
  }
  EXPECT_EQ(order, longer_prefix);
  std::sort(order.begin(), order.end());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(order[i], i);
}

// ASHA over one group of `k` configurations whose validation error falls with
// the index (0.80 - 0.04 i, as the learning rates of a grid often do), run by
// `runners` workers that take the trials in `lease_order`, all training at the
// same speed, each reporting one checkpoint per rung; reports arrive in time
// order (ties: the lower runner first). Returns the updates trained.
int64_t SimulatedAshaUpdates(const ScheduleSpec& schedule, int64_t updates,
                             const std::vector<int>& lease_order, int runners) {
  Scheduler scheduler(schedule);
  const TrialSpec spec = Trial(updates);
  const std::vector<int64_t> rungs = AshaRungs(schedule.min_updates, schedule.eta, updates);
  struct Runner {
    int trial = -1;
    int64_t start = 0;
    size_t next_rung = 0;
  };
  std::vector<Runner> busy(static_cast<size_t>(runners));
  size_t next_lease = 0;
  int64_t trained = 0;
  auto lease = [&](Runner& r, int64_t now) {
    r = Runner{};
    if (next_lease == lease_order.size()) return;
    r.trial = lease_order[next_lease++];
    r.start = now;
  };
  // A runner's next event: its next rung, or its last update.
  auto event = [&](const Runner& r) {
    return r.start + (r.next_rung < rungs.size() ? rungs[r.next_rung] : updates);
  };
  for (Runner& r : busy) lease(r, 0);
  while (true) {
    Runner* first = nullptr;
    for (Runner& r : busy) {
      if (r.trial >= 0 && (first == nullptr || event(r) < event(*first))) first = &r;
    }
    if (first == nullptr) break;
    const int64_t now = event(*first);
    if (first->next_rung == rungs.size()) {
      trained += updates;
      lease(*first, now);
      continue;
    }
    const int64_t rung = rungs[first->next_rung++];
    const double error = 0.80 - 0.04 * first->trial;
    if (!Continues(scheduler, first->trial + 1, spec, rung, error)) {
      trained += rung;
      lease(*first, now);
    }
  }
  return trained;
}

// The bias the seeded lease order removes: in index order every trial beats
// all those before it at every rung, so ASHA stops nothing.
TEST(LeaseOrder, LetsAshaStopTrialsWhoseQualityRisesWithTheIndex) {
  const ScheduleSpec asha = Asha(100, 3);
  constexpr int64_t kUpdates = 2700;  // rungs 100, 300, 900
  constexpr int kTrials = 9;
  std::vector<int> index_order(kTrials);
  for (int i = 0; i < kTrials; ++i) index_order[i] = i;
  EXPECT_EQ(SimulatedAshaUpdates(asha, kUpdates, index_order, 2), kTrials * kUpdates);
  // Seed 7 leases the best trial (8) first: it alone runs to the end, the
  // others stop at the first rung but one at the second: 2,700 + 7 x 100 +
  // 300 = 3,700 updates, 15% of the index order's 24,300.
  EXPECT_EQ(SimulatedAshaUpdates(asha, kUpdates, LeaseOrder(asha, 7, kTrials), 2), 3700);
  // Not one lucky seed: over seeds 1 .. 20 the seeded order trains 182,400
  // updates, 37.5% of the index order's 20 x 24,300, and never more.
  int64_t total = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const int64_t trained =
        SimulatedAshaUpdates(asha, kUpdates, LeaseOrder(asha, seed, kTrials), 2);
    EXPECT_LT(trained, kTrials * kUpdates) << "seed " << seed;
    total += trained;
  }
  EXPECT_EQ(total, 182400);
}

}  // namespace
}  // namespace deepsweep
