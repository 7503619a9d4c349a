#!/usr/bin/env bash
# The coordinator benchmark and its peer, side by side in one command:
#   1. coordinator_load: deepsweep-server (in process, loopback, SQLite file)
#      under N simulated workers (threads with their own connections);
#   2. the same with deepsweep-server as a process of its own, so that its
#      CPU per trial and the simulated workers' are measured apart;
#   3. the floors of the RPC layer under the same workers: the in-memory
#      store (nothing persisted), and a service that stores nothing and answers
#      at once, on gRPC's sync API and on its callback API;
#   4. optuna_peer.py: Optuna 3.1 with its SQLite storage under N processes.
# Usage: bench/run_coordinator_bench.sh [WORKERS] [DEEPSWEEP_TRIALS] [OPTUNA_TRIALS]
# Builds coordinator_load first (Release). Loopback only; both runs are
# bounded by their trial counts and stop by themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-64}
deepsweep_trials=${2:-10000}
optuna_trials=${3:-320}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}

scripts/install-deps.sh --peers
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEEPSWEEP_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" --target coordinator_load deepsweep-server -j 2 >/dev/null

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== deepsweep: bench/coordinator_load --workers $workers --trials $deepsweep_trials"
status=0
"$build_dir/bench/coordinator_load" --workers "$workers" --trials "$deepsweep_trials" || status=1

echo
echo "== deepsweep, server in its own process: deepsweep-server + coordinator_load --server-port"
work=$(mktemp -d)
# shellcheck source=bench/server_process.sh
source bench/server_process.sh
if ! start_server "$build_dir" "$work" --max-trials "$deepsweep_trials"; then
  status=1
else
  "$build_dir/bench/coordinator_load" --workers "$workers" --trials "$deepsweep_trials" \
    --server-port "$port" --server-pid "$server_pid" --db "$work/load.db" || status=1
fi
kill -TERM "$server_pid" && wait "$server_pid" || status=1
rm -rf "$work"

for floor in "--db :memory:" "--null-service sync" "--null-service callback"; do
  echo
  echo "== floor: coordinator_load $floor"
  # shellcheck disable=SC2086  # $floor is two words on purpose
  "$build_dir/bench/coordinator_load" --workers "$workers" --trials "$deepsweep_trials" $floor ||
    status=1
done

echo
echo "== peer: bench/optuna_peer.py --processes $workers --trials $optuna_trials"
/usr/bin/python3 bench/optuna_peer.py --processes "$workers" --trials "$optuna_trials" || status=1
exit $status
