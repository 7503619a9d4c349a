#!/bin/sh
# Makes one random token per role (256 bits each, from openssl rand) and the files that hand
# each program only the credential it needs (docs/OPERATIONS.md, "Credentials and roles"):
#   OUT/credentials          the coordinator's --credentials file: SHA-256 digests, no token
#   OUT/ROLE.token           the token of each role (worker, reader, submitter, admin)
#   OUT/coordinator.env      DEEPSWEEP_CREDENTIALS=<the credentials file's lines, comma-separated>
#   OUT/worker.env           DEEPSWEEP_TOKEN=<worker token>      (docker compose's workers)
#   OUT/cli.env              DEEPSWEEP_TOKEN=<submitter token>   (docker compose's cli)
#   OUT/admin.env            DEEPSWEEP_TOKEN=<admin token>       (backups)
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
echo "make-credentials: wrote $out/{credentials,*.token,*.env}"
