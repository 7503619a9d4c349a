# Sourced by the bench scripts: start_server BUILD_DIR WORK_DIR [SERVER ARGS...] starts
# deepsweep-server on 127.0.0.1 (an ephemeral port) with --db WORK_DIR/load.db, its log in
# WORK_DIR/server.log, and sets server_pid and port; returns 1 (log printed) if it did not
# start listening within 30 s.
start_server() {
  local build_dir=$1 work=$2
  shift 2
  "$build_dir/server/deepsweep-server" --address 127.0.0.1:0 --db "$work/load.db" "$@" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  port=
  for _ in $(seq 300); do  # the server logs its port once it listens
    port=$(sed -n 's/.*listening on .*(port \([0-9]*\),.*/\1/p' "$work/server.log" 2>/dev/null)
    [[ -n "$port" ]] && return 0
    sleep 0.1
  done
  echo "deepsweep-server did not start:" >&2
  cat "$work/server.log" >&2
  return 1
}
