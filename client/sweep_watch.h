// SweepWatchView: what `deepsweep watch` shows for each message of a sweep's
// WatchSweep stream.
//
// The stream sends a snapshot on every change (counts, state, a running
// trial's steps) and a heartbeat at least once a second otherwise
// (rpc/sweep_progress.h), so the view is driven by messages alone:
// - in a terminal it redraws its block in place on every message: elapsed
//   time ticks, throughput comes from the completions seen, and the ETA
//   counts the in-flight progress of the running trials;
// - otherwise it prints one plain line per event (a change of counts, state
//   or running steps), at most one every `line_interval`: an event that comes
//   sooner is held and printed by the first message after the interval, and
//   the sweep's final state is always printed. Heartbeats alone print nothing.
//
// Thread-safety: one view per watch, used from the thread that reads the
// stream.
#ifndef DEEPSWEEP_CLIENT_SWEEP_WATCH_H_
#define DEEPSWEEP_CLIENT_SWEEP_WATCH_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "client/progress.h"
#include "core/coordinator.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::client {

// The progress inputs of `sweep` from its trials: completion times of those
// that ran, partial progress of the leased ones.
ProgressInputs ProgressInputsFor(const SweepRecord& sweep, const std::vector<TrialRecord>& trials);

// steps_done / updates, clamped to [0, 1]; 0 when updates <= 0.
double TrialFraction(int64_t steps_done, int64_t updates);

// "running:" and one line per running trial (at most `limit`, then
// "... and N more"); labels come from `specs` when the trial is there.
// With `snapshot_steps`, a trial found there also shows where it would resume
// if interrupted now: "snapshot at step N" (its newest acknowledged
// snapshot), or "no snapshot yet". Empty when nothing runs.
std::vector<std::string> RunningLines(
    const std::vector<rpc::RunningTrial>& running,
    const absl::flat_hash_map<TrialId, TrialSpec>& specs, size_t limit,
    const absl::flat_hash_map<TrialId, std::optional<int64_t>>* snapshot_steps = nullptr);

struct SweepWatchOptions {
  // Redraw a block in place (a terminal) rather than print plain lines.
  bool terminal = false;
  // Plain lines: the shortest gap between two lines.
  absl::Duration line_interval = absl::Seconds(5);
  // Terminal: running trials listed below the status block.
  int running_lines = 8;
};

class SweepWatchView {
 public:
  // `sweep` and `trials` are the sweep and all its trials as read when the
  // watch starts (their completion times seed the throughput).
  SweepWatchView(SweepRecord sweep, const std::vector<TrialRecord>& trials,
                 SweepWatchOptions options, std::ostream& out);

  // Shows one message of the stream, received at `now`.
  void Update(const rpc::SweepProgress& progress, absl::Time now);

  // The stream ended at `now`: prints a held-back plain line, if any.
  void Finish(absl::Time now);

 private:
  void Draw(absl::Time now);
  std::string PlainLine(absl::Time now) const;

  SweepRecord sweep_;
  SweepWatchOptions options_;
  std::ostream& out_;
  ProgressInputs inputs_;
  absl::flat_hash_map<TrialId, TrialSpec> specs_;
  std::vector<rpc::RunningTrial> running_;
  std::optional<rpc::SweepProgress> last_event_;
  // Plain mode: an event not printed yet, and when the last line was.
  bool line_due_ = false;
  absl::Time last_line_ = absl::InfinitePast();
  // Terminal mode: lines of the block drawn last.
  size_t drawn_ = 0;
};

}  // namespace deepsweep::client

#endif  // DEEPSWEEP_CLIENT_SWEEP_WATCH_H_
