#include "core/trial_diagnosis.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using Kind = DiagnosisFinding::Kind;

// A checkpoint of a `depth`-layer net: activation saturated fraction `top`
// at the top layer (0 below), Jacobian mean singular value `jacobian` in every
// layer, back-propagated gradient std `grad[l - 1]` at layer l.
Checkpoint At(int64_t step, int depth, double top, double jacobian, std::vector<double> grad) {
  Checkpoint c{.step = step, .train_nll = 1.0, .test_error = 0.5, .test_nll = 1.0};
  for (int l = 1; l <= depth; ++l) {
    c.layer_stats.push_back({.layer = l,
                             .quantity = LayerQuantity::kActivation,
                             .saturated_fraction = l == depth ? top : 0.0,
                             .jacobian_sv_mean = jacobian});
    c.layer_stats.push_back(
        {.layer = l, .quantity = LayerQuantity::kBackpropGrad, .std = grad[l - 1]});
  }
  return c;
}

const std::vector<double> kFlat = {1, 1, 1};

TEST(TrialDiagnosis, HealthyTrialHasNoWarningSigns) {
  const TrialRecord trial{.state = TrialState::kSucceeded};
  const std::vector<Checkpoint> run = {At(0, 3, 0.0, 0.9, kFlat), At(100, 3, 0.1, 1.1, kFlat)};
  const std::vector<DiagnosisFinding> findings = DiagnoseTrial(trial, run);
  EXPECT_TRUE(findings.empty());
  EXPECT_EQ(DiagnosisLine(findings), "no warning signs");
}

TEST(TrialDiagnosis, TopLayerSaturationAndItsRecovery) {
  const TrialRecord trial{.state = TrialState::kSucceeded};
  const std::vector<Checkpoint> run = {At(0, 3, 0.0, 1, kFlat), At(100, 3, 0.49, 1, kFlat),
                                       At(200, 3, 0.8, 1, kFlat), At(300, 3, 0.3, 1, kFlat),
                                       At(400, 3, 0.2, 1, kFlat)};
  const std::vector<DiagnosisFinding> findings = DiagnoseTrial(trial, run);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, Kind::kTopLayerSaturated);
  EXPECT_EQ(findings[0].step, 200);            // 0.49 is below the 0.5 threshold
  EXPECT_EQ(findings[0].recovered_step, 400);  // 0.3 is not yet below 0.25
  EXPECT_EQ(findings[0].text,
            "top hidden layer 3 saturated at step 200 (80% of units within 2% of a bound), "
            "recovered by step 400");
  // Without the recovery the text says so.
  const std::vector<DiagnosisFinding> stuck =
      DiagnoseTrial(trial, std::vector<Checkpoint>(run.begin(), run.begin() + 4));
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_FALSE(stuck[0].recovered_step.has_value());
  EXPECT_THAT(stuck[0].text, ::testing::EndsWith("not recovered"));
}

// Sigmoid's top layer driven toward 0 (Fig. 2): no unit past the 2% bound
// yet, but 98% of them in the lowest tenth of [0, 1].
TEST(TrialDiagnosis, BoundedTopLayerPinnedToOneEndCountsAsSaturated) {
  auto pinned = [](int64_t step, double p98) {
    Checkpoint c = At(step, 2, 0.0, 1, {1, 1});
    for (LayerStat& s : c.layer_stats) {
      if (s.layer == 2 && s.quantity == LayerQuantity::kActivation) {
        s.hist_lo = 0;
        s.hist_hi = 1;
        s.p02 = 0.01;
        s.p98 = p98;
      }
    }
    return c;
  };
  const std::vector<Checkpoint> run = {pinned(0, 0.6), pinned(100, 0.11), pinned(200, 0.08),
                                       pinned(300, 0.15), pinned(400, 0.3)};
  TrialRecord sigmoid{.state = TrialState::kSucceeded};
  sigmoid.spec.activation = "sigmoid";
  const std::vector<DiagnosisFinding> findings = DiagnoseTrial(sigmoid, run);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].step, 200);
  EXPECT_EQ(findings[0].recovered_step, 400);  // 0.15 is still within 0.2 of the end
  EXPECT_EQ(findings[0].text,
            "top hidden layer 2 saturated at step 200 (pushed to the low end of [0, 1]: 98% of "
            "activations below 0.08), recovered by step 400");
  // An unbounded activation's histogram range is quantiles, not an asymptote.
  TrialRecord relu = sigmoid;
  relu.spec.activation = "relu";
  EXPECT_TRUE(DiagnoseTrial(relu, run).empty());
}

TEST(TrialDiagnosis, BackpropGradientsShrinkingLayerByLayer) {
  const TrialRecord trial{.state = TrialState::kSucceeded};
  // Decreasing toward the input but only by 0.6: not flagged. Not monotone: not flagged.
  const std::vector<Checkpoint> mild = {At(0, 3, 0, 1, {0.6, 0.8, 1.0}),
                                        At(100, 3, 0, 1, {0.1, 2.0, 1.0})};
  EXPECT_TRUE(DiagnoseTrial(trial, mild).empty());
  const std::vector<Checkpoint> run = {At(0, 3, 0, 1, {0.6, 0.8, 1.0}),
                                       At(100, 3, 0, 1, {0.25, 0.5, 1.0})};
  const std::vector<DiagnosisFinding> findings = DiagnoseTrial(trial, run);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, Kind::kBackpropShrinking);
  EXPECT_EQ(findings[0].step, 100);
  EXPECT_EQ(findings[0].text,
            "back-propagated gradients shrink layer by layer at step 100 (std 1 at layer 3, "
            "0.25 at layer 1)");
}

TEST(TrialDiagnosis, JacobianSingularValuesFarFromOne) {
  const TrialRecord trial{.state = TrialState::kSucceeded};
  EXPECT_TRUE(DiagnoseTrial(trial, {At(0, 3, 0, 0.5, kFlat), At(9, 3, 0, 2.0, kFlat)}).empty());
  const std::vector<DiagnosisFinding> low = DiagnoseTrial(trial, {At(0, 3, 0, 0.45, kFlat)});
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].kind, Kind::kJacobianFarFromOne);
  EXPECT_EQ(low[0].text, "Jacobian singular values far from 1 at step 0 (mean 0.45 over 3 layers)");
  const std::vector<DiagnosisFinding> high = DiagnoseTrial(trial, {At(7, 3, 0, 2.5, kFlat)});
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].step, 7);
}

TEST(TrialDiagnosis, DivergenceFromStateOrNonFiniteLoss) {
  const TrialRecord diverged{.state = TrialState::kDiverged, .reason = "loss became NaN"};
  const std::vector<DiagnosisFinding> by_state = DiagnoseTrial(diverged, {});
  ASSERT_EQ(by_state.size(), 1u);
  EXPECT_EQ(by_state[0].kind, Kind::kDiverged);
  EXPECT_FALSE(by_state[0].step.has_value());
  EXPECT_EQ(by_state[0].text, "diverged: loss became NaN");

  Checkpoint bad = At(300, 3, 0, 1, kFlat);
  bad.train_nll = std::numeric_limits<double>::infinity();
  const TrialRecord running{.state = TrialState::kLeased};
  // Step 0 has no training loss yet (NaN by definition): not a divergence.
  Checkpoint start = At(0, 3, 0, 1, kFlat);
  start.train_nll = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(DiagnoseTrial(running, {start}).empty());
  const std::vector<DiagnosisFinding> by_loss =
      DiagnoseTrial(running, {At(200, 3, 0, 1, kFlat), bad});
  ASSERT_EQ(by_loss.size(), 1u);
  EXPECT_EQ(by_loss[0].step, 300);
  EXPECT_EQ(by_loss[0].text, "diverged: loss not finite at step 300");
}

TEST(TrialDiagnosis, LineJoinsFindingsInOrder) {
  const TrialRecord trial{.state = TrialState::kDiverged};
  const std::vector<DiagnosisFinding> findings =
      DiagnoseTrial(trial, {At(0, 2, 0.9, 0.3, {0.1, 1.0})});
  EXPECT_THAT(findings, ElementsAre(Field(&DiagnosisFinding::kind, Kind::kTopLayerSaturated),
                                    Field(&DiagnosisFinding::kind, Kind::kBackpropShrinking),
                                    Field(&DiagnosisFinding::kind, Kind::kJacobianFarFromOne),
                                    Field(&DiagnosisFinding::kind, Kind::kDiverged)));
  EXPECT_EQ(DiagnosisLine(findings),
            "top hidden layer 2 saturated at step 0 (90% of units within 2% of a bound), not "
            "recovered; "
            "back-propagated gradients shrink layer by layer at step 0 (std 1 at layer 2, 0.1 at "
            "layer 1); Jacobian singular values far from 1 at step 0 (mean 0.30 over 2 layers); "
            "diverged");
}

}  // namespace
}  // namespace deepsweep
