// One suite, every SweepStore: the contract of core/sweep_store.h, checked
// against the in-memory store and the SQLite store alike.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/sweep_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_sweep_store.h"
#include "store/sqlite_sweep_store.h"

namespace deepsweep {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Opens a fresh store of one kind and removes what it left behind.
template <typename Store>
class Opener;

template <>
class Opener<MemorySweepStore> {
 public:
  std::unique_ptr<SweepStore> Open() { return std::make_unique<MemorySweepStore>(); }
};

// A file, so that reads go through the store's second connection.
template <>
class Opener<SqliteSweepStore> {
 public:
  Opener() {
    static int opened = 0;
    path_ = (std::filesystem::path(::testing::TempDir()) /
             absl::StrCat("conformance_", getpid(), "_", ++opened, ".db"))
                .string();
    Remove();
  }
  ~Opener() { Remove(); }
  std::unique_ptr<SweepStore> Open() {
    auto store = SqliteSweepStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

template <typename Store>
class SweepStoreTest : public ::testing::Test {
 public:
  void SetUp() override { store_ = opener_.Open(); }
  void TearDown() override { store_.reset(); }

  static TrialSpec Spec(int depth, const std::string& activation, double learning_rate) {
    TrialSpec t;
    t.dataset = {.name = "mnist",
                 .path = "/data/mnist",
                 .train_examples = 60000,
                 .validation_examples = 5000,
                 .test_examples = 10000,
                 .preprocess = "unit"};
    t.activation = activation;
    t.init = "glorot_normal";
    t.init_gain = 1.5;
    t.depth = depth;
    t.width = 100 * depth;
    t.loss = "quadratic";
    t.learning_rate = learning_rate;
    t.momentum = 0.9;
    t.lr_decay = 0.001;
    t.batch_size = 20;
    t.updates = 500;
    t.checkpoint_every = 100;
    t.probe_examples = 64;
    t.histogram_bins = 10 + depth;
    t.jacobian_examples = depth % 3;
    t.stuck_after_updates = 50 * depth;
    t.stuck_error = 0.75;
    t.snapshot_every = 7 * depth;
    t.snapshot_seconds = 0.5 * depth;
    t.keep_weights = depth % 2 == 0 ? "final" : "none";
    t.seed = (uint64_t{1} << 62) + depth;
    t.data_seed = (uint64_t{1} << 61) + depth % 2;
    t.seed_index = depth % 2;
    return t;
  }

  // A sweep of four trials: depths 1..4, activations alternating.
  CreatedSweep CreateFour(int max_attempts = 3) {
    std::vector<TrialSpec> specs;
    for (int d = 1; d <= 4; ++d) {
      specs.push_back(Spec(d, d % 2 == 1 ? "tanh" : "softsign", 0.1 / d));
    }
    auto created = store_->CreateSweep({.name = "four",
                                        .spec_yaml = "name: four\n",
                                        .max_attempts = max_attempts,
                                        .created_at = kT0},
                                       specs);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : CreatedSweep{};
  }

  // Leases trial `id` (PENDING at attempt `attempt - 1`) to `worker`.
  void Lease(TrialId id, int attempt, const std::string& worker, absl::Time deadline) {
    StoreMutation m{.now = kT0};
    m.trials.push_back({.id = id,
                        .expect_state = TrialState::kPending,
                        .expect_attempt = attempt - 1,
                        .state = TrialState::kLeased,
                        .attempt = attempt,
                        .attempt_limit = 3,
                        .worker_id = worker,
                        .reset_results = true});
    m.lease_grants.push_back(
        {id, absl::StrCat("lease-", id, "-", attempt), attempt, deadline, worker});
    m.workers.push_back({.info = {.worker_id = worker,
                                  .host = "host-" + worker,
                                  .pid = 42,
                                  .version = "v1",
                                  .cores = 2,
                                  .compute_path = "avx2 openblas=Zen"},
                         .register_info = true,
                         .current = WorkerUpdate::Current::kSet,
                         .current_trial = id});
    ASSERT_TRUE(store_->Apply(std::move(m)).ok());
  }

  absl::Status Report(TrialId id, int attempt, const std::vector<Checkpoint>& checkpoints) {
    StoreMutation m{.now = kT0};
    m.checkpoints.push_back({id, attempt, checkpoints});
    return store_->Apply(std::move(m));
  }

  static Checkpoint MakeCheckpoint(int64_t step, double test_error, int layers = 2) {
    Checkpoint c{.step = step,
                 .examples_seen = step * 20,
                 .train_nll = 0.5,
                 .test_error = test_error,
                 .test_nll = 1.5,
                 .validation_error = test_error + 0.01,
                 .validation_nll = 1.6,
                 .wall_seconds = 3.25};
    for (int layer = 1; layer <= layers; ++layer) {
      for (LayerQuantity q : {LayerQuantity::kWeightGrad, LayerQuantity::kActivation}) {
        c.layer_stats.push_back({.layer = layer,
                                 .quantity = q,
                                 .mean = 0.25 * layer,
                                 .std = 0.5,
                                 .p02 = -1,
                                 .p50 = 0,
                                 .p98 = 1,
                                 .saturated_fraction = 0.125,
                                 .jacobian_sv_mean = 0.75,
                                 .hist_lo = -1,
                                 .hist_hi = 1,
                                 .histogram = {0.5f, 0.25f, 0.25f}});
      }
    }
    return c;
  }

  std::vector<TrialRecord> List(TrialQuery query) {
    auto trials = store_->ListTrials(query);
    EXPECT_TRUE(trials.ok()) << trials.status();
    return trials.ok() ? *trials : std::vector<TrialRecord>{};
  }

  std::vector<int> Depths(const std::vector<TrialRecord>& trials) {
    std::vector<int> depths;
    for (const TrialRecord& t : trials) depths.push_back(t.spec.depth);
    return depths;
  }

  Opener<Store> opener_;
  std::unique_ptr<SweepStore> store_;
};

using StoreTypes = ::testing::Types<MemorySweepStore, SqliteSweepStore>;
class StoreNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemorySweepStore> ? "Memory" : "Sqlite";
  }
};
TYPED_TEST_SUITE(SweepStoreTest, StoreTypes, StoreNames);

TYPED_TEST(SweepStoreTest, CreateSweepStoresEveryFieldOfEveryTrial) {
  const CreatedSweep created = this->CreateFour(5);
  ASSERT_EQ(created.trial_ids.size(), 4u);
  auto sweep = this->store_->GetSweep(created.id);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->name, "four");
  EXPECT_EQ(sweep->spec_yaml, "name: four\n");
  EXPECT_EQ(sweep->state, SweepState::kActive);
  EXPECT_EQ(sweep->max_attempts, 5);
  EXPECT_EQ(sweep->created_at, kT0);
  EXPECT_FALSE(sweep->finished_at.has_value());
  EXPECT_EQ(sweep->counts.pending, 4);
  EXPECT_EQ(sweep->counts.total(), 4);

  auto trial = this->store_->GetTrial(created.trial_ids[2]);
  ASSERT_TRUE(trial.ok()) << trial.status();
  const TrialSpec want = TestFixture::Spec(3, "tanh", 0.1 / 3);
  const TrialSpec& got = trial->spec;
  EXPECT_EQ(trial->sweep_id, created.id);
  EXPECT_EQ(trial->index, 2);
  EXPECT_EQ(trial->state, TrialState::kPending);
  EXPECT_EQ(trial->attempt, 0);
  EXPECT_EQ(trial->attempt_limit, 5);
  EXPECT_EQ(trial->steps_done, 0);
  EXPECT_FALSE(trial->final_test_error.has_value());
  EXPECT_EQ(trial->updated_at, kT0);
  EXPECT_EQ(got.dataset.name, want.dataset.name);
  EXPECT_EQ(got.dataset.path, want.dataset.path);
  EXPECT_EQ(got.dataset.train_examples, want.dataset.train_examples);
  EXPECT_EQ(got.dataset.validation_examples, want.dataset.validation_examples);
  EXPECT_EQ(got.dataset.test_examples, want.dataset.test_examples);
  EXPECT_EQ(got.dataset.preprocess, want.dataset.preprocess);
  EXPECT_EQ(got.activation, want.activation);
  EXPECT_EQ(got.init, want.init);
  EXPECT_EQ(got.init_gain, want.init_gain);
  EXPECT_EQ(got.depth, want.depth);
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.loss, want.loss);
  EXPECT_EQ(got.learning_rate, want.learning_rate);
  EXPECT_EQ(got.momentum, want.momentum);
  EXPECT_EQ(got.lr_decay, want.lr_decay);
  EXPECT_EQ(got.batch_size, want.batch_size);
  EXPECT_EQ(got.updates, want.updates);
  EXPECT_EQ(got.checkpoint_every, want.checkpoint_every);
  EXPECT_EQ(got.probe_examples, want.probe_examples);
  EXPECT_EQ(got.histogram_bins, want.histogram_bins);
  EXPECT_EQ(got.jacobian_examples, want.jacobian_examples);
  EXPECT_EQ(got.stuck_after_updates, want.stuck_after_updates);
  EXPECT_EQ(got.stuck_error, want.stuck_error);
  EXPECT_EQ(got.snapshot_every, want.snapshot_every);
  EXPECT_EQ(got.snapshot_seconds, want.snapshot_seconds);
  EXPECT_EQ(got.keep_weights, want.keep_weights);
  EXPECT_EQ(got.seed, want.seed);
  EXPECT_EQ(got.data_seed, want.data_seed);
  EXPECT_EQ(got.seed_index, want.seed_index);
}

TYPED_TEST(SweepStoreTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(this->store_->GetSweep(77).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->store_->GetTrial(77).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->store_->GetCheckpoints(77, 1, true).status().code(), absl::StatusCode::kNotFound);
  StoreMutation m{.now = kT0};
  m.sweeps.push_back({77, SweepState::kFinished, kT0});
  EXPECT_EQ(this->store_->Apply(std::move(m)).code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(SweepStoreTest, SeedsBeyond63BitsAreRefused) {
  TrialSpec t;
  t.seed = ~uint64_t{0};
  EXPECT_EQ(this->store_->CreateSweep({.name = "x", .created_at = kT0}, {t}).status().code(),
            absl::StatusCode::kInvalidArgument);
  t.seed = 1;
  t.data_seed = ~uint64_t{0};
  EXPECT_EQ(this->store_->CreateSweep({.name = "x", .created_at = kT0}, {t}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(SweepStoreTest, ListSweepsInIdOrderWithCounts) {
  const CreatedSweep a = this->CreateFour();
  const CreatedSweep b = this->CreateFour();
  this->Lease(b.trial_ids[0], 1, "w", kT0 + absl::Seconds(30));
  auto sweeps = this->store_->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  ASSERT_EQ(sweeps->size(), 2u);
  EXPECT_EQ((*sweeps)[0].id, a.id);
  EXPECT_EQ((*sweeps)[1].id, b.id);
  EXPECT_EQ((*sweeps)[0].counts.pending, 4);
  EXPECT_EQ((*sweeps)[1].counts.pending, 3);
  EXPECT_EQ((*sweeps)[1].counts.leased, 1);
}

TYPED_TEST(SweepStoreTest, AMutationIsAllOrNothing) {
  const CreatedSweep s = this->CreateFour();
  StoreMutation m{.now = kT0 + absl::Seconds(5)};
  m.sweeps.push_back({s.id, SweepState::kCancelled, kT0});
  m.trials.push_back({.id = s.trial_ids[0],
                      .expect_state = TrialState::kPending,
                      .state = TrialState::kCancelled,
                      .attempt_limit = 3});
  // Expects a LEASED trial, which it is not: the whole mutation is refused.
  m.trials.push_back({.id = s.trial_ids[1],
                      .expect_state = TrialState::kLeased,
                      .state = TrialState::kCancelled,
                      .attempt_limit = 3});
  EXPECT_EQ(this->store_->Apply(std::move(m)).code(), absl::StatusCode::kAborted);
  auto sweep = this->store_->GetSweep(s.id);
  EXPECT_EQ(sweep->state, SweepState::kActive);
  EXPECT_EQ(sweep->counts.pending, 4);
  EXPECT_EQ(this->store_->GetTrial(s.trial_ids[0])->updated_at, kT0);
}

// A new attempt records the leasing worker's compute path; updates within
// the attempt (a release back to pending, completion) keep it.
TYPED_TEST(SweepStoreTest, ANewAttemptRecordsItsComputePathAndLaterUpdatesKeepIt) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[0];
  EXPECT_EQ(this->store_->GetTrial(id)->compute_path, "");
  auto change = [&](TrialState from, int from_attempt, TrialState to, int attempt,
                    std::string path) {
    StoreMutation m{.now = kT0};
    m.trials.push_back({.id = id,
                        .expect_state = from,
                        .expect_attempt = from_attempt,
                        .state = to,
                        .attempt = attempt,
                        .attempt_limit = 3,
                        .worker_id = "w",
                        .compute_path = std::move(path)});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  };
  change(TrialState::kPending, 0, TrialState::kLeased, 1, "avx512 openblas=Zen");
  EXPECT_EQ(this->store_->GetTrial(id)->compute_path, "avx512 openblas=Zen");
  change(TrialState::kLeased, 1, TrialState::kPending, 1, "");
  EXPECT_EQ(this->store_->GetTrial(id)->compute_path, "avx512 openblas=Zen");
  change(TrialState::kPending, 1, TrialState::kLeased, 2, "generic openblas=Haswell");
  EXPECT_EQ(this->store_->GetTrial(id)->compute_path, "generic openblas=Haswell");
}

TYPED_TEST(SweepStoreTest, TrialUpdatesAndSweepUpdatesAreRecorded) {
  const CreatedSweep s = this->CreateFour();
  StoreMutation m{.now = kT0 + absl::Milliseconds(1500)};
  m.trials.push_back({.id = s.trial_ids[3],
                      .expect_state = TrialState::kPending,
                      .state = TrialState::kFailed,
                      .attempt = 0,
                      .attempt_limit = 7,
                      .worker_id = "w9",
                      .reason = "bad luck"});
  m.sweeps.push_back({s.id, SweepState::kFinished, kT0 + absl::Seconds(2)});
  ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  const TrialRecord t = *this->store_->GetTrial(s.trial_ids[3]);
  EXPECT_EQ(t.state, TrialState::kFailed);
  EXPECT_EQ(t.attempt_limit, 7);
  EXPECT_EQ(t.worker_id, "w9");
  EXPECT_EQ(t.reason, "bad luck");
  EXPECT_EQ(t.updated_at, kT0 + absl::Milliseconds(1500));
  const SweepRecord sweep = *this->store_->GetSweep(s.id);
  EXPECT_EQ(sweep.state, SweepState::kFinished);
  EXPECT_EQ(sweep.finished_at, kT0 + absl::Seconds(2));
  EXPECT_EQ(sweep.counts.failed, 1);

  StoreMutation reopen{.now = kT0};
  reopen.sweeps.push_back({s.id, SweepState::kActive, std::nullopt});
  ASSERT_TRUE(this->store_->Apply(std::move(reopen)).ok());
  EXPECT_FALSE(this->store_->GetSweep(s.id)->finished_at.has_value());
}

TYPED_TEST(SweepStoreTest, TimesKeepMicrosecondsOnly) {
  const CreatedSweep s = this->CreateFour();
  const absl::Time deadline = kT0 + absl::Nanoseconds(123'456'789);
  this->Lease(s.trial_ids[0], 1, "w", deadline);
  auto work = this->store_->LoadUnfinished();
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->trials[0].lease->deadline, kT0 + absl::Microseconds(123'456));
}

TYPED_TEST(SweepStoreTest, LoadUnfinishedResumesLeasesWithTheirDeadlines) {
  const CreatedSweep done = this->CreateFour();
  StoreMutation finish{.now = kT0};
  for (TrialId id : done.trial_ids) {
    finish.trials.push_back({.id = id,
                             .expect_state = TrialState::kPending,
                             .state = TrialState::kCancelled,
                             .attempt_limit = 3});
  }
  finish.sweeps.push_back({done.id, SweepState::kCancelled, kT0});
  ASSERT_TRUE(this->store_->Apply(std::move(finish)).ok());

  const CreatedSweep s = this->CreateFour();
  this->Lease(s.trial_ids[1], 1, "w1", kT0 + absl::Seconds(30));
  {  // renewed, then leased again after an expiry
    StoreMutation m{.now = kT0};
    m.lease_renewals.push_back({s.trial_ids[1], 1, kT0 + absl::Seconds(45)});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  }
  this->Lease(s.trial_ids[2], 1, "w2", kT0 + absl::Seconds(30));
  {
    StoreMutation m{.now = kT0 + absl::Seconds(31)};
    m.trials.push_back({.id = s.trial_ids[2],
                        .expect_state = TrialState::kLeased,
                        .expect_attempt = 1,
                        .state = TrialState::kPending,
                        .attempt = 1,
                        .attempt_limit = 3,
                        .worker_id = "w2"});
    m.lease_ends.push_back({s.trial_ids[2], 1, "expired"});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  }
  this->Lease(s.trial_ids[2], 2, "w3", kT0 + absl::Seconds(60));

  auto work = this->store_->LoadUnfinished();
  ASSERT_TRUE(work.ok()) << work.status();
  ASSERT_EQ(work->sweeps.size(), 1u);
  EXPECT_EQ(work->sweeps[0].id, s.id);
  ASSERT_EQ(work->trials.size(), 4u);
  const UnfinishedTrial& leased = work->trials[1];
  EXPECT_EQ(leased.id, s.trial_ids[1]);
  EXPECT_EQ(leased.state, TrialState::kLeased);
  EXPECT_EQ(leased.worker_id, "w1");
  ASSERT_TRUE(leased.lease.has_value());
  EXPECT_EQ(leased.lease->lease_id, absl::StrCat("lease-", s.trial_ids[1], "-1"));
  EXPECT_EQ(leased.lease->deadline, kT0 + absl::Seconds(45));
  const UnfinishedTrial& again = work->trials[2];
  EXPECT_EQ(again.attempt, 2);
  EXPECT_EQ(again.lease->attempt, 2);
  EXPECT_EQ(again.lease->deadline, kT0 + absl::Seconds(60));
  EXPECT_EQ(work->trials[0].state, TrialState::kPending);
  EXPECT_FALSE(work->trials[0].lease.has_value());
  EXPECT_EQ(work->trials[3].index, 3);
  EXPECT_EQ(work->trials[3].attempt_limit, 3);
  // Each carries its spec, whole, so a coordinator can hand it out unread.
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(work->trials[i].spec == SweepStoreTest<TypeParam>::Spec(
                                            i + 1, i % 2 == 0 ? "tanh" : "softsign", 0.1 / (i + 1)))
        << "trial " << i;
  }
}

TYPED_TEST(SweepStoreTest, LeaseChangesNeedAnExistingLease) {
  const CreatedSweep s = this->CreateFour();
  StoreMutation renew{.now = kT0};
  renew.lease_renewals.push_back({s.trial_ids[0], 1, kT0});
  EXPECT_EQ(this->store_->Apply(std::move(renew)).code(), absl::StatusCode::kNotFound);
  StoreMutation end{.now = kT0};
  end.lease_ends.push_back({s.trial_ids[0], 1, "released"});
  EXPECT_EQ(this->store_->Apply(std::move(end)).code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(SweepStoreTest, CheckpointsAreIdempotentAndSetTheFinalMetrics) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[0];
  this->Lease(id, 1, "w", kT0 + absl::Seconds(30));
  ASSERT_TRUE(
      this->Report(id, 1, {this->MakeCheckpoint(200, 0.4), this->MakeCheckpoint(100, 0.6)}).ok());
  // A repeat with other values, and a step reported twice in one batch: the
  // first write of a step wins.
  ASSERT_TRUE(this->Report(id, 1,
                           {this->MakeCheckpoint(200, 0.9), this->MakeCheckpoint(300, 0.3),
                            this->MakeCheckpoint(300, 0.8)})
                  .ok());
  auto stored = this->store_->GetCheckpoints(id, 1, /*with_layer_stats=*/true);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_EQ((*stored)[0].step, 100);
  EXPECT_EQ((*stored)[1].test_error, 0.4);
  EXPECT_EQ((*stored)[2].test_error, 0.3);
  const Checkpoint& c = (*stored)[1];
  EXPECT_EQ(c.examples_seen, 4000);
  EXPECT_EQ(c.train_nll, 0.5);
  EXPECT_EQ(c.test_nll, 1.5);
  EXPECT_EQ(c.validation_error, 0.4 + 0.01);
  EXPECT_EQ(c.validation_nll, 1.6);
  EXPECT_EQ(c.wall_seconds, 3.25);
  ASSERT_EQ(c.layer_stats.size(), 4u);
  // Ordered by (layer, quantity).
  EXPECT_EQ(c.layer_stats[0].layer, 1);
  EXPECT_EQ(c.layer_stats[0].quantity, LayerQuantity::kActivation);
  EXPECT_EQ(c.layer_stats[1].quantity, LayerQuantity::kWeightGrad);
  EXPECT_EQ(c.layer_stats[3].layer, 2);
  const LayerStat& l = c.layer_stats[3];
  EXPECT_EQ(l.mean, 0.5);
  EXPECT_EQ(l.std, 0.5);
  EXPECT_EQ(l.p02, -1);
  EXPECT_EQ(l.p50, 0);
  EXPECT_EQ(l.p98, 1);
  EXPECT_EQ(l.saturated_fraction, 0.125);
  EXPECT_EQ(l.jacobian_sv_mean, 0.75);
  EXPECT_EQ(l.hist_lo, -1);
  EXPECT_EQ(l.hist_hi, 1);
  EXPECT_EQ(l.histogram, (std::vector<float>{0.5f, 0.25f, 0.25f}));

  const TrialRecord t = *this->store_->GetTrial(id);
  EXPECT_EQ(t.steps_done, 300);
  EXPECT_EQ(t.final_test_error, 0.3);
  EXPECT_EQ(t.final_test_nll, 1.5);
  EXPECT_EQ(t.final_validation_error, 0.3 + 0.01);

  auto bare = this->store_->GetCheckpoints(id, 1, /*with_layer_stats=*/false);
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE((*bare)[0].layer_stats.empty());
  EXPECT_TRUE(this->store_->GetCheckpoints(id, 2, true)->empty());
}

TYPED_TEST(SweepStoreTest, ARepeatedLayerStatFailsTheMutation) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[0];
  this->Lease(id, 1, "w", kT0 + absl::Seconds(30));
  Checkpoint twice = this->MakeCheckpoint(100, 0.5);
  twice.layer_stats.push_back(twice.layer_stats[1]);
  EXPECT_EQ(this->Report(id, 1, {this->MakeCheckpoint(50, 0.6), twice}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(this->store_->GetCheckpoints(id, 1, /*with_layer_stats=*/true)->empty());
  EXPECT_EQ(this->store_->GetTrial(id)->steps_done, 0);
}

TYPED_TEST(SweepStoreTest, NanMetricsReadBackAsNan) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[0];
  this->Lease(id, 1, "w", kT0);
  Checkpoint c = this->MakeCheckpoint(10, std::numeric_limits<double>::quiet_NaN());
  c.train_nll = std::numeric_limits<double>::infinity();
  c.layer_stats[0].mean = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(this->Report(id, 1, {c}).ok());
  const Checkpoint stored = (*this->store_->GetCheckpoints(id, 1, true))[0];
  EXPECT_TRUE(std::isnan(stored.test_error));
  EXPECT_EQ(stored.train_nll, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(stored.layer_stats[1].mean));  // layer 1 weight_grad, sorted second
  const TrialRecord t = *this->store_->GetTrial(id);
  EXPECT_EQ(t.steps_done, 10);
  EXPECT_FALSE(t.final_test_error.has_value());
  EXPECT_EQ(t.final_test_nll, 1.5);
}

TYPED_TEST(SweepStoreTest, ANewAttemptClearsResultsButKeepsOldCheckpoints) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[0];
  this->Lease(id, 1, "w", kT0);
  ASSERT_TRUE(this->Report(id, 1, {this->MakeCheckpoint(100, 0.5)}).ok());
  StoreMutation requeue{.now = kT0};
  requeue.trials.push_back({.id = id,
                            .expect_state = TrialState::kLeased,
                            .expect_attempt = 1,
                            .state = TrialState::kPending,
                            .attempt = 1,
                            .attempt_limit = 3});
  requeue.lease_ends.push_back({id, 1, "released"});
  ASSERT_TRUE(this->store_->Apply(std::move(requeue)).ok());
  EXPECT_EQ(this->store_->GetTrial(id)->final_test_error, 0.5);
  this->Lease(id, 2, "w", kT0);
  const TrialRecord t = *this->store_->GetTrial(id);
  EXPECT_EQ(t.steps_done, 0);
  EXPECT_FALSE(t.final_test_error.has_value());
  EXPECT_EQ(this->store_->GetCheckpoints(id, 1, false)->size(), 1u);
  ASSERT_TRUE(this->Report(id, 2, {this->MakeCheckpoint(100, 0.2)}).ok());
  EXPECT_EQ(this->store_->GetCheckpoints(id, 1, false)->front().test_error, 0.5);
  EXPECT_EQ(this->store_->GetTrial(id)->final_test_error, 0.2);
}

// Attempt 1 stores checkpoints to 700 and snapshots at 300 and 600, then its
// lease expires; attempt 2 resumes from 600 (redoing 700 - 600 = 100 stored
// updates), snapshots at 900 and is released past its last checkpoint (a
// SIGTERM snapshot at 1050, after the checkpoint at 1000); attempt 3 resumes
// from 1050 (-50: nothing redone) and is still running.
TYPED_TEST(SweepStoreTest, AttemptsShowWhereEachStartedTheUpdatesRedoneAndTheSnapshots) {
  const CreatedSweep s = this->CreateFour();
  const TrialId id = s.trial_ids[1];
  EXPECT_TRUE(this->store_->ListAttempts(id)->empty());
  EXPECT_EQ(this->store_->ListAttempts(999).status().code(), absl::StatusCode::kNotFound);
  auto end = [&](int attempt, const std::string& outcome, absl::Time at) {
    StoreMutation m{.now = at};
    m.trials.push_back({.id = id,
                        .expect_state = TrialState::kLeased,
                        .expect_attempt = attempt,
                        .state = TrialState::kPending,
                        .attempt = attempt,
                        .attempt_limit = 3});
    m.lease_ends.push_back({id, attempt, outcome});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  };
  auto snapshot = [&](int attempt, int64_t step) {
    StoreMutation m{.now = kT0};
    m.lease_snapshots.push_back({.trial_id = id, .attempt = attempt, .step = step});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  };
  auto resume = [&](int attempt, int64_t step) {
    StoreMutation m{.now = kT0};
    m.lease_resumes.push_back({.trial_id = id, .attempt = attempt, .step = step});
    ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  };
  auto report = [&](int attempt, int64_t from, int64_t to) {
    std::vector<Checkpoint> series;
    for (int64_t step = from; step <= to; step += 100) {
      series.push_back(this->MakeCheckpoint(step, 0.5, 0));
    }
    ASSERT_TRUE(this->Report(id, attempt, series).ok());
  };

  this->Lease(id, 1, "a", kT0 + absl::Seconds(30));
  report(1, 0, 700);
  snapshot(1, 300);
  snapshot(1, 600);
  end(1, "expired", kT0 + absl::Seconds(40));
  this->Lease(id, 2, "b", kT0 + absl::Seconds(90));
  resume(2, 600);
  report(2, 0, 1000);  // the carried series to 600, then its own
  snapshot(2, 900);
  snapshot(2, 1050);
  end(2, "released", kT0 + absl::Seconds(50));
  this->Lease(id, 3, "c", kT0 + absl::Seconds(120));
  resume(3, 1050);

  auto attempts = this->store_->ListAttempts(id);
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 3u);
  const TrialAttempt& first = (*attempts)[0];
  EXPECT_EQ(first.trial_id, id);
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.worker_id, "a");
  EXPECT_EQ(first.outcome, "expired");
  EXPECT_EQ(first.acquired_at, kT0);
  EXPECT_EQ(first.ended_at, kT0 + absl::Seconds(40));
  EXPECT_EQ(first.started_at_step, 0);
  EXPECT_EQ(first.reached_step, 700);
  EXPECT_EQ(first.updates_redone, std::nullopt);
  EXPECT_EQ(first.snapshots, 2);
  EXPECT_EQ(first.snapshot_step, 600);
  const TrialAttempt& second = (*attempts)[1];
  EXPECT_EQ(second.outcome, "released");
  EXPECT_EQ(second.started_at_step, 600);
  EXPECT_EQ(second.reached_step, 1000);
  EXPECT_EQ(second.updates_redone, 100);
  EXPECT_EQ(second.snapshots, 2);
  EXPECT_EQ(second.snapshot_step, 1050);
  const TrialAttempt& third = (*attempts)[2];
  EXPECT_EQ(third.worker_id, "c");
  EXPECT_EQ(third.outcome, "");
  EXPECT_EQ(third.ended_at, std::nullopt);
  EXPECT_EQ(third.started_at_step, 1050);
  EXPECT_EQ(third.reached_step, std::nullopt);
  EXPECT_EQ(third.updates_redone, -50);
  EXPECT_EQ(third.snapshots, 0);
  EXPECT_EQ(third.snapshot_step, std::nullopt);

  const AttemptTotals totals = SumAttempts(*attempts);
  EXPECT_EQ(totals.attempts, 3);
  EXPECT_EQ(totals.interruptions, 2);
  EXPECT_EQ(totals.updates_redone, 100);  // the -50 counts as 0
  EXPECT_EQ(totals.snapshots, 4);
  EXPECT_EQ(totals.snapshot_step, 1050);

  StoreMutation stale{.now = kT0};
  stale.lease_snapshots.push_back({.trial_id = id, .attempt = 4, .step = 1});
  EXPECT_EQ(this->store_->Apply(std::move(stale)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*this->store_->ListAttempts(id))[2].snapshots, 0);
}

TYPED_TEST(SweepStoreTest, WorkersAreRegisteredHeardAndFreed) {
  const CreatedSweep s = this->CreateFour();
  this->Lease(s.trial_ids[0], 1, "b", kT0);
  this->Lease(s.trial_ids[1], 1, "a", kT0);
  this->Lease(s.trial_ids[2], 1, "b", kT0);  // b moved on to trial 2
  StoreMutation m{.now = kT0 + absl::Seconds(9)};
  // Freeing b from trial 0 leaves trial 2 in place; a is freed; a stranger is
  // not registered by being mentioned.
  m.workers.push_back({.info = {.worker_id = "b"},
                       .heard = false,
                       .current = WorkerUpdate::Current::kClear,
                       .current_trial = s.trial_ids[0]});
  m.workers.push_back({.info = {.worker_id = "a"},
                       .current = WorkerUpdate::Current::kClear,
                       .current_trial = s.trial_ids[1]});
  m.workers.push_back({.info = {.worker_id = "stranger"}});
  ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  auto workers = this->store_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 2u);
  const WorkerRecord& a = (*workers)[0];
  const WorkerRecord& b = (*workers)[1];
  EXPECT_EQ(a.info.worker_id, "a");
  EXPECT_EQ(a.info.host, "host-a");
  EXPECT_EQ(a.info.pid, 42);
  EXPECT_EQ(a.info.version, "v1");
  EXPECT_EQ(a.info.cores, 2);
  EXPECT_EQ(a.info.compute_path, "avx2 openblas=Zen");
  EXPECT_EQ(a.first_seen, kT0);
  EXPECT_EQ(a.last_seen, kT0 + absl::Seconds(9));
  EXPECT_FALSE(a.current_trial.has_value());
  EXPECT_EQ(b.last_seen, kT0);
  EXPECT_EQ(b.current_trial, s.trial_ids[2]);
}

TYPED_TEST(SweepStoreTest, ListTrialsFiltersOrdersAndPages) {
  const CreatedSweep s = this->CreateFour();
  const CreatedSweep other = this->CreateFour();
  this->Lease(s.trial_ids[1], 1, "w", kT0);
  ASSERT_TRUE(this->Report(s.trial_ids[1], 1, {this->MakeCheckpoint(10, 0.25)}).ok());
  using Op = TrialCondition::Op;

  EXPECT_EQ(this->List({}).size(), 8u);
  EXPECT_EQ(this->Depths(this->List({.sweep_id = s.id})), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(this->Depths(this->List(
                {.sweep_id = s.id, .conditions = {{"depth", Op::kGe, "3"}}, .descending = true})),
            (std::vector<int>{4, 3}));
  EXPECT_EQ(this->Depths(this->List({.sweep_id = s.id,
                                     .conditions = {{"activation", Op::kEq, "softsign"},
                                                    {"learning_rate", Op::kLt, "0.04"}}})),
            (std::vector<int>{4}));
  EXPECT_EQ(this->Depths(
                this->List({.sweep_id = other.id, .conditions = {{"state", Op::kNe, "pending"}}})),
            (std::vector<int>{}));
  EXPECT_EQ(this->Depths(this->List({.conditions = {{"state", Op::kEq, "leased"}}})),
            (std::vector<int>{2}));
  EXPECT_EQ(this->Depths(this->List(
                {.sweep_id = s.id,
                 .conditions = {{"data_seed", Op::kEq, absl::StrCat((uint64_t{1} << 61) + 1)}}})),
            (std::vector<int>{1, 3}));
  EXPECT_EQ(this->Depths(this->List({.conditions = {{"worker_id", Op::kEq, "w"}}})),
            (std::vector<int>{2}));
  // A trial without a final error matches no condition on it (SQL NULL).
  EXPECT_EQ(this->Depths(this->List({.conditions = {{"final_test_error", Op::kNe, "1"}}})),
            (std::vector<int>{2}));
  EXPECT_EQ(
      this->List({.conditions = {{"seed", Op::kEq, absl::StrCat((uint64_t{1} << 62) + 3)}}}).size(),
      2u);
  // Ordered by a column, ties by id; no value sorts first.
  std::vector<TrialRecord> by_error =
      this->List({.sweep_id = s.id, .order_by = "final_test_error", .descending = true});
  EXPECT_EQ(by_error[0].spec.depth, 2);
  EXPECT_EQ(this->Depths(by_error), (std::vector<int>{2, 1, 3, 4}));
  by_error = this->List({.sweep_id = s.id, .order_by = "final_test_error"});
  EXPECT_EQ(this->Depths(by_error), (std::vector<int>{1, 3, 4, 2}));
  EXPECT_EQ(this->Depths(
                this->List({.sweep_id = s.id, .order_by = "activation", .limit = 2, .offset = 1})),
            (std::vector<int>{4, 1}));
  EXPECT_EQ(this->Depths(this->List({.sweep_id = s.id, .offset = 3})), (std::vector<int>{4}));

  EXPECT_EQ(this->store_->ListTrials({.conditions = {{"colour", Op::kEq, "red"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->ListTrials({.conditions = {{"depth", Op::kEq, "deep"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      this->store_->ListTrials({.conditions = {{"state", Op::kEq, "running"}}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->ListTrials({.order_by = "colour"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->ListTrials({.limit = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(SweepStoreTest, ConcurrentWritersAreAllApplied) {
  const CreatedSweep s = this->CreateFour();
  for (int i = 0; i < 4; ++i) this->Lease(s.trial_ids[i], 1, "w", kT0);
  std::vector<std::thread> threads;
  std::vector<absl::Status> statuses(4 * 25);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int step = 0; step < 25; ++step) {
        // Step 13 of trial 3 names an attempt that has no lease: it alone fails.
        const int attempt = (t == 3 && step == 13) ? 9 : 1;
        StoreMutation m{.now = kT0};
        std::vector<Checkpoint> c = {this->MakeCheckpoint(step, 0.5)};
        m.checkpoints.push_back({s.trial_ids[t], attempt, c});
        m.lease_renewals.push_back({s.trial_ids[t], attempt, kT0 + absl::Seconds(step)});
        statuses[t * 25 + step] = this->store_->Apply(std::move(m));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 100; ++i) {
    if (i == 3 * 25 + 13) {
      EXPECT_EQ(statuses[i].code(), absl::StatusCode::kNotFound);
    } else {
      EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
    }
  }
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(this->store_->GetCheckpoints(s.trial_ids[t], 1, true)->size(), t == 3 ? 24u : 25u);
    EXPECT_TRUE(this->store_->GetCheckpoints(s.trial_ids[t], 9, true)->empty());
  }
  this->store_->Flush();
}

// Configurations A (3 seeds), B (2 seeds) and C (1 seed): A's first two
// trials succeed at T0 + 1 s and T0 + 3 s, B's first diverges at T0 + 2 s,
// A's third reports on attempt 1 and is leased again (attempt 2, nothing yet).
struct AggregateSweep {
  SweepId id = 0;
  std::vector<TrialId> a, b, c;
  TrialSpec spec_a, spec_b, spec_c;
};

template <typename Test>
AggregateSweep CreateAggregateSweep(Test& test) {
  AggregateSweep out;
  out.spec_a = Test::Spec(1, "tanh", 0.1);
  out.spec_b = Test::Spec(2, "tanh", 0.1);
  out.spec_c = Test::Spec(1, "sigmoid", 0.1);
  std::vector<TrialSpec> specs;
  for (const auto& [spec, seeds] :
       {std::pair{out.spec_a, 3}, std::pair{out.spec_b, 2}, std::pair{out.spec_c, 1}}) {
    for (int i = 0; i < seeds; ++i) {
      TrialSpec t = spec;
      t.seed = 100 + i;
      t.data_seed = 200 + i;
      t.seed_index = i;
      specs.push_back(t);
    }
  }
  auto created = test.store_->CreateSweep(
      {.name = "agg", .spec_yaml = "name: agg\n", .max_attempts = 3, .created_at = kT0}, specs);
  EXPECT_TRUE(created.ok()) << created.status();
  out.id = created->id;
  const std::vector<TrialId>& ids = created->trial_ids;
  out.a = {ids[0], ids[1], ids[2]};
  out.b = {ids[3], ids[4]};
  out.c = {ids[5]};
  auto finish = [&](TrialId id, TrialState state, absl::Time at) {
    StoreMutation m{.now = at};
    m.trials.push_back({.id = id,
                        .expect_state = TrialState::kLeased,
                        .expect_attempt = 1,
                        .state = state,
                        .attempt = 1,
                        .attempt_limit = 3,
                        .worker_id = "w"});
    EXPECT_TRUE(test.store_->Apply(std::move(m)).ok());
  };
  test.Lease(out.a[0], 1, "w", kT0 + absl::Seconds(30));
  EXPECT_TRUE(
      test.Report(out.a[0], 1, {Test::MakeCheckpoint(100, 0.5), Test::MakeCheckpoint(200, 0.3)})
          .ok());
  finish(out.a[0], TrialState::kSucceeded, kT0 + absl::Seconds(1));
  test.Lease(out.a[1], 1, "w", kT0 + absl::Seconds(30));
  EXPECT_TRUE(
      test.Report(out.a[1], 1, {Test::MakeCheckpoint(100, 0.75), Test::MakeCheckpoint(200, 0.125)})
          .ok());
  finish(out.a[1], TrialState::kSucceeded, kT0 + absl::Seconds(3));
  test.Lease(out.b[0], 1, "w", kT0 + absl::Seconds(30));
  EXPECT_TRUE(test.Report(out.b[0], 1, {Test::MakeCheckpoint(100, 0.875)}).ok());
  finish(out.b[0], TrialState::kDiverged, kT0 + absl::Seconds(2));
  test.Lease(out.a[2], 1, "w", kT0 + absl::Seconds(30));
  EXPECT_TRUE(test.Report(out.a[2], 1, {Test::MakeCheckpoint(100, 0.0625)}).ok());
  StoreMutation expire{.now = kT0 + absl::Seconds(4)};
  expire.trials.push_back({.id = out.a[2],
                           .expect_state = TrialState::kLeased,
                           .expect_attempt = 1,
                           .state = TrialState::kPending,
                           .attempt = 1,
                           .attempt_limit = 3});
  EXPECT_TRUE(test.store_->Apply(std::move(expire)).ok());
  test.Lease(out.a[2], 2, "w", kT0 + absl::Seconds(30));
  return out;
}

TYPED_TEST(SweepStoreTest, AggregateConfigsGroupsSeedsAndSumsSucceededErrors) {
  const AggregateSweep s = CreateAggregateSweep(*this);
  auto configs = this->store_->AggregateConfigs(s.id);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 3u);
  const ConfigAggregate& a = (*configs)[0];
  EXPECT_EQ(a.first_trial, s.a[0]);
  EXPECT_EQ(a.config, ConfigOf(s.spec_a));
  EXPECT_EQ(a.counts.succeeded, 2);
  EXPECT_EQ(a.counts.leased, 1);
  EXPECT_EQ(a.counts.total(), 3);
  EXPECT_EQ(a.n, 2);
  EXPECT_DOUBLE_EQ(a.sum_test_error, 0.3 + 0.125);
  EXPECT_DOUBLE_EQ(a.sum_squares_test_error, 0.3 * 0.3 + 0.125 * 0.125);
  EXPECT_EQ(a.n_validation, 2);
  EXPECT_DOUBLE_EQ(a.sum_validation_error, 0.31 + 0.135);
  const ConfigAggregate& b = (*configs)[1];
  EXPECT_EQ(b.first_trial, s.b[0]);
  EXPECT_EQ(b.config, ConfigOf(s.spec_b));
  EXPECT_EQ(b.counts.diverged, 1);
  EXPECT_EQ(b.counts.pending, 1);
  EXPECT_EQ(b.n, 0);  // a diverged trial's error is not averaged in
  EXPECT_EQ(b.sum_test_error, 0);
  const ConfigAggregate& c = (*configs)[2];
  EXPECT_EQ(c.first_trial, s.c[0]);
  EXPECT_EQ(c.counts.pending, 1);
  EXPECT_EQ(this->store_->AggregateConfigs(s.id + 100).status().code(),
            absl::StatusCode::kNotFound);
}

// A store may keep which configuration each trial is in; what the trials
// hold now is summed again on every call.
TYPED_TEST(SweepStoreTest, AggregateConfigsFollowsChangesAfterAnEarlierCall) {
  const AggregateSweep s = CreateAggregateSweep(*this);
  ASSERT_TRUE(this->store_->AggregateConfigs(s.id).ok());
  this->Lease(s.c[0], 1, "w", kT0 + absl::Seconds(30));
  ASSERT_TRUE(this->Report(s.c[0], 1, {TestFixture::MakeCheckpoint(100, 0.25)}).ok());
  StoreMutation m{.now = kT0 + absl::Seconds(5)};
  m.trials.push_back({.id = s.c[0],
                      .expect_state = TrialState::kLeased,
                      .expect_attempt = 1,
                      .state = TrialState::kSucceeded,
                      .attempt = 1,
                      .attempt_limit = 3,
                      .worker_id = "w"});
  ASSERT_TRUE(this->store_->Apply(std::move(m)).ok());
  // Another sweep in between is grouped on its own.
  TrialSpec other = TestFixture::Spec(1, "tanh", 0.1);
  ASSERT_TRUE(this->store_
                  ->CreateSweep({.name = "other", .spec_yaml = "name: other\n", .created_at = kT0},
                                std::vector<TrialSpec>{other})
                  .ok());

  auto configs = this->store_->AggregateConfigs(s.id);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 3u);
  const ConfigAggregate& c = (*configs)[2];
  EXPECT_EQ(c.first_trial, s.c[0]);
  EXPECT_EQ(c.counts.pending, 0);
  EXPECT_EQ(c.counts.succeeded, 1);
  EXPECT_EQ(c.n, 1);
  EXPECT_DOUBLE_EQ(c.sum_test_error, 0.25);
  EXPECT_EQ((*configs)[0].counts.succeeded, 2);  // the others as they were
  EXPECT_EQ((*configs)[0].counts.total(), 3);
}

TYPED_TEST(SweepStoreTest, AggregateCheckpointsUsesEachTrialsLatestAttempt) {
  const AggregateSweep s = CreateAggregateSweep(*this);
  auto steps = this->store_->AggregateCheckpoints(s.id, s.spec_a);
  ASSERT_TRUE(steps.ok()) << steps.status();
  // A's third trial reported 0.0625 on attempt 1 only: not counted.
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].step, 100);
  EXPECT_EQ((*steps)[0].n_test, 2);
  EXPECT_DOUBLE_EQ((*steps)[0].sum_test_error, 0.5 + 0.75);
  EXPECT_DOUBLE_EQ((*steps)[0].sum_squares_test_error, 0.25 + 0.5625);
  EXPECT_EQ((*steps)[0].n_validation, 2);
  EXPECT_DOUBLE_EQ((*steps)[0].sum_validation_error, 0.51 + 0.76);
  EXPECT_DOUBLE_EQ((*steps)[0].sum_squares_validation_error, 0.51 * 0.51 + 0.76 * 0.76);
  EXPECT_EQ((*steps)[1].step, 200);
  EXPECT_DOUBLE_EQ((*steps)[1].sum_test_error, 0.3 + 0.125);
  // The seed does not matter: any trial's spec names its configuration.
  TrialSpec other_seed = s.spec_a;
  other_seed.seed = 7;
  auto same = this->store_->AggregateCheckpoints(s.id, other_seed);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->size(), 2u);
  auto b = this->store_->AggregateCheckpoints(s.id, s.spec_b);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_DOUBLE_EQ((*b)[0].sum_test_error, 0.875);
  TrialSpec none = s.spec_a;
  none.updates += 1;  // a field outside the grid still tells configurations apart
  auto empty = this->store_->AggregateCheckpoints(s.id, none);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(this->store_->AggregateCheckpoints(s.id + 100, s.spec_a).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(SweepStoreTest, RecentFinishTimesAreTheLatestEndsFirst) {
  const AggregateSweep s = CreateAggregateSweep(*this);
  auto all = this->store_->RecentFinishTimes(s.id, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ::testing::ElementsAre(kT0 + absl::Seconds(3), kT0 + absl::Seconds(2),
                                           kT0 + absl::Seconds(1)));
  auto two = this->store_->RecentFinishTimes(s.id, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ(this->store_->RecentFinishTimes(s.id + 100, 2).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace deepsweep
