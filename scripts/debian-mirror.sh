#!/usr/bin/env bash
# Prints the Debian archive this machine's apt sources name (the first URI ending in
# /debian, in one-line sources.list or deb822 *.sources form), or
# http://deb.debian.org/debian when they name none. Used by the debootstrap-based checks
# (scripts/fresh-machine-check.sh, deploy/compose-smoke.sh).
set -euo pipefail
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }
       /^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
  grep -m1 -E '^https?://[^ ]*/debian/?$' || true)
echo "${mirror:-http://deb.debian.org/debian}"
