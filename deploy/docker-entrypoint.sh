#!/bin/sh
# Entry point of the deepsweep image. The programs read their secrets from files
# (--token-file, --credentials); containers get them from the environment (an env file in
# compose, made by deploy/make-credentials.sh). This writes them out, mode 0600, owned by
# the container's user, then runs the command it was given:
#   DEEPSWEEP_TOKEN        -> $DEEPSWEEP_TOKEN_FILE (default /tmp/deepsweep/token), for
#                             deepsweep-worker --token-file. The variable stays set: the
#                             deepsweep CLI reads DEEPSWEEP_TOKEN itself.
#   DEEPSWEEP_CREDENTIALS  -> $DEEPSWEEP_CREDENTIALS_FILE (default /tmp/deepsweep/credentials),
#                             one line per comma-separated entry, for deepsweep-server
#                             --credentials. Unset afterwards: the server reads the file.
set -eu
if [ -n "${DEEPSWEEP_TOKEN:-}" ]; then
  token_file=${DEEPSWEEP_TOKEN_FILE:-/tmp/deepsweep/token}
  mkdir -p "$(dirname "$token_file")"
  (umask 077 && printf '%s' "$DEEPSWEEP_TOKEN" > "$token_file")
fi
if [ -n "${DEEPSWEEP_CREDENTIALS:-}" ]; then
  credentials_file=${DEEPSWEEP_CREDENTIALS_FILE:-/tmp/deepsweep/credentials}
  mkdir -p "$(dirname "$credentials_file")"
  (umask 077 && printf '%s\n' "$DEEPSWEEP_CREDENTIALS" | tr ',' '\n' > "$credentials_file")
  unset DEEPSWEEP_CREDENTIALS
fi
exec "$@"
