// Per-configuration statistics of final test error across seeds, with
// pairwise comparisons: what `deepsweep summary` prints.
//
// Trials are grouped by configuration: by the fields in `by`, or, when `by`
// is empty, by every configuration field that varies among the trials (so
// repeats that differ only in seed fall into one group). Each group's
// statistics use its SUCCEEDED trials that have a final test error; diverged,
// failed and unfinished trials are counted beside them, never averaged in
// (a diverged trial's "error" is not a measurement of the configuration).
//
// The best configuration has the lowest mean. Comparisons are Welch's t-test
// between the best and every other configuration (or, with all_pairs,
// between every pair), restricted to groups with n >= 2, and the family's
// p-values are Holm-adjusted.
//
// Errors: INVALID_ARGUMENT for an unknown `by` field or a bad confidence.
// Thread-safety: pure function.
#ifndef DEEPSWEEP_CLIENT_SUMMARY_H_
#define DEEPSWEEP_CLIENT_SUMMARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "client/format.h"
#include "core/coordinator.h"
#include "core/stats.h"

namespace deepsweep::client {

struct SummaryOptions {
  // Fields that define a configuration; empty = those that vary.
  std::vector<std::string> by;
  // Level of the confidence intervals.
  double confidence = 0.95;
  // Compare every pair instead of the best against each other.
  bool all_pairs = false;
  // Holm-adjusted p-values at or below this are marked significant.
  double alpha = 0.05;
};

struct ConfigSummary {
  std::vector<Value> key;              // one value per SweepSummary::fields entry
  std::string label;                   // "activation=tanh init=normalized"
  std::vector<double> errors;          // final test errors of the succeeded trials
  std::optional<SampleSummary> stats;  // empty when no trial succeeded
  int64_t diverged = 0;
  int64_t failed = 0;      // failed or cancelled
  int64_t pruned = 0;      // stopped early by the sweep's schedule
  int64_t unfinished = 0;  // pending or leased
  bool best = false;
};

struct ConfigComparison {
  size_t a = 0;  // indexes into SweepSummary::configs
  size_t b = 0;
  WelchResult welch;
  double p_holm = 1;
  bool significant = false;  // p_holm <= alpha
};

struct SweepSummary {
  std::vector<std::string> fields;     // the grouping fields
  std::vector<ConfigSummary> configs;  // by mean ascending; configs without data last
  std::vector<ConfigComparison> comparisons;
  std::optional<size_t> best;
};

absl::StatusOr<SweepSummary> SummarizeTrials(absl::Span<const TrialRecord> trials,
                                             const SummaryOptions& options);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_SUMMARY_H_
