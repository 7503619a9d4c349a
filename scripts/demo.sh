#!/usr/bin/env bash
# The main job: installs and builds deepsweep, then runs the quick version of the
# paper's Shapeset grid (examples/quick.yaml) on this machine with the embedded
# mode: an in-process coordinator on a SQLite file under out/demo/ and two worker
# threads (`deepsweep run`). It shows progress live, prints the paper-style
# table, and says how to query the database with the CLI or plain sqlite3.
#
# The distributed version (deepsweep-server plus deepsweep-worker processes)
# waits for the worker program; the embedded mode runs the same coordinator
# and worker code in one process. Usage: scripts/demo.sh [SPEC]
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/quick.yaml}
build_dir=${DEEPSWEEP_BUILD_DIR:-build}

scripts/build.sh
cli_bin="$build_dir/client/deepsweep"

out=out/demo
mkdir -p "$out"
db="$out/demo.db"
rm -f "$db" "$db-wal" "$db-shm"

echo "== running $spec with 2 workers (database $db)"
start=$SECONDS
"$cli_bin" --db "$db" run "$spec" --workers 2
echo "(the sweep took $((SECONDS - start)) s)"

cat <<MSG

Query the results with the CLI, no server needed:
  $cli_bin --db $db results activation=tanh --sort final_test_error
  $cli_bin --db $db summary
or with plain sqlite3 and the documented views (docs/SCHEMA.md):
  sqlite3 -header -column $db 'SELECT * FROM config_summary;'
MSG
