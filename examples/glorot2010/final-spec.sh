#!/usr/bin/env bash
# Prints a spec: BASE.yaml followed by the grid of the learning rates that the
# learning-rate sweep LR_SWEEP chose per model (`deepsweep table`'s choice: the
# lowest validation error among its succeeded trials), so that each model runs
# at its own rate only. Extra arguments go to `deepsweep` (e.g. --server ADDR,
# --db FILE); DEEPSWEEP names the CLI (default build/client/deepsweep).
# Usage: final-spec.sh BASE.yaml LR_SWEEP [deepsweep options...] > final.yaml
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BASE.yaml LR_SWEEP [deepsweep options...]" >&2; exit 2; }
base=$1 sweep=$2
shift 2
deepsweep=${DEEPSWEEP:-build/client/deepsweep}
# activation,init,<dataset>_mean,..,<dataset>_selected with selected = learning_rate=R; a
# model with one succeeded rate has nothing to choose from (selected empty): that rate.
choices=$("$deepsweep" "$@" table "$sweep" --format csv | tail -n +2 |
  while IFS=, read -r activation init mean _ _ selected; do
    if [[ $selected == learning_rate=* ]]; then
      echo "$activation $init ${selected#learning_rate=}"
    elif [[ -n $mean ]]; then
      rates=$("$deepsweep" "$@" results "$sweep" activation="$activation" init="$init" \
        state=succeeded --columns learning_rate --format csv | tail -n +2 | sort -u)
      [[ $(wc -l <<<"$rates") == 1 ]] || { echo "$0: $activation $init: rates '$rates'" >&2; exit 1; }
      echo "$activation $init $rates"
    fi
  done)
[[ -n "$choices" ]] || { echo "$0: sweep '$sweep' has no model with a chosen rate yet" >&2; exit 1; }
rates=$(awk '{ print $3 }' <<<"$choices" | sort -g -u | paste -sd, - | sed 's/,/, /g')
cat "$base"
echo "grid:"
echo "  activation: [$(awk '{ print $1 }' <<<"$choices" | awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g')]"
echo "  init: [$(awk '{ print $2 }' <<<"$choices" | awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g')]"
echo "  learning_rate: [$rates]"
echo "exclude:   # each model at its chosen rate; pairs with no choice in $sweep not at all"
for activation in $(awk '{ print $1 }' <<<"$choices" | awk '!seen[$0]++'); do
  for init in $(awk '{ print $2 }' <<<"$choices" | awk '!seen[$0]++'); do
    chosen=$(awk -v a="$activation" -v i="$init" '$1 == a && $2 == i { print $3 }' <<<"$choices")
    if [[ -z "$chosen" ]]; then
      echo "  - {activation: $activation, init: $init}"
      continue
    fi
    others=$(tr ',' '\n' <<<"${rates// /}" | awk -v c="$chosen" '$1 + 0 != c + 0' | paste -sd, - | sed 's/,/, /g')
    [[ -z "$others" ]] || echo "  - {activation: $activation, init: $init, learning_rate: [$others]}   # chose $chosen"
  done
done
