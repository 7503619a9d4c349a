// Statistics across seeds: sample summaries with Student-t confidence
// intervals, Welch's two-sample t-test and Holm's step-down correction.
//
// The Student-t distribution comes from core/student_t.h, the implementation
// the SQLite views' interval is computed from too.
//
// Errors: functions that need a minimum sample size return
// FAILED_PRECONDITION naming it; out-of-domain arguments return
// INVALID_ARGUMENT. The special functions take arguments in their domain as a
// precondition and return NaN outside it.
//
// Thread-safety: every function may be called concurrently (Student-t
// quantiles are kept in one locked table, so each is computed once).
#ifndef DEEPSWEEP_CORE_STATS_H_
#define DEEPSWEEP_CORE_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/student_t.h"

namespace deepsweep {

// Mean, sample standard deviation and a two-sided confidence interval for the
// mean of one sample.
struct SampleSummary {
  int64_t n = 0;
  double mean = 0;
  // The following need n >= 2; empty for a single value.
  std::optional<double> std;      // sample std (divisor n - 1)
  std::optional<double> ci_half;  // t(1 - alpha/2, n - 1) * std / sqrt(n)
  std::optional<double> ci_low;   // mean - ci_half
  std::optional<double> ci_high;  // mean + ci_half
};

// Summarizes `values` (n >= 1, else FAILED_PRECONDITION) with a
// `confidence`-level interval (in (0, 1), else INVALID_ARGUMENT).
absl::StatusOr<SampleSummary> Summarize(absl::Span<const double> values, double confidence = 0.95);

// The same summary from a sample's count, sum and sum of squares (what an SQL
// aggregate returns): mean = sum / n, std = sqrt(max(0, (sum_squares - n
// mean^2) / (n - 1))). Less accurate than Summarize when the spread is tiny
// next to the mean (cancellation); fine for errors in [0, 1]. Same errors.
absl::StatusOr<SampleSummary> SummarizeSums(int64_t n, double sum, double sum_squares,
                                            double confidence = 0.95);

// Welch's unequal-variance t-test of H0: mean(a) = mean(b).
struct WelchResult {
  double mean_difference = 0;  // mean(a) - mean(b)
  double t = 0;                // mean_difference / sqrt(var_a/n_a + var_b/n_b)
  double df = 0;               // Welch-Satterthwaite degrees of freedom
  double p_value = 1;          // two-sided
};

// Both samples need n >= 2 (else FAILED_PRECONDITION). Two samples with zero
// variance give p = 1 when their means are equal and p = 0 otherwise.
absl::StatusOr<WelchResult> WelchTTest(absl::Span<const double> a, absl::Span<const double> b);

// Holm's step-down adjustment of a family of p-values, returned in the input
// order: with p sorted ascending p_(1) <= ... <= p_(m),
//   adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
// Reject H_i at level alpha when adj_i <= alpha.
std::vector<double> HolmAdjust(absl::Span<const double> p_values);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_STATS_H_
