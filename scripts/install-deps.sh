#!/usr/bin/env bash
# Installs every Debian 12 package deepsweep needs to build, test and run.
# Idempotent and quiet when everything is present. Usage: scripts/install-deps.sh [--peers]
#   --peers  also installs the benchmark peers (python3-torch, python3-optuna).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev libcli11-dev
  zlib1g-dev libpng-dev gnuplot-nox openssl clang-format
  dataset-fashion-mnist libopenblas-dev
)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(python3-torch python3-optuna)
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
