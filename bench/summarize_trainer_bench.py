#!/usr/bin/python3
"""The figures of issue 20 from bench/run_trainer_bench.sh runs.

Reads each run's directory: native-R.json and portable-R.json (Google
Benchmark's JSON, --benchmark_repetitions samples of every row) and torch-R.txt
(bench/torch_trainer_bench.py) for each repeat R. A row's rate is the median
of all its samples over all repeats (examples/s per second of CPU time; the
threads rows per second of wall time); a ratio is the ratio of those medians,
and beside it the range of the same ratio taken repeat by repeat (each
repeat's medians), so a noisy repeat shows as a wide range, not as a figure. Several
directories (runs of the same binaries) pool their repeats.
Usage: bench/summarize_trainer_bench.py DIR...
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


def rate(repeats, key, stat=statistics.median):
    """stat (median, or max: the least disturbed sample) of the key's samples
    over the given repeats; None when absent."""
    samples = [s for rows in repeats for s in rows.get(key, [])]
    return stat(samples) if samples else None


def ratio(repeats, num, den):
    """(median ratio, [ratio per repeat]); num and den map repeats to a rate."""
    def one(reps):
        a, b = num(reps), den(reps)
        return a / b if a is not None and b else None
    per_repeat = [x for x in (one([rows]) for rows in repeats) if x is not None]
    return one(repeats), per_repeat


def best_of(variants, batch, stat):
    def f(reps):
        rates = [x for x in (rate(reps, (v, batch), stat) for v in variants) if x is not None]
        return max(rates) if rates else None
    return f


def of(variant, batch, stat):
    return lambda reps: rate(reps, (variant, batch), stat)


def read_plans(directory, kind):
    """The auto plan each repeat's run printed, e.g. "1:small_batch,91:blas"."""
    plans = []
    for path in sorted(glob.glob(os.path.join(directory, f"{kind}-*.txt")),
                       key=lambda p: int(re.search(r"-(\d+)\.txt$", p).group(1))):
        with open(path) as f:
            m = re.search(r"^auto plan: (\S+)", f.read(), re.M)
            plans.append(m.group(1) if m else "?")
    return plans


def backend_for(plan, batch):
    """The backend a plan "first:backend,..." runs at a minibatch."""
    chosen = "?"
    for part in plan.split(","):
        first, _, backend = part.partition(":")
        if first.isdigit() and int(first) <= batch:
            chosen = backend
    return chosen


def goals(repeats, stat):
    """(name, (ratio, per repeat), floor) of each of the issue's figures."""
    fixed = lambda b: best_of(FIXED, b, stat)
    out = [
        ("minibatch 10 auto / best minibatch-128 rate >= 0.70",
         ratio(repeats, of("auto", 10, stat), best_of(["auto"] + FIXED, 128, stat)), 0.70),
        ("minibatch 128 auto / best of eigen, blas >= 0.97",
         ratio(repeats, of("auto", 128, stat), best_of(["eigen", "blas"], 128, stat)), 0.97),
    ]
    out += [(f"minibatch {b} auto / best fixed >= 0.97",
             ratio(repeats, of("auto", b, stat), fixed(b)), 0.97) for b in BATCHES]
    out += [(f"minibatch {b} portable / native auto >= 0.95",
             ratio(repeats, of("portable:auto", b, stat), of("auto", b, stat)), 0.95)
            for b in (10, 128)]
    out.append(("minibatch 10 --threads 2 / 1 >= 1.70",
                ratio(repeats, of("auto/threads:2/wall", 10, stat),
                      of("auto/threads:1/wall", 10, stat)), 1.70))
    return out


def fmt_ratio(r):
    value, per_repeat = r
    if value is None:
        return "-"
    spread = ", ".join(f"{x:.3f}" for x in per_repeat)
    return f"{value:.3f} ({spread})"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: summarize_trainer_bench.py DIR...")
    directories = sys.argv[1:]
    repeats = [rows for d in directories for rows in load(d)]
    if not repeats:
        sys.exit(f"summarize_trainer_bench.py: no native-R.json in {' '.join(directories)}")
    samples = max(len(s) for (v, _), s in repeats[0].items() if v != "torch")
    median = statistics.median
    print(f"{len(repeats)} repeats, {samples} samples per row per repeat; "
          "rates are medians of all samples (examples/s), ratios medians' ratios "
          "(per repeat in parentheses)")
    cols = ["auto"] + FIXED + ["auto/best fixed", "portable auto", "portable/native",
                               "threads 2/1 (wall)", "torch"]
    print("| minibatch | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for batch in BATCHES:
        cells = []
        for key in [(v, batch) for v in ["auto"] + FIXED]:
            r = rate(repeats, key)
            cells.append(f"{r:,.0f}" if r else "-")
        cells.append(fmt_ratio(ratio(repeats, of("auto", batch, median),
                                     best_of(FIXED, batch, median))))
        p = rate(repeats, ("portable:auto", batch))
        cells.append(f"{p:,.0f}" if p else "-")
        cells.append(fmt_ratio(ratio(repeats, of("portable:auto", batch, median),
                                     of("auto", batch, median))))
        cells.append(fmt_ratio(ratio(repeats, of("auto/threads:2/wall", batch, median),
                                     of("auto/threads:1/wall", batch, median))))
        t = rate(repeats, ("torch", batch))
        cells.append(f"{t:,.0f}" if t else "-")
        print(f"| {batch} | " + " | ".join(cells) + " |")

    for kind in ("native", "portable"):
        plans = [p for d in directories for p in read_plans(d, kind)]
        if plans:
            print(f"\n{kind} plans: {'; '.join(plans)}")
            print("  auto ran: " + ", ".join(
                f"{b}: {'/'.join(backend_for(p, b) for p in plans)}" for b in BATCHES))

    ab = [(read_bench(n), read_bench(n.replace("ab-native-", "ab-portable-")))
          for d in directories
          for n in sorted(glob.glob(os.path.join(d, "ab-native-*.json")))
          if os.path.exists(n.replace("ab-native-", "ab-portable-"))]
    if ab:
        print(f"\nportable / native on one plan, {len(ab)} rounds alternating the builds "
              "(medians; per round in parentheses):")
        for b in (10, 128):
            rounds = [{"native": n, "portable": p} for n, p in ab]
            r = ratio(rounds, lambda reps: rate([x["portable"] for x in reps], ("auto", b)),
                      lambda reps: rate([x["native"] for x in reps], ("auto", b)))
            if r[0] is not None:
                print(f"  minibatch {b} >= 0.95: {fmt_ratio(r)} {'met' if r[0] >= 0.95 else 'NOT met'}")

    # The verdicts are the medians'. Noise on a shared machine only ever slows
    # a sample down, so each row's fastest sample is its least disturbed one:
    # printed for reference (one extreme sample each, so noisier still).
    for title, stat in (("medians", median), ("fastest samples, for reference", max)):
        print(f"\ngoals (issue 20), from the {title}:")
        for name, r, floor in goals(repeats, stat):
            if r[0] is None:
                print(f"  {name}: not measured")
            elif stat is median:
                print(f"  {name}: {fmt_ratio(r)} {'met' if r[0] >= floor else 'NOT met'}")
            else:
                print(f"  {name}: {fmt_ratio(r)}")


if __name__ == "__main__":
    main()
