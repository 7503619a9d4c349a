#!/usr/bin/env bash
# NOT the service run: trains the trials of shapeset-quick.yaml or
# fashion-mnist-quick.yaml in-process with bench/glorot_trial (the real ml/
# Trainer and LayerProbe, one thread per trial), K trials at a time, without
# the coordinator, the workers or the store. Written to measure the quick scale
# before the service was assembled; seeds are 1..3 instead of the
# coordinator's TrialSeed, so numbers match a service run statistically, not
# bit for bit.
#
#   examples/glorot2010/direct_run.sh shapeset|fashion-mnist OUT_DIR [K] [picked]
# Writes OUT_DIR/<config>.tsv (glorot_trial's out= format) and OUT_DIR/<config>.log.
# With "picked", seeds 2 and 3 repeat only the learning rate whose seed-1 trial
# ended with the lower validation error (the larger rate on a tie), halving
# their cost; seed 1 always runs the whole grid.
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=$1 out=$2 parallel=${3:-2} picked=${4:-}
trial=${GLOROT_TRIAL:-build/bench/glorot_trial}
mkdir -p "$out"

case $dataset in
  shapeset)
    common="dataset=shapeset train=0 validation=2000 test=5000 preprocess=pm1 width=200"
    common+=" batch=10 updates=20000 every=1000 probe=300 jacobian=2" ;;
  fashion-mnist)
    common="dataset=fashion-mnist train=0 validation=10000 test=10000 preprocess=unit width=200"
    common+=" batch=10 updates=20000 every=2000 probe=300 jacobian=2" ;;
  *) echo "unknown dataset $dataset" >&2; exit 2 ;;
esac

# The specs' grid after their exclusions, in three phases so that seed 1's
# results exist when seeds 2 and 3 pick a rate: depth 5 (Table 1) for seed 1,
# then seeds 2-3; then the shallower nets for seed 1, then seeds 2-3.
trials_of() {  # DEPTHS SEEDS
  local depth seed act_init act init lrs lr f
  for depth in $1; do
    for seed in $2; do
      for act_init in sigmoid:standard tanh:standard tanh:normalized softsign:standard \
                      softsign:normalized; do
        act=${act_init%%:*} init=${act_init##*:}
        case $act:$depth in
          sigmoid:5|sigmoid:4|tanh:5|tanh:3|tanh:1|softsign:5) ;;
          *) continue ;;
        esac
        lrs="0.01 0.1"
        if [[ $picked == picked && $seed != 1 ]]; then
          lrs=$(for lr in 0.01 0.1; do
                  f="$out/$act-$init-d$depth-lr$lr-s1.tsv"
                  grep -q '^status' "$f" 2>/dev/null || continue
                  awk -F'\t' -v lr="$lr" '$1 == "checkpoint" { v = $7 } END { print v, lr }' "$f"
                done | sort -k1,1g -k2,2gr | head -1 | cut -d' ' -f2)
          [[ -n $lrs ]] || lrs="0.01 0.1"  # seed 1 did not finish: both
        fi
        for lr in $lrs; do echo "$act $init $depth $lr $seed"; done
      done
    done
  done
}

run_trials() {
  xargs -P "$parallel" -L1 sh -c '
    name="$0-$1-d$2-lr$3-s$4"
    [ -s "'"$out"'/$name.tsv" ] && grep -q "^status" "'"$out"'/$name.tsv" && exit 0
    '"$trial"' '"$common"' activation=$0 init=$1 depth=$2 lr=$3 seed=$4 \
      out="'"$out"'/$name.tsv" > "'"$out"'/$name.log" 2>&1'
}

trials_of 5 1 | run_trials
trials_of 5 "2 3" | run_trials
trials_of "4 3 1" 1 | run_trials
trials_of "4 3 1" "2 3" | run_trials
