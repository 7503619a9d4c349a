#!/usr/bin/env python3
"""Compares the full-grid and the ASHA run of bench/run_asha_bench.sh.

Usage: compare.py GRID.db ASHA.db [--load GRID_LOAD.txt ASHA_LOAD.txt]

Reads both result databases (read-only) and prints, as Markdown:
  - per run: trials by state, updates trained, wall time (sweep created ->
    finished), the machine's load while it ran;
  - per model (activation x init, depth 5): the learning rate each run keeps
    (lowest mean validation error among its succeeded trials, the rule of
    `deepsweep table` and of the paper), the mean test error there +- the 95%
    CI half-width (Student's t, n - 1 degrees of freedom), and the verdict:
    is the grid's mean test error at ASHA's rate within the grid's CI of the
    grid's chosen rate;
  - per model and rate: the grid's mean test error and what ASHA did there.
Updates trained = for every (trial, attempt), its highest recorded step: a
pruned trial stops at the rung it was stopped at.
Exit status 0 when both goals hold (ASHA's updates and wall time <= 35% of
the grid's, every model's verdict within), else 1.
"""
import argparse
import math
import sqlite3
import statistics
import sys

# Two-sided 95% quantiles of Student's t (df 1..10), as store/sqlite_schema.cc.
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646,
        8: 2.3060, 9: 2.2622, 10: 2.2281}
GOAL = 0.35


def open_ro(path):
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def run_facts(db):
    c = open_ro(db)
    created, finished, name = c.execute(
        "SELECT created_at_us, finished_at_us, name FROM sweeps ORDER BY id LIMIT 1").fetchone()
    states = dict(c.execute("SELECT state, count(*) FROM trials GROUP BY state"))
    pruned = c.execute("SELECT count(*) FROM trials WHERE state = 'pruned'").fetchone()[0]
    updates = c.execute(
        "SELECT coalesce(sum(m), 0) FROM (SELECT max(step) AS m FROM checkpoints "
        "GROUP BY trial_id, attempt)").fetchone()[0]
    attempts = c.execute("SELECT coalesce(sum(attempt), 0) FROM trials").fetchone()[0]
    rows = c.execute(
        "SELECT activation, init, learning_rate, seed_index, seed, state, final_test_error, "
        "final_validation_error, rung FROM trials ORDER BY id").fetchall()
    return {
        "name": name,
        "wall_s": (finished - created) / 1e6 if finished else float("nan"),
        "states": states,
        "pruned": pruned,
        "updates": updates,
        "attempts": attempts,
        "trials": rows,
    }


def mean_ci(values):
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), 0
    m = statistics.fmean(values)
    if n < 2:
        return m, float("nan"), n
    return m, T975[n - 1] * statistics.stdev(values) / math.sqrt(n), n


def per_config(trials):
    """(activation, init) -> lr -> {test: [...], val: [...], pruned_rungs: [...], states: [...]}"""
    out = {}
    for act, init, lr, _si, _seed, state, test, val, rung in trials:
        cell = out.setdefault((act, init), {}).setdefault(
            lr, {"test": [], "val": [], "rungs": [], "states": []})
        cell["states"].append(state)
        if state == "succeeded":
            cell["test"].append(test)
            cell["val"].append(val)
        elif state == "pruned":
            cell["rungs"].append(rung)
    return out


def chosen_rate(cells):
    """The rate with the lowest mean validation error among succeeded trials."""
    best = None
    for lr, cell in sorted(cells.items()):
        if not cell["val"]:
            continue
        v = statistics.fmean(cell["val"])
        if best is None or v < best[1]:
            best = (lr, v)
    return best[0] if best else None


def load_summary(path):
    if not path:
        return "not sampled"
    ones = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                ones.append(float(parts[1]))
    if not ones:
        return "not sampled"
    return (f"1-min load average sampled every 30 s: median {statistics.median(ones):.1f}, "
            f"min {min(ones):.1f}, max {max(ones):.1f} ({len(ones)} samples)")


def pct(x):
    return f"{100 * x:.2f}"


def model_name(act, init):
    return act.capitalize() + (" N" if init == "normalized" else "")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("grid_db")
    p.add_argument("asha_db")
    p.add_argument("--load", nargs=2, metavar=("GRID_LOAD", "ASHA_LOAD"))
    a = p.parse_args()
    grid, asha = run_facts(a.grid_db), run_facts(a.asha_db)
    loads = a.load or (None, None)

    print("## Cost\n")
    print("| | trials by state | updates trained | wall time | machine load |")
    print("|---|---|---|---|---|")
    for label, r, load in (("full grid", grid, loads[0]), ("ASHA", asha, loads[1])):
        states = ", ".join(f"{k} {v}" for k, v in sorted(r["states"].items()))
        print(f"| {label} | {states} | {r['updates']:,} | {r['wall_s']:.0f} s | "
              f"{load_summary(load)} |")
    upd_ratio = asha["updates"] / grid["updates"]
    wall_ratio = asha["wall_s"] / grid["wall_s"]
    print(f"\nASHA / grid: updates {100 * upd_ratio:.1f}%, wall time {100 * wall_ratio:.1f}% "
          f"(goal <= {100 * GOAL:.0f}% each).\n")

    # Same spec seed and configuration -> same trial seeds: a trial ASHA let
    # finish must be bit for bit the grid's trial.
    grid_by_seed = {(t[0], t[1], t[2], t[3]): t for t in grid["trials"]}
    same = differ = 0
    for t in asha["trials"]:
        if t[5] != "succeeded":
            continue
        g = grid_by_seed.get((t[0], t[1], t[2], t[3]))
        if g and g[4] == t[4] and g[6] == t[6] and g[7] == t[7]:
            same += 1
        else:
            differ += 1
    print(f"Trials ASHA ran to the end: {same} identical to the grid's trial with the same seed "
          f"(final test and validation error bit for bit), {differ} different.\n")

    gcells, acells = per_config(grid["trials"]), per_config(asha["trials"])
    print("## Table 1 at depth 5: test error (%), learning rate chosen per model on mean "
          "validation error\n")
    print("| model | full grid: rate | test error (95% CI, n) | ASHA: rate kept | its test error "
          "in the ASHA run (n) | grid's test error at ASHA's rate | within the grid's CI? |")
    print("|---|---|---|---|---|---|---|")
    all_within = True
    for key in sorted(gcells, key=lambda k: (k[0] != "softsign", k[0] != "tanh", k)):
        g_lr = chosen_rate(gcells[key])
        a_lr = chosen_rate(acells.get(key, {}))
        if g_lr is None:
            all_within = False
            print(f"| {model_name(*key)} | none succeeded | | | | | no |")
            continue
        gm, gh, gn = mean_ci(gcells[key][g_lr]["test"])
        if a_lr is None:
            all_within = False
            print(f"| {model_name(*key)} | {g_lr:g} | {pct(gm)} +- {pct(gh)} ({gn}) | none "
                  f"finished | | | no |")
            continue
        am, _ah, an = mean_ci(acells[key][a_lr]["test"])
        xm, xh, xn = mean_ci(gcells[key][a_lr]["test"])
        within = abs(xm - gm) <= gh
        all_within &= within
        print(f"| {model_name(*key)} | {g_lr:g} | {pct(gm)} +- {pct(gh)} ({gn}) | {a_lr:g} | "
              f"{pct(am)} ({an}) | {pct(xm)} +- {pct(xh)} ({xn}) | "
              f"{'yes' if within else 'NO'}{' (same rate)' if a_lr == g_lr else ''} |")

    print("\n## Per model and learning rate\n")
    print("Grid: mean test error (%) +- 95% CI over the seeds that succeeded (n); "
          "ASHA: seeds run to the end, and the rungs (updates) where the others were pruned.\n")
    print("| model | rate | grid test error (n) | grid validation error | ASHA finished | "
          "ASHA pruned at |")
    print("|---|---|---|---|---|---|")
    for key in sorted(gcells, key=lambda k: (k[0] != "softsign", k[0] != "tanh", k)):
        for lr in sorted(gcells[key]):
            g = gcells[key][lr]
            m, h, n = mean_ci(g["test"])
            vm = statistics.fmean(g["val"]) if g["val"] else float("nan")
            a = acells.get(key, {}).get(lr, {"test": [], "rungs": [], "states": []})
            others = [s for s in a["states"] if s not in ("succeeded", "pruned")]
            rungs = ", ".join(f"{r:,}" for r in sorted(a["rungs"])) or "-"
            if others:
                rungs += " (" + ", ".join(others) + ")"
            print(f"| {model_name(*key)} | {lr:g} | {pct(m)} +- {pct(h)} ({n}) | {pct(vm)} | "
                  f"{len(a['test'])} | {rungs} |")

    ok = upd_ratio <= GOAL and wall_ratio <= GOAL and all_within
    print(f"\nVerdict: updates {'met' if upd_ratio <= GOAL else 'NOT met'}, wall time "
          f"{'met' if wall_ratio <= GOAL else 'NOT met'}, learning rates "
          f"{'all within' if all_within else 'NOT all within'} the grid's CI.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
