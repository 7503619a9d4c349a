#!/usr/bin/env bash
# Installs every Debian 12 package deepsweep needs to build, test and run.
# Idempotent and quiet when everything is present.
# Usage: scripts/install-deps.sh [--peers | --no-tests | --runtime | --fresh-check | --compose-smoke]
#                                [--list]
#   --peers          also installs the benchmark peers (python3-torch, python3-optuna).
#   --no-tests       only what building needs, not the test tools (deploy/Dockerfile).
#   --runtime        only what the three programs need to run (shared libraries, sqlite3
#                    for queries, the dataset files): the slim stage of deploy/Dockerfile.
#   --fresh-check    only the tools of scripts/fresh-machine-check.sh (debootstrap).
#   --compose-smoke  only the tools of deploy/compose-smoke.sh (Docker engine, compose v1,
#                    debootstrap).
#   --list     prints the selected package names, one a line, and installs nothing
#              (deploy/compose-smoke.sh feeds them to debootstrap --include).
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev libcli11-dev
  zlib1g-dev libpng-dev gnuplot-nox openssl libssl-dev clang-format python3-yaml python3-numpy
  dataset-fashion-mnist libopenblas-dev
  libcpp-httplib-dev libjs-chart.js nlohmann-json3-dev
)
# What only the tests need: the dashboard's browser test (headless Chromium,
# its WebDriver, Selenium) and promtool (package prometheus) for /metrics;
# clang and libclang-rt-14-dev (libFuzzer, the sanitizer runtimes) build
# the fuzz targets (-DDEEPSWEEP_FUZZ=ON); iproute2 gives the partition test its
# network namespaces.
test_packages=(chromium chromium-driver python3-selenium prometheus clang libclang-rt-14-dev iproute2)
# The runtime halves of the -dev packages above, for the Debian 12 versions.
runtime_packages=(
  ca-certificates libgrpc++1.51 libprotobuf32 libabsl20220623 libsqlite3-0 sqlite3
  libspdlog1.10 libfmt9 libyaml-cpp0.7 zlib1g libpng16-16 libopenblas0-pthread libssl3
  dataset-fashion-mnist libjs-chart.js libcpp-httplib0.11
)
peer_packages=(python3-torch python3-optuna)
fresh_check_packages=(debootstrap)
compose_smoke_packages=(docker.io docker-compose debootstrap)

packages=("${build_packages[@]}" "${test_packages[@]}")
list_only=false
for arg in "$@"; do
  case "$arg" in
    --peers) packages+=("${peer_packages[@]}") ;;
    --no-tests) packages=("${build_packages[@]}") ;;
    --runtime) packages=("${runtime_packages[@]}") ;;
    --fresh-check) packages=("${fresh_check_packages[@]}") ;;
    --compose-smoke) packages=("${compose_smoke_packages[@]}") ;;
    --list) list_only=true ;;
    *) echo "install-deps: unknown argument '$arg' (see the usage at its top)" >&2; exit 2 ;;
  esac
done
if $list_only; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
