#!/usr/bin/env bash
# Installs, builds and runs every test (unit, store conformance, gRPC, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${DEEPSWEEP_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
