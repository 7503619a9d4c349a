#include "core/stats.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace deepsweep {
namespace {

// Known values: I_0.5(2, 3) = sum_{j=2..4} C(4, j) / 16 = 11/16 exactly; the
// others from mpmath.betainc at 30 digits.
TEST(RegularizedIncompleteBetaTest, MatchesKnownValues) {
  EXPECT_NEAR(RegularizedIncompleteBeta(2, 3, 0.5), 0.6875, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.5, 0.5, 0.2), 0.295167235300867, 1e-13);
  EXPECT_NEAR(RegularizedIncompleteBeta(10, 20, 0.9), 0.999999999999959, 1e-13);
  // I_x(1, 1) = x.
  for (double x : {0.0, 0.1, 0.5, 0.77, 1.0})
    EXPECT_NEAR(RegularizedIncompleteBeta(1, 1, x), x, 1e-15);
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(-1, 1, 0.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, 1, 1.5)));
}

struct QuantileCase {
  double p;
  double df;
  double table;      // as printed in a Student-t table
  double tolerance;  // the table's rounding
};

// The rows of a printed t table, e.g. t(0.975, 2) = 4.303.
TEST(StudentTQuantileTest, MatchesPrintedTable) {
  const QuantileCase cases[] = {
      {0.975, 1, 12.706, 5e-4}, {0.975, 2, 4.303, 5e-4},   {0.975, 5, 2.571, 5e-4},
      {0.975, 10, 2.228, 5e-4}, {0.975, 30, 2.042, 5e-4},  {0.95, 30, 1.697, 5e-4},
      {0.995, 5, 4.032, 5e-4},  {0.9995, 1, 636.62, 5e-3}, {0.975, 1000, 1.962, 5e-4},
  };
  for (const QuantileCase& c : cases) {
    EXPECT_NEAR(StudentTQuantile(c.p, c.df), c.table, c.tolerance) << "p=" << c.p << " df=" << c.df;
    EXPECT_NEAR(StudentTQuantile(1 - c.p, c.df), -c.table, c.tolerance) << "lower tail";
  }
}

// High-precision references from mpmath (findroot on the exact CDF).
TEST(StudentTQuantileTest, MatchesHighPrecisionReference) {
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.30265272975, 1e-10);
  EXPECT_NEAR(StudentTQuantile(0.975, 10), 2.22813885199, 1e-10);
  EXPECT_NEAR(StudentTQuantile(0.9995, 1), 636.619248769, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 17.7764735161785), 2.10281724157, 1e-10);
  EXPECT_EQ(StudentTQuantile(0.5, 7), 0.0);
  EXPECT_TRUE(std::isnan(StudentTQuantile(0, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(1, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.9, 0)));
}

TEST(StudentTCdfTest, MatchesKnownValues) {
  // df = 1 is the Cauchy distribution: F(1) = 1/2 + atan(1)/pi = 3/4.
  EXPECT_NEAR(StudentTCdf(1, 1), 0.75, 1e-14);
  EXPECT_EQ(StudentTCdf(0, 4), 0.5);
  EXPECT_NEAR(StudentTCdf(2, 5), 0.949030260585071, 1e-13);
  EXPECT_NEAR(StudentTCdf(-2.5, 10), 0.0157234221183044, 1e-13);
  EXPECT_NEAR(StudentTCdf(0.3, 3.5), 0.609433295080055, 1e-13);
  EXPECT_NEAR(StudentTCdf(40, 2), 0.999687792663908, 1e-13);
  EXPECT_EQ(StudentTCdf(INFINITY, 3), 1.0);
  EXPECT_EQ(StudentTCdf(-INFINITY, 3), 0.0);
}

TEST(StudentTTest, QuantileInvertsCdf) {
  for (double df : {0.7, 1.0, 2.5, 9.0, 120.0}) {
    for (double p : {1e-6, 0.01, 0.2, 0.6, 0.975, 0.999999}) {
      EXPECT_NEAR(StudentTCdf(StudentTQuantile(p, df), df), p, 1e-12 + 1e-9 * p)
          << "p=" << p << " df=" << df;
    }
  }
}

// By hand: values 0.10, 0.12, 0.17.
//   mean = 0.39 / 3 = 0.13
//   deviations -0.03, -0.01, 0.04 -> squares sum 0.0026 -> var 0.0013
//   std = sqrt(0.0013) = 0.0360555127546
//   half = t(0.975, 2) * std / sqrt(3) = 4.302653 * 0.0360555 / 1.7320508 = 0.0895665
TEST(SummarizeTest, ThreeValuesByHand) {
  const std::vector<double> values = {0.10, 0.12, 0.17};
  auto summary = Summarize(values);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->n, 3);
  EXPECT_NEAR(summary->mean, 0.13, 1e-15);
  ASSERT_TRUE(summary->std.has_value());
  EXPECT_NEAR(*summary->std, std::sqrt(0.0013), 1e-15);
  const double half = 4.302653 * std::sqrt(0.0013) / std::sqrt(3.0);
  EXPECT_NEAR(*summary->ci_half, half, 1e-7);
  EXPECT_NEAR(*summary->ci_low, 0.13 - half, 1e-7);
  EXPECT_NEAR(*summary->ci_high, 0.13 + half, 1e-7);
}

TEST(SummarizeTest, OtherConfidenceLevel) {
  // 90%: t(0.95, 2) = 2.919986.
  const std::vector<double> values = {1, 2, 3, 4};
  auto summary = Summarize(values, 0.90);
  ASSERT_TRUE(summary.ok());
  // mean 2.5, var = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; t(0.95, 3) = 2.353363.
  EXPECT_NEAR(*summary->ci_half, 2.353363 * std::sqrt(5.0 / 3.0) / 2.0, 1e-6);
}

TEST(SummarizeTest, SingleValueHasNoSpread) {
  const std::vector<double> values = {0.42};
  auto summary = Summarize(values);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->n, 1);
  EXPECT_EQ(summary->mean, 0.42);
  EXPECT_FALSE(summary->std.has_value());
  EXPECT_FALSE(summary->ci_half.has_value());
}

TEST(SummarizeTest, RejectsEmptyAndBadConfidence) {
  EXPECT_EQ(Summarize({}).status().code(), absl::StatusCode::kFailedPrecondition);
  const std::vector<double> values = {1, 2};
  EXPECT_EQ(Summarize(values, 1.0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Summarize(values, 0.0).status().code(), absl::StatusCode::kInvalidArgument);
}

// R's `sleep` data set: t.test(extra ~ group, data = sleep) prints
// t = -1.8608, df = 17.776, p-value = 0.07939 (full precision from R:
// 1.86081346748685, 17.7764735161785, 0.0793941401873582).
TEST(WelchTTestTest, MatchesRSleepExample) {
  const std::vector<double> group1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
  const std::vector<double> group2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
  auto result = WelchTTest(group1, group2);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NEAR(result->mean_difference, 0.75 - 2.33, 1e-12);
  EXPECT_NEAR(result->t, -1.86081346748685, 1e-10);
  EXPECT_NEAR(result->df, 17.7764735161785, 1e-9);
  EXPECT_NEAR(result->p_value, 0.0793941401873582, 1e-10);
  // The test is symmetric in its samples.
  auto swapped = WelchTTest(group2, group1);
  ASSERT_TRUE(swapped.ok());
  EXPECT_NEAR(swapped->t, 1.86081346748685, 1e-10);
  EXPECT_NEAR(swapped->p_value, result->p_value, 1e-15);
}

// By hand: a = {1, 2, 3} (mean 2, var 1), b = {4, 5, 6} (mean 5, var 1).
//   se^2 = 1/3 + 1/3, t = -3 / sqrt(2/3) = -3.6742346
//   df = (2/3)^2 / (2 * (1/3)^2 / 2) = 4
//   p = 2 * P(T_4 > 3.6742346) = 0.0213
TEST(WelchTTestTest, EqualVariancesByHand) {
  const std::vector<double> a = {1, 2, 3};
  const std::vector<double> b = {4, 5, 6};
  auto result = WelchTTest(a, b);
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR(result->t, -3 / std::sqrt(2.0 / 3.0), 1e-12);
  EXPECT_NEAR(result->df, 4.0, 1e-12);
  EXPECT_NEAR(result->p_value, 2 * (1 - StudentTCdf(3 / std::sqrt(2.0 / 3.0), 4)), 1e-14);
  EXPECT_NEAR(result->p_value, 0.02131, 5e-5);
}

TEST(WelchTTestTest, ConstantSamples) {
  const std::vector<double> same = {0.5, 0.5};
  const std::vector<double> other = {0.25, 0.25, 0.25};
  EXPECT_EQ(WelchTTest(same, same)->p_value, 1.0);
  EXPECT_EQ(WelchTTest(same, other)->p_value, 0.0);
}

TEST(WelchTTestTest, NeedsTwoValuesPerSample) {
  const std::vector<double> one = {1};
  const std::vector<double> two = {1, 2};
  EXPECT_EQ(WelchTTest(one, two).status().code(), absl::StatusCode::kFailedPrecondition);
}

// p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") in R = 0.03 0.06 0.06 0.02:
// sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04,
// then the running maximum makes the last 0.06.
TEST(HolmAdjustTest, MatchesKnownAnswer) {
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  const std::vector<double> adjusted = HolmAdjust(p);
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[3], 0.02, 1e-15);
}

TEST(HolmAdjustTest, CapsAtOneAndHandlesTiesAndEmpty) {
  const std::vector<double> p = {0.5, 0.5, 0.9};
  EXPECT_EQ(HolmAdjust(p), (std::vector<double>{1.0, 1.0, 1.0}));
  EXPECT_TRUE(HolmAdjust({}).empty());
  const std::vector<double> single = {0.04};
  EXPECT_EQ(HolmAdjust(single), (std::vector<double>{0.04}));
}

TEST(SummarizeSums, AgreesWithSummarizeOnTheSameSample) {
  const std::vector<double> values = {0.125, 0.25, 0.5, 0.375};
  double sum = 0, sum_squares = 0;
  for (double v : values) {
    sum += v;
    sum_squares += v * v;
  }
  auto direct = Summarize(values);
  auto from_sums = SummarizeSums(4, sum, sum_squares);
  ASSERT_TRUE(direct.ok() && from_sums.ok());
  EXPECT_EQ(from_sums->n, 4);
  EXPECT_DOUBLE_EQ(from_sums->mean, direct->mean);
  EXPECT_NEAR(*from_sums->std, *direct->std, 1e-12);
  EXPECT_NEAR(*from_sums->ci_half, *direct->ci_half, 1e-12);
  // One value: a mean and no interval; none or a bad level: errors.
  auto one = SummarizeSums(1, 0.5, 0.25);
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(one->ci_half.has_value());
  EXPECT_EQ(SummarizeSums(0, 0, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SummarizeSums(2, 1, 1, 1.5).status().code(), absl::StatusCode::kInvalidArgument);
  // Rounding cannot make the variance negative.
  auto same = SummarizeSums(3, 0.3, 0.03);
  ASSERT_TRUE(same.ok());
  EXPECT_GE(*same->std, 0);
}

}  // namespace
}  // namespace deepsweep
