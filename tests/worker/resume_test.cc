// Exact resume through the worker loop and a real coordinator (in process,
// with files for snapshots): a trial interrupted by a shutdown (SIGTERM) or
// by a lost worker (its lease expires) continues on another worker from its
// snapshot, and the checkpoints stored for its latest attempt equal an
// uninterrupted in-process run's bit for bit.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "core/checkpoint_compare.h"
#include "gtest/gtest.h"
#include "rpc/local_coordinator_client.h"
#include "store/file_snapshot_store.h"
#include "store/memory_sweep_store.h"
#include "tests/testing/fake_sleeper.h"
#include "tests/testing/forwarding_coordinator_client.h"
#include "tests/worker/test_trials.h"
#include "worker/dataset_cache.h"
#include "worker/trial_runner.h"
#include "worker/worker_loop.h"

namespace deepsweep::worker {
namespace {

using testing::FakeSleeper;

// Forwards every call; `on_report` sees each ReportCheckpoints first and may
// turn it into an error (a worker that is gone).
class InterceptingClient final : public deepsweep::testing::ForwardingCoordinatorClient {
 public:
  explicit InterceptingClient(rpc::CoordinatorClient* inner) : ForwardingCoordinatorClient(inner) {}
  std::function<absl::Status(absl::Span<const Checkpoint>)> on_report;

  absl::StatusOr<RenewResult> RenewLease(TrialId t, std::string_view l) override {
    if (gone_) return absl::UnavailableError("gone");
    return inner()->RenewLease(t, l);
  }
  absl::StatusOr<RenewResult> ReportCheckpoints(TrialId t, std::string_view l,
                                                absl::Span<const Checkpoint> c) override {
    if (gone_) return absl::UnavailableError("gone");
    if (on_report) {
      absl::Status s = on_report(c);
      if (!s.ok()) {
        gone_ = true;
        return s;
      }
    }
    return inner()->ReportCheckpoints(t, l, c);
  }
  absl::Status CompleteTrial(TrialId t, std::string_view l, const TrialOutcome& o) override {
    if (gone_) return absl::UnavailableError("gone");
    return inner()->CompleteTrial(t, l, o);
  }
  absl::Status ReleaseTrial(TrialId t, std::string_view l) override {
    if (gone_) return absl::UnavailableError("gone");
    return inner()->ReleaseTrial(t, l);
  }
  absl::Status UploadSnapshot(TrialId t, std::string_view l, int64_t s,
                              std::string_view b) override {
    if (gone_) return absl::UnavailableError("gone");
    return inner()->UploadSnapshot(t, l, s, b);
  }

 private:
  std::atomic<bool> gone_{false};
};

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("resume_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto store = FileSnapshotStore::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status();
    client_ = std::make_unique<rpc::LocalCoordinatorClient>(
        std::make_unique<MemorySweepStore>(), &clock_,
        rpc::LocalClientOptions{.coordinator = {.lease_ttl = kLeaseTtl}}, std::move(*store));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  WorkerLoopOptions Options(std::string id) {
    WorkerLoopOptions o;
    o.identity = WorkerInfo{.worker_id = std::move(id), .host = "h", .pid = 1, .cores = 1};
    o.max_trials = 1;
    return o;
  }

  // The sweep of one trial: 200 updates, checkpoints every 20, snapshots every 30.
  TrialId CreateTrial() {
    auto sweep = client_->CreateSweep(R"(name: resume
dataset: {name: shapeset, validation_examples: 40, test_examples: 60}
model: {activation: tanh, depth: 2, width: 8}
training: {learning_rate: 0.05, batch_size: 10, updates: 200, checkpoint_every: 20,
           probe_examples: 20, snapshot_every: 30, snapshot_seconds: 0}
)");
    EXPECT_TRUE(sweep.ok()) << sweep.status();
    auto trials = client_->ListTrials({});
    EXPECT_TRUE(trials.ok() && trials->size() == 1u);
    spec_ = (*trials)[0].spec;
    return (*trials)[0].id;
  }

  // Worker "a" trains the trial until the checkpoint at `step` reached the
  // coordinator, then gets SIGTERM (Shutdown): it snapshots and releases.
  WorkerStats ShutDownFirstWorkerAfter(int64_t step) {
    InterceptingClient first(client_.get());
    WorkerLoop a(&first, &runner_, &clock_, &sleeper_, Options("a"));
    first.on_report = [&](absl::Span<const Checkpoint> batch) {
      if (batch.back().step >= step) a.Shutdown();
      return absl::OkStatus();
    };
    EXPECT_TRUE(a.Run().ok());
    return a.stats();
  }

  std::vector<Checkpoint> Uninterrupted() {
    std::vector<Checkpoint> seen;
    auto run = runner_.RunTrial(spec_, [&](const Checkpoint& c) {
      seen.push_back(c);
      return false;
    });
    EXPECT_TRUE(run.ok()) << run.status();
    return seen;
  }

  static constexpr absl::Duration kLeaseTtl = absl::Seconds(30);
  std::filesystem::path dir_;
  FakeClock clock_;
  FakeSleeper sleeper_{&clock_};
  DatasetCache datasets_;
  TrialRunner runner_{&datasets_, &clock_};
  std::unique_ptr<rpc::LocalCoordinatorClient> client_;
  TrialSpec spec_;
};

TEST_F(ResumeTest, AShutDownWorkerSnapshotsAndTheNextOneContinuesExactly) {
  const TrialId id = CreateTrial();
  const WorkerStats a = ShutDownFirstWorkerAfter(100);
  EXPECT_EQ(a.trials_released, 1);
  EXPECT_GE(a.snapshots_sent, 4);  // 30, 60, 90 and the one on stop
  auto released = client_->GetTrial(id);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->state, TrialState::kPending);

  WorkerLoop b(client_.get(), &runner_, &clock_, &sleeper_, Options("b"));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(b.stats().trials_resumed, 1);
  auto done = client_->GetTrial(id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, TrialState::kSucceeded);
  EXPECT_EQ(done->attempt, 2);
  auto stored = client_->GetCheckpoints(id, std::nullopt, /*with_layer_stats=*/true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(CheckpointsDifference(*stored, Uninterrupted()), "");
  // The final weights are kept (keep_weights: final), and only they.
  auto weights = client_->DownloadWeights(id);
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_EQ(weights->step, 200);
  auto all = FileSnapshotStore::Open(dir_.string());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)->List(id)->size(), 1u);
}

TEST_F(ResumeTest, ALostWorkersTrialResumesFromItsLastPeriodicSnapshot) {
  const TrialId id = CreateTrial();
  InterceptingClient first(client_.get());
  WorkerLoop a(&first, &runner_, &clock_, &sleeper_, Options("a"));
  // The worker vanishes when it reports 120: its snapshot of 120 never
  // arrives, the one of 90 did.
  first.on_report = [&](absl::Span<const Checkpoint> batch) {
    if (batch.back().step >= 120) {
      a.Shutdown();  // ends its loop; every later call fails as "gone"
      return absl::UnavailableError("worker killed");
    }
    return absl::OkStatus();
  };
  ASSERT_TRUE(a.Run().ok());
  clock_.Advance(kLeaseTtl + absl::Seconds(1));  // its lease expires
  WorkerLoop b(client_.get(), &runner_, &clock_, &sleeper_, Options("b"));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(b.stats().trials_resumed, 1);
  auto done = client_->GetTrial(id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, TrialState::kSucceeded);
  auto stored = client_->GetCheckpoints(id, std::nullopt, true);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(CheckpointsDifference(*stored, Uninterrupted()), "");
}

// Flips one byte of the newest stored snapshot (`all`: of every one).
void Damage(const std::filesystem::path& dir, bool all) {
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());  // names start with the step
  ASSERT_FALSE(files.empty());
  if (!all) files.erase(files.begin(), files.end() - 1);
  for (const auto& path : files) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(100);
    const char byte = static_cast<char>(file.get() ^ 0x10);
    file.seekp(100);
    file.put(byte);
  }
}

TEST_F(ResumeTest, ADamagedNewestSnapshotFallsBackToTheOneBefore) {
  const TrialId id = CreateTrial();
  ShutDownFirstWorkerAfter(100);
  Damage(dir_, /*all=*/false);
  WorkerLoop b(client_.get(), &runner_, &clock_, &sleeper_, Options("b"));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(b.stats().trials_resumed, 1);
  auto stored = client_->GetCheckpoints(id, std::nullopt, true);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(CheckpointsDifference(*stored, Uninterrupted()), "");
}

TEST_F(ResumeTest, ADamagedSnapshotIsNotUsedAndTheTrialStartsOver) {
  const TrialId id = CreateTrial();
  ShutDownFirstWorkerAfter(100);
  Damage(dir_, /*all=*/true);  // the store's CRC check refuses every one
  WorkerLoop b(client_.get(), &runner_, &clock_, &sleeper_, Options("b"));
  ASSERT_TRUE(b.Run().ok());
  EXPECT_EQ(b.stats().trials_resumed, 0);
  auto done = client_->GetTrial(id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, TrialState::kSucceeded);
  auto stored = client_->GetCheckpoints(id, std::nullopt, true);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(CheckpointsDifference(*stored, Uninterrupted()), "");
}

}  // namespace
}  // namespace deepsweep::worker
