#!/usr/bin/env bash
# Table 1 and the paper's figures from a results database of the two quick
# sweeps (shapeset-quick.yaml, fashion-mnist-quick.yaml), through the CLI only:
# `deepsweep --db DB table` and `deepsweep --db DB plot`. docs/REPRODUCTION.md
# shows what this prints and draws.
#
#   examples/glorot2010/report.sh DB OUT_DIR [DEEPSWEEP]
#
# DEEPSWEEP defaults to build/client/deepsweep. Figures of training show the
# first seed (seed_index 0) of each depth-5 net at the learning rate Table 1
# chose for it on validation error (read from `table`'s own output), and Fig. 2
# the 4-layer sigmoid net at rate 0.1; figures at initialization (step 0) do
# not depend on the rate.
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

echo "== Table 1 (depth 5; rate chosen per cell on validation error)"
cli table depth=5 | tee "$out/table1.txt"
echo "== Shapeset summary per configuration (depth 5)"
cli summary $shapeset depth=5 --comparisons | tee "$out/summary_shapeset.txt"
echo "== Fashion-MNIST summary per configuration (depth 5)"
cli summary $fmnist depth=5 --comparisons | tee "$out/summary_fashion_mnist.txt"

# The rate Table 1 chose for ACTIVATION INIT on DATASET, from its printout.
chosen_rate() {
  local rate
  rate=$(sed -n "s|^  $1 $2 / $3: learning_rate=\([0-9.e-]*\).*|\1|p" "$out/table1.txt")
  if [[ -z $rate ]]; then
    echo "report.sh: Table 1 names no rate for $1 $2 on $3" >&2
    exit 1
  fi
  echo "$rate"
}
# The depth-5 net ACTIVATION INIT of SWEEP on DATASET at its chosen rate.
net() {
  local rate
  rate=$(chosen_rate "$3" "$4" "$2")
  trial "$1" activation="$3" init="$4" depth=5 learning_rate="$rate"
}
sig4=$(trial $shapeset activation=sigmoid init=standard depth=4 learning_rate=0.1)
sig5=$(net $shapeset shapeset sigmoid standard)
tanh=$(net $shapeset shapeset tanh standard)
tanh_n=$(net $shapeset shapeset tanh normalized)
soft=$(net $shapeset shapeset softsign standard)
soft_n=$(net $shapeset shapeset softsign normalized)

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
fm_sig=$(net $fmnist fashion-mnist sigmoid standard)
fm_tanh=$(net $fmnist fashion-mnist tanh standard)
fm_tanh_n=$(net $fmnist fashion-mnist tanh normalized)
fm_soft=$(net $fmnist fashion-mnist softsign standard)
fm_soft_n=$(net $fmnist fashion-mnist softsign normalized)
plot fig12_fashion_mnist_test_error.png test-error "$fm_sig" "$fm_tanh" "$fm_tanh_n" "$fm_soft" \
  "$fm_soft_n"
plot jacobian_init_tanh.png jacobian "$tanh" "$tanh_n" --step 0
