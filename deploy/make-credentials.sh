#!/bin/sh
# Makes one random token per role (256 bits each, from openssl rand) and the files that hand
# each program only the credential it needs (docs/OPERATIONS.md, "Credentials and roles"):
#   OUT/credentials          the coordinator's --credentials file: SHA-256 digests, no token
#   OUT/ROLE.token           the token of each role (worker, reader, submitter, admin)
#   OUT/coordinator.env      DEEPSWEEP_CREDENTIALS=<the credentials file's lines, comma-separated>
#   OUT/worker.env           DEEPSWEEP_TOKEN=<worker token>      (docker compose's workers)
#   OUT/cli.env              DEEPSWEEP_TOKEN=<submitter token>   (docker compose's cli)
#   OUT/admin.env            DEEPSWEEP_TOKEN=<admin token>       (backups)
#   OUT/ca.crt, OUT/ca.key   a CA of its own (EC P-256, 825 days) for TLS
#   OUT/tls.crt, OUT/tls.key the coordinator's certificate, signed by that CA, for the names
#                            deepsweep-coordinator(.deepsweep.svc[.cluster.local]),
#                            coordinator, localhost and 127.0.0.1
# (deploy/k8s uses the certificates; docker compose talks plaintext on its private network.)
# Everything is written mode 0600. Refuses to overwrite OUT/credentials: to rotate, move the
# old directory away first (or edit the credentials file and send the coordinator SIGHUP).
# Usage: deploy/make-credentials.sh OUT_DIR
#   deploy/make-credentials.sh deploy/secrets       # for deploy/docker-compose.yml
#   deploy/make-credentials.sh deploy/k8s/secrets   # for kubectl apply -k deploy/k8s
set -eu
out=${1:?usage: deploy/make-credentials.sh OUT_DIR}
if [ -e "$out/credentials" ]; then
  echo "make-credentials: $out/credentials exists; not overwriting it" >&2
  exit 1
fi
umask 077
mkdir -p "$out"
lines=""
{
  echo "# ROLE NAME sha256:HEX (made by deploy/make-credentials.sh; reload with SIGHUP)"
  for role in worker reader submitter admin; do
    token=$(openssl rand -hex 32)
    printf '%s' "$token" > "$out/$role.token"
    digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
    line="$role $role-1 sha256:$digest"
    echo "$line"
    lines="${lines:+$lines,}$line"
  done
  printf 'DEEPSWEEP_CREDENTIALS=%s\n' "$lines" > "$out/coordinator.env"
} > "$out/credentials"
printf 'DEEPSWEEP_TOKEN=%s\n' "$(cat "$out/worker.token")" > "$out/worker.env"
printf 'DEEPSWEEP_TOKEN=%s\n' "$(cat "$out/submitter.token")" > "$out/cli.env"
printf 'DEEPSWEEP_TOKEN=%s\n' "$(cat "$out/admin.token")" > "$out/admin.env"
names="DNS:deepsweep-coordinator,DNS:deepsweep-coordinator.deepsweep.svc"
names="$names,DNS:deepsweep-coordinator.deepsweep.svc.cluster.local,DNS:coordinator"
names="$names,DNS:localhost,IP:127.0.0.1"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=deepsweep CA" -keyout "$out/ca.key" -out "$out/ca.crt"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=deepsweep-coordinator" -keyout "$out/tls.key" -out "$out/tls.csr"
  printf 'subjectAltName=%s\n' "$names" > "$out/tls.ext"
  openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -days 825 -extfile "$out/tls.ext" -out "$out/tls.crt"
} 2>/dev/null
rm -f "$out/tls.csr" "$out/tls.ext" "$out/ca.srl"
echo "make-credentials: wrote $out/{credentials,*.token,*.env,ca.crt,tls.crt,tls.key}"
