#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds deepsweep into
# build/ (or $DEEPSWEEP_BUILD_DIR). Extra arguments go to CMake's configure step,
# e.g. scripts/build.sh -DDEEPSWEEP_NATIVE=OFF. DEEPSWEEP_TARGETS (space-separated)
# builds only those targets, e.g. the three programs; the default is everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${DEEPSWEEP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${DEEPSWEEP_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
