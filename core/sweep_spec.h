// SweepSpec: a sweep as the user writes it (YAML), and its deterministic,
// duplicate-free expansion into TrialSpecs.
//
//   name: glorot2010-shapeset-quick          # required
//   description: free text                   # optional
//   seed: 7                                  # optional (0): sampling and trial seeds
//   dataset: {name: shapeset, path: "", train_examples: 0, validation_examples: 10000,
//             test_examples: 10000, preprocess: pm1}
//   model: {activation: tanh, init: normalized, init_gain: 1, depth: 5, width: 1000,
//           output: softmax, loss: nll}
//   training: {learning_rate: 0.01, momentum: 0, lr_decay: 0, batch_size: 10,
//              updates: 20000, checkpoint_every: 2000, probe_examples: 300,
//              histogram_bins: 50, jacobian_examples: 2,   # layer statistics
//              stuck_after_updates: 0, stuck_error: 1}     # "stuck" rule, 0 = off
//   grid:                                    # axes crossed in the order written
//     activation: [sigmoid, tanh, softsign]
//     depth: [1, 2, 3, 4, 5]
//   random:                                  # N whole configurations (no grid then)
//     samples: 4
//     method: random                         # or sobol (quasi-random, low discrepancy)
//     learning_rate: {log_uniform: [1e-4, 1e-1]}
//     width: {uniform: [100, 1000]}          # integer axes draw integers, bounds included
//     init: {choice: [standard, normalized]}
//   random_crossed_with_grid: {...}          # as random, but the N points are drawn once
//                                            # and crossed with every grid configuration
//   exclude: [{activation: sigmoid, init: [normalized, he_normal]}]
//   seeds: 3                                 # repeats of every configuration
//   limits: {max_attempts: 3}                # 1..100; seeds must be at least 1
//
// Axes (grid, random, exclude keys): dataset, train_examples,
// validation_examples, test_examples, preprocess, activation, init, init_gain,
// depth, width, loss, learning_rate, momentum, lr_decay, batch_size, updates,
// checkpoint_every, probe_examples, histogram_bins, jacobian_examples,
// stuck_after_updates, stuck_error. Every section and key is optional except
// name; unset fields keep TrialSpec's defaults.
//
// Expansion order: seed_index outermost (all configurations at seed 0 first,
// so a half-done sweep already covers every configuration), then the grid
// (the last axis varies fastest), then the random samples. Excluded
// configurations are dropped, and so are repeats (sampling may draw a
// configuration twice): the first occurrence stays. Sampled reals are rounded
// to 6 significant digits so they print and compare cleanly.
//
// Seeds: a trial has two, both below 2^63.
// - seed (the weights): TrialSeed() mixes the spec seed, the training
//   configuration (every TrialSpec field but the seeds, seed_index,
//   dataset.path and the measurement settings histogram_bins,
//   jacobian_examples and stuck_*, which never change the trajectory) and
//   seed_index, so the same configuration and seed_index always get the same
//   seed, in any sweep with the same spec seed, whatever else the grid holds.
// - data_seed (training order, Shapeset scenes, validation, test and probe
//   sets): DataSeed() mixes the spec seed, the dataset (DatasetSpec but path)
//   and seed_index only. Every configuration of one repeat thus trains and is
//   measured on the same data: differences between configurations are not
//   blurred by different data (common random numbers, a paired comparison),
//   and a worker generates a repeat's Shapeset sets once for all of them.
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
};

// Parses and validates a spec; depth and width beyond `limits` are
// RESOURCE_EXHAUSTED here, where the message can name their line.
absl::StatusOr<SweepSpec> ParseSweepSpec(std::string_view yaml, const SweepLimits& limits = {});

// Expands a parsed spec into its trials, in order (trial index = position).
// RESOURCE_EXHAUSTED beyond limits.max_trials.
absl::StatusOr<std::vector<TrialSpec>> ExpandSweep(const SweepSpec& spec,
                                                   const SweepLimits& limits);

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
