// SqliteSweepStore: the SweepStore in one SQLite file, readable by anyone with
// the sqlite3 shell (docs/SCHEMA.md has the tables, views and example queries).
//
// Durability: WAL journal with synchronous=NORMAL. A PendingWrite is done
// only after the BEGIN IMMEDIATE transaction holding its mutation committed,
// and a commit has handed the WAL to the operating system before it returns,
// so a process killed at any moment (kill -9 included) loses nothing
// acknowledged. A power failure or kernel crash may lose the last few
// transactions (never corrupt the file); SqliteStoreOptions::full_sync makes
// every commit wait for the disk.
//
// Group commit: one writer thread owns the write connection. It takes every
// mutation queued since its last commit (up to max_batch) and commits them in
// one transaction, so 64 busy workers pay for a handful of commits rather than
// one each. Should one mutation fail, the transaction is rolled back and the
// batch redone one transaction per mutation, so only that one fails.
//
// Reads go through a second connection, so a long query never holds up
// writes; a third, on its own thread, checkpoints the WAL into the database
// file (and the writer thread catches it up when idle, so the WAL stays near
// the database's size: SqliteStoreOptions). Every statement is prepared once per connection and
// cached; layer statistics are inserted with multi-row INSERTs. Written by one coordinator process
// at a time; other processes may read the file concurrently (e.g. the sqlite3 shell).
//
// Thread-safety: every method is safe to call concurrently.
#ifndef DEEPSWEEP_STORE_SQLITE_SWEEP_STORE_H_
#define DEEPSWEEP_STORE_SQLITE_SWEEP_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "core/sweep_store.h"

struct sqlite3;

namespace deepsweep {

class SqliteDb;

struct SqliteStoreOptions {
  // How long a statement waits on a lock held by another connection or
  // process before failing with UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(10);
  // Page cache of each connection, in KiB.
  int cache_kib = 64 * 1024;
  // synchronous=FULL: commits also survive power loss, at the cost of an fsync
  // per transaction.
  bool full_sync = false;
  // Most mutations one transaction holds.
  int max_batch = 512;
  // A background thread copies the WAL into the database file once the WAL
  // holds as many pages (4 KiB) as the database itself, but at least
  // `min_checkpoint_pages` and at most `checkpoint_pages`: the WAL stays
  // within about the database's size (issue 17: 36 MB beside a 1.6 MB file
  // when the threshold was a fixed 64 MiB). SQLite would otherwise checkpoint,
  // fsyncs included, inside the commit that crosses its threshold, stalling
  // every waiting worker. Rarer checkpoints copy a page the writer keeps
  // changing (the trials table, indexes) fewer times; at a fixed 16 MiB the
  // checkpointer took 30% more CPU per trial under the 64-worker load bench
  // than at 64 MiB, hence the ceiling for large databases.
  int min_checkpoint_pages = 256;
  int checkpoint_pages = 16384;
  // The -wal file is cut back to this size when SQLite restarts it after a
  // checkpoint (PRAGMA journal_size_limit), so a burst does not leave a large
  // file behind.
  int64_t wal_size_limit_bytes = 4 << 20;
  // Open() runs PRAGMA quick_check and refuses a corrupt file (DATA_LOSS).
  // It reads the whole file once: about 1 s per GB on a warm cache.
  bool check_integrity = true;
};

// How Backup() copies the database.
struct SqliteBackupOptions {
  // Pages (4 KiB) copied per slice. The write connection is held for one slice
  // at a time, so a commit waits at most one slice (256 pages: 1 MiB).
  int pages_per_step = 256;
  // Pause between slices, so writers get the connection between them.
  absl::Duration pause = absl::Milliseconds(1);
};

class SqliteSweepStore final : public SweepStore {
 public:
  // Opens or creates the database at `path` and migrates its schema.
  // ":memory:" gives a private in-memory database on a single connection.
  // Refuses, before changing anything: FAILED_PRECONDITION when the file, its
  // -wal/-shm or its directory is not writable by this process, or the
  // file's schema is newer than this binary's; DATA_LOSS when PRAGMA
  // quick_check finds corruption (options.check_integrity); each message
  // says what to do. UNAVAILABLE when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteSweepStore>> Open(
      const std::string& path, const SqliteStoreOptions& options = {});
  // Opens the existing database at `path` for reading only: one connection
  // with SQLITE_OPEN_READONLY, no writer or checkpoint thread, no migration.
  // Its reads see what a server writing the file concurrently has committed.
  // In a directory this process cannot write (where no server can run
  // either) a file without pending -wal changes is read as immutable, since
  // SQLite could not create its -shm file there.
  // CreateSweep and Submit fail with FAILED_PRECONDITION. Errors:
  // FAILED_PRECONDITION when the schema is not this binary's
  // (CheckSchemaVersion), UNAVAILABLE when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteSweepStore>> OpenReadOnly(
      const std::string& path, const SqliteStoreOptions& options = {});
  ~SqliteSweepStore() override;

  absl::StatusOr<CreatedSweep> CreateSweep(const NewSweep& sweep,
                                           absl::Span<const TrialSpec> trials) override;
  PendingWrite Submit(StoreMutation mutation) override;
  void Flush() override;
  absl::StatusOr<UnfinishedWork> LoadUnfinished() override;
  absl::StatusOr<SweepRecord> GetSweep(SweepId id) override;
  absl::StatusOr<std::vector<SweepRecord>> ListSweeps() override;
  absl::StatusOr<TrialRecord> GetTrial(TrialId id) override;
  absl::StatusOr<std::vector<TrialRecord>> ListTrials(const TrialQuery& query) override;
  absl::StatusOr<std::vector<Checkpoint>> GetCheckpoints(TrialId trial, int attempt,
                                                         bool with_layer_stats) override;
  absl::StatusOr<std::vector<WorkerRecord>> ListWorkers() override;
  absl::StatusOr<std::vector<TrialAttempt>> ListAttempts(TrialId trial) override;
  absl::StatusOr<std::vector<ConfigAggregate>> AggregateConfigs(SweepId sweep) override;
  absl::StatusOr<std::vector<StepAggregate>> AggregateCheckpoints(SweepId sweep,
                                                                  const TrialSpec& config) override;
  absl::StatusOr<std::vector<absl::Time>> RecentFinishTimes(SweepId sweep, int limit) override;

  // Writes a consistent copy of the database to `destination` (a new file;
  // FAILED_PRECONDITION when it exists) with SQLite's online backup API, while
  // the store keeps serving. It copies through the write connection, a slice
  // at a time: a commit made between slices is copied too (SQLite updates a
  // backup in progress when its own connection writes), so the copy never
  // restarts under a busy writer and equals the database at the moment the
  // last slice was copied. The copy passes PRAGMA quick_check before this
  // returns; on any error the partial file is removed. Errors: the SQLite
  // errors of the copy (UNAVAILABLE, RESOURCE_EXHAUSTED for a full disk),
  // DATA_LOSS when the copy fails quick_check, FAILED_PRECONDITION for a
  // read-only store.
  absl::Status Backup(const std::string& destination, const SqliteBackupOptions& options = {});

  // How group commit is doing: transactions committed by the writer thread
  // and the mutations they held, and the mutations waiting for the next.
  struct WriteStats {
    int64_t commits = 0;
    int64_t mutations = 0;
    int64_t queue_depth = 0;
  };
  WriteStats write_stats();
  // How long the writer took per transaction (a batch of mutations), real time.
  LatencyHistogram::Snapshot commit_latency() const { return commit_latency_.Read(); }

  // For drills and tests of a full disk (no mount needed): `full` caps the
  // database at its current size (PRAGMA max_page_count), so every write that
  // needs a new page fails with SQLITE_FULL as it would on a full disk (one
  // that fits in pages the file already has still succeeds); false lifts the
  // cap. FAILED_PRECONDITION on a read-only store.
  absl::Status SimulateFullDisk(bool full);

 private:
  struct Job {
    StoreMutation mutation;
    std::shared_ptr<PendingWrite::Completion> completion;
  };

  SqliteSweepStore(std::unique_ptr<SqliteDb> writer, std::unique_ptr<SqliteDb> reader,
                   std::unique_ptr<SqliteDb> checkpointer, const SqliteStoreOptions& options);

  // The writer thread: commits queued jobs in batches until stopped.
  void WriteLoop();
  // Applies `batch` in one transaction and sets each job's status.
  void CommitBatch(std::vector<Job>& batch, std::vector<absl::Status>& statuses)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Runs `body` on the read connection inside one read transaction.
  absl::Status Read(const std::function<absl::Status(SqliteDb&)>& body);
  // Called by SQLite after each commit with the WAL's size in pages.
  static int OnWalCommit(void* store, sqlite3* db, const char* name, int pages);
  // The checkpoint thread: a PASSIVE checkpoint whenever one is due.
  void CheckpointLoop();
  // Reads the database's page count into checkpoint_threshold_ (checkpoint
  // thread, or the constructor before it starts).
  void UpdateCheckpointThreshold();
  // After a commit, on the writer thread: a checkpoint that can catch up
  // with the writer (see the .cc).
  void CheckpointFromWriter(bool idle);

  // Which configuration each trial of a sweep is in (AggregateConfigs):
  // fixed once the sweep is stored, so read once and kept.
  struct ConfigGrouping {
    std::vector<ConfigAggregate> configs;         // first_trial and config; sums zero
    absl::flat_hash_map<TrialId, int> config_of;  // index into configs
  };
  // Sweeps whose grouping is kept; a new one beyond this drops them all.
  static constexpr size_t kMaxGroupings = 16;
  // The grouping of `sweep`, kept or read with `db` (inside Read()).
  absl::StatusOr<std::shared_ptr<const ConfigGrouping>> ReadGrouping(SqliteDb& db, SweepId sweep);

  const int max_batch_;
  absl::Mutex queue_mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(queue_mu_);
  uint64_t submitted_ ABSL_GUARDED_BY(queue_mu_) = 0;
  uint64_t completed_ ABSL_GUARDED_BY(queue_mu_) = 0;
  WriteStats stats_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_thread_;
  LatencyHistogram commit_latency_;

  absl::Mutex write_mu_;
  // Null for a read-only store.
  std::unique_ptr<SqliteDb> writer_ ABSL_GUARDED_BY(write_mu_);
  // The writer when reader_ is null (":memory:").
  absl::Mutex read_mu_;
  std::unique_ptr<SqliteDb> reader_ ABSL_GUARDED_BY(read_mu_);

  absl::Mutex groupings_mu_;
  absl::flat_hash_map<SweepId, std::shared_ptr<const ConfigGrouping>> groupings_
      ABSL_GUARDED_BY(groupings_mu_);

  // The cap SimulateFullDisk(true) replaced; 0 while none is in place.
  int64_t uncapped_max_pages_ ABSL_GUARDED_BY(write_mu_) = 0;

  const int min_checkpoint_pages_;
  const int checkpoint_pages_;
  // WAL pages that make a checkpoint due: the database's page count clamped
  // to [min_checkpoint_pages_, checkpoint_pages_], updated after each one.
  std::atomic<int> checkpoint_threshold_;
  // Held while either thread runs a checkpoint.
  absl::Mutex checkpoint_run_mu_;
  // Frames in the WAL after the last commit (from the WAL hook).
  std::atomic<int> wal_pages_{0};
  absl::Mutex checkpoint_mu_;
  bool checkpoint_due_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stop_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  // Used by the checkpoint thread only; null for ":memory:".
  std::unique_ptr<SqliteDb> checkpointer_;
  std::thread checkpoint_thread_;
};

}  // namespace deepsweep

#endif  // DEEPSWEEP_STORE_SQLITE_SWEEP_STORE_H_
