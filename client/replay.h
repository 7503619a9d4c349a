// Replay: re-runs a stored trial in this process, through the same
// worker::TrialRunner that computed it, and compares every stored metric of
// every stored checkpoint bit for bit (core/checkpoint_compare.h; wall time
// aside).
//
// Everything that shapes the stored metrics comes from the stored trial
// (seeds, histogram bins, Jacobian examples); the thread count
// does not matter (ReplayOptions::runner.threads). A trial still running is
// compared on the checkpoints stored so far (the replay stops after the last of them).
//
// Compute path (ml::ComputePath): the replay runs the small-batch kernels of
// the ISA the trial was trained on when this CPU has it, and the worker's
// auto plan (which backend served which minibatch width; a path from before
// plans were measured names none and ran ml::DefaultAutoPlan), process-wide
// for the duration of the call (ml::ScopedComputePath), so a trial trained on
// AVX2 by a worker that measured its own plan replays bit for bit on an
// AVX-512 machine. When the stored path is known and the replay's still
// differs (an ISA this CPU lacks, another OpenBLAS core), the report says so:
// results may then differ in the last bits without anything being wrong.
//
// Errors: NOT_FOUND (no such trial), FAILED_PRECONDITION (nothing stored to
// compare), the runner's errors (unknown spec values, missing dataset files).
// A mismatch is not an error: it is the report's first_difference.
// Thread-safety: one replay per call; concurrent calls must replay trials of
// one compute path (the kernel ISA and the auto plan are process-wide).
#ifndef DEEPSWEEP_CLIENT_REPLAY_H_
#define DEEPSWEEP_CLIENT_REPLAY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "rpc/coordinator_client.h"
#include "worker/trial_runner.h"

namespace deepsweep::client {

struct ReplayOptions {
  // The attempt whose checkpoints are compared; empty = the latest.
  std::optional<int> attempt;
  // threads: the replay's own; any count gives the same bits.
  worker::TrialRunnerOptions runner;
};

struct ReplayReport {
  TrialRecord trial;
  int64_t checkpoints_compared = 0;
  int64_t layer_stats_compared = 0;
  // Empty when every compared metric is identical; else the first difference,
  // "stored vs replayed".
  std::string first_difference;
  // The trial's compute path ('' when not recorded) and this replay's.
  std::string stored_path;
  std::string replayed_path;
  // The stored path is known and differs from the replay's: a difference is
  // then expected rounding, not a mismatch.
  bool different_path = false;
};

absl::StatusOr<ReplayReport> ReplayTrial(rpc::CoordinatorClient& coordinator, TrialId id,
                                         const ReplayOptions& options, const Clock& clock);

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_REPLAY_H_
