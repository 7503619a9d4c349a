// Coordinator use cases against both stores, with a FakeClock: time moves only
// when a test says so, so expiry is tested without sleeping.
#include "core/coordinator.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/scheduler.h"
#include "core/splitmix64.h"
#include "core/sweep_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_sweep_store.h"
#include "store/sqlite_sweep_store.h"
#include "tests/testing/failing_sweep_store.h"

namespace deepsweep {
namespace {

using ::testing::TestWithParam;

// Six trials: 3 activations x 2 depths, one seed.
constexpr char kSpec[] = R"(
name: small
training: {updates: 100, checkpoint_every: 10}
grid:
  activation: [sigmoid, tanh, softsign]
  depth: [1, 2]
limits: {max_attempts: 2}
)";

constexpr char kOtherSpec[] = R"(
name: other
grid:
  depth: [1, 2, 3]
)";

// Opens stores for a test; Reopen() drops the store and opens it again on the
// same data, as a restarted coordinator process would.
class StoreFixture {
 public:
  virtual ~StoreFixture() = default;
  virtual SweepStore* Open() = 0;
  virtual SweepStore* Reopen() = 0;
};

class MemoryFixture final : public StoreFixture {
 public:
  SweepStore* Open() override { return &store_; }
  SweepStore* Reopen() override { return &store_; }  // memory survives only the coordinator

 private:
  MemorySweepStore store_;
};

class SqliteFixture final : public StoreFixture {
 public:
  SqliteFixture() {
    path_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("coordinator_test_", ::testing::UnitTest::GetInstance()->random_seed(),
                         "_", reinterpret_cast<uintptr_t>(this), ".db");
    std::filesystem::remove(path_);
  }
  ~SqliteFixture() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }
  SweepStore* Open() override { return Reopen(); }
  SweepStore* Reopen() override {
    store_.reset();
    auto opened = SqliteSweepStore::Open(path_.string());
    EXPECT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    return store_.get();
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<SqliteSweepStore> store_;
};

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<StoreFixture>()> make;
  friend void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }
};

class CoordinatorTest : public TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    fixture_ = GetParam().make();
    store_ = fixture_->Open();
    options_.lease_ttl = absl::Seconds(30);
    coordinator_ = std::make_unique<Coordinator>(store_, &clock_, options_);
  }

  // Destroys the coordinator and the store and starts both again on the
  // same data.
  void Restart() {
    coordinator_.reset();
    store_ = fixture_->Reopen();
    coordinator_ = std::make_unique<Coordinator>(store_, &clock_, options_);
  }

  SweepId Create(const char* spec = kSpec) {
    auto sweep = coordinator_->CreateSweep(spec);
    EXPECT_TRUE(sweep.ok()) << sweep.status();
    return sweep.ok() ? sweep->id : 0;
  }

  Acquisition Acquire(const std::string& worker = "w1") {
    auto a = coordinator_->AcquireTrial(WorkerInfo{.worker_id = worker, .host = "h"});
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : Acquisition{};
  }

  TrialRecord Trial(TrialId id) {
    auto t = coordinator_->GetTrial(id);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : TrialRecord{};
  }

  SweepRecord Sweep(SweepId id) {
    auto s = coordinator_->GetSweep(id);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : SweepRecord{};
  }

  static Checkpoint MakeCheckpoint(int64_t step, double test_error) {
    Checkpoint c{.step = step,
                 .examples_seen = step * 10,
                 .train_nll = 1.0,
                 .test_error = test_error,
                 .test_nll = 2.0};
    for (int layer = 1; layer <= 2; ++layer) {
      c.layer_stats.push_back({.layer = layer,
                               .quantity = LayerQuantity::kActivation,
                               .mean = 0.1 * layer,
                               .histogram = {0.25f, 0.5f, 0.25f}});
    }
    return c;
  }

  FakeClock clock_;
  CoordinatorOptions options_;
  std::unique_ptr<StoreFixture> fixture_;
  SweepStore* store_ = nullptr;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_P(CoordinatorTest, CreateSweepStoresEveryTrialPending) {
  const SweepId id = Create();
  const SweepRecord sweep = Sweep(id);
  EXPECT_EQ(sweep.name, "small");
  EXPECT_EQ(sweep.state, SweepState::kActive);
  EXPECT_EQ(sweep.max_attempts, 2);
  EXPECT_EQ(sweep.counts.pending, 6);
  EXPECT_EQ(sweep.counts.total(), 6);
  auto trials = coordinator_->ListTrials({.sweep_id = id});
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 6u);
  EXPECT_EQ((*trials)[0].spec.activation, "sigmoid");
  EXPECT_EQ((*trials)[5].spec.activation, "softsign");
  EXPECT_EQ((*trials)[5].spec.depth, 2);
  EXPECT_EQ((*trials)[5].index, 5);
}

TEST_P(CoordinatorTest, CreateSweepRejectsBadSpecsAndLimits) {
  EXPECT_EQ(coordinator_->CreateSweep("name: [").status().code(),
            absl::StatusCode::kInvalidArgument);
  options_.max_trials_per_sweep = 5;
  Coordinator limited(store_, &clock_, options_);
  EXPECT_EQ(limited.CreateSweep(kSpec).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_P(CoordinatorTest, SubmitSweepReturnsTheSweepOfAnEqualSpec) {
  auto first = coordinator_->SubmitSweep(kSpec);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->existing);
  // Same expansion, other text: a comment, a description, the layout.
  const std::string reworded = absl::StrCat("# again\ndescription: second try\n", kSpec);
  auto again = coordinator_->SubmitSweep(reworded);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->existing);
  EXPECT_EQ(again->sweep.id, first->sweep.id);
  EXPECT_EQ(again->sweep.counts.total(), 6);
  // Finished or not, the sweep is returned as it is and nothing is stored.
  ASSERT_TRUE(coordinator_->CancelSweep(first->sweep.id).ok());
  auto cancelled = coordinator_->SubmitSweep(kSpec);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_TRUE(cancelled->existing);
  EXPECT_EQ(cancelled->sweep.state, SweepState::kCancelled);
  ASSERT_EQ(coordinator_->ListSweeps()->size(), 1u);
  // The rule survives a restart: it reads the stored sweeps.
  Restart();
  auto restarted = coordinator_->SubmitSweep(kSpec);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_TRUE(restarted->existing);
  EXPECT_EQ(restarted->sweep.id, first->sweep.id);
}

TEST_P(CoordinatorTest, SubmitSweepRefusesAChangedSpecUnderAUsedName) {
  const SweepId id = Create();
  std::string changed = kSpec;
  changed.replace(changed.find("[1, 2]"), 6, "[1, 2, 3]");
  auto refused = coordinator_->SubmitSweep(changed);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find(absl::StrCat("sweep ", id, " named 'small'")),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("--new"), std::string::npos);
  // max_attempts is part of the spec too.
  std::string retries = kSpec;
  retries.replace(retries.find("max_attempts: 2"), 15, "max_attempts: 3");
  EXPECT_EQ(coordinator_->SubmitSweep(retries).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_EQ(coordinator_->ListSweeps()->size(), 1u);
  // --new stores it; an equal spec then finds the newest equal sweep.
  auto second = coordinator_->SubmitSweep(changed, {.new_sweep = true});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->existing);
  EXPECT_EQ(second->sweep.counts.total(), 9);
  auto found = coordinator_->SubmitSweep(changed);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->sweep.id, second->sweep.id);
  auto old = coordinator_->SubmitSweep(kSpec);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->sweep.id, id);
  // A third spec is refused naming both sweeps of the name.
  std::string third = kSpec;
  third.replace(third.find("[1, 2]"), 6, "[4]");
  auto both = coordinator_->SubmitSweep(third);
  EXPECT_EQ(both.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(both.status().message().find(absl::StrCat("sweeps ", id, ", ", second->sweep.id)),
            std::string::npos)
      << both.status();
  // Another name is another sweep.
  auto other = coordinator_->SubmitSweep(kOtherSpec);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->existing);
}

TEST_P(CoordinatorTest, AcquireLeasesTrialsInIndexOrder) {
  const SweepId id = Create();
  const Acquisition a = Acquire();
  ASSERT_TRUE(a.trial.has_value());
  ASSERT_TRUE(a.lease.has_value());
  EXPECT_EQ(a.trial->sweep_id, id);
  EXPECT_EQ(a.trial->index, 0);
  EXPECT_EQ(a.trial->state, TrialState::kLeased);
  EXPECT_EQ(a.trial->attempt, 1);
  EXPECT_EQ(a.lease->attempt, 1);
  EXPECT_EQ(a.lease->deadline, clock_.Now() + absl::Seconds(30));
  EXPECT_FALSE(a.lease->lease_id.empty());
  const Acquisition b = Acquire();
  EXPECT_EQ(b.trial->index, 1);
  EXPECT_EQ(Sweep(id).counts.leased, 2);

  auto workers = coordinator_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].info.host, "h");
  EXPECT_EQ((*workers)[0].current_trial, b.trial->id);
}

// The trial an acquisition hands out is the one the store holds afterwards.
void ExpectSameTrial(const TrialRecord& handed_out, const TrialRecord& stored) {
  EXPECT_EQ(handed_out.id, stored.id);
  EXPECT_EQ(handed_out.sweep_id, stored.sweep_id);
  EXPECT_EQ(handed_out.index, stored.index);
  EXPECT_TRUE(handed_out.spec == stored.spec) << "trial " << stored.id;
  EXPECT_EQ(handed_out.state, stored.state);
  EXPECT_EQ(handed_out.attempt, stored.attempt);
  EXPECT_EQ(handed_out.attempt_limit, stored.attempt_limit);
  EXPECT_EQ(handed_out.worker_id, stored.worker_id);
  EXPECT_EQ(handed_out.reason, stored.reason);
  EXPECT_EQ(handed_out.final_test_error, stored.final_test_error);
  EXPECT_EQ(handed_out.final_test_nll, stored.final_test_nll);
  EXPECT_EQ(handed_out.final_validation_error, stored.final_validation_error);
  EXPECT_EQ(handed_out.steps_done, stored.steps_done);
  EXPECT_EQ(handed_out.updated_at, stored.updated_at);
}

TEST_P(CoordinatorTest, AcquisitionsMatchTheStoredTrial) {
  const SweepId id = Create();
  // A first lease, of a trial known since CreateSweep.
  const Acquisition first = Acquire("w1");
  ExpectSameTrial(*first.trial, Trial(first.trial->id));
  EXPECT_EQ(first.trial->spec.activation, "sigmoid");
  ASSERT_TRUE(coordinator_
                  ->ReportCheckpoints(first.trial->id, first.lease->lease_id,
                                      std::vector{MakeCheckpoint(10, 0.5)})
                  .ok());

  // After a restart the specs come from the store; the lease that expires
  // there (a full TTL after the restart's grace) had results, which the
  // second attempt starts without.
  Restart();
  ASSERT_EQ(*coordinator_->ExpireLeases(), 0);
  clock_.Advance(absl::Seconds(31));
  const Acquisition second = Acquire("w2");
  ASSERT_EQ(second.trial->id, first.trial->id);
  EXPECT_EQ(second.trial->attempt, 2);
  ExpectSameTrial(*second.trial, Trial(second.trial->id));
  const Acquisition other = Acquire("w3");
  ExpectSameTrial(*other.trial, Trial(other.trial->id));

  // A failed trial brought back by RetryTrials, with its reason cleared.
  ASSERT_TRUE(coordinator_->FailTrial(second.trial->id, second.lease->lease_id, "bug", false).ok());
  ASSERT_EQ(*coordinator_->RetryTrials(id, {TrialState::kFailed}), 1);
  clock_.Advance(absl::Seconds(1));
  const Acquisition retried = Acquire("w4");
  ASSERT_EQ(retried.trial->id, first.trial->id);
  EXPECT_EQ(retried.trial->attempt, 3);
  ExpectSameTrial(*retried.trial, Trial(retried.trial->id));
}

TEST_P(CoordinatorTest, NothingPendingSaysWhenToRetry) {
  options_.idle_retry_after = absl::Seconds(7);
  coordinator_ = std::make_unique<Coordinator>(store_, &clock_, options_);
  const Acquisition a = Acquire();
  EXPECT_FALSE(a.trial.has_value());
  EXPECT_EQ(a.retry_after, absl::Seconds(7));
}

TEST_P(CoordinatorTest, ExpiredLeaseIsRequeuedAndTheOldLeaseAborted) {
  Create();
  const Acquisition first = Acquire("w1");
  clock_.Advance(absl::Seconds(30));  // at the deadline the lease is still current
  EXPECT_TRUE(coordinator_->RenewLease(first.trial->id, first.lease->lease_id).ok());
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(Trial(first.trial->id).state, TrialState::kPending);
  EXPECT_EQ(coordinator_->RenewLease(first.trial->id, first.lease->lease_id).status().code(),
            absl::StatusCode::kAborted);

  const Acquisition second = Acquire("w2");
  EXPECT_EQ(second.trial->id, first.trial->id);
  EXPECT_EQ(second.lease->attempt, 2);
  EXPECT_NE(second.lease->lease_id, first.lease->lease_id);
  EXPECT_EQ(coordinator_->CompleteTrial(first.trial->id, first.lease->lease_id, {}).code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(coordinator_->CompleteTrial(second.trial->id, second.lease->lease_id, {}).ok());
  EXPECT_EQ(Trial(first.trial->id).state, TrialState::kSucceeded);
}

TEST_P(CoordinatorTest, AcquireExpiresLazily) {
  Create();
  const Acquisition first = Acquire();
  for (int i = 0; i < 5; ++i) Acquire();  // every trial leased
  EXPECT_FALSE(Acquire().trial.has_value());
  clock_.Advance(absl::Seconds(31));
  const Acquisition again = Acquire();
  ASSERT_TRUE(again.trial.has_value());
  EXPECT_EQ(again.trial->id, first.trial->id);  // lowest index first
  EXPECT_EQ(again.trial->attempt, 2);
}

TEST_P(CoordinatorTest, StaleOrUnknownLeasesChangeNothing) {
  Create();
  const Acquisition a = Acquire();
  const TrialId id = a.trial->id;
  const std::vector<Checkpoint> report = {MakeCheckpoint(10, 0.5)};
  EXPECT_EQ(coordinator_->RenewLease(id, "forged").status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(coordinator_->ReportCheckpoints(id, "forged", report).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(coordinator_->FailTrial(id, "forged", "x", false).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(coordinator_->ReleaseTrial(id, "forged").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(coordinator_->RenewLease(999999, "forged").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(coordinator_->RenewLease(id, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(coordinator_->GetCheckpoints(id, std::nullopt, false)->empty());
  EXPECT_EQ(Trial(id).state, TrialState::kLeased);

  ASSERT_TRUE(coordinator_->CompleteTrial(id, a.lease->lease_id, {}).ok());
  // A duplicated completion from the same worker is stale now, too.
  EXPECT_EQ(coordinator_->CompleteTrial(id, a.lease->lease_id, {}).code(),
            absl::StatusCode::kAborted);
}

TEST_P(CoordinatorTest, RepeatedReportsAreStoredOnce) {
  Create();
  const Acquisition a = Acquire();
  const std::vector<Checkpoint> first = {MakeCheckpoint(10, 0.5), MakeCheckpoint(20, 0.4)};
  std::vector<Checkpoint> retried = {MakeCheckpoint(20, 0.9), MakeCheckpoint(30, 0.3)};
  ASSERT_TRUE(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, first).ok());
  ASSERT_TRUE(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, first).ok());
  ASSERT_TRUE(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, retried).ok());

  auto stored = coordinator_->GetCheckpoints(a.trial->id, std::nullopt, true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_EQ((*stored)[1].step, 20);
  EXPECT_DOUBLE_EQ((*stored)[1].test_error, 0.4);  // the first write wins
  EXPECT_EQ((*stored)[1].layer_stats.size(), 2u);
  EXPECT_EQ((*stored)[1].layer_stats[1].histogram, (std::vector<float>{0.25f, 0.5f, 0.25f}));

  const TrialRecord t = Trial(a.trial->id);
  EXPECT_EQ(t.steps_done, 30);
  EXPECT_DOUBLE_EQ(t.final_test_error.value_or(-1), 0.3);
}

TEST_P(CoordinatorTest, ReportsRenewTheLease) {
  Create();
  const Acquisition a = Acquire();
  clock_.Advance(absl::Seconds(20));
  const std::vector<Checkpoint> report = {MakeCheckpoint(10, 0.5)};
  auto renewed = coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, report);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->deadline, clock_.Now() + absl::Seconds(30));
  EXPECT_FALSE(renewed->cancelled);
  clock_.Advance(absl::Seconds(20));  // past the first deadline, not the renewed one
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  EXPECT_TRUE(coordinator_->RenewLease(a.trial->id, a.lease->lease_id).ok());
}

TEST_P(CoordinatorTest, OversizedOrMalformedReportsAreRejected) {
  options_.max_checkpoints_per_report = 2;
  options_.max_histogram_bins = 2;
  coordinator_ = std::make_unique<Coordinator>(store_, &clock_, options_);
  Create();
  const Acquisition a = Acquire();
  const std::vector<Checkpoint> three(3, Checkpoint{});
  EXPECT_EQ(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, three).status().code(),
            absl::StatusCode::kResourceExhausted);
  const std::vector<Checkpoint> wide = {MakeCheckpoint(1, 0.1)};  // 3 bins
  EXPECT_EQ(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, wide).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::vector<Checkpoint> twice = {Checkpoint{.step = 1}};
  twice[0].layer_stats = {LayerStat{.layer = 1}, LayerStat{.layer = 1}};
  EXPECT_EQ(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, twice).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(coordinator_->AcquireTrial(WorkerInfo{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, {.state = TrialState::kFailed})
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_P(CoordinatorTest, MaxAttemptsThenFailedWithReason) {
  Create();  // max_attempts: 2
  TrialId id = 0;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const Acquisition a = Acquire(absl::StrCat("w", attempt));
    EXPECT_EQ(a.trial->index, 0);
    EXPECT_EQ(a.lease->attempt, attempt);
    id = a.trial->id;
    clock_.Advance(absl::Seconds(31));
    EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  }
  const TrialRecord t = Trial(id);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_EQ(t.attempt, 2);
  EXPECT_NE(t.reason.find("gave up after 2 attempts"), std::string::npos) << t.reason;
  EXPECT_NE(t.reason.find("w2"), std::string::npos) << t.reason;
  EXPECT_EQ(Acquire().trial->index, 1);
}

TEST_P(CoordinatorTest, FailTrialRetriesUntilTheBudgetIsSpent) {
  Create();
  Acquisition a = Acquire();
  const TrialId id = a.trial->id;
  ASSERT_TRUE(coordinator_->FailTrial(id, a.lease->lease_id, "out of memory", true).ok());
  TrialRecord t = Trial(id);
  EXPECT_EQ(t.state, TrialState::kPending);
  EXPECT_EQ(t.reason, "out of memory");

  a = Acquire();
  ASSERT_EQ(a.trial->id, id);
  ASSERT_TRUE(coordinator_->FailTrial(id, a.lease->lease_id, "out of memory", true).ok());
  t = Trial(id);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_EQ(t.reason, "gave up after 2 attempts; last: out of memory");

  a = Acquire();
  ASSERT_TRUE(coordinator_->FailTrial(a.trial->id, a.lease->lease_id, "bad spec", false).ok());
  t = Trial(a.trial->id);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_EQ(t.attempt, 1);
  EXPECT_EQ(t.reason, "bad spec");
}

TEST_P(CoordinatorTest, ReleaseRequeuesWithoutSpendingAnAttempt) {
  Create();
  for (int i = 0; i < 3; ++i) {
    const Acquisition a = Acquire();
    EXPECT_EQ(a.trial->index, 0);
    ASSERT_TRUE(coordinator_->ReleaseTrial(a.trial->id, a.lease->lease_id).ok());
  }
  const TrialRecord t = Trial(Acquire().trial->id);
  EXPECT_EQ(t.attempt, 4);
  EXPECT_EQ(t.attempt_limit, 5);  // 2 + one per release
  EXPECT_EQ(t.state, TrialState::kLeased);
}

TEST_P(CoordinatorTest, SweepFinishesWhenEveryTrialIsDone) {
  const SweepId id = Create();
  for (int i = 0; i < 6; ++i) {
    const Acquisition a = Acquire();
    EXPECT_EQ(Sweep(id).state, SweepState::kActive);
    const TrialOutcome outcome{.state = i == 0 ? TrialState::kDiverged : TrialState::kSucceeded,
                               .reason = i == 0 ? "loss became NaN" : ""};
    ASSERT_TRUE(coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, outcome).ok());
  }
  const SweepRecord sweep = Sweep(id);
  EXPECT_EQ(sweep.state, SweepState::kFinished);
  EXPECT_EQ(sweep.finished_at, clock_.Now());
  EXPECT_EQ(sweep.counts.succeeded, 5);
  EXPECT_EQ(sweep.counts.diverged, 1);
  EXPECT_EQ(coordinator_->CancelSweep(id).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(CoordinatorTest, CancelStopsPendingAndTellsLeasedAtTheirHeartbeat) {
  const SweepId id = Create();
  const Acquisition running = Acquire();
  const Acquisition other = Acquire();
  ASSERT_TRUE(coordinator_->CancelSweep(id).ok());
  ASSERT_TRUE(coordinator_->CancelSweep(id).ok());  // idempotent
  SweepRecord sweep = Sweep(id);
  EXPECT_EQ(sweep.state, SweepState::kCancelled);
  EXPECT_EQ(sweep.counts.cancelled, 4);
  EXPECT_EQ(sweep.counts.leased, 2);
  EXPECT_FALSE(sweep.finished_at.has_value());
  EXPECT_FALSE(Acquire().trial.has_value());

  auto renewed = coordinator_->RenewLease(running.trial->id, running.lease->lease_id);
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(renewed->cancelled);
  ASSERT_TRUE(coordinator_->ReleaseTrial(running.trial->id, running.lease->lease_id).ok());
  EXPECT_EQ(Trial(running.trial->id).state, TrialState::kCancelled);

  clock_.Advance(absl::Seconds(31));  // the other worker never heard
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(Trial(other.trial->id).state, TrialState::kCancelled);
  sweep = Sweep(id);
  EXPECT_EQ(sweep.counts.cancelled, 6);
  EXPECT_EQ(sweep.state, SweepState::kCancelled);
  EXPECT_EQ(sweep.finished_at, clock_.Now());
  EXPECT_EQ(coordinator_->CancelSweep(424242).code(), absl::StatusCode::kNotFound);
}

TEST_P(CoordinatorTest, RetryRequeuesWithAFreshBudgetAndReopensTheSweep) {
  const SweepId id = Create();
  ASSERT_TRUE(coordinator_->CancelSweep(id).ok());
  EXPECT_EQ(Sweep(id).state, SweepState::kCancelled);
  EXPECT_EQ(coordinator_->RetryTrials(id, {TrialState::kSucceeded}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto retried = coordinator_->RetryTrials(id, {TrialState::kCancelled, TrialState::kFailed});
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, 6);
  SweepRecord sweep = Sweep(id);
  EXPECT_EQ(sweep.state, SweepState::kActive);
  EXPECT_EQ(sweep.counts.pending, 6);

  // Fail one trial for good, then retry it: the attempt numbers go on.
  Acquisition a = Acquire();
  ASSERT_TRUE(
      coordinator_
          ->ReportCheckpoints(a.trial->id, a.lease->lease_id, std::vector{MakeCheckpoint(10, 0.5)})
          .ok());
  ASSERT_TRUE(coordinator_->FailTrial(a.trial->id, a.lease->lease_id, "bug", false).ok());
  EXPECT_EQ(*coordinator_->RetryTrials(id, {TrialState::kFailed}), 1);
  const TrialRecord t = Trial(a.trial->id);
  EXPECT_EQ(t.state, TrialState::kPending);
  EXPECT_EQ(t.attempt_limit, 3);
  EXPECT_FALSE(t.final_test_error.has_value());
  EXPECT_EQ(t.reason, "");
  a = Acquire();
  EXPECT_EQ(a.trial->id, t.id);
  EXPECT_EQ(a.lease->attempt, 2);
  EXPECT_TRUE(coordinator_->GetCheckpoints(t.id, std::nullopt, false)->empty());
  EXPECT_EQ(coordinator_->GetCheckpoints(t.id, 1, false)->size(), 1u);
}

TEST_P(CoordinatorTest, HandsOutFairlyAcrossSweeps) {
  const SweepId a = Create();
  const SweepId b = Create(kOtherSpec);
  std::vector<SweepId> order;
  for (int i = 0; i < 6; ++i) order.push_back(Acquire().trial->sweep_id);
  EXPECT_EQ(order, (std::vector<SweepId>{a, b, a, b, a, b}));
  // b is exhausted: a gets everything left.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Acquire().trial->sweep_id, a);
  EXPECT_FALSE(Acquire().trial.has_value());
}

TEST_P(CoordinatorTest, RestartResumesLeasesWithTheirDeadlines) {
  const SweepId id = Create();
  const Acquisition a = Acquire("w1");
  const Acquisition b = Acquire("w2");
  ASSERT_TRUE(
      coordinator_
          ->ReportCheckpoints(a.trial->id, a.lease->lease_id, std::vector{MakeCheckpoint(10, 0.5)})
          .ok());
  ASSERT_TRUE(coordinator_->CompleteTrial(b.trial->id, b.lease->lease_id, {}).ok());
  clock_.Advance(absl::Seconds(10));

  Restart();
  // a's lease survived with its deadline (30 s after the report at t = 0).
  auto renewed = coordinator_->RenewLease(a.trial->id, a.lease->lease_id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(coordinator_->CompleteTrial(b.trial->id, b.lease->lease_id, {}).code(),
            absl::StatusCode::kAborted);
  Restart();
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);  // loaded at t = 10: deadline 40 stands
  clock_.Advance(absl::Seconds(31));            // past the renewed deadline
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(Trial(a.trial->id).state, TrialState::kPending);

  // The rest of the sweep runs to the end on the restarted coordinator.
  for (Acquisition next = Acquire(); next.trial.has_value(); next = Acquire()) {
    EXPECT_NE(next.trial->id, b.trial->id);
    ASSERT_TRUE(coordinator_->CompleteTrial(next.trial->id, next.lease->lease_id, {}).ok());
  }
  const SweepRecord sweep = Sweep(id);
  EXPECT_EQ(sweep.state, SweepState::kFinished);
  EXPECT_EQ(sweep.counts.succeeded, 6);
  EXPECT_EQ(Trial(a.trial->id).attempt, 2);
  EXPECT_EQ(coordinator_->GetCheckpoints(a.trial->id, 1, false)->size(), 1u);
}

TEST_P(CoordinatorTest, RestartGivesRunningLeasesAFullTtlToReconnect) {
  Create();
  const Acquisition a = Acquire("w1");  // deadline t = 30
  clock_.Advance(absl::Seconds(20));
  const Acquisition b = Acquire("w2");  // deadline t = 50
  clock_.Advance(absl::Seconds(5));

  // The coordinator is down from t = 25 to t = 35: a's deadline passes.
  coordinator_.reset();
  clock_.Advance(absl::Seconds(10));
  Restart();
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);  // both run until at least t = 65
  clock_.Advance(absl::Seconds(29));            // t = 64
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  auto renewed = coordinator_->RenewLease(a.trial->id, a.lease->lease_id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->deadline, clock_.Now() + absl::Seconds(30));

  // The grace is one TTL, not forever: b's silent worker loses its lease.
  clock_.Advance(absl::Seconds(2));  // t = 66
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(Trial(b.trial->id).state, TrialState::kPending);
  EXPECT_EQ(Trial(a.trial->id).state, TrialState::kLeased);
  EXPECT_EQ(Trial(a.trial->id).attempt, 1);  // no attempt burned by the outage

  // The extension is stored: another restart at t = 66 keeps a's renewed
  // deadline (t = 94) rather than an older one.
  Restart();
  clock_.Advance(absl::Seconds(27));  // t = 93
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  EXPECT_TRUE(coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, {}).ok());
  EXPECT_EQ(Trial(a.trial->id).attempt, 1);
}

TEST_P(CoordinatorTest, StoreFaultGivesLeasesAGracePeriod) {
  FailingSweepStore failing(store_);
  coordinator_ = std::make_unique<Coordinator>(&failing, &clock_, options_);
  Create();
  const Acquisition a = Acquire("w1");  // deadline t = 30
  clock_.Advance(absl::Seconds(20));
  // The disk is full for 20 s: every write fails, renewals included.
  failing.FailNextWrites(1000);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(coordinator_->RenewLease(a.trial->id, a.lease->lease_id).status().code(),
              absl::StatusCode::kUnavailable);
    EXPECT_FALSE(coordinator_->ExpireLeases().ok());
    clock_.Advance(absl::Seconds(5));
  }
  failing.FailNextWrites(0);  // t = 40: space is back
  auto renewed = coordinator_->RenewLease(a.trial->id, a.lease->lease_id);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_TRUE(coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, {}).ok());
  EXPECT_EQ(Trial(a.trial->id).state, TrialState::kSucceeded);
  EXPECT_EQ(Trial(a.trial->id).attempt, 1);
}

// The unfinished (pending or leased) trials of all sweeps are bounded, and the
// count follows completions, cancellations, retries and restarts.
TEST_P(CoordinatorTest, UnfinishedTrialsAreBoundedAcrossSweeps) {
  options_.max_unfinished_trials = 10;
  coordinator_ = std::make_unique<Coordinator>(store_, &clock_, options_);
  const SweepId a = Create(kSpec);       // 6
  const SweepId b = Create(kOtherSpec);  // 9
  EXPECT_EQ(coordinator_->unfinished_trials(), 9);
  absl::StatusOr<SweepRecord> refused = coordinator_->CreateSweep(kSpec);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("above the limit of 10 (max_unfinished_trials"));
  EXPECT_EQ(coordinator_->ListSweeps()->size(), 2u);  // nothing stored

  // A completed trial makes room for one more, not for three.
  Acquisition first = Acquire();
  ASSERT_TRUE(coordinator_->CompleteTrial(first.trial->id, first.lease->lease_id, {}).ok());
  EXPECT_EQ(coordinator_->unfinished_trials(), 8);
  EXPECT_EQ(coordinator_->CreateSweep(kOtherSpec).status().code(),
            absl::StatusCode::kResourceExhausted);
  first = Acquire();
  ASSERT_TRUE(coordinator_->CompleteTrial(first.trial->id, first.lease->lease_id, {}).ok());
  const SweepId c = Create(kOtherSpec);  // 7 + 3 = 10: exactly the limit
  EXPECT_EQ(coordinator_->unfinished_trials(), 10);

  // Cancelling a drops its pending trials at once; its leased one stays
  // unfinished until its worker stops.
  const Acquisition leased = Acquire();
  ASSERT_TRUE(coordinator_->CancelSweep(a).ok());
  auto unfinished = [&] {
    int64_t n = 0;
    for (SweepId id : {a, b, c}) n += Sweep(id).counts.pending + Sweep(id).counts.leased;
    return n;
  };
  EXPECT_EQ(coordinator_->unfinished_trials(), unfinished());
  EXPECT_LT(unfinished(), 10 - 3);

  // After a restart the count is rebuilt from the store.
  const int64_t before = unfinished();
  Restart();
  ASSERT_TRUE(coordinator_->ExpireLeases().ok());  // loads the index
  EXPECT_EQ(coordinator_->unfinished_trials(), before);
  const SweepId d = Create(kOtherSpec);
  EXPECT_EQ(coordinator_->unfinished_trials(), before + 3);
  EXPECT_EQ(Sweep(d).counts.pending, 3);
  // Retrying a's cancelled trials would bring back more than fit.
  const int64_t cancelled = Sweep(a).counts.cancelled;
  ASSERT_GT(before + 3 + cancelled, 10);
  EXPECT_EQ(coordinator_->RetryTrials(a, {TrialState::kCancelled}).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Sweep(a).counts.cancelled, cancelled);
  // The leased trial ends: one fewer.
  ASSERT_TRUE(coordinator_->CompleteTrial(leased.trial->id, leased.lease->lease_id, {}).ok());
  EXPECT_EQ(coordinator_->unfinished_trials(), before + 2);
}

TEST_P(CoordinatorTest, ConcurrentWorkersNeverShareATrial) {
  for (int i = 0; i < 4; ++i) Create();  // 24 trials
  absl::Mutex mu;
  std::vector<TrialId> handed_out;
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      const WorkerInfo me{.worker_id = absl::StrCat("w", w)};
      while (true) {
        auto a = coordinator_->AcquireTrial(me);
        ASSERT_TRUE(a.ok()) << a.status();
        if (!a->trial.has_value()) return;
        {
          absl::MutexLock lock(&mu);
          handed_out.push_back(a->trial->id);
        }
        ASSERT_TRUE(coordinator_
                        ->ReportCheckpoints(a->trial->id, a->lease->lease_id,
                                            std::vector{MakeCheckpoint(1, 0.5)})
                        .ok());
        ASSERT_TRUE(coordinator_->CompleteTrial(a->trial->id, a->lease->lease_id, {}).ok());
      }
    });
  }
  for (std::thread& t : workers) t.join();
  std::set<TrialId> unique(handed_out.begin(), handed_out.end());
  EXPECT_EQ(handed_out.size(), 24u);
  EXPECT_EQ(unique.size(), 24u);
  auto sweeps = coordinator_->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  for (const SweepRecord& s : *sweeps) EXPECT_EQ(s.state, SweepState::kFinished);
}

TEST_P(CoordinatorTest, AFailedWriteLeavesNoTrace) {
  FailingSweepStore failing(store_);
  coordinator_ = std::make_unique<Coordinator>(&failing, &clock_, options_);
  const SweepId id = Create();

  failing.FailNextWrites(1);
  EXPECT_EQ(coordinator_->AcquireTrial({.worker_id = "w1"}).status().code(),
            absl::StatusCode::kUnavailable);
  const Acquisition a = Acquire("w2");  // the same trial, as if nothing happened
  EXPECT_EQ(a.trial->index, 0);
  EXPECT_EQ(a.lease->attempt, 1);

  const std::vector<Checkpoint> report = {MakeCheckpoint(10, 0.5)};
  failing.FailNextWrites(1);
  EXPECT_FALSE(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, report).ok());
  EXPECT_TRUE(coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id, report).ok());
  EXPECT_EQ(coordinator_->GetCheckpoints(a.trial->id, std::nullopt, false)->size(), 1u);

  failing.FailNextWrites(1);
  EXPECT_FALSE(coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, {}).ok());
  EXPECT_EQ(Trial(a.trial->id).state, TrialState::kLeased);
  EXPECT_TRUE(coordinator_->CompleteTrial(a.trial->id, a.lease->lease_id, {}).ok());

  const Acquisition b = Acquire("w3");
  clock_.Advance(absl::Seconds(31));
  failing.FailNextWrites(1);
  EXPECT_FALSE(coordinator_->ExpireLeases().ok());
  // A store fault gives every lease a grace period (its worker may have been
  // unable to renew): b's lease runs one more TTL.
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(Trial(b.trial->id).state, TrialState::kPending);

  failing.FailNextWrites(1);
  EXPECT_FALSE(coordinator_->CancelSweep(id).ok());
  EXPECT_EQ(Sweep(id).state, SweepState::kActive);
  EXPECT_TRUE(coordinator_->CancelSweep(id).ok());
  EXPECT_EQ(Sweep(id).counts.cancelled, 5);
}

TEST_P(CoordinatorTest, WaitForChangeWakesOnMutation) {
  const uint64_t v0 = coordinator_->WaitForChange(~uint64_t{0}, absl::ZeroDuration());
  EXPECT_EQ(coordinator_->WaitForChange(v0, absl::ZeroDuration()), v0);  // times out
  uint64_t seen = v0;
  std::thread watcher([&] { seen = coordinator_->WaitForChange(v0, absl::Seconds(60)); });
  Create();
  watcher.join();
  EXPECT_GT(seen, v0);
}

// A sweep's version moves with every committed change to it or its trials,
// and only then: another sweep's work leaves it as it was.
TEST_P(CoordinatorTest, SweepVersionMovesOnlyWithItsOwnChanges) {
  const SweepId a = Create();
  const uint64_t created = coordinator_->sweep_version(a);
  EXPECT_GT(created, 0u);
  EXPECT_EQ(coordinator_->sweep_version(a + 100), 0u);  // never changed

  const Acquisition lease = Acquire();  // sweep a has the only pending trials
  ASSERT_TRUE(lease.trial.has_value());
  const uint64_t leased = coordinator_->sweep_version(a);
  EXPECT_GT(leased, created);
  EXPECT_EQ(coordinator_->version(), leased);

  const SweepId b = Create(kOtherSpec);
  EXPECT_EQ(coordinator_->sweep_version(a), leased);  // b's creation is not a's change
  EXPECT_GT(coordinator_->sweep_version(b), leased);

  ASSERT_TRUE(coordinator_
                  ->ReportCheckpoints(lease.trial->id, lease.lease->lease_id,
                                      std::vector<Checkpoint>{MakeCheckpoint(10, 0.5)})
                  .ok());
  const uint64_t reported = coordinator_->sweep_version(a);
  EXPECT_GT(reported, coordinator_->sweep_version(b));
  ASSERT_TRUE(coordinator_->CompleteTrial(lease.trial->id, lease.lease->lease_id, {}).ok());
  EXPECT_GT(coordinator_->sweep_version(a), reported);

  // A rejected call (a stale lease) changes nothing stored, nor the version.
  const uint64_t done = coordinator_->sweep_version(a);
  EXPECT_FALSE(coordinator_->RenewLease(lease.trial->id, lease.lease->lease_id).ok());
  EXPECT_EQ(coordinator_->sweep_version(a), done);
  ASSERT_TRUE(coordinator_->CancelSweep(b).ok());
  EXPECT_EQ(coordinator_->sweep_version(a), done);
  ASSERT_TRUE(coordinator_->CancelSweep(a).ok());
  EXPECT_GT(coordinator_->sweep_version(a), done);
}

// The inverse of SplitMix64's output mix, to show an attacker's view: with
// the old ids (SplitMix64 from one seed), one id gave away the generator's
// state and so every later id.
uint64_t UnmixForTest(uint64_t z) {
  auto unxorshift = [](uint64_t y, int shift) {
    uint64_t x = y;
    for (int i = 0; i < 64 / shift + 1; ++i) x = y ^ (x >> shift);
    return x;
  };
  auto inverse = [](uint64_t a) {  // Newton's iteration for a^-1 mod 2^64 (a odd)
    uint64_t x = a;
    for (int i = 0; i < 6; ++i) x *= 2 - a * x;
    return x;
  };
  z = unxorshift(z, 31);
  z *= inverse(0x94d049bb133111ebULL);
  z = unxorshift(z, 27);
  z *= inverse(0xbf58476d1ce4e5b9ULL);
  return unxorshift(z, 30);
}

uint64_t RandomPartOf(const std::string& lease_id) {
  EXPECT_TRUE(std::regex_match(lease_id, std::regex("[0-9]+-[0-9]+-[0-9a-f]{16}"))) << lease_id;
  return std::stoull(lease_id.substr(lease_id.rfind('-') + 1), nullptr, 16);
}

TEST_P(CoordinatorTest, LeaseIdsCannotBePredictedFromEarlierOnes) {
  ASSERT_EQ(UnmixForTest(Mix64(0x0123456789abcdefULL)), 0x0123456789abcdefULL);
  Create();
  std::vector<uint64_t> random_parts;
  std::set<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    const Acquisition a = Acquire(absl::StrCat("w", i));
    ASSERT_TRUE(a.lease.has_value());
    EXPECT_TRUE(absl::StartsWith(a.lease->lease_id, absl::StrCat(a.trial->id, "-1-")));
    random_parts.push_back(RandomPartOf(a.lease->lease_id));
    ids.insert(a.lease->lease_id);
  }
  EXPECT_EQ(ids.size(), 6u);
  for (size_t i = 1; i < random_parts.size(); ++i) {
    const uint64_t predicted = Mix64(UnmixForTest(random_parts[i - 1]) + 0x9e3779b97f4a7c15ULL);
    EXPECT_NE(random_parts[i], predicted) << "lease id " << i << " follows from the one before";
  }
  // A second coordinator on the same clock and the same trials draws other ids.
  auto fixture = GetParam().make();
  Coordinator other(fixture->Open(), &clock_, options_);
  ASSERT_TRUE(other.CreateSweep(kSpec).ok());
  absl::StatusOr<Acquisition> first =
      other.AcquireTrial(WorkerInfo{.worker_id = "w0", .host = "h"});
  ASSERT_TRUE(first.ok() && first->lease.has_value());
  EXPECT_EQ(ids.count(first->lease->lease_id), 0u);
}

// --- Schedules ----------------------------------------------------------------

// Eight trials of one group; ASHA with rungs at 10 and 20 updates (eta 2).
constexpr char kAshaSpec[] = R"(
name: asha
training: {updates: 40, checkpoint_every: 10}
grid:
  learning_rate: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128]
schedule: {rule: asha, min_updates: 10, eta: 2}
)";

Checkpoint ValidationAt(int64_t step, double validation_error) {
  return Checkpoint{.step = step,
                    .examples_seen = step * 10,
                    .test_error = validation_error,
                    .validation_error = validation_error};
}

TEST_P(CoordinatorTest, AshaPrunesAtARungAndTheWorkerLearnsItInTheAnswer) {
  const SweepId id = Create(kAshaSpec);
  std::vector<Acquisition> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(Acquire(absl::StrCat("w", i)));
  auto report = [&](int i, std::vector<Checkpoint> checkpoints) {
    return coordinator_->ReportCheckpoints(leases[i].trial->id, leases[i].lease->lease_id,
                                           checkpoints);
  };
  auto first = report(0, {ValidationAt(10, 0.5)});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->stopped.has_value());
  // Worse than the only other value at rung 10: pruned. The report's
  // checkpoint after the decision (step 20) is not kept.
  auto second = report(1, {ValidationAt(20, 0.1), ValidationAt(10, 0.6)});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->stopped, TrialState::kPruned);
  EXPECT_NE(second->stop_reason.find("asha rung 0"), std::string::npos) << second->stop_reason;

  const TrialRecord pruned = Trial(leases[1].trial->id);
  EXPECT_EQ(pruned.state, TrialState::kPruned);
  EXPECT_EQ(pruned.rung, 10);
  EXPECT_EQ(pruned.reason, second->stop_reason);
  EXPECT_EQ(pruned.steps_done, 10);
  auto kept = coordinator_->GetCheckpoints(pruned.id, std::nullopt, false);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].validation_error, 0.6);
  EXPECT_EQ(Sweep(id).counts.pruned, 1);
  EXPECT_EQ(Sweep(id).counts.leased, 2);
  // The lease is over: a late report or heartbeat is refused.
  EXPECT_EQ(report(1, {ValidationAt(30, 0.1)}).status().code(), absl::StatusCode::kAborted);
  // Better than both: continues.
  auto third = report(2, {ValidationAt(10, 0.4)});
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->stopped.has_value());
  EXPECT_FALSE(Trial(leases[2].trial->id).rung.has_value());
}

TEST_P(CoordinatorTest, TheStuckScheduleEndsATrialDiverged) {
  Create(R"(
name: stuck
training: {updates: 40, checkpoint_every: 10}
schedule: {rule: stuck, after_updates: 20, error: 0.8}
)");
  const Acquisition a = Acquire();
  auto early = coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id,
                                               std::vector{ValidationAt(10, 0.9)});
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->stopped.has_value());
  auto stuck = coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id,
                                               std::vector{ValidationAt(20, 0.85)});
  ASSERT_TRUE(stuck.ok());
  EXPECT_EQ(stuck->stopped, TrialState::kDiverged);
  const TrialRecord t = Trial(a.trial->id);
  EXPECT_EQ(t.state, TrialState::kDiverged);
  EXPECT_EQ(t.rung, 20);
  EXPECT_NE(t.reason.find("stuck"), std::string::npos);
}

// training.stuck_* without a schedule: the coordinator ends the trial (the
// trainer has no stuck rule of its own), also after a restart.
TEST_P(CoordinatorTest, TheTrialsStuckRuleEndsItDivergedWithoutASchedule) {
  Create(R"(
name: stuck-trial
training: {updates: 40, checkpoint_every: 10, stuck_after_updates: 20, stuck_error: 0.8}
grid:
  depth: [1, 2]
)");
  const Acquisition a = Acquire("w1");
  const Acquisition b = Acquire("w2");
  auto early = coordinator_->ReportCheckpoints(a.trial->id, a.lease->lease_id,
                                               std::vector{ValidationAt(10, 0.9)});
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_FALSE(early->stopped.has_value());
  Restart();
  auto stuck = coordinator_->ReportCheckpoints(
      a.trial->id, a.lease->lease_id, std::vector{ValidationAt(30, 0.1), ValidationAt(20, 0.85)});
  ASSERT_TRUE(stuck.ok()) << stuck.status();
  EXPECT_EQ(stuck->stopped, TrialState::kDiverged);
  const TrialRecord t = Trial(a.trial->id);
  EXPECT_EQ(t.state, TrialState::kDiverged);
  EXPECT_EQ(t.rung, 20);
  EXPECT_EQ(t.steps_done, 20);  // the checkpoint after the decision is not kept
  EXPECT_EQ(t.reason,
            "stuck: validation_error 0.8500 >= 0.8000 at update 20 (training.stuck_after_updates)");
  // Below the threshold: continues.
  auto fine = coordinator_->ReportCheckpoints(b.trial->id, b.lease->lease_id,
                                              std::vector{ValidationAt(20, 0.5)});
  ASSERT_TRUE(fine.ok());
  EXPECT_FALSE(fine->stopped.has_value());
}

// Reports of eight trials in an order drawn from a seed, with the coordinator
// (and the store) restarted after `restart_after` reports: mid-rung, since
// some trials have reached a rung and others not. The decisions must be those
// of a Scheduler fed the same reports in the same order without any restart:
// nothing decided twice, nothing lost.
TEST_P(CoordinatorTest, ScheduleDecisionsAreRebuiltFromTheStoreAfterARestart) {
  for (uint64_t seed : {3, 4}) {
    for (int restart_after : {5, 11}) {
      SCOPED_TRACE(absl::StrCat("seed ", seed, ", restart after ", restart_after));
      const SweepId id = Create(kAshaSpec);
      auto parsed = ParseSweepSpec(kAshaSpec);
      ASSERT_TRUE(parsed.ok());
      Scheduler oracle(parsed->schedule);
      std::map<TrialId, Acquisition> leases;
      for (int i = 0; i < 8; ++i) {
        Acquisition a = Acquire(absl::StrCat("w", i));
        ASSERT_TRUE(a.trial.has_value());
        leases[a.trial->id] = a;
      }
      std::map<TrialId, int64_t> next_step;
      std::map<TrialId, std::optional<StopDecision>> expected;
      std::vector<TrialId> running;
      for (const auto& [trial, a] : leases) running.push_back(trial);
      SplitMix64 order(seed);
      int reports = 0;
      while (!running.empty()) {
        if (reports++ == restart_after) Restart();
        const size_t pick = order.NextBelow(running.size());
        const TrialId trial = running[pick];
        const int64_t step = next_step[trial] += 10;
        const double error = 0.05 * static_cast<double>(trial % 7) + 0.01 * order.NextUnit();
        const std::vector<Checkpoint> one = {ValidationAt(step, error)};
        auto answer = coordinator_->ReportCheckpoints(trial, leases[trial].lease->lease_id, one);
        ASSERT_TRUE(answer.ok()) << answer.status();
        const std::optional<StopDecision> want =
            oracle.Report(trial, leases[trial].trial->spec, one);
        ASSERT_EQ(answer->stopped.has_value(), want.has_value()) << "trial " << trial;
        if (want.has_value()) {
          expected[trial] = want;
          EXPECT_EQ(answer->stop_reason, want->reason);
        }
        if (want.has_value() || step == 40) running.erase(running.begin() + pick);
      }
      int64_t pruned = 0;
      for (const auto& [trial, a] : leases) {
        const TrialRecord t = Trial(trial);
        if (expected.contains(trial)) {
          ++pruned;
          EXPECT_EQ(t.state, TrialState::kPruned) << "trial " << trial;
          EXPECT_EQ(t.rung, expected[trial]->rung);
          EXPECT_EQ(t.reason, expected[trial]->reason);
        } else {
          EXPECT_EQ(t.state, TrialState::kLeased) << "trial " << trial;
          EXPECT_EQ(t.steps_done, 40);
        }
      }
      EXPECT_GT(pruned, 0);
      EXPECT_EQ(Sweep(id).counts.pruned, pruned);
    }
  }
}

// Twelve learning rates under ASHA, spec seed 7.
constexpr char kSeededAshaSpec[] = R"(
name: seeded
seed: 7
training: {updates: 40, checkpoint_every: 10}
grid:
  learning_rate: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03]
schedule: {rule: asha, min_updates: 10, eta: 3}
)";

// A scheduled sweep is leased in the seeded permutation of core/scheduler.h
// (LeaseOrder), which a restarted coordinator recomputes; a trial given back
// takes its place in that order again.
TEST_P(CoordinatorTest, AScheduledSweepIsLeasedInItsSeededOrderAlsoAfterARestart) {
  const SweepId id = Create(kSeededAshaSpec);
  auto parsed = ParseSweepSpec(kSeededAshaSpec);
  ASSERT_TRUE(parsed.ok());
  const std::vector<int> want = LeaseOrder(parsed->schedule, 7, 12);
  EXPECT_THAT(want, ::testing::ElementsAre(11, 8, 2, 6, 4, 3, 7, 10, 9, 0, 5, 1));
  std::vector<int> got;
  std::vector<Acquisition> leases;
  for (int i = 0; i < 4; ++i) {
    leases.push_back(Acquire(absl::StrCat("w", i)));
    got.push_back(leases.back().trial->index);
  }
  EXPECT_EQ(got, std::vector<int>(want.begin(), want.begin() + 4));
  // Released: the trial is leased again before any later in the order.
  ASSERT_TRUE(coordinator_->ReleaseTrial(leases[1].trial->id, leases[1].lease->lease_id).ok());
  EXPECT_EQ(Acquire("w1").trial->index, want[1]);
  Restart();
  got.clear();
  for (int i = 4; i < 7; ++i) got.push_back(Acquire(absl::StrCat("w", i)).trial->index);
  EXPECT_EQ(got, std::vector<int>(want.begin() + 4, want.begin() + 7));
  // Expired after the restart's grace: all seven come back, in the order's
  // places, before the five never leased.
  clock_.Advance(absl::Seconds(61));
  ASSERT_EQ(*coordinator_->ExpireLeases(), 7);
  got.clear();
  for (int i = 0; i < 12; ++i) got.push_back(Acquire(absl::StrCat("w", i)).trial->index);
  EXPECT_EQ(got, want);
  EXPECT_FALSE(Acquire().trial.has_value());
  EXPECT_EQ(Sweep(id).counts.leased, 12);
}

// Without a rule that compares trials (none, stuck) the order is the index:
// seed_index outermost, so a half-done sweep covers every configuration once.
TEST_P(CoordinatorTest, UnscheduledAndStuckSweepsAreLeasedInIndexOrderAlsoAfterARestart) {
  for (const std::string schedule : {"", "schedule: {rule: stuck, after_updates: 20}\n"}) {
    SCOPED_TRACE(schedule);
    const std::string spec = absl::StrCat(R"(
name: in-order
seed: 7
training: {updates: 40, checkpoint_every: 10}
grid:
  learning_rate: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008]
)",
                                          schedule);
    const SweepId id = Create(spec.c_str());
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(Acquire(absl::StrCat("w", i)).trial->index);
    Restart();
    for (int i = 3; i < 8; ++i) got.push_back(Acquire(absl::StrCat("w", i)).trial->index);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_FALSE(Acquire().trial.has_value());
    ASSERT_TRUE(coordinator_->CancelSweep(id).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stores, CoordinatorTest,
    ::testing::Values(StoreKind{"Memory", [] { return std::make_unique<MemoryFixture>(); }},
                      StoreKind{"Sqlite", [] { return std::make_unique<SqliteFixture>(); }}),
    [](const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; });

}  // namespace
}  // namespace deepsweep
