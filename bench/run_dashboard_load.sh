#!/usr/bin/env bash
# Coordinator trial throughput with dashboards open (issue 16): deepsweep-server as a process
# of its own with its web dashboard (--http), coordinator_load's WORKERS simulated workers
# running a TRIALS-trial sweep to its end, alternately without and with VIEWERS simulated
# dashboards (bench/dashboard_viewers.py: each polls the sweep page every second, as the
# page does), ROUNDS times each (alternating which goes first), printing the throughput of
# each run side by side, the change per round and its median.
#
# Usage: bench/run_dashboard_load.sh [WORKERS [TRIALS [VIEWERS [ROUNDS]]]]  (64 10000 5 3)
# Loopback only; every run is bounded by its trial count and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-64}
trials=${2:-10000}
viewers=${3:-5}
rounds=${4:-3}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}
cmake --build "$build_dir" --target coordinator_load deepsweep-server -j 2 >/dev/null
# shellcheck source=bench/server_process.sh
source bench/server_process.sh

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
without_rates=()
with_rates=()
for round in $(seq "$rounds"); do
  # Odd rounds run without dashboards first, even ones with them first, so a
  # machine whose load drifts (a shared one) favours neither column.
  order=(0 "$viewers")
  ((round % 2 == 0)) && order=("$viewers" 0)
  for with in "${order[@]}"; do
    work=$(mktemp -d)
    start_server "$build_dir" "$work" --max-trials "$trials" --http 127.0.0.1:0 || exit 1
    http_port=
    for _ in $(seq 100); do
      http_port=$(sed -n 's/.*dashboard on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' \
        "$work/server.log")
      [[ -n "$http_port" ]] && break
      sleep 0.1
    done
    "$build_dir/bench/coordinator_load" --workers "$workers" --trials "$trials" \
      --server-port "$port" --server-pid "$server_pid" --db "$work/load.db" \
      >"$work/load.out" 2>&1 &
    load_pid=$!
    if [[ "$with" -gt 0 ]]; then
      /usr/bin/python3 bench/dashboard_viewers.py --url "http://127.0.0.1:$http_port" \
        --viewers "$with" --until-pid "$load_pid" >"$work/viewers.out" 2>&1 &
      viewers_pid=$!
    fi
    wait "$load_pid" || status=1
    [[ "$with" -gt 0 ]] && { wait "$viewers_pid" || status=1; }
    rate=$(sed -n 's/.*completed [0-9]* trials in [0-9.]* s: \([0-9]*\) trials\/s.*/\1/p' \
      "$work/load.out")
    echo "round $round, $with dashboards: $rate trials/s" \
      "(load $(cut -d' ' -f1 /proc/loadavg))"
    grep -E "errors reaching|database:|CPU per trial" "$work/load.out" | sed 's/^/  /'
    [[ "$with" -gt 0 ]] && sed 's/^/  /' "$work/viewers.out"
    if [[ "$with" -gt 0 ]]; then with_rates[round]=$rate; else without_rates[round]=$rate; fi
    kill -TERM "$server_pid" && wait "$server_pid" || status=1
    rm -rf "$work"
  done
done
echo "== trials/s, without | with $viewers dashboards | change, per round; then the median change:"
changes=()
for round in $(seq "$rounds"); do
  without=${without_rates[round]:-0} with_rate=${with_rates[round]:-0}
  change=$(awk -v a="$without" -v b="$with_rate" 'BEGIN { if (a > 0) printf "%+.1f", 100 * (b - a) / a }')
  changes+=("$change")
  echo "  $without | $with_rate | $change%"
done
printf '%s\n' "${changes[@]}" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR > 0) printf "  median change %+.1f%% over %d rounds\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR }'
exit $status
