// kill -9 of a real deepsweep-server process while a worker writes, then a
// restart on the same file: every acknowledged write is there, the lease
// resumes, and the sweep finishes.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
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

}  // namespace
}  // namespace deepsweep::server
