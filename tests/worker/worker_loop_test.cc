#include "worker/worker_loop.h"

#include <thread>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/checkpoint_compare.h"
#include "tests/testing/fake_coordinator_client.h"
#include "tests/testing/fake_sleeper.h"
#include "tests/worker/test_trials.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"

namespace deepsweep::worker {
namespace {

using testing::CheckpointsDifference;
using testing::FakeCoordinatorClient;
using testing::FakeSleeper;
using Method = FakeCoordinatorClient::Method;

constexpr absl::Duration kLeaseTtl = absl::Seconds(30);
const std::vector<int64_t> kTinySteps = {0, 10, 20, 30, 40, 50};

class WorkerLoopTest : public ::testing::Test {
 protected:
  WorkerLoopOptions Options(int64_t max_trials) {
    WorkerLoopOptions o;
    o.identity = WorkerInfo{
        .worker_id = "host-a:42", .host = "host-a", .pid = 42, .version = "0.1.0", .cores = 2};
    o.max_trials = max_trials;
    o.backoff = BackoffOptions{.initial_delay = absl::Seconds(1),
                               .max_delay = absl::Seconds(8),
                               .multiplier = 2,
                               .jitter = 0.5,
                               .seed = 3};
    return o;
  }

  // The checkpoints an in-process run of `spec` produces.
  std::vector<Checkpoint> Expected(const TrialSpec& spec) {
    std::vector<Checkpoint> seen;
    auto run = runner_.RunTrial(spec, [&](const Checkpoint& c) {
      seen.push_back(c);
      return false;
    });
    EXPECT_TRUE(run.ok()) << run.status();
    return seen;
  }

  FakeClock clock_;
  FakeSleeper sleeper_{&clock_};
  FakeCoordinatorClient coordinator_{&clock_, kLeaseTtl};
  DatasetCache datasets_;
  TrialRunner runner_{&datasets_, &clock_};
};

TEST_F(WorkerLoopTest, CompletesTrialsSendingEachCheckpointOnce) {
  const TrialSpec a = TinyTrial(50, 1), b = TinyTrial(50, 2);
  const TrialId ida = coordinator_.AddTrial(a), idb = coordinator_.AddTrial(b);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(2));
  ASSERT_TRUE(loop.Run().ok());

  for (auto [id, spec] : {std::pair{ida, a}, {idb, b}}) {
    const auto log = coordinator_.trial(id);
    EXPECT_EQ(log.delivered_steps, kTinySteps);
    EXPECT_EQ(CheckpointsDifference(log.delivered, Expected(spec)), "");
    ASSERT_TRUE(log.completed.has_value());
    EXPECT_EQ(log.completed->state, TrialState::kSucceeded);
    EXPECT_EQ(log.worker_id, "host-a:42");
  }
  for (const WorkerInfo& w : coordinator_.acquisitions()) {
    EXPECT_EQ(w.host, "host-a");
    EXPECT_EQ(w.pid, 42);
    EXPECT_EQ(w.version, "0.1.0");
    EXPECT_EQ(w.cores, 2);
  }
  const WorkerStats stats = loop.stats();
  EXPECT_EQ(stats.trials_taken, 2);
  EXPECT_EQ(stats.trials_completed, 2);
  EXPECT_EQ(stats.checkpoints_sent, 12);
  EXPECT_EQ(stats.transient_errors, 0);
}

TEST_F(WorkerLoopTest, DivergedTrialCompletesAsDiverged) {
  TrialSpec spec = TinyTrial();
  spec.activation = "identity";
  spec.learning_rate = 1e30;
  const TrialId id = coordinator_.AddTrial(spec);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  ASSERT_TRUE(loop.Run().ok());
  const auto log = coordinator_.trial(id);
  ASSERT_TRUE(log.completed.has_value());
  EXPECT_EQ(log.completed->state, TrialState::kDiverged);
  EXPECT_FALSE(log.completed->reason.empty());
}

TEST_F(WorkerLoopTest, HeartbeatRenewsEveryThirdOfTheLease) {
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  for (int i = 1; i <= 3; ++i) {
    sleeper_.AwaitSleeping(1);
    EXPECT_EQ(sleeper_.requests().back(), kLeaseTtl / 3);
    sleeper_.Advance(kLeaseTtl / 3);
    coordinator_.AwaitCalls(Method::kRenew, i);
  }
  loop.Shutdown();
  worker.join();
  EXPECT_EQ(coordinator_.trial(id).renewals, 3);
}

// The coordinator's clock hours ahead of or behind the worker's changes
// nothing: the heartbeat follows the TTL the coordinator sends, and a renewal
// with a new TTL resets the period.
TEST_F(WorkerLoopTest, HeartbeatIgnoresClockSkew) {
  for (const absl::Duration skew : {absl::Hours(5), -absl::Hours(5), absl::Minutes(1)}) {
    SCOPED_TRACE(absl::FormatDuration(skew));
    FakeClock clock;
    FakeSleeper sleeper(&clock);
    FakeCoordinatorClient coordinator(&clock, kLeaseTtl);
    coordinator.SetClockSkew(skew);
    TrialRunner runner(&datasets_, &clock);
    const TrialId id = coordinator.AddTrial(EndlessTrial());
    WorkerLoop loop(&coordinator, &runner, &clock, &sleeper, Options(1));
    std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
    coordinator.AwaitDelivered(id, 1);
    sleeper.AwaitSleeping(1);
    EXPECT_EQ(sleeper.requests().back(), kLeaseTtl / 3);
    coordinator.SetLeaseTtl(absl::Seconds(12));
    sleeper.Advance(kLeaseTtl / 3);
    coordinator.AwaitCalls(Method::kRenew, 1);
    sleeper.AwaitSleeping(1);
    EXPECT_EQ(sleeper.requests().back(), absl::Seconds(4));
    sleeper.Advance(absl::Seconds(4));
    coordinator.AwaitCalls(Method::kRenew, 2);
    loop.Shutdown();
    worker.join();
    EXPECT_EQ(coordinator.trial(id).renewals, 2);
  }
}

TEST_F(WorkerLoopTest, HeartbeatLearnsOfCancellationAndTrainingStops) {
  TrialSpec spec = EndlessTrial();
  spec.checkpoint_every = spec.updates;  // no report after step 0: only the heartbeat can tell
  const TrialId id = coordinator_.AddTrial(spec);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  coordinator_.CancelAll();
  sleeper_.AwaitSleeping(1);
  sleeper_.Advance(kLeaseTtl / 3);
  worker.join();  // returns only because the endless trial stopped
  const auto log = coordinator_.trial(id);
  EXPECT_EQ(log.releases, 1);
  EXPECT_FALSE(log.completed.has_value());
  EXPECT_FALSE(log.failed_reason.has_value());
  EXPECT_EQ(loop.stats().trials_released, 1);
}

TEST_F(WorkerLoopTest, ReportAnsweredCancelledStopsTraining) {
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  coordinator_.CancelAll();
  worker.join();  // the heartbeat stays parked: the next report tells
  EXPECT_EQ(coordinator_.calls(Method::kRenew), 0);
  EXPECT_EQ(coordinator_.trial(id).releases, 1);
  EXPECT_FALSE(coordinator_.trial(id).completed.has_value());
}

// The coordinator ended the trial itself (its sweep's schedule pruned it):
// training stops and nothing more is sent, neither completion nor release.
TEST_F(WorkerLoopTest, ReportAnsweredPrunedStopsTrainingWithoutAnotherCall) {
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  coordinator_.PruneAll();
  worker.join();  // returns only because the endless trial stopped
  EXPECT_EQ(coordinator_.calls(Method::kComplete), 0);
  EXPECT_EQ(coordinator_.calls(Method::kFail), 0);
  EXPECT_EQ(coordinator_.calls(Method::kRelease), 0);
  EXPECT_EQ(loop.stats().trials_stopped, 1);
  EXPECT_EQ(loop.stats().trials_dropped, 0);
}

TEST_F(WorkerLoopTest, LostLeaseDropsTheTrialWithoutAnotherCall) {
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  coordinator_.RevokeLease(id);  // expired and leased to someone else
  worker.join();
  EXPECT_EQ(coordinator_.calls(Method::kComplete), 0);
  EXPECT_EQ(coordinator_.calls(Method::kFail), 0);
  EXPECT_EQ(coordinator_.calls(Method::kRelease), 0);
  EXPECT_EQ(loop.stats().trials_dropped, 1);
}

TEST_F(WorkerLoopTest, BacksOffWithJitterWhileTheCoordinatorIsUnreachable) {
  coordinator_.FailCalls(Method::kAcquire, 0, 4, absl::UnavailableError("connection refused"));
  const TrialId id = coordinator_.AddTrial(TinyTrial());
  sleeper_.AutoAdvanceBelow(absl::Seconds(9));  // backoffs run; heartbeats (10 s) stay parked
  const absl::Time start = clock_.Now();
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  ASSERT_TRUE(loop.Run().ok());

  const std::vector<absl::Duration> waits = sleeper_.requests();
  ASSERT_GE(waits.size(), 4u);
  absl::Duration total;
  for (int i = 0; i < 4; ++i) {
    const absl::Duration base = absl::Seconds(1 << i);  // 1, 2, 4, 8 s
    EXPECT_GE(waits[i], base / 2) << i;
    EXPECT_LE(waits[i], base) << i;
    total += waits[i];
  }
  EXPECT_EQ(clock_.Now() - start, total);
  EXPECT_EQ(coordinator_.trial(id).delivered_steps, kTinySteps);
  EXPECT_TRUE(coordinator_.trial(id).completed.has_value());
  EXPECT_EQ(loop.stats().transient_errors, 4);
}

TEST_F(WorkerLoopTest, ReportsHeldBackByAnOutageAreSentOnceAfterIt) {
  // The reports at steps 10 and 20 fail; the one at step 30 carries all three.
  coordinator_.FailCalls(Method::kReport, 1, 2, absl::UnavailableError("connection reset"));
  const TrialSpec spec = TinyTrial();
  const TrialId id = coordinator_.AddTrial(spec);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  ASSERT_TRUE(loop.Run().ok());
  const auto log = coordinator_.trial(id);
  EXPECT_EQ(log.delivered_steps, kTinySteps);
  EXPECT_EQ(CheckpointsDifference(log.delivered, Expected(spec)), "");
  EXPECT_EQ(coordinator_.calls(Method::kReport), 6);
  EXPECT_TRUE(log.completed.has_value());
}

TEST_F(WorkerLoopTest, OutageAtTheEndIsOutlastedBeforeCompleting) {
  // The last report fails three times and the completion twice; the worker
  // retries with backoff while its heartbeat may come due and resend too.
  coordinator_.FailCalls(Method::kReport, 5, 3, absl::UnavailableError("down"));
  coordinator_.FailCalls(Method::kComplete, 0, 2, absl::DeadlineExceededError("slow"));
  coordinator_.FailCalls(Method::kRenew, 0, 2, absl::UnavailableError("down"));
  sleeper_.AutoAdvanceBelow(absl::Seconds(9));
  const TrialId id = coordinator_.AddTrial(TinyTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  std::thread worker([&] {
    EXPECT_TRUE(loop.Run().ok());
    sleeper_.Close();
  });
  // Move fake time, whichever thread is waiting, until the worker is done.
  while (sleeper_.AwaitSleeping(1)) sleeper_.AdvanceToNextWake();
  worker.join();
  const auto log = coordinator_.trial(id);
  EXPECT_EQ(log.delivered_steps, kTinySteps);
  ASSERT_TRUE(log.completed.has_value());
  EXPECT_EQ(coordinator_.calls(Method::kComplete), 3);
}

TEST_F(WorkerLoopTest, ShutdownReleasesTheLeaseAndTakesNoNewTrial) {
  const TrialId first = coordinator_.AddTrial(EndlessTrial());
  const TrialId second = coordinator_.AddTrial(TinyTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(0));
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(first, 1);
  loop.Shutdown();
  worker.join();
  EXPECT_EQ(coordinator_.trial(first).releases, 1);
  EXPECT_FALSE(coordinator_.trial(first).completed.has_value());
  EXPECT_EQ(coordinator_.trial(second).attempt, 0);
  EXPECT_EQ(coordinator_.calls(Method::kAcquire), 1);
  EXPECT_EQ(loop.stats().trials_released, 1);
}

TEST_F(WorkerLoopTest, ShutdownWhileIdleOrBackingOffReturns) {
  for (bool reachable : {true, false}) {
    FakeClock clock;
    FakeSleeper sleeper(&clock);
    FakeCoordinatorClient coordinator(&clock, kLeaseTtl);
    coordinator.SetRetryAfter(absl::Seconds(2));
    if (!reachable) coordinator.FailCalls(Method::kAcquire, 0, -1, absl::UnavailableError("down"));
    WorkerLoop loop(&coordinator, &runner_, &clock, &sleeper, Options(0));
    std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
    sleeper.AwaitSleeping(1);
    loop.Shutdown();
    worker.join();
    EXPECT_EQ(coordinator.calls(Method::kAcquire), 1) << reachable;
    if (reachable) {
      EXPECT_EQ(sleeper.requests().front(), absl::Seconds(2));
    }
  }
}

TEST_F(WorkerLoopTest, BadSpecFailsForGoodMissingDataRetryably) {
  TrialSpec bad = TinyTrial();
  bad.activation = "swish9";
  TrialSpec missing = TinyTrial();
  missing.dataset.name = "mnist";
  missing.dataset.path = "/nonexistent/mnist";
  const TrialId bad_id = coordinator_.AddTrial(bad);
  const TrialId missing_id = coordinator_.AddTrial(missing);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(2));
  ASSERT_TRUE(loop.Run().ok());
  const auto bad_log = coordinator_.trial(bad_id);
  ASSERT_TRUE(bad_log.failed_reason.has_value());
  EXPECT_NE(bad_log.failed_reason->find("activation"), std::string::npos);
  EXPECT_FALSE(bad_log.failed_retryable);
  const auto missing_log = coordinator_.trial(missing_id);
  ASSERT_TRUE(missing_log.failed_reason.has_value());
  EXPECT_TRUE(missing_log.failed_retryable);
  EXPECT_EQ(loop.stats().trials_failed, 2);
}

TEST_F(WorkerLoopTest, RejectedReportFailsTheTrial) {
  coordinator_.FailCalls(Method::kReport, 0, 1, absl::InvalidArgumentError("layer appears twice"));
  const TrialId id = coordinator_.AddTrial(TinyTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(1));
  ASSERT_TRUE(loop.Run().ok());
  const auto log = coordinator_.trial(id);
  ASSERT_TRUE(log.failed_reason.has_value());
  EXPECT_NE(log.failed_reason->find("layer appears twice"), std::string::npos);
  EXPECT_FALSE(log.failed_retryable);
  EXPECT_TRUE(log.delivered_steps.empty());
}

TEST_F(WorkerLoopTest, WrongTokenStopsTheWorker) {
  coordinator_.FailCalls(Method::kAcquire, 0, -1, absl::UnauthenticatedError("bad token"));
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(0));
  EXPECT_EQ(loop.Run().code(), absl::StatusCode::kUnauthenticated);
}

// Every code has its class (worker_loop.h's table); a changed class is a
// decision, so it must change here too.
TEST(ClassifyErrorTest, EveryCodeHasItsClass) {
  using enum absl::StatusCode;
  const std::vector<std::pair<absl::StatusCode, ErrorClass>> table = {
      {kUnavailable, ErrorClass::kTransient},
      {kDeadlineExceeded, ErrorClass::kTransient},
      {kCancelled, ErrorClass::kTransient},
      {kInternal, ErrorClass::kServerFault},
      {kUnknown, ErrorClass::kServerFault},
      {kDataLoss, ErrorClass::kServerFault},
      {kResourceExhausted, ErrorClass::kServerFault},
      {kFailedPrecondition, ErrorClass::kServerFault},
      {kAborted, ErrorClass::kLeaseLost},
      {kNotFound, ErrorClass::kLeaseLost},
      {kInvalidArgument, ErrorClass::kRejected},
      {kOutOfRange, ErrorClass::kRejected},
      {kAlreadyExists, ErrorClass::kRejected},
      {kUnauthenticated, ErrorClass::kFatal},
      {kPermissionDenied, ErrorClass::kFatal},
      {kUnimplemented, ErrorClass::kFatal},
  };
  EXPECT_EQ(table.size(), 16u);  // every canonical code but OK
  for (const auto& [code, expected] : table) {
    EXPECT_EQ(ClassifyError(code), expected) << absl::StatusCodeToString(code);
  }
}

// A corrupt or read-only database answers INTERNAL to every write: the worker
// retries for server_fault_budget, then gives the trial up (released once, no
// attempt burned, not failed) and is free for the next one.
TEST_F(WorkerLoopTest, ServerFaultsAreRetriedWithinABudgetThenTheTrialIsGivenUp) {
  const absl::Status corrupt = absl::InternalError("database disk image is malformed");
  coordinator_.FailCalls(Method::kRenew, 0, -1, corrupt);
  coordinator_.FailCalls(Method::kReport, 1, -1, corrupt);  // the first report gets through
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoopOptions options = Options(1);
  options.server_fault_budget = absl::Minutes(2);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, options);
  absl::Status ran;
  std::thread worker([&] {
    ran = loop.Run();
    sleeper_.Close();
  });
  coordinator_.AwaitDelivered(id, 1);
  // The first report's success resets the fault clock: the budget is counted
  // from it, so the clock moves only after it (training runs in real time).
  coordinator_.AwaitCalls(Method::kReport, 1);
  const absl::Time start = clock_.Now();
  // Heartbeats every 10 s; without a budget this would go on forever, so the
  // test stops after 100 of them.
  for (int i = 0; i < 100 && sleeper_.AwaitSleeping(1); ++i) sleeper_.AdvanceToNextWake();
  loop.Shutdown();
  worker.join();
  EXPECT_TRUE(ran.ok()) << ran;
  const WorkerStats stats = loop.stats();
  EXPECT_EQ(stats.trials_abandoned, 1);
  EXPECT_EQ(stats.trials_released, 1);
  EXPECT_EQ(stats.trials_failed, 0);
  const auto log = coordinator_.trial(id);
  EXPECT_EQ(log.releases, 1);
  EXPECT_FALSE(log.failed_reason.has_value());
  EXPECT_FALSE(log.completed.has_value());
  // Given up at the budget: faults began with the first failed report (at
  // `start`) or renewal (10 s later), renewals every 10 s failed, and the
  // one 2 min on (or a report just before it) gave up.
  EXPECT_GE(clock_.Now() - start, absl::Minutes(2));
  EXPECT_GE(coordinator_.calls(Method::kRenew), 11);
  EXPECT_LE(coordinator_.calls(Method::kRenew), 13);
}

// UNAVAILABLE (a coordinator down, or its disk full) is waited out however
// long it lasts: the trial is never given up for it.
TEST_F(WorkerLoopTest, UnavailableIsRetriedBeyondTheFaultBudget) {
  coordinator_.FailCalls(Method::kRenew, 0, 30, absl::UnavailableError("disk is full"));
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoopOptions options = Options(1);
  options.server_fault_budget = absl::Minutes(2);
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, options);
  std::thread worker([&] { EXPECT_TRUE(loop.Run().ok()); });
  coordinator_.AwaitDelivered(id, 1);
  for (int i = 1; i <= 31; ++i) {  // 310 s of failed renewals, then one that works
    sleeper_.AwaitSleeping(1);
    sleeper_.AdvanceToNextWake();
    coordinator_.AwaitCalls(Method::kRenew, i);
  }
  EXPECT_EQ(coordinator_.trial(id).renewals, 1);
  EXPECT_EQ(loop.stats().trials_abandoned, 0);
  loop.Shutdown();
  worker.join();
  EXPECT_EQ(loop.stats().trials_abandoned, 0);
}

// A credential revoked in mid-trial: training stops, the trial is released,
// and Run returns the error rather than fail the trial or spin.
TEST_F(WorkerLoopTest, FatalCodeInMidTrialStopsTheWorker) {
  coordinator_.FailCalls(Method::kRenew, 0, -1, absl::PermissionDeniedError("token revoked"));
  const TrialId id = coordinator_.AddTrial(EndlessTrial());
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(0));
  absl::Status ran;
  std::thread worker([&] {
    ran = loop.Run();
    sleeper_.Close();
  });
  coordinator_.AwaitDelivered(id, 1);
  for (int i = 0; i < 10 && sleeper_.AwaitSleeping(1); ++i) sleeper_.AdvanceToNextWake();
  loop.Shutdown();
  worker.join();
  EXPECT_EQ(ran.code(), absl::StatusCode::kPermissionDenied) << ran;
  EXPECT_EQ(coordinator_.trial(id).releases, 1);
  EXPECT_FALSE(coordinator_.trial(id).failed_reason.has_value());
}

TEST_F(WorkerLoopTest, MaxTrialsBoundsTheTrialsTaken) {
  for (uint64_t seed : {1, 2, 3}) coordinator_.AddTrial(TinyTrial(20, seed));
  WorkerLoop loop(&coordinator_, &runner_, &clock_, &sleeper_, Options(2));
  ASSERT_TRUE(loop.Run().ok());
  EXPECT_EQ(coordinator_.acquisitions().size(), 2u);
  EXPECT_EQ(coordinator_.trial(3).attempt, 0);
}

}  // namespace
}  // namespace deepsweep::worker
