#!/usr/bin/env bash
# The medium-scale report (docs/REPRODUCTION.md, "Medium scale") from the run's
# database alone: what ASHA chose and saved in the learning-rate sweep, Table 1
# of the final sweep, the per-model summary, and the paper's figures drawn with
# `deepsweep plot`.
#
#   examples/glorot2010/report-medium.sh DB OUT_DIR [DEEPSWEEP]
#
# DEEPSWEEP defaults to build/client/deepsweep. LR_SWEEP and FINAL_SWEEP name
# the two sweeps (default: the medium-scale ones; the paper-scale specs work the
# same way). Figures of one net show its first seed (seed_index 0).
set -euo pipefail
db=$1 out=$2 ds=${3:-build/client/deepsweep}
lr_sweep=${LR_SWEEP:-glorot2010-shapeset-medium-lr}
final=${FINAL_SWEEP:-glorot2010-shapeset-medium-final}
mkdir -p "$out"

cli() { "$ds" --db "$db" "$@"; }
sql() { sqlite3 -readonly -column -header "$db" "$@"; }

echo "== Learning rates chosen by ASHA ($lr_sweep)"
cli table "$lr_sweep" | tee "$out/lr_table.txt"
echo "== Each learning-rate trial: where it ended"
sql "SELECT t.activation, t.init, t.learning_rate, t.state, coalesce(t.rung, '') AS rung,
       (SELECT max(reached_step) FROM trial_attempts a WHERE a.trial_id = t.id) AS reached,
       printf('%.4f', (SELECT c.validation_error FROM checkpoints c WHERE c.trial_id = t.id
         AND c.attempt = t.attempt ORDER BY c.step DESC LIMIT 1)) AS last_validation_error
     FROM trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = '$lr_sweep'
     ORDER BY t.id" | tee "$out/lr_trials.txt"
echo "== What ASHA trained against the full grid (every trial to its last update)"
sql "SELECT count(*) AS trials, sum(t.updates) AS grid_updates,
       (SELECT sum(a.reached_step - a.started_at_step) FROM trial_attempts a
          JOIN trials u ON u.id = a.trial_id WHERE u.sweep_id = s.id) AS trained_updates,
       printf('%.1f%%', 100.0 * (SELECT sum(a.reached_step - a.started_at_step)
          FROM trial_attempts a JOIN trials u ON u.id = a.trial_id WHERE u.sweep_id = s.id)
          / sum(t.updates)) AS share,
       printf('%.1f', (s.finished_at_us - s.created_at_us) / 60e6) AS wall_minutes
     FROM sweeps s JOIN trials t ON t.sweep_id = s.id WHERE s.name = '$lr_sweep'" |
  tee "$out/lr_cost.txt"

echo "== Table 1 ($final)"
cli table "$final" | tee "$out/table1.txt"
echo "== Summary per model, with comparisons"
cli summary "$final" --comparisons | tee "$out/summary.txt"
echo "== Interruptions: the attempts that resumed from a snapshot"
sql "SELECT a.trial_id, a.attempt, a.worker_id, a.outcome, a.started_at_step, a.reached_step,
       a.updates_redone FROM trial_attempts a
     WHERE a.trial_id IN (SELECT trial_id FROM trial_attempts WHERE attempt > 1)
     ORDER BY a.trial_id, a.attempt" | tee "$out/interruptions.txt"

# The first seed of the final sweep's ACTIVATION INIT net.
net() {
  local ids
  ids=$(cli results "$final" activation="$1" init="$2" seed_index=0 --columns id --format csv |
    tail -n +2)
  [[ $(wc -w <<<"$ids") == 1 ]] || { echo "report-medium.sh: no single $1 $2 net: $ids" >&2; exit 1; }
  echo "$ids"
}
sig=$(net sigmoid standard)
# Fig. 2 at a rate where sigmoid moves: the rate sweep's 0.1 trial, which ran to the end.
sig_fast=$(cli results "$lr_sweep" activation=sigmoid learning_rate=0.1 state=succeeded \
  --columns id --format csv | tail -n +2)
tanh=$(net tanh standard)
tanh_n=$(net tanh normalized)
soft=$(net softsign standard)
soft_n=$(net softsign normalized)
plot() {  # FILE KIND TRIAL... [flags]
  local file=$1
  shift
  cli plot "$@" -o "$out/$file"
}
plot medium_fig11_test_error.png test-error "$final" --bands --x updates
plot medium_fig2_sigmoid_activations.png activations "$sig" --x updates
[[ -z $sig_fast ]] || plot medium_fig2_sigmoid_lr0.1_activations.png activations "$sig_fast" --x updates
plot medium_fig3_tanh_standard_percentiles.png percentiles "$tanh" --x updates
plot medium_fig3_softsign_standard_percentiles.png percentiles "$soft" --x updates
plot medium_fig4_tanh_standard_end_hist.png histogram "$tanh"
plot medium_fig4_softsign_standard_end_hist.png histogram "$soft"
plot medium_fig9_tanh_standard_weightgrad_std.png gradient-std "$tanh" --x updates
plot medium_fig9_tanh_normalized_weightgrad_std.png gradient-std "$tanh_n" --x updates
plot medium_fig10_tanh_normalized_percentiles.png percentiles "$tanh_n" --x updates
plot medium_fig10_softsign_normalized_percentiles.png percentiles "$soft_n" --x updates
