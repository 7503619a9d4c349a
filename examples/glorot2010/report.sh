#!/usr/bin/env bash
# Table 1 and the paper's figures from a results database of the two quick
# sweeps (shapeset-quick.yaml, fashion-mnist-quick.yaml), through the CLI only:
# `deepsweep --db DB table` and `deepsweep --db DB plot`. docs/REPRODUCTION.md
# shows what this prints and draws.
#
#   examples/glorot2010/report.sh DB OUT_DIR [DEEPSWEEP]
#
# DEEPSWEEP defaults to build/client/deepsweep. Figures of training use each
# net's learning rate 0.1 and the first seed (seed_index 0); figures at
# initialization (step 0) do not depend on the rate.
set -euo pipefail
db=$1 out=$2 ds=${3:-build/client/deepsweep}
shapeset=glorot2010-shapeset-quick
fmnist=glorot2010-fashion-mnist-quick
mkdir -p "$out"

cli() { "$ds" --db "$db" "$@"; }

# The id of the one trial of SWEEP matching the filters (seed_index 0).
trial() {
  local sweep=$1
  shift
  local ids
  ids=$(cli results "$sweep" "$@" seed_index=0 --columns id --format csv | tail -n +2)
  if [[ $(wc -w <<<"$ids") != 1 ]]; then
    echo "report.sh: expected one trial of $sweep for '$*', got: ${ids:-none}" >&2
    exit 1
  fi
  echo "$ids"
}

# Depth-5 Shapeset nets at lr 0.1, and the depth-4 sigmoid net of Fig. 2.
at() { trial "$1" activation="$2" init="$3" depth="$4" learning_rate=0.1; }
sig4=$(at $shapeset sigmoid standard 4)
sig5=$(at $shapeset sigmoid standard 5)
tanh=$(at $shapeset tanh standard 5)
tanh_n=$(at $shapeset tanh normalized 5)
soft=$(at $shapeset softsign standard 5)
soft_n=$(at $shapeset softsign normalized 5)

echo "== Table 1 (depth 5; rate chosen per cell on validation error)"
cli table depth=5 | tee "$out/table1.txt"
echo "== Shapeset summary per configuration (depth 5)"
cli summary $shapeset depth=5 --comparisons | tee "$out/summary_shapeset.txt"
echo "== Fashion-MNIST summary per configuration (depth 5)"
cli summary $fmnist depth=5 --comparisons | tee "$out/summary_fashion_mnist.txt"

plot() {  # FILE KIND TRIAL... [flags]
  local file=$1
  shift
  cli plot "$@" -o "$out/$file"
}
plot fig2_sigmoid_d4_activations.png activations "$sig4"
plot fig3_tanh_standard_percentiles.png percentiles "$tanh"
plot fig3_softsign_standard_percentiles.png percentiles "$soft"
plot fig4_tanh_standard_end_hist.png histogram "$tanh"
plot fig4_softsign_standard_end_hist.png histogram "$soft"
plot fig6_tanh_standard_init_hist.png histogram "$tanh" --step 0
plot fig6_tanh_normalized_init_hist.png histogram "$tanh_n" --step 0
plot fig7_tanh_standard_backprop_hist.png histogram "$tanh" --step 0 --quantity backprop_grad
plot fig7_tanh_normalized_backprop_hist.png histogram "$tanh_n" --step 0 \
  --quantity backprop_grad
plot fig8_tanh_standard_weightgrad_hist.png histogram "$tanh" --step 0 --quantity weight_grad
plot fig9_tanh_standard_weightgrad_std.png gradient-std "$tanh"
plot fig9_tanh_normalized_weightgrad_std.png gradient-std "$tanh_n"
plot fig10_tanh_normalized_percentiles.png percentiles "$tanh_n"
plot fig11_shapeset_test_error.png test-error "$sig5" "$tanh" "$tanh_n" "$soft" "$soft_n"
plot fig12_fashion_mnist_test_error.png test-error \
  "$(at $fmnist sigmoid standard 5)" "$(at $fmnist tanh standard 5)" \
  "$(at $fmnist tanh normalized 5)" "$(at $fmnist softsign standard 5)" \
  "$(at $fmnist softsign normalized 5)"
plot jacobian_init_tanh.png jacobian "$tanh" "$tanh_n" --step 0
