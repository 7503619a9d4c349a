// What only the SQLite store has: a file that outlives the process (kill -9
// included), a versioned schema, and views that answer in the sqlite3 shell.
#include "store/sqlite_sweep_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/coordinator.h"
#include "core/student_t.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace deepsweep {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::path(::testing::TempDir()) /
             absl::StrCat("sqlite_store_test_", getpid(), ".db"))
                .string();
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  std::unique_ptr<SqliteSweepStore> Open() {
    auto store = SqliteSweepStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Runs `sql` in the sqlite3 shell, as a user would: rows of '|'-separated
  // columns.
  std::vector<std::vector<std::string>> Shell(const std::string& sql) {
    const std::string command =
        absl::StrCat(DEEPSWEEP_SQLITE3_CLI, " -readonly ", path_, " \"", sql, "\" 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    char buffer[4096];
    while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    EXPECT_EQ(pipe != nullptr ? pclose(pipe) : -1, 0) << out;
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      rows.push_back(absl::StrSplit(line, '|'));
    }
    return rows;
  }

  std::string path_;
};

TEST_F(SqliteStoreTest, CreatesAVersionedWalDatabase) {
  Open();
  EXPECT_EQ(Shell("PRAGMA user_version"),
            (std::vector<std::vector<std::string>>{{absl::StrCat(LatestSchemaVersion())}}));
  EXPECT_EQ(Shell("PRAGMA journal_mode"), (std::vector<std::vector<std::string>>{{"wal"}}));
  // Exact quantiles from core/student_t.h for df 1..1000, the numbers the CLI uses.
  EXPECT_EQ(Shell("SELECT count(*), min(df), max(df) FROM student_t975"),
            (std::vector<std::vector<std::string>>{{"1000", "1", "1000"}}));
  for (int df : {1, 2, 29, 35, 999}) {
    const auto t =
        Shell(absl::StrCat("SELECT printf('%.17g', t) FROM student_t975 WHERE df = ", df));
    ASSERT_EQ(t.size(), 1u);
    // sqlite3's printf is not exact in the 17th digit; the stored double is.
    EXPECT_NEAR(std::stod(t[0][0]), StudentTQuantile(0.975, df), 1e-14) << "df " << df;
  }
}

// A full disk is a fault that passes: UNAVAILABLE (callers retry), not
// RESOURCE_EXHAUSTED (workers took that as final and failed trials for good).
TEST_F(SqliteStoreTest, FullDiskIsUnavailableUntilSpaceReturns) {
  std::unique_ptr<SqliteSweepStore> store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<TrialSpec> trials(2000, TrialSpec{.activation = "tanh", .depth = 2});
  const NewSweep sweep{.name = "big", .spec_yaml = std::string(20000, 'x'), .max_attempts = 1};
  ASSERT_TRUE(store->SimulateFullDisk(true).ok());
  absl::StatusOr<CreatedSweep> created = store->CreateSweep(sweep, trials);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable) << created.status();
  EXPECT_THAT(created.status().message(), ::testing::HasSubstr("full"));
  EXPECT_EQ(store->ListSweeps()->size(), 0u);  // nothing of it stored

  ASSERT_TRUE(store->SimulateFullDisk(false).ok());
  created = store->CreateSweep(sweep, trials);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->trial_ids.size(), 2000u);
}

TEST_F(SqliteStoreTest, RefusesASchemaNewerThanItself) {
  Open().reset();
  {
    auto db = SqliteDb::Open(path_, /*create=*/false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = SqliteSweepStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("schema version 99"));
}

// The file's bytes, to show a read-only store never wrote them.
std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(SqliteStoreTest, ReadOnlyStoreReadsWhatAWriterCommitsAndWritesNothing) {
  auto writer = Open();
  ASSERT_TRUE(writer
                  ->CreateSweep({.name = "first", .spec_yaml = "name: first\n", .created_at = {}},
                                std::vector<TrialSpec>(2))
                  .ok());
  auto reader = SqliteSweepStore::OpenReadOnly(path_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto sweeps = (*reader)->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  ASSERT_EQ(sweeps->size(), 1u);
  EXPECT_EQ((*sweeps)[0].counts.pending, 2);

  // The writer goes on while the reader is open (WAL): the reader sees it.
  ASSERT_TRUE(writer
                  ->CreateSweep({.name = "second", .spec_yaml = "name: second\n", .created_at = {}},
                                std::vector<TrialSpec>(1))
                  .ok());
  sweeps = (*reader)->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  EXPECT_EQ(sweeps->size(), 2u);

  auto created = (*reader)->CreateSweep({.name = "no", .spec_yaml = "name: no\n", .created_at = {}},
                                        std::vector<TrialSpec>(1));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kFailedPrecondition);
  StoreMutation mutation;
  mutation.sweeps.push_back({.id = 1, .state = SweepState::kCancelled});
  EXPECT_EQ((*reader)->Submit(std::move(mutation)).Wait().code(),
            absl::StatusCode::kFailedPrecondition);

  writer.reset();  // checkpoints the WAL into the file
  const std::string bytes = FileBytes(path_);
  reader->reset();
  reader = SqliteSweepStore::OpenReadOnly(path_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->ListTrials({}).ok());
  reader->reset();
  EXPECT_EQ(FileBytes(path_), bytes);
}

TEST_F(SqliteStoreTest, ReadOnlyStoreNeverCreatesNorMigrates) {
  auto missing = SqliteSweepStore::OpenReadOnly(path_);
  EXPECT_FALSE(missing.ok());
  EXPECT_FALSE(std::filesystem::exists(path_));

  Open().reset();
  struct Case {
    int64_t version;
    std::string says;
  };
  const Case cases[] = {{0, "not a deepsweep database"},
                        {LatestSchemaVersion() + 1, "is newer than this deepsweep's"}};
  for (const Case& c : cases) {
    {
      auto db = SqliteDb::Open(path_, /*create=*/false);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE((*db)->Exec(absl::StrCat("PRAGMA user_version = ", c.version)).ok());
    }
    auto store = SqliteSweepStore::OpenReadOnly(path_);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << c.version;
    EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr(c.says));
    EXPECT_EQ(Shell("PRAGMA user_version"),
              (std::vector<std::vector<std::string>>{{absl::StrCat(c.version)}}));
  }
}

// A file of schema version 1 (before the trials carried their data seed and
// measurement settings): reading it read-only refuses and leaves it alone;
// the server's Open migrates it, and its trial gets what produced it.
TEST_F(SqliteStoreTest, VersionOneTrialsGetTheSettingsThatProducedThem) {
  {
    auto db = SqliteDb::Open(path_, /*create=*/true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateTo(**db, 1).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO sweeps (id, name, spec_yaml, state, max_attempts, "
                           "created_at_us) VALUES (1, 'old', 'name: old', 'finished', 3, 0);"
                           "INSERT INTO trials (sweep_id, trial_index, state, attempt_limit, "
                           "dataset, dataset_path, train_examples, validation_examples, "
                           "test_examples, preprocess, activation, init, init_gain, depth, "
                           "width, loss, learning_rate, momentum, lr_decay, batch_size, "
                           "updates, checkpoint_every, probe_examples, seed, seed_index, "
                           "created_at_us, updated_at_us) VALUES (1, 0, 'succeeded', 3, "
                           "'shapeset', '', 0, 100, 100, 'pm1', 'tanh', 'normalized', 1, 2, 8, "
                           "'nll', 0.01, 0, 0, 10, 20, 10, 16, 4242, 1, 0, 0);")
                    .ok());
  }
  auto reader = SqliteSweepStore::OpenReadOnly(path_);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reader.status().message()),
              ::testing::HasSubstr("schema version 1 is older than this deepsweep's"));
  EXPECT_EQ(Shell("PRAGMA user_version"), (std::vector<std::vector<std::string>>{{"1"}}));

  auto store = Open();
  auto trials = store->ListTrials({});
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 1u);
  const TrialSpec& t = (*trials)[0].spec;
  const TrialSpec defaults;
  EXPECT_EQ(t.seed, 4242u);
  EXPECT_EQ(t.data_seed, 4242u);
  EXPECT_EQ(t.histogram_bins, 50);
  EXPECT_EQ(t.jacobian_examples, 2);
  EXPECT_EQ(t.stuck_after_updates, 0);
  EXPECT_EQ(t.stuck_error, 1.0);
  EXPECT_EQ(t.histogram_bins, defaults.histogram_bins);
  EXPECT_EQ(t.jacobian_examples, defaults.jacobian_examples);
  EXPECT_EQ(t.snapshot_every, defaults.snapshot_every);
  EXPECT_EQ(t.snapshot_seconds, defaults.snapshot_seconds);
  EXPECT_EQ(t.keep_weights, defaults.keep_weights);
  EXPECT_EQ(Shell("SELECT data_seed, histogram_bins FROM trial_summary"),
            (std::vector<std::vector<std::string>>{{"4242", "50"}}));
}

// Version 4 widens the trials' state CHECK in place to admit 'pruned': a
// version 3 file keeps its rows, takes pruned trials (with their rung) once
// migrated, and still refuses states that do not exist.
TEST_F(SqliteStoreTest, VersionFourAdmitsPrunedTrialsAndKeepsTheCheck) {
  {
    auto db = SqliteDb::Open(path_, /*create=*/true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateTo(**db, 3).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO sweeps (id, name, spec_yaml, state, max_attempts, "
                           "created_at_us) VALUES (1, 'old', 'name: old', 'active', 3, 0);"
                           "INSERT INTO trials (sweep_id, trial_index, state, attempt_limit, "
                           "dataset, dataset_path, train_examples, validation_examples, "
                           "test_examples, preprocess, activation, init, init_gain, depth, "
                           "width, loss, learning_rate, momentum, lr_decay, batch_size, "
                           "updates, checkpoint_every, probe_examples, seed, seed_index, "
                           "created_at_us, updated_at_us) VALUES (1, 0, 'leased', 3, "
                           "'shapeset', '', 0, 100, 100, 'pm1', 'tanh', 'normalized', 1, 2, 8, "
                           "'nll', 0.01, 0, 0, 10, 20, 10, 16, 4242, 0, 0, 0);")
                    .ok());
    EXPECT_FALSE((*db)->Exec("UPDATE trials SET state = 'pruned'").ok());  // not yet
  }
  auto store = Open();
  EXPECT_EQ(Shell("PRAGMA user_version"),
            (std::vector<std::vector<std::string>>{{absl::StrCat(LatestSchemaVersion())}}));
  auto trials = store->ListTrials({});
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_EQ(trials->size(), 1u);
  EXPECT_FALSE((*trials)[0].rung.has_value());
  StoreMutation m;
  m.trials.push_back({.id = (*trials)[0].id,
                      .expect_state = TrialState::kLeased,
                      .state = TrialState::kPruned,
                      .attempt_limit = 3,
                      .reason = "asha rung 0",
                      .rung = 100});
  ASSERT_TRUE(store->Apply(std::move(m)).ok());
  auto pruned = store->GetTrial((*trials)[0].id);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(pruned->state, TrialState::kPruned);
  EXPECT_EQ(pruned->rung, 100);
  auto sweep = store->GetSweep(1);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->counts.pruned, 1);
  EXPECT_EQ(Shell("SELECT state, rung FROM trial_summary"),
            (std::vector<std::vector<std::string>>{{"pruned", "100"}}));
  EXPECT_EQ(Shell("SELECT trials, n, pruned FROM config_summary"),
            (std::vector<std::vector<std::string>>{{"1", "0", "1"}}));
  store.reset();
  auto db = SqliteDb::Open(path_, /*create=*/false);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->Exec("UPDATE trials SET state = 'bogus'").ok());
  EXPECT_EQ((*db)
                ->QueryInt("SELECT COUNT(*) FROM pragma_integrity_check WHERE "
                           "integrity_check = 'ok'")
                .value_or(0),
            1);
}

TEST_F(SqliteStoreTest, ReopeningKeepsEverything) {
  {
    auto store = Open();
    auto created = store->CreateSweep(
        {.name = "kept", .spec_yaml = "name: kept\n", .created_at = {}}, std::vector<TrialSpec>(3));
    ASSERT_TRUE(created.ok());
  }
  auto store = Open();
  auto sweeps = store->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  ASSERT_EQ(sweeps->size(), 1u);
  EXPECT_EQ((*sweeps)[0].name, "kept");
  EXPECT_EQ((*sweeps)[0].counts.pending, 3);
}

// Runs a sweep to the end through a Coordinator, every trial reporting a
// test error given by `error_of`, then reads the views in the shell.
TEST_F(SqliteStoreTest, ViewsSummarizeAcrossSeedsAndPivotTableOne) {
  auto store = Open();
  FakeClock clock;
  Coordinator coordinator(store.get(), &clock);
  auto sweep = coordinator.CreateSweep(R"(name: views
dataset: {path: /data/mnist}
model: {depth: 5}
grid:
  dataset: [shapeset, mnist]
  activation: [tanh, softsign]
  init: [standard, normalized]
  learning_rate: [0.1, 0.01]
seeds: 3
)");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  // Error = base per (dataset, activation, init), + 0.1 for the worse
  // learning rate, + 0.01 * seed_index. One tanh/standard/shapeset/0.1 seed
  // diverges instead.
  auto error_of = [](const TrialSpec& t) {
    double e = t.dataset.name == "mnist" ? 0.02 : 0.2;
    if (t.activation == "softsign") e += 0.04;
    if (t.init == "standard") e += 0.08;
    if (t.learning_rate == 0.01) e += 0.1;
    return e + 0.01 * t.seed_index;
  };
  for (auto a = coordinator.AcquireTrial({.worker_id = "w"}); a.ok() && a->trial.has_value();
       a = coordinator.AcquireTrial({.worker_id = "w"})) {
    const TrialSpec& t = a->trial->spec;
    const double e = error_of(t);
    ASSERT_TRUE(
        coordinator
            .ReportCheckpoints(a->trial->id, a->lease->lease_id,
                               std::vector<Checkpoint>{
                                   {.step = 100, .test_error = e, .validation_error = e + 0.005}})
            .ok());
    const bool diverge = t.dataset.name == "shapeset" && t.activation == "tanh" &&
                         t.init == "standard" && t.learning_rate == 0.1 && t.seed_index == 2;
    ASSERT_TRUE(
        coordinator
            .CompleteTrial(a->trial->id, a->lease->lease_id,
                           {.state = diverge ? TrialState::kDiverged : TrialState::kSucceeded})
            .ok());
  }
  store->Flush();

  EXPECT_EQ(Shell("SELECT count(*), sum(state = 'succeeded') FROM trial_summary"),
            (std::vector<std::vector<std::string>>{{"48", "47"}}));

  // softsign, normalized, mnist, 0.1: errors 0.06, 0.07, 0.08.
  auto row = Shell(
      "SELECT trials, n, diverged, round(mean_test_error, 6), round(std_test_error, 6), "
      "round(ci95_test_error, 6) FROM config_summary WHERE dataset = 'mnist' AND activation = "
      "'softsign' AND init = 'normalized' AND learning_rate = 0.1");
  // std = 0.01; t(0.975, 2) = 4.302653; ci = 4.302653 * 0.01 / sqrt(3) = 0.024841 (the
  // 4-digit table of schema versions 1-3 gave 0.024842).
  EXPECT_EQ(row,
            (std::vector<std::vector<std::string>>{{"3", "3", "0", "0.07", "0.01", "0.024841"}}));
  // The diverged seed leaves two: 0.28 and 0.29; t(0.975, 1) = 12.7062.
  row = Shell(
      "SELECT n, diverged, round(mean_test_error, 6), round(ci95_test_error, 6) FROM "
      "config_summary WHERE dataset = 'shapeset' AND activation = 'tanh' AND init = 'standard' "
      "AND learning_rate = 0.1");
  EXPECT_EQ(row, (std::vector<std::vector<std::string>>{{"2", "1", "0.285", "0.063531"}}));

  // Table 1 takes the better learning rate (0.1) in every cell.
  EXPECT_EQ(Shell("SELECT label, depth, shapeset, mnist, fashion_mnist, cifar10 FROM table1"),
            (std::vector<std::vector<std::string>>{
                {"Softsign", "5", "33.0", "15.0", "", ""},
                {"Softsign N", "5", "25.0", "7.0", "", ""},
                {"Tanh", "5", "28.5", "11.0", "", ""},
                {"Tanh N", "5", "21.0", "3.0", "", ""},
            }));
}

// A file written by schema version 1 (one layer_stats row per layer and
// quantity) keeps every statistic through the migration to checkpoint_layers:
// the store reads them back, and the layer_stats view shows the same rows as
// version 1's table did.
TEST_F(SqliteStoreTest, MigratesVersionOneLayerStats) {
  const std::string kLayerStatsRows =
      "SELECT trial_id, attempt, step, layer, quantity, mean, std, p02, p50, p98, "
      "saturated_fraction, jacobian_sv_mean, hist_lo, hist_hi, hex(histogram) FROM layer_stats "
      "ORDER BY trial_id, attempt, step, layer, quantity";
  {
    auto db = SqliteDb::Open(path_, /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(MigrateTo(**db, 1).ok());
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
INSERT INTO sweeps (id, name, spec_yaml, state, max_attempts, created_at_us)
  VALUES (1, 'old', 'name: old', 'active', 3, 0);
INSERT INTO trials (id, sweep_id, trial_index, state, attempt, attempt_limit, dataset,
  dataset_path, train_examples, validation_examples, test_examples, preprocess, activation,
  init, init_gain, depth, width, loss, learning_rate, momentum, lr_decay, batch_size, updates,
  checkpoint_every, probe_examples, seed, seed_index, created_at_us, updated_at_us)
  VALUES (7, 1, 0, 'leased', 1, 3, 'shapeset', '', 0, 10, 10, 'pm1', 'tanh', 'normalized', 1,
          2, 8, 'nll', 0.1, 0, 0, 10, 100, 50, 10, 42, 0, 0, 0);
INSERT INTO checkpoints (trial_id, attempt, step, examples_seen, test_error, recorded_at_us)
  VALUES (7, 1, 50, 500, 0.5, 0), (7, 1, 100, 1000, 0.25, 0);
INSERT INTO layer_stats (trial_id, attempt, step, layer, quantity, mean, std, p02, p50, p98,
  saturated_fraction, jacobian_sv_mean, hist_lo, hist_hi, histogram) VALUES
  (7, 1, 50, 1, 'activation', 0.5, 0.25, -1, 0, 1, 0.125, 0.75, -1, 1,
   X'0000003F0000803E0000803E'),
  (7, 1, 50, 1, 'weight_grad', 0.001, 0.002, NULL, 0, 0.01, 0, 0, -0.1, 0.1, NULL),
  (7, 1, 50, 2, 'backprop_grad', -0.5, 1.5, -2, 0, 2, 0, 0, -2, 2, X'0000803F'),
  (7, 1, 100, 1, 'activation', 0.25, 0.5, -1, 0, 1, 0.5, 0.5, -1, 1, NULL),
  (7, 1, 100, 1, 'backprop_grad', 0.125, 0.5, -1, 0, 1, 0, 0, -1, 1, NULL),
  (7, 1, 100, 1, 'weight_grad', 0.0625, 0.5, -1, 0, 1, 0, 0, -1, 1, NULL);
)sql")
                    .ok());
  }
  const std::vector<std::vector<std::string>> before = Shell(kLayerStatsRows);
  ASSERT_EQ(before.size(), 6u);

  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Shell("PRAGMA user_version"),
            (std::vector<std::vector<std::string>>{{absl::StrCat(LatestSchemaVersion())}}));
  EXPECT_EQ(Shell(kLayerStatsRows), before);
  EXPECT_EQ(Shell("SELECT count(*) FROM checkpoint_layers"),
            (std::vector<std::vector<std::string>>{{"3"}}));

  auto checkpoints = store->GetCheckpoints(7, 1, /*with_layer_stats=*/true);
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
  ASSERT_EQ(checkpoints->size(), 2u);
  const std::vector<LayerStat>& first = (*checkpoints)[0].layer_stats;
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].layer, 1);
  EXPECT_EQ(first[0].quantity, LayerQuantity::kActivation);
  EXPECT_EQ(first[0].saturated_fraction, 0.125);
  EXPECT_EQ(first[0].histogram, (std::vector<float>{0.5f, 0.25f, 0.25f}));
  EXPECT_EQ(first[1].quantity, LayerQuantity::kWeightGrad);
  EXPECT_TRUE(std::isnan(first[1].p02));
  EXPECT_TRUE(first[1].histogram.empty());
  EXPECT_EQ(first[2].layer, 2);
  EXPECT_EQ(first[2].quantity, LayerQuantity::kBackpropGrad);
  EXPECT_EQ(first[2].mean, -0.5);
  EXPECT_EQ(first[2].histogram, (std::vector<float>{1.0f}));
  EXPECT_EQ((*checkpoints)[1].layer_stats.size(), 3u);

  // New reports land beside the migrated ones, in the same view.
  std::vector<Checkpoint> more = {{.step = 150}};
  more[0].layer_stats.push_back(
      {.layer = 2, .quantity = LayerQuantity::kWeightGrad, .mean = 3, .histogram = {1.0f}});
  StoreMutation m{.now = {}};
  m.checkpoints.push_back({7, 1, more});
  ASSERT_TRUE(store->Apply(std::move(m)).ok());
  EXPECT_EQ(
      Shell("SELECT step, layer, quantity, mean, hex(histogram) FROM layer_stats "
            "WHERE step = 150"),
      (std::vector<std::vector<std::string>>{{"150", "2", "weight_grad", "3.0", "0000803F"}}));
}

// A child process writes through the store and tells the parent each time a
// write is acknowledged; the parent kills it with SIGKILL mid-stream and then
// finds every acknowledged write in the file.
// trial_attempts: where each attempt started (leases.resumed_from), how far
// it got, and the stored updates it trained again.
TEST_F(SqliteStoreTest, TrialAttemptsShowWhereEachAttemptStartedAndWhatItRedid) {
  auto store = Open();
  auto created =
      store->CreateSweep({.name = "resume", .created_at = {}}, std::vector<TrialSpec>(1));
  ASSERT_TRUE(created.ok()) << created.status();
  const TrialId trial = created->trial_ids[0];
  // Attempt 1 stores checkpoints up to 500 and is lost; attempt 2 resumes
  // from the snapshot of 300 and reaches 600.
  auto attempt = [&](int n, int64_t resumed_from, std::vector<int64_t> steps) {
    StoreMutation m{.now = absl::FromUnixSeconds(n)};
    m.trials.push_back({.id = trial,
                        .expect_state = n == 1 ? TrialState::kPending : TrialState::kLeased,
                        .expect_attempt = n - 1,
                        .state = TrialState::kLeased,
                        .attempt = n,
                        .attempt_limit = 3,
                        .worker_id = "w"});
    if (n > 1) m.lease_ends.push_back({trial, n - 1, "expired"});
    m.lease_grants.push_back({trial, absl::StrCat("l", n), n, absl::UnixEpoch(), "w"});
    if (resumed_from > 0) m.lease_resumes.push_back({trial, n, resumed_from});
    std::vector<Checkpoint> checkpoints;
    for (int64_t step : steps) checkpoints.push_back({.step = step, .test_error = 0.5});
    m.checkpoints.push_back({trial, n, checkpoints});
    EXPECT_TRUE(store->Apply(std::move(m)).ok());
  };
  attempt(1, 0, {0, 100, 200, 300, 400, 500});
  attempt(2, 300, {0, 100, 200, 300, 400, 500, 600});
  EXPECT_EQ(Shell("SELECT attempt, outcome, started_at_step, reached_step, "
                  "coalesce(updates_redone, 'null') FROM trial_attempts ORDER BY attempt"),
            (std::vector<std::vector<std::string>>{{"1", "expired", "0", "500", "null"},
                                                   {"2", "", "300", "600", "200"}}));
  // A resume for a lease that does not exist changes nothing and fails.
  StoreMutation missing{.now = {}};
  missing.lease_resumes.push_back({trial, 9, 100});
  EXPECT_FALSE(store->Apply(std::move(missing)).ok());
}

// Version 9: leases count the snapshots acknowledged under them. A version 8
// file's leases read as having none (snapshots 0, snapshot_step NULL) and keep
// what trial_attempts showed; new snapshots are counted; trial_snapshots adds a
// trial's attempts up as SumAttempts does (the CLI's `attempts --per-trial`).
TEST_F(SqliteStoreTest, VersionNineCountsSnapshotsPerAttemptAndTrialSnapshotsAddsThemUp) {
  {
    auto db = SqliteDb::Open(path_, /*create=*/true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateTo(**db, 8).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO sweeps (id, name, spec_yaml, state, max_attempts, "
                           "created_at_us) VALUES (1, 'old', 'name: old', 'active', 3, 0);"
                           "INSERT INTO trials (id, sweep_id, trial_index, state, attempt, "
                           "attempt_limit, worker_id, "
                           "dataset, dataset_path, train_examples, validation_examples, "
                           "test_examples, preprocess, activation, init, init_gain, depth, "
                           "width, loss, learning_rate, momentum, lr_decay, batch_size, "
                           "updates, checkpoint_every, probe_examples, seed, seed_index, "
                           "steps_done, created_at_us, updated_at_us) VALUES (7, 1, 0, 'leased', "
                           "2, 3, 'w2', 'shapeset', '', 0, 100, 100, 'pm1', 'tanh', "
                           "'normalized', 1, 2, 8, 'nll', 0.01, 0, 0, 10, 2000, 100, 16, 4242, "
                           "0, 400, 0, 0);"
                           "INSERT INTO leases (trial_id, attempt, lease_id, worker_id, "
                           "acquired_at_us, deadline_us, ended_at_us, outcome, resumed_from) "
                           "VALUES (7, 1, 'l1', 'w1', 1000000, 0, 2000000, 'expired', NULL), "
                           "(7, 2, 'l2', 'w2', 3000000, 9000000, NULL, NULL, 200);"
                           "INSERT INTO checkpoints (trial_id, attempt, step, examples_seen, "
                           "recorded_at_us) VALUES (7, 1, 0, 0, 0), (7, 1, 100, 1000, 0), "
                           "(7, 1, 200, 2000, 0), (7, 1, 300, 3000, 0), (7, 2, 0, 0, 0), "
                           "(7, 2, 100, 1000, 0), (7, 2, 200, 2000, 0), (7, 2, 300, 3000, 0), "
                           "(7, 2, 400, 4000, 0);")
                    .ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Shell("PRAGMA user_version"),
            (std::vector<std::vector<std::string>>{{absl::StrCat(LatestSchemaVersion())}}));
  EXPECT_EQ(Shell("SELECT attempt, started_at_step, reached_step, coalesce(updates_redone, "
                  "'null'), snapshots, coalesce(snapshot_step, 'null') FROM trial_attempts "
                  "ORDER BY attempt"),
            (std::vector<std::vector<std::string>>{{"1", "0", "300", "null", "0", "null"},
                                                   {"2", "200", "400", "100", "0", "null"}}));
  for (int64_t step : {500, 250, 1000}) {  // the highest step is kept, whatever the order
    StoreMutation m{.now = absl::FromUnixSeconds(5)};
    m.lease_snapshots.push_back({.trial_id = 7, .attempt = 2, .step = step});
    ASSERT_TRUE(store->Apply(std::move(m)).ok());
  }
  EXPECT_EQ(Shell("SELECT attempt, snapshots, coalesce(snapshot_step, 'null') FROM "
                  "trial_attempts ORDER BY attempt"),
            (std::vector<std::vector<std::string>>{{"1", "0", "null"}, {"2", "3", "1000"}}));
  EXPECT_EQ(Shell("SELECT trial_id, sweep_id, state, attempts, steps_done, updates, "
                  "interruptions, snapshots, snapshot_step, updates_redone FROM trial_snapshots"),
            (std::vector<std::vector<std::string>>{
                {"7", "1", "leased", "2", "400", "2000", "1", "3", "1000", "100"}}));

  auto attempts = store->ListAttempts(7);
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].acquired_at, absl::FromUnixSeconds(1));
  EXPECT_EQ((*attempts)[0].ended_at, absl::FromUnixSeconds(2));
  EXPECT_EQ((*attempts)[1].outcome, "");
  EXPECT_EQ((*attempts)[1].updates_redone, 100);
  const AttemptTotals totals = SumAttempts(*attempts);
  EXPECT_EQ(totals.attempts, 2);
  EXPECT_EQ(totals.interruptions, 1);
  EXPECT_EQ(totals.snapshots, 3);
  EXPECT_EQ(totals.snapshot_step, 1000);
  EXPECT_EQ(totals.updates_redone, 100);
}

TEST_F(SqliteStoreTest, KillNineLosesNothingAcknowledged) {
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    auto store = SqliteSweepStore::Open(path_);
    if (!store.ok()) _exit(2);
    auto created =
        (*store)->CreateSweep({.name = "crash", .created_at = {}}, std::vector<TrialSpec>(1));
    if (!created.ok()) _exit(3);
    const TrialId trial = created->trial_ids[0];
    StoreMutation lease{.now = {}};
    lease.trials.push_back({.id = trial,
                            .state = TrialState::kLeased,
                            .attempt = 1,
                            .attempt_limit = 3,
                            .worker_id = "w"});
    lease.lease_grants.push_back({trial, "l", 1, absl::UnixEpoch(), "w"});
    if (!(*store)->Apply(std::move(lease)).ok()) _exit(4);
    for (int64_t step = 1;; ++step) {
      std::vector<Checkpoint> c = {{.step = step, .test_error = 0.5}};
      c[0].layer_stats.push_back({.layer = 1, .histogram = std::vector<float>(50, 0.02f)});
      StoreMutation m{.now = {}};
      m.checkpoints.push_back({trial, 1, c});
      if (!(*store)->Apply(std::move(m)).ok()) _exit(5);
      if (write(acks[1], &step, sizeof step) != sizeof step) _exit(6);
    }
  }
  close(acks[1]);
  int64_t acknowledged = 0;
  for (int64_t step; acknowledged < 300 && read(acks[0], &step, sizeof step) == sizeof step;) {
    acknowledged = step;
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  // Acknowledgements still in the pipe count too.
  for (int64_t step; read(acks[0], &step, sizeof step) == sizeof step;) acknowledged = step;
  close(acks[0]);

  auto store = Open();
  auto trials = store->ListTrials({});
  ASSERT_TRUE(trials.ok());
  ASSERT_EQ(trials->size(), 1u);
  auto checkpoints = store->GetCheckpoints((*trials)[0].id, 1, /*with_layer_stats=*/true);
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
  ASSERT_GE(static_cast<int64_t>(checkpoints->size()), acknowledged);
  for (int64_t i = 0; i < acknowledged; ++i) {
    EXPECT_EQ((*checkpoints)[i].step, i + 1);
    EXPECT_EQ((*checkpoints)[i].layer_stats.size(), 1u);
  }
  EXPECT_GE((*trials)[0].steps_done, acknowledged);
}

// Issue 17, defect 10: 48 small trials left a 36 MB -wal next to a 1.6 MB
// database, because the WAL was checkpointed only every 64 MiB. With the
// default options the -wal file must now stay within twice the database plus
// the size it is cut back to (wal_size_limit_bytes, 4 MiB): the file keeps
// its largest extent until SQLite restarts it.
TEST_F(SqliteStoreTest, WalStaysNearTheDatabaseSizeUnderManySmallTrials) {
  auto store = Open();
  auto created = store->CreateSweep({.name = "tiny", .created_at = {}}, std::vector<TrialSpec>(48));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string wal = path_ + "-wal";
  std::uintmax_t largest_wal = 0, database_at_largest = 0;
  for (const TrialId trial : created->trial_ids) {
    StoreMutation lease{.now = {}};
    lease.trials.push_back(
        {.id = trial, .state = TrialState::kLeased, .attempt = 1, .attempt_limit = 3});
    lease.lease_grants.push_back({trial, absl::StrCat("l", trial), 1, absl::UnixEpoch(), "w"});
    ASSERT_TRUE(store->Apply(std::move(lease)).ok());
    for (int64_t step = 1; step <= 20; ++step) {
      std::vector<Checkpoint> c = {{.step = step, .test_error = 0.5}};
      for (int layer = 1; layer <= 5; ++layer) {
        for (LayerQuantity q : {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad,
                                LayerQuantity::kWeightGrad}) {
          c[0].layer_stats.push_back(
              {.layer = layer, .quantity = q, .histogram = std::vector<float>(50, 0.02f)});
        }
      }
      StoreMutation m{.now = {}};
      m.checkpoints.push_back({trial, 1, c});
      ASSERT_TRUE(store->Apply(std::move(m)).ok());
      std::error_code error;
      const std::uintmax_t wal_bytes = std::filesystem::file_size(wal, error);
      if (!error && wal_bytes > largest_wal) {
        largest_wal = wal_bytes;
        database_at_largest = std::filesystem::file_size(path_);
      }
    }
  }
  const std::uintmax_t database = std::filesystem::file_size(path_);
  std::printf("database %ju bytes; largest -wal %ju bytes (database then %ju)\n", database,
              largest_wal, database_at_largest);
  // The writer catches up when idle, and in any case once the WAL is four
  // times over its threshold (the database's size here): that, plus the size
  // SQLite cuts the file back to, is the bound under any scheduling (2x held
  // alone, 4.4x was seen under ctest -j2 on a loaded machine). Before the fix:
  // 23x.
  EXPECT_LE(largest_wal, 4 * database + SqliteStoreOptions{}.wal_size_limit_bytes);
}

// Backup() while another thread keeps committing checkpoints: the copy is a
// consistent prefix of the writes (steps 1..n with no gap), holds every write
// acknowledged before it started, and the writer kept committing meanwhile.
TEST_F(SqliteStoreTest, OnlineBackupIsAConsistentCopyWhileWritesGoOn) {
  auto store = Open();
  auto created =
      store->CreateSweep({.name = "backup", .created_at = {}}, std::vector<TrialSpec>(1));
  ASSERT_TRUE(created.ok()) << created.status();
  const TrialId trial = created->trial_ids[0];
  StoreMutation lease{.now = {}};
  lease.trials.push_back({.id = trial,
                          .state = TrialState::kLeased,
                          .attempt = 1,
                          .attempt_limit = 3,
                          .worker_id = "w"});
  lease.lease_grants.push_back({trial, "l", 1, absl::UnixEpoch(), "w"});
  ASSERT_TRUE(store->Apply(std::move(lease)).ok());

  absl::Mutex mu;
  int64_t acknowledged = 0;
  bool stop = false;
  absl::Status writer_status;
  std::thread writer([&] {
    for (int64_t step = 1;; ++step) {
      {
        absl::MutexLock lock(&mu);
        if (stop) return;
      }
      std::vector<Checkpoint> c = {{.step = step, .test_error = 0.5}};
      c[0].layer_stats.push_back({.layer = 1, .histogram = std::vector<float>(200, 0.005f)});
      StoreMutation m{.now = {}};
      m.checkpoints.push_back({trial, 1, c});
      absl::Status status = store->Apply(std::move(m));
      absl::MutexLock lock(&mu);
      if (!status.ok()) {
        writer_status = status;
        return;
      }
      acknowledged = step;
    }
  });
  int64_t before = 0;
  {
    absl::MutexLock lock(&mu);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return acknowledged >= 200 || !writer_status.ok();
    };
    mu.Await(absl::Condition(&enough));
    before = acknowledged;
  }
  const std::string backup_path = path_ + ".backup";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(backup_path + suffix);
  // Few pages per slice: the copy takes many slices, with commits between
  // them (one page per slice would barely outpace the writer's growth).
  const absl::Status backed_up = store->Backup(backup_path, {.pages_per_step = 16});
  int64_t after = 0;
  {
    absl::MutexLock lock(&mu);
    after = acknowledged;
    stop = true;
  }
  writer.join();
  ASSERT_TRUE(writer_status.ok()) << writer_status;
  ASSERT_TRUE(backed_up.ok()) << backed_up;
  EXPECT_GT(after, before) << "the writer was blocked for the whole backup";
  EXPECT_FALSE(std::filesystem::exists(backup_path + "-wal"));

  auto copy = SqliteSweepStore::OpenReadOnly(backup_path);
  ASSERT_TRUE(copy.ok()) << copy.status();
  auto checkpoints = (*copy)->GetCheckpoints(trial, 1, /*with_layer_stats=*/true);
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
  const int64_t copied = static_cast<int64_t>(checkpoints->size());
  EXPECT_GE(copied, before);
  EXPECT_LE(copied, after);
  for (int64_t i = 0; i < copied; ++i) {
    ASSERT_EQ((*checkpoints)[i].step, i + 1);
    ASSERT_EQ((*checkpoints)[i].layer_stats.size(), 1u);
    EXPECT_EQ((*checkpoints)[i].layer_stats[0].histogram.size(), 200u);
  }
  auto trials = (*copy)->ListTrials({});
  ASSERT_TRUE(trials.ok() && trials->size() == 1u);
  EXPECT_EQ((*trials)[0].state, TrialState::kLeased);

  // It never overwrites, and the read-only store has nothing to copy from.
  EXPECT_EQ(store->Backup(backup_path).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*copy)->Backup(backup_path + "2").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(backup_path + "2"));
  copy->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(backup_path + suffix);
}

}  // namespace
}  // namespace deepsweep
