#!/usr/bin/env python3
"""Chaos suite (issue 17): a real sweep under a seeded schedule of failures.

Starts the real deepsweep-server on loopback and N deepsweep-worker processes, submits a sweep
of short trials, and while it runs executes a schedule drawn from --seed: kill -9 of a worker
(a new one is started in its place), kill -9 of the coordinator (restarted on the same database
and port after a seeded pause), and SIGSTOP of a worker that holds a lease until that lease has
expired and its trial was leased again, then SIGCONT (its late calls must be refused). When the
sweep has ended, everything is stopped and the invariant checker reads the database:

  - the sweeps have every trial submitted, and every one ended: succeeded exactly once (one
    lease with outcome `succeeded`, the trial's last attempt) or failed/diverged with a reason;
  - no doubled checkpoint rows ((trial, attempt, step) once; a layer row once per layer), no
    orphaned ones (checkpoints of an attempt that had no lease or is beyond the trial's
    attempts; layer rows without their checkpoint), and a succeeded trial's last attempt holds
    its whole series (step 0, checkpoint_every, ..., updates) exactly once;
  - no open lease left (none past its TTL, none at all once the sweep is over), no trial left
    `leased`, no attempt beyond the trial's limit.

Requeue latency: for every worker killed while it held a lease, the time from the kill to the
next attempt of that trial being leased (from the leases table's acquired_at_us; the server
and this script share the machine's clock).

Prints a JSON report (schedule executed, counts, latencies, violations) and exits 0 only when
every invariant holds and the schedule ran in full. The schedule is paced by progress, never by
the clock: the trials are submitted as one sweep per stage, the first stage at the start and one
more just before each event, so an event always finds trials to work on however fast the
machine finishes the earlier ones (event k fires once a seeded share of the trials has ended, or
everything submitted so far). Every wait is on a condition with a bound, and the only fixed
pause is the coordinator's seeded downtime, which is the point.

Usage (the full run of docs/RELIABILITY.md; the ctest chaos.short is a smaller form):
  tests/chaos/chaos.py --server build/server/deepsweep-server \\
      --worker build/worker/deepsweep-worker --cli build/client/deepsweep \\
      --trials 200 --workers 4 --worker-kills 20 --coordinator-kills 5 --stops 4 --seed 17
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

SPEC = """name: chaos-{stage}
seed: {seed}
dataset: {{name: shapeset, validation_examples: 100, test_examples: 100}}
model: {{depth: 1, width: 16}}
training: {{learning_rate: 0.05, batch_size: 10, updates: {updates},
           checkpoint_every: {checkpoint_every}, probe_examples: 20, snapshot_every: {snapshot_every}}}
grid:
  activation: [tanh, softsign, sigmoid, relu]
seeds: {seeds}
limits: {{max_attempts: {max_attempts}}}
"""


def log(message):
    print(f"chaos [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_for(condition, timeout, what, interval=0.05):
    """Polls condition() until it returns a true value; raises after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """The coordinator and the workers, as real processes on loopback."""

    def __init__(self, args, workdir):
        self.args = args
        self.dir = workdir
        self.db = os.path.join(workdir, "chaos.db")
        self.address = f"127.0.0.1:{free_port()}"
        self.server = None
        self.workers = {}  # slot -> Popen
        self.host = socket.gethostname()
        self.server_starts = 0
        self.worker_starts = 0

    def _log_file(self, name):
        return open(os.path.join(self.dir, name), "ab")

    def healthy(self):
        return subprocess.run([self.args.cli, "--server", self.address, "--timeout", "2", "health"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def start_server(self):
        self.server_starts += 1
        with self._log_file("server.log") as out:
            self.server = subprocess.Popen(
                [self.args.server, "--address", self.address, "--db", self.db,
                 "--lease-ttl", str(self.args.lease_ttl), "--log-level", "warn"],
                stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.server.poll() is not None or self.healthy(), 60, "the server to serve")
        if self.server.poll() is not None:
            raise RuntimeError(f"the server exited with {self.server.returncode} "
                               f"(see {self.dir}/server.log)")

    def kill_server(self):
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()

    def start_worker(self, slot, extra_args=()):
        self.worker_starts += 1
        with self._log_file(f"worker{slot}.log") as out:
            self.workers[slot] = subprocess.Popen(
                [self.args.worker, "--server", self.address, "--timeout", "5",
                 "--auto-plan", "default", "--log-level", "warn", *extra_args],
                stdout=out, stderr=subprocess.STDOUT)

    def worker_id(self, slot):
        return f"{self.host}:{self.workers[slot].pid}"

    def kill_worker(self, slot):
        process = self.workers[slot]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self):
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.server.send_signal(signal.SIGKILL)
                self.server.wait()


class Reader:
    """Read-only queries of the live database (WAL: never blocks the server)."""

    def __init__(self, path):
        self.path = path

    def query(self, sql, params=()):
        for _ in range(50):
            try:
                with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5) as db:
                    return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # the server is mid-restart or holds a lock
                time.sleep(0.05)
        raise RuntimeError(f"cannot read {self.path}")

    def open_lease(self, worker_id):
        rows = self.query("SELECT trial_id, attempt FROM leases "
                          "WHERE worker_id = ? AND ended_at_us IS NULL", (worker_id,))
        return rows[0] if rows else None

    def unfinished(self):
        return self.query("SELECT count(*) FROM trials WHERE state IN ('pending', 'leased')")[0][0]

    def ended(self):
        return self.query("SELECT count(*) FROM trials WHERE state NOT IN ('pending', 'leased')")[0][0]

    def next_attempt_leased_at(self, trial_id, attempt):
        rows = self.query("SELECT min(acquired_at_us) FROM leases WHERE trial_id = ? AND attempt > ?",
                          (trial_id, attempt))
        return rows[0][0]

    def lease_ended(self, trial_id, attempt):
        rows = self.query("SELECT outcome FROM leases WHERE trial_id = ? AND attempt = ? "
                          "AND ended_at_us IS NOT NULL", (trial_id, attempt))
        return rows[0][0] if rows else None


def make_schedule(args, rng):
    events = (["kill_worker"] * args.worker_kills + ["kill_coordinator"] * args.coordinator_kills +
              ["stop_worker"] * args.stops)
    rng.shuffle(events)
    # Event k is due once a seeded fraction of the trials has ended, spread over the first 60%.
    n = len(events)
    return [(kind, 0.02 + 0.6 * (k + rng.uniform(0.1, 0.9)) / n, rng.randrange(args.workers),
             rng.uniform(0.2, args.max_downtime)) for k, kind in enumerate(events)]


def stage_seeds(args, events):
    """Seeds (4 trials each) of the sweep submitted at the start and before each event: one per
    event, the rest at the start."""
    seeds = args.trials // 4
    return [seeds - events] + [1] * events


def submit_stage(args, cluster, workdir, stage, seeds):
    spec = os.path.join(workdir, f"chaos-{stage}.yaml")
    with open(spec, "w") as f:
        f.write(SPEC.format(stage=stage, seed=args.seed + stage, updates=args.updates,
                            checkpoint_every=args.checkpoint_every,
                            snapshot_every=args.snapshot_every, seeds=seeds,
                            max_attempts=args.max_attempts))
    subprocess.run([args.cli, "--server", cluster.address, "submit", spec], check=True,
                   stdout=subprocess.DEVNULL)
    return 4 * seeds


def run_schedule(args, cluster, reader, schedule, stages, submitted, report):
    kills = []  # (trial_id, attempt, kill time in us) of workers killed holding a lease
    extra_stage = len(schedule)  # stages past the planned ones, numbered on
    for number, (kind, fraction, slot, downtime) in enumerate(schedule):
        due = min(int(fraction * args.trials), submitted)
        wait_for(lambda: reader.ended() >= due, args.finish_timeout,
                 f"{due} trials to end (event {number + 1})", 0.05)
        # This event's own trials: whatever the workers finished meanwhile, there is work now.
        submitted += submit_stage(args, cluster, cluster.dir, number + 1, stages[number + 1])
        if kind == "kill_worker":
            # Mid-trial when it can be: wait (bounded) for the worker to hold a lease.
            wait_for(lambda: reader.unfinished() == 0 or reader.open_lease(cluster.worker_id(slot)),
                     30, f"worker {slot} to hold a lease", 0.05)
            lease = reader.open_lease(cluster.worker_id(slot))
            killed_at = time.time()
            cluster.kill_worker(slot)
            report["worker_kills"] += 1
            if lease:
                kills.append((lease[0], lease[1], int(killed_at * 1e6)))
                report["worker_kills_holding_a_lease"] += 1
            cluster.start_worker(slot)
            log(f"kill -9 worker {slot} (lease {lease})")
        elif kind == "kill_coordinator":
            cluster.kill_server()
            report["coordinator_kills"] += 1
            log(f"kill -9 coordinator, down {downtime:.1f} s")
            time.sleep(downtime)  # the outage itself
            cluster.start_server()
        elif kind == "stop_worker":
            # A worker that holds a lease: this slot's, or the first other slot's that does.
            candidates = [slot] + [s for s in range(args.workers) if s != slot]

            def holders():
                held = [(s, reader.open_lease(cluster.worker_id(s))) for s in candidates]
                return [(s, lease) for s, lease in held if lease] or reader.unfinished() == 0

            for _ in range(10):
                held = wait_for(holders, 60, "a worker that holds a lease", 0.1)
                if held is not True:
                    break
                # Every trial ended between two polls: one more seed's trials, and look again.
                extra_stage += 1
                submitted += submit_stage(args, cluster, cluster.dir, extra_stage, 1)
            else:
                log("no worker held a lease to be stopped")
                continue
            s, (trial_id, attempt) = held[0]
            process = cluster.workers[s]
            process.send_signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            # Frozen until its lease expired and the trial was leased again (or ended), so its
            # late reports meet a newer attempt. Bounded: a restart extends leases by one TTL.
            try:
                wait_for(lambda: reader.lease_ended(trial_id, attempt) is not None and (
                    reader.next_attempt_leased_at(trial_id, attempt) is not None or
                    reader.unfinished() == 0), 10 * args.lease_ttl + 60,
                    f"trial {trial_id} attempt {attempt} to expire and be leased again", 0.1)
            finally:
                process.send_signal(signal.SIGCONT)
            outcome = reader.lease_ended(trial_id, attempt)
            report["stops"] += 1
            report["stopped_seconds"].append(round(time.monotonic() - stopped_at, 2))
            if outcome == "expired":
                report["stops_past_ttl_expired"] += 1
            log(f"SIGSTOP worker {s} on trial {trial_id} attempt {attempt}: lease {outcome} "
                f"after {report['stopped_seconds'][-1]} s, SIGCONT")
    return kills, submitted


def check_invariants(db_path, expected_trials, lease_ttl):
    """Every invariant of the module's docstring; returns (violations, counts)."""
    db = sqlite3.connect(db_path)
    q = lambda sql, params=(): db.execute(sql, params).fetchall()
    violations = []
    now_us = int(time.time() * 1e6)
    trials = q("SELECT id, state, reason, attempt, attempt_limit, updates, checkpoint_every, depth "
               "FROM trials")
    if len(trials) != expected_trials:
        violations.append(f"{len(trials)} trials, expected {expected_trials}")
    counts = {}
    for trial_id, state, reason, attempt, limit, updates, every, depth in trials:
        counts[state] = counts.get(state, 0) + 1
        successes = q("SELECT attempt FROM leases WHERE trial_id = ? AND outcome = 'succeeded'",
                      (trial_id,))
        if attempt > limit:
            violations.append(f"trial {trial_id}: attempt {attempt} beyond its limit {limit}")
        if state == "succeeded":
            if [a for (a,) in successes] != [attempt]:
                violations.append(f"trial {trial_id}: succeeded leases {successes}, "
                                  f"expected exactly its last attempt {attempt}")
            steps = [s for (s,) in q("SELECT step FROM checkpoints WHERE trial_id = ? AND "
                                     "attempt = ? ORDER BY step", (trial_id, attempt))]
            expected = list(range(0, updates + 1, every))
            if steps != expected:
                violations.append(f"trial {trial_id}: last attempt's steps {steps}, "
                                  f"expected {expected}")
        elif state in ("failed", "diverged"):
            if not reason:
                violations.append(f"trial {trial_id}: {state} without a reason")
            if successes:
                violations.append(f"trial {trial_id}: {state} but a lease succeeded {successes}")
        else:
            violations.append(f"trial {trial_id}: left {state}")
    doubled = q("SELECT trial_id, attempt, step, count(*) FROM checkpoints "
                "GROUP BY trial_id, attempt, step HAVING count(*) > 1")
    violations += [f"checkpoint {row[:3]} stored {row[3]} times" for row in doubled]
    doubled_layers = q("SELECT trial_id, attempt, step, layer, count(*) FROM checkpoint_layers "
                       "GROUP BY trial_id, attempt, step, layer HAVING count(*) > 1")
    violations += [f"layer row {row[:4]} stored {row[4]} times" for row in doubled_layers]
    missing_layers = q("SELECT c.trial_id, c.attempt, c.step, t.depth, "
                       "(SELECT count(*) FROM checkpoint_layers l WHERE l.trial_id = c.trial_id "
                       " AND l.attempt = c.attempt AND l.step = c.step) AS n "
                       "FROM checkpoints c JOIN trials t ON t.id = c.trial_id WHERE n != t.depth")
    violations += [f"checkpoint {row[:3]}: {row[4]} layer rows for depth {row[3]}"
                   for row in missing_layers]
    orphans = q("SELECT c.trial_id, c.attempt, c.step FROM checkpoints c "
                "LEFT JOIN leases l ON l.trial_id = c.trial_id AND l.attempt = c.attempt "
                "LEFT JOIN trials t ON t.id = c.trial_id "
                "WHERE l.trial_id IS NULL OR t.id IS NULL OR c.attempt > t.attempt")
    violations += [f"orphaned checkpoint {row}" for row in orphans]
    orphan_layers = q("SELECT l.trial_id, l.attempt, l.step, l.layer FROM checkpoint_layers l "
                      "LEFT JOIN checkpoints c ON c.trial_id = l.trial_id AND "
                      "c.attempt = l.attempt AND c.step = l.step WHERE c.trial_id IS NULL")
    violations += [f"orphaned layer row {row}" for row in orphan_layers]
    open_leases = q("SELECT trial_id, attempt, deadline_us FROM leases WHERE ended_at_us IS NULL")
    for trial_id, attempt, deadline_us in open_leases:
        late = "past its TTL" if deadline_us < now_us else "open after the sweep ended"
        violations.append(f"lease of trial {trial_id} attempt {attempt} {late}")
    outcomes = dict(q("SELECT coalesce(outcome, 'open'), count(*) FROM leases GROUP BY 1"))
    summary = {
        "trials": len(trials),
        "states": counts,
        "leases": sum(outcomes.values()),
        "lease_outcomes": outcomes,
        "checkpoint_rows": q("SELECT count(*) FROM checkpoints")[0][0],
        "layer_rows": q("SELECT count(*) FROM checkpoint_layers")[0][0],
        "attempts_max": q("SELECT max(attempt) FROM trials")[0][0],
    }
    db.close()
    return violations, summary


# Damage the checker must find, one copy of the database each: (name, SQL).
TAMPERINGS = [
    ("a second success", "INSERT INTO leases (trial_id, attempt, lease_id, worker_id, "
     "acquired_at_us, deadline_us, ended_at_us, outcome) SELECT id, attempt + 1, 'x', 'w', 0, 0, "
     "0, 'succeeded' FROM trials WHERE state = 'succeeded' LIMIT 1"),
    ("a lost checkpoint", "DELETE FROM checkpoints WHERE (trial_id, attempt, step) = (SELECT "
     "c.trial_id, c.attempt, c.step FROM checkpoints c JOIN trials t ON t.id = c.trial_id AND "
     "t.attempt = c.attempt WHERE c.step > 0 AND t.state = 'succeeded' LIMIT 1)"),
    ("an orphaned checkpoint", "INSERT INTO checkpoints (trial_id, attempt, step, examples_seen, "
     "recorded_at_us) SELECT id, attempt + 5, 0, 0, 0 FROM trials LIMIT 1"),
    ("an open lease", "UPDATE leases SET ended_at_us = NULL WHERE (trial_id, attempt) = (SELECT "
     "trial_id, attempt FROM leases LIMIT 1)"),
    ("a trial left pending", "UPDATE trials SET state = 'pending' WHERE id = (SELECT min(id) "
     "FROM trials)"),
    ("a failure without a reason", "UPDATE trials SET state = 'failed', reason = '' WHERE id = "
     "(SELECT max(id) FROM trials)"),
]


def checker_finds_tampering(db_path, expected_trials, lease_ttl, workdir):
    """Applies each tampering to a copy of a clean database; returns those the checker missed."""
    missed = []
    for name, sql in TAMPERINGS:
        copy = os.path.join(workdir, "tampered.db")
        with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
            changed = target.execute(sql).rowcount
        violations, _ = check_invariants(copy, expected_trials, lease_ttl)
        if changed < 1 or not violations:
            missed.append(name)
        log(f"tampering '{name}': {len(violations)} violations: {violations[:3]}")
        os.remove(copy)
    return missed


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--trials", type=int, default=200, help="a multiple of 4")
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--snapshot-every", type=int, default=100)
    parser.add_argument("--max-attempts", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-kills", type=int, default=20)
    parser.add_argument("--coordinator-kills", type=int, default=5)
    parser.add_argument("--stops", type=int, default=4)
    parser.add_argument("--lease-ttl", type=float, default=3.0)
    parser.add_argument("--max-downtime", type=float, default=2.0, help="coordinator outage")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--finish-timeout", type=float, default=1800)
    parser.add_argument("--check-the-checker", action="store_true",
                        help="then damage copies of the database and require each be found")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    if args.trials % 4:
        parser.error("--trials must be a multiple of 4 (four activations x seeds)")
    events = args.worker_kills + args.coordinator_kills + args.stops
    if args.trials // 4 <= events:
        parser.error(f"--trials must be more than 4 x the {events} events (4 trials are "
                     "submitted before each)")

    workdir = tempfile.mkdtemp(prefix="deepsweep_chaos_")
    rng = random.Random(args.seed)
    schedule = make_schedule(args, rng)
    report = {"seed": args.seed, "trials": args.trials, "workers": args.workers,
              "lease_ttl_s": args.lease_ttl, "scheduled": len(schedule), "worker_kills": 0,
              "worker_kills_holding_a_lease": 0, "coordinator_kills": 0, "stops": 0,
              "stops_past_ttl_expired": 0, "stopped_seconds": []}
    cluster = Cluster(args, workdir)
    reader = Reader(cluster.db)
    ok = False
    started = time.monotonic()
    try:
        cluster.start_server()
        stages = stage_seeds(args, len(schedule))
        submitted = submit_stage(args, cluster, workdir, 0, stages[0])
        for slot in range(args.workers):
            cluster.start_worker(slot)
        kills, submitted = run_schedule(args, cluster, reader, schedule, stages, submitted, report)
        report["trials"] = submitted
        wait_for(lambda: reader.unfinished() == 0, args.finish_timeout, "the sweep to end", 0.2)
        report["sweep_seconds"] = round(time.monotonic() - started, 1)
        latencies = []
        for trial_id, attempt, killed_us in kills:
            leased_us = reader.next_attempt_leased_at(trial_id, attempt)
            if leased_us is not None:
                latencies.append((leased_us - killed_us) / 1e6)
        if latencies:
            report["requeue_latency_s"] = {
                "n": len(latencies), "min": round(min(latencies), 2),
                "p50": round(statistics.median(latencies), 2),
                "p90": round(percentile(latencies, 90), 2), "max": round(max(latencies), 2)}
        cluster.stop_all()
        violations, summary = check_invariants(cluster.db, submitted, args.lease_ttl)
        report["database"] = summary
        report["violations"] = violations[:50]
        report["violation_count"] = len(violations)
        shortfalls = []
        if report["worker_kills"] < args.worker_kills:
            shortfalls.append(f"{report['worker_kills']} of {args.worker_kills} worker kills")
        if report["coordinator_kills"] < args.coordinator_kills:
            shortfalls.append(
                f"{report['coordinator_kills']} of {args.coordinator_kills} coordinator kills")
        if report["stops"] < args.stops:
            shortfalls.append(f"{report['stops']} of {args.stops} stops")
        report["schedule_shortfalls"] = shortfalls
        report["server_starts"] = cluster.server_starts
        report["worker_starts"] = cluster.worker_starts
        ok = not violations and not shortfalls
        if ok and args.check_the_checker:
            report["checker_missed"] = checker_finds_tampering(cluster.db, submitted,
                                                               args.lease_ttl, workdir)
            ok = not report["checker_missed"]
    finally:
        cluster.stop_all()
        report["ok"] = ok
        report["workdir"] = workdir if (args.keep or not ok) else None
        text = json.dumps(report, indent=2)
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                f.write(text + "\n")
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
