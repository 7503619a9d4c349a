#include "core/trial.h"

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

TEST(TrialState, NamesRoundTrip) {
  for (TrialState s :
       {TrialState::kPending, TrialState::kLeased, TrialState::kSucceeded, TrialState::kDiverged,
        TrialState::kFailed, TrialState::kCancelled, TrialState::kPruned}) {
    EXPECT_EQ(ParseTrialState(TrialStateName(s)), s);
  }
  EXPECT_EQ(TrialStateName(TrialState::kDiverged), "diverged");
  EXPECT_FALSE(ParseTrialState("running").has_value());
}

TEST(TrialState, TerminalStates) {
  EXPECT_FALSE(IsTerminal(TrialState::kPending));
  EXPECT_FALSE(IsTerminal(TrialState::kLeased));
  EXPECT_TRUE(IsTerminal(TrialState::kSucceeded));
  EXPECT_TRUE(IsTerminal(TrialState::kDiverged));
  EXPECT_TRUE(IsTerminal(TrialState::kFailed));
  EXPECT_TRUE(IsTerminal(TrialState::kCancelled));
  EXPECT_TRUE(IsTerminal(TrialState::kPruned));
}

TEST(LayerQuantity, NamesRoundTrip) {
  EXPECT_EQ(LayerQuantityName(LayerQuantity::kBackpropGrad), "backprop_grad");
  EXPECT_EQ(ParseLayerQuantity("weight_grad"), LayerQuantity::kWeightGrad);
  EXPECT_FALSE(ParseLayerQuantity("bias_grad").has_value());
}

}  // namespace
}  // namespace deepsweep
