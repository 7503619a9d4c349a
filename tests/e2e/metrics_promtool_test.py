#!/usr/bin/env python3
"""GET /metrics of a real deepsweep-server passes `promtool check metrics`.

Starts the server with --http on loopback, makes a few RPCs through the CLI
(so the per-method histograms hold samples), fetches /metrics, checks the
metric families the dashboard promises are there, and runs Debian's promtool
(package prometheus) on the text.

Usage: metrics_promtool_test.py --server BIN --cli BIN
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SPEC = """name: metrics-test
model: {width: 8}
training: {updates: 20, checkpoint_every: 10}
grid: {depth: [1, 2]}
"""
FAMILIES = ["deepsweep_trials", "deepsweep_workers_alive", "deepsweep_leases_granted_total",
            "deepsweep_leases_expired_total", "deepsweep_leases_released_total",
            "deepsweep_rpc_calls_total", "deepsweep_rpc_latency_seconds",
            "deepsweep_store_commit_latency_seconds", "deepsweep_store_write_queue_depth",
            "deepsweep_store_writable", "deepsweep_store_failed_writes_total",
            "deepsweep_unfinished_trials"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--cli", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="deepsweep-metrics-")
    address = f"127.0.0.1:{free_port()}"
    http = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen([args.server, "--address", address, "--http", http[7:],
                               "--db", os.path.join(work, "db.sqlite"), "--log-level", "warn"])
    try:
        text = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(http + "/metrics", timeout=5) as r:
                    text = r.read().decode()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("FAIL: the server exited")
                time.sleep(0.2)
        if text is None:
            sys.exit("FAIL: /metrics never answered")
        spec = os.path.join(work, "spec.yaml")
        with open(spec, "w") as f:
            f.write(SPEC)
        subprocess.run([args.cli, "--server", address, "submit", spec], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([args.cli, "--server", address, "status", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        with urllib.request.urlopen(http + "/metrics", timeout=5) as r:
            text = r.read().decode()
        missing = [f for f in FAMILIES if f"# TYPE {f} " not in text]
        if missing:
            sys.exit(f"FAIL: missing metric families {missing}")
        if 'deepsweep_trials{state="pending"} 2' not in text:
            sys.exit("FAIL: the two pending trials are not counted")
        if 'deepsweep_rpc_calls_total{method="CreateSweep",result="ok"} 1' not in text:
            sys.exit("FAIL: the CreateSweep call is not counted")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True)
        if check.returncode != 0:
            sys.exit(f"FAIL: promtool check metrics:\n{check.stdout}{check.stderr}")
        print("metrics pass promtool check metrics")
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
