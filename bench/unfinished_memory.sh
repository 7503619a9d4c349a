#!/usr/bin/env bash
# The coordinator's memory for big sweeps (docs/RELIABILITY.md, "Unfinished trials"):
# starts deepsweep-server on a fresh database, submits three 100,000-trial sweeps with the CLI,
# cancels them, and prints the server's RSS (from /proc/PID/statm) after each step.
# Usage: bench/unfinished_memory.sh [BUILD_DIR] [PORT]   (run by hand, never as a test)
set -euo pipefail
build=${1:-build}
port=${2:-50711}
server=$build/server/deepsweep-server
cli=$build/client/deepsweep
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$server" --address "127.0.0.1:$port" --db "$dir/sweeps.db" --log-level warn >"$dir/server.log" 2>&1 &
pid=$!
"$cli" --server "127.0.0.1:$port" health >/dev/null 2>&1 || sleep 1
rss() { echo "$(($(awk '{print $2}' "/proc/$pid/statm") * $(getconf PAGESIZE) / 1048576)) MB"; }
echo "start: $(rss)"
for i in 1 2 3; do
  printf 'name: mem-%s\ngrid:\n  depth: [1]\nseeds: 100000\n' "$i" >"$dir/spec$i.yaml"
  "$cli" --server "127.0.0.1:$port" submit "$dir/spec$i.yaml" >/dev/null
  echo "after sweep $i: $(rss)"
done
for i in 1 2 3; do "$cli" --server "127.0.0.1:$port" cancel "mem-$i" >/dev/null; done
sleep 3  # the server trims on its housekeeping thread, once a second
echo "3 s after cancelling all: $(rss)"
