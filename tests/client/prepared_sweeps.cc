#include "tests/client/prepared_sweeps.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tests/client/sample_checkpoints.h"

namespace deepsweep::client::testing {
namespace {

constexpr char kPaperSmall[] = R"(
name: paper-small
model: {width: 20}
training: {updates: 500, checkpoint_every: 100, batch_size: 10}
grid:
  activation: [sigmoid, tanh]
  init: [standard, normalized]
exclude: [{activation: sigmoid, init: normalized}]
seeds: 3
)";

constexpr char kStillRunning[] = R"(
name: still-running
model: {width: 20}
training: {updates: 500, checkpoint_every: 100, batch_size: 10}
grid:
  activation: [tanh, softsign]
  depth: [1, 2]
)";

WorkerInfo Worker(std::string id) {
  return WorkerInfo{
      .worker_id = std::move(id), .host = "testhost", .pid = 4242, .version = "test", .cores = 2};
}

// A trial this test leased: plain values, checked once here.
struct Leased {
  TrialId id = 0;
  std::string lease_id;
};

absl::StatusOr<Leased> Acquire(rpc::CoordinatorClient& coordinator, const WorkerInfo& worker,
                               int expected_index) {
  ASSIGN_OR_RETURN(Acquisition acquisition, coordinator.AcquireTrial(worker));
  if (!acquisition.trial.has_value() || !acquisition.lease.has_value() ||
      acquisition.trial->index != expected_index) {
    return absl::InternalError(absl::StrCat("expected to lease trial index ", expected_index));
  }
  return Leased{.id = acquisition.trial->id, .lease_id = std::move(acquisition.lease->lease_id)};
}

}  // namespace

absl::StatusOr<PreparedSweeps> PrepareSweeps(rpc::CoordinatorClient& coordinator,
                                             FakeClock& clock) {
  clock.Set(kPreparedStart);
  PreparedSweeps prepared;
  ASSIGN_OR_RETURN(const SweepRecord paper, coordinator.CreateSweep(kPaperSmall));
  prepared.finished = paper.id;
  // Index order: seed 0 of (sigmoid std, tanh std, tanh normalized), then seeds 1, 2.
  const double errors[] = {0.50, 0.20, 0.10, 0.60, 0.22, 0.12, 0.90, 0.27, 0.17};
  const WorkerInfo worker_a = Worker("worker-a");
  for (int index = 0; index < 9; ++index) {
    ASSIGN_OR_RETURN(const Leased acquisition, Acquire(coordinator, worker_a, index));
    const TrialId id = acquisition.id;
    SampleCurve curve;
    curve.depth = 5;
    curve.checkpoints = 6;
    curve.every = 100;
    curve.batch_size = 10;
    curve.final_test_error = errors[index];
    std::vector<Checkpoint> checkpoints = MakeCheckpoints(curve);
    clock.Advance(absl::Seconds(30));
    RETURN_IF_ERROR(coordinator.ReportCheckpoints(id, acquisition.lease_id, checkpoints).status());
    clock.Advance(absl::Seconds(30));
    TrialOutcome outcome;
    if (index == 6) {
      outcome.state = TrialState::kDiverged;
      outcome.reason = "loss became NaN at step 300";
    }
    RETURN_IF_ERROR(coordinator.CompleteTrial(id, acquisition.lease_id, outcome));
    prepared.finished_trials.push_back(id);
    prepared.reported.push_back(std::move(checkpoints));
  }

  clock.Set(kPreparedStart + absl::Seconds(600));
  ASSIGN_OR_RETURN(const SweepRecord running, coordinator.CreateSweep(kStillRunning));
  prepared.active = running.id;
  const WorkerInfo worker_b = Worker("worker-b");
  ASSIGN_OR_RETURN(const Leased first, Acquire(coordinator, worker_b, 0));
  prepared.running = first.id;
  prepared.running_lease = first.lease_id;
  SampleCurve partial;
  partial.depth = 1;
  partial.checkpoints = 3;
  partial.every = 100;
  partial.final_test_error = 0.4;
  prepared.running_reported = MakeCheckpoints(partial);
  RETURN_IF_ERROR(
      coordinator
          .ReportCheckpoints(prepared.running, prepared.running_lease, prepared.running_reported)
          .status());
  clock.Set(kPreparedStart + absl::Seconds(660));
  const WorkerInfo worker_c = Worker("worker-c");
  ASSIGN_OR_RETURN(const Leased second, Acquire(coordinator, worker_c, 1));
  prepared.failed = second.id;
  RETURN_IF_ERROR(coordinator.FailTrial(prepared.failed, second.lease_id, "out of memory",
                                        /*retryable=*/false));
  clock.Set(kPreparedStart + absl::Seconds(720));
  return prepared;
}

}  // namespace deepsweep::client::testing
