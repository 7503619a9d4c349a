// FileSnapshotStore: snapshots as files beside the database, one directory per
// trial:  DIR/trial-<id>/<step, 20 digits>-<attempt, 10 digits>-<crc32, 8 hex>.snap
//
// The name is the record: a snapshot exists exactly when its file has its
// final name, and the name carries the step and checksum it is verified
// against. Put writes DIR/trial-<id>/.tmp-*, fsyncs it, renames it into
// place and fsyncs the directory (and DIR when the trial's directory is new)
// before returning, so after a crash at any moment every listed snapshot is
// whole and acknowledged ones are there. Open removes temporary files a crash
// left behind. Why files and not SQLite blobs: docs/PERFORMANCE.md
// ("Snapshots"): a 19 MB snapshot costs one sequential write and fsync here,
// and keeps the database, its WAL and its backups small.
//
// Thread-safety: safe for concurrent use (one mutex; snapshots are rare).
#ifndef DEEPSWEEP_STORE_FILE_SNAPSHOT_STORE_H_
#define DEEPSWEEP_STORE_FILE_SNAPSHOT_STORE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/snapshot_store.h"

namespace deepsweep {

class FileSnapshotStore final : public SnapshotStore {
 public:
  // Creates `dir` if needed and removes leftover temporary files.
  static absl::StatusOr<std::unique_ptr<FileSnapshotStore>> Open(const std::string& dir);
  // For readers beside a running server (`deepsweep --db`): creates and
  // removes nothing; Put and Prune are FAILED_PRECONDITION. A missing `dir`
  // reads as no snapshots.
  static std::unique_ptr<FileSnapshotStore> OpenReadOnly(const std::string& dir);

  absl::Status Put(const SnapshotInfo& info, std::string_view bytes) override;
  absl::StatusOr<std::vector<SnapshotInfo>> List(TrialId trial) override;
  absl::StatusOr<std::string> Read(TrialId trial, int64_t step) override;
  absl::Status Prune(TrialId trial, int keep) override;
  absl::StatusOr<std::vector<TrialId>> Trials() override;

  const std::string& dir() const { return dir_; }

 private:
  FileSnapshotStore(std::string dir, bool read_only)
      : dir_(std::move(dir)), read_only_(read_only) {}
  absl::StatusOr<std::vector<SnapshotInfo>> ListLocked(TrialId trial)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const bool read_only_;
  absl::Mutex mu_;
  uint64_t temp_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

// The directory snapshots of the database at `db_path` go to:
// "<db_path>.snapshots".
std::string SnapshotDirFor(const std::string& db_path);

}  // namespace deepsweep

#endif  // DEEPSWEEP_STORE_FILE_SNAPSHOT_STORE_H_
