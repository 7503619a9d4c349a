#!/bin/sh
# Entry point of the deepsweep image. The programs read the bearer token from a file
# (--token-file); containers get it from the environment (an env file in compose). When
# DEEPSWEEP_TOKEN is set, this writes it to $DEEPSWEEP_TOKEN_FILE (default
# /tmp/deepsweep/token, mode 0600, owned by the container's user) and runs the command it
# was given. The variable stays set: the deepsweep CLI reads DEEPSWEEP_TOKEN itself.
set -eu
if [ -n "${DEEPSWEEP_TOKEN:-}" ]; then
  token_file=${DEEPSWEEP_TOKEN_FILE:-/tmp/deepsweep/token}
  mkdir -p "$(dirname "$token_file")"
  (umask 077 && printf '%s' "$DEEPSWEEP_TOKEN" > "$token_file")
fi
exec "$@"
