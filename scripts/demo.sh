#!/usr/bin/env bash
# The main job: builds deepsweep (installing its Debian packages), starts a
# coordinator and two workers on this machine, runs examples/quick.yaml (the
# paper's Shapeset grid at small scale), shows its progress, prints the
# Table-1-style summary, and says where the results are and how to query
# them. Everything it started is stopped on exit, however it exits.
#
#   scripts/demo.sh [SPEC]          (default examples/quick.yaml)
#   DEEPSWEEP_OUT=DIR scripts/demo.sh   results under DIR (default out/demo-TIMESTAMP)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/quick.yaml}

# The three programs only: the tests and benchmarks are scripts/test.sh's.
DEEPSWEEP_TARGETS="deepsweep-server deepsweep-worker deepsweep" scripts/build.sh
build=${DEEPSWEEP_BUILD_DIR:-build}
server_bin=$build/server/deepsweep-server
worker_bin=$build/worker/deepsweep-worker
cli_bin=$build/client/deepsweep

out=${DEEPSWEEP_OUT:-out/demo-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
db=$out/sweeps.db

# A loopback port nothing answers on.
free_port() {
  local candidate
  for candidate in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "demo: no free port found" >&2
  return 1
}
port=$(free_port)
address=127.0.0.1:$port
# The web dashboard (JSON API and /metrics too) on another loopback port.
http_port=$(free_port)
[[ $http_port != "$port" ]] || http_port=$(free_port)
dashboard=http://127.0.0.1:$http_port/
cli() { "$cli_bin" --server "$address" "$@"; }

pids=()
stop_all() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#pids[@]} > 0)); then
    echo "== stopping the workers and the coordinator"
    # Workers first (each releases what it trains), then the coordinator.
    for pid in "${pids[@]:1}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
    kill -TERM "${pids[0]}" 2>/dev/null || true
    wait "${pids[0]}" 2>/dev/null || true
  fi
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "== coordinator on $address, database $db"
# Own sessions (setsid): a Ctrl-C reaches only this script, whose trap stops
# the workers first (they release their trials) and the coordinator last.
setsid "$server_bin" --address "$address" --http "127.0.0.1:$http_port" --db "$db" \
  --log-level warn >"$out/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
  cli health >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.2
done
cli health
echo "== dashboard: open $dashboard in a browser on this machine (live while the sweep runs;"
echo "   metrics at ${dashboard}metrics)"

echo "== 2 workers (logs in $out/worker-1.log, $out/worker-2.log)"
for n in 1 2; do
  setsid "$worker_bin" --server "$address" --threads 1 >"$out/worker-$n.log" 2>&1 &
  pids+=($!)
done

echo "== submitting $spec"
submitted=$(cli submit "$spec")
echo "$submitted"
sweep=$(sed -n 's/^submitted sweep \([0-9]*\).*/\1/p' <<<"$submitted")
[[ -n $sweep ]] || { echo "demo: could not read the sweep id" >&2; exit 1; }

started=$(date +%s)
echo "== progress"
cli watch "$sweep"
echo "(sweep finished in $(( $(date +%s) - started )) s)"

echo
echo "== workers"
cli workers
echo
echo "== Table 1 of the paper, this sweep's version"
cli table "$sweep"

cat <<EOF2

== results
The database is $db (SQLite; the coordinator is its only writer).
Read it without a server:
  $cli_bin --db $db results $sweep
  $cli_bin --db $db summary $sweep         # per configuration, with Welch tests
  $cli_bin --db $db layers TRIAL_ID        # layer statistics over training
or with sqlite3 and the views (docs/SCHEMA.md):
  sqlite3 -header -column $db 'SELECT * FROM table1'
  sqlite3 -header -column $db 'SELECT * FROM config_summary'
  sqlite3 -header -column $db 'SELECT * FROM trial_summary LIMIT 10'
EOF2
echo
echo "== sqlite3 $db 'SELECT * FROM table1'"
sqlite3 -header -column "$db" 'SELECT * FROM table1'
