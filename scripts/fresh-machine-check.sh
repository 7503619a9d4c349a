#!/usr/bin/env bash
# Proves the README's "fresh Debian 12 machine" promise for real: builds a clean
# Debian 12 (bookworm) root with debootstrap, puts the committed checkout (HEAD,
# via git archive: no build dir, no local changes) in it, and runs the README's
# quick-start commands inside it with chroot, exactly as the README states them.
# Fails if either command fails. Prints how long each step took; for each README
# command it also splits the time into install / build / tests from its output.
#
# Slow (minutes: a whole toolchain is downloaded and everything is built from
# scratch), so it is not part of .ci/run; run it whenever the install steps change.
#
# Usage: scripts/fresh-machine-check.sh [--only main|test] [--keep ROOT] [--mirror URL]
#   --only main   run only the first quick-start command (the main job, scripts/demo.sh)
#   --only test   run only the second quick-start command (the tests, scripts/test.sh)
#   --keep ROOT   debootstrap into ROOT (or reuse it if it already holds a Debian root)
#                 and keep it afterwards; the default is a fresh root in /var/tmp that
#                 is removed at exit
#   --mirror URL  Debian mirror; default: the one the machine's apt sources name
# Must run as root (debootstrap, mount and chroot need it).
set -euo pipefail
cd "$(dirname "$0")/.."

only=""
keep=""
mirror=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only=${2:?--only needs main or test}; shift 2 ;;
    --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-machine-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in
  ""|main|test) ;;
  *) echo "fresh-machine-check: --only takes 'main' or 'test', not '$only'" >&2; exit 2 ;;
esac
if [[ $(id -u) -ne 0 ]]; then
  echo "fresh-machine-check: must run as root (debootstrap, mount, chroot)" >&2
  exit 2
fi

log() { printf '[fresh-machine-check %s] %s\n' "$(date +%T)" "$*"; }
# Runs "$@" and records "name seconds" in the summary.
summary=()
timed() {
  local name=$1; shift
  local start=$SECONDS
  local rc=0
  log "step '$name' starts"
  "$@" || rc=$?
  local took=$((SECONDS - start))
  log "step '$name' took ${took}s (exit $rc)"
  summary+=("$(printf '%-28s %5ss' "$name" "$took")")
  return "$rc"
}

# --- The README's quick-start commands, read from the README itself -----------
# The first two ```sh blocks after "## Quick start": the main job, then the tests.
mapfile -t readme_commands < <(awk '
  /^## / { in_section = ($0 == "## Quick start") }
  in_section && /^```sh$/ { in_block = 1; next }
  in_block && /^```$/ { in_block = 0; next }
  in_block { print }
' README.md)
if [[ ${#readme_commands[@]} -ne 2 ]]; then
  echo "fresh-machine-check: README.md's Quick start must hold exactly two one-line sh" \
    "blocks; found ${#readme_commands[@]} lines: ${readme_commands[*]:-none}" >&2
  exit 1
fi
declare -A command_of=([main]=${readme_commands[0]} [test]=${readme_commands[1]})
to_run=(main test)
[[ -n "$only" ]] && to_run=("$only")

# --- Tools and mirror ---------------------------------------------------------
scripts/install-deps.sh --fresh-check # debootstrap, a tool for this check only
[[ -z "$mirror" ]] && mirror=$(scripts/debian-mirror.sh)
log "mirror: $mirror"

# --- The root, and its cleanup ------------------------------------------------
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  root=$(realpath "$keep")
else
  root=$(mktemp -d /var/tmp/deepsweep-fresh.XXXXXX)
  chmod 755 "$root" # as a real /: apt's _apt user must reach /var/lib/apt
fi
mounts=()
cleanup() {
  local status=$? m
  # Unmount in reverse order; never delete the root while anything is mounted in it.
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    m=${mounts[i]}
    mountpoint -q "$m" && { umount -R "$m" 2>/dev/null || umount -Rl "$m"; }
  done
  if [[ -z "$keep" ]]; then
    if grep -q " $root/" /proc/mounts; then
      log "not removing $root: something is still mounted in it" >&2
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "root: $root$([[ -n "$keep" ]] && echo ' (kept)')"

if [[ -f "$root/etc/debian_version" ]]; then
  log "reusing the Debian root in $root (debootstrap skipped; not a fresh machine)"
else
  debootstrap_log=$(mktemp /var/tmp/deepsweep-debootstrap.XXXXXX.log)
  quiet_debootstrap() {
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$debootstrap_log" 2>&1 ||
      { tail -n 20 "$debootstrap_log" >&2; return 1; }
  }
  timed "debootstrap" quiet_debootstrap
  rm -f "$debootstrap_log"
fi

for fs in proc sys dev dev/pts; do
  mkdir -p "$root/$fs"
  case "$fs" in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sysfs "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount --bind /dev/pts "$root/dev/pts" ;;
  esac
  mounts+=("$root/$fs")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# debootstrap writes no /etc/hosts, but every installed Debian machine has one
# (the installer writes it) and resolvers such as gRPC's find "localhost" there:
# give the root the installer's two loopback lines, nothing of this host's.
if [[ ! -f "$root/etc/hosts" ]]; then
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
fi
# Keep package scripts from starting services inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

# --- The checkout: the committed tree at HEAD, nothing from the work dir -------
commit=$(git rev-parse --short HEAD)
[[ -n $(git status --porcelain) ]] &&
  log "note: uncommitted changes are not copied; checking HEAD ($commit)"
rm -rf "$root/root/deepsweep"
mkdir -p "$root/root/deepsweep"
git archive --format=tar HEAD | tar -x -C "$root/root/deepsweep"
log "copied HEAD ($commit) to /root/deepsweep in the root"

# --- The README commands ------------------------------------------------------
# Runs one README command in the chroot with a clean environment, as root in a
# login-like shell, and prefixes each output line with the seconds since it started.
# Phase markers in the output split the time: install-deps, then the build (first
# ninja "[n/m]" line), then ctest ("Test project").
run_in_root() {
  local name=$1 cmd=$2 out="$root/root/$1.out"
  local start=$SECONDS
  set +e
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /root/deepsweep && $cmd" 2>&1 |
    while IFS= read -r line; do
      printf '%5ss | %s\n' "$((SECONDS - start))" "$line"
    done | tee "$out"
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
phases() {
  local name=$1 out=$2 total=$3 build test
  [[ -f "$out" ]] || return 0
  build=$(awk -F's \\| ' '$2 ~ /^\[[0-9]+\/[0-9]+\]/ { print $1 + 0; exit }' "$out")
  test=$(awk -F's \\| ' '$2 ~ /^Test project/ { print $1 + 0; exit }' "$out")
  [[ -n "$build" ]] && summary+=("$(printf '%-28s %5ss' "  $name: install+configure" "$build")")
  [[ -n "$build" && -n "$test" ]] &&
    summary+=("$(printf '%-28s %5ss' "  $name: build" "$((test - build))")")
  [[ -n "$test" ]] && summary+=("$(printf '%-28s %5ss' "  $name: tests" "$((total - test))")")
  return 0
}

failed=()
for name in "${to_run[@]}"; do
  log "running the README's $name command in the root: ${command_of[$name]}"
  start=$SECONDS
  timed "$name: ${command_of[$name]}" run_in_root "$name" "${command_of[$name]}" ||
    failed+=("$name")
  phases "$name" "$root/root/$name.out" "$((SECONDS - start))"
done

log "summary (Debian $(cat "$root/etc/debian_version"), HEAD $commit, $(nproc) cores):"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "FAILED: ${failed[*]} (output in $root/root/<name>.out while the root exists)"
  exit 1
fi
log "PASSED: ${to_run[*]}"
