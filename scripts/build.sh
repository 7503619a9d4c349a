#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds deepsweep into
# build/ (or $DEEPSWEEP_BUILD_DIR). Extra arguments go to CMake's configure step,
# e.g. scripts/build.sh -DDEEPSWEEP_NATIVE=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${DEEPSWEEP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
