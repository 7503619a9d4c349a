// Every deepsweep command run through RunCli, as a person would type it,
// against real backends holding the prepared sweeps (prepared_sweeps.h): a
// results file read with --db, and a real server on loopback. Outputs are checked exactly where the
// numbers are known, and the statistics against values computed by hand here.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli.h"
#include "client/format.h"
#include "client/results_file.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "ml/kernels.h"
#include "rpc/grpc_coordinator_client.h"
#include "rpc/local_coordinator_client.h"
#include "server/server.h"
#include "store/file_snapshot_store.h"
#include "store/sqlite_db.h"
#include "store/sqlite_sweep_store.h"
#include "tests/client/cli_runner.h"
#include "tests/client/prepared_sweeps.h"
#include "tests/client/sample_checkpoints.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"

namespace deepsweep::client {
namespace {

using testing::CliResult;
using ::testing::HasSubstr;
using testing::PreparedSweeps;
using ::testing::StartsWith;

enum class Backend { kResultsFile, kServer };

std::string TestDir(std::string_view prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat(std::string(prefix), "_", ::getpid(), "_", info->name());
  std::replace(name.begin(), name.end(), '/', '_');
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The prepared sweeps, served by a results file read with --db or by a real
// deepsweep server on a loopback port.
class PreparedBackendTest {
 protected:
  // `more`, when given, writes more through the same client after the
  // prepared sweeps (with snapshots: a file backend's writer has a store).
  void StartBackend(Backend backend,
                    const std::function<void(rpc::CoordinatorClient&)>& more = nullptr) {
    backend_ = backend;
    dir_ = TestDir("cli_test");
    db_ = (dir_ / "results.db").string();
    CoordinatorOptions coordinator;
    coordinator.lease_ttl = absl::Hours(1);  // the prepared lease outlives the fake minutes
    if (backend == Backend::kResultsFile) {
      auto store = SqliteSweepStore::Open(db_);
      ASSERT_TRUE(store.ok()) << store.status();
      auto snapshots = FileSnapshotStore::Open(SnapshotDirFor(db_));
      ASSERT_TRUE(snapshots.ok()) << snapshots.status();
      rpc::LocalCoordinatorClient writer(*std::move(store), &clock_,
                                         rpc::LocalClientOptions{.coordinator = coordinator},
                                         *std::move(snapshots));
      auto prepared = testing::PrepareSweeps(writer, clock_);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      prepared_ = *std::move(prepared);
      if (more) more(writer);
      return;
    }
    server::Server::Options options;
    options.address = "127.0.0.1:0";
    options.database_path = db_;
    options.coordinator = coordinator;
    options.clock = &clock_;
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    rpc::ClientOptions client;
    client.target = address_;
    auto connected = rpc::ConnectCoordinator(client);
    ASSERT_TRUE(connected.ok()) << connected.status();
    client_ = *std::move(connected);
    auto prepared = testing::PrepareSweeps(*client_, clock_);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    prepared_ = *std::move(prepared);
    if (more) more(*client_);
  }

  void StopBackend() {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  CliResult Cli(std::vector<std::string> args, const testing::RunSettings& settings = {}) {
    if (backend_ == Backend::kResultsFile) {
      args.insert(args.begin(), {"--db", db_});
    } else {
      args.insert(args.begin(), {"--server", address_});
    }
    return testing::RunCommand(args, clock_, ResultsFileReader(&clock_), settings);
  }

  Backend backend_ = Backend::kResultsFile;
  FakeClock clock_;
  std::filesystem::path dir_;
  std::string db_;
  std::unique_ptr<server::Server> server_;
  std::string address_;
  std::unique_ptr<rpc::CoordinatorClient> client_;
  PreparedSweeps prepared_;
};

// Every read command, the same checks on both backends.
class CliTest : public PreparedBackendTest, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { StartBackend(GetParam()); }
  void TearDown() override { StopBackend(); }
};

INSTANTIATE_TEST_SUITE_P(Backends, CliTest,
                         ::testing::Values(Backend::kResultsFile, Backend::kServer),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kServer ? "Server" : "ResultsFile";
                         });

// One trial interrupted twice, written as workers would write it: attempt 1
// (spot-1) reports checkpoints 0..500, snapshots at 200 and 400, and is lost
// (its lease expires); attempt 2 (spot-2) resumes from 400 (redoing the
// stored 500 - 400 = 100 updates), reports to 700, snapshots at 600 and,
// told to stop, at 750, and releases the trial; attempt 3 (spot-3) resumes
// from 750 (past the last checkpoint: -50, nothing redone), reports to 1000,
// snapshots at 1000 and succeeds. The sweep's second trial runs on spot-4:
// checkpoints to 300, a snapshot at 200.
class AttemptsCliTest : public PreparedBackendTest, public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    StartBackend(GetParam(), [this](rpc::CoordinatorClient& client) { Interrupt(client); });
  }
  void TearDown() override { StopBackend(); }

  void Interrupt(rpc::CoordinatorClient& client) {
    // Only this sweep's trial is to be leased.
    ASSERT_TRUE(client.CancelSweep(prepared_.active).ok());
    auto sweep = client.CreateSweep(
        "name: spot\nseeds: 2\ntraining: {updates: 1000, checkpoint_every: 100}\n");
    ASSERT_TRUE(sweep.ok()) << sweep.status();
    testing::SampleCurve curve{.depth = 1, .checkpoints = 11, .every = 100, .layer_stats = false};
    const std::vector<Checkpoint> series = testing::MakeCheckpoints(curve);
    auto steps = [&](int64_t from, int64_t to) {
      return std::vector<Checkpoint>(series.begin() + from / 100, series.begin() + to / 100 + 1);
    };
    auto acquire = [&](const std::string& worker) {
      started_.push_back(clock_.Now());
      auto acquired = client.AcquireTrial({.worker_id = worker, .host = "spot", .cores = 1});
      EXPECT_TRUE(acquired.ok() && acquired->lease.has_value()) << acquired.status();
      return std::pair(acquired->trial->id, acquired->lease->lease_id);
    };
    std::string first;
    std::tie(trial_, first) = acquire("spot-1");
    ASSERT_TRUE(client.ReportCheckpoints(trial_, first, steps(0, 500)).ok());
    ASSERT_TRUE(client.UploadSnapshot(trial_, first, 200, "state at 200").ok());
    ASSERT_TRUE(client.UploadSnapshot(trial_, first, 400, "state at 400").ok());
    clock_.Advance(absl::Hours(2));  // past the lease's hour: spot-1 is gone
    const auto [second_trial, second] = acquire("spot-2");
    ASSERT_EQ(second_trial, trial_);
    auto resumed = client.DownloadSnapshot(trial_, second, std::nullopt);
    ASSERT_TRUE(resumed.ok() && resumed->has_value()) << resumed.status();
    EXPECT_EQ((*resumed)->step, 400);
    ASSERT_TRUE(client.ReportCheckpoints(trial_, second, steps(500, 700)).ok());
    ASSERT_TRUE(client.UploadSnapshot(trial_, second, 600, "state at 600").ok());
    ASSERT_TRUE(client.UploadSnapshot(trial_, second, 750, "state at 750").ok());
    ASSERT_TRUE(client.ReleaseTrial(trial_, second).ok());
    ended_.push_back(clock_.Now());
    clock_.Advance(absl::Minutes(1));
    const auto [third_trial, third] = acquire("spot-3");
    ASSERT_EQ(third_trial, trial_);
    resumed = client.DownloadSnapshot(trial_, third, std::nullopt);
    ASSERT_TRUE(resumed.ok() && resumed->has_value()) << resumed.status();
    EXPECT_EQ((*resumed)->step, 750);
    ASSERT_TRUE(client.ReportCheckpoints(trial_, third, steps(800, 1000)).ok());
    ASSERT_TRUE(client.UploadSnapshot(trial_, third, 1000, "state at 1000").ok());
    clock_.Advance(absl::Minutes(1));
    ASSERT_TRUE(client.CompleteTrial(trial_, third, {.state = TrialState::kSucceeded}).ok());
    ended_.push_back(clock_.Now());
    std::string fourth;
    std::tie(running_, fourth) = acquire("spot-4");
    ASSERT_NE(running_, trial_);
    ASSERT_TRUE(client.ReportCheckpoints(running_, fourth, steps(0, 300)).ok());
    ASSERT_TRUE(client.UploadSnapshot(running_, fourth, 200, "state at 200").ok());
  }

  TrialId trial_ = 0;                // interrupted twice, succeeded
  TrialId running_ = 0;              // running on spot-4
  std::vector<absl::Time> started_;  // when each attempt was leased
  std::vector<absl::Time> ended_;    // when attempts 2 and 3 ended
};

INSTANTIATE_TEST_SUITE_P(Backends, AttemptsCliTest,
                         ::testing::Values(Backend::kResultsFile, Backend::kServer),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kServer ? "Server" : "ResultsFile";
                         });

TEST_P(AttemptsCliTest, EachAttemptShowsWhereItStartedWhatItRedidAndItsSnapshots) {
  const std::string id = absl::StrCat(trial_);
  // Attempt 1 expired when spot-2 asked, two hours on.
  const std::string t1 = UtcTimestamp(started_[0]), t2 = UtcTimestamp(started_[1]),
                    t3 = UtcTimestamp(started_[2]), e2 = UtcTimestamp(ended_[0]),
                    e3 = UtcTimestamp(ended_[1]);
  CliResult csv = Cli({"attempts", id, "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out,
            absl::StrCat("trial_id,attempt,worker_id,outcome,acquired_at,ended_at,started_at_step,"
                         "reached_step,updates_redone,snapshots,snapshot_step\n",
                         id, ",1,spot-1,expired,", t1, ",", t2, ",0,500,,2,400\n",        //
                         id, ",2,spot-2,released,", t2, ",", e2, ",400,700,100,2,750\n",  //
                         id, ",3,spot-3,succeeded,", t3, ",", e3, ",750,1000,-50,1,1000\n"));

  CliResult per_trial = Cli({"attempts", "spot", "--per-trial", "--format", "json"});
  ASSERT_EQ(per_trial.exit_code, 0) << per_trial.err;
  auto object = [](const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string text = "  {\n";
    for (size_t i = 0; i < fields.size(); ++i) {
      absl::StrAppend(&text, "    \"", fields[i].first, "\": ", fields[i].second,
                      i + 1 < fields.size() ? ",\n" : "\n");
    }
    return text + "  }";
  };
  EXPECT_EQ(per_trial.out, absl::StrCat("[\n",
                                        object({{"trial_id", id},
                                                {"state", "\"succeeded\""},
                                                {"steps_done", "1000"},
                                                {"updates", "1000"},
                                                {"attempts", "3"},
                                                {"interruptions", "2"},
                                                {"updates_redone", "100"},
                                                {"snapshots", "5"},
                                                {"snapshot_step", "1000"}}),
                                        ",\n",
                                        object({{"trial_id", absl::StrCat(running_)},
                                                {"state", "\"leased\""},
                                                {"steps_done", "300"},
                                                {"updates", "1000"},
                                                {"attempts", "1"},
                                                {"interruptions", "0"},
                                                {"updates_redone", "0"},
                                                {"snapshots", "1"},
                                                {"snapshot_step", "200"}}),
                                        "\n]\n"));

  // status: where a running trial would resume if its worker were lost now.
  CliResult status = Cli({"status", "spot"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out,
              HasSubstr(": step 300/1000 on spot-4 (attempt 1), snapshot at step 200\n"));

  CliResult table = Cli({"attempts", id});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr(absl::StrCat(
                             "trial ", id,
                             " (succeeded, 1000/1000 updates): 3 attempts, 2 interruptions, 100 "
                             "updates redone; 5 snapshots, the latest at step 1000\n")));
  EXPECT_THAT(table.out, HasSubstr("spot-2"));

  // A trial never interrupted, without snapshots; an unknown one is an error.
  CliResult plain = Cli(
      {"attempts", absl::StrCat(prepared_.finished_trials[0]), "--per-trial", "--format", "csv"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, absl::StrCat("trial_id,state,steps_done,updates,attempts,interruptions,"
                                    "updates_redone,snapshots,snapshot_step\n",
                                    prepared_.finished_trials[0], ",succeeded,500,500,1,0,0,0,\n"));
  CliResult unknown = Cli({"attempts", "9999"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "deepsweep: no trial 9999\n");
}

class ResultsFileOnlyTest : public PreparedBackendTest, public ::testing::Test {
 protected:
  void SetUp() override { StartBackend(Backend::kResultsFile); }
  void TearDown() override { StopBackend(); }
};

TEST_P(CliTest, ResultsCsvIsExact) {
  const CliResult r = Cli({"results", "paper-small", "--format", "csv", "--columns",
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

TEST_P(CliTest, ResultsFilterAndSort) {
  const std::vector<TrialId>& ids = prepared_.finished_trials;
  CliResult r =
      Cli({"results", "paper-small", "state=succeeded", "activation=tanh", "--sort",
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
  r = Cli({"results", "depth>=2", "depth<5", "--format", "csv", "--columns", "id,depth,state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("id,depth,state\n", prepared_.failed, ",2,failed\n",
                                prepared_.running + 3, ",2,pending\n"));

  r = Cli({"results", "paper-small", "--limit", "2", "--format", "json", "--columns",
           "id,state,final_test_error,reason"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("[\n  {\n    \"id\": ", ids[0],
                                ",\n    \"state\": \"succeeded\",\n    \"final_test_error\": 0.5,\n"
                                "    \"reason\": \"\"\n  },\n  {\n    \"id\": ",
                                ids[1],
                                ",\n    \"state\": \"succeeded\",\n    \"final_test_error\": 0.2,\n"
                                "    \"reason\": \"\"\n  }\n]\n"));
}

TEST_P(CliTest, ResultsTableForPeople) {
  const TrialId first = prepared_.running;
  const CliResult r =
      Cli({"results", "still-running", "--columns", "id,state,steps_done,final_test_error,reason"});
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
TEST_P(CliTest, SummaryTableMatchesHandComputation) {
  const CliResult r = Cli({"summary", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "final test error (a fraction: 0.05 = 5%) of succeeded trials by activation, init: mean, "
      "sample std and 95% CI "
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

TEST_P(CliTest, SummaryCsvAndJson) {
  CliResult r = Cli({"summary", "paper-small", "--format", "csv"});
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

  r = Cli({"summary", "paper-small", "--format", "csv", "--comparisons", "--all-pairs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pairs = ParseCsv(r.out);
  ASSERT_EQ(pairs.size(), 4u);  // header + 3 pairs
  EXPECT_EQ(absl::StrJoin(pairs[0], ","), "a,b,difference,t,df,p,p_holm,significant");
  EXPECT_NEAR(Number(pairs[1][3]), -0.1 / std::sqrt(2 * 0.0013 / 3), 1e-9);
  EXPECT_NEAR(Number(pairs[1][4]), 4, 1e-9);

  r = Cli({"summary", "paper-small", "--format", "json", "--by", "activation"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              StartsWith("{\n  \"fields\": [\n    \"activation\"\n  ],\n  \"confidence\": "
                         "0.95,\n  \"configs\": [\n    {\n      \"rank\": 1,\n      "
                         "\"best\": \"*\",\n      \"activation\": \"tanh\",\n      \"n\": 6,"));
  EXPECT_THAT(r.out, HasSubstr("\"comparisons\": [\n    {\n      \"a\": \"activation=tanh\",\n"
                               "      \"b\": \"activation=sigmoid\","));
}

TEST_P(CliTest, PaperTable) {
  CliResult r = Cli({"table", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 13.00 +- 100 * 0.0895665 = 8.96; 55.00 +- 100 * 0.6353102 = 63.53.
  EXPECT_EQ(
      r.out,
      "test error (%) of succeeded trials, mean ± 95% CI half-width across seeds (n = seeds)\n"
      "each cell is the one configuration of its activation, init and dataset\n"
      "activation  init        shapeset\n"
      "sigmoid     standard    55.00 ± 63.53 (n=2)\n"
      "tanh        standard    23.00 ± 8.96 (n=3)\n"
      "tanh        normalized  13.00 ± 8.96 (n=3)\n");
  r = Cli({"table", "paper-small", "--format", "csv"});
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

TEST_P(CliTest, CurvesAreTheReportedCheckpoints) {
  const TrialId id = prepared_.finished_trials[2];
  const CliResult r = Cli({"curves", absl::StrCat(id)});
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

TEST_P(CliTest, LayersAreTheReportedStatistics) {
  const TrialId id = prepared_.finished_trials[2];
  CliResult r = Cli({"layers", absl::StrCat(id), "--quantity", "activation", "--layer", "2"});
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
  r = Cli({"layers", absl::StrCat(id), "--histogram", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1u + 6 * 5 * 3);
  EXPECT_EQ(rows[0].back(), "histogram");
  // The 20 histogram bins, space-separated in one field.
  const std::vector<std::string> bins = absl::StrSplit(rows[1].back(), ' ');
  EXPECT_EQ(bins.size(), 20u);

  // JSON: the bins as an array of numbers; statistics of activations only
  // (saturation, Jacobian) are null on gradient rows.
  r = Cli({"layers", absl::StrCat(id), "--histogram", "--format", "json", "--layer", "1",
           "--quantity", "backprop_grad"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"saturated_fraction\": null,\n    \"jacobian_sv_mean\": null,"));
  EXPECT_THAT(r.out, HasSubstr("\"histogram\": [\n      "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("\"histogram\": \"")));

  // A layer the trial does not have is an error, not an empty listing.
  r = Cli({"layers", absl::StrCat(id), "--layer", "9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: --layer 9: the trial has 5 hidden layers, numbered 1 to 5\n");
}

// curves, layers and plot select trials as results does.
TEST_P(CliTest, SeriesCommandsTakeResultsFilters) {
  CliResult r = Cli({"curves", "paper-small", "activation=tanh", "init:eq:normalized",
                     "seed_index:le:1", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1u + 2 * 6);  // two seeds x six checkpoints
  EXPECT_EQ(rows[1][0], absl::StrCat(prepared_.finished_trials[2]));
  // The sort key and filter the issue asked for: final_validation_error.
  r = Cli({"results", "paper-small", "final_validation_error:lt:0.2", "--sort",
           "-final_validation_error", "--columns", "id,final_validation_error", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("id,final_validation_error\n"));
  const auto validated = ParseCsv(r.out);
  ASSERT_GE(validated.size(), 2u);
  for (size_t i = 2; i < validated.size(); ++i) {
    EXPECT_GE(Number(validated[i - 1][1]), Number(validated[i][1]));
    EXPECT_LT(Number(validated[i][1]), 0.2);
  }
  r = Cli({"curves", "paper-small", "activation=relu"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: no trials match\n");
  // A sweep alone: all its trials.
  r = Cli({"curves", "paper-small", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseCsv(r.out).size(), 1u + 9 * 6);
  r = Cli({"curves", absl::StrCat(prepared_.finished_trials[0]), "tanh"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("'tanh' is not a trial id"));
}

TEST_P(CliTest, PlotOfATrialWithoutCheckpointsSaysWhy) {
  const std::string png = (dir_ / "f.png").string();
  CliResult r = Cli({"plot", "test-error", absl::StrCat(prepared_.failed), "-o", png});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, absl::StrCat("deepsweep: trial ", prepared_.failed,
                                " failed before its first checkpoint: out of memory\n"));
  r = Cli({"plot", "test-error", absl::StrCat(prepared_.finished_trials[0]), "-o",
           (dir_ / "f.gif").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("name the file .png, .svg or .pdf"));
  // Selected by filters, the trial without checkpoints is skipped and said so.
  r = Cli({"plot", "test-error", "still-running", "state:ne:pending", "-o", png});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, absl::StrCat("skipped: trial ", prepared_.failed,
                                " failed before its first checkpoint: out of memory\n"));
}

TEST_P(CliTest, StatusOfAllSweepsAndOne) {
  CliResult r = Cli({"status"});
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
  r = Cli({"status", "still-running"});
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
                                "worker-b (attempt 1), no snapshot yet\n"
                                "failed or diverged, newest first:\n"
                                "trial  state   attempt  worker_id  reason\n",
                                std::string(5 - absl::StrCat(prepared_.failed).size(), ' '),
                                prepared_.failed, "  failed        1  worker-c   out of memory\n"));

  // --format for programs: the sweep's row, and in json the failures.
  r = Cli({"status", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("id,name,state,done,total,succeeded,diverged,failed,cancelled,"
                                "leased,pending,created_at\n"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\n", prepared_.active,
                                            ",still-running,active,1,4,0,0,1,0,1,2,")));
  r = Cli({"status", "still-running", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t eta = r.out.find("\"eta_seconds\": ");
  ASSERT_NE(eta, std::string::npos) << r.out;
  EXPECT_NEAR(std::stod(r.out.substr(eta + 15)), 312, 1e-6);
  EXPECT_THAT(r.out, HasSubstr("\"reason\": \"out of memory\""));
  EXPECT_EQ(Cli({"status", "--format", "yaml"}).exit_code, 105);  // CLI11's choice check
}

TEST_P(CliTest, WatchOfAFinishedSweepPrintsOneLine) {
  const CliResult r = Cli({"watch", "paper-small"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("2023-11-14T22:25:20Z sweep ", prepared_.finished,
                                " finished 9/9 done (100.0%): succeeded 8, diverged 1, failed 0, "
                                "cancelled 0, leased 0, pending 0; finished after 9m00s\n"));
}

TEST_P(CliTest, Workers) {
  const CliResult r = Cli({"workers", "--format", "csv"});
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

TEST_P(CliTest, PlotWritesAPng) {
  const std::vector<TrialId>& ids = prepared_.finished_trials;
  const std::string png = (dir_ / "fig11.png").string();
  CliResult r = Cli({"plot", "test-error", absl::StrCat(ids[0]), absl::StrCat(ids[1]),
                     absl::StrCat(ids[2]), "-o", png, "--size", "640x480"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote " + png + "\n");
  EXPECT_GT(std::filesystem::file_size(png), 1000u);

  const std::string histogram = (dir_ / "fig6.png").string();
  r = Cli({"plot", "histogram", absl::StrCat(ids[2]), "--step", "0", "-o", histogram});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(histogram));

  r = Cli({"plot", "activations", absl::StrCat(ids[0]), absl::StrCat(ids[1]), "-o", png});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: the activations figure shows one trial, got 2\n");
}

TEST_P(CliTest, ErrorsAreOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"status", "99"}, "deepsweep: no sweep 99\n"},
      {{"status", "nosuch"}, "deepsweep: no sweep named 'nosuch'\n"},
      {{"results", "nosuch"}, "deepsweep: no sweep named 'nosuch'\n"},
      {{"curves", "999"}, "deepsweep: no trial 999\n"},
      {{"results", "colour=red"},
       "deepsweep: unknown trial field 'colour' (known: id, sweep_id, index, state, dataset, "
       "activation, init, depth, width, learning_rate, batch_size, loss, momentum, seed, "
       "seed_index, data_seed, attempt, final_test_error, final_test_nll, "
       "final_validation_error, steps_done, worker_id, reason)\n"},
  };
  for (const Case& c : cases) {
    const CliResult r = Cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0];
    EXPECT_EQ(r.err, c.err) << c.args[0];
    EXPECT_EQ(r.out, "") << c.args[0];
  }
}

// One Student-t implementation: the interval of the SQL view config_summary
// (plain sqlite3) is the CLI's, to the last few bits.
TEST_F(ResultsFileOnlyTest, SqlViewAndCliGiveTheSameInterval) {
  CliResult r = Cli({"summary", "paper-small", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = ParseCsv(r.out);
  r = Cli({"table", "paper-small", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto table = ParseCsv(r.out);
  auto db = SqliteDb::OpenReadOnly(db_);
  ASSERT_TRUE(db.ok()) << db.status();
  int compared = 0;
  for (const auto& [init, summary_row, table_row] :
       {std::tuple{"standard", 2, 2}, std::tuple{"normalized", 1, 3}}) {
    ASSERT_EQ(summary[summary_row][3], init);
    ASSERT_EQ(table[table_row][1], init);
    auto query = (*db)->Prepare(absl::StrCat(
        "SELECT ci95_test_error FROM config_summary WHERE activation = 'tanh' AND init = '", init,
        "' AND sweep_id = ", prepared_.finished));
    ASSERT_TRUE(query.ok()) << query.status();
    auto row = query->Step();
    ASSERT_TRUE(row.ok() && *row);
    const double sql = query->Real(0);
    const double cli = Number(summary[summary_row][8]) - Number(summary[summary_row][5]);
    EXPECT_NEAR(sql, cli, 1e-12 * sql) << init;
    EXPECT_NEAR(sql, Number(table[table_row][3]), 1e-12 * sql) << init;
    // t(0.975, 2) exactly, not the 4-digit 4.3027 of a printed table.
    EXPECT_NEAR(sql / (Number(summary[summary_row][6]) / std::sqrt(3.0)), 4.302652729749464, 1e-12);
    ++compared;
  }
  EXPECT_EQ(compared, 2);
}

TEST_F(ResultsFileOnlyTest, RefusesChangesAndMissingFiles) {
  for (const std::string command : {"cancel", "retry", "submit"}) {
    const CliResult r = Cli({command, "1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "deepsweep: " + command +
                         " changes the sweep and needs the server (--server); --db only reads\n");
  }
  const std::string missing = (dir_ / "missing.db").string();
  const CliResult r =
      testing::RunCommand({"--db", missing, "status"}, clock_, ResultsFileReader(&clock_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: no results file '" + missing + "'\n");
  EXPECT_FALSE(std::filesystem::exists(missing));  // not created by looking
}

std::string FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --db opens the file read-only: a copy without write permission answers every
// read command as the original does, and its bytes never change.
TEST_F(ResultsFileOnlyTest, ReadsAReadOnlyCopyWithoutChangingIt) {
  const std::filesystem::path copy = dir_ / "readonly.db";
  std::filesystem::copy_file(db_, copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::others_read);
  const std::string bytes = FileBytes(copy);
  const std::string trial = absl::StrCat(prepared_.finished_trials[0]);
  const std::vector<std::vector<std::string>> commands = {{"status"},
                                                          {"status", "paper-small"},
                                                          {"results", "paper-small"},
                                                          {"summary", "paper-small"},
                                                          {"table", "paper-small"},
                                                          {"workers"},
                                                          {"curves", trial},
                                                          {"layers", trial}};
  for (const std::vector<std::string>& command : commands) {
    std::vector<std::string> args = {"--db", copy.string()};
    args.insert(args.end(), command.begin(), command.end());
    const CliResult r = testing::RunCommand(args, clock_, ResultsFileReader(&clock_));
    EXPECT_EQ(r.exit_code, 0) << command[0] << ": " << r.err;
    EXPECT_EQ(r.out, Cli(command).out) << command[0];
  }
  EXPECT_EQ(FileBytes(copy), bytes);
}

// Trials computed by the real TrialRunner and stored as a worker would; one
// of them stored with a single value off by one ulp.
class ReplayTest : public ::testing::Test {
 protected:
  static constexpr char kTinySpec[] = R"(
name: tiny
dataset: {name: shapeset, validation_examples: 40, test_examples: 40}
model: {width: 8, depth: 2}
training: {updates: 20, checkpoint_every: 10, batch_size: 5, probe_examples: 16,
           histogram_bins: 7, jacobian_examples: 1}
seeds: 2
)";

  void SetUp() override {
    dir_ = TestDir("replay_test");
    db_ = (dir_ / "results.db").string();
    auto store = SqliteSweepStore::Open(db_);
    ASSERT_TRUE(store.ok()) << store.status();
    rpc::LocalCoordinatorClient writer(*std::move(store), &clock_);
    ASSERT_TRUE(writer.CreateSweep(kTinySpec).ok());
    worker::DatasetCache datasets;
    const worker::TrialRunner runner(&datasets, &clock_);
    // Trained on train_isa_ (when set), by a worker that says stored_path_.
    if (train_isa_.has_value()) {
      if (!ml::KernelIsaSupported(*train_isa_)) GTEST_SKIP() << "this CPU lacks the ISA";
      ASSERT_TRUE(ml::SelectKernelIsa(*train_isa_).ok());
    }
    if (train_plan_.has_value()) {
      ASSERT_TRUE(ml::SelectAutoPlan(*train_plan_).ok());
    }
    const WorkerInfo worker{.worker_id = "w",
                            .host = "h",
                            .pid = 1,
                            .version = "v",
                            .cores = 1,
                            .compute_path = stored_path_.value_or(ml::ComputePath())};
    for (int i = 0; i < 2; ++i) {
      auto acquisition = writer.AcquireTrial(worker);
      ASSERT_TRUE(acquisition.ok() && acquisition->trial.has_value());
      std::vector<Checkpoint> checkpoints;
      auto run = runner.RunTrial(acquisition->trial->spec, [&](const Checkpoint& c) {
        checkpoints.push_back(c);
        return false;
      });
      ASSERT_TRUE(run.ok()) << run.status();
      ASSERT_EQ(checkpoints.size(), 3u);  // steps 0, 10, 20
      ASSERT_EQ(checkpoints[1].layer_stats[3].layer, 2);
      ASSERT_EQ(checkpoints[1].layer_stats[3].quantity, LayerQuantity::kActivation);
      ASSERT_EQ(checkpoints[1].layer_stats[3].histogram.size(), 7u);  // the spec's, not 50
      if (i == 1) {
        original_ = checkpoints[1].layer_stats[3].p98;
        tampered_ = std::nextafter(original_, INFINITY);
        checkpoints[1].layer_stats[3].p98 = tampered_;
      }
      ASSERT_TRUE(
          writer
              .ReportCheckpoints(acquisition->trial->id, acquisition->lease->lease_id, checkpoints)
              .ok());
      ASSERT_TRUE(
          writer.CompleteTrial(acquisition->trial->id, acquisition->lease->lease_id, {}).ok());
      ids_.push_back(acquisition->trial->id);
    }
    ASSERT_TRUE(ml::SelectKernelIsa(ml::BestKernelIsa()).ok());
    ASSERT_TRUE(ml::SelectAutoPlan(ml::DefaultAutoPlan()).ok());
  }
  void TearDown() override {
    ASSERT_TRUE(ml::SelectKernelIsa(ml::BestKernelIsa()).ok());
    ASSERT_TRUE(ml::SelectAutoPlan(ml::DefaultAutoPlan()).ok());
    std::filesystem::remove_all(dir_);
  }

  CliResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db_});
    return testing::RunCommand(args, clock_, ResultsFileReader(&clock_));
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string db_;
  std::vector<TrialId> ids_;
  double original_ = 0;
  double tampered_ = 0;
  std::optional<ml::KernelIsa> train_isa_;  // empty: the best ISA
  std::optional<ml::AutoPlan> train_plan_;  // empty: the default plan
  std::optional<std::string> stored_path_;  // empty: the training path
};

TEST_F(ReplayTest, StoredTrialReplaysBitForBit) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 3 checkpoints x 2 layers x 3 quantities.
  EXPECT_EQ(r.out,
            absl::StrCat("#", ids_[0],
                         " tanh normalized, depth 2, lr 0.01, seed 0 replays bit for bit: 3 "
                         "checkpoints and 18 layer statistics identical (wall time aside)\n"));
}

TEST_F(ReplayTest, NamesTheFirstDifference) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[1])});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, absl::StrCat("deepsweep: #", ids_[1],
                                " tanh normalized, depth 2, lr 0.01, seed 1 does not replay: step "
                                "10: layer 2 activation p98: ",
                                FormatShortest(tampered_), " vs ", FormatShortest(original_),
                                " (stored vs replayed)\n"));
}

// A trial trained on the baseline kernels replays on them, bit for bit, in a
// process whose best ISA is another one, and leaves that ISA active after.
class ReplayOnTheGenericPathTest : public ReplayTest {
 protected:
  void SetUp() override {
    train_isa_ = ml::KernelIsa::kGeneric;
    ReplayTest::SetUp();
  }
};

TEST_F(ReplayOnTheGenericPathTest, ReplaysOnTheStoredIsa) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("replays bit for bit: 3 checkpoints"));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("although")));
  EXPECT_EQ(ml::ActiveKernelIsa(), ml::BestKernelIsa());
}

// A trial trained by a worker that measured another auto plan (here Eigen's
// GEMM at every width, where the default runs the small-batch kernels at the
// spec's 5 columns) replays on that plan, bit for bit, and leaves this
// process's plan as it was.
class ReplayOnAMeasuredPlanTest : public ReplayTest {
 protected:
  void SetUp() override {
    train_plan_ = ml::AutoPlan{.ranges = {{.first = 1, .backend = ml::GemmBackend::kEigen}}};
    ReplayTest::SetUp();
  }
};

TEST_F(ReplayOnAMeasuredPlanTest, ReplaysOnTheStoredPlan) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("replays bit for bit: 3 checkpoints"));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("although")));
  EXPECT_EQ(ml::ActiveAutoPlan(), ml::DefaultAutoPlan());
}

// A path stored without a plan ("avx2 openblas=... forward=blocks256", no
// auto=) names the default plan: replayed on it, it is the same path.
class ReplayOfAPathWithoutAPlanTest : public ReplayTest {
 protected:
  void SetUp() override {
    if (!ml::KernelIsaSupported(ml::KernelIsa::kAvx2)) GTEST_SKIP() << "this CPU lacks AVX2";
    train_isa_ = ml::KernelIsa::kAvx2;
    stored_path_ = absl::StrCat("avx2 openblas=", ml::OpenBlasCoreName(), " forward=blocks256");
    ReplayTest::SetUp();
  }
};

TEST_F(ReplayOfAPathWithoutAPlanTest, IsTheSamePathAsTheDefaultPlan) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("replays bit for bit: 3 checkpoints"));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("although")));
}

// A path stored before the blocked forward (no forward=) ran the old forward
// sum: a replay says the paths differ rather than claiming the same one.
class ReplayOfAPathBeforeTheBlockedForwardTest : public ReplayTest {
 protected:
  void SetUp() override {
    if (!ml::KernelIsaSupported(ml::KernelIsa::kAvx2)) GTEST_SKIP() << "this CPU lacks AVX2";
    train_isa_ = ml::KernelIsa::kAvx2;
    stored_path_ = absl::StrCat("avx2 openblas=", ml::OpenBlasCoreName());
    ReplayTest::SetUp();
  }
};

TEST_F(ReplayOfAPathBeforeTheBlockedForwardTest, IsReportedAsAnotherPath) {
  const CliResult r = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("although trained on compute path"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("forward=blocks256"));
}

// A stored path this process cannot reproduce (here another OpenBLAS core) is
// reported as such: identical results say so, and a difference is not a
// mismatch (exit 0).
class ReplayOnAnotherPathTest : public ReplayTest {
 protected:
  void SetUp() override {
    train_isa_ = ml::KernelIsa::kAvx2;
    stored_path_ = "avx2 openblas=AnotherCore";
    ReplayTest::SetUp();
  }
};

TEST_F(ReplayOnAnotherPathTest, SaysThePathsDifferInsteadOfAMismatch) {
  const std::string paths =
      absl::StrCat("trained on compute path 'avx2 openblas=AnotherCore', replayed on '",
                   ml::SelectKernelIsa(ml::KernelIsa::kAvx2).ok() ? ml::ComputePath() : "", "'");
  ASSERT_TRUE(ml::SelectKernelIsa(ml::BestKernelIsa()).ok());
  const CliResult same = Cli({"replay", absl::StrCat(ids_[0])});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_THAT(same.out, ::testing::HasSubstr("replays bit for bit"));
  EXPECT_THAT(same.out, ::testing::HasSubstr(absl::StrCat("although ", paths)));

  const CliResult differs = Cli({"replay", absl::StrCat(ids_[1])});
  EXPECT_EQ(differs.exit_code, 0) << differs.err;
  EXPECT_EQ(differs.err, "");
  EXPECT_EQ(differs.out,
            absl::StrCat("#", ids_[1], " tanh normalized, depth 2, lr 0.01, seed 1 was ", paths,
                         ": different paths round differently, so it was not compared bit for bit "
                         "(first difference: step 10: layer 2 activation p98: ",
                         FormatShortest(tampered_), " vs ", FormatShortest(original_),
                         " (stored vs replayed))\n"));
}

// Commands that change sweeps or follow them live need the server.
class ServerCliTest : public PreparedBackendTest, public ::testing::Test {
 protected:
  void SetUp() override { StartBackend(Backend::kServer); }
  void TearDown() override { StopBackend(); }

  // Completes the running trial and runs the two pending ones: the sweep
  // "still-running" finishes with 3 succeeded and 1 failed.
  void FinishStillRunning() {
    ASSERT_TRUE(client_->CompleteTrial(prepared_.running, prepared_.running_lease, {}).ok());
    const WorkerInfo worker{
        .worker_id = "worker-d", .host = "h", .pid = 7, .version = "v", .cores = 1};
    for (int i = 0; i < 2; ++i) {
      auto acquisition = client_->AcquireTrial(worker);
      ASSERT_TRUE(acquisition.ok() && acquisition->trial.has_value());
      ASSERT_TRUE(
          client_->CompleteTrial(acquisition->trial->id, acquisition->lease->lease_id, {}).ok());
    }
  }
};

constexpr char kSmallSpec[] = R"(name: from-stdin
grid:
  activation: [tanh, softsign]
  depth: [1, 2]
)";

TEST_F(ServerCliTest, SubmitFromStdin) {
  const CliResult r = Cli({"submit", "-"}, {.stdin_text = kSmallSpec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto sweeps = client_->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  ASSERT_EQ(sweeps->size(), 3u);
  const SweepRecord& created = sweeps->back();
  EXPECT_EQ(created.name, "from-stdin");
  auto trials = client_->ListTrials(TrialQuery{.sweep_id = created.id});
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 4u);
  // Seeds are 63-bit numbers, right-aligned (header too) in the last column.
  size_t seed_width = 4;
  for (const TrialRecord& t : *trials) {
    seed_width = std::max(seed_width, absl::StrCat(t.spec.seed).size());
  }
  // One repeat: every configuration shares its data seed (SweepSpec).
  const std::string data_seed = absl::StrCat((*trials)[0].spec.data_seed);
  const size_t data_width = std::max<size_t>(data_seed.size(), 9);
  std::string expected = absl::StrCat(
      "submitted sweep ", created.id, " 'from-stdin': 4 trials = 4 configurations x 1 seeds\n",
      "index  activation  depth  seed_index  ", std::string(seed_width - 4, ' '), "seed  ",
      std::string(data_width - 9, ' '), "data_seed\n");
  const char* rows[] = {
      "    0  tanh            1           0  ", "    1  tanh            2           0  ",
      "    2  softsign        1           0  ", "    3  softsign        2           0  "};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*trials)[i].spec.data_seed, (*trials)[0].spec.data_seed);
    const std::string seed = absl::StrCat((*trials)[i].spec.seed);
    absl::StrAppend(&expected, rows[i], std::string(seed_width - seed.size(), ' '), seed, "  ",
                    std::string(data_width - data_seed.size(), ' '), data_seed, "\n");
  }
  EXPECT_EQ(r.out, expected);
}

TEST_F(ServerCliTest, ResubmittingASpecKeepsOneSweepOfItsName) {
  CliResult r = Cli({"submit", "-"}, {.stdin_text = kSmallSpec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const SweepId id = client_->ListSweeps()->back().id;
  // The same spec again: the existing sweep, said so, nothing stored.
  r = Cli({"submit", "-"}, {.stdin_text = kSmallSpec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("sweep ", id,
                                " 'from-stdin' already has this spec: nothing submitted (active, "
                                "0/4 trials done). deepsweep status ",
                                id, " shows it; submit --new makes a second sweep of this name\n"));
  EXPECT_EQ(client_->ListSweeps()->size(), 3u);
  // A changed spec under the name: refused over gRPC with the sweep's id.
  const std::string changed = std::string(kSmallSpec) + "seeds: 2\n";
  r = Cli({"submit", "-"}, {.stdin_text = changed});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, absl::StrCat("deepsweep: sweep ", id,
                                " named 'from-stdin' has a different spec: give the changed spec "
                                "a new name, or store it as another sweep of this name "
                                "(deepsweep submit --new)\n"));
  EXPECT_EQ(client_->ListSweeps()->size(), 3u);
  r = Cli({"submit", "-", "--new"}, {.stdin_text = changed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              StartsWith(absl::StrCat("submitted sweep ", id + 1, " 'from-stdin': 8 trials")));
  EXPECT_EQ(client_->ListSweeps()->size(), 4u);
}

TEST_F(ServerCliTest, TableRefusesToMixTrainingBudgets) {
  // from-stdin trains 20000 updates x 10; paper-small 500 x 10.
  ASSERT_EQ(Cli({"submit", "-"}, {.stdin_text = kSmallSpec}).exit_code, 0);
  const SweepId id = client_->ListSweeps()->back().id;
  FinishStillRunning();
  const auto trials = client_->ListTrials(TrialQuery{.sweep_id = id});
  ASSERT_TRUE(trials.ok()) << trials.status();
  for (const TrialRecord& t : *trials) {
    auto a = client_->AcquireTrial({.worker_id = "w", .host = "h"});
    ASSERT_TRUE(a.ok() && a->trial.has_value());
    ASSERT_TRUE(client_
                    ->ReportCheckpoints(a->trial->id, a->lease->lease_id,
                                        std::vector<Checkpoint>{{.step = 1, .test_error = 0.5}})
                    .ok());
    ASSERT_TRUE(client_->CompleteTrial(a->trial->id, a->lease->lease_id, {}).ok()) << t.id;
  }
  CliResult r = Cli({"table"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("different training budgets"));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("sweep ", id, " 'from-stdin': 200000 examples")));
  EXPECT_THAT(r.err, HasSubstr("--mix-budgets"));
  r = Cli({"table", "--mix-budgets"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"table", "from-stdin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("each cell: of its activation, init and dataset, the configuration "
                               "(depth) with the lowest mean validation error"));
}

TEST_F(ServerCliTest, DryRunIsOfflineAndBadSpecsAreOneLine) {
  // Nothing listens on port 1: a dry run must not need the server.
  CliResult r =
      testing::RunCommand({"--server", "127.0.0.1:1", "submit", "--dry-run", "-", "--sample", "2"},
                          clock_, nullptr, {.stdin_text = kSmallSpec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("from-stdin: 4 trials = 4 configurations x 1 seeds (dry run: "
                                "nothing submitted)\nindex  activation  depth  seed_index  "));
  EXPECT_THAT(r.out, HasSubstr(" data_seed\n    0  tanh            1           0  "));
  EXPECT_THAT(r.out, HasSubstr("\n... and 2 more (--sample 0 shows all)\n"));
  EXPECT_EQ(client_->ListSweeps()->size(), 2u);

  r = Cli({"submit", "-"}, {.stdin_text = "name: broken\ngrid:\n  depth: [1, five]\n"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: grid.depth[1] (line 3): expected an integer, got \"five\"\n");
  r = Cli({"submit", (dir_ / "nonexistent.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "deepsweep: cannot read spec file '" + (dir_ / "nonexistent.yaml").string() + "'\n");
  EXPECT_EQ(client_->ListSweeps()->size(), 2u);
}

TEST_F(ServerCliTest, RetryThenCancel) {
  CliResult r = Cli({"retry", "still-running"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("requeued 1 trials of sweep ", prepared_.active,
                                " 'still-running' (failed, diverged)\n"));
  EXPECT_EQ(client_->GetTrial(prepared_.failed)->state, TrialState::kPending);

  r = Cli({"cancel", "still-running"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("cancelled sweep ", prepared_.active,
                                " 'still-running': 3 pending trials cancelled, 1 running trials "
                                "stop at their next heartbeat\n"));
  r = Cli({"cancel", "paper-small"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("deepsweep: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  r = Cli({"retry", "paper-small", "--states", "succeeded"});
  EXPECT_EQ(r.err,
            "deepsweep: cannot retry trials in state 'succeeded' (expected failed, diverged or "
            "cancelled)\n");
}

TEST_F(ServerCliTest, WatchPrintsPlainLinesUntilTheSweepEnds) {
  CliResult watched;
  std::thread watcher([&] { watched = Cli({"watch", "still-running"}); });
  FinishStillRunning();
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const std::vector<std::string> lines = absl::StrSplit(watched.out, '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_THAT(line, StartsWith(absl::StrCat("2023-11-14T22:25:20Z sweep ", prepared_.active)));
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << "no terminal codes in a pipe";
  }
  EXPECT_EQ(lines.back(), absl::StrCat("2023-11-14T22:25:20Z sweep ", prepared_.active,
                                       " finished 4/4 done (100.0%): succeeded 3, diverged 0, "
                                       "failed 1, cancelled 0, leased 0, pending 0; finished "
                                       "after 2m00s"));
}

TEST_F(ServerCliTest, WatchRedrawsInPlaceOnATerminal) {
  CliResult watched;
  std::thread watcher([&] { watched = Cli({"watch", "still-running"}, {.tty = true}); });
  FinishStillRunning();
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  // The last block, after the last redraw (cursor up + clear to the end).
  const size_t redraw = watched.out.rfind("\x1b[J");
  const std::string last_block =
      redraw == std::string::npos ? watched.out : watched.out.substr(redraw + 3);
  EXPECT_EQ(last_block, absl::StrCat("sweep ", prepared_.active,
                                     " 'still-running': finished, created 2m00s ago\n"
                                     "[########################################] 100.0%  4/4 "
                                     "done\n"
                                     "succeeded 3  diverged 0  failed 1  cancelled 0  leased 0  "
                                     "pending 0\n"
                                     "finished after 2m00s\n"));
  // Every redraw moves the cursor up over exactly the block drawn before it.
  size_t block_start = 0;
  for (size_t at = watched.out.find("\x1b["); at != std::string::npos;
       at = watched.out.find("\x1b[", at + 1)) {
    const size_t lines_above =
        std::count(watched.out.begin() + block_start, watched.out.begin() + at, '\n');
    EXPECT_EQ(watched.out.substr(at, watched.out.find("F", at) - at + 4),
              absl::StrCat("\x1b[", lines_above, "F\x1b[J"));
    block_start = watched.out.find("\x1b[J", at) + 3;
    at = block_start - 1;
  }
}

TEST_F(ServerCliTest, HealthAndUnreachableServer) {
  CliResult r = Cli({"health"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  server_->Shutdown();
  r = Cli({"health"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("deepsweep: cannot reach the coordinator at " + address_ + ": "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  r = Cli({"status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("deepsweep: cannot reach the coordinator at " + address_ + ": "));
}

TEST(HealthCliTest, NotServingExitsNonZero) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  grpc::CallbackGenericService other;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&other);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  server->GetHealthCheckService()->SetServingStatus(false);
  FakeClock clock;
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const CliResult r = testing::RunCommand({"health", "--server", address}, clock, nullptr);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "deepsweep: the server at " + address + " is NOT_SERVING\n");
  server->Shutdown();
}

TEST(TokenCliTest, BadTokenIsOneLineAndTheEnvironmentSuppliesDefaults) {
  FakeClock clock;
  const std::string dir = TestDir("token_test");
  server::Server::Options options;
  options.address = "127.0.0.1:0";
  options.database_path = dir + "/results.db";
  options.token = "s3cret-s3cret-s3cret-s3cret";
  options.clock = &clock;
  auto server = server::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  CliResult r =
      testing::RunCommand({"--server", address, "--token", "wrong", "status"}, clock, nullptr);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err, StartsWith("deepsweep: the coordinator at " + address + " refused the credentials: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  r = testing::RunCommand({"status"}, clock, nullptr, {.environment = {.server = address}});
  EXPECT_EQ(r.exit_code, 1) << "no token at all";
  EXPECT_THAT(r.err, HasSubstr("refused the credentials"));

  // DEEPSWEEP_SERVER and DEEPSWEEP_TOKEN (as main reads them) are the defaults.
  r = testing::RunCommand(
      {"status"}, clock, nullptr,
      {.environment = {.server = address, .token = "s3cret-s3cret-s3cret-s3cret"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no sweeps yet (deepsweep submit SPEC creates one)\n");
  // Flags override the environment.
  r = testing::RunCommand(
      {"status", "--token", "wrong"}, clock, nullptr,
      {.environment = {.server = address, .token = "s3cret-s3cret-s3cret-s3cret"}});
  EXPECT_EQ(r.exit_code, 1);
  (*server)->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace deepsweep::client
