#!/usr/bin/python3
"""The peer of coordinator_load: Optuna 3.1 with its SQLite storage under the
same shape of load. N processes (not threads: Python's GIL) each loop over
trials: ask and suggest 3 parameters, report 10 intermediate values, tell.
Prints trials/s, p50/p99 latency per phase, every error the processes saw, and
checks the rows in the SQLite file. Run by hand (bench/run_coordinator_bench.sh).

Sampler: RandomSampler, the cheapest one, so the figure measures storage and
coordination, not TPE's model fitting (which only makes Optuna slower).
"""
import argparse
import collections
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time

import optuna  # imported before fork so every process shares the import

STUDY = "load-test"


def run_worker(index, storage_url, trials, barrier, results):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=STUDY, storage=storage_url,
                              sampler=optuna.samplers.RandomSampler(seed=index))
    latencies = {"ask+suggest": [], "report x10": [], "tell": []}
    errors = collections.Counter()
    done = 0
    barrier.wait()
    for _ in range(trials):
        try:
            t0 = time.perf_counter()
            trial = study.ask()
            lr = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
            depth = trial.suggest_int("depth", 1, 5)
            trial.suggest_categorical("activation", ["sigmoid", "tanh", "softsign"])
            t1 = time.perf_counter()
            for step in range(1, 11):
                trial.report(0.9 / step + lr * depth, step)
            t2 = time.perf_counter()
            study.tell(trial, 0.09 + lr * depth)
            t3 = time.perf_counter()
            latencies["ask+suggest"].append(t1 - t0)
            latencies["report x10"].append(t2 - t1)
            latencies["tell"].append(t3 - t2)
            done += 1
        except Exception as error:  # counted and reported: the point of the benchmark
            errors[f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"] += 1
    results.put((latencies, dict(errors), done))


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def count(db_path, sql):
    with sqlite3.connect(db_path) as connection:
        return connection.execute(sql).fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=64)
    parser.add_argument("--trials", type=int, default=1280, help="total, split evenly")
    args = parser.parse_args()
    per_process = args.trials // args.processes
    total = per_process * args.processes

    directory = tempfile.mkdtemp(prefix="deepsweep_optuna_")
    db_path = os.path.join(directory, "optuna.db")
    storage_url = f"sqlite:///{db_path}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name=STUDY, storage=storage_url, direction="minimize")

    print(f"optuna {optuna.__version__} SQLite storage: {args.processes} processes, {total} "
          f"trials, 3 params + 10 intermediate values per trial")
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]} "
          f"(cores: {os.cpu_count()})")
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(args.processes + 1)
    results = context.Queue()
    processes = [context.Process(target=run_worker,
                                 args=(i, storage_url, per_process, barrier, results))
                 for i in range(args.processes)]
    for process in processes:
        process.start()
    barrier.wait()  # every process has loaded the study
    start = time.perf_counter()
    collected = [results.get() for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join()
    print(f"load average after:  {open('/proc/loadavg').read().split()[:3]}")

    done = sum(c[2] for c in collected)
    print(f"completed {done} trials in {seconds:.2f} s: {done / seconds:.0f} trials/s")
    for phase in ("ask+suggest", "report x10", "tell"):
        values = [v for c in collected for v in c[0][phase]]
        print(f"  {phase:<18} calls {len(values):8d}  p50 {percentile(values, 0.5) * 1e3:8.2f} ms"
              f"  p99 {percentile(values, 0.99) * 1e3:8.2f} ms"
              f"  max {percentile(values, 1.0) * 1e3:8.2f} ms")
    errors = collections.Counter()
    for c in collected:
        errors.update(c[1])
    for error, n in errors.most_common():
        print(f"  error x{n}: {error}")
    print(f"errors reaching clients: {sum(errors.values())}")

    complete = count(db_path, "SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'")
    intermediate = count(db_path, "SELECT COUNT(*) FROM trial_intermediate_values")
    params = count(db_path, "SELECT COUNT(*) FROM trial_params")
    all_trials = count(db_path, "SELECT COUNT(*) FROM trials")
    ok = complete == total and intermediate == total * 10 and params == total * 3
    print(f"database: {complete}/{total} trials complete ({all_trials} rows), {intermediate} "
          f"intermediate values (want {total * 10}), {params} params (want {total * 3}): "
          f"{'every row accounted for' if ok else 'MISMATCH'}")
    os.remove(db_path)
    os.rmdir(directory)
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
