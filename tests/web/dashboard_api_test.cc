// The dashboard's JSON API over a real Coordinator and SQLite store: what
// each endpoint answers, pagination on a 10,000-trial sweep, errors.
#include "web/dashboard_api.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "store/sqlite_sweep_store.h"

namespace deepsweep::web {
namespace {

using nlohmann::json;

json Parse(const absl::StatusOr<std::string>& text) {
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? json::parse(*text) : json();
}

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("deepsweep_web_", info->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteSweepStore::Open((dir_ / "sweeps.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    coordinator_ = std::make_unique<Coordinator>(store_.get(), &clock_);
    api_ = std::make_unique<DashboardApi>(coordinator_.get(), store_.get(), &clock_);
  }
  void TearDown() override {
    api_.reset();
    coordinator_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  SweepRecord Create(const std::string& spec) {
    auto sweep = coordinator_->CreateSweep(spec);
    EXPECT_TRUE(sweep.ok()) << sweep.status();
    return sweep.ok() ? *sweep : SweepRecord{};
  }

  // Leases the next trial to `worker`, reports one checkpoint per entry of
  // `errors` (steps 100, 200, ...) with two layers of statistics, and
  // completes it. Returns the trial.
  TrialRecord Run(const std::string& worker, const std::vector<double>& errors,
                  double top_saturation = 0.0) {
    auto acquired = coordinator_->AcquireTrial({.worker_id = worker, .host = "h"});
    EXPECT_TRUE(acquired.ok() && acquired->trial.has_value());
    const TrialRecord trial = *acquired->trial;
    std::vector<Checkpoint> checkpoints;
    for (size_t i = 0; i < errors.size(); ++i) {
      Checkpoint c{.step = static_cast<int64_t>(100 * (i + 1)),
                   .train_nll = 1,
                   .test_error = errors[i],
                   .test_nll = 1,
                   .validation_error = errors[i] + 0.01,
                   .validation_nll = 1};
      for (int layer = 1; layer <= 2; ++layer) {
        c.layer_stats.push_back({.layer = layer,
                                 .quantity = LayerQuantity::kActivation,
                                 .mean = 0.5,
                                 .p98 = 0.9,
                                 .saturated_fraction = layer == 2 ? top_saturation : 0.0,
                                 .jacobian_sv_mean = 1.0,
                                 .hist_lo = 0,
                                 .hist_hi = 1,
                                 .histogram = {0.25f, 0.75f}});
      }
      checkpoints.push_back(c);
    }
    EXPECT_TRUE(
        coordinator_->ReportCheckpoints(trial.id, acquired->lease->lease_id, checkpoints).ok());
    clock_.Advance(absl::Seconds(20));  // within the 30 s lease
    EXPECT_TRUE(coordinator_->CompleteTrial(trial.id, acquired->lease->lease_id, {}).ok());
    return trial;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteSweepStore> store_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<DashboardApi> api_;
};

constexpr char kSmallSpec[] = R"(name: "<script>alert(1)</script>"
model: {width: 8}
training: {updates: 300, checkpoint_every: 100}
grid:
  depth: [2, 3]
seeds: 2
)";

TEST_F(DashboardApiTest, SweepListsCountsProgressAndThroughput) {
  const SweepRecord sweep = Create(kSmallSpec);
  Run("w1", {0.5, 0.4, 0.3});
  Run("w1", {0.6, 0.5, 0.1});
  const json sweeps = Parse(api_->Sweeps());
  ASSERT_EQ(sweeps.size(), 1u);
  const json& s = sweeps[0];
  EXPECT_EQ(s["id"], sweep.id);
  // Names are data: the API hands them over as JSON strings, escaping nothing
  // else (the page inserts them as text).
  EXPECT_EQ(s["name"], "<script>alert(1)</script>");
  EXPECT_EQ(s["counts"]["succeeded"], 2);
  EXPECT_EQ(s["counts"]["pending"], 2);
  EXPECT_EQ(s["counts"]["total"], 4);
  EXPECT_DOUBLE_EQ(s["fraction"].get<double>(), 0.5);
  // Two completions in the 40 s since creation: 180 trials/h, and the two
  // left take 40 s.
  EXPECT_DOUBLE_EQ(s["trials_per_hour"].get<double>(), 180.0);
  EXPECT_DOUBLE_EQ(s["eta_seconds"].get<double>(), 40.0);
}

TEST_F(DashboardApiTest, SweepConfigurationsCurvesAndTable1) {
  const SweepRecord sweep = Create(kSmallSpec);
  // Expansion order (seeds outermost): depth 2 seed 0, depth 3 seed 0, depth 2
  // seed 1, depth 3 seed 1.
  const TrialRecord first = Run("w1", {0.5, 0.4, 0.25});
  ASSERT_EQ(first.spec.depth, 2);
  ASSERT_EQ(Run("w1", {0.9, 0.9, 0.9}).spec.depth, 3);
  ASSERT_EQ(Run("w1", {0.7, 0.6, 0.75}).spec.depth, 2);
  const json detail = Parse(api_->Sweep(sweep.id));
  EXPECT_EQ(detail["fields"], json::array({"depth"}));
  ASSERT_EQ(detail["configs"].size(), 2u);
  const json& d2 = detail["configs"][0];
  EXPECT_EQ(d2["label"], "depth=2");
  EXPECT_EQ(d2["first_trial"], first.id);
  EXPECT_EQ(d2["n"], 2);
  EXPECT_DOUBLE_EQ(d2["mean"].get<double>(), 0.5);
  // t(0.975, 1) * std / sqrt(2) with std = 0.25 * sqrt(2): 12.7062 * 0.25.
  EXPECT_NEAR(d2["ci_half"].get<double>(), 12.7062047 * 0.25, 1e-6);
  EXPECT_TRUE(d2["best"].get<bool>());
  const json& d3 = detail["configs"][1];
  EXPECT_EQ(d3["n"], 1);
  EXPECT_DOUBLE_EQ(d3["mean"].get<double>(), 0.9);
  EXPECT_TRUE(d3["ci_half"].is_null());  // one value: no interval
  EXPECT_FALSE(d3["best"].get<bool>());
  EXPECT_EQ(d3["counts"]["pending"], 1);
  EXPECT_EQ(d3["counts"]["succeeded"], 1);
  ASSERT_EQ(detail["table1"]["rows"].size(), 1u);
  EXPECT_DOUBLE_EQ(detail["table1"]["rows"][0]["cells"]["shapeset"]["mean"].get<double>(), 0.5);

  const json curves = Parse(api_->Curves(sweep.id, first.id));
  ASSERT_EQ(curves["steps"].size(), 3u);
  EXPECT_EQ(curves["steps"][0]["step"], 100);
  EXPECT_EQ(curves["steps"][0]["n"], 2);
  EXPECT_DOUBLE_EQ(curves["steps"][0]["test_mean"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(curves["steps"][2]["test_mean"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(curves["steps"][2]["validation_mean"].get<double>(), 0.51);
  EXPECT_EQ(api_->Curves(sweep.id + 1, first.id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DashboardApiTest, TrialCheckpointsCarryLayersAndTheDiagnosis) {
  Create(kSmallSpec);
  const TrialRecord trial = Run("w1", {0.8, 0.8, 0.8}, /*top_saturation=*/0.9);
  const json data = Parse(api_->Checkpoints(trial.id));
  ASSERT_EQ(data["checkpoints"].size(), 3u);
  const json& c = data["checkpoints"][1];
  EXPECT_EQ(c["step"], 200);
  ASSERT_EQ(c["layers"].size(), 2u);
  EXPECT_EQ(c["layers"][1]["layer"], 2);
  EXPECT_EQ(c["layers"][1]["quantity"], "activation");
  EXPECT_DOUBLE_EQ(c["layers"][1]["saturated_fraction"].get<double>(), 0.9);
  EXPECT_EQ(c["layers"][1]["histogram"], json::array({0.25, 0.75}));
  ASSERT_EQ(data["diagnosis"]["findings"].size(), 1u);
  EXPECT_EQ(data["diagnosis"]["findings"][0]["kind"], "top_layer_saturated");
  EXPECT_EQ(data["diagnosis"]["line"],
            "top hidden layer 2 saturated at step 100 (90% of units within 2% of a bound), not "
            "recovered");
  EXPECT_EQ(Parse(api_->Trial(trial.id))["diagnosis"], data["diagnosis"]);
  EXPECT_EQ(api_->Checkpoints(trial.id + 100).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DashboardApiTest, WorkersAliveAndWhatTheyTrain) {
  Create(kSmallSpec);
  Run("w1", {0.5});
  auto acquired = coordinator_->AcquireTrial({.worker_id = "w2", .host = "h2"});
  ASSERT_TRUE(acquired.ok() && acquired->trial.has_value());
  clock_.Advance(absl::Seconds(20));
  ASSERT_TRUE(coordinator_->RenewLease(acquired->trial->id, acquired->lease->lease_id).ok());
  clock_.Advance(absl::Seconds(15));  // w1 last spoke 35 s ago (more than 30), w2 15 s ago
  const json workers = Parse(api_->Workers());
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0]["worker_id"], "w1");
  EXPECT_FALSE(workers[0]["alive"].get<bool>());
  EXPECT_TRUE(workers[0]["current_trial"].is_null());
  EXPECT_EQ(workers[1]["worker_id"], "w2");
  EXPECT_TRUE(workers[1]["alive"].get<bool>());
  EXPECT_EQ(workers[1]["current_trial"], acquired->trial->id);
}

TEST_F(DashboardApiTest, TenThousandTrialsArePaginatedAndAggregatedByTheStore) {
  std::vector<std::string> rates;
  for (int i = 1; i <= 100; ++i) rates.push_back(absl::StrCat(0.001 * i));
  const SweepRecord sweep = Create(
      absl::StrCat("name: big\nmodel: {width: 8}\ntraining: {updates: 100, checkpoint_every: 50}\n"
                   "grid:\n  depth: [1, 2, 3, 4, 5]\n  learning_rate: [",
                   absl::StrJoin(rates, ", "), "]\nseeds: 20\n"));
  ASSERT_EQ(sweep.counts.total(), 10000);

  const json first = Parse(api_->Trials(sweep.id, {}));
  EXPECT_EQ(first["total"], 10000);
  EXPECT_EQ(first["limit"], 50);
  ASSERT_EQ(first["trials"].size(), 50u);
  EXPECT_EQ(first["trials"][0]["index"], 0);
  const json last = Parse(api_->Trials(sweep.id, {.offset = 9990, .limit = 500}));
  ASSERT_EQ(last["trials"].size(), 10u);
  EXPECT_EQ(last["trials"][9]["index"], 9999);
  const json pending = Parse(api_->Trials(sweep.id, {.limit = 500, .state = TrialState::kPending}));
  EXPECT_EQ(pending["total"], 10000);
  EXPECT_EQ(pending["trials"].size(), 500u);
  const json none = Parse(api_->Trials(sweep.id, {.state = TrialState::kSucceeded}));
  EXPECT_EQ(none["total"], 0);
  EXPECT_TRUE(none["trials"].empty());
  EXPECT_EQ(api_->Trials(sweep.id, {.limit = 501}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(api_->Trials(sweep.id, {.offset = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);

  // 500 configurations of 20 seeds each, counted in SQL.
  const json detail = Parse(api_->Sweep(sweep.id));
  ASSERT_EQ(detail["configs"].size(), 500u);
  EXPECT_EQ(detail["configs"][499]["counts"]["pending"], 20);
  EXPECT_EQ(detail["fields"], json::array({"depth", "learning_rate"}));
}

TEST_F(DashboardApiTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(api_->Sweep(7).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(api_->Trials(7, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(api_->Trial(7).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Parse(api_->Sweeps()), json::array());
  EXPECT_EQ(Parse(api_->Workers()), json::array());
}

}  // namespace
}  // namespace deepsweep::web
