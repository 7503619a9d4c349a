#include "core/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "core/student_t.h"

namespace deepsweep {
namespace {

double SampleVariance(absl::Span<const double> values, double mean) {
  double sum_squares = 0;
  for (double v : values) sum_squares += (v - mean) * (v - mean);
  return sum_squares / static_cast<double>(values.size() - 1);
}

double Mean(absl::Span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

absl::Status CheckConfidence(double confidence) {
  if (confidence > 0 && confidence < 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("confidence must be in (0, 1), got ", confidence));
}

// The two-sided `confidence` quantile of Student's t with n - 1 degrees of
// freedom. StudentTQuantile bisects on the CDF (~60 incomplete beta
// evaluations, tens of us), and a sweep's page asks for one per configuration
// with a handful of distinct n, so each (confidence, n) is computed once.
double TwoSidedT(double confidence, int64_t n) {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static auto* const kept = new absl::flat_hash_map<std::pair<double, int64_t>, double>();
  {
    absl::MutexLock lock(&mu);
    auto it = kept->find({confidence, n});
    if (it != kept->end()) return it->second;
  }
  const double t = StudentTQuantile(1 - (1 - confidence) / 2, static_cast<double>(n - 1));
  absl::MutexLock lock(&mu);
  if (kept->size() >= 4096) kept->clear();  // a bound; real use has a few entries
  kept->emplace(std::pair{confidence, n}, t);
  return t;
}

// Fills the spread and the interval of `summary` (n >= 2) from its sample std.
void SetInterval(double std, double confidence, SampleSummary& summary) {
  const double t = TwoSidedT(confidence, summary.n);
  summary.std = std;
  summary.ci_half = t * std / std::sqrt(static_cast<double>(summary.n));
  summary.ci_low = summary.mean - *summary.ci_half;
  summary.ci_high = summary.mean + *summary.ci_half;
}

}  // namespace

absl::StatusOr<SampleSummary> Summarize(absl::Span<const double> values, double confidence) {
  RETURN_IF_ERROR(CheckConfidence(confidence));
  if (values.empty()) return absl::FailedPreconditionError("a summary needs at least one value");
  SampleSummary summary;
  summary.n = static_cast<int64_t>(values.size());
  summary.mean = Mean(values);
  if (summary.n < 2) return summary;
  SetInterval(std::sqrt(SampleVariance(values, summary.mean)), confidence, summary);
  return summary;
}

absl::StatusOr<SampleSummary> SummarizeSums(int64_t n, double sum, double sum_squares,
                                            double confidence) {
  RETURN_IF_ERROR(CheckConfidence(confidence));
  if (n < 1) return absl::FailedPreconditionError("a summary needs at least one value");
  SampleSummary summary;
  summary.n = n;
  summary.mean = sum / static_cast<double>(n);
  if (n < 2) return summary;
  const double variance = (sum_squares - static_cast<double>(n) * summary.mean * summary.mean) /
                          static_cast<double>(n - 1);
  SetInterval(std::sqrt(std::max(0.0, variance)), confidence, summary);
  return summary;
}

absl::StatusOr<WelchResult> WelchTTest(absl::Span<const double> a, absl::Span<const double> b) {
  if (a.size() < 2 || b.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Welch's t-test needs at least 2 values per sample, got ", a.size(), " and ", b.size()));
  }
  const double na = static_cast<double>(a.size());
  const double nb = static_cast<double>(b.size());
  const double mean_a = Mean(a);
  const double mean_b = Mean(b);
  // se^2 = s_a^2 / n_a + s_b^2 / n_b
  // df = se^4 / ((s_a^2 / n_a)^2 / (n_a - 1) + (s_b^2 / n_b)^2 / (n_b - 1))
  const double va = SampleVariance(a, mean_a) / na;
  const double vb = SampleVariance(b, mean_b) / nb;
  const double se2 = va + vb;
  WelchResult result;
  result.mean_difference = mean_a - mean_b;
  if (se2 == 0) {
    // Both samples are constant: equal means cannot be told apart, different
    // ones are certainly different.
    result.df = na + nb - 2;
    if (result.mean_difference == 0) {
      result.t = 0;
      result.p_value = 1;
    } else {
      result.t = std::copysign(std::numeric_limits<double>::infinity(), result.mean_difference);
      result.p_value = 0;
    }
    return result;
  }
  result.t = result.mean_difference / std::sqrt(se2);
  result.df = se2 * se2 / (va * va / (na - 1) + vb * vb / (nb - 1));
  result.p_value = std::min(1.0, 2 * StudentTUpperTail(std::fabs(result.t), result.df));
  return result;
}

std::vector<double> HolmAdjust(absl::Span<const double> p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return p_values[i] < p_values[j]; });
  std::vector<double> adjusted(m);
  double running_max = 0;
  for (size_t rank = 0; rank < m; ++rank) {
    const double scaled = std::min(1.0, static_cast<double>(m - rank) * p_values[order[rank]]);
    running_max = std::max(running_max, scaled);
    adjusted[order[rank]] = running_max;
  }
  return adjusted;
}

}  // namespace deepsweep
