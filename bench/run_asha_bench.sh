#!/usr/bin/env bash
# Issue 15's figure: the paper's learning-rate selection on Shapeset at quick
# scale, once as the full grid and once with ASHA grouped by model
# (bench/asha/*.yaml), each through its own deepsweep-server (SQLite file,
# loopback) with 2 deepsweep-worker processes, one after the other on the same
# machine. Then bench/asha/compare.py prints both tables side by side, the
# updates and wall time of each and the verdicts (docs/PERFORMANCE.md).
# Usage: bench/run_asha_bench.sh [OUT_DIR]   (default run/asha-bench; refused
# if it already holds a database). Needs the Release build in build/
# (scripts/build.sh), brought up to date first; DEEPSWEEP_BUILD_DIR overrides it.
# Takes ~10 min on an idle 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-run/asha-bench}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}
server=$build_dir/server/deepsweep-server
worker=$build_dir/worker/deepsweep-worker
cli=$build_dir/client/deepsweep
[[ -f "$build_dir/CMakeCache.txt" ]] || { echo "no build in $build_dir: run scripts/build.sh first" >&2; exit 2; }
# The programs of this checkout, so the commit recorded below is what runs.
cmake --build "$build_dir" --target deepsweep-server deepsweep-worker deepsweep >/dev/null
mkdir -p "$out"
if compgen -G "$out/*.db" >/dev/null; then
  echo "$out already holds a database; choose another OUT_DIR" >&2
  exit 2
fi

{
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc)"
  echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2- | tr ' ' '\n' |
    grep -E '^(sse4_2|avx|avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni)$' | tr '\n' ' ')"
  echo "kernel: $(uname -r)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (dirty)')"
} | tee "$out/machine.txt"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# run KIND SPEC: one sweep on a fresh server with two workers; returns when the
# sweep has ended and every process has exited.
run() {
  local kind=$1 spec=$2 db=$out/$1.db
  "$server" --address 127.0.0.1:0 --db "$db" >"$out/$kind-server.log" 2>&1 &
  local server_pid=$!
  pids=("$server_pid")
  local port=
  for _ in $(seq 100); do  # the server logs its port once it listens
    port=$(sed -n 's/.*listening on .*(port \([0-9]*\),.*/\1/p' "$out/$kind-server.log")
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "deepsweep-server did not start:" >&2; cat "$out/$kind-server.log" >&2; exit 1; }
  local w
  for w in 1 2; do
    "$worker" --server "127.0.0.1:$port" >"$out/$kind-worker$w.log" 2>&1 &
    pids+=($!)
  done
  # The machine's load while the sweep runs, once every 30 s.
  (while true; do echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 30; done) \
    >"$out/$kind-load.txt" &
  local sampler=$!
  pids+=("$sampler")
  echo "== $kind: $spec on 127.0.0.1:$port, started $(date -u +%H:%M:%S)"
  "$cli" --server "127.0.0.1:$port" submit "$spec" --sample 0 >"$out/$kind-submit.txt"
  "$cli" --server "127.0.0.1:$port" watch "$(sed -n 's/^name: //p' "$spec")" >"$out/$kind-watch.txt"
  tail -n 1 "$out/$kind-watch.txt"
  kill -TERM "$sampler"
  for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
  kill -TERM "$server_pid"
  wait 2>/dev/null || true
  pids=()
  echo "== $kind: ended $(date -u +%H:%M:%S)"
}

run grid bench/asha/shapeset-lr-grid.yaml
run asha bench/asha/shapeset-lr-asha.yaml
python3 bench/asha/compare.py "$out/grid.db" "$out/asha.db" --load "$out/grid-load.txt" \
  "$out/asha-load.txt" | tee "$out/report.md"
