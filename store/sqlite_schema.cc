#include "store/sqlite_schema.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/student_t.h"

namespace deepsweep {
namespace {

// Version 1: tables, indexes, the t-quantile table and the views.
//
// Times are integer microseconds since the Unix epoch (columns *_us); the
// views show them as UTC text. Metric columns are nullable: SQLite stores NaN
// as NULL. Foreign keys are declared for the reader; the coordinator is the
// only writer and keeps them.
constexpr char kVersion1[] = R"sql(
CREATE TABLE sweeps (
  id             INTEGER PRIMARY KEY,
  name           TEXT    NOT NULL,
  spec_yaml      TEXT    NOT NULL,
  -- CHECKs compare with = rather than IN: SQLite builds a temporary table for
  -- an IN list on every row it checks.
  state          TEXT    NOT NULL CHECK (state = 'active' OR state = 'cancelled' OR
                                         state = 'finished'),
  max_attempts   INTEGER NOT NULL,
  created_at_us  INTEGER NOT NULL,
  finished_at_us INTEGER
);

CREATE TABLE trials (
  id                     INTEGER PRIMARY KEY,
  sweep_id               INTEGER NOT NULL REFERENCES sweeps(id),
  trial_index            INTEGER NOT NULL,
  state                  TEXT    NOT NULL CHECK (state = 'pending' OR state = 'leased' OR
                           state = 'succeeded' OR state = 'diverged' OR state = 'failed' OR
                           state = 'cancelled'),
  attempt                INTEGER NOT NULL DEFAULT 0,
  attempt_limit          INTEGER NOT NULL,
  worker_id              TEXT    NOT NULL DEFAULT '',
  reason                 TEXT    NOT NULL DEFAULT '',
  dataset                TEXT    NOT NULL,
  dataset_path           TEXT    NOT NULL,
  train_examples         INTEGER NOT NULL,
  validation_examples    INTEGER NOT NULL,
  test_examples          INTEGER NOT NULL,
  preprocess             TEXT    NOT NULL,
  activation             TEXT    NOT NULL,
  init                   TEXT    NOT NULL,
  init_gain              REAL    NOT NULL,
  depth                  INTEGER NOT NULL,
  width                  INTEGER NOT NULL,
  loss                   TEXT    NOT NULL,
  learning_rate          REAL    NOT NULL,
  momentum               REAL    NOT NULL,
  lr_decay               REAL    NOT NULL,
  batch_size             INTEGER NOT NULL,
  updates                INTEGER NOT NULL,
  checkpoint_every       INTEGER NOT NULL,
  probe_examples         INTEGER NOT NULL,
  seed                   INTEGER NOT NULL,
  seed_index             INTEGER NOT NULL,
  steps_done             INTEGER NOT NULL DEFAULT 0,
  final_test_error       REAL,
  final_test_nll         REAL,
  final_validation_error REAL,
  created_at_us          INTEGER NOT NULL,
  updated_at_us          INTEGER NOT NULL,
  UNIQUE (sweep_id, trial_index)
);
CREATE INDEX trials_by_sweep_state     ON trials (sweep_id, state);
CREATE INDEX trials_by_state           ON trials (state);
CREATE INDEX trials_by_dataset         ON trials (dataset);
CREATE INDEX trials_by_activation      ON trials (activation);
CREATE INDEX trials_by_init            ON trials (init);
CREATE INDEX trials_by_depth           ON trials (depth);
CREATE INDEX trials_by_width           ON trials (width);
CREATE INDEX trials_by_learning_rate   ON trials (learning_rate);
CREATE INDEX trials_by_batch_size      ON trials (batch_size);
CREATE INDEX trials_by_loss            ON trials (loss);
CREATE INDEX trials_by_momentum        ON trials (momentum);
CREATE INDEX trials_by_seed            ON trials (seed);
CREATE INDEX trials_by_seed_index      ON trials (seed_index);
CREATE INDEX trials_by_attempt         ON trials (attempt);
CREATE INDEX trials_by_final_test_error ON trials (final_test_error);

-- One row per (trial, attempt): the current lease and, after it ends, its history.
CREATE TABLE leases (
  trial_id       INTEGER NOT NULL REFERENCES trials(id),
  attempt        INTEGER NOT NULL,
  lease_id       TEXT    NOT NULL,
  worker_id      TEXT    NOT NULL,
  acquired_at_us INTEGER NOT NULL,
  deadline_us    INTEGER NOT NULL,
  ended_at_us    INTEGER,
  outcome        TEXT,
  PRIMARY KEY (trial_id, attempt)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  trial_id         INTEGER NOT NULL REFERENCES trials(id),
  attempt          INTEGER NOT NULL,
  step             INTEGER NOT NULL,
  examples_seen    INTEGER NOT NULL,
  train_nll        REAL,
  test_error       REAL,
  test_nll         REAL,
  validation_error REAL,
  validation_nll   REAL,
  wall_seconds     REAL,
  recorded_at_us   INTEGER NOT NULL,
  PRIMARY KEY (trial_id, attempt, step)
) WITHOUT ROWID;

-- histogram: float32 little-endian counts over [hist_lo, hist_hi], summing to 1.
CREATE TABLE layer_stats (
  trial_id           INTEGER NOT NULL,
  attempt            INTEGER NOT NULL,
  step               INTEGER NOT NULL,
  layer              INTEGER NOT NULL,
  quantity           TEXT    NOT NULL CHECK (quantity = 'activation' OR
                       quantity = 'backprop_grad' OR quantity = 'weight_grad'),
  mean               REAL,
  std                REAL,
  p02                REAL,
  p50                REAL,
  p98                REAL,
  saturated_fraction REAL,
  jacobian_sv_mean   REAL,
  hist_lo            REAL,
  hist_hi            REAL,
  histogram          BLOB,
  FOREIGN KEY (trial_id, attempt, step) REFERENCES checkpoints (trial_id, attempt, step)
);
CREATE INDEX layer_stats_by_checkpoint ON layer_stats (trial_id, attempt, step);

CREATE TABLE workers (
  worker_id     TEXT    PRIMARY KEY,
  host          TEXT    NOT NULL,
  pid           INTEGER NOT NULL,
  version       TEXT    NOT NULL,
  cores         INTEGER NOT NULL,
  first_seen_us INTEGER NOT NULL,
  last_seen_us  INTEGER NOT NULL,
  current_trial INTEGER
) WITHOUT ROWID;

-- Two-sided 95% quantiles of Student's t: t such that P(|T_df| <= t) = 0.95.
-- config_summary uses the largest df not above n - 1, which errs wide.
CREATE TABLE student_t975 (df INTEGER PRIMARY KEY, t REAL NOT NULL);
INSERT INTO student_t975 (df, t) VALUES
  (1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (5, 2.5706), (6, 2.4469),
  (7, 2.3646), (8, 2.3060), (9, 2.2622), (10, 2.2281), (11, 2.2010), (12, 2.1788),
  (13, 2.1604), (14, 2.1448), (15, 2.1314), (16, 2.1199), (17, 2.1098), (18, 2.1009),
  (19, 2.0930), (20, 2.0860), (21, 2.0796), (22, 2.0739), (23, 2.0687), (24, 2.0639),
  (25, 2.0595), (26, 2.0555), (27, 2.0518), (28, 2.0484), (29, 2.0452), (30, 2.0423),
  (40, 2.0211), (60, 2.0003), (120, 1.9799), (1000000, 1.9600);

-- One row per trial: its configuration, state and final metrics.
CREATE VIEW trial_summary AS
SELECT t.id AS trial_id, t.sweep_id, s.name AS sweep_name, t.trial_index, t.state,
       t.dataset, t.activation, t.init, t.depth, t.width, t.learning_rate, t.batch_size,
       t.loss, t.momentum, t.init_gain, t.lr_decay, t.updates, t.train_examples, t.preprocess,
       t.seed, t.seed_index, t.attempt, t.steps_done,
       t.final_test_error, t.final_test_nll, t.final_validation_error,
       t.reason, t.worker_id,
       datetime(t.updated_at_us / 1000000, 'unixepoch') AS updated_at
FROM trials AS t JOIN sweeps AS s ON s.id = t.sweep_id;

-- One row per configuration of a sweep, across its seeds. n counts the
-- SUCCEEDED trials with a final test error; mean, std (sample, n - 1) and the
-- 95% confidence interval of the mean (Student's t) are over those.
-- std = sqrt((sum x^2 - n mean^2) / (n - 1)), floored at 0 against rounding.
CREATE VIEW config_summary AS
WITH groups AS (
  SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
         momentum, lr_decay, batch_size, updates, train_examples, preprocess,
         COUNT(*) AS trials,
         SUM(state = 'succeeded' AND final_test_error IS NOT NULL) AS n,
         SUM(state = 'diverged') AS diverged,
         SUM(state = 'failed') AS failed,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_error END) AS mean_test_error,
         SUM(CASE WHEN state = 'succeeded' THEN final_test_error * final_test_error END)
           AS sum_sq_test_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_validation_error END)
           AS mean_validation_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_nll END) AS mean_test_nll
  FROM trials
  GROUP BY sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
           momentum, lr_decay, batch_size, updates, train_examples, preprocess
), spread AS (
  SELECT *,
         CASE WHEN n >= 2 THEN sqrt(max(0.0, (sum_sq_test_error - n * mean_test_error *
                                              mean_test_error) / (n - 1))) END AS std_test_error
  FROM groups
)
SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
       momentum, lr_decay, batch_size, updates, train_examples, preprocess,
       trials, n, diverged, failed,
       mean_test_error, std_test_error,
       (SELECT q.t FROM student_t975 AS q WHERE q.df <= n - 1 ORDER BY q.df DESC LIMIT 1)
         * std_test_error / sqrt(n) AS ci95_test_error,
       mean_validation_error, mean_test_nll
FROM spread;

-- The paper's Table 1: mean final test error (%) per activation, init and depth
-- (rows) and dataset (columns). Like the paper, each cell takes the best
-- configuration (over learning rate, width, ... and over sweeps): the lowest
-- mean validation error, then the lowest mean test error. The paper's own table
-- is the depth = 5 slice. Rows: by depth, activation, then each init before
-- its normalized ("N") variant, as in the paper.
CREATE VIEW table1 AS
WITH best AS (
  SELECT dataset, activation, init, depth, mean_test_error,
         ROW_NUMBER() OVER (PARTITION BY dataset, activation, init, depth
                            ORDER BY mean_validation_error IS NULL, mean_validation_error,
                                     mean_test_error) AS rank
  FROM config_summary
  WHERE n > 0
)
SELECT activation, init, depth,
       upper(substr(activation, 1, 1)) || substr(activation, 2) ||
         CASE init WHEN 'normalized' THEN ' N' WHEN 'standard' THEN ''
                   ELSE ' (' || init || ')' END AS label,
       round(100 * max(CASE WHEN dataset = 'shapeset' THEN mean_test_error END), 2) AS shapeset,
       round(100 * max(CASE WHEN dataset = 'mnist' THEN mean_test_error END), 2) AS mnist,
       round(100 * max(CASE WHEN dataset = 'fashion-mnist' THEN mean_test_error END), 2)
         AS fashion_mnist,
       round(100 * max(CASE WHEN dataset = 'cifar10' THEN mean_test_error END), 2) AS cifar10
FROM best
WHERE rank = 1
GROUP BY activation, init, depth
ORDER BY depth, activation, init = 'normalized', init;
)sql";

// Version 2: the trials carry what used to be worker settings and changes
// their stored metrics (layer-statistics histogram bins and Jacobian
// examples, the "stuck at chance" rule), and a data seed of their own.
// Existing rows get what produced them: the worker's defaults of the time
// and data_seed = seed (the data came from the trial seed), so they replay
// bit for bit.
constexpr char kVersion2[] = R"sql(
ALTER TABLE trials ADD COLUMN data_seed           INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN histogram_bins      INTEGER NOT NULL DEFAULT 50;
ALTER TABLE trials ADD COLUMN jacobian_examples   INTEGER NOT NULL DEFAULT 2;
ALTER TABLE trials ADD COLUMN stuck_after_updates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN stuck_error         REAL    NOT NULL DEFAULT 1.0;
UPDATE trials SET data_seed = seed;
CREATE INDEX trials_by_data_seed ON trials (data_seed);

DROP VIEW trial_summary;
CREATE VIEW trial_summary AS
SELECT t.id AS trial_id, t.sweep_id, s.name AS sweep_name, t.trial_index, t.state,
       t.dataset, t.activation, t.init, t.depth, t.width, t.learning_rate, t.batch_size,
       t.loss, t.momentum, t.init_gain, t.lr_decay, t.updates, t.train_examples, t.preprocess,
       t.seed, t.seed_index, t.attempt, t.steps_done,
       t.final_test_error, t.final_test_nll, t.final_validation_error,
       t.reason, t.worker_id,
       datetime(t.updated_at_us / 1000000, 'unixepoch') AS updated_at,
       t.data_seed, t.histogram_bins, t.jacobian_examples, t.stuck_after_updates, t.stuck_error
FROM trials AS t JOIN sweeps AS s ON s.id = t.sweep_id;
)sql";

// Version 3: layer statistics as one row per (checkpoint, layer) holding the
// three quantities side by side, instead of one row per (checkpoint, layer,
// quantity): a third of the rows and index entries for the same values, and
// those inserts were most of the writer's work per trial (docs/PERFORMANCE.md).
// The view layer_stats keeps version 1's long shape, so queries written
// against it still run. Existing rows move into the new table.
constexpr char kVersion3[] = R"sql(
-- One row per (trial, attempt, step, layer). For each quantity q (activation,
-- backprop_grad, weight_grad): has_q is 1 when the worker reported it, and
-- q_mean .. q_histogram are its statistics (as in version 1's layer_stats).
CREATE TABLE checkpoint_layers (
  trial_id INTEGER NOT NULL,
  attempt  INTEGER NOT NULL,
  step     INTEGER NOT NULL,
  layer    INTEGER NOT NULL,
  has_activation INTEGER NOT NULL CHECK (has_activation = 0 OR has_activation = 1),
  activation_mean REAL,
  activation_std REAL,
  activation_p02 REAL,
  activation_p50 REAL,
  activation_p98 REAL,
  activation_saturated_fraction REAL,
  activation_jacobian_sv_mean REAL,
  activation_hist_lo REAL,
  activation_hist_hi REAL,
  activation_histogram BLOB,
  has_backprop_grad INTEGER NOT NULL CHECK (has_backprop_grad = 0 OR has_backprop_grad = 1),
  backprop_grad_mean REAL,
  backprop_grad_std REAL,
  backprop_grad_p02 REAL,
  backprop_grad_p50 REAL,
  backprop_grad_p98 REAL,
  backprop_grad_saturated_fraction REAL,
  backprop_grad_jacobian_sv_mean REAL,
  backprop_grad_hist_lo REAL,
  backprop_grad_hist_hi REAL,
  backprop_grad_histogram BLOB,
  has_weight_grad INTEGER NOT NULL CHECK (has_weight_grad = 0 OR has_weight_grad = 1),
  weight_grad_mean REAL,
  weight_grad_std REAL,
  weight_grad_p02 REAL,
  weight_grad_p50 REAL,
  weight_grad_p98 REAL,
  weight_grad_saturated_fraction REAL,
  weight_grad_jacobian_sv_mean REAL,
  weight_grad_hist_lo REAL,
  weight_grad_hist_hi REAL,
  weight_grad_histogram BLOB,
  FOREIGN KEY (trial_id, attempt, step) REFERENCES checkpoints (trial_id, attempt, step)
);
CREATE INDEX checkpoint_layers_by_checkpoint ON checkpoint_layers (trial_id, attempt, step);

INSERT INTO checkpoint_layers (
  trial_id, attempt, step, layer, has_activation, activation_mean, activation_std,
  activation_p02, activation_p50, activation_p98, activation_saturated_fraction,
  activation_jacobian_sv_mean, activation_hist_lo, activation_hist_hi, activation_histogram,
  has_backprop_grad, backprop_grad_mean, backprop_grad_std, backprop_grad_p02,
  backprop_grad_p50, backprop_grad_p98, backprop_grad_saturated_fraction,
  backprop_grad_jacobian_sv_mean, backprop_grad_hist_lo, backprop_grad_hist_hi,
  backprop_grad_histogram, has_weight_grad, weight_grad_mean, weight_grad_std, weight_grad_p02,
  weight_grad_p50, weight_grad_p98, weight_grad_saturated_fraction,
  weight_grad_jacobian_sv_mean, weight_grad_hist_lo, weight_grad_hist_hi, weight_grad_histogram)
SELECT trial_id, attempt, step, layer, max(quantity = 'activation'),
       max(CASE WHEN quantity = 'activation' THEN mean END),
       max(CASE WHEN quantity = 'activation' THEN std END),
       max(CASE WHEN quantity = 'activation' THEN p02 END),
       max(CASE WHEN quantity = 'activation' THEN p50 END),
       max(CASE WHEN quantity = 'activation' THEN p98 END),
       max(CASE WHEN quantity = 'activation' THEN saturated_fraction END),
       max(CASE WHEN quantity = 'activation' THEN jacobian_sv_mean END),
       max(CASE WHEN quantity = 'activation' THEN hist_lo END),
       max(CASE WHEN quantity = 'activation' THEN hist_hi END),
       max(CASE WHEN quantity = 'activation' THEN histogram END),
       max(quantity = 'backprop_grad'), max(CASE WHEN quantity = 'backprop_grad' THEN mean END),
       max(CASE WHEN quantity = 'backprop_grad' THEN std END),
       max(CASE WHEN quantity = 'backprop_grad' THEN p02 END),
       max(CASE WHEN quantity = 'backprop_grad' THEN p50 END),
       max(CASE WHEN quantity = 'backprop_grad' THEN p98 END),
       max(CASE WHEN quantity = 'backprop_grad' THEN saturated_fraction END),
       max(CASE WHEN quantity = 'backprop_grad' THEN jacobian_sv_mean END),
       max(CASE WHEN quantity = 'backprop_grad' THEN hist_lo END),
       max(CASE WHEN quantity = 'backprop_grad' THEN hist_hi END),
       max(CASE WHEN quantity = 'backprop_grad' THEN histogram END),
       max(quantity = 'weight_grad'), max(CASE WHEN quantity = 'weight_grad' THEN mean END),
       max(CASE WHEN quantity = 'weight_grad' THEN std END),
       max(CASE WHEN quantity = 'weight_grad' THEN p02 END),
       max(CASE WHEN quantity = 'weight_grad' THEN p50 END),
       max(CASE WHEN quantity = 'weight_grad' THEN p98 END),
       max(CASE WHEN quantity = 'weight_grad' THEN saturated_fraction END),
       max(CASE WHEN quantity = 'weight_grad' THEN jacobian_sv_mean END),
       max(CASE WHEN quantity = 'weight_grad' THEN hist_lo END),
       max(CASE WHEN quantity = 'weight_grad' THEN hist_hi END),
       max(CASE WHEN quantity = 'weight_grad' THEN histogram END)
FROM layer_stats
GROUP BY trial_id, attempt, step, layer
ORDER BY trial_id, attempt, step, layer;

DROP TABLE layer_stats;

-- Version 1's shape: one row per (checkpoint, layer, quantity).
CREATE VIEW layer_stats AS
SELECT trial_id, attempt, step, layer, 'activation' AS quantity, activation_mean AS mean,
       activation_std AS std, activation_p02 AS p02, activation_p50 AS p50,
       activation_p98 AS p98, activation_saturated_fraction AS saturated_fraction,
       activation_jacobian_sv_mean AS jacobian_sv_mean, activation_hist_lo AS hist_lo,
       activation_hist_hi AS hist_hi, activation_histogram AS histogram
FROM checkpoint_layers WHERE has_activation = 1
UNION ALL
SELECT trial_id, attempt, step, layer, 'backprop_grad' AS quantity, backprop_grad_mean AS mean,
       backprop_grad_std AS std, backprop_grad_p02 AS p02, backprop_grad_p50 AS p50,
       backprop_grad_p98 AS p98, backprop_grad_saturated_fraction AS saturated_fraction,
       backprop_grad_jacobian_sv_mean AS jacobian_sv_mean, backprop_grad_hist_lo AS hist_lo,
       backprop_grad_hist_hi AS hist_hi, backprop_grad_histogram AS histogram
FROM checkpoint_layers WHERE has_backprop_grad = 1
UNION ALL
SELECT trial_id, attempt, step, layer, 'weight_grad' AS quantity, weight_grad_mean AS mean,
       weight_grad_std AS std, weight_grad_p02 AS p02, weight_grad_p50 AS p50,
       weight_grad_p98 AS p98, weight_grad_saturated_fraction AS saturated_fraction,
       weight_grad_jacobian_sv_mean AS jacobian_sv_mean, weight_grad_hist_lo AS hist_lo,
       weight_grad_hist_hi AS hist_hi, weight_grad_histogram AS histogram
FROM checkpoint_layers WHERE has_weight_grad = 1;
)sql";

// Version 4: trials a sweep's schedule stopped early. The state PRUNED joins
// the trials' CHECK, and `rung` says where a schedule stopped a trial. The
// views show both: trial_summary the rung, config_summary a `pruned` count
// (n and the statistics stay over succeeded trials only).
constexpr char kVersion4[] = R"sql(
ALTER TABLE trials ADD COLUMN rung INTEGER;

DROP VIEW trial_summary;
CREATE VIEW trial_summary AS
SELECT t.id AS trial_id, t.sweep_id, s.name AS sweep_name, t.trial_index, t.state,
       t.dataset, t.activation, t.init, t.depth, t.width, t.learning_rate, t.batch_size,
       t.loss, t.momentum, t.init_gain, t.lr_decay, t.updates, t.train_examples, t.preprocess,
       t.seed, t.seed_index, t.attempt, t.steps_done,
       t.final_test_error, t.final_test_nll, t.final_validation_error,
       t.reason, t.worker_id,
       datetime(t.updated_at_us / 1000000, 'unixepoch') AS updated_at,
       t.data_seed, t.histogram_bins, t.jacobian_examples, t.stuck_after_updates, t.stuck_error,
       t.rung
FROM trials AS t JOIN sweeps AS s ON s.id = t.sweep_id;

DROP VIEW config_summary;
CREATE VIEW config_summary AS
WITH groups AS (
  SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
         momentum, lr_decay, batch_size, updates, train_examples, preprocess,
         COUNT(*) AS trials,
         SUM(state = 'succeeded' AND final_test_error IS NOT NULL) AS n,
         SUM(state = 'diverged') AS diverged,
         SUM(state = 'failed') AS failed,
         SUM(state = 'pruned') AS pruned,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_error END) AS mean_test_error,
         SUM(CASE WHEN state = 'succeeded' THEN final_test_error * final_test_error END)
           AS sum_sq_test_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_validation_error END)
           AS mean_validation_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_nll END) AS mean_test_nll
  FROM trials
  GROUP BY sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
           momentum, lr_decay, batch_size, updates, train_examples, preprocess
), spread AS (
  SELECT *,
         CASE WHEN n >= 2 THEN sqrt(max(0.0, (sum_sq_test_error - n * mean_test_error *
                                              mean_test_error) / (n - 1))) END AS std_test_error
  FROM groups
)
SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
       momentum, lr_decay, batch_size, updates, train_examples, preprocess,
       trials, n, diverged, failed,
       mean_test_error, std_test_error,
       (SELECT q.t FROM student_t975 AS q WHERE q.df <= n - 1 ORDER BY q.df DESC LIMIT 1)
         * std_test_error / sqrt(n) AS ci95_test_error,
       mean_validation_error, mean_test_nll, pruned
FROM spread;
)sql";

// SQLite cannot alter a CHECK constraint. Widening one (every stored row
// still passes) is its documented lighter procedure
// (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
// Schema Changes"): rewrite the table's text in sqlite_master and bump
// schema_version, inside the migration's transaction.
absl::Status AllowPrunedTrials(SqliteDb& db) {
  RETURN_IF_ERROR(db.Exec(kVersion4));
  ASSIGN_OR_RETURN(const int64_t schema, db.QueryInt("PRAGMA schema_version"));
  RETURN_IF_ERROR(db.Exec("PRAGMA writable_schema = ON"));
  absl::Status rewritten = db.Exec(
      "UPDATE sqlite_master SET sql = replace(sql, 'state = ''cancelled''),', "
      "'state = ''cancelled'' OR state = ''pruned''),') WHERE type = 'table' AND name = 'trials'");
  if (rewritten.ok()) rewritten = db.Exec(absl::StrCat("PRAGMA schema_version = ", schema + 1));
  RETURN_IF_ERROR(db.Exec("PRAGMA writable_schema = OFF"));
  RETURN_IF_ERROR(rewritten);
  ASSIGN_OR_RETURN(const int64_t widened,
                   db.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'trials' AND sql LIKE '%state = ''pruned''%'"));
  if (widened != 1) {
    return absl::InternalError("migration 4: the trials table's state CHECK was not widened");
  }
  return absl::OkStatus();
}

// Version 5: the 95% interval of config_summary uses the exact Student-t
// quantile for its df, the same number the CLI computes (core/student_t.h),
// instead of the nearest smaller tabulated df: student_t975 is refilled with
// t(0.975, df) for df = 1 .. kStudentTMaxDf, and the view looks its df up
// exactly (NULL CI beyond the table). The view is version 4's otherwise.
constexpr char kVersion5[] = R"sql(
DELETE FROM student_t975;
DROP VIEW config_summary;
CREATE VIEW config_summary AS
WITH groups AS (
  SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
         momentum, lr_decay, batch_size, updates, train_examples, preprocess,
         COUNT(*) AS trials,
         SUM(state = 'succeeded' AND final_test_error IS NOT NULL) AS n,
         SUM(state = 'diverged') AS diverged,
         SUM(state = 'failed') AS failed,
         SUM(state = 'pruned') AS pruned,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_error END) AS mean_test_error,
         SUM(CASE WHEN state = 'succeeded' THEN final_test_error * final_test_error END)
           AS sum_sq_test_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_validation_error END)
           AS mean_validation_error,
         AVG(CASE WHEN state = 'succeeded' THEN final_test_nll END) AS mean_test_nll
  FROM trials
  GROUP BY sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
           momentum, lr_decay, batch_size, updates, train_examples, preprocess
), spread AS (
  SELECT *,
         CASE WHEN n >= 2 THEN sqrt(max(0.0, (sum_sq_test_error - n * mean_test_error *
                                              mean_test_error) / (n - 1))) END AS std_test_error
  FROM groups
)
SELECT sweep_id, dataset, activation, init, init_gain, depth, width, loss, learning_rate,
       momentum, lr_decay, batch_size, updates, train_examples, preprocess,
       trials, n, diverged, failed,
       mean_test_error, std_test_error,
       (SELECT q.t FROM student_t975 AS q WHERE q.df = n - 1)
         * std_test_error / sqrt(n) AS ci95_test_error,
       mean_validation_error, mean_test_nll, pruned
FROM spread;
)sql";

// The largest df student_t975 holds: configurations of up to 1001 seeds.
constexpr int kStudentTMaxDf = 1000;

absl::Status ExactStudentT(SqliteDb& db) {
  RETURN_IF_ERROR(db.Exec(kVersion5));
  ASSIGN_OR_RETURN(SqliteStatement insert,
                   db.Prepare("INSERT INTO student_t975 (df, t) VALUES (?1, ?2)"));
  for (int df = 1; df <= kStudentTMaxDf; ++df) {
    insert.Reset();
    insert.Bind(1, df);
    insert.Bind(2, StudentTQuantile(0.975, df));
    RETURN_IF_ERROR(insert.Run());
  }
  return absl::OkStatus();
}

// Version 6: the trials carry their snapshot settings (core/trial.h). Existing
// rows get the defaults; they never change a trajectory.
constexpr char kVersion6[] = R"sql(
ALTER TABLE trials ADD COLUMN snapshot_every   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN snapshot_seconds REAL    NOT NULL DEFAULT 300;
ALTER TABLE trials ADD COLUMN keep_weights     TEXT    NOT NULL DEFAULT 'final'
  CHECK (keep_weights = 'final' OR keep_weights = 'none');
)sql";

// Version 7: compute paths (the small-batch kernels' ISA and OpenBLAS's core):
// each worker's, and each trial's (of the worker that started its current or
// last attempt), so `deepsweep replay` can run on it or say that it cannot.
// Rows from before this version keep ''.
constexpr char kVersion7[] = R"sql(
ALTER TABLE trials ADD COLUMN compute_path TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN compute_path TEXT NOT NULL DEFAULT '';
)sql";

// Version 8: a lease records the snapshot step its attempt resumed from
// (core/snapshots.h), and trial_attempts shows, per attempt, where it started,
// how far it got and the updates it redid of the attempt before.
constexpr char kVersion8[] = R"sql(
ALTER TABLE leases ADD COLUMN resumed_from INTEGER;
CREATE VIEW trial_attempts AS
SELECT l.trial_id, l.attempt, l.worker_id, l.outcome,
       datetime(l.acquired_at_us / 1000000, 'unixepoch') AS acquired_at,
       datetime(l.ended_at_us / 1000000, 'unixepoch') AS ended_at,
       COALESCE(l.resumed_from, 0) AS started_at_step,
       (SELECT max(c.step) FROM checkpoints c
        WHERE c.trial_id = l.trial_id AND c.attempt = l.attempt) AS reached_step,
       (SELECT max(c.step) FROM checkpoints c
        WHERE c.trial_id = l.trial_id AND c.attempt = l.attempt - 1)
         - COALESCE(l.resumed_from, 0) AS updates_redone
FROM leases l;
)sql";

// Version 9: each lease counts the snapshots acknowledged under it and keeps
// the newest one's step (core/snapshots.h: the files are pruned, the count
// stays); trial_attempts shows them, and trial_snapshots adds a trial's
// attempts up.
constexpr char kVersion9[] = R"sql(
ALTER TABLE leases ADD COLUMN snapshots INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN snapshot_step INTEGER;
DROP VIEW trial_attempts;
CREATE VIEW trial_attempts AS
SELECT l.trial_id, l.attempt, l.worker_id, l.outcome,
       datetime(l.acquired_at_us / 1000000, 'unixepoch') AS acquired_at,
       datetime(l.ended_at_us / 1000000, 'unixepoch') AS ended_at,
       COALESCE(l.resumed_from, 0) AS started_at_step,
       (SELECT max(c.step) FROM checkpoints c
        WHERE c.trial_id = l.trial_id AND c.attempt = l.attempt) AS reached_step,
       (SELECT max(c.step) FROM checkpoints c
        WHERE c.trial_id = l.trial_id AND c.attempt = l.attempt - 1)
         - COALESCE(l.resumed_from, 0) AS updates_redone,
       l.snapshots, l.snapshot_step
FROM leases l;
CREATE VIEW trial_snapshots AS
SELECT t.id AS trial_id, t.sweep_id, t.state, t.attempt AS attempts, t.steps_done, t.updates,
       max((SELECT count(*) FROM leases l WHERE l.trial_id = t.id) - 1, 0) AS interruptions,
       (SELECT COALESCE(sum(l.snapshots), 0) FROM leases l WHERE l.trial_id = t.id) AS snapshots,
       (SELECT max(l.snapshot_step) FROM leases l WHERE l.trial_id = t.id) AS snapshot_step,
       (SELECT COALESCE(sum(max(a.updates_redone, 0)), 0) FROM trial_attempts a
        WHERE a.trial_id = t.id) AS updates_redone
FROM trials t;
)sql";

struct Migration {
  int version;
  const char* sql;  // or
  absl::Status (*run)(SqliteDb&) = nullptr;
};

// Append only: a released migration never changes.
constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
    {4, nullptr, AllowPrunedTrials},
    {5, nullptr, ExactStudentT},
    {6, kVersion6},
    {7, kVersion7},
    {8, kVersion8},
    {9, kVersion9},
};

}  // namespace

int LatestSchemaVersion() { return std::size(kMigrations); }

absl::Status Migrate(SqliteDb& db) { return MigrateTo(db, LatestSchemaVersion()); }

absl::Status MigrateTo(SqliteDb& db, int version) {
  if (version < 1 || version > LatestSchemaVersion()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no schema version ", version, " (latest is ", LatestSchemaVersion(), ")"));
  }
  ASSIGN_OR_RETURN(const int64_t current, db.QueryInt("PRAGMA user_version"));
  if (current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database has schema version ", current, ", newer than this binary's ",
                     LatestSchemaVersion(), "; use a newer deepsweep"));
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > version) continue;
    RETURN_IF_ERROR(db.WriteTransaction([&]() -> absl::Status {
      RETURN_IF_ERROR(m.run != nullptr ? m.run(db) : db.Exec(m.sql));
      return db.Exec(absl::StrCat("PRAGMA user_version = ", m.version));
    }));
  }
  return absl::OkStatus();
}

absl::Status CheckSchemaVersion(SqliteDb& db) {
  ASSIGN_OR_RETURN(const int64_t version, db.QueryInt("PRAGMA user_version"));
  const int latest = LatestSchemaVersion();
  if (version == latest) return absl::OkStatus();
  if (version == 0) {
    return absl::FailedPreconditionError(
        "it is not a deepsweep database (no schema version; a server creates one)");
  }
  if (version < latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "its schema version ", version, " is older than this deepsweep's ", latest,
        " and reading it read-only does not migrate it; start deepsweep-server on it once (it "
        "migrates at start), or read it with the deepsweep that wrote it"));
  }
  return absl::FailedPreconditionError(absl::StrCat("its schema version ", version,
                                                    " is newer than this deepsweep's ", latest,
                                                    "; use a newer deepsweep"));
}

}  // namespace deepsweep
