// The auto plan's calibration with a scripted timer: the decision logic
// (fastest per width, least over rounds, log-scale ranges), the budget, and
// the real timer's step loop on a FakeClock. Nothing here depends on speed.
#include "ml/auto_calibration.h"

#include <map>
#include <ostream>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace deepsweep::ml {

// Readable failures (gtest finds it by argument-dependent lookup).
inline void PrintTo(const AutoPlan& plan, std::ostream* out) { *out << AutoPlanText(plan); }

namespace {

constexpr GemmBackend kSmall = GemmBackend::kSmallBatch;
constexpr GemmBackend kEigen = GemmBackend::kEigen;
constexpr GemmBackend kBlas = GemmBackend::kBlas;

// Seconds per step by (backend, width), one value per round (the last one
// repeats); every call takes `elapsed` seconds and times `steps` steps.
class ScriptedTimer final : public StepTimer {
 public:
  void Script(GemmBackend backend, int columns, std::vector<double> seconds) {
    script_[{backend, columns}] = std::move(seconds);
  }
  StepTiming Measure(GemmBackend backend, int columns) override {
    calls.emplace_back(backend, columns);
    const std::vector<double>& s = script_.at({backend, columns});
    int& round = rounds_[{backend, columns}];
    const double seconds = s[std::min<size_t>(round++, s.size() - 1)];
    return StepTiming{.seconds_per_step = seconds, .steps = steps, .elapsed_seconds = elapsed};
  }

  double elapsed = 0.01;
  int64_t steps = 1;
  std::vector<std::pair<GemmBackend, int>> calls;

 private:
  std::map<std::pair<GemmBackend, int>, std::vector<double>> script_;
  std::map<std::pair<GemmBackend, int>, int> rounds_;
};

AutoPlan Plan(std::vector<AutoPlan::Range> ranges) { return AutoPlan{.ranges = std::move(ranges)}; }

TEST(CalibrateAutoPlan, PicksTheFastestAtEachWidthWithLogScaleRanges) {
  ScriptedTimer timer;
  const CalibrationOptions options{
      .columns = {1, 10, 32, 64, 128, 256}, .min_rounds = 1, .max_rounds = 1};
  // small_batch wins to 32, blas at 64, eigen at 128 and 256.
  const std::map<int, std::vector<double>> seconds = {{1, {1, 2, 3}},   {10, {1, 2, 3}},
                                                      {32, {1, 3, 2}},  {64, {3, 2, 1}},
                                                      {128, {3, 1, 2}}, {256, {3, 1, 2}}};
  for (const auto& [columns, s] : seconds) {
    timer.Script(kSmall, columns, {s[0]});
    timer.Script(kEigen, columns, {s[1]});
    timer.Script(kBlas, columns, {s[2]});
  }
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(timer, options);
  ASSERT_TRUE(c.ok()) << c.status();
  // blas from ceil(sqrt(32 * 64)) = 46, eigen from ceil(sqrt(64 * 128)) = 91.
  EXPECT_EQ(AutoPlanText(c->plan), "1:small_batch,46:blas,91:eigen");
  EXPECT_EQ(c->plan.For(45), kSmall);
  EXPECT_EQ(c->plan.For(46), kBlas);
  EXPECT_EQ(c->plan.For(90), kBlas);
  EXPECT_EQ(c->plan.For(1000), kEigen);
  EXPECT_EQ(c->rounds, 1);
  EXPECT_EQ(c->best_seconds[3], (std::vector<double>{3, 2, 1}));
  // Widths in order, candidates interleaved within each.
  ASSERT_EQ(timer.calls.size(), 18u);
  EXPECT_EQ(timer.calls[0], std::make_pair(kSmall, 1));
  EXPECT_EQ(timer.calls[1], std::make_pair(kEigen, 1));
  EXPECT_EQ(timer.calls[2], std::make_pair(kBlas, 1));
  EXPECT_EQ(timer.calls[3], std::make_pair(kSmall, 10));
}

TEST(CalibrateAutoPlan, ScoresEachCandidateByItsLeastTimeOverRounds) {
  ScriptedTimer timer;
  // Round 1 disturbed small_batch (5 s); its round 2 (1 s) beats blas's best
  // (1.2 s, close enough for a third round of both).
  timer.Script(kSmall, 10, {5, 1, 3});
  timer.Script(kBlas, 10, {1.2, 1.2, 1.2});
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(
      timer,
      {.columns = {10}, .candidates = {kSmall, kBlas}, .budget_seconds = 100, .max_rounds = 3});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 3);
  EXPECT_EQ(c->plan, Plan({{1, kSmall}}));
  EXPECT_EQ(c->best_seconds[0], (std::vector<double>{1, 1.2}));
  EXPECT_EQ(c->measurements[0], (std::vector<int>{3, 3}));

  // With one round, the disturbed measurement decides.
  ScriptedTimer once;
  once.Script(kSmall, 10, {5, 1});
  once.Script(kBlas, 10, {2});
  c = CalibrateAutoPlan(
      once, {.columns = {10}, .candidates = {kSmall, kBlas}, .min_rounds = 1, .max_rounds = 1});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->plan, Plan({{1, kBlas}}));
}

TEST(CalibrateAutoPlan, TiesGoToTheEarlierCandidate) {
  ScriptedTimer timer;
  timer.Script(kBlas, 64, {1});
  timer.Script(kEigen, 64, {1});
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(
      timer, {.columns = {64}, .candidates = {kBlas, kEigen}, .min_rounds = 1, .max_rounds = 1});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->plan, Plan({{1, kBlas}}));
}

TEST(CalibrateAutoPlan, StartsARoundOnlyWhenItFitsTheBudget) {
  ScriptedTimer timer;
  for (int columns : {10, 100}) {
    timer.Script(kSmall, columns, {0.045});
    timer.Script(kBlas, columns, {0.04});
  }
  // A call takes 0.1 s of which 0.0425 s on average are timed steps: a round
  // is 0.4 s, and the next one is estimated at its 0.17 s of timed steps.
  timer.elapsed = 0.1;
  const CalibrationOptions options{
      .columns = {10, 100}, .candidates = {kSmall, kBlas}, .budget_seconds = 0.95, .max_rounds = 9};
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(timer, options);
  ASSERT_TRUE(c.ok()) << c.status();
  // Round 2 starts at 0.4 + 0.17 <= 0.95; round 3 would at 0.8 + 0.17 > 0.95.
  EXPECT_EQ(c->rounds, 2);
  EXPECT_DOUBLE_EQ(c->elapsed_seconds, 0.8);
  EXPECT_EQ(timer.calls.size(), 8u);

  // Always min_rounds rounds, however long they took; never more than max_rounds.
  for (int min_rounds : {1, 2, 3}) {
    ScriptedTimer slow;
    slow.Script(kSmall, 10, {0.05});
    slow.elapsed = 50;
    c = CalibrateAutoPlan(
        slow,
        {.columns = {10}, .candidates = {kSmall}, .budget_seconds = 1, .min_rounds = min_rounds});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->rounds, min_rounds);
  }
  ScriptedTimer fast;
  fast.Script(kSmall, 10, {0.05});
  fast.Script(kBlas, 10, {0.05});
  fast.elapsed = 0;
  c = CalibrateAutoPlan(fast, {.columns = {10}, .candidates = {kSmall, kBlas}, .max_rounds = 4});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 4);
}

// Round r starts at candidate r mod n: each candidate is the first timed at a
// width in some round, and a disturbance of whoever goes first after a change
// of width (the old procedure's small_batch at minibatch 1) hits all alike.
TEST(CalibrateAutoPlan, RotatesWhichCandidateGoesFirst) {
  ScriptedTimer timer;
  for (int columns : {1, 10}) {
    for (GemmBackend backend : {kSmall, kEigen, kBlas}) timer.Script(backend, columns, {1});
  }
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(
      timer, {.columns = {1, 10}, .budget_seconds = 100, .min_rounds = 3, .max_rounds = 3});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(timer.calls.size(), 18u);
  const std::vector<std::pair<GemmBackend, int>> expected = {
      {kSmall, 1}, {kEigen, 1}, {kBlas, 1},  {kSmall, 10}, {kEigen, 10}, {kBlas, 10},
      {kEigen, 1}, {kBlas, 1},  {kSmall, 1}, {kEigen, 10}, {kBlas, 10},  {kSmall, 10},
      {kBlas, 1},  {kSmall, 1}, {kEigen, 1}, {kBlas, 10},  {kSmall, 10}, {kEigen, 10}};
  EXPECT_EQ(timer.calls, expected);
  // Ties still go to the earlier candidate in `candidates`, whatever the order of timing.
  EXPECT_EQ(c->plan, Plan({{1, kSmall}}));
}

// The failure the minimum of rounds is for: the first round disturbs
// small_batch at minibatch 1 (twice its time), the default of two rounds finds it.
TEST(CalibrateAutoPlan, ASingleDisturbedRoundDoesNotDecideByDefault) {
  ScriptedTimer timer;
  timer.Script(kSmall, 1, {0.0048, 0.0024});
  timer.Script(kEigen, 1, {0.0027});
  timer.Script(kBlas, 1, {0.0041});
  timer.elapsed = 10;  // a loaded machine: the budget allows no second round
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(timer, {.columns = {1}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 2);
  EXPECT_EQ(c->plan, Plan({{1, kSmall}}));
}

// After min_rounds, a width's candidates more than contender_margin behind
// its best are not measured again, and a width with one contender left is
// decided; the rounds go on while some width is not.
TEST(CalibrateAutoPlan, LaterRoundsMeasureOnlyTheContenders) {
  ScriptedTimer timer;
  // At 1, eigen is 10% behind small_batch, blas 2x; at 10 small_batch leads by 2x.
  timer.Script(kSmall, 1, {1.0});
  timer.Script(kEigen, 1, {1.1});
  timer.Script(kBlas, 1, {2.0});
  timer.Script(kSmall, 10, {1.0});
  timer.Script(kEigen, 10, {3.0});
  timer.Script(kBlas, 10, {2.0});
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(
      timer, {.columns = {1, 10}, .budget_seconds = 100, .min_rounds = 2, .max_rounds = 4});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 4);
  EXPECT_EQ(c->measurements[0], (std::vector<int>{4, 4, 2}));
  EXPECT_EQ(c->measurements[1], (std::vector<int>{2, 2, 2}));
  // Rounds 3 and 4: small_batch and eigen at 1 (round 3's first, blas, skipped).
  const std::vector<std::pair<GemmBackend, int>> later(timer.calls.begin() + 12, timer.calls.end());
  const std::vector<std::pair<GemmBackend, int>> expected = {
      {kSmall, 1}, {kEigen, 1}, {kSmall, 1}, {kEigen, 1}};
  EXPECT_EQ(later, expected);
  EXPECT_EQ(c->plan, Plan({{1, kSmall}}));

  // Every width decided after the minimum: no further round, whatever the budget.
  ScriptedTimer decided;
  decided.Script(kSmall, 10, {1.0});
  decided.Script(kBlas, 10, {2.0});
  c = CalibrateAutoPlan(decided,
                        {.columns = {10}, .candidates = {kSmall, kBlas}, .budget_seconds = 100});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 2);
  EXPECT_EQ(decided.calls.size(), 4u);
}

// What the contenders' rounds are for: small_batch disturbed in both of the
// first rounds at minibatch 1 (1.5 ms against eigen's 1.3 ms), still within
// the margin, measured again and found the faster (1.0 ms).
TEST(CalibrateAutoPlan, ACloseCallGetsMoreRounds) {
  ScriptedTimer timer;
  timer.Script(kSmall, 1, {0.0015, 0.0015, 0.0010});
  timer.Script(kEigen, 1, {0.0013});
  timer.Script(kBlas, 1, {0.0023});
  timer.Script(kSmall, 256, {0.080});
  timer.Script(kEigen, 256, {0.150});
  timer.Script(kBlas, 256, {0.070});
  timer.elapsed = 0.02;
  timer.steps = 10;
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(timer, {.columns = {1, 256}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GE(c->rounds, 3);
  EXPECT_EQ(c->plan.For(1), kSmall);
  EXPECT_EQ(c->plan.For(256), kBlas);
  EXPECT_EQ(c->measurements[0][2], 2);  // blas at 1: 77% behind after two rounds
  EXPECT_EQ(c->measurements[1][1], 2);  // eigen at 256: 2x behind
}

TEST(CalibrateAutoPlan, RefusesBadOptions) {
  ScriptedTimer timer;
  const std::vector<CalibrationOptions> bad = {
      {.columns = {}},
      {.columns = {0, 10}},
      {.columns = {32, 10}},
      {.candidates = {}},
      {.candidates = {kSmall, GemmBackend::kAuto}},
      {.budget_seconds = 0},
      {.min_rounds = 0},
      {.max_rounds = 0},
      {.min_rounds = 3, .max_rounds = 2},
      {.contender_margin = -0.1},
  };
  for (const CalibrationOptions& options : bad) {
    EXPECT_EQ(CalibrateAutoPlan(timer, options).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(timer.calls.empty());
}

TEST(CalibrationSummary, OneLinePerWidth) {
  ScriptedTimer timer;
  timer.Script(kSmall, 10, {0.00321});
  timer.Script(kBlas, 10, {0.0054});
  const CalibrationOptions options{
      .columns = {10}, .candidates = {kSmall, kBlas}, .min_rounds = 1, .max_rounds = 1};
  absl::StatusOr<Calibration> c = CalibrateAutoPlan(timer, options);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(CalibrationSummary(*c, options),
            std::vector<std::string>{
                "10 columns: small_batch 3.210 ms (1), blas 5.400 ms (1) -> small_batch"});
}

// The real timer's loop, on clocks that do not move: one untimed warm-up the
// first time, then max_steps steps (min_seconds never passes).
TEST(TrainingStepTimer, WarmsUpOnceThenStepsUntilItsLimit) {
  FakeClock wall, steps;
  StepTimerOptions options{
      .shape = {.input_dim = 6, .hidden = {5}, .output_dim = 3}, .min_seconds = 1, .max_steps = 4};
  absl::StatusOr<std::unique_ptr<TrainingStepTimer>> timer =
      TrainingStepTimer::Create(&wall, &steps, options);
  ASSERT_TRUE(timer.ok()) << timer.status();
  for (GemmBackend backend : {kSmall, kEigen, kBlas}) {
    const StepTiming t = (*timer)->Measure(backend, 7);
    EXPECT_EQ(t.steps, 4);
    EXPECT_EQ(t.seconds_per_step, 0);
    EXPECT_EQ(t.elapsed_seconds, 0);
  }
  EXPECT_EQ(TrainingStepTimer::Create(&wall, &steps, {.threads = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TrainingStepTimer::Create(&wall, &steps, {.shape = {.input_dim = 0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepsweep::ml
