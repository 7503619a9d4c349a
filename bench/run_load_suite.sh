#!/usr/bin/env bash
# The load suite of docs/RELIABILITY.md (issue 17): deepsweep-server as a process of its own on
# a fresh SQLite file, 256 simulated workers (coordinator_load threads, one connection each)
# for 60 s, each looping AcquireTrial, ReportCheckpoints (10 checkpoints, 5 layers x 3
# quantities, 20-bin histograms), CompleteTrial. Passes only with zero errors reaching the
# clients, every completed trial's rows in the file, and the server's resident memory grown by
# at most MAX_RSS_GROWTH_MB (default 256: SQLite's page caches, 64 MiB for each of the
# store's connections, fill as the file grows; anything beyond is a leak) over the run.
# Prints per-call latency percentiles and the server's RSS before and after.
#
# Usage: bench/run_load_suite.sh [WORKERS [SECONDS [MAX_RSS_GROWTH_MB]]]
# Loopback only; bounded by SECONDS and stops by itself. Builds coordinator_load and
# deepsweep-server first (Release, build/ or $DEEPSWEEP_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-256}
seconds=${2:-60}
max_growth=${3:-256}
trials=100000  # more than the run can take at any speed measured here (~1,000 trials/s)
build_dir=${DEEPSWEEP_BUILD_DIR:-build}
cmake --build "$build_dir" --target coordinator_load deepsweep-server -j 2 >/dev/null

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
# shellcheck source=bench/server_process.sh
source bench/server_process.sh
if ! start_server "$build_dir" "$work" --max-trials "$trials"; then
  status=1
else
  echo "== coordinator_load --workers $workers --duration $seconds --trials $trials" \
    "--max-rss-growth-mb $max_growth (server pid $server_pid, port $port)"
  "$build_dir/bench/coordinator_load" --workers "$workers" --trials "$trials" \
    --duration "$seconds" --max-rss-growth-mb "$max_growth" \
    --server-port "$port" --server-pid "$server_pid" --db "$work/load.db" || status=1
fi
kill -TERM "$server_pid" && wait "$server_pid" || status=1
exit $status
