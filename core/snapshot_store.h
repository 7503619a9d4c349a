// SnapshotStore: where the coordinator keeps trials' training-state snapshots
// (ml/trainer.h) as opaque bytes with their CRC-32, and the trained weights
// they carry after a trial ends.
//
// Contract every implementation keeps:
//   - Put returns OK only once the bytes are durable under their final name
//     (files: written to a temporary file, fsynced, renamed, directory
//     fsynced), so a crash at any moment leaves either the new snapshot whole
//     or no trace of it; nothing ever names a missing or partial snapshot.
//   - Put checks the bytes against `crc32` first (DATA_LOSS, nothing stored).
//   - Read checks them again (DATA_LOSS when the stored bytes went bad).
//   - Retention is the caller's: Prune(trial, keep) keeps the newest `keep`.
// Errors: NOT_FOUND for a snapshot that is not there, INTERNAL / UNAVAILABLE
// for storage failures (the message names the file).
// Thread-safety: every method is safe to call concurrently.
#ifndef DEEPSWEEP_CORE_SNAPSHOT_STORE_H_
#define DEEPSWEEP_CORE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/trial.h"

namespace deepsweep {

struct SnapshotInfo {
  TrialId trial_id = 0;
  int64_t step = 0;   // updates done when it was taken
  int attempt = 0;    // the attempt whose worker took it
  int64_t bytes = 0;  // size
  uint32_t crc32 = 0;

  friend bool operator==(const SnapshotInfo&, const SnapshotInfo&) = default;
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  // Stores `bytes` as the snapshot `info` describes (info.bytes is ignored;
  // one of the same trial and step is replaced). Durable when it returns OK.
  virtual absl::Status Put(const SnapshotInfo& info, std::string_view bytes) = 0;
  // The trial's snapshots, newest (highest step) first.
  virtual absl::StatusOr<std::vector<SnapshotInfo>> List(TrialId trial) = 0;
  // The bytes of one snapshot, verified against its CRC-32.
  virtual absl::StatusOr<std::string> Read(TrialId trial, int64_t step) = 0;
  // Removes all but the newest `keep` snapshots of the trial (0 = all).
  virtual absl::Status Prune(TrialId trial, int keep) = 0;
  // The trials holding at least one snapshot, ascending.
  virtual absl::StatusOr<std::vector<TrialId>> Trials() = 0;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_CORE_SNAPSHOT_STORE_H_
