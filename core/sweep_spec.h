// SweepSpec: a sweep as the user writes it (YAML), and its deterministic,
// duplicate-free expansion into TrialSpecs. docs/SPEC.md is the reference of
// every section and key (types, defaults, limits, seeds, schedules, worked
// examples); keep it true when this parser changes.
//
// Expansion order: seed_index outermost, then the grid (last axis fastest),
// then the sampled points; excluded and repeated configurations are dropped.
// Seeds: TrialSeed() (weights) follows the training configuration and
// seed_index, DataSeed() (data) the dataset and seed_index only.
//
// Errors: INVALID_ARGUMENT naming the field and its line, e.g.
//   grid.depth[2] (line 9): expected an integer, got "five"
// RESOURCE_EXHAUSTED when a limit is exceeded (the message names the limit).
// Thread-safety: pure functions over values.
#ifndef DEEPSWEEP_CORE_SWEEP_SPEC_H_
#define DEEPSWEEP_CORE_SWEEP_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "core/trial.h"

namespace deepsweep {

// A value of one axis: int64_t for integer axes, double for real ones,
// std::string for named ones (activation, init, dataset, ...).
using AxisValue = std::variant<int64_t, double, std::string>;

struct GridAxis {
  std::string field;
  std::vector<AxisValue> values;  // non-empty, no repeats
  int line = 0;
};

struct SampledAxis {
  enum class Distribution { kUniform, kLogUniform, kChoice };
  std::string field;
  Distribution distribution = Distribution::kUniform;
  double lo = 0;  // kUniform, kLogUniform: bounds (included for integer axes)
  double hi = 0;
  std::vector<AxisValue> choices;  // kChoice
  int line = 0;
};

// Excludes a configuration when, for every entry, its field holds one of the
// listed values.
struct ExcludeRule {
  std::vector<std::pair<std::string, std::vector<AxisValue>>> match;
  int line = 0;
};

// How the `random` section draws its points.
enum class SearchMethod {
  kRandom,  // independent uniform draws from the spec's seed
  kSobol,   // the Sobol sequence, digitally shifted by the spec's seed
};

// The `schedule` section: which early-stopping rule a sweep's coordinator
// applies to its trials (core/scheduler.h, docs/SPEC.md).
struct ScheduleSpec {
  enum class Rule { kNone, kAsha, kMedian, kStuck };
  enum class Metric { kValidationError, kValidationNll };
  Rule rule = Rule::kNone;
  Metric metric = Metric::kValidationError;
  // Axes whose values define the groups trials are compared within.
  std::vector<std::string> group_by;
  // asha: the first rung's updates and the reduction factor (>= 2).
  int64_t min_updates = 0;
  int64_t eta = 3;
  // median: no decision before this step, nor with fewer other trials at it.
  int64_t grace_updates = 0;
  int64_t min_trials = 3;
  // stuck: stop at a step >= after_updates with the metric >= error.
  int64_t after_updates = 0;
  double error = 1.0;

  friend bool operator==(const ScheduleSpec&, const ScheduleSpec&) = default;
};

struct SweepSpec {
  std::string name;
  std::string description;
  uint64_t seed = 0;
  TrialSpec base;  // dataset, model and training sections over TrialSpec's defaults
  std::vector<GridAxis> grid;
  int64_t samples = 0;  // random points; > 0 exactly when `random` has axes
  std::vector<SampledAxis> random;
  SearchMethod method = SearchMethod::kRandom;
  // `random_crossed_with_grid` rather than `random`: the points are drawn
  // once and every grid configuration gets each of them. Otherwise each point
  // is a whole configuration (and there is no grid).
  bool crossed_with_grid = false;
  std::vector<ExcludeRule> exclude;
  int64_t seeds = 1;
  std::optional<int> max_attempts;  // limits.max_attempts
  ScheduleSpec schedule;
};

// What a coordinator accepts; beyond them ExpandSweep says RESOURCE_EXHAUSTED.
struct SweepLimits {
  // Trials of one sweep after exclusions (seeds included).
  int64_t max_trials = 100000;
  // Hidden layers and units per hidden layer of any trial.
  int max_depth = 64;
  int max_width = 16384;
  // Bins of a layer-statistics histogram (training.histogram_bins).
  int max_histogram_bins = 4096;
  // Training updates of one trial (training.updates): a billion is years of
  // work for one worker, and more is a typo.
  int max_updates = 1'000'000'000;
};

// Parses and validates a spec; depth and width beyond `limits` are
// RESOURCE_EXHAUSTED here, where the message can name their line.
absl::StatusOr<SweepSpec> ParseSweepSpec(std::string_view yaml, const SweepLimits& limits = {});

// Expands a parsed spec into its trials, in order (trial index = position).
// RESOURCE_EXHAUSTED beyond limits.max_trials.
absl::StatusOr<std::vector<TrialSpec>> ExpandSweep(const SweepSpec& spec,
                                                   const SweepLimits& limits);

// The values of `axes` in `config`, as "axis=value" joined by ",";
// empty for no axes. Every name must be an axis (ParseSweepSpec checks).
std::string GroupKey(const TrialSpec& config, const std::vector<std::string>& axes);

// The schedule of a spec, one line per setting, for `submit --dry-run`;
// "none" without one.
std::string DescribeSchedule(const ScheduleSpec& schedule);

// The canonical text of a configuration: every field but the seeds,
// seed_index and dataset.path. Equal keys = the same configuration.
std::string ConfigKey(const TrialSpec& config);

// The weight seed of repeat `seed_index` of `config` in a sweep whose spec
// seed is `sweep_seed`; always below 2^63.
uint64_t TrialSeed(uint64_t sweep_seed, const TrialSpec& config, int seed_index);

// The data seed of repeat `seed_index` on `dataset` in a sweep whose spec
// seed is `sweep_seed`; always below 2^63.
uint64_t DataSeed(uint64_t sweep_seed, const DatasetSpec& dataset, int seed_index);

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SWEEP_SPEC_H_
