#!/usr/bin/env bash
# Training throughput of 784 -> 1000 x 5 -> 10 tanh on one thread: deepsweep's
# trainer (bench/trainer_bench.cc) and PyTorch (bench/torch_trainer_bench.py)
# in one command, interleaved `repeats` times, with the machine's load before
# and after each run. Figures go to docs/PERFORMANCE.md. With a third argument,
# the trainer_bench of that (portable, -DDEEPSWEEP_NATIVE=OFF) build runs
# `auto` in the same repeats. Each trainer_bench run measures its auto plan at
# start, as a worker does, and prints it ("auto plan: ..."), so `auto` can be
# compared with the fixed backends (small_batch, eigen, blas) it chose from.
# Every row is sampled `samples` times per repeat in a random order across the
# rows (Google Benchmark's random interleaving), so a stretch of noise from the
# machine's neighbours hits all rows alike; the console shows each repeat's
# medians, and bench/summarize_trainer_bench.py prints the issue-20 table and
# goals from all samples of all repeats (kept as JSON in the run's directory).
# With a portable build, AB_ROUNDS rounds (default 6) then alternate processes
# of the two builds on one plan at minibatch 10 and 128: the builds' code
# compared without their calibrations.
# Usage: bench/run_trainer_bench.sh [build_dir] [repeats] [portable_build_dir]
#   (environment: SAMPLES, default 3; AB_ROUNDS; OUT, the run's directory,
#   default a new one under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeats=${2:-3}
portable=${3:-}
samples=${SAMPLES:-3}
ab_rounds=${AB_ROUNDS:-6}
out=${OUT:-$(mktemp -d /tmp/trainer-bench.XXXXXX)}
mkdir -p "$out"
scripts/install-deps.sh --peers
cmake --build "$build_dir" --target trainer_bench >/dev/null
[[ -z "$portable" ]] || cmake --build "$portable" --target trainer_bench >/dev/null

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
# One thread everywhere: OpenBLAS (ours and PyTorch's libblas.so.3), OpenMP.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
  grep -E '^(avx2|fma|avx512f|avx512dq|avx512vl|avx512bw|avx512_vnni|avx512_bf16)$' | xargs)"
echo "libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
echo "samples per row per repeat: $samples; JSON in $out"
sampled=(--benchmark_repetitions="$samples" --benchmark_enable_random_interleaving=true
  --benchmark_min_time=0.5 --benchmark_display_aggregates_only=true --benchmark_out_format=json)
for ((r = 1; r <= repeats; r++)); do
  echo "== repeat $r/$repeats, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$build_dir/bench/trainer_bench" "${sampled[@]}" --benchmark_out="$out/native-$r.json" \
    --benchmark_filter='BM_TrainStep/((auto|eigen|blas|small_batch|small_batch@avx2)/batch|auto/threads)' \
    2>/dev/null >"$out/native-$r.txt"
  grep -E '^(BM_.*_median|auto plan)' "$out/native-$r.txt"
  if [[ -n "$portable" ]]; then
    "$portable/bench/trainer_bench" "${sampled[@]}" --benchmark_out="$out/portable-$r.json" \
      --benchmark_filter='BM_TrainStep/auto/batch' 2>/dev/null >"$out/portable-$r.txt"
    grep -E '^(BM_.*_median|auto plan)' "$out/portable-$r.txt" | sed 's/^/portable /'
  fi
  /usr/bin/python3 bench/torch_trainer_bench.py --seconds 2 --repeats 1 | grep batch |
    tee "$out/torch-$r.txt"
done
if [[ -n "$portable" ]]; then
  # The builds' code side by side: processes of the two alternating, both on
  # the plan the first native repeat measured, so neither calibration nor a
  # drift of the machine between their runs above decides the ratio.
  plan=$(sed -n 's/^auto plan: \([^ ]*\) (\(measured now\|cached\))$/\1/p' "$out/native-1.txt")
  if [[ -z $plan ]]; then
    echo "== no auto plan in $out/native-1.txt: the portable / native A/B is skipped" >&2
  else
    echo "== portable / native, $ab_rounds rounds alternating the builds, plan $plan"
    for ((i = 1; i <= ab_rounds; i++)); do
      for kind in native portable; do
        dir=$build_dir
        [[ $kind == portable ]] && dir=$portable
        "$dir/bench/trainer_bench" "${sampled[@]}" --auto_plan="$plan" \
          --benchmark_filter='BM_TrainStep/auto/batch:(10|128)/' \
          --benchmark_out="$out/ab-$kind-$i.json" >"$out/ab-$kind-$i.txt" 2>&1
      done
    done
  fi
fi
echo "== summary"
/usr/bin/python3 bench/summarize_trainer_bench.py "$out"
echo "== monitoring cost, load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/bench/trainer_bench" --benchmark_filter='BM_(LayerProbe|Evaluate)' --auto_plan=default \
  2>/dev/null | grep BM_
echo "== done, load: $(cut -d' ' -f1-3 /proc/loadavg)"
