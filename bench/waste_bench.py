#!/usr/bin/env python3
"""Waste under interruption (issue 14's figure): what killing a long trial costs.

One trial (--updates, 200,000 by default, of a net scaled down in time so that a snapshot
interval is a few seconds of training) runs three times, each through a real deepsweep-server
on loopback with one deepsweep-worker at a time:

  clean    uninterrupted: the reference checkpoints, and the training rate that sizes the pauses;
  kill     the worker is killed with SIGKILL at --kills seeded random moments, a new worker
           started in its place each time (it leases the trial once the lease expired and
           resumes from the newest snapshot);
  sigterm  the same moments' draw, but each interruption is SIGTERM to a worker started with
           --grace: it snapshots the update it stopped at, releases the trial and exits.

A moment is a seeded pause (uniform in [0.2, 1.8] x 0.6 x the clean run's time / kills, so the
interruptions fall in roughly the first 60-70% of the trial) after the current attempt is training (its worker holds the lease and has stored a checkpoint
past the step it started from), so kills land at random points of the snapshot interval.

Read from the trial_attempts view (docs/SCHEMA.md) per attempt: started_at_step, reached_step,
updates_redone. Pass: every kill redoes at most --snapshot-every updates, every SIGTERM redoes 0
(the view counts stored updates: the snapshot is of the update the worker stopped at, which may
lie past its last checkpoint, so a negative value means none redone), and each interrupted run's
last attempt holds the clean run's checkpoints (every stored metric and layer statistic, wall time
aside) bit for bit. Prints a JSON report; exit 0 only when everything passed.

Usage (the run of docs/RELIABILITY.md):
  nice -n 10 bench/waste_bench.py --server build/server/deepsweep-server \\
      --worker build/worker/deepsweep-worker --cli build/client/deepsweep --seed 14
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "chaos"))
from chaos import Cluster, Reader, log, wait_for  # noqa: E402  (the chaos suite's processes)

SPEC = """name: waste
seed: {seed}
dataset: {{name: shapeset, validation_examples: 100, test_examples: 100}}
model: {{depth: {depth}, width: {width}, activation: tanh}}
training: {{learning_rate: 0.05, batch_size: 10, updates: {updates},
           checkpoint_every: {checkpoint_every}, probe_examples: 20,
           snapshot_every: {snapshot_every}, snapshot_seconds: 0}}
limits: {{max_attempts: {max_attempts}}}
"""

# Every stored column of a checkpoint but its times (wall_seconds, recorded_at_us).
CHECKPOINT_COLUMNS = ("step, examples_seen, train_nll, test_error, test_nll, validation_error, "
                      "validation_nll")


def trial_state(reader):
    rows = reader.query("SELECT id, state, attempt, steps_done FROM trials")
    return rows[0] if rows else None


def current_attempt_training(reader, worker_id):
    """The (trial, attempt) the worker leases once that attempt has stored a checkpoint past the
    step it started from (it is training, not loading or resuming)."""
    lease = reader.open_lease(worker_id)
    if not lease:
        return None
    trial_id, attempt = lease
    row = reader.query("SELECT started_at_step, reached_step FROM trial_attempts "
                       "WHERE trial_id = ? AND attempt = ?", (trial_id, attempt))
    if not row or row[0][1] is None or row[0][1] <= row[0][0]:
        return None
    return lease


def run(args, name, pauses, interrupt):
    """One run of the trial; interrupt is None, 'kill' or 'sigterm'. Returns its report."""
    workdir = os.path.join(args.workdir, name)
    os.makedirs(workdir)
    cluster = Cluster(args, workdir)
    reader = Reader(cluster.db)
    worker_args = ["--grace", str(args.grace)] if interrupt == "sigterm" else []
    report = {"interruptions": [], "load_at_start": os.getloadavg()}
    try:
        cluster.start_server()
        spec = os.path.join(workdir, "waste.yaml")
        with open(spec, "w") as f:
            f.write(SPEC.format(seed=args.spec_seed, depth=args.depth, width=args.width,
                                updates=args.updates, checkpoint_every=args.checkpoint_every,
                                snapshot_every=args.snapshot_every,
                                max_attempts=args.kills + 1))
        subprocess.run([args.cli, "--server", cluster.address, "submit", spec], check=True,
                       stdout=subprocess.DEVNULL)
        started = time.monotonic()
        cluster.start_worker(0, worker_args)
        for k, pause in enumerate(pauses if interrupt else []):
            lease = wait_for(lambda: current_attempt_training(reader, cluster.worker_id(0)) or
                             trial_state(reader)[1] not in ("pending", "leased"),
                             args.timeout, f"attempt {k + 1} to train")
            if lease is True:
                raise RuntimeError(f"the trial ended before interruption {k + 1}: make it longer "
                                   "or the pauses shorter")
            time.sleep(pause)  # the seeded random moment
            process = cluster.workers[0]
            if interrupt == "kill":
                cluster.kill_worker(0)
                status = process.returncode
            else:
                process.send_signal(signal.SIGTERM)
                status = process.wait(timeout=args.grace + 30)
            steps = trial_state(reader)[3]
            report["interruptions"].append({"attempt": lease[1], "after_s": round(pause, 2),
                                            "steps_done_seen": steps, "exit": status})
            log(f"{name}: {interrupt} of attempt {lease[1]} after {pause:.1f} s "
                f"(stored steps {steps}, exit {status})")
            cluster.start_worker(0, worker_args)
        wait_for(lambda: trial_state(reader)[1] not in ("pending", "leased"), args.timeout,
                 "the trial to end", 0.2)
        report["seconds"] = round(time.monotonic() - started, 1)
        report["load_at_end"] = os.getloadavg()
    finally:
        cluster.stop_all()
    trial_id, state, attempt, steps_done = trial_state(reader)
    report.update({"db": cluster.db, "trial": trial_id, "state": state, "attempts": attempt,
                   "steps_done": steps_done})
    report["trial_attempts"] = [
        dict(zip(("attempt", "outcome", "started_at_step", "reached_step", "updates_redone"), r))
        for r in reader.query("SELECT attempt, outcome, started_at_step, reached_step, "
                              "updates_redone FROM trial_attempts WHERE trial_id = ? "
                              "ORDER BY attempt", (trial_id,))]
    # The trial's totals, when the file has the view (schema version 9 on).
    if reader.query("SELECT count(*) FROM sqlite_master WHERE name = 'trial_snapshots'")[0][0]:
        report["trial_snapshots"] = dict(zip(
            ("interruptions", "updates_redone", "snapshots", "snapshot_step"),
            reader.query("SELECT interruptions, updates_redone, snapshots, snapshot_step "
                         "FROM trial_snapshots WHERE trial_id = ?", (trial_id,))[0]))
    return report


def last_attempt_rows(db_path, table, columns, order):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        trial_id, attempt = db.execute("SELECT id, attempt FROM trials").fetchone()
        return db.execute(f"SELECT {columns} FROM {table} WHERE trial_id = ? AND attempt = ? "
                          f"ORDER BY {order}", (trial_id, attempt)).fetchall()
    finally:
        db.close()


def layer_columns(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        names = [r[1] for r in db.execute("PRAGMA table_info(checkpoint_layers)")]
    finally:
        db.close()
    return ", ".join(n for n in names if n not in ("trial_id", "attempt"))


def same_as_clean(clean_db, other_db):
    """'' when the last attempts' checkpoints and layer rows are equal, else the first difference."""
    for table, columns, order in (("checkpoints", CHECKPOINT_COLUMNS, "step"),
                                  ("checkpoint_layers", layer_columns(clean_db), "step, layer")):
        a = last_attempt_rows(clean_db, table, columns, order)
        b = last_attempt_rows(other_db, table, columns, order)
        if len(a) != len(b):
            return f"{table}: {len(b)} rows, the clean run has {len(a)}"
        for x, y in zip(a, b):
            if x != y:
                return f"{table}: {y} differs from the clean run's {x}"
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--seed", type=int, default=14, help="draws the interruption moments")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--updates", type=int, default=200000)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--snapshot-every", type=int, default=10000)
    parser.add_argument("--spec-seed", type=int, default=3, help="the trial's sweep seed")
    parser.add_argument("--grace", type=float, default=25)
    parser.add_argument("--lease-ttl", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=3600, help="bound on every wait, s")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    args.workdir = tempfile.mkdtemp(prefix="deepsweep_waste_")

    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                   "unknown")
    report = {"cpu": cpu, "cores": os.cpu_count(), "seed": args.seed, "updates": args.updates, "net": f"{args.depth} x {args.width}",
              "checkpoint_every": args.checkpoint_every, "snapshot_every": args.snapshot_every,
              "grace_s": args.grace, "lease_ttl_s": args.lease_ttl}
    ok = False
    try:
        clean = run(args, "clean", [], None)
        rate = args.updates / clean["seconds"]
        report["clean"] = clean
        report["updates_per_s"] = round(rate, 1)
        report["snapshot_interval_s"] = round(args.snapshot_every / rate, 2)
        mean_pause = 0.6 * clean["seconds"] / args.kills
        rng = random.Random(args.seed)
        pauses = [rng.uniform(0.2, 1.8) * mean_pause for _ in range(args.kills)]
        failures = []
        for name, bound in (("kill", args.snapshot_every), ("sigterm", 0)):
            result = run(args, name, pauses, name)
            report[name] = result
            redone = [a["updates_redone"] for a in result["trial_attempts"][1:]]
            result["updates_redone"] = redone
            result["updates_redone_max"] = max(redone) if redone else None
            result["updates_redone_total"] = sum(max(0, r) for r in redone if r is not None)
            if len(result["interruptions"]) != args.kills:
                failures.append(f"{name}: {len(result['interruptions'])} of {args.kills} ran")
            if any(r is None or r > bound for r in redone):
                failures.append(f"{name}: updates redone {redone}, bound {bound}")
            if result["state"] != "succeeded":
                failures.append(f"{name}: trial {result['state']}")
            difference = same_as_clean(clean["db"], result["db"])
            result["bits_equal_clean"] = not difference
            if difference:
                failures.append(f"{name}: {difference}")
        report["failures"] = failures
        ok = not failures
    finally:
        report["ok"] = ok
        report["workdir"] = args.workdir if (args.keep or not ok) else None
        text = json.dumps(report, indent=2)
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                f.write(text + "\n")
        if ok and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
