#include "client/summary.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/paper_table.h"
#include "core/sweep_store.h"
#include "core/trial_fields.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deepsweep::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TrialRecord Trial(std::string activation, std::string init, TrialState state,
                  std::optional<double> test_error, int seed_index = 0,
                  std::string dataset = "shapeset", double learning_rate = 0.01,
                  std::optional<double> validation_error = std::nullopt) {
  static TrialId next_id = 1;
  TrialRecord trial;
  trial.id = next_id++;
  trial.spec.activation = std::move(activation);
  trial.spec.init = std::move(init);
  trial.spec.dataset.name = std::move(dataset);
  trial.spec.learning_rate = learning_rate;
  trial.spec.seed_index = seed_index;
  trial.spec.seed = 1000 + static_cast<uint64_t>(seed_index);
  trial.state = state;
  trial.final_test_error = test_error;
  trial.final_validation_error = validation_error;
  return trial;
}

constexpr TrialState kOk = TrialState::kSucceeded;

TEST(TrialFieldsTest, VaryingFieldsAndLabels) {
  std::vector<TrialSpec> specs(3);
  specs[1].activation = "sigmoid";
  specs[2].learning_rate = 0.1;
  specs[2].seed = 99;  // seeds never make a configuration
  const auto varying = VaryingConfigFields(specs);
  ASSERT_EQ(varying.size(), 2u);
  EXPECT_EQ(varying[0]->name, "activation");
  EXPECT_EQ(varying[1]->name, "learning_rate");
  EXPECT_EQ(ConfigLabel(specs[2], varying), "activation=tanh learning_rate=0.1");
  EXPECT_EQ(ConfigLabel(specs[0], {}), "(all)");
  EXPECT_THAT(FindConfigField("colour").status().message(),
              HasSubstr("unknown configuration field 'colour'"));
  EXPECT_EQ((*FindConfigField("depth"))->get(specs[0]), TrialFieldValue{int64_t{5}});
}

// By hand:
//   A = tanh normalized: 0.10, 0.12, 0.17 -> mean 0.13, var 0.0013
//   B = tanh standard:   0.20, 0.22, 0.27 -> mean 0.23, var 0.0013
//   C = sigmoid standard: 0.50, 0.60 (+ one diverged, one pending)
//     -> mean 0.55, var 0.005
//   A vs B: t = -0.1 / sqrt(2 * 0.0013 / 3) = -3.39683, df = 4
//   A vs C: t = -0.42 / sqrt(0.0013 / 3 + 0.005 / 2),
//           df = (0.0013/3 + 0.0025)^2 / ((0.0013/3)^2 / 2 + 0.0025^2 / 1)
//   Holm with m = 2: the smaller p doubles, the larger stays (then running max).
TEST(SummarizeTrialsTest, StatisticsByHand) {
  const std::vector<TrialRecord> trials = {
      Trial("tanh", "standard", kOk, 0.20, 0),
      Trial("tanh", "normalized", kOk, 0.10, 0),
      Trial("sigmoid", "standard", kOk, 0.50, 0),
      Trial("tanh", "standard", kOk, 0.22, 1),
      Trial("tanh", "normalized", kOk, 0.12, 1),
      Trial("sigmoid", "standard", kOk, 0.60, 1),
      Trial("tanh", "standard", kOk, 0.27, 2),
      Trial("tanh", "normalized", kOk, 0.17, 2),
      Trial("sigmoid", "standard", TrialState::kDiverged, 0.9, 2),
      Trial("sigmoid", "standard", TrialState::kPending, std::nullopt, 3),
  };
  auto summary = SummarizeTrials(trials, {});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_THAT(summary->fields, ElementsAre("activation", "init"));
  ASSERT_EQ(summary->configs.size(), 3u);
  const ConfigSummary& a = summary->configs[0];
  const ConfigSummary& b = summary->configs[1];
  const ConfigSummary& c = summary->configs[2];
  EXPECT_EQ(a.label, "activation=tanh init=normalized");
  EXPECT_EQ(b.label, "activation=tanh init=standard");
  EXPECT_EQ(c.label, "activation=sigmoid init=standard");
  EXPECT_TRUE(a.best);
  EXPECT_FALSE(b.best);
  EXPECT_EQ(summary->best, 0u);

  EXPECT_EQ(a.stats->n, 3);
  EXPECT_NEAR(a.stats->mean, 0.13, 1e-15);
  EXPECT_NEAR(*a.stats->std, std::sqrt(0.0013), 1e-15);
  EXPECT_NEAR(*a.stats->ci_half, 4.302653 * std::sqrt(0.0013) / std::sqrt(3.0), 1e-7);
  EXPECT_NEAR(b.stats->mean, 0.23, 1e-15);
  EXPECT_EQ(c.stats->n, 2);
  EXPECT_NEAR(c.stats->mean, 0.55, 1e-15);
  EXPECT_NEAR(*c.stats->std, std::sqrt(0.005), 1e-15);
  // t(0.975, 1) = 12.706205.
  EXPECT_NEAR(*c.stats->ci_half, 12.706205 * std::sqrt(0.005) / std::sqrt(2.0), 1e-6);
  EXPECT_EQ(c.diverged, 1);
  EXPECT_EQ(c.unfinished, 1);
  EXPECT_EQ(c.failed, 0);

  ASSERT_EQ(summary->comparisons.size(), 2u);
  const ConfigComparison& ab = summary->comparisons[0];
  const ConfigComparison& ac = summary->comparisons[1];
  EXPECT_EQ(ab.a, 0u);
  EXPECT_EQ(ab.b, 1u);
  EXPECT_EQ(ac.b, 2u);
  const double t_ab = -0.1 / std::sqrt(2 * 0.0013 / 3);
  EXPECT_NEAR(ab.welch.t, t_ab, 1e-10);
  EXPECT_NEAR(ab.welch.df, 4, 1e-10);
  const double p_ab = 2 * StudentTCdf(t_ab, 4);
  EXPECT_NEAR(ab.welch.p_value, p_ab, 1e-12);
  const double va = 0.0013 / 3, vc = 0.005 / 2;
  const double t_ac = -0.42 / std::sqrt(va + vc);
  const double df_ac = (va + vc) * (va + vc) / (va * va / 2 + vc * vc / 1);
  EXPECT_NEAR(ac.welch.t, t_ac, 1e-10);
  EXPECT_NEAR(ac.welch.df, df_ac, 1e-10);
  const double p_ac = 2 * StudentTCdf(t_ac, df_ac);
  EXPECT_NEAR(ac.welch.p_value, p_ac, 1e-12);
  const double small = std::min(p_ab, p_ac), large = std::max(p_ab, p_ac);
  const double holm_small = std::min(1.0, 2 * small);
  const double holm_large = std::max(holm_small, large);
  EXPECT_NEAR(std::min(ab.p_holm, ac.p_holm), holm_small, 1e-12);
  EXPECT_NEAR(std::max(ab.p_holm, ac.p_holm), holm_large, 1e-12);
  EXPECT_EQ(ab.significant, ab.p_holm <= 0.05);
}

TEST(SummarizeTrialsTest, AllPairsAndGroupingBy) {
  const std::vector<TrialRecord> trials = {
      Trial("tanh", "standard", kOk, 0.2, 0),    Trial("tanh", "standard", kOk, 0.3, 1),
      Trial("tanh", "normalized", kOk, 0.1, 0),  Trial("tanh", "normalized", kOk, 0.15, 1),
      Trial("sigmoid", "standard", kOk, 0.5, 0), Trial("sigmoid", "standard", kOk, 0.6, 1),
  };
  SummaryOptions all;
  all.all_pairs = true;
  auto summary = SummarizeTrials(trials, all);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->comparisons.size(), 3u);

  SummaryOptions by_activation;
  by_activation.by = {"activation"};
  summary = SummarizeTrials(trials, by_activation);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->configs.size(), 2u);
  EXPECT_EQ(summary->configs[0].label, "activation=tanh");
  EXPECT_EQ(summary->configs[0].stats->n, 4);
  EXPECT_NEAR(summary->configs[0].stats->mean, 0.1875, 1e-15);

  SummaryOptions bad;
  bad.by = {"colour"};
  EXPECT_EQ(SummarizeTrials(trials, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.by.clear();
  bad.confidence = 1.5;
  EXPECT_EQ(SummarizeTrials(trials, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SummarizeTrialsTest, NoDataNoBest) {
  const std::vector<TrialRecord> trials = {
      Trial("tanh", "standard", TrialState::kFailed, std::nullopt),
      Trial("sigmoid", "standard", TrialState::kLeased, std::nullopt),
  };
  auto summary = SummarizeTrials(trials, {});
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->configs.size(), 2u);
  EXPECT_FALSE(summary->best.has_value());
  EXPECT_TRUE(summary->comparisons.empty());
  EXPECT_EQ(summary->configs[0].failed, 1);
  EXPECT_TRUE(SummarizeTrials({}, {})->configs.empty());
}

// Table 1: rows activation + init, columns dataset; the learning rate is
// chosen per cell by validation error.
TEST(BuildPaperTableTest, PivotsAndSelectsByValidationError) {
  const std::vector<TrialRecord> trials = {
      // tanh normalized on shapeset: lr 0.01 validates better (0.11 vs 0.30)
      // though its test error is worse than lr 0.1's.
      Trial("tanh", "normalized", kOk, 0.16, 0, "shapeset", 0.01, 0.11),
      Trial("tanh", "normalized", kOk, 0.14, 1, "shapeset", 0.01, 0.11),
      Trial("tanh", "normalized", kOk, 0.05, 0, "shapeset", 0.1, 0.30),
      Trial("tanh", "normalized", kOk, 0.05, 1, "shapeset", 0.1, 0.30),
      Trial("tanh", "normalized", kOk, 0.02, 0, "mnist", 0.01, 0.02),
      Trial("sigmoid", "standard", kOk, 0.8, 0, "shapeset", 0.01, 0.8),
      Trial("sigmoid", "standard", TrialState::kFailed, std::nullopt, 0, "mnist", 0.01),
  };
  auto table = BuildPaperTable(trials);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->datasets, ElementsAre("shapeset", "mnist"));
  ASSERT_EQ(table->rows.size(), 2u);
  const PaperRow& tanh = table->rows[0];
  EXPECT_EQ(tanh.activation, "tanh");
  EXPECT_EQ(tanh.init, "normalized");
  const PaperCell& cell = tanh.cells.at("shapeset");
  EXPECT_EQ(cell.candidates, 2);
  EXPECT_EQ(cell.selected, "learning_rate=0.01");
  EXPECT_FALSE(cell.selected_on_test);
  EXPECT_EQ(cell.test_error.n, 2);
  EXPECT_NEAR(cell.test_error.mean, 0.15, 1e-15);
  EXPECT_EQ(tanh.cells.at("mnist").candidates, 1);
  EXPECT_EQ(tanh.cells.at("mnist").selected, "");
  const PaperRow& sigmoid = table->rows[1];
  EXPECT_EQ(sigmoid.cells.count("mnist"), 0u);  // only a failed trial
  EXPECT_NEAR(sigmoid.cells.at("shapeset").test_error.mean, 0.8, 1e-15);
}

// The dashboard builds Table 1 from the store's per-configuration sums; the
// same trials give the same table.
TEST(BuildPaperTableTest, FromConfigurationSumsEqualsFromTrials) {
  const std::vector<TrialRecord> trials = {
      Trial("tanh", "normalized", kOk, 0.16, 0, "shapeset", 0.01, 0.11),
      Trial("tanh", "normalized", kOk, 0.14, 1, "shapeset", 0.01, 0.12),
      Trial("tanh", "normalized", kOk, 0.05, 0, "shapeset", 0.1, 0.30),
      Trial("tanh", "normalized", kOk, 0.07, 1, "shapeset", 0.1, 0.31),
      Trial("tanh", "normalized", kOk, 0.02, 0, "mnist", 0.01, 0.02),
      Trial("sigmoid", "standard", kOk, 0.8, 0, "shapeset", 0.01),  // no validation error
      Trial("sigmoid", "standard", TrialState::kFailed, std::nullopt, 0, "mnist", 0.01),
  };
  // What SweepStore::AggregateConfigs sums, by hand.
  std::vector<ConfigAggregate> configs;
  for (const TrialRecord& t : trials) {
    const TrialSpec config = ConfigOf(t.spec);
    auto it = std::find_if(configs.begin(), configs.end(),
                           [&](const ConfigAggregate& c) { return c.config == config; });
    if (it == configs.end()) it = configs.insert(configs.end(), ConfigAggregate{.config = config});
    AddToCounts(t.state, 1, it->counts);
    if (t.state != kOk) continue;
    ++it->n;
    it->sum_test_error += *t.final_test_error;
    it->sum_squares_test_error += *t.final_test_error * *t.final_test_error;
    if (t.final_validation_error.has_value()) {
      ++it->n_validation;
      it->sum_validation_error += *t.final_validation_error;
    }
  }
  auto from_trials = BuildPaperTable(trials);
  auto from_sums = BuildPaperTable(configs);
  ASSERT_TRUE(from_trials.ok() && from_sums.ok());
  EXPECT_EQ(from_sums->datasets, from_trials->datasets);
  ASSERT_EQ(from_sums->rows.size(), from_trials->rows.size());
  for (size_t r = 0; r < from_trials->rows.size(); ++r) {
    const PaperRow& a = from_trials->rows[r];
    const PaperRow& b = from_sums->rows[r];
    EXPECT_EQ(b.activation, a.activation);
    EXPECT_EQ(b.init, a.init);
    ASSERT_EQ(b.cells.size(), a.cells.size());
    for (const auto& [dataset, cell] : a.cells) {
      SCOPED_TRACE(a.activation + " " + dataset);
      const PaperCell& other = b.cells.at(dataset);
      EXPECT_EQ(other.selected, cell.selected);
      EXPECT_EQ(other.candidates, cell.candidates);
      EXPECT_EQ(other.selected_on_test, cell.selected_on_test);
      EXPECT_EQ(other.test_error.n, cell.test_error.n);
      EXPECT_NEAR(other.test_error.mean, cell.test_error.mean, 1e-12);
      EXPECT_EQ(other.test_error.ci_half.has_value(), cell.test_error.ci_half.has_value());
      if (cell.test_error.ci_half.has_value()) {
        EXPECT_NEAR(*other.test_error.ci_half, *cell.test_error.ci_half, 1e-9);
      }
    }
  }
  EXPECT_EQ(from_trials->rows[0].cells.at("shapeset").selected, "learning_rate=0.01");
  EXPECT_TRUE(from_sums->rows[1].cells.at("shapeset").selected_on_test);
}

TEST(BuildPaperTableTest, FallsBackToTestErrorWithoutValidation) {
  const std::vector<TrialRecord> trials = {
      Trial("tanh", "standard", kOk, 0.3, 0, "shapeset", 0.01),
      Trial("tanh", "standard", kOk, 0.2, 0, "shapeset", 0.1),
  };
  auto table = BuildPaperTable(trials);
  ASSERT_TRUE(table.ok());
  const PaperCell& cell = table->rows[0].cells.at("shapeset");
  EXPECT_TRUE(cell.selected_on_test);
  EXPECT_EQ(cell.selected, "learning_rate=0.1");
  EXPECT_EQ(BuildPaperTable(trials, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace deepsweep::client
