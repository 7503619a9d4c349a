#include "store/sqlite_sweep_store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "core/trial_query.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace deepsweep {
namespace {

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }

absl::StatusOr<SweepState> ParseSweepState(const std::string& text) {
  for (SweepState s : {SweepState::kActive, SweepState::kCancelled, SweepState::kFinished}) {
    if (SweepStateName(s) == text) return s;
  }
  return absl::InternalError(absl::StrCat("unknown sweep state \"", text, "\" in the database"));
}

constexpr char kSweepColumns[] =
    "id, name, spec_yaml, state, max_attempts, created_at_us, finished_at_us";

absl::StatusOr<SweepRecord> ReadSweep(const SqliteStatement& s) {
  SweepRecord r{.id = s.Int(0), .name = s.Text(1), .spec_yaml = s.Text(2)};
  ASSIGN_OR_RETURN(r.state, ParseSweepState(s.Text(3)));
  r.max_attempts = static_cast<int>(s.Int(4));
  r.created_at = FromUs(s.Int(5));
  if (!s.IsNull(6)) r.finished_at = FromUs(s.Int(6));
  return r;
}

// The trials columns a TrialRecord is read from, in ReadTrial's order.
constexpr char kTrialColumns[] =
    "id, sweep_id, trial_index, state, attempt, attempt_limit, worker_id, reason, dataset, "
    "dataset_path, train_examples, validation_examples, test_examples, preprocess, activation, "
    "init, init_gain, depth, width, loss, learning_rate, momentum, lr_decay, batch_size, updates, "
    "checkpoint_every, probe_examples, seed, seed_index, steps_done, final_test_error, "
    "final_test_nll, final_validation_error, updated_at_us, data_seed, histogram_bins, "
    "jacobian_examples, stuck_after_updates, stuck_error, rung, snapshot_every, "
    "snapshot_seconds, keep_weights, compute_path";

constexpr int kTrialColumnCount = [] {
  int columns = 1;
  for (const char* c = kTrialColumns; *c != '\0'; ++c) columns += *c == ',' ? 1 : 0;
  return columns;
}();

absl::StatusOr<TrialRecord> ReadTrial(const SqliteStatement& s) {
  TrialRecord r;
  r.id = s.Int(0);
  r.sweep_id = s.Int(1);
  r.index = static_cast<int>(s.Int(2));
  const std::optional<TrialState> state = ParseTrialState(s.Text(3));
  if (!state.has_value()) {
    return absl::InternalError(absl::StrCat("unknown trial state \"", s.Text(3), "\""));
  }
  r.state = *state;
  r.attempt = static_cast<int>(s.Int(4));
  r.attempt_limit = static_cast<int>(s.Int(5));
  r.worker_id = s.Text(6);
  r.reason = s.Text(7);
  TrialSpec& t = r.spec;
  t.dataset.name = s.Text(8);
  t.dataset.path = s.Text(9);
  t.dataset.train_examples = s.Int(10);
  t.dataset.validation_examples = s.Int(11);
  t.dataset.test_examples = s.Int(12);
  t.dataset.preprocess = s.Text(13);
  t.activation = s.Text(14);
  t.init = s.Text(15);
  t.init_gain = s.Real(16);
  t.depth = static_cast<int>(s.Int(17));
  t.width = static_cast<int>(s.Int(18));
  t.loss = s.Text(19);
  t.learning_rate = s.Real(20);
  t.momentum = s.Real(21);
  t.lr_decay = s.Real(22);
  t.batch_size = static_cast<int>(s.Int(23));
  t.updates = s.Int(24);
  t.checkpoint_every = s.Int(25);
  t.probe_examples = static_cast<int>(s.Int(26));
  t.seed = static_cast<uint64_t>(s.Int(27));
  t.seed_index = static_cast<int>(s.Int(28));
  r.steps_done = s.Int(29);
  r.final_test_error = s.OptionalReal(30);
  r.final_test_nll = s.OptionalReal(31);
  r.final_validation_error = s.OptionalReal(32);
  r.updated_at = FromUs(s.Int(33));
  t.data_seed = static_cast<uint64_t>(s.Int(34));
  t.histogram_bins = static_cast<int>(s.Int(35));
  t.jacobian_examples = static_cast<int>(s.Int(36));
  t.stuck_after_updates = s.Int(37);
  t.stuck_error = s.Real(38);
  r.rung = s.OptionalInt(39);
  t.snapshot_every = s.Int(40);
  t.snapshot_seconds = s.Real(41);
  t.keep_weights = s.Text(42);
  r.compute_path = s.Text(43);
  return r;
}

absl::Status FillCounts(SqliteDb& db, SweepRecord& sweep) {
  ASSIGN_OR_RETURN(
      SqliteStatement s,
      db.Prepare("SELECT state, COUNT(*) FROM trials WHERE sweep_id = ?1 GROUP BY state"));
  s.Bind(1, sweep.id);
  sweep.counts = {};
  return s.ForEachRow([&]() -> absl::Status {
    const std::optional<TrialState> state = ParseTrialState(s.Text(0));
    if (state.has_value()) AddToCounts(*state, s.Int(1), sweep.counts);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SweepRecord>> QuerySweeps(SqliteDb& db, const std::string& sql,
                                                     std::optional<SweepId> id) {
  std::vector<SweepRecord> sweeps;
  {
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(sql));
    if (id.has_value()) s.Bind(1, *id);
    RETURN_IF_ERROR(s.ForEachRow([&]() -> absl::Status {
      ASSIGN_OR_RETURN(SweepRecord r, ReadSweep(s));
      sweeps.push_back(std::move(r));
      return absl::OkStatus();
    }));
  }
  for (SweepRecord& r : sweeps) RETURN_IF_ERROR(FillCounts(db, r));
  return sweeps;
}

// The columns of a trial's configuration (ConfigOf): every spec column but
// seed, data_seed and seed_index, in BindConfig's order.
constexpr char kConfigColumns[] =
    "dataset, dataset_path, train_examples, validation_examples, test_examples, preprocess, "
    "activation, init, init_gain, depth, width, loss, learning_rate, momentum, lr_decay, "
    "batch_size, updates, checkpoint_every, probe_examples, histogram_bins, jacobian_examples, "
    "stuck_after_updates, stuck_error";

// "dataset = ?first AND dataset_path = ?(first+1) AND ..." over kConfigColumns.
std::string ConfigEqualsClause(int first) {
  std::vector<std::string> terms;
  for (absl::string_view column : absl::StrSplit(kConfigColumns, ", ")) {
    terms.push_back(absl::StrCat("t.", column, " = ?", first + static_cast<int>(terms.size())));
  }
  return absl::StrJoin(terms, " AND ");
}

void BindConfig(SqliteStatement& s, int first, const TrialSpec& t) {
  int p = first;
  s.Bind(p++, t.dataset.name);
  s.Bind(p++, t.dataset.path);
  s.Bind(p++, t.dataset.train_examples);
  s.Bind(p++, t.dataset.validation_examples);
  s.Bind(p++, t.dataset.test_examples);
  s.Bind(p++, t.dataset.preprocess);
  s.Bind(p++, t.activation);
  s.Bind(p++, t.init);
  s.Bind(p++, t.init_gain);
  s.Bind(p++, t.depth);
  s.Bind(p++, t.width);
  s.Bind(p++, t.loss);
  s.Bind(p++, t.learning_rate);
  s.Bind(p++, t.momentum);
  s.Bind(p++, t.lr_decay);
  s.Bind(p++, t.batch_size);
  s.Bind(p++, t.updates);
  s.Bind(p++, t.checkpoint_every);
  s.Bind(p++, t.probe_examples);
  s.Bind(p++, t.histogram_bins);
  s.Bind(p++, t.jacobian_examples);
  s.Bind(p++, t.stuck_after_updates);
  s.Bind(p++, t.stuck_error);
}

absl::Status RequireTrial(SqliteDb& db, TrialId trial) {
  ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare("SELECT 1 FROM trials WHERE id = ?1"));
  s.Bind(1, trial);
  ASSIGN_OR_RETURN(bool found, s.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("trial ", trial, " not found"));
  return absl::OkStatus();
}

absl::Status RequireSweep(SqliteDb& db, SweepId sweep) {
  ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare("SELECT 1 FROM sweeps WHERE id = ?1"));
  s.Bind(1, sweep);
  ASSIGN_OR_RETURN(bool found, s.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("sweep ", sweep, " not found"));
  return absl::OkStatus();
}

absl::Status RequireOneChange(const SqliteStatement& s, const std::string& what) {
  if (s.Changes() == 1) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(what, " not found"));
}

// checkpoint_layers holds, per (checkpoint, layer), these columns for each
// quantity q in LayerQuantity order: has_q, then q_<stat> for each stat below.
constexpr LayerQuantity kQuantities[] = {LayerQuantity::kActivation, LayerQuantity::kBackpropGrad,
                                         LayerQuantity::kWeightGrad};
constexpr const char* kStatColumns[] = {
    "mean",    "std",     "p02",      "p50", "p98", "saturated_fraction", "jacobian_sv_mean",
    "hist_lo", "hist_hi", "histogram"};
constexpr int kColumnsPerQuantity = 1 + std::size(kStatColumns);
constexpr int kParamsPerLayer = 1 + std::size(kQuantities) * kColumnsPerQuantity;  // layer first
// Layers per multi-row INSERT: one statement carries the five hidden layers of
// the paper's networks and stays well under SQLite's parameter limit.
constexpr size_t kLayersPerInsert = 8;

// "has_q, q_mean, ..., q_histogram" for every quantity.
std::string QuantityColumns() {
  std::string columns;
  for (LayerQuantity q : kQuantities) {
    const std::string name(LayerQuantityName(q));
    absl::StrAppend(&columns, columns.empty() ? "" : ", ", "has_", name);
    for (const char* stat : kStatColumns) absl::StrAppend(&columns, ", ", name, "_", stat);
  }
  return columns;
}

// The INSERT of `rows` layers of one checkpoint: ?1, ?2, ?3 are the trial,
// attempt and step shared by every row, then kParamsPerLayer per row.
const std::string& CheckpointLayersInsert(size_t rows) {
  static const auto* const statements = [] {
    auto* sql = new std::vector<std::string>(kLayersPerInsert + 1);
    const std::string columns = QuantityColumns();
    for (size_t n = 1; n <= kLayersPerInsert; ++n) {
      std::string& text = (*sql)[n];
      // OR FAIL rather than the default ABORT: a statement of several rows
      // that may ABORT keeps a statement journal to undo its own rows (6% of
      // the writer's instructions), while a failure here fails the whole
      // transaction anyway (CommitBatch rolls it back).
      text = absl::StrCat("INSERT OR FAIL INTO checkpoint_layers (trial_id, attempt, step, layer, ",
                          columns, ") VALUES ");
      for (size_t r = 0; r < n; ++r) {
        absl::StrAppend(&text, r == 0 ? "" : ", ", "(?1, ?2, ?3");
        for (size_t c = 0; c < kParamsPerLayer; ++c) {
          absl::StrAppend(&text, ", ?", 4 + r * kParamsPerLayer + c);
        }
        text += ")";
      }
    }
    return sql;
  }();
  return (*statements)[rows];
}

// The statistics of one layer of a checkpoint, indexed by quantity (null when
// not reported); kQuantities[i] has the enum value i.
static_assert(static_cast<int>(LayerQuantity::kActivation) == 0 &&
              static_cast<int>(LayerQuantity::kBackpropGrad) == 1 &&
              static_cast<int>(LayerQuantity::kWeightGrad) == 2);
struct LayerRow {
  int layer = 0;
  std::array<const LayerStat*, std::size(kQuantities)> stats{};
};

// Groups a checkpoint's statistics by layer, in layer order. INVALID_ARGUMENT
// when a (layer, quantity) appears twice.
absl::StatusOr<std::vector<LayerRow>> GroupByLayer(const Checkpoint& c) {
  const std::vector<LayerStat>& stats = c.layer_stats;
  std::vector<const LayerStat*> sorted;
  sorted.reserve(stats.size());
  for (const LayerStat& l : stats) sorted.push_back(&l);
  std::sort(sorted.begin(), sorted.end(), [](const LayerStat* a, const LayerStat* b) {
    return std::pair(a->layer, a->quantity) < std::pair(b->layer, b->quantity);
  });
  std::vector<LayerRow> rows;
  for (const LayerStat* l : sorted) {
    if (rows.empty() || rows.back().layer != l->layer) rows.push_back({.layer = l->layer});
    const LayerStat*& slot = rows.back().stats[static_cast<size_t>(l->quantity)];
    if (slot != nullptr) return RepeatedLayerStatError(c, l->layer, l->quantity);
    slot = l;
  }
  return rows;
}

// Inserts the layer statistics of checkpoint `c`, grouped into `rows`, one
// checkpoint_layers row per layer, kLayersPerInsert rows per statement.
absl::Status InsertLayerStats(SqliteDb& db, TrialId trial, int attempt, const Checkpoint& c,
                              const std::vector<LayerRow>& rows) {
  for (size_t start = 0; start < rows.size(); start += kLayersPerInsert) {
    const size_t n = std::min(kLayersPerInsert, rows.size() - start);
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(CheckpointLayersInsert(n)));
    s.Bind(1, trial);
    s.Bind(2, attempt);
    s.Bind(3, c.step);
    for (size_t i = 0; i < n; ++i) {
      const LayerRow& row = rows[start + i];
      int p = static_cast<int>(4 + i * kParamsPerLayer);
      s.Bind(p++, row.layer);
      for (const LayerStat* l : row.stats) {
        s.Bind(p, l != nullptr ? 1 : 0);
        if (l == nullptr) {  // its statistics stay NULL: SqliteStatement unbinds after use
          p += kColumnsPerQuantity;
          continue;
        }
        s.Bind(p + 1, l->mean);
        s.Bind(p + 2, l->std);
        s.Bind(p + 3, l->p02);
        s.Bind(p + 4, l->p50);
        s.Bind(p + 5, l->p98);
        s.Bind(p + 6, l->saturated_fraction);
        s.Bind(p + 7, l->jacobian_sv_mean);
        s.Bind(p + 8, l->hist_lo);
        s.Bind(p + 9, l->hist_hi);
        s.BindFloats(p + 10, l->histogram);
        p += kColumnsPerQuantity;
      }
    }
    RETURN_IF_ERROR(s.Run());
  }
  return absl::OkStatus();
}

// Stores the checkpoints of one batch not stored yet (the first occurrence of
// a step wins), their layer statistics, and the trial's latest metrics.
absl::Status StoreCheckpoints(SqliteDb& db, const CheckpointBatch& batch, absl::Time now) {
  if (batch.checkpoints.empty()) return absl::OkStatus();
  const int64_t recorded = Us(now);
  for (const Checkpoint& c : batch.checkpoints) {
    // Grouped first, so a checkpoint with a repeated statistic fails even when
    // its step is stored already.
    ASSIGN_OR_RETURN(const std::vector<LayerRow> rows, GroupByLayer(c));
    ASSIGN_OR_RETURN(
        SqliteStatement s,
        db.Prepare("INSERT OR IGNORE INTO checkpoints (trial_id, attempt, step, examples_seen, "
                   "train_nll, test_error, test_nll, validation_error, validation_nll, "
                   "wall_seconds, recorded_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                   "?10, ?11)"));
    s.Bind(1, batch.trial_id);
    s.Bind(2, batch.attempt);
    s.Bind(3, c.step);
    s.Bind(4, c.examples_seen);
    s.Bind(5, c.train_nll);
    s.Bind(6, c.test_error);
    s.Bind(7, c.test_nll);
    s.Bind(8, c.validation_error);
    s.Bind(9, c.validation_nll);
    s.Bind(10, c.wall_seconds);
    s.Bind(11, recorded);
    RETURN_IF_ERROR(s.Run());
    if (s.Changes() == 0) continue;  // stored before: its statistics are too
    RETURN_IF_ERROR(InsertLayerStats(db, batch.trial_id, batch.attempt, c, rows));
  }
  ASSIGN_OR_RETURN(
      SqliteStatement latest,
      db.Prepare("UPDATE trials SET (steps_done, final_test_error, final_test_nll, "
                 "final_validation_error) = (SELECT step, test_error, test_nll, validation_error "
                 "FROM checkpoints WHERE trial_id = ?1 AND attempt = ?2 ORDER BY step DESC "
                 "LIMIT 1), updated_at_us = ?3 WHERE id = ?1"));
  latest.Bind(1, batch.trial_id);
  latest.Bind(2, batch.attempt);
  latest.Bind(3, recorded);
  RETURN_IF_ERROR(latest.Run());
  return RequireOneChange(latest, absl::StrCat("trial ", batch.trial_id));
}

// One statement per worker update: registration inserts or replaces the
// worker's description; last_seen and current_trial change as asked.
absl::Status UpdateWorker(SqliteDb& db, const WorkerUpdate& w, int64_t now) {
  const bool set = w.current == WorkerUpdate::Current::kSet;
  const bool clear = w.current == WorkerUpdate::Current::kClear;
  if (!w.register_info && !w.heard && !set && !clear) return absl::OkStatus();
  const char* const kChanges =
      "last_seen_us = CASE WHEN ?7 THEN ?6 ELSE last_seen_us END, "
      "current_trial = CASE WHEN ?8 THEN ?10 WHEN ?9 AND current_trial = ?10 THEN NULL "
      "ELSE current_trial END";
  ASSIGN_OR_RETURN(
      SqliteStatement s,
      db.Prepare(w.register_info
                     ? absl::StrCat("INSERT INTO workers (worker_id, host, pid, version, cores, "
                                    "first_seen_us, last_seen_us, current_trial, compute_path) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, CASE WHEN ?8 THEN ?10 "
                                    "END, ?11) ON CONFLICT (worker_id) DO UPDATE SET host = "
                                    "excluded.host, pid = excluded.pid, version = "
                                    "excluded.version, cores = excluded.cores, compute_path = "
                                    "excluded.compute_path, ",
                                    kChanges)
                     : absl::StrCat("UPDATE workers SET ", kChanges, " WHERE worker_id = ?1")));
  const WorkerInfo& info = w.info;
  s.Bind(1, info.worker_id);
  if (w.register_info) {
    s.Bind(2, info.host);
    s.Bind(3, info.pid);
    s.Bind(4, info.version);
    s.Bind(5, info.cores);
    s.Bind(11, info.compute_path);
  }
  s.Bind(6, now);
  s.Bind(7, w.heard ? 1 : 0);
  s.Bind(8, set ? 1 : 0);
  s.Bind(9, clear ? 1 : 0);
  s.Bind(10, w.current_trial);
  return s.Run();
}

// The UPDATE for `u`, naming only the columns it may change: SQLite rewrites
// an index entry whenever its column is assigned, even to the same value, so
// state, attempt and final_test_error are left out when they stay.
// Parameters: ?1 id, ?2 state, ?3 attempt, ?4 attempt_limit, ?5 worker_id,
// ?6 reason, ?7 updated_at_us, ?8 expected state, ?9 expected attempt, ?10 rung,
// ?11 compute_path (a new attempt's).
const std::string& TrialUpdateSql(const TrialUpdate& u) {
  static const auto* const statements = [] {
    auto* sql = new std::array<std::string, 8>;
    for (size_t bits = 0; bits < sql->size(); ++bits) {
      std::string& text = (*sql)[bits];
      text =
          "UPDATE trials SET attempt_limit = ?4, worker_id = ?5, reason = ?6, updated_at_us = ?7, "
          "rung = ?10";
      if (bits & 1) text += ", state = ?2";
      if (bits & 2) text += ", attempt = ?3, compute_path = ?11";
      // A new attempt also clears the results of the last one.
      if (bits & 4) {
        text +=
            ", steps_done = 0, final_test_error = NULL, final_test_nll = NULL, "
            "final_validation_error = NULL";
      }
      text += " WHERE id = ?1 AND state = ?8 AND attempt = ?9";
    }
    return sql;
  }();
  const size_t bits = (u.state != u.expect_state ? 1 : 0) |
                      (u.attempt != u.expect_attempt ? 2 : 0) | (u.reset_results ? 4 : 0);
  return (*statements)[bits];
}

absl::Status ApplyMutation(SqliteDb& db, const StoreMutation& m) {
  const int64_t now = Us(m.now);
  for (const SweepUpdate& u : m.sweeps) {
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare("UPDATE sweeps SET state = ?2, finished_at_us = ?3 WHERE id = ?1"));
    s.Bind(1, u.id);
    s.Bind(2, SweepStateName(u.state));
    s.BindOptional(3, u.finished_at.has_value() ? std::optional(Us(*u.finished_at)) : std::nullopt);
    RETURN_IF_ERROR(s.Run());
    RETURN_IF_ERROR(RequireOneChange(s, absl::StrCat("sweep ", u.id)));
  }
  for (const TrialUpdate& u : m.trials) {
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(TrialUpdateSql(u)));
    s.Bind(1, u.id);
    s.Bind(2, TrialStateName(u.state));
    s.Bind(3, u.attempt);
    s.Bind(4, u.attempt_limit);
    s.Bind(5, u.worker_id);
    s.Bind(6, u.reason);
    s.Bind(7, now);
    s.Bind(8, TrialStateName(u.expect_state));
    s.Bind(9, u.expect_attempt);
    s.BindOptional(10, u.rung);
    if (u.attempt != u.expect_attempt) s.Bind(11, u.compute_path);
    RETURN_IF_ERROR(s.Run());
    if (s.Changes() != 1) {
      ASSIGN_OR_RETURN(SqliteStatement exists, db.Prepare("SELECT 1 FROM trials WHERE id = ?1"));
      exists.Bind(1, u.id);
      ASSIGN_OR_RETURN(bool found, exists.Step());
      return found ? TrialChangedError(u)
                   : absl::NotFoundError(absl::StrCat("trial ", u.id, " not found"));
    }
  }
  for (const LeaseEnd& e : m.lease_ends) {
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare("UPDATE leases SET ended_at_us = ?3, outcome = ?4 "
                                "WHERE trial_id = ?1 AND attempt = ?2"));
    s.Bind(1, e.trial_id);
    s.Bind(2, e.attempt);
    s.Bind(3, now);
    s.Bind(4, e.outcome);
    RETURN_IF_ERROR(s.Run());
    RETURN_IF_ERROR(
        RequireOneChange(s, absl::StrCat("lease of trial ", e.trial_id, " attempt ", e.attempt)));
  }
  for (const LeaseGrant& g : m.lease_grants) {
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare("INSERT INTO leases (trial_id, attempt, lease_id, worker_id, "
                                "acquired_at_us, deadline_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    s.Bind(1, g.trial_id);
    s.Bind(2, g.attempt);
    s.Bind(3, g.lease_id);
    s.Bind(4, g.worker_id);
    s.Bind(5, now);
    s.Bind(6, Us(g.deadline));
    RETURN_IF_ERROR(s.Run());
  }
  // `set` changes the lease row of (trial, attempt) with ?3 = `value`.
  auto update_lease = [&db](const char* set, TrialId trial, int attempt,
                            int64_t value) -> absl::Status {
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare(absl::StrCat("UPDATE leases SET ", set,
                                             " WHERE trial_id = ?1 AND attempt = ?2")));
    s.Bind(1, trial);
    s.Bind(2, attempt);
    s.Bind(3, value);
    RETURN_IF_ERROR(s.Run());
    return RequireOneChange(s, absl::StrCat("lease of trial ", trial, " attempt ", attempt));
  };
  for (const LeaseRenewal& r : m.lease_renewals) {
    RETURN_IF_ERROR(update_lease("deadline_us = ?3", r.trial_id, r.attempt, Us(r.deadline)));
  }
  for (const LeaseResume& r : m.lease_resumes) {
    RETURN_IF_ERROR(update_lease("resumed_from = ?3", r.trial_id, r.attempt, r.step));
  }
  for (const LeaseSnapshot& r : m.lease_snapshots) {
    RETURN_IF_ERROR(update_lease(
        "snapshots = snapshots + 1, snapshot_step = max(COALESCE(snapshot_step, ?3), ?3)",
        r.trial_id, r.attempt, r.step));
  }
  for (const CheckpointBatch& b : m.checkpoints) RETURN_IF_ERROR(StoreCheckpoints(db, b, m.now));
  for (const WorkerUpdate& w : m.workers) RETURN_IF_ERROR(UpdateWorker(db, w, now));
  return absl::OkStatus();
}

absl::Status ReadOnlyError() {
  return absl::FailedPreconditionError("the results file is open read-only");
}

absl::Status Configure(SqliteDb& db, const SqliteStoreOptions& options, bool writer) {
  RETURN_IF_ERROR(db.Exec(
      absl::StrCat("PRAGMA busy_timeout = ", absl::ToInt64Milliseconds(options.busy_timeout))));
  RETURN_IF_ERROR(db.Exec(absl::StrCat("PRAGMA cache_size = -", options.cache_kib)));
  if (writer) {
    ASSIGN_OR_RETURN(SqliteStatement wal, db.Prepare("PRAGMA journal_mode = WAL"));
    ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || (wal.Text(0) != "wal" && wal.Text(0) != "memory")) {
      return absl::UnavailableError(
          absl::StrCat("sqlite: cannot use WAL journal mode (got ", row ? wal.Text(0) : "", ")"));
    }
  }
  RETURN_IF_ERROR(
      db.Exec(absl::StrCat("PRAGMA synchronous = ", options.full_sync ? "FULL" : "NORMAL")));
  RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
  if (writer) {
    RETURN_IF_ERROR(
        db.Exec(absl::StrCat("PRAGMA journal_size_limit = ", options.wal_size_limit_bytes)));
  }
  if (!writer) RETURN_IF_ERROR(db.Exec("PRAGMA query_only = 1"));
  return absl::OkStatus();
}

constexpr char kMakeWritable[] =
    "make the file, its -wal and -shm files and their directory writable by the user running "
    "the server, or move them to a writable volume; to only read the results, use "
    "deepsweep --db FILE";

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string DirectoryOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// access(2) answers for this process's user, root included (a read-only file
// system or an immutable file says no to root too).
absl::Status CheckWritable(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write the directory '", dir, "' of database '", path, "' (", std::strerror(errno),
        "; uid ", geteuid(), "): SQLite creates the database's -wal and -shm files there; ",
        kMakeWritable));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path + suffix;
    if (Exists(file) && access(file.c_str(), R_OK | W_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat("cannot write database file '", file, "' (",
                                                        std::strerror(errno), "; uid ", geteuid(),
                                                        "): ", kMakeWritable));
    }
  }
  return absl::OkStatus();
}

// PRAGMA quick_check: the b-trees, pages and records, without comparing
// indexes to tables (integrity_check's costly part). O(file size).
absl::Status QuickCheck(SqliteDb& db, const std::string& path) {
  std::vector<std::string> problems;
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(SqliteStatement check, db.Prepare("PRAGMA quick_check(5)"));
    return check.ForEachRow([&]() -> absl::Status {
      if (check.Text(0) != "ok") problems.push_back(check.Text(0));
      return absl::OkStatus();
    });
  }();
  if (status.ok() && problems.empty()) return absl::OkStatus();
  if (!status.ok() && status.code() != absl::StatusCode::kInternal) return status;  // e.g. busy
  return absl::DataLossError(absl::StrCat(
      "database '", path, "' is corrupt (PRAGMA quick_check: ",
      status.ok() ? absl::StrJoin(problems, "; ") : std::string(status.message()),
      "). Nothing was changed. Restore it from a backup, or salvage what is readable into a new "
      "file with: sqlite3 '",
      path, "' .recover | sqlite3 recovered.db"));
}

// True when no process can write `path`, so it may be read as SQLite's
// immutable file (no -shm to create): its directory is not writable and no
// -wal holds changes. A -wal with changes in such a directory cannot be read
// consistently, which is FAILED_PRECONDITION.
absl::StatusOr<bool> NothingCanWrite(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  if (access(dir.c_str(), W_OK) == 0 || !Exists(path)) return false;
  if (Exists(path + "-shm")) return false;  // a writer's index is there: read through it
  std::error_code error;
  const std::uintmax_t wal_bytes = std::filesystem::file_size(path + "-wal", error);
  if (error || wal_bytes == 0) return true;
  return absl::FailedPreconditionError(absl::StrCat(
      "'", path, "-wal' holds changes not yet in '", path, "', and the directory '", dir,
      "' is read-only, so SQLite cannot read them: copy the database and its -wal file to a "
      "writable directory, or open it once with write access to fold them in"));
}

// sqrt(x) for builds of SQLite without its math functions, so the views work.
void SqrtFunction(sqlite3_context* context, int argc, sqlite3_value** argv) {
  if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  const double x = sqlite3_value_double(argv[0]);
  if (x < 0) {
    sqlite3_result_null(context);
    return;
  }
  sqlite3_result_double(context, std::sqrt(x));
}

absl::Status EnsureSqrt(SqliteDb& db) {
  if (db.QueryInt("SELECT CAST(sqrt(4) AS INTEGER)").ok()) return absl::OkStatus();
  const int rc = sqlite3_create_function(db.raw(), "sqrt", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                         nullptr, &SqrtFunction, nullptr, nullptr);
  if (rc != SQLITE_OK) return db.Error(rc, "register sqrt");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSweepStore>> SqliteSweepStore::Open(
    const std::string& path, const SqliteStoreOptions& options) {
  static const int memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus;
  const bool on_disk = path != ":memory:" && !path.empty();
  if (on_disk) RETURN_IF_ERROR(CheckWritable(path));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> writer, SqliteDb::Open(path, /*create=*/true));
  if (writer->read_only()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database '", path,
        "' can only be opened read-only (a read-only file system or file?): ", kMakeWritable));
  }
  if (on_disk && options.check_integrity) RETURN_IF_ERROR(QuickCheck(*writer, path));
  RETURN_IF_ERROR(Configure(*writer, options, /*writer=*/true));
  RETURN_IF_ERROR(EnsureSqrt(*writer));
  RETURN_IF_ERROR(Migrate(*writer));
  std::unique_ptr<SqliteDb> reader, checkpointer;
  if (path != ":memory:" && !path.empty()) {
    ASSIGN_OR_RETURN(reader, SqliteDb::Open(path, /*create=*/false));
    RETURN_IF_ERROR(Configure(*reader, options, /*writer=*/false));
    RETURN_IF_ERROR(EnsureSqrt(*reader));
    ASSIGN_OR_RETURN(checkpointer, SqliteDb::Open(path, /*create=*/false));
    RETURN_IF_ERROR(Configure(*checkpointer, options, /*writer=*/false));
  }
  return std::unique_ptr<SqliteSweepStore>(
      new SqliteSweepStore(std::move(writer), std::move(reader), std::move(checkpointer), options));
}

absl::StatusOr<std::unique_ptr<SqliteSweepStore>> SqliteSweepStore::OpenReadOnly(
    const std::string& path, const SqliteStoreOptions& options) {
  ASSIGN_OR_RETURN(const bool immutable, NothingCanWrite(path));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> reader, SqliteDb::OpenReadOnly(path, immutable));
  RETURN_IF_ERROR(Configure(*reader, options, /*writer=*/false));
  RETURN_IF_ERROR(CheckSchemaVersion(*reader));
  RETURN_IF_ERROR(EnsureSqrt(*reader));
  return std::unique_ptr<SqliteSweepStore>(
      new SqliteSweepStore(nullptr, std::move(reader), nullptr, options));
}

SqliteSweepStore::SqliteSweepStore(std::unique_ptr<SqliteDb> writer,
                                   std::unique_ptr<SqliteDb> reader,
                                   std::unique_ptr<SqliteDb> checkpointer,
                                   const SqliteStoreOptions& options)
    : max_batch_(std::max(1, options.max_batch)),
      writer_(std::move(writer)),
      reader_(std::move(reader)),
      min_checkpoint_pages_(std::max(1, options.min_checkpoint_pages)),
      checkpoint_pages_(std::max(min_checkpoint_pages_, options.checkpoint_pages)),
      checkpoint_threshold_(min_checkpoint_pages_),
      checkpointer_(std::move(checkpointer)) {
  if (checkpointer_ != nullptr) {
    UpdateCheckpointThreshold();
    // Replaces SQLite's own checkpointing on commit.
    sqlite3_wal_hook(writer_->raw(), &SqliteSweepStore::OnWalCommit, this);
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
    pthread_setname_np(checkpoint_thread_.native_handle(), "sqlite-checkpt");
  }
  if (writer_ == nullptr) return;  // read-only
  writer_thread_ = std::thread([this] { WriteLoop(); });
  pthread_setname_np(writer_thread_.native_handle(), "sqlite-writer");
}

SqliteSweepStore::~SqliteSweepStore() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  if (checkpoint_thread_.joinable()) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_thread_.join();
  }
  // The connections close now; the last one to close checkpoints what is
  // left and removes the WAL.
}

int SqliteSweepStore::OnWalCommit(void* store, sqlite3*, const char*, int pages) {
  auto* self = static_cast<SqliteSweepStore*>(store);
  self->wal_pages_.store(pages, std::memory_order_relaxed);
  if (pages >= self->checkpoint_threshold_.load(std::memory_order_relaxed)) {
    absl::MutexLock lock(&self->checkpoint_mu_);
    self->checkpoint_due_ = true;
  }
  return SQLITE_OK;
}

void SqliteSweepStore::CheckpointLoop() {
  while (true) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(checkpoint_mu_) {
        return checkpoint_due_ || checkpoint_stop_;
      };
      checkpoint_mu_.Await(absl::Condition(&woken));
      if (checkpoint_stop_) return;
      checkpoint_due_ = false;
    }
    // PASSIVE never waits for the writer; frames written meanwhile wait for
    // the next round. Errors (e.g. SQLITE_BUSY while a reader holds old
    // frames) only postpone the copy, so they are not reported.
    int wal_pages = 0;
    int copied = 0;
    absl::MutexLock running(&checkpoint_run_mu_);
    sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                              &copied);
    UpdateCheckpointThreshold();
  }
}

void SqliteSweepStore::UpdateCheckpointThreshold() {
  absl::StatusOr<int64_t> pages = checkpointer_->QueryInt("PRAGMA page_count");
  if (!pages.ok()) return;  // keep the last threshold
  checkpoint_threshold_.store(
      static_cast<int>(std::clamp<int64_t>(*pages, min_checkpoint_pages_, checkpoint_pages_)),
      std::memory_order_relaxed);
}

PendingWrite SqliteSweepStore::Submit(StoreMutation mutation) {
  if (!writer_thread_.joinable()) return PendingWrite(ReadOnlyError());  // no writer thread
  auto completion = PendingWrite::NewCompletion();
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return PendingWrite(absl::UnavailableError("the store is closing"));
  queue_.push_back({std::move(mutation), completion});
  ++submitted_;
  return PendingWrite(std::move(completion));
}

void SqliteSweepStore::Flush() {
  absl::MutexLock lock(&queue_mu_);
  const uint64_t target = submitted_;
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(queue_mu_) { return completed_ >= target; };
  queue_mu_.Await(absl::Condition(&done));
}

void SqliteSweepStore::WriteLoop() {
  std::vector<Job> batch;
  std::vector<absl::Status> statuses;
  while (true) {
    batch.clear();
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(queue_mu_) {
        return stopping_ || !queue_.empty();
      };
      queue_mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is written
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    statuses.assign(batch.size(), absl::OkStatus());
    {
      absl::MutexLock lock(&write_mu_);
      const absl::Time start = absl::Now();
      CommitBatch(batch, statuses);
      commit_latency_.Observe(absl::Now() - start);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      PendingWrite::Complete(*batch[i].completion, statuses[i]);
    }
    bool idle;
    {
      absl::MutexLock lock(&queue_mu_);
      completed_ += batch.size();
      ++stats_.commits;
      stats_.mutations += static_cast<int64_t>(batch.size());
      idle = queue_.empty();
    }
    CheckpointFromWriter(idle);
  }
}

void SqliteSweepStore::CheckpointFromWriter(bool idle) {
  if (checkpointer_ == nullptr) return;
  // The background checkpoint runs while the writer keeps appending, so it
  // may never catch up, and SQLite restarts (and cuts back) the -wal only
  // after a checkpoint that did. The writer thread itself catches up when no
  // one is waiting, or when the WAL has outgrown its threshold fourfold.
  const int pages = wal_pages_.load(std::memory_order_relaxed);
  const int threshold = checkpoint_threshold_.load(std::memory_order_relaxed);
  if (pages < threshold || (!idle && pages < 4 * threshold)) return;
  absl::MutexLock lock(&write_mu_);
  // Waits for a checkpoint the thread may be running (SQLite would answer
  // SQLITE_BUSY), then copies what is left. Errors only postpone the copy.
  absl::MutexLock running(&checkpoint_run_mu_);
  sqlite3_wal_checkpoint_v2(writer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  wal_pages_.store(0, std::memory_order_relaxed);
}

absl::Status SqliteSweepStore::Backup(const std::string& destination,
                                      const SqliteBackupOptions& options) {
  {
    absl::MutexLock lock(&write_mu_);
    if (writer_ == nullptr) return ReadOnlyError();
  }
  if (std::filesystem::exists(destination)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup destination ", destination, " exists already"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> copy, SqliteDb::Open(destination, /*create=*/true));
  const auto fail = [&](absl::Status status) {
    copy.reset();
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(destination + suffix, ignored);
    }
    return status;
  };
  sqlite3_backup* backup = nullptr;
  {
    absl::MutexLock lock(&write_mu_);
    backup = sqlite3_backup_init(copy->raw(), "main", writer_->raw(), "main");
  }
  if (backup == nullptr) return fail(copy->Error(sqlite3_errcode(copy->raw()), "backup init"));
  int rc = SQLITE_OK;
  while (true) {
    {
      absl::MutexLock lock(&write_mu_);
      rc = sqlite3_backup_step(backup, std::max(1, options.pages_per_step));
    }
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    absl::SleepFor(options.pause);
  }
  int finish = SQLITE_OK;
  {
    absl::MutexLock lock(&write_mu_);
    finish = sqlite3_backup_finish(backup);
  }
  if (rc != SQLITE_DONE) return fail(copy->Error(rc, "backup step"));
  if (finish != SQLITE_OK) return fail(copy->Error(finish, "backup finish"));
  // One file, no -wal beside it, whatever the source's journal mode.
  if (absl::Status status = copy->Exec("PRAGMA journal_mode=DELETE"); !status.ok()) {
    return fail(status);
  }
  absl::StatusOr<SqliteStatement> check = copy->Prepare("PRAGMA quick_check");
  if (!check.ok()) return fail(check.status());
  absl::StatusOr<bool> row = check->Step();
  if (!row.ok()) return fail(row.status());
  const std::string verdict = *row ? check->Text(0) : "no answer";
  check->Reset();
  if (verdict != "ok") {
    return fail(absl::DataLossError(
        absl::StrCat("backup ", destination, " failed PRAGMA quick_check: ", verdict)));
  }
  return absl::OkStatus();
}

SqliteSweepStore::WriteStats SqliteSweepStore::write_stats() {
  absl::MutexLock lock(&queue_mu_);
  WriteStats stats = stats_;
  stats.queue_depth = static_cast<int64_t>(queue_.size());
  return stats;
}

void SqliteSweepStore::CommitBatch(std::vector<Job>& batch, std::vector<absl::Status>& statuses) {
  SqliteDb& db = *writer_;
  // Mutations almost never fail, so the batch is first tried as one plain
  // transaction (a savepoint per mutation would copy every page it touches).
  size_t failed = batch.size();
  const absl::Status commit = db.WriteTransaction([&]() -> absl::Status {
    for (size_t i = 0; i < batch.size(); ++i) {
      absl::Status status = ApplyMutation(db, batch[i].mutation);
      if (!status.ok()) {
        failed = i;
        return status;
      }
    }
    return absl::OkStatus();
  });
  if (commit.ok()) return;
  if (failed == batch.size()) {  // BEGIN or COMMIT failed: nothing was stored
    statuses.assign(batch.size(), commit);
    return;
  }
  // One mutation failed and took the batch with it: redo them one by one so
  // that only the failing ones fail.
  for (size_t i = 0; i < batch.size(); ++i) {
    statuses[i] = db.WriteTransaction([&] { return ApplyMutation(db, batch[i].mutation); });
  }
}

absl::Status SqliteSweepStore::SimulateFullDisk(bool full) {
  absl::MutexLock lock(&write_mu_);
  if (writer_ == nullptr) return ReadOnlyError();
  SqliteDb& db = *writer_;
  if (full && uncapped_max_pages_ == 0) {
    ASSIGN_OR_RETURN(uncapped_max_pages_, db.QueryInt("PRAGMA max_page_count"));
    ASSIGN_OR_RETURN(const int64_t pages, db.QueryInt("PRAGMA page_count"));
    return db.QueryInt(absl::StrCat("PRAGMA max_page_count = ", pages)).status();
  }
  if (!full && uncapped_max_pages_ != 0) {
    const int64_t max_pages = std::exchange(uncapped_max_pages_, 0);
    return db.QueryInt(absl::StrCat("PRAGMA max_page_count = ", max_pages)).status();
  }
  return absl::OkStatus();
}

absl::Status SqliteSweepStore::Read(const std::function<absl::Status(SqliteDb&)>& body) {
  absl::MutexLock read_lock(&read_mu_);
  if (reader_ != nullptr) {
    return reader_->ReadTransaction([&] { return body(*reader_); });
  }
  absl::MutexLock write_lock(&write_mu_);
  return writer_->ReadTransaction([&] { return body(*writer_); });
}

absl::StatusOr<CreatedSweep> SqliteSweepStore::CreateSweep(const NewSweep& sweep,
                                                           absl::Span<const TrialSpec> trials) {
  RETURN_IF_ERROR(CheckStorable(trials));
  absl::MutexLock lock(&write_mu_);
  if (writer_ == nullptr) return ReadOnlyError();
  SqliteDb& db = *writer_;
  CreatedSweep created;
  const int64_t now = Us(sweep.created_at);
  RETURN_IF_ERROR(db.WriteTransaction([&]() -> absl::Status {
    {
      ASSIGN_OR_RETURN(SqliteStatement s,
                       db.Prepare("INSERT INTO sweeps (name, spec_yaml, state, max_attempts, "
                                  "created_at_us) VALUES (?1, ?2, 'active', ?3, ?4)"));
      s.Bind(1, sweep.name);
      s.Bind(2, sweep.spec_yaml);
      s.Bind(3, sweep.max_attempts);
      s.Bind(4, now);
      RETURN_IF_ERROR(s.Run());
      created.id = sqlite3_last_insert_rowid(db.raw());
    }
    created.trial_ids.clear();
    created.trial_ids.reserve(trials.size());
    ASSIGN_OR_RETURN(
        SqliteStatement s,
        db.Prepare("INSERT INTO trials (sweep_id, trial_index, state, attempt_limit, dataset, "
                   "dataset_path, train_examples, validation_examples, test_examples, "
                   "preprocess, activation, init, init_gain, depth, width, loss, learning_rate, "
                   "momentum, lr_decay, batch_size, updates, checkpoint_every, probe_examples, "
                   "seed, seed_index, created_at_us, updated_at_us, data_seed, histogram_bins, "
                   "jacobian_examples, stuck_after_updates, stuck_error, snapshot_every, "
                   "snapshot_seconds, keep_weights) VALUES (?1, ?2, "
                   "'pending', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                   "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?25, ?26, ?27, ?28, ?29, ?30, "
                   "?31, ?32, ?33)"));
    for (size_t i = 0; i < trials.size(); ++i) {
      const TrialSpec& t = trials[i];
      s.Bind(1, created.id);
      s.Bind(2, static_cast<int64_t>(i));
      s.Bind(3, sweep.max_attempts);
      s.Bind(4, t.dataset.name);
      s.Bind(5, t.dataset.path);
      s.Bind(6, t.dataset.train_examples);
      s.Bind(7, t.dataset.validation_examples);
      s.Bind(8, t.dataset.test_examples);
      s.Bind(9, t.dataset.preprocess);
      s.Bind(10, t.activation);
      s.Bind(11, t.init);
      s.Bind(12, t.init_gain);
      s.Bind(13, t.depth);
      s.Bind(14, t.width);
      s.Bind(15, t.loss);
      s.Bind(16, t.learning_rate);
      s.Bind(17, t.momentum);
      s.Bind(18, t.lr_decay);
      s.Bind(19, t.batch_size);
      s.Bind(20, t.updates);
      s.Bind(21, t.checkpoint_every);
      s.Bind(22, t.probe_examples);
      s.Bind(23, static_cast<int64_t>(t.seed));
      s.Bind(24, t.seed_index);
      s.Bind(25, now);
      s.Bind(26, static_cast<int64_t>(t.data_seed));
      s.Bind(27, t.histogram_bins);
      s.Bind(28, t.jacobian_examples);
      s.Bind(29, t.stuck_after_updates);
      s.Bind(30, t.stuck_error);
      s.Bind(31, t.snapshot_every);
      s.Bind(32, t.snapshot_seconds);
      s.Bind(33, t.keep_weights);
      RETURN_IF_ERROR(s.Run());
      created.trial_ids.push_back(sqlite3_last_insert_rowid(db.raw()));
      s.Reset();
    }
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<UnfinishedWork> SqliteSweepStore::LoadUnfinished() {
  UnfinishedWork work;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(
        work.sweeps,
        QuerySweeps(db,
                    absl::StrCat("SELECT ", kSweepColumns,
                                 " FROM sweeps WHERE finished_at_us IS NULL OR id IN (SELECT "
                                 "sweep_id FROM trials WHERE state IN ('pending', 'leased')) "
                                 "ORDER BY id"),
                    std::nullopt));
    // x.* is kTrialColumns in ReadTrial's order, then the lease's two columns.
    ASSIGN_OR_RETURN(
        SqliteStatement s,
        db.Prepare(absl::StrCat(
            "SELECT x.*, l.lease_id, l.deadline_us FROM (SELECT ", kTrialColumns,
            " FROM trials WHERE state IN ('pending', 'leased')) AS x LEFT JOIN leases AS l ON "
            "x.state = 'leased' AND l.trial_id = x.id AND l.attempt = x.attempt ORDER BY x.id")));
    constexpr int kLeaseColumn = kTrialColumnCount;
    return s.ForEachRow([&]() -> absl::Status {
      ASSIGN_OR_RETURN(TrialRecord t, ReadTrial(s));
      UnfinishedTrial u{.id = t.id,
                        .sweep_id = t.sweep_id,
                        .index = t.index,
                        .state = t.state,
                        .attempt = t.attempt,
                        .attempt_limit = t.attempt_limit,
                        .worker_id = std::move(t.worker_id),
                        .spec = std::move(t.spec)};
      if (!s.IsNull(kLeaseColumn)) {
        u.lease = Lease{.trial_id = u.id,
                        .lease_id = s.Text(kLeaseColumn),
                        .attempt = u.attempt,
                        .deadline = FromUs(s.Int(kLeaseColumn + 1))};
      }
      work.trials.push_back(std::move(u));
      return absl::OkStatus();
    });
  }));
  return work;
}

absl::StatusOr<SweepRecord> SqliteSweepStore::GetSweep(SweepId id) {
  std::vector<SweepRecord> sweeps;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(
        sweeps,
        QuerySweeps(db, absl::StrCat("SELECT ", kSweepColumns, " FROM sweeps WHERE id = ?1"), id));
    return absl::OkStatus();
  }));
  if (sweeps.empty()) return absl::NotFoundError(absl::StrCat("sweep ", id, " not found"));
  return std::move(sweeps.front());
}

absl::StatusOr<std::vector<SweepRecord>> SqliteSweepStore::ListSweeps() {
  std::vector<SweepRecord> sweeps;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(
        sweeps, QuerySweeps(db, absl::StrCat("SELECT ", kSweepColumns, " FROM sweeps ORDER BY id"),
                            std::nullopt));
    return absl::OkStatus();
  }));
  return sweeps;
}

absl::StatusOr<TrialRecord> SqliteSweepStore::GetTrial(TrialId id) {
  ASSIGN_OR_RETURN(std::vector<TrialRecord> trials,
                   ListTrials({.conditions = {{"id", TrialCondition::Op::kEq, absl::StrCat(id)}}}));
  if (trials.empty()) return absl::NotFoundError(absl::StrCat("trial ", id, " not found"));
  return std::move(trials.front());
}

absl::StatusOr<std::vector<TrialRecord>> SqliteSweepStore::ListTrials(const TrialQuery& query) {
  ASSIGN_OR_RETURN(ResolvedTrialQuery q, ResolveTrialQuery(query));
  // Column names come from the fixed field table, values are bound: no user
  // text reaches the SQL.
  std::string sql = absl::StrCat("SELECT ", kTrialColumns, " FROM trials");
  for (size_t i = 0; i < q.predicates.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? " WHERE " : " AND ", q.predicates[i].field->Column(), " ",
                    std::string(TrialConditionOpSymbol(q.predicates[i].op)), " ?", i + 1);
  }
  absl::StrAppend(&sql, " ORDER BY ", q.order_by->Column(), q.descending ? " DESC" : "", ", id");
  const size_t limit_param = q.predicates.size() + 1;
  absl::StrAppend(&sql, " LIMIT ?", limit_param, " OFFSET ?", limit_param + 1);

  std::vector<TrialRecord> trials;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(sql));
    for (size_t i = 0; i < q.predicates.size(); ++i) {
      const int p = static_cast<int>(i + 1);
      const TrialFieldValue& v = q.predicates[i].value;
      if (const auto* n = std::get_if<int64_t>(&v)) s.Bind(p, *n);
      if (const auto* x = std::get_if<double>(&v)) s.Bind(p, *x);
      if (const auto* t = std::get_if<std::string>(&v)) s.Bind(p, std::string_view(*t));
    }
    s.Bind(static_cast<int>(limit_param), q.limit > 0 ? q.limit : int64_t{-1});
    s.Bind(static_cast<int>(limit_param + 1), q.offset);
    return s.ForEachRow([&]() -> absl::Status {
      ASSIGN_OR_RETURN(TrialRecord t, ReadTrial(s));
      trials.push_back(std::move(t));
      return absl::OkStatus();
    });
  }));
  return trials;
}

absl::StatusOr<std::vector<Checkpoint>> SqliteSweepStore::GetCheckpoints(TrialId trial, int attempt,
                                                                         bool with_layer_stats) {
  std::vector<Checkpoint> checkpoints;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(RequireTrial(db, trial));
    {
      ASSIGN_OR_RETURN(SqliteStatement s,
                       db.Prepare("SELECT step, examples_seen, train_nll, test_error, test_nll, "
                                  "validation_error, validation_nll, wall_seconds FROM "
                                  "checkpoints WHERE trial_id = ?1 AND attempt = ?2 "
                                  "ORDER BY step"));
      s.Bind(1, trial);
      s.Bind(2, attempt);
      RETURN_IF_ERROR(s.ForEachRow([&]() -> absl::Status {
        checkpoints.push_back({.step = s.Int(0),
                               .examples_seen = s.Int(1),
                               .train_nll = s.Real(2),
                               .test_error = s.Real(3),
                               .test_nll = s.Real(4),
                               .validation_error = s.Real(5),
                               .validation_nll = s.Real(6),
                               .wall_seconds = s.Real(7)});
        return absl::OkStatus();
      }));
    }
    if (!with_layer_stats || checkpoints.empty()) return absl::OkStatus();
    static const std::string* const kSelect =
        new std::string(absl::StrCat("SELECT step, layer, ", QuantityColumns(),
                                     " FROM checkpoint_layers WHERE trial_id = ?1 AND attempt = ?2 "
                                     "ORDER BY step, layer"));
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(*kSelect));
    s.Bind(1, trial);
    s.Bind(2, attempt);
    size_t c = 0;  // both lists are ordered by step
    return s.ForEachRow([&]() -> absl::Status {
      const int64_t step = s.Int(0);
      while (c < checkpoints.size() && checkpoints[c].step < step) ++c;
      if (c == checkpoints.size() || checkpoints[c].step != step) return absl::OkStatus();
      const int layer = static_cast<int>(s.Int(1));
      int column = 2;
      for (LayerQuantity q : kQuantities) {
        if (s.Int(column) != 0) {
          checkpoints[c].layer_stats.push_back({.layer = layer,
                                                .quantity = q,
                                                .mean = s.Real(column + 1),
                                                .std = s.Real(column + 2),
                                                .p02 = s.Real(column + 3),
                                                .p50 = s.Real(column + 4),
                                                .p98 = s.Real(column + 5),
                                                .saturated_fraction = s.Real(column + 6),
                                                .jacobian_sv_mean = s.Real(column + 7),
                                                .hist_lo = s.Real(column + 8),
                                                .hist_hi = s.Real(column + 9),
                                                .histogram = s.Floats(column + 10)});
        }
        column += kColumnsPerQuantity;
      }
      return absl::OkStatus();
    });
  }));
  return checkpoints;
}

absl::StatusOr<std::vector<WorkerRecord>> SqliteSweepStore::ListWorkers() {
  std::vector<WorkerRecord> workers;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare("SELECT worker_id, host, pid, version, cores, first_seen_us, "
                                "last_seen_us, current_trial, compute_path FROM workers ORDER BY "
                                "worker_id"));
    return s.ForEachRow([&]() -> absl::Status {
      WorkerRecord w{.info = {.worker_id = s.Text(0),
                              .host = s.Text(1),
                              .pid = s.Int(2),
                              .version = s.Text(3),
                              .cores = static_cast<int>(s.Int(4)),
                              .compute_path = s.Text(8)},
                     .first_seen = FromUs(s.Int(5)),
                     .last_seen = FromUs(s.Int(6))};
      if (!s.IsNull(7)) w.current_trial = s.Int(7);
      workers.push_back(std::move(w));
      return absl::OkStatus();
    });
  }));
  return workers;
}

absl::StatusOr<std::vector<TrialAttempt>> SqliteSweepStore::ListAttempts(TrialId trial) {
  std::vector<TrialAttempt> attempts;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(RequireTrial(db, trial));
    // The view is the definition (docs/SCHEMA.md); the lease row adds exact times.
    ASSIGN_OR_RETURN(
        SqliteStatement s,
        db.Prepare("SELECT a.attempt, a.worker_id, COALESCE(a.outcome, ''), l.acquired_at_us, "
                   "l.ended_at_us, a.started_at_step, a.reached_step, a.updates_redone, "
                   "a.snapshots, a.snapshot_step FROM trial_attempts a JOIN leases l "
                   "ON l.trial_id = a.trial_id AND l.attempt = a.attempt "
                   "WHERE a.trial_id = ?1 ORDER BY a.attempt"));
    s.Bind(1, trial);
    return s.ForEachRow([&]() -> absl::Status {
      TrialAttempt a{.trial_id = trial,
                     .attempt = static_cast<int>(s.Int(0)),
                     .worker_id = s.Text(1),
                     .outcome = s.Text(2),
                     .acquired_at = FromUs(s.Int(3)),
                     .started_at_step = s.Int(5),
                     .reached_step = s.OptionalInt(6),
                     .updates_redone = s.OptionalInt(7),
                     .snapshots = s.Int(8),
                     .snapshot_step = s.OptionalInt(9)};
      if (!s.IsNull(4)) a.ended_at = FromUs(s.Int(4));
      attempts.push_back(std::move(a));
      return absl::OkStatus();
    });
  }));
  return attempts;
}

absl::StatusOr<std::shared_ptr<const SqliteSweepStore::ConfigGrouping>>
SqliteSweepStore::ReadGrouping(SqliteDb& db, SweepId sweep) {
  {
    absl::MutexLock lock(&groupings_mu_);
    auto it = groupings_.find(sweep);
    if (it != groupings_.end()) return it->second;
  }
  // Each configuration is named by its first trial (window MIN over the
  // configuration columns).
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT id, MIN(id) OVER (PARTITION BY ", kConfigColumns,
                   ") AS first_id FROM trials WHERE sweep_id = ?1 ORDER BY first_id, id"));
  auto grouping = std::make_shared<ConfigGrouping>();
  {
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(*kSql));
    s.Bind(1, sweep);
    RETURN_IF_ERROR(s.ForEachRow([&]() -> absl::Status {
      const TrialId id = s.Int(0);
      const TrialId first = s.Int(1);
      if (grouping->configs.empty() || grouping->configs.back().first_trial != first) {
        grouping->configs.push_back(ConfigAggregate{.first_trial = first});
      }
      grouping->config_of[id] = static_cast<int>(grouping->configs.size() - 1);
      return absl::OkStatus();
    }));
  }
  ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(absl::StrCat("SELECT ", kTrialColumns,
                                                              " FROM trials WHERE id = ?1")));
  for (ConfigAggregate& c : grouping->configs) {
    s.Reset();
    s.Bind(1, c.first_trial);
    ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) return absl::InternalError("a configuration's first trial vanished");
    ASSIGN_OR_RETURN(TrialRecord t, ReadTrial(s));
    c.config = ConfigOf(t.spec);
  }
  absl::MutexLock lock(&groupings_mu_);
  if (groupings_.size() >= kMaxGroupings) groupings_.clear();
  groupings_[sweep] = grouping;
  return grouping;
}

absl::StatusOr<std::vector<ConfigAggregate>> SqliteSweepStore::AggregateConfigs(SweepId sweep) {
  std::vector<ConfigAggregate> configs;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(RequireSweep(db, sweep));
    // Which configuration each trial is in never changes (a trial's spec is
    // fixed, and trials are stored with their sweep only), so it is read once
    // per sweep; what changes is summed here from one pass over the sweep's
    // rows: 10,000 trials cost a few ms rather than the ~100 ms of the
    // grouping query (docs/PERFORMANCE.md, the dashboard sections).
    ASSIGN_OR_RETURN(std::shared_ptr<const ConfigGrouping> grouping, ReadGrouping(db, sweep));
    configs = grouping->configs;
    ASSIGN_OR_RETURN(SqliteStatement s,
                     db.Prepare("SELECT id, state, final_test_error, final_validation_error "
                                "FROM trials WHERE sweep_id = ?1"));
    s.Bind(1, sweep);
    return s.ForEachRow([&]() -> absl::Status {
      auto it = grouping->config_of.find(s.Int(0));
      if (it == grouping->config_of.end()) {
        return absl::InternalError(absl::StrCat("trial ", s.Int(0), " of sweep ", sweep,
                                                " appeared after the sweep was stored"));
      }
      ConfigAggregate& c = configs[it->second];
      const std::optional<TrialState> state = ParseTrialState(s.Text(1));
      if (!state.has_value()) {
        return absl::InternalError(absl::StrCat("unknown trial state \"", s.Text(1), "\""));
      }
      AddToCounts(*state, 1, c.counts);
      if (*state != TrialState::kSucceeded) return absl::OkStatus();
      if (!s.IsNull(2)) {
        const double e = s.Real(2);
        ++c.n;
        c.sum_test_error += e;
        c.sum_squares_test_error += e * e;
      }
      if (!s.IsNull(3)) {
        ++c.n_validation;
        c.sum_validation_error += s.Real(3);
      }
      return absl::OkStatus();
    });
  }));
  return configs;
}

absl::StatusOr<std::vector<StepAggregate>> SqliteSweepStore::AggregateCheckpoints(
    SweepId sweep, const TrialSpec& config) {
  const std::string sql = absl::StrCat(
      "SELECT c.step, COUNT(c.test_error), TOTAL(c.test_error), "
      "TOTAL(c.test_error * c.test_error), COUNT(c.validation_error), "
      "TOTAL(c.validation_error), TOTAL(c.validation_error * c.validation_error) "
      "FROM trials AS t JOIN checkpoints AS c ON c.trial_id = t.id AND c.attempt = t.attempt "
      "WHERE t.sweep_id = ?1 AND ",
      ConfigEqualsClause(2), " GROUP BY c.step ORDER BY c.step");
  std::vector<StepAggregate> steps;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(RequireSweep(db, sweep));
    ASSIGN_OR_RETURN(SqliteStatement s, db.Prepare(sql));
    s.Bind(1, sweep);
    BindConfig(s, 2, config);
    return s.ForEachRow([&]() -> absl::Status {
      steps.push_back(StepAggregate{.step = s.Int(0),
                                    .n_test = s.Int(1),
                                    .sum_test_error = s.Real(2),
                                    .sum_squares_test_error = s.Real(3),
                                    .n_validation = s.Int(4),
                                    .sum_validation_error = s.Real(5),
                                    .sum_squares_validation_error = s.Real(6)});
      return absl::OkStatus();
    });
  }));
  return steps;
}

absl::StatusOr<std::vector<absl::Time>> SqliteSweepStore::RecentFinishTimes(SweepId sweep,
                                                                            int limit) {
  std::vector<absl::Time> times;
  RETURN_IF_ERROR(Read([&](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(RequireSweep(db, sweep));
    ASSIGN_OR_RETURN(
        SqliteStatement s,
        db.Prepare("SELECT updated_at_us FROM trials WHERE sweep_id = ?1 AND (state = "
                   "'succeeded' OR state = 'diverged' OR state = 'failed' OR state = 'pruned') "
                   "ORDER BY updated_at_us DESC LIMIT ?2"));
    s.Bind(1, sweep);
    s.Bind(2, limit < 0 ? int64_t{-1} : int64_t{limit});
    return s.ForEachRow([&]() -> absl::Status {
      times.push_back(FromUs(s.Int(0)));
      return absl::OkStatus();
    });
  }));
  return times;
}

}  // namespace deepsweep
