// kill -9 of a real deepsweep-server process while a worker writes, then a
// restart on the same file: every acknowledged write is there, the lease
// resumes, and the sweep finishes.
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/server/health_probe.h"
#include "tests/server/test_server.h"

extern char** environ;

namespace deepsweep::server {
namespace {

using testing::TestCheckpoint;
using testing::TestWorker;

// A port nothing listens on right now (the kernel's pick for port 0).
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

// deepsweep-server as a child process.
class ServerProcess {
 public:
  ServerProcess(const std::string& db, int port) : port_(port) {
    std::vector<std::string> args = {
        DEEPSWEEP_SERVER_BINARY, "--address", absl::StrCat("127.0.0.1:", port), "--db", db,
        "--log-level",           "warn"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  // Waits (up to 60 s, on gRPC's connection readiness, not a sleep) until the
  // server answers health checks.
  bool WaitUntilServing() {
    // Retry the connection every 50 ms instead of gRPC's default backoff (1 s
    // and growing) while the process starts.
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 50);
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_),
                                             grpc::InsecureChannelCredentials(), arguments);
    return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(60)) &&
           testing::IsServing(channel);
  }

  // Sends `signal_number` and reaps the process; returns its wait status.
  int Kill(int signal_number) {
    kill(pid_, signal_number);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }

 private:
  pid_t pid_ = 0;
  int port_;
};

struct Acknowledged {
  TrialId trial;
  int attempt;
  int64_t step;
};

TEST(KillRecoveryTest, EveryAcknowledgedWriteSurvivesKill9) {
  const std::string db = (testing::FreshDirectory() / "sweeps.db").string();
  int port = FreeLoopbackPort();
  auto server = std::make_unique<ServerProcess>(db, port);
  ASSERT_TRUE(server->WaitUntilServing());
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
  server = std::make_unique<ServerProcess>(db, port);
  ASSERT_TRUE(server->WaitUntilServing());
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
