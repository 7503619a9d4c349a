#include "core/sweep_spec.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep {
namespace {

using ::testing::HasSubstr;

// The example of ARCHITECTURE.md, "Sweep spec".
constexpr char kPaperSpec[] = R"(name: glorot2010-shapeset-quick
dataset: {name: shapeset, train_examples: 200000, test_examples: 10000}
model: {width: 1000, output: softmax, loss: nll}
training: {batch_size: 10, updates: 20000, checkpoint_every: 2000, probe_examples: 300}
grid:
  activation: [sigmoid, tanh, softsign]
  init: [standard, normalized]
  depth: [1, 2, 3, 4, 5]
  learning_rate: [0.01, 0.1]
random: {samples: 0}
exclude: [{activation: sigmoid, init: normalized}]
seeds: 3
limits: {max_attempts: 3}
)";

std::vector<TrialSpec> Expand(const std::string& yaml, const SweepLimits& limits = {}) {
  auto spec = ParseSweepSpec(yaml, limits);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return {};
  auto trials = ExpandSweep(*spec, limits);
  EXPECT_TRUE(trials.ok()) << trials.status();
  return trials.ok() ? *trials : std::vector<TrialSpec>{};
}

TEST(SweepSpec, ParsesThePaperExample) {
  auto spec = ParseSweepSpec(kPaperSpec);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "glorot2010-shapeset-quick");
  EXPECT_EQ(spec->base.dataset.name, "shapeset");
  EXPECT_EQ(spec->base.dataset.train_examples, 200000);
  EXPECT_EQ(spec->base.width, 1000);
  EXPECT_EQ(spec->base.updates, 20000);
  EXPECT_EQ(spec->base.probe_examples, 300);
  ASSERT_EQ(spec->grid.size(), 4u);
  EXPECT_EQ(spec->grid[2].field, "depth");
  EXPECT_EQ(spec->grid[2].line, 8);
  EXPECT_EQ(spec->seeds, 3);
  EXPECT_EQ(spec->max_attempts, 3);
  EXPECT_EQ(spec->exclude.size(), 1u);
}

TEST(SweepSpec, ExpandsGridTimesSeedsMinusExclusions) {
  const std::vector<TrialSpec> trials = Expand(kPaperSpec);
  // 3 x 2 x 5 x 2 = 60 configurations, 10 of them sigmoid + normalized.
  ASSERT_EQ(trials.size(), 50u * 3);
  for (const TrialSpec& t : trials) {
    EXPECT_FALSE(t.activation == "sigmoid" && t.init == "normalized");
    EXPECT_EQ(t.width, 1000);
  }
  // Seed index outermost, then the grid with the last axis fastest.
  EXPECT_EQ(trials[0].seed_index, 0);
  EXPECT_EQ(trials[49].seed_index, 0);
  EXPECT_EQ(trials[50].seed_index, 1);
  EXPECT_EQ(trials[0].activation, "sigmoid");
  EXPECT_EQ(trials[0].depth, 1);
  EXPECT_DOUBLE_EQ(trials[0].learning_rate, 0.01);
  EXPECT_DOUBLE_EQ(trials[1].learning_rate, 0.1);
  EXPECT_EQ(trials[2].depth, 2);
  // No configuration appears twice at one seed index.
  std::set<std::pair<std::string, int>> seen;
  for (const TrialSpec& t : trials) {
    EXPECT_TRUE(seen.insert({ConfigKey(t), t.seed_index}).second) << ConfigKey(t);
  }
}

TEST(SweepSpec, ExpansionIsDeterministicAndSeedsFollowTheConfiguration) {
  const std::vector<TrialSpec> a = Expand(kPaperSpec);
  const std::vector<TrialSpec> b = Expand(kPaperSpec);
  ASSERT_EQ(a.size(), b.size());
  std::set<uint64_t> seeds;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].seed, b[i].seed);
    EXPECT_LT(a[i].seed, uint64_t{1} << 63);
    seeds.insert(a[i].seed);
  }
  EXPECT_EQ(seeds.size(), a.size());

  // The same configuration keeps its seed in a differently shaped sweep.
  const std::vector<TrialSpec> narrow = Expand(R"(name: narrow
dataset: {name: shapeset, train_examples: 200000, test_examples: 10000}
model: {width: 1000, loss: nll}
training: {batch_size: 10, updates: 20000, checkpoint_every: 2000, probe_examples: 300}
grid: {activation: [tanh], init: [normalized], depth: [3], learning_rate: [0.1]}
seeds: 2
)");
  ASSERT_EQ(narrow.size(), 2u);
  for (const TrialSpec& t : a) {
    if (ConfigKey(t) == ConfigKey(narrow[1]) && t.seed_index == 1) {
      EXPECT_EQ(t.seed, narrow[1].seed);
    }
  }
  // A different spec seed gives different trial seeds.
  const std::vector<TrialSpec> reseeded = Expand(std::string(kPaperSpec) + "seed: 7\n");
  EXPECT_NE(reseeded[0].seed, a[0].seed);
}

// Seeds computed before data_seed and the measurement fields existed: adding
// them must not move the weight seed of any existing spec.
TEST(SweepSpec, WeightSeedsOfExistingSpecsStayPut) {
  const std::vector<TrialSpec> trials = Expand(kPaperSpec);
  ASSERT_GE(trials.size(), 2u);
  EXPECT_EQ(trials[0].seed, 1023217162747822379u);
  EXPECT_EQ(trials[1].seed, 1581308717712506379u);
}

// Common random numbers: every configuration of one repeat gets the same data
// seed, repeats differ, and only the spec seed, the dataset and seed_index
// count; the weight seed still follows the configuration.
TEST(SweepSpec, ConfigurationsOfOneRepeatShareTheirDataSeed) {
  const std::vector<TrialSpec> trials = Expand(kPaperSpec);
  std::map<int, std::set<uint64_t>> data_seeds;
  std::map<int, std::set<uint64_t>> weight_seeds;
  size_t per_repeat = 0;
  for (const TrialSpec& t : trials) {
    data_seeds[t.seed_index].insert(t.data_seed);
    weight_seeds[t.seed_index].insert(t.seed);
    EXPECT_LT(t.data_seed, uint64_t{1} << 63);
    EXPECT_EQ(t.data_seed, DataSeed(0, t.dataset, t.seed_index));
    if (t.seed_index == 0) ++per_repeat;
  }
  ASSERT_EQ(data_seeds.size(), 3u);
  std::set<uint64_t> repeats;
  for (const auto& [index, seeds] : data_seeds) {
    EXPECT_EQ(seeds.size(), 1u) << "repeat " << index;
    EXPECT_EQ(weight_seeds[index].size(), per_repeat) << "repeat " << index;
    repeats.insert(*seeds.begin());
  }
  EXPECT_EQ(repeats.size(), 3u);

  DatasetSpec other = trials[0].dataset;
  other.test_examples += 1;
  EXPECT_NE(DataSeed(0, other, 0), trials[0].data_seed);
  other = trials[0].dataset;
  other.path = "/elsewhere";  // where the files are is not what they hold
  EXPECT_EQ(DataSeed(0, other, 0), trials[0].data_seed);
  EXPECT_NE(DataSeed(7, trials[0].dataset, 0), trials[0].data_seed);
}

TEST(SweepSpec, SnapshotSettingsReachEveryTrialAndAreNoPartOfTheConfiguration) {
  const std::vector<TrialSpec> plain = Expand("name: m\ngrid: {depth: [1, 2]}\n");
  const std::vector<TrialSpec> set = Expand(R"(name: m
grid: {depth: [1, 2]}
training: {snapshot_every: 5000, snapshot_seconds: 60.5, keep_weights: none}
)");
  ASSERT_EQ(set.size(), 2u);
  const TrialSpec defaults;
  EXPECT_EQ(plain[0].snapshot_every, defaults.snapshot_every);
  EXPECT_EQ(plain[0].snapshot_seconds, defaults.snapshot_seconds);
  EXPECT_EQ(plain[0].keep_weights, "final");
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(set[i].snapshot_every, 5000);
    EXPECT_EQ(set[i].snapshot_seconds, 60.5);
    EXPECT_EQ(set[i].keep_weights, "none");
    EXPECT_EQ(set[i].seed, plain[i].seed);
    EXPECT_EQ(ConfigKey(set[i]), ConfigKey(plain[i]));
  }
  // Not axes: a sweep cannot vary them.
  auto grid = ParseSweepSpec("name: g\ngrid: {snapshot_every: [10, 20]}\n");
  EXPECT_EQ(grid.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SweepSpec, MeasurementSettingsAreTrialFieldsThatKeepTheWeightSeed) {
  const std::vector<TrialSpec> plain = Expand("name: m\nmodel: {depth: 2}\n");
  const std::vector<TrialSpec> set = Expand(R"(name: m
model: {depth: 2}
training: {histogram_bins: 20, jacobian_examples: 0, stuck_after_updates: 500, stuck_error: 0.85}
)");
  ASSERT_EQ(plain.size(), 1u);
  ASSERT_EQ(set.size(), 1u);
  const TrialSpec defaults;
  EXPECT_EQ(plain[0].histogram_bins, defaults.histogram_bins);
  EXPECT_EQ(plain[0].jacobian_examples, defaults.jacobian_examples);
  EXPECT_EQ(set[0].histogram_bins, 20);
  EXPECT_EQ(set[0].jacobian_examples, 0);
  EXPECT_EQ(set[0].stuck_after_updates, 500);
  EXPECT_EQ(set[0].stuck_error, 0.85);
  EXPECT_EQ(set[0].seed, plain[0].seed);
  EXPECT_EQ(set[0].data_seed, plain[0].data_seed);
  EXPECT_NE(ConfigKey(set[0]), ConfigKey(plain[0]));
  // As an axis: two trials, same seeds, told apart by their key.
  const std::vector<TrialSpec> grid = Expand("name: g\ngrid: {histogram_bins: [10, 20]}\n");
  ASSERT_EQ(grid.size(), 2u);
  EXPECT_EQ(grid[0].seed, grid[1].seed);
  EXPECT_NE(ConfigKey(grid[0]), ConfigKey(grid[1]));
}

TEST(SweepSpec, RandomCrossedWithGridSamplesOncePerSweep) {
  const std::string yaml = R"(name: sampled
seed: 11
grid: {activation: [tanh, softsign]}
random_crossed_with_grid:
  samples: 4
  learning_rate: {log_uniform: [1e-4, 1e-1]}
  width: {uniform: [100, 200]}
  init: {choice: [standard, normalized]}
)";
  const std::vector<TrialSpec> trials = Expand(yaml);
  ASSERT_EQ(trials.size(), 8u);
  for (size_t i = 0; i < 4; ++i) {
    const TrialSpec& tanh = trials[i];
    const TrialSpec& softsign = trials[4 + i];
    EXPECT_EQ(tanh.activation, "tanh");
    EXPECT_EQ(softsign.activation, "softsign");
    // The same random points for every grid point.
    EXPECT_EQ(tanh.learning_rate, softsign.learning_rate);
    EXPECT_EQ(tanh.width, softsign.width);
    EXPECT_GE(tanh.learning_rate, 1e-4);
    EXPECT_LE(tanh.learning_rate, 1e-1);
    EXPECT_GE(tanh.width, 100);
    EXPECT_LE(tanh.width, 200);
    EXPECT_TRUE(tanh.init == "standard" || tanh.init == "normalized");
  }
  EXPECT_NE(trials[0].learning_rate, trials[1].learning_rate);
  const std::vector<TrialSpec> again = Expand(yaml);
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].learning_rate, again[i].learning_rate);
  }
}

constexpr char kRandomSpec[] = R"(name: searched
seed: 5
random:
  samples: 64
  method: METHOD
  learning_rate: {log_uniform: [1e-4, 1e-1]}
  momentum: {uniform: [0, 0.9]}
  width: {uniform: [100, 200]}
  depth: {log_uniform: [1, 8]}
  init: {choice: [standard, normalized, he_normal]}
)";

std::string RandomSpec(const std::string& method) {
  std::string yaml = kRandomSpec;
  yaml.replace(yaml.find("METHOD"), 6, method);
  return yaml;
}

TEST(SweepSpec, RandomDrawsWholeConfigurationsWithinTheirRanges) {
  for (const std::string method : {"random", "sobol"}) {
    SCOPED_TRACE(method);
    const std::vector<TrialSpec> trials = Expand(RandomSpec(method));
    ASSERT_EQ(trials.size(), 64u);  // every draw differs: nothing dropped
    std::set<std::string> inits;
    std::set<int> depths;
    for (const TrialSpec& t : trials) {
      EXPECT_GE(t.learning_rate, 1e-4);
      EXPECT_LE(t.learning_rate, 1e-1);
      EXPECT_GE(t.momentum, 0);
      EXPECT_LE(t.momentum, 0.9);
      EXPECT_GE(t.width, 100);
      EXPECT_LE(t.width, 200);
      EXPECT_GE(t.depth, 1);
      EXPECT_LE(t.depth, 8);
      inits.insert(t.init);
      depths.insert(t.depth);
    }
    EXPECT_EQ(inits.size(), 3u);
    EXPECT_EQ(depths.size(), 8u);
    // Log-uniform: about half the rates below the geometric midpoint 10^-2.5.
    int low = 0;
    for (const TrialSpec& t : trials) low += t.learning_rate < std::pow(10, -2.5);
    EXPECT_GE(low, 20);
    EXPECT_LE(low, 44);
  }
}

TEST(SweepSpec, SameSpecAndSeedGiveTheSameTrials) {
  for (const std::string method : {"random", "sobol"}) {
    const std::vector<TrialSpec> a = Expand(RandomSpec(method));
    const std::vector<TrialSpec> b = Expand(RandomSpec(method));
    EXPECT_EQ(a, b) << method;
    std::string reseeded = RandomSpec(method);
    reseeded.replace(reseeded.find("seed: 5"), 7, "seed: 6");
    const std::vector<TrialSpec> c = Expand(reseeded);
    ASSERT_EQ(c.size(), a.size());
    EXPECT_NE(a[0].learning_rate, c[0].learning_rate) << method;
  }
}

// Pinned values: a change of generator or mapping changes every stored
// sweep's trials, which must not happen silently. The random ones are what
// `random` drew before whole-configuration search existed (main at 93438d5,
// `deepsweep submit --dry-run`).
TEST(SweepSpec, RandomAndSobolDrawsArePinned) {
  const std::vector<TrialSpec> random = Expand(RandomSpec("random"));
  const std::vector<TrialSpec> sobol = Expand(RandomSpec("sobol"));
  ASSERT_EQ(random.size(), 64u);
  ASSERT_EQ(sobol.size(), 64u);
  EXPECT_EQ(random[0].learning_rate, 0.095439);
  EXPECT_EQ(random[0].width, 143);
  EXPECT_EQ(sobol[0].learning_rate, 0.00101823);
  EXPECT_EQ(sobol[1].width, 129);
}

// Sobol spreads the rates more evenly than random draws: in 16 equal bins of
// log(rate), 64 Sobol points put exactly 4 in each.
TEST(SweepSpec, SobolStratifiesEachAxis) {
  const std::vector<TrialSpec> trials = Expand(RandomSpec("sobol"));
  std::vector<int> bins(16, 0);
  for (const TrialSpec& t : trials) {
    const double u =
        (std::log(t.learning_rate) - std::log(1e-4)) / (std::log(1e-1) - std::log(1e-4));
    ++bins[std::min(15, static_cast<int>(u * 16))];
  }
  for (int b = 0; b < 16; ++b) EXPECT_EQ(bins[b], 4) << "bin " << b;
}

TEST(SweepSpec, RandomWithAGridSaysWhatToWriteInstead) {
  const auto spec = ParseSweepSpec(R"(name: x
grid: {activation: [tanh, softsign]}
random:
  samples: 4
  learning_rate: {log_uniform: [1e-4, 1e-1]}
)");
  ASSERT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(spec.status().message(), HasSubstr("random_crossed_with_grid"));
  EXPECT_THAT(spec.status().message(), HasSubstr("choice"));
}

TEST(SweepSpec, RandomWithoutAGridIsRandomCrossedWithGrid) {
  // Specs written when random meant "crossed with the grid" and had no grid
  // drew the same points they draw now.
  const std::string old_style = R"(name: x
seed: 3
random:
  samples: 5
  learning_rate: {log_uniform: [1e-4, 1e-1]}
  width: {uniform: [100, 200]}
)";
  std::string crossed = old_style;
  crossed.replace(crossed.find("random:"), 7, "random_crossed_with_grid:");
  EXPECT_EQ(Expand(old_style), Expand(crossed));
}

TEST(SweepSpec, RepeatedRandomDrawsAreDroppedNotDuplicated) {
  const std::vector<TrialSpec> trials = Expand(R"(name: few
random:
  samples: 50
  init: {choice: [standard, normalized]}
)");
  EXPECT_EQ(trials.size(), 2u);
}

TEST(SweepSpec, DefaultsComeFromTrialSpec) {
  const std::vector<TrialSpec> trials = Expand("name: bare\n");
  ASSERT_EQ(trials.size(), 1u);
  const TrialSpec defaults;
  EXPECT_EQ(trials[0].activation, defaults.activation);
  EXPECT_EQ(trials[0].depth, defaults.depth);
  EXPECT_EQ(trials[0].dataset.name, defaults.dataset.name);
}

TEST(SweepSpec, ExcludingAValueBeyondTheLimitsIsHarmless) {
  EXPECT_EQ(Expand("name: x\ngrid: {depth: [1, 2]}\nexclude: [{depth: 500}]\n").size(), 2u);
}

TEST(SweepSpec, ExcludeRulesMatchAnyListedValue) {
  const std::vector<TrialSpec> trials = Expand(R"(name: excluded
grid: {depth: [1, 2, 3], learning_rate: [0.1, 0.01]}
exclude:
  - {depth: [1, 2], learning_rate: 1e-1}
)");
  ASSERT_EQ(trials.size(), 4u);
  for (const TrialSpec& t : trials) EXPECT_FALSE(t.depth < 3 && t.learning_rate == 0.1);
}

struct BadSpec {
  std::string name;
  std::string yaml;
  absl::StatusCode code;
  std::string message;  // a part of the error message
  friend void PrintTo(const BadSpec& bad, std::ostream* os) { *os << bad.name; }
};

class BadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadSpecTest, IsRejectedWithFieldAndLine) {
  const BadSpec& bad = GetParam();
  SweepLimits limits;
  limits.max_trials = 100;
  auto spec = ParseSweepSpec(bad.yaml, limits);
  absl::Status status = spec.status();
  if (spec.ok()) status = ExpandSweep(*spec, limits).status();
  EXPECT_EQ(status.code(), bad.code) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(bad.message));
}

const BadSpec kBadSpecs[] = {
    BadSpec{"WordForDepth", "name: x\ngrid:\n  depth: [1, 2, five]\n",
            absl::StatusCode::kInvalidArgument,
            "grid.depth[2] (line 3): expected an integer, got \"five\""},
    BadSpec{"UnclosedList", "name: x\ngrid:\n  depth: [1, 2\n", absl::StatusCode::kInvalidArgument,
            "invalid YAML (line 4"},
    BadSpec{"TabIndentation", "name: x\ngrid:\n\tdepth: [1]\n", absl::StatusCode::kInvalidArgument,
            "invalid YAML (line"},
    BadSpec{"Empty", "", absl::StatusCode::kInvalidArgument, "empty"},
    BadSpec{"NotAMap", "- a\n- b\n", absl::StatusCode::kInvalidArgument,
            "expected a map of fields"},
    BadSpec{"NoName", "seeds: 2\n", absl::StatusCode::kInvalidArgument, "name: required"},
    BadSpec{"UnknownTopField", "name: x\nseed: 1\ngrids: {}\n", absl::StatusCode::kInvalidArgument,
            "grids (line 3): unknown field"},
    BadSpec{"TypoInModel", "name: x\nmodel: {widht: 10}\n", absl::StatusCode::kInvalidArgument,
            "model.widht (line 2): unknown field"},
    BadSpec{"DuplicateKey", "name: x\nmodel:\n  width: 1\n  width: 2\n",
            absl::StatusCode::kInvalidArgument, "model.width (line 4): appears twice"},
    BadSpec{"UnknownActivation", "name: x\ngrid: {activation: [tanh, sigmod]}\n",
            absl::StatusCode::kInvalidArgument,
            "grid.activation[1] (line 2): unknown activation \"sigmod\""},
    BadSpec{"UnknownInit", "name: x\nmodel: {init: xavier}\n", absl::StatusCode::kInvalidArgument,
            "unknown init \"xavier\""},
    BadSpec{"UnknownDataset", "name: x\ndataset: {name: imagenet}\n",
            absl::StatusCode::kInvalidArgument, "dataset.name (line 2): unknown dataset"},
    BadSpec{"UnknownLoss", "name: x\nmodel: {loss: hinge}\n", absl::StatusCode::kInvalidArgument,
            "unknown loss \"hinge\""},
    BadSpec{"UnknownOutput", "name: x\nmodel: {output: sigmoid}\n",
            absl::StatusCode::kInvalidArgument, "unknown output"},
    BadSpec{"UnknownAxis", "name: x\ngrid: {colour: [red]}\n", absl::StatusCode::kInvalidArgument,
            "grid.colour (line 2): unknown axis"},
    BadSpec{"ScalarGridAxis", "name: x\ngrid: {depth: 3}\n", absl::StatusCode::kInvalidArgument,
            "expected a non-empty list"},
    BadSpec{"EmptyGridAxis", "name: x\ngrid: {depth: []}\n", absl::StatusCode::kInvalidArgument,
            "got an empty list"},
    BadSpec{"RepeatedGridValue", "name: x\ngrid: {depth: [1, 2, 1]}\n",
            absl::StatusCode::kInvalidArgument, "grid.depth[2] (line 2): repeats an earlier value"},
    BadSpec{"Cifar10WithoutPath", "name: x\ndataset: {name: cifar10}\n",
            absl::StatusCode::kInvalidArgument,
            "dataset.path: cifar10 has no default location: give dataset.path"},
    BadSpec{"MnistInGridWithoutPath", "name: x\ngrid: {dataset: [shapeset, mnist]}\n",
            absl::StatusCode::kInvalidArgument, "dataset.path: mnist has no default location"},
    BadSpec{"ZeroDepth", "name: x\nmodel: {depth: 0}\n", absl::StatusCode::kInvalidArgument,
            "depth must be in [1, 2147483647], got 0"},
    BadSpec{"NegativeRate", "name: x\ntraining: {learning_rate: -0.1}\n",
            absl::StatusCode::kInvalidArgument, "learning_rate must be in (0, 1000], got -0.1"},
    BadSpec{"MomentumOne", "name: x\ntraining: {momentum: 1}\n", absl::StatusCode::kInvalidArgument,
            "momentum must be in [0, 1)"},
    BadSpec{"NoHistogramBins", "name: x\ntraining: {histogram_bins: 0}\n",
            absl::StatusCode::kInvalidArgument, "histogram_bins must be in [1, 2147483647], got 0"},
    BadSpec{"TooManyHistogramBins", "name: x\ntraining: {histogram_bins: 5000}\n",
            absl::StatusCode::kResourceExhausted,
            "histogram_bins 5000 is above the limit of 4096 (max_histogram_bins)"},
    BadSpec{"StuckErrorAboveOne", "name: x\ntraining: {stuck_error: 1.5}\n",
            absl::StatusCode::kInvalidArgument, "stuck_error must be in (0, 1], got 1.5"},
    BadSpec{"NegativeSnapshotEvery", "name: x\ntraining: {snapshot_every: -1}\n",
            absl::StatusCode::kInvalidArgument, "snapshot_every must be in [0, "},
    BadSpec{"NegativeSnapshotSeconds", "name: x\ntraining: {snapshot_seconds: -2}\n",
            absl::StatusCode::kInvalidArgument, "snapshot_seconds must be at least 0, got -2"},
    BadSpec{"UnknownKeepWeights", "name: x\ntraining: {keep_weights: best}\n",
            absl::StatusCode::kInvalidArgument,
            "unknown keep_weights \"best\" (expected one of final, none)"},
    BadSpec{"InfiniteRate", "name: x\ntraining: {learning_rate: .inf}\n",
            absl::StatusCode::kInvalidArgument, "expected a number"},
    BadSpec{"FractionalWidth", "name: x\nmodel: {width: 10.5}\n",
            absl::StatusCode::kInvalidArgument, "expected an integer, got \"10.5\""},
    BadSpec{"ListForName", "name: [a, b]\n", absl::StatusCode::kInvalidArgument,
            "name (line 1): expected text"},
    BadSpec{"NegativeSeed", "name: x\nseed: -3\n", absl::StatusCode::kInvalidArgument,
            "seed (line 2): expected a non-negative integer"},
    BadSpec{"ZeroSeeds", "name: x\nseeds: 0\n", absl::StatusCode::kInvalidArgument,
            "seeds (line 2): must be in [1"},
    BadSpec{"TooManyAttempts", "name: x\nlimits: {max_attempts: 1000}\n",
            absl::StatusCode::kInvalidArgument, "limits.max_attempts (line 2)"},
    BadSpec{"UnknownLimit", "name: x\nlimits: {max_trials: 5}\n",
            absl::StatusCode::kInvalidArgument, "limits.max_trials (line 2): unknown field"},
    BadSpec{"RandomWithoutSamples", "name: x\nrandom:\n  learning_rate: {uniform: [0.1, 0.2]}\n",
            absl::StatusCode::kInvalidArgument, "random.samples"},
    BadSpec{"SamplesWithoutAxes", "name: x\nrandom: {samples: 3}\n",
            absl::StatusCode::kInvalidArgument, "no axes to sample"},
    BadSpec{"UniformOnNames", "name: x\nrandom:\n  samples: 2\n  activation: {uniform: [1, 2]}\n",
            absl::StatusCode::kInvalidArgument, "activation is not numeric; use choice"},
    BadSpec{"LogUniformFromZero",
            "name: x\nrandom:\n  samples: 2\n  momentum: {log_uniform: [0, 0.5]}\n",
            absl::StatusCode::kInvalidArgument, "log_uniform needs lo > 0"},
    BadSpec{"ReversedBounds", "name: x\nrandom:\n  samples: 2\n  depth: {uniform: [5, 2]}\n",
            absl::StatusCode::kInvalidArgument, "lo must not exceed hi"},
    BadSpec{"UnknownDistribution", "name: x\nrandom:\n  samples: 2\n  depth: {normal: [5, 2]}\n",
            absl::StatusCode::kInvalidArgument, "unknown distribution"},
    BadSpec{"AxisInGridAndRandom",
            "name: x\ngrid: {depth: [1]}\nrandom:\n  samples: 2\n  depth: {uniform: [1, 3]}\n",
            absl::StatusCode::kInvalidArgument, "depth is already a grid axis (line 2)"},
    BadSpec{"ExcludeUnknownAxis", "name: x\nexclude: [{colour: red}]\n",
            absl::StatusCode::kInvalidArgument, "exclude[0].colour (line 2): unknown axis"},
    BadSpec{"ExcludeNotAList", "name: x\nexclude: {depth: 1}\n", absl::StatusCode::kInvalidArgument,
            "exclude (line 2): expected a list of rules"},
    BadSpec{"ExcludeEverything", "name: x\ngrid: {depth: [1]}\nexclude: [{depth: 1}]\n",
            absl::StatusCode::kInvalidArgument, "every configuration is excluded"},
    BadSpec{"DepthAboveLimit", "name: x\ngrid:\n  depth: [2, 65]\n",
            absl::StatusCode::kResourceExhausted,
            "grid.depth[1] (line 3): depth 65 is above the limit of 64 (max_depth)"},
    BadSpec{"WidthAboveLimit", "name: x\nmodel: {width: 20000}\n",
            absl::StatusCode::kResourceExhausted, "width 20000 is above the limit of 16384"},
    BadSpec{"SampledWidthAboveLimit",
            "name: x\nrandom:\n  samples: 2\n  width: {uniform: [10, 100000]}\n",
            absl::StatusCode::kResourceExhausted, "random.width.uniform[1] (line 4)"},
    BadSpec{"TooManyTrials", "name: x\ngrid: {depth: [1, 2, 3, 4, 5]}\nseeds: 30\n",
            absl::StatusCode::kResourceExhausted,
            "5 configurations x 30 seeds = 150 trials, above the limit of 100 (max_trials)"},
    BadSpec{"FarTooManyCombinations",
            "name: x\ngrid:\n  depth: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
            "  width: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
            "  batch_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
            "  updates: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n",
            absl::StatusCode::kResourceExhausted, "before exclusions"},
    // Issue 17, defect 11: absurd values are caught here, naming the field.
    BadSpec{"AbsurdUpdates", "name: x\ntraining: {updates: 1000000000000000}\n",
            absl::StatusCode::kResourceExhausted,
            "training.updates (line 2): updates 1000000000000000 is above the limit of 1000000000 "
            "(max_updates)"},
    BadSpec{"AbsurdUpdatesInGrid", "name: x\ngrid: {updates: [100, 1000000000000000]}\n",
            absl::StatusCode::kResourceExhausted, "grid.updates[1] (line 2): updates"},
    BadSpec{"AbsurdLearningRate", "name: x\ngrid: {learning_rate: [0.1, 1e308]}\n",
            absl::StatusCode::kInvalidArgument,
            "grid.learning_rate[1] (line 2): learning_rate must be in (0, 1000], got 1e+308"},
    BadSpec{"AbsurdGain", "name: x\nmodel: {init_gain: 1e300}\n",
            absl::StatusCode::kInvalidArgument, "init_gain must be in (0, 1000]"},
    // Control characters: raw, or as YAML escapes that reach the parsed text.
    BadSpec{"AnsiEscapeInName", "name: \"red\x1b[31m\"\n", absl::StatusCode::kInvalidArgument,
            "spec line 1: control character \\x1b is not allowed"},
    BadSpec{"CarriageReturnInName", "seeds: 1\nname: \"a\\rb\"\n",
            absl::StatusCode::kInvalidArgument,
            "name: control character \\x0d is not allowed in \"a\\x0db\""},
    BadSpec{"YamlEscapedAnsiInName", "name: \"red\\e[31m\"\n", absl::StatusCode::kInvalidArgument,
            "name: control character \\x1b is not allowed in \"red\\x1b[31m\""},
    BadSpec{"YamlEscapedBellInPath", "name: x\ndataset: {path: \"/data\\a\"}\n",
            absl::StatusCode::kInvalidArgument, "dataset.path: control character \\x07"},
    BadSpec{"NotUtf8", "name: caf\xe9\n", absl::StatusCode::kInvalidArgument,
            "spec line 1: byte \\xe9 is not UTF-8 text"}};

// A description may span lines; the whole spec may hold UTF-8.
TEST(SweepSpec, TextMayHoldLineBreaksInDescriptionsAndUtf8) {
  auto spec = ParseSweepSpec("name: \"caf\u00e9 \u03c3\"\ndescription: |\n  two\n  lines\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "caf\xc3\xa9 \xcf\x83");
  EXPECT_EQ(spec->description, "two\nlines\n");
}

// A binary file sent as a spec: the error is one printable line.
TEST(SweepSpec, ErrorsAboutBinaryInputArePrintable) {
  std::string binary = "name: x\ngrid: {activation: [\"";
  for (int byte = 0x80; byte < 0x100; ++byte) binary.push_back(static_cast<char>(byte));
  binary += "\"]}\n";
  for (const std::string& yaml :
       {binary, std::string("\x7f\x45\x4c\x46\x02\x01\x01\x00\x00garbage", 17),
        std::string("name: x\ngrid: {activation: [\"\\e[2J\\x80\"]}\n")}) {
    absl::Status status = ParseSweepSpec(yaml).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    for (char c : status.message()) {
      const auto byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << "byte " << int{byte} << " in: " << status;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadSpecTest, ::testing::ValuesIn(kBadSpecs),
                         [](const ::testing::TestParamInfo<BadSpec>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace deepsweep
