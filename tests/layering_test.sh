#!/usr/bin/env bash
# Fails when core/ or ml/ include a header of gRPC, SQLite, spdlog or protobuf
# (generated *.pb.h included), which would break the architecture's dependency
# rule. Also checks the rule's own detector on a planted violation.
set -euo pipefail
root=${1:?usage: layering_test.sh REPO_ROOT}
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](grpc|grpcpp|sqlite3|spdlog|google/protobuf|deepsweep/v1|[^">]*\.pb\.h)'

violations() { grep -rEn --include='*.h' --include='*.cc' --include='*.cpp' "$pattern" "$@" || true; }

# Self-check: the detector must see a planted violation.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include "grpcpp/grpcpp.h"\n#include <sqlite3.h>\n' > "$tmp/bad.cc"
[[ $(violations "$tmp" | wc -l) -eq 2 ]] || { echo "layering_test: detector is broken"; exit 2; }

found=$(violations "$root/core" "$root/ml")
if [[ -n "$found" ]]; then
  echo "core/ and ml/ must not include gRPC, SQLite, spdlog or protobuf headers:"
  echo "$found"
  exit 1
fi
echo "layering: core/ and ml/ are free of gRPC, SQLite, spdlog and protobuf"
