#!/usr/bin/env bash
# The main job: installs and builds deepsweep, then runs the whole system on this
# machine: a coordinator on 127.0.0.1 with its SQLite database under out/demo/, two
# workers, and the quick version of the paper's Shapeset grid (examples/quick.yaml).
# It follows the sweep live, prints the paper-style table and the per-config
# summary, and says how to query the database. Everything it started is stopped
# on exit. Usage: scripts/demo.sh [SPEC]   (default examples/quick.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/quick.yaml}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}

scripts/build.sh
bin="$build_dir"
server_bin="$bin/server/deepsweep-server"
worker_bin="$bin/worker/deepsweep-worker"
cli_bin="$bin/client/deepsweep"

out=out/demo
mkdir -p "$out"
db="$out/demo.db"
rm -f "$db" "$db-wal" "$db-shm"
# A free loopback port, chosen by the kernel.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
address="127.0.0.1:$port"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== starting the coordinator on $address (database $db, log $out/server.log)"
"$server_bin" --address "$address" --db "$db" >"$out/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  "$cli_bin" --server "$address" health >/dev/null 2>&1 && break
  sleep 0.1
done
"$cli_bin" --server "$address" health

for i in 1 2; do
  echo "== starting worker $i (log $out/worker$i.log)"
  "$worker_bin" --server "$address" >"$out/worker$i.log" 2>&1 &
  pids+=($!)
done

echo "== submitting $spec"
submitted=$("$cli_bin" --server "$address" submit "$spec")
echo "$submitted"
sweep=$(sed -n 's/^submitted sweep \([0-9]*\) .*/\1/p' <<<"$submitted")

echo "== following sweep $sweep until it ends"
start=$SECONDS
"$cli_bin" --server "$address" watch "$sweep"
echo "(the sweep took $((SECONDS - start)) s with 2 workers)"

echo
echo "== Table 1 (test error %, mean +- 95% CI across seeds)"
"$cli_bin" --server "$address" table
echo
echo "== per configuration across seeds"
"$cli_bin" --server "$address" summary "sweep_id=$sweep"

cat <<MSG

The results are in $db (SQLite). Query them with the CLI, no server needed:
  $cli_bin --db $db results activation=tanh --sort final_test_error
  $cli_bin --db $db plot activations TRIAL_ID -o act.png
or with plain sqlite3 and the documented views (docs/SCHEMA.md):
  sqlite3 -header -column $db 'SELECT * FROM config_summary;'
MSG
