#!/usr/bin/env bash
# The coordinator benchmark and its peer, side by side in one command:
#   1. coordinator_load: deepsweep-server (in process, loopback, SQLite file)
#      under N simulated workers (threads with their own connections);
#   2. optuna_peer.py: Optuna 3.1 with its SQLite storage under N processes.
# Usage: bench/run_coordinator_bench.sh [WORKERS] [DEEPSWEEP_TRIALS] [OPTUNA_TRIALS]
# Builds coordinator_load first (Release). Loopback only; both runs are
# bounded by their trial counts and stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-64}
deepsweep_trials=${2:-20000}
optuna_trials=${3:-1280}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}

scripts/install-deps.sh --peers
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPSWEEP_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" --target coordinator_load -j 2 >/dev/null

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== deepsweep: bench/coordinator_load --workers $workers --trials $deepsweep_trials"
status=0
"$build_dir/bench/coordinator_load" --workers "$workers" --trials "$deepsweep_trials" || status=1
echo
echo "== peer: bench/optuna_peer.py --processes $workers --trials $optuna_trials"
/usr/bin/python3 bench/optuna_peer.py --processes "$workers" --trials "$optuna_trials" || status=1
exit $status
