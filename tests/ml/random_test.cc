#include "ml/random.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace deepsweep::ml {
namespace {

TEST(Rng, SameSeedSameBitsDifferentSeedsDiffer) {
  Rng a(42), b(42), c(43), d(42, /*stream=*/1);
  int diff_c = 0, diff_d = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t va = a.NextU64();
    EXPECT_EQ(va, b.NextU64());
    diff_c += va != c.NextU64();
    diff_d += va != d.NextU64();
  }
  EXPECT_EQ(diff_c, 100);
  EXPECT_EQ(diff_d, 100);
}

TEST(Rng, UniformMomentsAndRange) {
  Rng rng(7);
  constexpr int kN = 200000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
  }
  const double mean = sum / kN;
  const double var = sum_sq / kN - mean * mean;
  // Uniform[0,1): mean 1/2 (sd of the estimate 0.00065), variance 1/12.
  EXPECT_NEAR(mean, 0.5, 0.004);
  EXPECT_NEAR(var, 1.0 / 12.0, 0.002);
}

TEST(Rng, UniformIntIsUnbiasedOverSmallRange) {
  Rng rng(11);
  std::vector<int> counts(6, 0);
  constexpr int kN = 60000;
  for (int i = 0; i < kN; ++i) ++counts[rng.UniformInt(6)];
  // Each count ~ Binomial(60000, 1/6): sd about 91; allow 5 sd.
  for (int c : counts) EXPECT_NEAR(c, kN / 6, 460);
}

TEST(Rng, NormalMoments) {
  Rng rng(3);
  constexpr int kN = 200000;
  double sum = 0, sum_sq = 0, sum_4 = 0;
  for (int i = 0; i < kN; ++i) {
    const double z = rng.Normal();
    sum += z;
    sum_sq += z * z;
    sum_4 += z * z * z * z;
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.012);
  EXPECT_NEAR(sum_sq / kN, 1.0, 0.015);
  EXPECT_NEAR(sum_4 / kN, 3.0, 0.08);  // Gaussian kurtosis
}

TEST(Rng, ShuffleIsAPermutationAndSeeded) {
  std::vector<int> v(50), w;
  for (int i = 0; i < 50; ++i) v[i] = i;
  w = v;
  Rng r1(5), r2(5);
  r1.Shuffle(v.begin(), v.end());
  r2.Shuffle(w.begin(), w.end());
  EXPECT_EQ(v, w);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  int moved = 0;
  for (int i = 0; i < 50; ++i) moved += v[i] != i;
  EXPECT_GT(moved, 40);
}

TEST(DeriveSeed, DistinctLabelsGiveDistinctSeeds) {
  EXPECT_EQ(DeriveSeed(1, 2), DeriveSeed(1, 2));
  EXPECT_NE(DeriveSeed(1, 2), DeriveSeed(1, 3));
  EXPECT_NE(DeriveSeed(1, 2), DeriveSeed(2, 1));
}

}  // namespace
}  // namespace deepsweep::ml
