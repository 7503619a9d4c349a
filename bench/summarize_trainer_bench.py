#!/usr/bin/python3
"""The figures of issue 20 from one bench/run_trainer_bench.sh run.

Reads the run's directory: native-R.json and portable-R.json (Google
Benchmark's JSON, --benchmark_repetitions samples of every row) and torch-R.txt
(bench/torch_trainer_bench.py) for each repeat R. A row's rate is the median
of all its samples over all repeats (examples/s per second of CPU time; the
threads rows per second of wall time); a ratio is the ratio of those medians,
and beside it the range of the same ratio taken repeat by repeat (each
repeat's medians), so a noisy repeat shows as a wide range, not as a figure.
Usage: bench/summarize_trainer_bench.py DIR
"""
import glob
import json
import os
import re
import statistics
import sys

BATCHES = [1, 10, 32, 64, 128, 256]
FIXED = ["small_batch", "eigen", "blas"]


def read_bench(path):
    """{(variant, batch): [examples/s per sample]} of one trainer_bench run."""
    rows = {}
    with open(path) as f:
        for b in json.load(f)["benchmarks"]:
            if b.get("run_type") != "iteration" or "examples/s" not in b:
                continue
            m = re.match(r"BM_TrainStep/(.+)/batch:(\d+)/", b["run_name"])
            if m:
                rows.setdefault((m.group(1), int(m.group(2))), []).append(b["examples/s"])
    return rows


def read_torch(path):
    rows = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"torch batch=\s*(\d+) cpu: examples/s=\s*([\d.]+)", line)
            if m:
                rows[("torch", int(m.group(1)))] = [float(m.group(2))]
    return rows


def load(directory):
    """[{(variant, batch): samples}] per repeat, portable rows as portable:<variant>."""
    repeats = []
    for native in sorted(glob.glob(os.path.join(directory, "native-*.json")),
                         key=lambda p: int(re.search(r"-(\d+)\.json$", p).group(1))):
        r = re.search(r"-(\d+)\.json$", native).group(1)
        rows = read_bench(native)
        portable = os.path.join(directory, f"portable-{r}.json")
        if os.path.exists(portable):
            for (variant, batch), s in read_bench(portable).items():
                rows[("portable:" + variant, batch)] = s
        torch = os.path.join(directory, f"torch-{r}.txt")
        if os.path.exists(torch):
            rows.update(read_torch(torch))
        repeats.append(rows)
    return repeats


def rate(repeats, key):
    """Median of the key's samples over the given repeats; None when absent."""
    samples = [s for rows in repeats for s in rows.get(key, [])]
    return statistics.median(samples) if samples else None


def ratio(repeats, num, den):
    """(median ratio, [ratio per repeat]); num and den map repeats to a rate."""
    def one(reps):
        a, b = num(reps), den(reps)
        return a / b if a is not None and b else None
    per_repeat = [x for x in (one([rows]) for rows in repeats) if x is not None]
    return one(repeats), per_repeat


def best_of(variants, batch):
    def f(reps):
        rates = [x for x in (rate(reps, (v, batch)) for v in variants) if x is not None]
        return max(rates) if rates else None
    return f


def of(variant, batch):
    return lambda reps: rate(reps, (variant, batch))


def fmt_ratio(r):
    value, per_repeat = r
    if value is None:
        return "-"
    spread = ", ".join(f"{x:.3f}" for x in per_repeat)
    return f"{value:.3f} ({spread})"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize_trainer_bench.py DIR")
    repeats = load(sys.argv[1])
    if not repeats:
        sys.exit(f"summarize_trainer_bench.py: no native-R.json in {sys.argv[1]}")
    samples = max(len(s) for (v, _), s in repeats[0].items() if v != "torch")
    print(f"{len(repeats)} repeats, {samples} samples per row per repeat; "
          "rates are medians of all samples (examples/s), ratios medians' ratios "
          "(per repeat in parentheses)")
    cols = ["auto"] + FIXED + ["auto/best fixed", "portable auto", "portable/native",
                               "threads 2/1 (wall)", "torch"]
    print("| minibatch | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for batch in BATCHES:
        cells = [f"{rate(repeats, (v, batch)):,.0f}" if rate(repeats, (v, batch)) else "-"
                 for v in ["auto"] + FIXED]
        cells.append(fmt_ratio(ratio(repeats, of("auto", batch), best_of(FIXED, batch))))
        p = rate(repeats, ("portable:auto", batch))
        cells.append(f"{p:,.0f}" if p else "-")
        cells.append(fmt_ratio(ratio(repeats, of("portable:auto", batch), of("auto", batch))))
        cells.append(fmt_ratio(ratio(repeats, of("auto/threads:2/wall", batch),
                                     of("auto/threads:1/wall", batch))))
        t = rate(repeats, ("torch", batch))
        cells.append(f"{t:,.0f}" if t else "-")
        print(f"| {batch} | " + " | ".join(cells) + " |")

    goals = [
        ("minibatch 10 auto / best minibatch-128 rate >= 0.70",
         ratio(repeats, of("auto", 10), best_of(["auto"] + FIXED, 128)), 0.70),
        ("minibatch 128 auto / best of eigen, blas >= 0.97",
         ratio(repeats, of("auto", 128), best_of(["eigen", "blas"], 128)), 0.97),
        ("minibatch 128 auto / best of small_batch, eigen, blas >= 0.97",
         ratio(repeats, of("auto", 128), best_of(FIXED, 128)), 0.97),
    ]
    goals += [(f"minibatch {b} auto / best fixed >= 0.97",
               ratio(repeats, of("auto", b), best_of(FIXED, b)), 0.97) for b in BATCHES]
    goals += [(f"minibatch {b} portable / native auto >= 0.95",
               ratio(repeats, of("portable:auto", b), of("auto", b)), 0.95) for b in (10, 128)]
    goals.append(("minibatch 10 --threads 2 / 1 >= 1.70",
                  ratio(repeats, of("auto/threads:2/wall", 10), of("auto/threads:1/wall", 10)),
                  1.70))
    print("\ngoals (issue 20):")
    for name, r, floor in goals:
        if r[0] is None:
            print(f"  {name}: not measured")
            continue
        print(f"  {name}: {fmt_ratio(r)} {'met' if r[0] >= floor else 'NOT met'}")


if __name__ == "__main__":
    main()
