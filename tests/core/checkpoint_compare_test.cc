#include "core/checkpoint_compare.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

Checkpoint Sample() {
  Checkpoint c;
  c.step = 20;
  c.examples_seen = 200;
  c.train_nll = std::numeric_limits<double>::quiet_NaN();
  c.test_error = 0.25;
  c.wall_seconds = 1.5;
  LayerStat s;
  s.layer = 2;
  s.quantity = LayerQuantity::kBackpropGrad;
  s.p98 = 0.731;
  s.histogram = {0.25f, 0.75f};
  c.layer_stats = {s};
  return c;
}

TEST(CheckpointCompareTest, EqualBitsIncludingNaNAndIgnoringWallTime) {
  Checkpoint a = Sample();
  Checkpoint b = Sample();
  b.wall_seconds = 99;
  EXPECT_EQ(CheckpointDifference(a, b), "");
  EXPECT_EQ(CheckpointsDifference({a, a}, {b, b}), "");
}

TEST(CheckpointCompareTest, NamesTheFirstDifferenceWithExactValues) {
  Checkpoint a = Sample();
  Checkpoint b = Sample();
  b.layer_stats[0].p98 = std::nextafter(0.731, 1.0);
  EXPECT_EQ(CheckpointDifference(a, b),
            "step 20: layer 2 backprop_grad p98: 0.731 vs 0.7310000000000001");
  b = Sample();
  b.layer_stats[0].histogram[1] = 0.5f;
  EXPECT_EQ(CheckpointDifference(a, b),
            "step 20: layer 2 backprop_grad histogram bin 1: 0.75 vs 0.5");
  b = Sample();
  b.test_error = -0.0;
  a.test_error = 0.0;
  EXPECT_EQ(CheckpointDifference(a, b), "step 20: test_error: 0 vs -0");
  EXPECT_EQ(CheckpointsDifference({a}, {a, a}), "checkpoint count: 1 vs 2");
}

}  // namespace
}  // namespace deepsweep
