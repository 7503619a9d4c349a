// kill -9 of a real deepsweep-server process while a worker writes, then a
// restart on the same file: every acknowledged write is there, the lease
// resumes, and the sweep finishes; and the same mid-rung of an ASHA sweep:
// the schedule's decisions are rebuilt from the file, none taken twice.
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/scheduler.h"
#include "core/splitmix64.h"
#include "core/sweep_spec.h"
#include "gtest/gtest.h"
#include "tests/server/test_server.h"
#include "tests/testing/child_process.h"

namespace deepsweep::server {
namespace {

using ::deepsweep::testing::ChildProcess;
using ::deepsweep::testing::FreeLoopbackPort;
using ::deepsweep::testing::WaitUntilServing;
using testing::TestCheckpoint;
using testing::TestWorker;

// deepsweep-server as a child process.
std::unique_ptr<ChildProcess> StartServer(const std::string& db, int port) {
  return std::make_unique<ChildProcess>(std::vector<std::string>{
      DEEPSWEEP_SERVER_BINARY, "--address", absl::StrCat("127.0.0.1:", port), "--db", db,
      "--log-level", "warn"});
}

struct Acknowledged {
  TrialId trial;
  int attempt;
  int64_t step;
};

TEST(KillRecoveryTest, EveryAcknowledgedWriteSurvivesKill9) {
  const std::string db = (testing::FreshDirectory() / "sweeps.db").string();
  int port = FreeLoopbackPort();
  auto server = StartServer(db, port);
  ASSERT_TRUE(WaitUntilServing(port));
  std::unique_ptr<rpc::CoordinatorClient> client = testing::Connect(port);
  absl::StatusOr<SweepRecord> sweep = client->CreateSweep(
      "name: kill9\ntraining: {updates: 100000, checkpoint_every: 1}\ngrid:\n  depth: [1, 2, 3]\n");
  ASSERT_TRUE(sweep.ok()) << sweep.status();

  // A worker reports one checkpoint per call until the server dies under it.
  absl::Mutex mu;
  std::vector<Acknowledged> acknowledged;
  Acquisition lease;
  absl::Notification enough;
  std::thread worker([&] {
    absl::StatusOr<Acquisition> leased = client->AcquireTrial(TestWorker("w"));
    if (!leased.ok() || !leased->trial.has_value()) {
      enough.Notify();
      return;
    }
    {
      absl::MutexLock lock(&mu);
      lease = *leased;
    }
    for (int64_t step = 1;; ++step) {
      if (!client
               ->ReportCheckpoints(leased->trial->id, leased->lease->lease_id,
                                   {TestCheckpoint(step, 5)})
               .ok()) {
        break;
      }
      absl::MutexLock lock(&mu);
      acknowledged.push_back({leased->trial->id, leased->lease->attempt, step});
      if (acknowledged.size() == 50) enough.Notify();
    }
    if (!enough.HasBeenNotified()) enough.Notify();
  });
  enough.WaitForNotification();
  const int status = server->Kill(SIGKILL);  // while the worker is mid-stream
  worker.join();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_TRUE(lease.trial.has_value());
  ASSERT_GE(acknowledged.size(), 50u);

  port = FreeLoopbackPort();
  server = StartServer(db, port);
  ASSERT_TRUE(WaitUntilServing(port));
  client = testing::Connect(port);

  absl::StatusOr<std::vector<Checkpoint>> stored =
      client->GetCheckpoints(lease.trial->id, lease.lease->attempt, /*with_layer_stats=*/true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_GE(stored->size(), acknowledged.size());  // maybe one more: stored, not yet acknowledged
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    EXPECT_EQ((*stored)[i].step, acknowledged[i].step);
    EXPECT_EQ((*stored)[i].layer_stats.size(), 10u);
  }

  // The lease survived with its deadline: the same worker carries on and finishes.
  ASSERT_TRUE(client->RenewLease(lease.trial->id, lease.lease->lease_id).ok());
  ASSERT_TRUE(
      client
          ->CompleteTrial(lease.trial->id, lease.lease->lease_id, {.state = TrialState::kSucceeded})
          .ok());
  EXPECT_EQ(testing::SucceedNextTrials(*client, 2).size(), 2u);
  absl::StatusOr<SweepRecord> finished = client->GetSweep(sweep->id);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->state, SweepState::kFinished);

  // SIGTERM is a graceful exit. (An idle client channel nobody polls would
  // not answer the server's GOAWAY, and shutdown would wait out its grace.)
  client.reset();
  const int term_status = server->Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(term_status) && WEXITSTATUS(term_status) == 0);
}

// ASHA over 8 trials, rungs at 10 and 20 updates (eta 2): half of the trials
// at a rung stop there.
constexpr char kAshaSpec[] = R"(name: asha-kill9
training: {updates: 40, checkpoint_every: 10}
grid:
  learning_rate: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128]
schedule: {rule: asha, min_updates: 10, eta: 2}
)";

// One worker stream of reports (one checkpoint each, trials and errors drawn
// from a seed) into a real server, which is killed with SIGKILL twice while a
// report is in flight, mid-rung (some trials have passed rung 10, others have
// not reached it), and restarted on the same file. The worker re-sends the
// unacknowledged report, as deepsweep-worker's outbox does. Every decision
// must be the one a Scheduler fed the same reports without any restart takes:
// no trial stopped or let through twice (a rung value recorded twice would
// shift later decisions), none lost, and every trial keeps exactly the
// checkpoints it reported up to its decision.
TEST(KillRecoveryTest, AshaDecisionsSurviveKill9MidRung) {
  absl::StatusOr<SweepSpec> parsed = ParseSweepSpec(kAshaSpec);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Scheduler oracle(parsed->schedule);

  const std::string db = (testing::FreshDirectory() / "asha.db").string();
  int port = FreeLoopbackPort();
  auto server = StartServer(db, port);
  ASSERT_TRUE(WaitUntilServing(port));
  std::unique_ptr<rpc::CoordinatorClient> client = testing::Connect(port);
  absl::StatusOr<SweepRecord> sweep = client->CreateSweep(kAshaSpec);
  ASSERT_TRUE(sweep.ok()) << sweep.status();

  std::map<TrialId, Acquisition> leases;
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<Acquisition> a = client->AcquireTrial(TestWorker(absl::StrCat("w", i)));
    ASSERT_TRUE(a.ok() && a->trial.has_value()) << a.status();
    leases[a->trial->id] = *a;
  }
  std::vector<TrialId> running;
  for (const auto& [trial, a] : leases) running.push_back(trial);

  std::map<TrialId, int64_t> next_step;
  std::map<TrialId, std::vector<int64_t>> reported;  // the steps the store must hold
  std::map<TrialId, StopDecision> stopped;           // the oracle's decisions
  SplitMix64 order(15);
  int reports = 0;
  int kills = 0;
  int crossed_rung_before_kill = 0;  // running trials past rung 10 at a kill
  int short_of_rung_at_kill = 0;     // running trials short of it
  while (!running.empty()) {
    const size_t pick = order.NextBelow(running.size());
    const TrialId trial = running[pick];
    const int64_t step = next_step[trial] += 10;
    const Checkpoint checkpoint{
        .step = step,
        .examples_seen = step * 10,
        .test_error = 0.5,
        .validation_error = 0.05 * static_cast<double>(trial % 5) + 0.02 * order.NextUnit()};
    const std::vector<Checkpoint> one = {checkpoint};
    const std::optional<StopDecision> want = oracle.Report(trial, leases[trial].trial->spec, one);

    absl::StatusOr<RenewResult> answer = absl::UnknownError("not sent");
    if (++reports == 7 || reports == 16) {
      for (TrialId t : running) {
        if (t != trial) ++(next_step[t] >= 10 ? crossed_rung_before_kill : short_of_rung_at_kill);
      }
      // The report leaves, and the server dies with it in flight: committed
      // (and decided) or not, it was not acknowledged.
      std::thread in_flight(
          [&] { answer = client->ReportCheckpoints(trial, leases[trial].lease->lease_id, one); });
      const int status = server->Kill(SIGKILL);
      in_flight.join();
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      ++kills;
      port = FreeLoopbackPort();
      server = StartServer(db, port);
      ASSERT_TRUE(WaitUntilServing(port));
      client = testing::Connect(port);
      if (!answer.ok()) {
        answer = client->ReportCheckpoints(trial, leases[trial].lease->lease_id, one);
        // ABORTED: the first send was stored and stopped the trial; the lease
        // is over and the re-sent report changes nothing.
        if (answer.status().code() == absl::StatusCode::kAborted) {
          EXPECT_TRUE(want.has_value()) << "trial " << trial << " step " << step;
          answer = RenewResult{.stopped = TrialState::kPruned, .stop_reason = want->reason};
        }
      }
    } else {
      answer = client->ReportCheckpoints(trial, leases[trial].lease->lease_id, one);
    }
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->stopped.has_value(), want.has_value())
        << "trial " << trial << " step " << step << " report " << reports;
    reported[trial].push_back(step);
    if (want.has_value()) {
      EXPECT_EQ(answer->stop_reason, want->reason);
      stopped[trial] = *want;
    }
    if (want.has_value() || step == 40) running.erase(running.begin() + static_cast<long>(pick));
  }
  ASSERT_EQ(kills, 2);
  EXPECT_GT(crossed_rung_before_kill, 0);  // the kills were mid-rung
  EXPECT_GT(short_of_rung_at_kill, 0);

  // The trials that ran to 40 finish; the sweep ends with the oracle's counts.
  for (const auto& [trial, a] : leases) {
    absl::StatusOr<TrialRecord> t = client->GetTrial(trial);
    ASSERT_TRUE(t.ok()) << t.status();
    absl::StatusOr<std::vector<Checkpoint>> kept =
        client->GetCheckpoints(trial, a.lease->attempt, /*with_layer_stats=*/false);
    ASSERT_TRUE(kept.ok()) << kept.status();
    std::vector<int64_t> steps;
    for (const Checkpoint& c : *kept) steps.push_back(c.step);
    EXPECT_EQ(steps, reported[trial]) << "trial " << trial;
    if (stopped.contains(trial)) {
      EXPECT_EQ(t->state, TrialState::kPruned) << "trial " << trial;
      EXPECT_EQ(t->rung, stopped[trial].rung) << "trial " << trial;
      EXPECT_EQ(t->reason, stopped[trial].reason) << "trial " << trial;
    } else {
      EXPECT_EQ(t->state, TrialState::kLeased) << "trial " << trial;
      EXPECT_EQ(t->steps_done, 40) << "trial " << trial;
      EXPECT_TRUE(
          client->CompleteTrial(trial, a.lease->lease_id, {.state = TrialState::kSucceeded}).ok());
    }
  }
  // Rung 10 keeps 4 of 8 at most, rung 20 half of those: some stopped at each.
  EXPECT_GE(stopped.size(), 4u);
  EXPECT_LT(stopped.size(), 8u);
  absl::StatusOr<SweepRecord> finished = client->GetSweep(sweep->id);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->state, SweepState::kFinished);
  EXPECT_EQ(finished->counts.pruned, static_cast<int64_t>(stopped.size()));
  EXPECT_EQ(finished->counts.succeeded, 8 - static_cast<int64_t>(stopped.size()));
  client.reset();
  server->Kill(SIGTERM);
}

}  // namespace
}  // namespace deepsweep::server
