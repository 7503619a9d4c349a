// End to end on loopback: a real deepsweep-server and real deepsweep-worker
// processes run small real sweeps (Shapeset, depth 1 and 2, width 32).
//  - Every stored checkpoint equals, bit for bit, an in-process TrialRunner
//    run of the same trial on its stored compute path, and both workers
//    registered their identity; two workers starting together measure one
//    auto plan (one cache file) and run on it; a worker given another plan
//    stores it, and its trials reproduce on it.
//  - SIGTERM to a worker in mid-trial releases the lease at once (the trial
//    is pending again) and the worker exits 0; another worker finishes it.
//  - kill -9 of the server in mid-sweep and a restart on the same file and
//    port: the workers reconnect, resend what they held back, and the sweep
//    finishes with the same bits.
//  - An online backup in mid-sweep (with role credentials: workers hold a
//    worker token, the backup an admin one), kill -9, the backup restored on
//    a fresh directory: the sweep finishes there with every trial done
//    exactly once, checked over the restored database.
//  - Exact resume (ResumeE2eTest): a worker killed with SIGKILL after a
//    snapshot, the coordinator killed with SIGKILL during uploads, a worker
//    stopped with SIGTERM and --grace; the next attempt starts from the
//    stored snapshot, redoes at most one snapshot interval, and ends with
//    the bits of an uninterrupted run.
// The binaries come from CMake generator expressions; nothing here sleeps for
// timing: waits are on the coordinator's progress stream and on processes.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "core/checkpoint_compare.h"
#include "gtest/gtest.h"
#include "ml/kernels.h"
#include "rpc/database_backup.h"
#include "rpc/grpc_coordinator_client.h"
#include "store/file_snapshot_store.h"
#include "store/sqlite_db.h"
#include "tests/testing/child_process.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"

namespace deepsweep {
namespace {

using testing::ChildProcess;

constexpr char kSmallSweep[] = R"(
name: e2e-small
seed: 5
dataset: {name: shapeset, validation_examples: 200, test_examples: 300}
model: {width: 32}
training: {learning_rate: 0.05, batch_size: 10, updates: 300, checkpoint_every: 100,
           probe_examples: 50}
grid:
  activation: [tanh, softsign]
  depth: [1, 2]
seeds: 2
)";

class SweepE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("deepsweep_e2e_", info->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "sweeps.db").string();
    port_ = testing::FreeLoopbackPort();
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        if (entry.path().extension() == ".log") {
          std::cerr << "---- " << entry.path() << "\n" << testing::ReadLog(entry.path()) << "\n";
        }
      }
    }
  }

  std::unique_ptr<ChildProcess> StartServer(const std::vector<std::string>& extra = {},
                                            const std::string& lease_ttl = "10") {
    std::vector<std::string> argv = {DEEPSWEEP_SERVER_BINARY,
                                     "--address",
                                     absl::StrCat("127.0.0.1:", port_),
                                     "--db",
                                     db_,
                                     "--lease-ttl",
                                     lease_ttl,
                                     "--log-level",
                                     "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = std::make_unique<ChildProcess>(
        argv, (dir_ / absl::StrCat("server", ++server_starts_, ".log")).string());
    EXPECT_TRUE(server->started());
    EXPECT_TRUE(testing::WaitUntilServing(port_));
    return server;
  }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& name,
                                            std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {DEEPSWEEP_WORKER_BINARY, "--server",
                                     absl::StrCat("127.0.0.1:", port_), "--threads", "1"};
    // No timing at start unless a test asks for it (the plan is stored with
    // each trial either way).
    if (std::find(extra.begin(), extra.end(), "--auto-plan") == extra.end() &&
        std::find(extra.begin(), extra.end(), "--cache-dir") == extra.end()) {
      argv.insert(argv.end(), {"--auto-plan", "default"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto worker = std::make_unique<ChildProcess>(argv, (dir_ / (name + ".log")).string());
    EXPECT_TRUE(worker->started());
    return worker;
  }

  std::unique_ptr<rpc::CoordinatorClient> Connect() {
    rpc::ClientOptions options;
    options.target = absl::StrCat("127.0.0.1:", port_);
    options.call_timeout = absl::Seconds(60);
    options.wait_for_ready = true;
    options.own_connection = true;
    options.token = client_token_;
    auto client = rpc::ConnectCoordinator(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  // Blocks on the progress stream until `done` holds (or the sweep settles).
  void WatchUntil(rpc::CoordinatorClient& client, SweepId id,
                  const std::function<bool(const rpc::SweepProgress&)>& done) {
    const absl::Status watched =
        client.WatchSweep(id, [&](const rpc::SweepProgress& p) { return !done(p); });
    EXPECT_TRUE(watched.ok()) << watched;
  }

  // Every trial succeeded, and its stored checkpoints equal an in-process run
  // on the trial's stored compute path (its auto plan, its ISA).
  void ExpectStoredEqualsInProcess(rpc::CoordinatorClient& client, SweepId id, size_t trial_count) {
    TrialQuery query;
    query.sweep_id = id;
    auto trials = client.ListTrials(query);
    ASSERT_TRUE(trials.ok()) << trials.status();
    ASSERT_EQ(trials->size(), trial_count);
    worker::DatasetCache datasets;
    worker::TrialRunner runner(&datasets, SystemClock::Default());
    for (const TrialRecord& t : *trials) {
      EXPECT_EQ(t.state, TrialState::kSucceeded) << "trial " << t.id << ": " << t.reason;
      auto stored = client.GetCheckpoints(t.id, std::nullopt, /*with_layer_stats=*/true);
      ASSERT_TRUE(stored.ok()) << stored.status();
      std::vector<Checkpoint> expected;
      const ml::ScopedComputePath on_stored_path(t.compute_path);
      auto run = runner.RunTrial(t.spec, [&](const Checkpoint& c) {
        expected.push_back(c);
        return false;
      });
      ASSERT_TRUE(run.ok()) << run.status();
      EXPECT_EQ(CheckpointsDifference(*stored, expected), "") << "trial " << t.id;
      EXPECT_EQ(stored->size(), static_cast<size_t>(t.spec.updates / t.spec.checkpoint_every + 1));
      ASSERT_FALSE(expected.empty());
      EXPECT_EQ(t.final_test_error, expected.back().test_error) << "trial " << t.id;
      EXPECT_EQ(t.final_test_nll, expected.back().test_nll) << "trial " << t.id;
      EXPECT_EQ(t.final_validation_error, expected.back().validation_error) << "trial " << t.id;
    }
  }

  static bool ExitedZero(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

  std::filesystem::path dir_;
  std::string db_;
  int port_ = 0;
  int server_starts_ = 0;
  // Sent by Connect() when set.
  std::string client_token_;
};

TEST_F(SweepE2eTest, TwoWorkersRunASweepWithTheBitsOfAnInProcessRun) {
  auto server = StartServer();
  auto client = Connect();
  auto sweep = client->CreateSweep(kSmallSweep);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  // Both measure their auto plan at start, in one cache directory: one
  // measures (the other waits for its lock), both run on the plan.
  const std::string cache = (dir_ / "cache").string();
  auto w1 = StartWorker("worker1", {"--cache-dir", cache});
  auto w2 = StartWorker("worker2", {"--cache-dir", cache});
  WatchUntil(*client, sweep->id,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  // Idle workers shut down cleanly on SIGTERM.
  EXPECT_TRUE(ExitedZero(w1->Kill(SIGTERM)));
  EXPECT_TRUE(ExitedZero(w2->Kill(SIGTERM)));

  ExpectStoredEqualsInProcess(*client, sweep->id, 8);
  auto workers = client->ListWorkers();
  ASSERT_TRUE(workers.ok()) << workers.status();
  ASSERT_EQ(workers->size(), 2u);
  for (const WorkerRecord& w : *workers) {
    EXPECT_FALSE(w.info.host.empty());
    EXPECT_GT(w.info.pid, 0);
    EXPECT_FALSE(w.info.version.empty());
    EXPECT_GT(w.info.cores, 0);
    EXPECT_EQ(w.info.worker_id, absl::StrCat(w.info.host, ":", w.info.pid));
    EXPECT_TRUE(ml::ComputePathAutoPlan(w.info.compute_path).has_value()) << w.info.compute_path;
    EXPECT_NE(w.info.compute_path.find(" auto="), std::string::npos) << w.info.compute_path;
  }
  EXPECT_EQ((*workers)[0].info.compute_path, (*workers)[1].info.compute_path);
  EXPECT_TRUE(std::filesystem::exists(
      std::filesystem::path(cache) /
      absl::StrCat("auto-plan-", std::string(ml::KernelIsaName(ml::BestKernelIsa())), "-1t.txt")));
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

// A worker told to run Eigen's GEMM at every width stores that plan with its
// trials, and they reproduce bit for bit on it (on the default plan the
// 10-column products would run the small-batch kernels and round otherwise).
TEST_F(SweepE2eTest, AWorkersAutoPlanIsStoredAndItsTrialsReproduceOnIt) {
  auto server = StartServer();
  auto client = Connect();
  auto sweep = client->CreateSweep(kSmallSweep);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  auto worker = StartWorker("worker", {"--auto-plan", "1:eigen"});
  WatchUntil(*client, sweep->id,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(worker->Kill(SIGTERM)));
  TrialQuery query;
  query.sweep_id = sweep->id;
  auto trials = client->ListTrials(query);
  ASSERT_TRUE(trials.ok()) << trials.status();
  for (const TrialRecord& t : *trials) {
    const std::optional<ml::AutoPlan> plan = ml::ComputePathAutoPlan(t.compute_path);
    ASSERT_TRUE(plan.has_value()) << t.compute_path;
    EXPECT_EQ(ml::AutoPlanText(*plan), "1:eigen") << t.compute_path;
  }
  ExpectStoredEqualsInProcess(*client, sweep->id, 8);
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

TEST_F(SweepE2eTest, SigtermReleasesTheLeaseAndAnotherWorkerFinishes) {
  auto server = StartServer();
  auto client = Connect();
  // One long trial: checkpoints every 200 updates of 1,000,000.
  auto sweep = client->CreateSweep(R"(
name: e2e-sigterm
dataset: {name: shapeset, validation_examples: 100, test_examples: 100}
model: {width: 32, depth: 1}
training: {batch_size: 10, updates: 1000000, checkpoint_every: 200, probe_examples: 20}
)");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  auto first = StartWorker("first");
  WatchUntil(*client, sweep->id, [](const rpc::SweepProgress& p) { return p.counts.leased == 1; });
  TrialQuery query;
  query.sweep_id = sweep->id;
  auto trials = client->ListTrials(query);
  ASSERT_TRUE(trials.ok() && trials->size() == 1u);
  const TrialId id = trials->front().id;

  EXPECT_TRUE(ExitedZero(first->Kill(SIGTERM)));
  auto released = client->GetTrial(id);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state, TrialState::kPending);  // at once, not after the lease TTL

  // Another worker takes it over at once as attempt 2 (its release cost no
  // attempt of the budget).
  auto second = StartWorker("second");
  WatchUntil(*client, sweep->id, [](const rpc::SweepProgress& p) { return p.counts.leased == 1; });
  auto taken = client->GetTrial(id);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->state, TrialState::kLeased);
  EXPECT_EQ(taken->attempt, 2);
  EXPECT_NE(taken->worker_id, released->worker_id);
  EXPECT_TRUE(ExitedZero(second->Kill(SIGTERM)));
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

TEST_F(SweepE2eTest, WorkersOutlastAServerKilledAndRestartedMidSweep) {
  auto server = StartServer();
  auto client = Connect();
  auto sweep = client->CreateSweep(R"(
name: e2e-restart
seed: 9
dataset: {name: shapeset, validation_examples: 200, test_examples: 300}
model: {width: 32}
training: {learning_rate: 0.05, batch_size: 10, updates: 3000, checkpoint_every: 250,
           probe_examples: 50}
grid:
  depth: [1, 2]
seeds: 2
)");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  const SweepId id = sweep->id;
  auto w1 = StartWorker("worker1");
  auto w2 = StartWorker("worker2");
  WatchUntil(*client, id, [](const rpc::SweepProgress& p) { return p.counts.leased == 2; });
  client.reset();
  const int killed = server->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL);

  server = StartServer();  // same file, same port
  client = Connect();
  WatchUntil(*client, id,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(w1->Kill(SIGTERM)));
  EXPECT_TRUE(ExitedZero(w2->Kill(SIGTERM)));
  ExpectStoredEqualsInProcess(*client, id, 4);
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

// ASHA through a real server and two worker processes: trials the schedule
// stops end PRUNED at a rung with their checkpoints up to it, the others run
// to their last update, and the sweep trains fewer updates than the grid.
TEST_F(SweepE2eTest, AshaSweepPrunesTrialsAtTheirRungs) {
  auto server = StartServer();
  auto client = Connect();
  auto sweep = client->CreateSweep(R"(
name: e2e-asha
seed: 5
dataset: {name: shapeset, validation_examples: 200, test_examples: 100}
model: {width: 32, depth: 1}
training: {batch_size: 10, updates: 900, checkpoint_every: 100, probe_examples: 20}
grid:
  learning_rate: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1]
schedule: {rule: asha, min_updates: 100, eta: 3}
)");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  auto w1 = StartWorker("worker1");
  auto w2 = StartWorker("worker2");
  WatchUntil(*client, sweep->id,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(w1->Kill(SIGTERM)));
  EXPECT_TRUE(ExitedZero(w2->Kill(SIGTERM)));

  TrialQuery query;
  query.sweep_id = sweep->id;
  auto trials = client->ListTrials(query);
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 8u);
  int64_t pruned = 0, updates = 0;
  // The lowest validation error recorded at rung 100 is never pruned there.
  TrialId best_at_first_rung = 0;
  double best_value = 2;
  for (const TrialRecord& t : *trials) {
    auto stored = client->GetCheckpoints(t.id, std::nullopt, /*with_layer_stats=*/false);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_FALSE(stored->empty());
    updates += t.steps_done;
    EXPECT_EQ(stored->back().step, t.steps_done);
    for (const Checkpoint& c : *stored) {
      if (c.step == 100 && c.validation_error < best_value) {
        best_value = c.validation_error;
        best_at_first_rung = t.id;
      }
    }
    if (t.state == TrialState::kPruned) {
      ++pruned;
      ASSERT_TRUE(t.rung.has_value());
      EXPECT_TRUE(*t.rung == 100 || *t.rung == 300) << *t.rung;
      EXPECT_EQ(t.steps_done, *t.rung);  // checkpoints every 100: the rung's own
      EXPECT_NE(t.reason.find("asha rung"), std::string::npos) << t.reason;
    } else if (t.state != TrialState::kDiverged) {  // a NaN loss may end one early
      EXPECT_EQ(t.state, TrialState::kSucceeded) << t.reason;
      EXPECT_EQ(t.steps_done, 900);
    }
  }
  // Eight values at rung 100 keep ceil(n / 3) as they arrive: only an order
  // in which every trial beats all before it (1 in 8! orders) prunes none.
  EXPECT_GT(pruned, 0);
  EXPECT_LT(updates, 8 * 900);
  ASSERT_NE(best_at_first_rung, 0);
  auto best = client->GetTrial(best_at_first_rung);
  ASSERT_TRUE(best.ok());
  EXPECT_FALSE(best->state == TrialState::kPruned && best->rung == 100);
  auto counted = client->GetSweep(sweep->id);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->counts.pruned, pruned);
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

// SQL over the restored database that must each count 0 rows at the end.
constexpr const char* kInvariantViolations[][2] = {
    {"trials not succeeded", "SELECT count(*) FROM trials WHERE state != 'succeeded'"},
    {"trials without exactly one succeeded lease",
     "SELECT count(*) FROM trials t WHERE (SELECT count(*) FROM leases l WHERE l.trial_id = t.id "
     "AND l.outcome = 'succeeded') != 1"},
    {"a succeeded lease that is not the trial's last attempt",
     "SELECT count(*) FROM leases l JOIN trials t ON t.id = l.trial_id WHERE l.outcome = "
     "'succeeded' AND l.attempt != t.attempt"},
    {"leases still open", "SELECT count(*) FROM leases WHERE ended_at_us IS NULL"},
    {"checkpoints of no lease",
     "SELECT count(*) FROM checkpoints c WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE "
     "l.trial_id = c.trial_id AND l.attempt = c.attempt)"},
    {"succeeded trials missing checkpoints of their last attempt",
     "SELECT count(*) FROM trials t WHERE (SELECT count(*) FROM checkpoints c WHERE c.trial_id = "
     "t.id AND c.attempt = t.attempt) != 7"},
};

int64_t Count(SqliteDb& db, const std::string& sql) {
  absl::StatusOr<int64_t> count = db.QueryInt(sql);
  EXPECT_TRUE(count.ok()) << sql << ": " << count.status();
  return count.ok() ? *count : -1;
}

TEST_F(SweepE2eTest, ABackupTakenMidSweepRestoresAndTheSweepFinishesExactlyOnce) {
  // Roles end to end: workers get a worker token, this test an admin one.
  std::ofstream(dir_ / "credentials") << "worker pool worker-token-0123456789abcdef\n"
                                         "admin ops admin-token-0123456789abcdef\n";
  std::ofstream(dir_ / "worker.token") << "worker-token-0123456789abcdef";
  client_token_ = "admin-token-0123456789abcdef";
  const std::vector<std::string> server_args = {"--credentials", (dir_ / "credentials").string()};
  const std::vector<std::string> worker_args = {"--token-file", (dir_ / "worker.token").string()};
  // A 2 s lease: leases the backup holds, but whose workers moved on, expire soon.
  auto server = StartServer(server_args, "2");
  auto client = Connect();
  auto sweep = client->CreateSweep(R"(
name: e2e-backup
seed: 11
dataset: {name: shapeset, validation_examples: 100, test_examples: 100}
model: {width: 16}
training: {learning_rate: 0.05, batch_size: 10, updates: 1200, checkpoint_every: 200,
           probe_examples: 20}
grid:
  depth: [1, 2]
seeds: 4
limits: {max_attempts: 20}
)");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  const SweepId id = sweep->id;
  auto w1 = StartWorker("worker1", worker_args);
  auto w2 = StartWorker("worker2", worker_args);

  // Mid-sweep: some trials done, some running, some pending.
  WatchUntil(*client, id, [](const rpc::SweepProgress& p) {
    return p.counts.succeeded >= 2 && p.counts.leased >= 1;
  });
  rpc::ClientOptions admin;
  admin.target = absl::StrCat("127.0.0.1:", port_);
  admin.token = client_token_;
  admin.call_timeout = absl::Seconds(60);
  const std::string backup = (dir_ / "backup.db").string();
  absl::StatusOr<int64_t> bytes = rpc::DownloadDatabaseBackup(admin, backup);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  int64_t leased_in_backup = 0, succeeded_in_backup = 0;
  {
    auto copy = SqliteDb::OpenReadOnly(backup);
    ASSERT_TRUE(copy.ok()) << copy.status();
    leased_in_backup = Count(**copy, "SELECT count(*) FROM trials WHERE state = 'leased'");
    succeeded_in_backup = Count(**copy, "SELECT count(*) FROM trials WHERE state = 'succeeded'");
  }
  EXPECT_GE(succeeded_in_backup, 2);
  EXPECT_LT(succeeded_in_backup, 8);
  // Let more finish after the backup: work the restore loses and redoes.
  WatchUntil(*client, id, [&](const rpc::SweepProgress& p) {
    return p.counts.succeeded > succeeded_in_backup || p.state == SweepState::kFinished;
  });
  client.reset();
  const int killed = server->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL);

  // Restore on a fresh directory: the backup becomes the database.
  std::filesystem::create_directories(dir_ / "restored");
  db_ = (dir_ / "restored" / "sweeps.db").string();
  std::filesystem::copy_file(backup, db_);
  server = StartServer(server_args, "2");
  client = Connect();
  WatchUntil(*client, id,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(w1->Kill(SIGTERM)));
  EXPECT_TRUE(ExitedZero(w2->Kill(SIGTERM)));
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));

  auto restored = SqliteDb::OpenReadOnly(db_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(Count(**restored, "SELECT count(*) FROM trials"), 8);
  for (const auto& [what, sql] : kInvariantViolations) {
    EXPECT_EQ(Count(**restored, sql), 0) << what;
  }
  // Every lease open in the backup ended: by its own worker completing it, or
  // expired (or released) and the trial leased again.
  auto copy = SqliteDb::OpenReadOnly(backup);
  ASSERT_TRUE(copy.ok());
  absl::StatusOr<SqliteStatement> open_leases =
      (*copy)->Prepare("SELECT trial_id, attempt FROM leases WHERE ended_at_us IS NULL");
  ASSERT_TRUE(open_leases.ok());
  int64_t checked = 0;
  ASSERT_TRUE(open_leases
                  ->ForEachRow([&]() -> absl::Status {
                    const int64_t trial = open_leases->Int(0), attempt = open_leases->Int(1);
                    const std::string where =
                        absl::StrCat(" WHERE trial_id = ", trial, " AND attempt = ", attempt);
                    EXPECT_EQ(Count(**restored, absl::StrCat("SELECT count(*) FROM leases", where,
                                                             " AND ended_at_us IS NOT NULL")),
                              1)
                        << "trial " << trial;
                    ++checked;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(checked, leased_in_backup);
  EXPECT_GE(checked, 1);
  // The stored checkpoints are those of an undisturbed in-process run.
  server = StartServer(server_args, "2");
  client = Connect();
  ExpectStoredEqualsInProcess(*client, id, 8);
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

// --- Exact resume with real processes (issue 14) ----------------------------
// One trial of 6000 updates (width 64, depth 2: about half a second of one
// core), checkpoints every 200. Each test interrupts it in its own way and
// checks, from what the coordinator stored, where the next attempt started
// (trial_attempts, docs/SCHEMA.md), how many updates it redid, and that the
// latest attempt's checkpoints and final metrics equal an uninterrupted
// in-process run bit for bit. Resume off (a worker that never downloads its
// snapshot) fails each of them: started_at_step is then 0.

// A row of the trial_attempts view.
struct AttemptRow {
  int attempt = 0;
  int64_t started_at_step = 0;
  std::optional<int64_t> reached_step;
  std::optional<int64_t> updates_redone;
};

class ResumeE2eTest : public SweepE2eTest {
 protected:
  static constexpr int64_t kCheckpointEvery = 200;

  // The sweep of one trial, with `snapshots` (e.g. "snapshot_every: 600") set.
  TrialId CreateTrial(rpc::CoordinatorClient& client, const std::string& snapshots) {
    auto sweep = client.CreateSweep(absl::StrCat(R"(
name: e2e-resume
seed: 3
dataset: {name: shapeset, validation_examples: 100, test_examples: 100}
model: {width: 64, depth: 2, activation: tanh}
training: {learning_rate: 0.05, batch_size: 10, updates: 6000, checkpoint_every: 200,
           probe_examples: 20, snapshot_seconds: 0, )",
                                                 snapshots, "}\n"));
    EXPECT_TRUE(sweep.ok()) << sweep.status();
    if (!sweep.ok()) return 0;
    sweep_ = sweep->id;
    TrialQuery query;
    query.sweep_id = sweep->id;
    auto trials = client.ListTrials(query);
    EXPECT_TRUE(trials.ok() && trials->size() == 1u);
    return trials.ok() && trials->size() == 1u ? trials->front().id : 0;
  }

  // Blocks until the trial's running attempt has stored a checkpoint at or
  // past `step`; returns the step seen (0 if the sweep ended first).
  int64_t WaitForStep(rpc::CoordinatorClient& client, int64_t step) {
    int64_t seen = 0;
    WatchUntil(client, sweep_, [&](const rpc::SweepProgress& p) {
      for (const rpc::RunningTrial& r : p.running) seen = std::max(seen, r.steps_done);
      return seen >= step || p.state != SweepState::kActive;
    });
    return seen;
  }

  // The trial's rows of trial_attempts, by attempt (read beside the server).
  std::vector<AttemptRow> Attempts(TrialId trial) {
    std::vector<AttemptRow> rows;
    auto db = SqliteDb::OpenReadOnly(db_);
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return rows;
    auto select = (*db)->Prepare(absl::StrCat(
        "SELECT attempt, started_at_step, reached_step, updates_redone FROM trial_attempts "
        "WHERE trial_id = ",
        trial, " ORDER BY attempt"));
    EXPECT_TRUE(select.ok()) << select.status();
    if (!select.ok()) return rows;
    EXPECT_TRUE(select
                    ->ForEachRow([&] {
                      rows.push_back({.attempt = static_cast<int>(select->Int(0)),
                                      .started_at_step = select->Int(1),
                                      .reached_step = select->OptionalInt(2),
                                      .updates_redone = select->OptionalInt(3)});
                      return absl::OkStatus();
                    })
                    .ok());
    return rows;
  }

  // The snapshots stored for `trial`, newest first, each read back whole
  // (its CRC-32 checked): a listed snapshot that is missing or partial fails.
  std::vector<SnapshotInfo> VerifiedSnapshots(TrialId trial) {
    auto store = FileSnapshotStore::OpenReadOnly(SnapshotDirFor(db_));
    auto all = store->List(trial);
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return {};
    for (const SnapshotInfo& info : *all) {
      auto bytes = store->Read(trial, info.step);
      EXPECT_TRUE(bytes.ok()) << "snapshot at step " << info.step << ": " << bytes.status();
    }
    return *all;
  }

  // Runs the deepsweep CLI with `args`; its exit code (output in cli-N.log).
  int Cli(std::vector<std::string> args) {
    args.insert(args.begin(), DEEPSWEEP_CLI_BINARY);
    ChildProcess cli(args, (dir_ / absl::StrCat("cli-", ++cli_runs_, ".log")).string());
    const int status = cli.Wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  SweepId sweep_ = 0;
  int cli_runs_ = 0;
};

TEST_F(ResumeE2eTest, AWorkerKilledMidTrialLosesAtMostOneSnapshotInterval) {
  constexpr int64_t kSnapshotEvery = 600;
  auto server = StartServer({}, /*lease_ttl=*/"2");
  auto client = Connect();
  const TrialId id = CreateTrial(*client, absl::StrCat("snapshot_every: ", kSnapshotEvery));
  auto first = StartWorker("first");
  // The checkpoint at 800 is reported after the snapshot at 600 was stored.
  const int64_t seen = WaitForStep(*client, 800);
  const int killed = first->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL);
  auto at_kill = client->GetTrial(id);
  ASSERT_TRUE(at_kill.ok()) << at_kill.status();
  ASSERT_EQ(at_kill->state, TrialState::kLeased) << "the trial ended before the kill";
  ASSERT_GE(seen, 800);
  const std::vector<SnapshotInfo> stored = VerifiedSnapshots(id);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored.front().step % kSnapshotEvery, 0);

  // Its lease expires (2 s); another worker leases the trial and resumes.
  auto second = StartWorker("second");
  WatchUntil(*client, sweep_,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(second->Kill(SIGTERM)));
  ExpectStoredEqualsInProcess(*client, sweep_, 1);

  const std::vector<AttemptRow> attempts = Attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  const AttemptRow& killed_attempt = attempts[0];
  const AttemptRow& resumed = attempts[1];
  EXPECT_EQ(killed_attempt.started_at_step, 0);
  ASSERT_TRUE(killed_attempt.reached_step.has_value());
  EXPECT_GE(*killed_attempt.reached_step, seen);
  // It started from the newest snapshot the killed worker stored...
  EXPECT_EQ(resumed.started_at_step, stored.front().step);
  EXPECT_GE(resumed.started_at_step, seen - kSnapshotEvery);
  // ...and redid at most one snapshot interval of what the first stored.
  ASSERT_TRUE(resumed.updates_redone.has_value());
  EXPECT_GE(*resumed.updates_redone, 0);
  EXPECT_LE(*resumed.updates_redone, kSnapshotEvery);
  EXPECT_EQ(resumed.reached_step, 6000);

  // `deepsweep replay` re-runs the resumed trial and finds every stored bit
  // (its latest attempt holds the whole series), and the killed attempt's
  // partial series too; `weights` exports its final net from the file.
  const std::string server_flag = absl::StrCat("--server=127.0.0.1:", port_);
  EXPECT_EQ(Cli({server_flag, "replay", absl::StrCat(id)}), 0);
  EXPECT_EQ(Cli({server_flag, "replay", absl::StrCat(id), "--attempt", "1"}), 0);
  const std::string npz = (dir_ / "net.npz").string();
  EXPECT_EQ(Cli({"--db", db_, "weights", absl::StrCat(id), "-o", npz}), 0);
  EXPECT_TRUE(std::filesystem::exists(npz));
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

TEST_F(ResumeE2eTest, ACoordinatorKilledDuringUploadsKeepsEveryAcknowledgedSnapshot) {
  auto server = StartServer({}, /*lease_ttl=*/"2");
  auto client = Connect();
  // A snapshot after every checkpoint: the worker is uploading most of the time.
  const TrialId id = CreateTrial(*client, absl::StrCat("snapshot_every: ", kCheckpointEvery));
  auto first = StartWorker("first");
  const int64_t seen = WaitForStep(*client, 800);
  client.reset();
  int status = server->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // The worker's machine goes too: the trial must resume from what the
  // coordinator acknowledged before it died.
  status = first->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_GE(seen, 800);
  ASSERT_LT(seen, 6000) << "the trial ended before the kill";

  // On disk: every snapshot under a final name is whole (its CRC-32 holds),
  // and the one acknowledged before the checkpoint `seen` was reported is
  // there (the worker uploads a snapshot before it trains on).
  const std::vector<SnapshotInfo> survived = VerifiedSnapshots(id);
  ASSERT_FALSE(survived.empty());
  EXPECT_GE(survived.front().step, seen - kCheckpointEvery);

  server = StartServer({}, "2");  // same file, same port
  client = Connect();
  auto second = StartWorker("second");
  WatchUntil(*client, sweep_,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(second->Kill(SIGTERM)));
  ExpectStoredEqualsInProcess(*client, sweep_, 1);
  const std::vector<AttemptRow> attempts = Attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].started_at_step, survived.front().step);
  ASSERT_TRUE(attempts[1].updates_redone.has_value());
  EXPECT_LE(*attempts[1].updates_redone, kCheckpointEvery);
  // The finished trial keeps its final weights only, and they read back whole.
  const std::vector<SnapshotInfo> kept = VerifiedSnapshots(id);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.front().step, 6000);
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

TEST_F(ResumeE2eTest, SigtermWithGraceStoresTheCurrentUpdateAndNothingIsRedone) {
  auto server = StartServer({}, "2");
  auto client = Connect();
  // No periodic snapshots: the only one is the one taken on SIGTERM.
  const TrialId id = CreateTrial(*client, "snapshot_every: 0");
  auto first = StartWorker("first", {"--grace", "20"});
  const int64_t seen = WaitForStep(*client, 800);
  EXPECT_TRUE(ExitedZero(first->Kill(SIGTERM)));
  auto released = client->GetTrial(id);
  ASSERT_TRUE(released.ok()) << released.status();
  ASSERT_EQ(released->state, TrialState::kPending) << "the trial ended before SIGTERM";
  const std::vector<SnapshotInfo> stored = VerifiedSnapshots(id);
  ASSERT_EQ(stored.size(), 1u);
  const int64_t stopped_at = stored.front().step;
  // The update it stopped at, past every checkpoint it stored.
  EXPECT_GE(stopped_at, released->steps_done);
  EXPECT_GE(stopped_at, seen);
  EXPECT_LT(stopped_at, 6000);

  auto second = StartWorker("second");
  WatchUntil(*client, sweep_,
             [](const rpc::SweepProgress& p) { return p.state == SweepState::kFinished; });
  EXPECT_TRUE(ExitedZero(second->Kill(SIGTERM)));
  ExpectStoredEqualsInProcess(*client, sweep_, 1);
  const std::vector<AttemptRow> attempts = Attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].started_at_step, stopped_at);
  ASSERT_TRUE(attempts[1].updates_redone.has_value());
  EXPECT_LE(*attempts[1].updates_redone, 0);  // nothing stored past the snapshot
  client.reset();
  EXPECT_TRUE(ExitedZero(server->Kill(SIGTERM)));
}

}  // namespace
}  // namespace deepsweep
