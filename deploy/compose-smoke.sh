#!/usr/bin/env bash
# A real end-to-end test of deploy/: builds the images from deploy/Dockerfile without any
# registry, brings up the coordinator and 3 workers with deploy/docker-compose.yml, submits
# a small sweep, kills one worker container while it trains a trial, and checks that the
# sweep completes, that the killed trial was leased again and finished, and that the
# results are in the coordinator's database. Then it tears everything down.
#
# No registry is reachable here, so it makes the two base images the Dockerfile's FROM
# lines name from Debian's archive: debootstrap with the packages of each stage included
# (scripts/install-deps.sh --list / --runtime --list), then `docker import` under
# debian:bookworm and debian:bookworm-slim. The Dockerfile's own install steps then find
# everything present and download nothing. The base images are cached (labelled with a
# hash of their package list) in the engine's data root and rebuilt when the list changes.
#
# If no Docker engine answers, it starts Debian's dockerd with --iptables=false
# --ip-forward=false on a socket and data root of its own (under --state), and stops it by
# its pid at the end. Run time (it prints each step's): on 2 shared cores 33 minutes the
# first time (two debootstraps 11 min, the compile 21 min), 70-90 s once the bases and the
# image's layers are cached in --state.
#
# Usage: deploy/compose-smoke.sh [--state DIR] [--workers N] [--keep-up]
#   --state DIR   engine data root and logs (default /var/lib/deepsweep-smoke)
#   --workers N   worker containers (default 3, at least 2)
#   --keep-up     leave the containers running at the end (for debugging)
# Must run as root. Uses `docker compose` (v2) when the docker client has it, else Debian's
# `docker-compose` (v1.29); DEEPSWEEP_COMPOSE="docker-compose" (or "docker compose") forces one.
# The last line it prints is "compose-smoke: PASS ..." or "compose-smoke: FAIL ...".
set -euo pipefail
# One compound command: bash parses it whole before running it, so editing or checking out
# this file during a run (it takes many minutes) cannot change what the run executes.
{
cd "$(dirname "$0")/.."

state=/var/lib/deepsweep-smoke
workers=3
keep_up=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --state) state=${2:?--state needs a directory}; shift 2 ;;
    --workers) workers=${2:?--workers needs a number}; shift 2 ;;
    --keep-up) keep_up=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose-smoke: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$workers" =~ ^[0-9]+$ ]] || ((workers < 2)); then
  echo "compose-smoke: --workers must be a number >= 2 (one is killed)" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "compose-smoke: must run as root (dockerd, debootstrap)" >&2
  exit 2
fi

log() { printf '[compose-smoke %s] %s\n' "$(date +%T)" "$*"; }
fail() { log "FAIL: $*" >&2; exit 1; }
summary=()
unmount_under() {
  awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount_point; do umount -l "$mount_point"; done
}
timed() {
  local name=$1 start=$SECONDS rc=0
  shift
  log "step '$name' starts"
  "$@" || rc=$?
  log "step '$name' took $((SECONDS - start))s (exit $rc)"
  summary+=("$(printf '%-34s %5ss' "$name" "$((SECONDS - start))")")
  return "$rc"
}
# Polls `"$@"` every 2 s until it succeeds; fails after $1 seconds naming $2.
wait_for() {
  local timeout=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 2
  done
}

# --- Tools and engine ---------------------------------------------------------
scripts/install-deps.sh --compose-smoke # docker.io, docker-compose, debootstrap
# The client that matches Debian's engine (a newer one on PATH may speak a newer API).
docker_bin=/usr/bin/docker
[[ -x "$docker_bin" ]] || docker_bin=$(command -v docker)
docker() { "$docker_bin" "$@"; }
if [[ -n "${DEEPSWEEP_COMPOSE:-}" ]]; then
  read -r -a compose_cmd <<<"$DEEPSWEEP_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
else
  compose_cmd=(docker-compose)
fi

work=$(mktemp -d /tmp/deepsweep-smoke.XXXXXX)
engine_pid=""
bridge_was_there=true
project=deepsweep-smoke
compose_up=false
cleanup() {
  local status=$?
  set +e
  if $compose_up && ! $keep_up; then
    log "tearing down the compose project"
    compose down -v --remove-orphans >"$work/down.log" 2>&1 || tail -n 5 "$work/down.log"
    local filter=label=com.docker.compose.project=$project left
    left=$(docker container ls -aq --filter "$filter" | sed 's/^/container /'
      docker network ls -q --filter "$filter" | sed 's/^/network /'
      docker volume ls -q --filter "$filter" | sed 's/^/volume /')
    if [[ -n "$left" ]]; then
      log "teardown left: $(echo "$left" | paste -sd' ' -)"
      ((status != 0)) || status=1
    else
      log "teardown: no container, network or volume of $project is left"
    fi
  fi
  if [[ -n "$engine_pid" ]] && ! $keep_up; then
    log "stopping dockerd (pid $engine_pid)"
    kill -TERM "$engine_pid" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$engine_pid" 2>/dev/null && kill -KILL "$engine_pid"
    # What dockerd leaves behind on the host: its default network namespace's bind mount
    # and the docker0 bridge (removed only if this run's engine made it).
    unmount_under "$state/exec"
    $bridge_was_there || ip link delete docker0 2>/dev/null
  fi
  rm -rf "$work"
  if ((status == 0)); then
    echo "compose-smoke: PASS in ${SECONDS}s (total run time)"
  else
    echo "compose-smoke: FAIL (exit $status) after ${SECONDS}s (total run time)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine_answers() { docker info >/dev/null 2>&1; }
start_engine() {
  if engine_answers; then
    log "using the running Docker engine ($(docker info -f '{{.ServerVersion}}'))"
    return 0
  fi
  mkdir -p "$state/docker" "$state/exec" "$state/run"
  ip link show docker0 >/dev/null 2>&1 || bridge_was_there=false
  local socket=$state/run/docker.sock
  log "no engine answers: starting dockerd on $socket (log: $state/dockerd.log)"
  dockerd --iptables=false --ip-forward=false --data-root "$state/docker" \
    --exec-root "$state/exec" --pidfile "$state/run/docker.pid" -H "unix://$socket" \
    >"$state/dockerd.log" 2>&1 &
  engine_pid=$!
  export DOCKER_HOST=unix://$socket
  wait_for 60 "dockerd to answer (see $state/dockerd.log)" engine_answers
  log "dockerd $(docker info -f '{{.ServerVersion}}') is up (pid $engine_pid)"
}
timed "engine" start_engine

# --- Base images from Debian's archive ---------------------------------------
mirror=$(scripts/debian-mirror.sh)
# base_image TAG [install-deps.sh selection flag]: a bookworm minbase with that selection's
# packages, imported as TAG, unless TAG already holds exactly that.
base_image() {
  local tag=$1 packages digest label root
  packages=$(scripts/install-deps.sh "${@:2}" --list | sort | paste -sd, -)
  digest=$(printf 'bookworm %s %s' "$mirror" "$packages" | sha256sum | cut -c1-16)
  label=$(docker image inspect -f '{{index .Config.Labels "org.deepsweep.base"}}' "$tag" \
    2>/dev/null || echo "<none>")
  if [[ "$label" == "$digest" ]]; then
    log "$tag: cached ($digest)"
    return 0
  fi
  if [[ "$label" != "<none>" && -z "$label" ]]; then
    fail "$tag exists and was not made by this script; remove it or use another engine"
  fi
  root="$work/rootfs-${tag//[:\/]/-}"
  log "$tag: debootstrap with ${packages//,/ }"
  if ! debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    unmount_under "$root"
    return 1
  fi
  unmount_under "$root"
  # As Debian's own images: no package cache, no lists (install-deps.sh updates them when
  # it has something to install).
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar --numeric-owner -C "$root" -c . |
    docker import --change "LABEL org.deepsweep.base=$digest" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$tag" >/dev/null
  rm -rf --one-file-system "$root"
  log "$tag: imported ($(docker image inspect -f '{{.Size}}' "$tag" | numfmt --to=iec))"
}
timed "base image debian:bookworm" base_image debian:bookworm --no-tests
timed "base image debian:bookworm-slim" base_image debian:bookworm-slim --runtime

# --- Images, then the cluster -------------------------------------------------
export DEEPSWEEP_IMAGE=deepsweep:smoke
# "127.0.0.1:" + ":50051": the engine picks a free port on loopback (read back after up).
export DEEPSWEEP_PUBLISH=127.0.0.1:
# One credential per role; each service gets only its own (deploy/make-credentials.sh).
export DEEPSWEEP_SECRETS=$work/secrets
rm -rf "$DEEPSWEEP_SECRETS"
deploy/make-credentials.sh "$DEEPSWEEP_SECRETS" >/dev/null
compose() { "${compose_cmd[@]}" -p "$project" -f deploy/docker-compose.yml "$@"; }

build_images() {
  compose build coordinator >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; return 1; }
  tail -n 3 "$work/build.log"
  log "image $DEEPSWEEP_IMAGE: $(docker image inspect -f '{{.Size}}' "$DEEPSWEEP_IMAGE" | numfmt --to=iec)"
}
timed "build images" build_images

coordinator_healthy() {
  local id
  id=$(compose ps -q coordinator)
  [[ -n "$id" && $(docker inspect -f '{{.State.Health.Status}}' "$id") == healthy ]]
}
bring_up() {
  compose_up=true
  compose up -d --scale worker="$workers" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; return 1; }
  wait_for 90 "the coordinator's health check" coordinator_healthy
  coordinator=$(compose ps -q coordinator)
  local running ids
  mapfile -t ids < <(compose ps -q worker)
  running=$(docker inspect -f '{{.State.Running}}' "${ids[@]}" | grep -c true)
  ((running == workers)) || fail "$running of $workers workers are running"
  port=$(compose port coordinator 50051)
  [[ "$port" == 127.0.0.1:* ]] || fail "the coordinator is published on '$port', not on loopback"
  port=${port##*:}
  # The published port answers on loopback.
  timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
    fail "nothing answers on the published 127.0.0.1:$port"
  log "coordinator healthy on 127.0.0.1:$port, $running workers running"
}
timed "up: coordinator + $workers workers" bring_up

# --- A small sweep, with one worker killed mid-trial ---------------------------
# Queries the coordinator's database in its container (docker exec: polls stay cheap).
sql() { docker exec -i "$coordinator" sqlite3 -batch -noheader /data/deepsweep.db "$1"; }
# The CLI in the compose network, with the sweep spec mounted (readable by uid 10001).
mkdir -m 0755 "$work/specs"
cli() { compose run --rm -T -v "$work/specs:/smoke:ro" cli "$@"; }
# Small (width 64) but long enough per trial (20000 updates: a few seconds of one core,
# ten checkpoints) that a kill lands inside a trial rather than between two; 12 trials, so
# the two surviving workers still have a queue to drain after the kill.
cat >"$work/specs/sweep.yaml" <<'EOF'
name: compose-smoke
dataset: {name: shapeset, train_examples: 2000, validation_examples: 500, test_examples: 500}
model: {width: 64, output: softmax, loss: nll}
training: {batch_size: 10, updates: 20000, checkpoint_every: 2000, probe_examples: 100}
grid:
  activation: [tanh, softsign]
  init: [standard, normalized]
  depth: [1, 2, 3]
seeds: 1
limits: {max_attempts: 3}
EOF
trials=12
submit() {
  cli deepsweep submit /smoke/sweep.yaml | tee "$work/submit.out"
  sweep=$(sql "SELECT id FROM sweeps WHERE name = 'compose-smoke' ORDER BY id DESC LIMIT 1;")
  [[ -n "$sweep" ]] || fail "the submitted sweep is not in the database"
  local count
  count=$(sql "SELECT count(*) FROM trials WHERE sweep_id = $sweep;")
  ((count == trials)) || fail "sweep $sweep has $count trials, expected $trials"
  log "sweep $sweep submitted with $count trials"
}
timed "submit" submit

# A trial in flight: leased, with at least one checkpoint of its current attempt stored;
# of those, the one with the most training left. Sets victim to "trial attempt worker_id
# host" (host: the worker container's hostname).
in_flight() {
  victim=$(sql "SELECT t.id || ' ' || t.attempt || ' ' || t.worker_id || ' ' || w.host
    FROM trials t JOIN workers w ON w.worker_id = t.worker_id
      JOIN checkpoints c ON c.trial_id = t.id AND c.attempt = t.attempt
    WHERE t.sweep_id = $sweep AND t.state = 'leased'
    GROUP BY t.id ORDER BY max(c.step) LIMIT 1;")
  [[ -n "$victim" ]]
}
sweep_done() {
  [[ $(sql "SELECT count(*) FROM trials WHERE sweep_id = $sweep
    AND state IN ('pending', 'leased');") == 0 ]]
}
kill_worker_mid_trial() {
  local deadline=$((SECONDS + 300))
  until in_flight; do
    sweep_done && fail "sweep $sweep finished before a trial in flight was seen: trials too short"
    ((SECONDS < deadline)) || fail "no trial in flight within 300s"
    sleep 0.5
  done
  read -r victim_trial victim_attempt victim_worker victim_host <<<"$victim"
  local id container=""
  for id in $(compose ps -q worker); do
    [[ $(docker inspect -f '{{.Config.Hostname}}' "$id") == "$victim_host" ]] && container=$id
  done
  [[ -n "$container" ]] || fail "no worker container has hostname $victim_host ($victim_worker)"
  docker kill "$container" >/dev/null
  # Between the query and the kill the trial may have finished: then nothing was lost.
  local after
  after=$(sql "SELECT state || ' ' || attempt FROM trials WHERE id = $victim_trial;")
  [[ "$after" == "leased $victim_attempt" ]] ||
    fail "trial $victim_trial was '$after' when its worker died: the kill came too late"
  log "killed worker container ${container:0:12} ($victim_worker) while it trained trial" \
    "$victim_trial (attempt $victim_attempt, $(sql "SELECT max(step) FROM checkpoints
      WHERE trial_id = $victim_trial AND attempt = $victim_attempt;") of 20000 updates done)"
}
timed "kill a worker mid-trial" kill_worker_mid_trial

timed "wait for the sweep" wait_for 900 "sweep $sweep to finish" sweep_done

check_results() {
  local states rerun csv_rows
  states=$(sql "SELECT state || ':' || count(*) FROM trials WHERE sweep_id = $sweep GROUP BY state;")
  log "trial states: $(echo "$states" | paste -sd' ' -)"
  [[ "$states" == "succeeded:$trials" ]] || fail "not every trial succeeded"
  local rerun rerun_state rerun_attempt rerun_worker lost_checkpoints
  rerun=$(sql "SELECT state || ' ' || attempt || ' ' || worker_id FROM trials
    WHERE id = $victim_trial;")
  read -r rerun_state rerun_attempt rerun_worker <<<"$rerun"
  if [[ "$rerun_state" != succeeded ]] || ((rerun_attempt <= victim_attempt)) ||
    [[ "$rerun_worker" == "$victim_worker" ]]; then
    fail "trial $victim_trial: '$rerun' after worker $victim_worker died at attempt $victim_attempt"
  fi
  # The dead attempt's lease ended without success; its checkpoints stay, keyed by attempt.
  lost_checkpoints=$(sql "SELECT count(*) FROM checkpoints
    WHERE trial_id = $victim_trial AND attempt = $victim_attempt;")
  log "leases of trial $victim_trial: $(sql "SELECT attempt || ':' || worker_id || ':' ||
    coalesce(outcome, '-') FROM leases WHERE trial_id = $victim_trial ORDER BY attempt;" |
    paste -sd' ' -)"
  log "trial $victim_trial was re-run: attempt $victim_attempt died with $victim_worker" \
    "after $lost_checkpoints checkpoints, attempt $rerun_attempt succeeded on $rerun_worker"
  compose exec -T coordinator deepsweep results "$sweep" --format csv \
    --db /data/deepsweep.db >"$work/results.csv"
  csv_rows=$(($(wc -l <"$work/results.csv") - 1))
  ((csv_rows == trials)) || fail "deepsweep results printed $csv_rows rows, expected $trials"
  head -n 4 "$work/results.csv"
  log "results: $csv_rows rows in the database, read back with deepsweep results"
  # The same sweep as a user on the host sees it: the CLI (from the image, in the host's
  # network namespace) through the published loopback port, with the reader's token.
  docker run --rm --network host -e "DEEPSWEEP_TOKEN=$(cat "$DEEPSWEEP_SECRETS/reader.token")" \
    "$DEEPSWEEP_IMAGE" \
    deepsweep --server "127.0.0.1:$port" status "$sweep" >"$work/status.out"
  grep -q . "$work/status.out" || fail "deepsweep status through 127.0.0.1:$port printed nothing"
  head -n 3 "$work/status.out"
  log "status of sweep $sweep read from the host through 127.0.0.1:$port"
}
timed "check results" check_results

log "summary ($(nproc) cores, compose: ${compose_cmd[*]}):"
printf '  %s\n' "${summary[@]}"
exit 0
}
