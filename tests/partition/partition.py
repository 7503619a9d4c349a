#!/usr/bin/env python3
"""Partition suite (issue 17): a worker cut off from the coordinator mid-trial beyond its
lease TTL, then reconnected. Its late reports must be refused and the other attempt's results
must stand.

Two network namespaces made (and removed) here, joined by a veth pair; the only addresses are
the pair's, inside them (10.231.N.1 and .2, N from this process id):

    netns ds_srv_<pid>: deepsweep-server on 10.231.N.1 (and its dashboard on its own loopback,
                        for /metrics), worker B, the CLI
    netns ds_wrk_<pid>: worker A, reaching the server only over the veth pair

  1. a one-trial sweep is submitted; worker A leases it and reports a checkpoint;
  2. A's link is cut (`ip link set ... down` in A's namespace: every packet to the server is
     lost) and stays cut while A trains on, past the lease TTL, until the coordinator expires
     A's lease;
  3. worker B (in the server's namespace) leases attempt 2 and reports a checkpoint;
  4. A's link comes back (A trained on while cut off): A sends what it held (its unsent
     checkpoints, its heartbeat) under its expired lease, is refused, and drops the trial;
  5. the sweep ends. Checked: the trial succeeded once, by attempt 2 (B's); attempt 1's lease
     ended `expired` and not one of its checkpoints was stored after the cut; attempt 2 holds
     its whole series; A talked to the coordinator again after the reconnection (its
     workers.last_seen moved) and the coordinator refused its late work calls (the service's
     rpc_calls_total{result="error"} for ReportCheckpoints, CompleteTrial and RenewLease rose
     after the reconnection; the coordinator answers a call under a lease that is not the
     trial's current one with ABORTED, core/coordinator.h).

Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN for `ip netns` and veth): otherwise it prints why
and exits 77, which ctest reports as skipped. Every wait is on a condition with a bound.
"""

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77

SPEC = """name: partition
seed: 11
dataset: {name: shapeset, validation_examples: 100, test_examples: 100}
model: {depth: 1, width: 16}
training: {learning_rate: 0.05, batch_size: 10, updates: %d, checkpoint_every: %d,
           probe_examples: 20, snapshot_every: 0, snapshot_seconds: 0}
limits: {max_attempts: 5}
"""


def log(message):
    print(f"partition [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_for(condition, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def run(*command, check=True):
    return subprocess.run(command, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def can_make_namespaces():
    if os.geteuid() != 0:
        return "not root: ip netns and veth need CAP_SYS_ADMIN and CAP_NET_ADMIN"
    if shutil.which("ip") is None:
        return "no `ip` command (Debian package iproute2)"
    probe = f"ds_probe_{os.getpid()}"
    made = run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    # Created is not usable: in a chroot without its own /run/netns mount,
    # `ip netns add` succeeds and entering the namespace then fails.
    used = run("ip", "-n", probe, "link", "set", "lo", "up", check=False)
    run("ip", "netns", "del", probe, check=False)
    if used.returncode != 0:
        return f"cannot use a new network namespace: {used.stderr.strip()}"
    return None


class Namespaces:
    def __init__(self):
        n = os.getpid() % 250 + 1
        self.srv = f"ds_srv_{os.getpid()}"
        self.wrk = f"ds_wrk_{os.getpid()}"
        self.srv_if = f"dss{os.getpid()}"[:15]
        self.wrk_if = f"dsw{os.getpid()}"[:15]
        self.server_ip = f"10.231.{n}.1"
        self.worker_ip = f"10.231.{n}.2"
        self.made = []

    def create(self):
        for ns in (self.srv, self.wrk):
            run("ip", "netns", "add", ns)
            self.made.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        # The pair is created inside the server's namespace, then one end moved: it never
        # appears in the namespace this script runs in.
        run("ip", "-n", self.srv, "link", "add", self.srv_if, "type", "veth", "peer", "name",
            self.wrk_if)
        run("ip", "-n", self.srv, "link", "set", self.wrk_if, "netns", self.wrk)
        run("ip", "-n", self.srv, "addr", "add", f"{self.server_ip}/30", "dev", self.srv_if)
        run("ip", "-n", self.wrk, "addr", "add", f"{self.worker_ip}/30", "dev", self.wrk_if)
        run("ip", "-n", self.srv, "link", "set", self.srv_if, "up")
        run("ip", "-n", self.wrk, "link", "set", self.wrk_if, "up")

    def cut(self):
        run("ip", "-n", self.wrk, "link", "set", self.wrk_if, "down")

    def reconnect(self):
        run("ip", "-n", self.wrk, "link", "set", self.wrk_if, "up")

    def remove(self):
        for ns in reversed(self.made):  # deleting a namespace deletes its end of the pair too
            run("ip", "netns", "del", ns, check=False)
        self.made = []


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--lease-ttl", type=float, default=2.0)
    parser.add_argument("--updates", type=int, default=6000)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the logs and the database")
    args = parser.parse_args()

    why_not = can_make_namespaces()
    if why_not:
        print(f"partition: SKIPPED: {why_not}", flush=True)
        return SKIP

    workdir = tempfile.mkdtemp(prefix="deepsweep_partition_")
    db_path = os.path.join(workdir, "partition.db")
    ns = Namespaces()
    processes = []
    ok = False

    def start(namespace, name, *command):
        out = open(os.path.join(workdir, f"{name}.log"), "ab")
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *command], stdout=out,
                                   stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    def query(sql, params=()):
        for _ in range(100):
            try:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
                    return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:
                time.sleep(0.05)
        raise RuntimeError(f"cannot read {db_path}")

    def worker_id(process):
        # The worker is `ip netns exec`'s child, exec'd in place: same pid.
        return f"%:{process.pid}"

    def lease_of(process):
        rows = query("SELECT attempt, ended_at_us, outcome FROM leases WHERE trial_id = 1 AND "
                     "worker_id LIKE ?", (worker_id(process),))
        return rows[0] if rows else None

    def work_errors(metrics):
        total = 0
        for method in ("ReportCheckpoints", "CompleteTrial", "RenewLease"):
            match = re.search(r'rpc_calls_total\{method="%s",result="error"\} (\d+)' % method,
                              metrics)
            total += int(match.group(1)) if match else 0
        return total

    http_port = 7071
    address = f"{ns.server_ip}:7070"

    def metrics():
        got = run("ip", "netns", "exec", ns.srv, sys.executable, "-c",
                  "import urllib.request; print(urllib.request.urlopen("
                  f"'http://127.0.0.1:{http_port}/metrics', timeout=5).read().decode())")
        return got.stdout

    try:
        ns.create()
        log(f"namespaces {ns.srv} ({ns.server_ip}) and {ns.wrk} ({ns.worker_ip})")
        start(ns.srv, "server", args.server, "--address", address, "--db", db_path,
              "--lease-ttl", str(args.lease_ttl), "--insecure", "--http",
              f"127.0.0.1:{http_port}", "--log-level", "info")
        wait_for(lambda: run("ip", "netns", "exec", ns.srv, args.cli, "--server", address,
                             "--timeout", "2", "health", check=False).returncode == 0, 60,
                 "the server to serve")
        spec = os.path.join(workdir, "partition.yaml")
        with open(spec, "w") as f:
            f.write(SPEC % (args.updates, args.checkpoint_every))
        run("ip", "netns", "exec", ns.srv, args.cli, "--server", address, "submit", spec)

        # 1. A leases the trial and reports a checkpoint over the veth pair.
        worker_a = start(ns.wrk, "worker_a", args.worker, "--server", address, "--timeout", "2",
                         "--auto-plan", "default", "--log-level", "info")
        wait_for(lambda: query("SELECT count(*) FROM checkpoints WHERE trial_id = 1 AND "
                               "attempt = 1 AND step > 0")[0][0] > 0, 120,
                 "worker A's first checkpoint")
        a_lease = lease_of(worker_a)
        assert a_lease and a_lease[0] == 1 and a_lease[1] is None, f"A's lease: {a_lease}"

        # 2. Cut A off, past its TTL, until the coordinator expires its lease.
        ns.cut()
        cut_us = int(time.time() * 1e6)
        log("worker A cut off")
        wait_for(lambda: (lease_of(worker_a) or (0, None, None))[2] == "expired",
                 10 * args.lease_ttl + 30, "A's lease to expire")
        log(f"A's lease expired {(time.time() * 1e6 - cut_us) / 1e6:.1f} s after the cut")

        # 3. B leases attempt 2 and reports a checkpoint.
        worker_b = start(ns.srv, "worker_b", args.worker, "--server", address, "--timeout", "2",
                         "--auto-plan", "default", "--log-level", "info")
        wait_for(lambda: query("SELECT count(*) FROM checkpoints WHERE trial_id = 1 AND "
                               "attempt = 2 AND step > 0")[0][0] > 0, 120,
                 "worker B's first checkpoint")
        errors_before = work_errors(metrics())
        a_seen_before = query("SELECT last_seen_us FROM workers WHERE worker_id LIKE ?",
                              (worker_id(worker_a),))[0][0]

        # 4. Reconnect A: its held reports meet attempt 2's lease.
        ns.reconnect()
        reconnect_us = int(time.time() * 1e6)
        log(f"worker A reconnected after {(reconnect_us - cut_us) / 1e6:.1f} s cut off "
            f"(lease TTL {args.lease_ttl} s)")
        wait_for(lambda: query("SELECT last_seen_us FROM workers WHERE worker_id LIKE ?",
                               (worker_id(worker_a),))[0][0] > reconnect_us, 120,
                 "worker A to reach the coordinator again")
        wait_for(lambda: work_errors(metrics()) > errors_before, 60,
                 "the coordinator to refuse A's late calls")
        errors_after = work_errors(metrics())

        # 5. The sweep ends; B's attempt stands.
        wait_for(lambda: query("SELECT state FROM trials WHERE id = 1")[0][0] not in
                 ("pending", "leased"), 300, "the trial to end")
        state, attempt = query("SELECT state, attempt FROM trials WHERE id = 1")[0]
        leases = query("SELECT attempt, worker_id, outcome FROM leases WHERE trial_id = 1 "
                       "ORDER BY attempt")
        late_a = query("SELECT count(*) FROM checkpoints WHERE trial_id = 1 AND attempt = 1 AND "
                       "recorded_at_us > ?", (cut_us,))[0][0]
        steps_b = [s for (s,) in query("SELECT step FROM checkpoints WHERE trial_id = 1 AND "
                                       "attempt = 2 ORDER BY step")]
        expected_steps = list(range(0, args.updates + 1, args.checkpoint_every))
        failures = []
        if (state, attempt) != ("succeeded", 2):
            failures.append(f"trial ended {state} at attempt {attempt}, expected succeeded at 2")
        if [(a, o) for a, _, o in leases] != [(1, "expired"), (2, "succeeded")]:
            failures.append(f"leases {leases}, expected attempt 1 expired, 2 succeeded")
        if late_a:
            failures.append(f"{late_a} of A's checkpoints were stored after the cut")
        if steps_b != expected_steps:
            failures.append(f"attempt 2 holds steps {steps_b}, expected {expected_steps}")
        if errors_after <= errors_before:
            failures.append("no work call of A's was refused after the reconnection")
        log(f"trial: {state}, attempt {attempt}; leases {leases}; A's checkpoints stored after "
            f"the cut: {late_a}; refused work calls after reconnecting: "
            f"{errors_after - errors_before}")
        for failure in failures:
            print(f"partition: FAILED: {failure}", flush=True)
        ok = not failures
        if ok:
            print("partition: 1 passed, 0 failed", flush=True)
    finally:
        for process in reversed(processes):  # workers first (no grace needed), the server last
            if process.poll() is None:
                process.terminate() if process is processes[0] else process.kill()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        ns.remove()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"partition: logs and database kept in {workdir}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
