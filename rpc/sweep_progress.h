// What a WatchSweep stream carries and when: the snapshot of a sweep's
// progress (state, counts, and how far each leased trial has come), and the
// pacing rule shared by the gRPC service and the in-process client.
//
// A stream sends a snapshot at once, then whenever the state, the counts or a
// running trial's progress (its steps_done, updated with every reported
// checkpoint) changed, and, when nothing changed, one every `heartbeat`: so a
// client's display keeps ticking (elapsed time, ETA) during long trials, and
// the client sees that the stream is alive.
//
// Thread-safety: ReadSweepProgress is safe to call concurrently (the
// Coordinator is); a ProgressPacer belongs to one stream.
#ifndef DEEPSWEEP_RPC_SWEEP_PROGRESS_H_
#define DEEPSWEEP_RPC_SWEEP_PROGRESS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/coordinator.h"
#include "rpc/coordinator_client.h"

namespace deepsweep::rpc {

// The sweep's state and counts, and its leased trials ordered by id.
// NOT_FOUND for an unknown sweep; the store's errors otherwise.
absl::StatusOr<SweepProgress> ReadSweepProgress(Coordinator& coordinator, SweepId id);

// Nothing more will change: finished, or cancelled with no trial still leased.
bool IsSettled(const SweepProgress& progress);

// True when the two snapshots differ in state, counts or running trials.
bool ProgressChanged(const SweepProgress& before, const SweepProgress& after);

class ProgressPacer {
 public:
  explicit ProgressPacer(absl::Duration heartbeat) : heartbeat_(heartbeat) {}

  // Whether to send `progress` at `now`: the first snapshot, a changed one,
  // or any once `heartbeat` has passed since the last one sent. When true,
  // the snapshot counts as sent.
  bool ShouldSend(const SweepProgress& progress, absl::Time now);

  // When the last snapshot was sent; InfinitePast before the first.
  absl::Time last_sent() const { return last_sent_at_; }
  // When an unchanged snapshot is next due.
  absl::Time next_heartbeat() const { return last_sent_at_ + heartbeat_; }

 private:
  const absl::Duration heartbeat_;
  std::optional<SweepProgress> last_sent_;
  absl::Time last_sent_at_ = absl::InfinitePast();
};

}  // namespace deepsweep::rpc

#endif  // DEEPSWEEP_RPC_SWEEP_PROGRESS_H_
