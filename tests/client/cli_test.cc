// Every deepsweep command run through RunCli, as a person would type it,
// against real backends holding the prepared sweeps (prepared_sweeps.h): a
// results file read with --db, and (cli_server_test.cc) a real server on
// loopback. Outputs are checked exactly where the numbers are known, and
// the statistics against values computed by hand here.
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli.h"
#include "client/format.h"
#include "client/results_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/local_coordinator_client.h"
#include "store/sqlite_sweep_store.h"
#include "tests/client/cli_runner.h"
#include "tests/client/prepared_sweeps.h"

namespace deepsweep::client {
namespace {

using testing::CliResult;
using ::testing::HasSubstr;
using testing::PreparedSweeps;
using ::testing::StartsWith;

// The prepared sweeps in a results file, read with --db.
class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("cli_test_", ::getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "results.db").string();
    auto store = SqliteSweepStore::Open(db_);
    ASSERT_TRUE(store.ok()) << store.status();
    rpc::LocalClientOptions options;
    options.coordinator.lease_ttl = absl::Hours(1);
    rpc::LocalCoordinatorClient writer(*std::move(store), &clock_, options);
    auto prepared = testing::PrepareSweeps(writer, clock_);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    prepared_ = *std::move(prepared);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CliResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_});
    return testing::RunCommand(args, clock_, ResultsFileReader(&clock_));
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string db_;
  PreparedSweeps prepared_;
};

TEST_F(ResultsFileTest, ResultsCsvIsExact) {
  const CliResult r = Run({"results", "paper-small", "--format", "csv", "--columns",
                           "id,index,state,activation,init,seed_index,final_test_error"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<TrialId>& ids = prepared_.finished_trials;
  EXPECT_EQ(r.out, absl::StrCat("id,index,state,activation,init,seed_index,final_test_error\n",
                                ids[0], ",0,succeeded,sigmoid,standard,0,0.5\n",  //
                                ids[1], ",1,succeeded,tanh,standard,0,0.2\n",     //
                                ids[2], ",2,succeeded,tanh,normalized,0,0.1\n",   //
                                ids[3], ",3,succeeded,sigmoid,standard,1,0.6\n",  //
                                ids[4], ",4,succeeded,tanh,standard,1,0.22\n",    //
                                ids[5], ",5,succeeded,tanh,normalized,1,0.12\n",  //
                                ids[6], ",6,diverged,sigmoid,standard,2,0.9\n",   //
                                ids[7], ",7,succeeded,tanh,standard,2,0.27\n",    //
                                ids[8], ",8,succeeded,tanh,normalized,2,0.17\n"));
  EXPECT_EQ(r.err, "");
}

TEST_F(ResultsFileTest, ResultsFilterAndSort) {
  const std::vector<TrialId>& ids = prepared_.finished_trials;
  CliResult r =
      Run({"results", "paper-small", "state=succeeded", "activation=tanh", "--sort",
           "-final_test_error", "--format", "csv", "--columns", "id,init,final_test_error"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("id,init,final_test_error\n",  //
                                ids[7], ",standard,0.27\n",    //
                                ids[4], ",standard,0.22\n",    //
                                ids[1], ",standard,0.2\n",     //
                                ids[8], ",normalized,0.17\n",  //
                                ids[5], ",normalized,0.12\n",  //
                                ids[2], ",normalized,0.1\n"));

  // Across every sweep: only "still-running" has depth 2 trials.
  r = Run({"results", "depth>=2", "depth<5", "--format", "csv", "--columns", "id,depth,state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("id,depth,state\n", prepared_.failed, ",2,failed\n",
                                prepared_.running + 3, ",2,pending\n"));

  r = Run({"results", "paper-small", "--limit", "2", "--format", "json", "--columns",
           "id,state,final_test_error,reason"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("[\n  {\n    \"id\": ", ids[0],
                                ",\n    \"state\": \"succeeded\",\n    \"final_test_error\": 0.5,\n"
                                "    \"reason\": \"\"\n  },\n  {\n    \"id\": ",
                                ids[1],
                                ",\n    \"state\": \"succeeded\",\n    \"final_test_error\": 0.2,\n"
                                "    \"reason\": \"\"\n  }\n]\n"));
}

TEST_F(ResultsFileTest, ResultsTableForPeople) {
  const TrialId first = prepared_.running;
  const CliResult r =
      Run({"results", "still-running", "--columns", "id,state,steps_done,final_test_error,reason"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("id  state    steps_done  final_test_error  reason\n",  //
                         first, "  leased          200               0.4\n",     //
                         first + 1, "  failed            0                 -  out of memory\n",
                         first + 2, "  pending           0                 -\n",  //
                         first + 3, "  pending           0                 -\n"));
}

// Hand-computed (see stats_test.cc for the method):
//   tanh normalized 0.10 0.12 0.17: mean 0.13, std sqrt(0.0013) = 0.0360555,
//     CI 0.13 -/+ 4.302653 * 0.0360555 / sqrt(3) = 0.0404335 .. 0.2195665
//   tanh standard   0.20 0.22 0.27: mean 0.23, same std, CI 0.1404335 .. 0.3195665
//   sigmoid standard 0.50 0.60 (1 diverged): mean 0.55, std 0.0707107,
//     CI 0.55 -/+ 12.706205 * 0.0707107 / sqrt(2) = -0.0853102 .. 1.1853102
//   Welch best vs tanh standard: t = -0.1 / sqrt(2 * 0.0013 / 3) = -3.397, df 4,
//     p = 0.02736; vs sigmoid: t = -0.42 / sqrt(0.0013/3 + 0.0025) = -7.755,
//     df = 1.356, p = 0.04358. Holm: 2 * 0.02736 = 0.05471, max(0.05471, 0.04358).
TEST_F(ResultsFileTest, SummaryTableMatchesHandComputation) {
  const CliResult r = Run({"summary", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "final test error of succeeded trials by activation, init: mean, sample std and 95% CI "
      "(Student's t) across seeds; * = lowest mean\n"
      "rank  best  activation  init        n  mean      std  ci95_low  ci95_high  diverged  "
      "failed  unfinished\n"
      "   1  *     tanh        normalized  3  0.13  0.03606   0.04043     0.2196         0       "
      "0           0\n"
      "   2        tanh        standard    3  0.23  0.03606    0.1404     0.3196         0       "
      "0           0\n"
      "   3        sigmoid     standard    2  0.55  0.07071  -0.08531      1.185         1       "
      "0           0\n"
      "\n"
      "Welch's t-test, the best against each other configuration; p_holm = Holm-adjusted over "
      "the 2 comparisons, significant at 0.05\n"
      "a                                b                                 difference       t     "
      "df        p   p_holm  significant\n"
      "activation=tanh init=normalized  activation=tanh init=standard           -0.1  -3.397      "
      "4  0.02736  0.05471  no\n"
      "activation=tanh init=normalized  activation=sigmoid init=standard       -0.42  -7.755  "
      "1.356  0.04358  0.05471  no\n");
}

std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ','));
  }
  return rows;
}

double Number(const std::string& text) { return std::stod(text); }

TEST_F(ResultsFileTest, SummaryCsvAndJson) {
  CliResult r = Run({"summary", "paper-small", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(absl::StrJoin(rows[0], ","),
            "rank,best,activation,init,n,mean,std,ci95_low,ci95_high,diverged,failed,unfinished");
  const double half3 = 4.302653 * std::sqrt(0.0013) / std::sqrt(3.0);
  EXPECT_EQ(rows[1][1], "*");
  EXPECT_EQ(rows[1][3], "normalized");
  EXPECT_NEAR(Number(rows[1][5]), 0.13, 1e-12);
  EXPECT_NEAR(Number(rows[1][6]), std::sqrt(0.0013), 1e-12);
  EXPECT_NEAR(Number(rows[1][7]), 0.13 - half3, 1e-6);
  EXPECT_NEAR(Number(rows[1][8]), 0.13 + half3, 1e-6);
  EXPECT_NEAR(Number(rows[3][5]), 0.55, 1e-12);
  EXPECT_NEAR(Number(rows[3][8]), 0.55 + 12.706205 * std::sqrt(0.005) / std::sqrt(2.0), 1e-6);
  EXPECT_EQ(rows[3][9], "1");

  r = Run({"summary", "paper-small", "--format", "csv", "--comparisons", "--all-pairs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pairs = ParseCsv(r.out);
  ASSERT_EQ(pairs.size(), 4u);  // header + 3 pairs
  EXPECT_EQ(absl::StrJoin(pairs[0], ","), "a,b,difference,t,df,p,p_holm,significant");
  EXPECT_NEAR(Number(pairs[1][3]), -0.1 / std::sqrt(2 * 0.0013 / 3), 1e-9);
  EXPECT_NEAR(Number(pairs[1][4]), 4, 1e-9);

  r = Run({"summary", "paper-small", "--format", "json", "--by", "activation"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              StartsWith("{\n  \"fields\": [\n    \"activation\"\n  ],\n  \"confidence\": "
                         "0.95,\n  \"configs\": [\n    {\n      \"rank\": 1,\n      "
                         "\"best\": \"*\",\n      \"activation\": \"tanh\",\n      \"n\": 6,"));
  EXPECT_THAT(r.out, HasSubstr("\"comparisons\": [\n    {\n      \"a\": \"activation=tanh\",\n"
                               "      \"b\": \"activation=sigmoid\","));
}

TEST_F(ResultsFileTest, PaperTable) {
  CliResult r = Run({"table", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 13.00 +- 100 * 0.0895665 = 8.96; 55.00 +- 100 * 0.6353102 = 63.53.
  EXPECT_EQ(
      r.out,
      "test error (%) of succeeded trials, mean ± 95% CI half-width across seeds (n = seeds)\n"
      "activation  init        shapeset\n"
      "sigmoid     standard    55.00 ± 63.53 (n=2)\n"
      "tanh        standard    23.00 ± 8.96 (n=3)\n"
      "tanh        normalized  13.00 ± 8.96 (n=3)\n");
  r = Run({"table", "paper-small", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(absl::StrJoin(rows[0], ","),
            "activation,init,shapeset_mean,shapeset_ci_half,shapeset_n,shapeset_selected");
  EXPECT_EQ(rows[3][0], "tanh");
  EXPECT_EQ(rows[3][1], "normalized");
  EXPECT_NEAR(Number(rows[3][2]), 0.13, 1e-12);
  EXPECT_NEAR(Number(rows[3][3]), 4.302653 * std::sqrt(0.0013) / std::sqrt(3.0), 1e-7);
  EXPECT_EQ(rows[3][4], "3");
}

TEST_F(ResultsFileTest, CurvesAreTheReportedCheckpoints) {
  const TrialId id = prepared_.finished_trials[2];
  const CliResult r = Run({"curves", absl::StrCat(id)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected =
      "trial_id,step,examples_seen,train_nll,test_error,test_nll,validation_error,"
      "validation_nll,wall_seconds\n";
  for (const Checkpoint& c : prepared_.reported[2]) {
    absl::StrAppend(&expected, id, ",", c.step, ",", c.examples_seen, ",",
                    FormatShortest(c.train_nll), ",", FormatShortest(c.test_error), ",",
                    FormatShortest(c.test_nll), ",", FormatShortest(c.validation_error), ",",
                    FormatShortest(c.validation_nll), ",", FormatShortest(c.wall_seconds), "\n");
  }
  EXPECT_EQ(r.out, expected);
  // Six checkpoints, the last at step 500 with the final error 0.1.
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\n", id, ",500,5000,")));
}

TEST_F(ResultsFileTest, LayersAreTheReportedStatistics) {
  const TrialId id = prepared_.finished_trials[2];
  CliResult r = Run({"layers", absl::StrCat(id), "--quantity", "activation", "--layer", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected =
      "trial_id,step,examples_seen,layer,quantity,mean,std,p02,p50,p98,saturated_fraction,"
      "jacobian_sv_mean\n";
  for (const Checkpoint& c : prepared_.reported[2]) {
    for (const LayerStat& s : c.layer_stats) {
      if (s.layer != 2 || s.quantity != LayerQuantity::kActivation) continue;
      absl::StrAppend(&expected, id, ",", c.step, ",", c.examples_seen, ",2,activation,",
                      FormatShortest(s.mean), ",", FormatShortest(s.std), ",",
                      FormatShortest(s.p02), ",", FormatShortest(s.p50), ",", FormatShortest(s.p98),
                      ",", FormatShortest(s.saturated_fraction), ",",
                      FormatShortest(s.jacobian_sv_mean), "\n");
    }
  }
  EXPECT_EQ(r.out, expected);

  // Every layer and quantity: 6 checkpoints x 5 layers x 3 quantities.
  r = Run({"layers", absl::StrCat(id), "--histogram", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1u + 6 * 5 * 3);
  EXPECT_EQ(rows[0].back(), "histogram");
  // The 20 histogram bins, space-separated in one field.
  const std::vector<std::string> bins = absl::StrSplit(rows[1].back(), ' ');
  EXPECT_EQ(bins.size(), 20u);
}

TEST_F(ResultsFileTest, StatusOfAllSweepsAndOne) {
  CliResult r = Run({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("id  name           state     progress                done  total  "
                         "succeeded  diverged  failed  cancelled  leased  pending  age\n",
                         " ", prepared_.finished,
                         "  paper-small    finished  [####################]     9      9          "
                         "8         1       0          0       0        0  12m00s\n",
                         " ", prepared_.active,
                         "  still-running  active    [#####...............]     1      4          "
                         "0         0       1          0       1        2  2m00s\n"));

  // still-running: 1 of 4 done plus 200/500 of the leased one = 35%. One
  // trial ran, 120 s after creation: 30 trials/h; 2.6 trials left: 312 s.
  r = Run({"status", "still-running"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("sweep ", prepared_.active,
                                " 'still-running': active, created 2m00s ago\n"
                                "[##############..........................]  35.0%  1/4 done\n"
                                "succeeded 0  diverged 0  failed 1  cancelled 0  leased 1  "
                                "pending 2\n"
                                "30.0 trials/h, ETA 5m12s\n"
                                "running:\n"
                                "  #",
                                prepared_.running,
                                " tanh normalized, depth 1, lr 0.01, seed 0: step 200/500 on "
                                "worker-b (attempt 1)\n"));
}

TEST_F(ResultsFileTest, WatchOfAFinishedSweepPrintsOneLine) {
  const CliResult r = Run({"watch", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("2023-11-14T22:25:20Z sweep ", prepared_.finished,
                                " finished 9/9 done (100.0%): succeeded 8, diverged 1, failed 0, "
                                "cancelled 0, leased 0, pending 0; finished after 9m00s\n"));
}

TEST_F(ResultsFileTest, Workers) {
  const CliResult r = Run({"workers", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            absl::StrCat("worker_id,host,pid,version,cores,trial,last_seen,seconds_since_seen,"
                         "first_seen\n"
                         "worker-a,testhost,4242,test,2,,2023-11-14T22:22:20Z,180,"
                         "2023-11-14T22:13:20Z\n"
                         "worker-b,testhost,4242,test,2,",
                         prepared_.running,
                         ",2023-11-14T22:23:20Z,120,2023-11-14T22:23:20Z\n"
                         "worker-c,testhost,4242,test,2,,2023-11-14T22:24:20Z,60,"
                         "2023-11-14T22:24:20Z\n"));
}

TEST_F(ResultsFileTest, PlotWritesAPng) {
  const std::vector<TrialId>& ids = prepared_.finished_trials;
  const std::string png = (dir_ / "fig11.png").string();
  CliResult r = Run({"plot", "test-error", absl::StrCat(ids[0]), absl::StrCat(ids[1]),
                     absl::StrCat(ids[2]), "-o", png, "--size", "640x480"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote " + png + "\n");
  EXPECT_GT(std::filesystem::file_size(png), 1000u);

  const std::string histogram = (dir_ / "fig6.png").string();
  r = Run({"plot", "histogram", absl::StrCat(ids[2]), "--step", "0", "-o", histogram});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(histogram));

  r = Run({"plot", "activations", absl::StrCat(ids[0]), absl::StrCat(ids[1]), "-o", png});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: the activations figure shows one trial, got 2\n");
}

TEST_F(ResultsFileTest, ErrorsAreOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"status", "99"}, "deepsweep: no sweep 99\n"},
      {{"status", "nosuch"}, "deepsweep: no sweep named 'nosuch'\n"},
      {{"results", "nosuch"}, "deepsweep: no sweep named 'nosuch'\n"},
      {{"curves", "999"}, "deepsweep: no trial 999\n"},
      {{"cancel", "1"},
       "deepsweep: cancel changes the sweep and needs the server (--server); --db only reads\n"},
      {{"submit", "-"},
       "deepsweep: submit changes the sweep and needs the server (--server); --db only reads\n"},
      {{"results", "colour=red"},
       "deepsweep: unknown trial field 'colour' (known: id, sweep_id, state, dataset, "
       "activation, init, depth, width, learning_rate, batch_size, loss, momentum, seed, "
       "seed_index, attempt, final_test_error, steps_done, worker_id)\n"},
  };
  for (const Case& c : cases) {
    const CliResult r = Run(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0];
    EXPECT_EQ(r.err, c.err) << c.args[0];
    EXPECT_EQ(r.out, "") << c.args[0];
  }
  const CliResult r = testing::RunCommand({"--db", (dir_ / "missing.db").string(), "status"},
                                          clock_, ResultsFileReader(&clock_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: no results file '" + (dir_ / "missing.db").string() + "'\n");
}

}  // namespace
}  // namespace deepsweep::client
