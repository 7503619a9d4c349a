#include "client/progress.h"

#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

SweepRecord Sweep(TrialCounts counts, SweepState state = SweepState::kActive) {
  SweepRecord sweep;
  sweep.id = 3;
  sweep.name = "glorot-quick";
  sweep.state = state;
  sweep.created_at = kStart;
  sweep.counts = counts;
  return sweep;
}

TEST(HumanDurationTest, Units) {
  EXPECT_EQ(HumanDuration(absl::Seconds(0)), "0s");
  EXPECT_EQ(HumanDuration(absl::Seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(absl::Seconds(725)), "12m05s");
  EXPECT_EQ(HumanDuration(absl::Minutes(185)), "3h05m");
  EXPECT_EQ(HumanDuration(absl::Hours(52)), "2d04h");
  EXPECT_EQ(HumanDuration(absl::Seconds(-5)), "0s");
}

TEST(ProgressBarTest, FillsByFraction) {
  EXPECT_EQ(ProgressBar(0, 10), "[..........]");
  EXPECT_EQ(ProgressBar(0.35, 10), "[###.......]");
  EXPECT_EQ(ProgressBar(1, 10), "[##########]");
  EXPECT_EQ(ProgressBar(1.7, 4), "[####]");
}

// 10 trials: 4 done, 2 leased half-way, 4 pending. Completions at +1h and
// +2h with the window covering all of them: rate = 2 / 3h since creation at
// now = +3h -> 0.6667/h; remaining = 6 - 1 = 5 -> ETA 7.5h.
TEST(EstimateProgressTest, RateSinceCreationWhenFewCompletions) {
  ProgressInputs inputs;
  inputs.counts = {.pending = 4, .leased = 2, .succeeded = 3, .cancelled = 1};
  inputs.partial = 1.0;
  inputs.finish_times = {kStart + absl::Hours(2), kStart + absl::Hours(1)};
  inputs.created_at = kStart;
  const ProgressEstimate estimate = EstimateProgress(inputs, kStart + absl::Hours(3));
  EXPECT_DOUBLE_EQ(estimate.fraction, 0.5);
  ASSERT_TRUE(estimate.trials_per_hour.has_value());
  EXPECT_NEAR(*estimate.trials_per_hour, 2.0 / 3.0, 1e-12);
  ASSERT_TRUE(estimate.eta.has_value());
  EXPECT_NEAR(absl::ToDoubleHours(*estimate.eta), 7.5, 1e-9);
}

// Before any trial finished, the running trials' progress gives the rate:
// 2 leased trials at 0.3 and 0.2 after 2h -> 0.5 / 2h = 0.25/h; remaining =
// 3 pending + 2 leased - 0.5 = 4.5 -> ETA 18h.
TEST(EstimateProgressTest, InFlightProgressGivesTheFirstRate) {
  ProgressInputs inputs;
  inputs.counts = {.pending = 3, .leased = 2};
  inputs.partial = 0.5;
  inputs.created_at = kStart;
  const ProgressEstimate estimate = EstimateProgress(inputs, kStart + absl::Hours(2));
  ASSERT_TRUE(estimate.trials_per_hour.has_value());
  EXPECT_DOUBLE_EQ(*estimate.trials_per_hour, 0.25);
  ASSERT_TRUE(estimate.eta.has_value());
  EXPECT_NEAR(absl::ToDoubleHours(*estimate.eta), 18, 1e-9);
  inputs.partial = 0;  // nothing done at all: no rate yet
  EXPECT_FALSE(EstimateProgress(inputs, kStart + absl::Hours(2)).trials_per_hour.has_value());
}

// kStart = 2023-11-14T22:13:20Z.
// Window of 2 over completions at +1h, +5h, +6h, now = +7h: the 2nd most
// recent is at +5h, so rate = 2 / 2h = 1/h.
TEST(EstimateProgressTest, RateOverRecentCompletions) {
  ProgressInputs inputs;
  inputs.counts = {.pending = 3, .succeeded = 3};
  inputs.finish_times = {kStart + absl::Hours(6), kStart + absl::Hours(1), kStart + absl::Hours(5)};
  inputs.created_at = kStart;
  inputs.rate_window = 2;
  const ProgressEstimate estimate = EstimateProgress(inputs, kStart + absl::Hours(7));
  EXPECT_NEAR(*estimate.trials_per_hour, 1.0, 1e-12);
  EXPECT_NEAR(absl::ToDoubleHours(*estimate.eta), 3.0, 1e-9);
}

TEST(EstimateProgressTest, NoRateWithoutCompletionsOrWhenNotActive) {
  ProgressInputs inputs;
  inputs.counts = {.pending = 5};
  inputs.created_at = kStart;
  ProgressEstimate estimate = EstimateProgress(inputs, kStart + absl::Hours(1));
  EXPECT_EQ(estimate.fraction, 0);
  EXPECT_FALSE(estimate.trials_per_hour.has_value());
  EXPECT_FALSE(estimate.eta.has_value());

  inputs.state = SweepState::kCancelled;
  inputs.finish_times = {kStart};
  estimate = EstimateProgress(inputs, kStart + absl::Hours(1));
  EXPECT_FALSE(estimate.trials_per_hour.has_value());

  EXPECT_EQ(EstimateProgress(ProgressInputs{}, kStart).fraction, 0);  // empty sweep
}

TEST(SweepStatusTest, LinesAndOneLine) {
  const SweepRecord sweep =
      Sweep({.pending = 53, .leased = 4, .succeeded = 60, .diverged = 2, .failed = 1});
  ProgressEstimate estimate;
  estimate.fraction = 0.524;
  estimate.trials_per_hour = 21.34;
  estimate.eta = absl::Minutes(160);
  const absl::Time now = kStart + absl::Minutes(125);
  const std::vector<std::string> lines = SweepStatusLines(sweep, estimate, now, 20);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "sweep 3 'glorot-quick': active, created 2h05m ago");
  EXPECT_EQ(lines[1], "[##########..........]  52.4%  63/120 done");
  EXPECT_EQ(lines[2], "succeeded 60  diverged 2  failed 1  cancelled 0  leased 4  pending 53");
  EXPECT_EQ(lines[3], "21.3 trials/h, ETA 2h40m");
  EXPECT_EQ(SweepStatusLine(sweep, estimate, now),
            "2023-11-15T00:18:20Z sweep 3 active 63/120 done (52.4%): succeeded 60, diverged 2, "
            "failed 1, cancelled 0, leased 4, pending 53; 21.3 trials/h, ETA 2h40m");
}

TEST(SweepStatusTest, FinishedSweepSaysHowLongItTook) {
  SweepRecord sweep = Sweep({.succeeded = 2}, SweepState::kFinished);
  sweep.finished_at = kStart + absl::Minutes(90);
  ProgressEstimate estimate;
  estimate.fraction = 1;
  EXPECT_EQ(SweepStatusLines(sweep, estimate, kStart + absl::Hours(5), 4)[3],
            "finished after 1h30m");
  sweep.state = SweepState::kActive;
  EXPECT_EQ(SweepStatusLines(sweep, ProgressEstimate{}, kStart, 4)[3],
            "throughput unknown yet, ETA unknown");
}

}  // namespace
}  // namespace deepsweep::client
