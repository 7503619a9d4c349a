#!/usr/bin/env python3
"""The web dashboard in a real browser (Debian's headless Chromium + Selenium).

Starts deepsweep-server with --http on loopback, two workers and a small
sweep whose first trials are 5-layer sigmoid nets, plus a sweep named
<script>alert(1)</script>, then opens the dashboard and checks: the sweep is
listed; its progress advances without a reload; the test-error curve and a
layer plot are drawn with one point per stored checkpoint; the diagnosis of a
sigmoid depth-5 trial names its saturated top layer; the script-named sweep
renders as text and runs nothing; the browser logged no error. Screenshots
go to --out.

Usage: dashboard_browser_test.py --server BIN --worker BIN --cli BIN --out DIR
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service

# 2 x 3 configurations x 2 seeds: the sigmoid depth-5 trials come first. At
# learning rate 0.5 the top sigmoid layer is driven to 0 within a few hundred
# updates (Glorot & Bengio Fig. 2): 98% of its units below 0.1 by step 400-500
# (bench/glorot_trial, seeds 1-3). 9 checkpoints per trial (steps 0-800).
SPEC = """name: browser-test
seed: 7
dataset: {name: shapeset, train_examples: 0, validation_examples: 300, test_examples: 300}
model: {width: 40}
training: {learning_rate: 0.5, batch_size: 10, updates: 800, checkpoint_every: 100,
           probe_examples: 100}
grid:
  activation: [sigmoid, tanh]
  init: [standard]
  depth: [5, 2, 1]
seeds: 2
"""
CHECKPOINTS = 9
XSS_NAME = "<script>alert(1)</script>"
XSS_SPEC = f"""name: "{XSS_NAME}"
dataset: {{name: shapeset, train_examples: 0, validation_examples: 100, test_examples: 100}}
model: {{width: 8}}
training: {{updates: 20, checkpoint_every: 10, probe_examples: 20}}
grid: {{depth: [1]}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fail(message):
    print("FAIL:", message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def wait_for(predicate, what, timeout=90, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    fail(f"timed out after {timeout}s waiting for {what}")


def api(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.loads(r.read())


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--server", "--worker", "--cli", "--out"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="deepsweep-browser-")
    grpc_address = f"127.0.0.1:{free_port()}"
    http_port = free_port()
    base = f"http://127.0.0.1:{http_port}"
    procs = []
    driver = None
    try:
        server = subprocess.Popen(
            [args.server, "--address", grpc_address, "--http", f"127.0.0.1:{http_port}",
             "--db", os.path.join(work, "sweeps.db"), "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(args.out, "server.log"), "w"))
        procs.append(server)

        def up():
            try:
                return api(base, "/api/sweeps") == []
            except OSError:
                check(server.poll() is None, "the server exited")
                return False
        wait_for(up, "the server's HTTP port", timeout=30)

        for name, spec in (("xss", XSS_SPEC), ("sweep", SPEC)):
            path = os.path.join(work, f"{name}.yaml")
            with open(path, "w") as f:
                f.write(spec)
            subprocess.run([args.cli, "--server", grpc_address, "submit", path], check=True,
                           stdout=subprocess.DEVNULL)
        # A page is recomputed at most every 0.5 s (web/page_cache.h): the empty
        # list fetched above may be served until then.
        def both_listed():
            sweeps = api(base, "/api/sweeps")
            return sweeps if len(sweeps) == 2 else None
        sweeps = wait_for(both_listed, "both sweeps in /api/sweeps", timeout=10)
        xss_id = next(s["id"] for s in sweeps if s["name"] == XSS_NAME)
        sweep_id = next(s["id"] for s in sweeps if s["name"] == "browser-test")

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1400,1000",
                     f"--user-data-dir={os.path.join(work, 'chromium')}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)

        # Read in one script call: the page re-renders every second, so an
        # element found in one WebDriver call may be gone by the next.
        def text_of(selector):
            return driver.execute_script(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
                selector)

        def texts_of(selector):
            return driver.execute_script(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                selector)

        # Sweeps list: both sweeps, the script-named one as text.
        driver.get(base + "/")
        rows = wait_for(lambda: texts_of("tr[data-sweep]"), "the sweep rows")
        names = texts_of("td.sweep-name")
        check("browser-test" in names, f"sweep not listed: {names}")
        check(XSS_NAME in names, f"the script-named sweep is not shown as text: {names}")
        try:
            alert = driver.switch_to.alert
            fail(f"an alert ran: {alert.text}")
        except NoAlertPresentException:
            pass
        check(driver.execute_script("return document.querySelectorAll('#view script').length")
              == 0, "a script element was inserted into the page")
        check(len(rows) == 2, f"expected 2 sweep rows, got {len(rows)}")

        # Workers start now: the open sweep page must advance on its own.
        for n in (1, 2):
            procs.append(subprocess.Popen(
                [args.worker, "--server", grpc_address, "--threads", "1", "--auto-plan", "default"],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(args.out, f"worker-{n}.log"), "w")))
        driver.get(f"{base}/#/sweep/{sweep_id}")
        done_cell = "#sweep-progress-row td:nth-child(3)"
        start_text = wait_for(lambda: text_of(done_cell), "progress")
        url = driver.current_url
        marker = driver.execute_script("window.__noReload = 1; return window.__noReload")
        wait_for(lambda: text_of(done_cell) != start_text,
                 "the progress to advance", timeout=120)
        check(driver.execute_script("return window.__noReload") == marker and
              driver.current_url == url, "the page was reloaded")
        driver.save_screenshot(os.path.join(args.out, "sweep-running.png"))

        # Let the sweep finish, then the curve of the selected configuration.
        wait_for(lambda: api(base, f"/api/sweeps/{sweep_id}")["sweep"]["counts"]["done"] == 12,
                 "the sweep to finish", timeout=300, interval=1)
        detail = api(base, f"/api/sweeps/{sweep_id}")
        best = next(c for c in detail["configs"] if c["best"])
        curve = api(base, f"/api/sweeps/{sweep_id}/curves?config={best['first_trial']}")
        check(len(curve["steps"]) == CHECKPOINTS,
              f"API curve has {len(curve['steps'])} steps, expected {CHECKPOINTS}")
        points = wait_for(lambda: driver.execute_script(
            "const c = Chart.getChart('curve-test'); if (!c) return 0;"
            "const d = c.data.datasets[0].data; return c.getDatasetMeta(0).data.length === d.length"
            " ? d.length : 0"), "the test-error curve")
        check(points == CHECKPOINTS, f"curve drawn with {points} points, expected {CHECKPOINTS}")
        best_rows = texts_of("#sweep-configs tr.best")
        check(len(best_rows) == 1 and "★" in best_rows[0], "best configuration not marked")
        time.sleep(1.5)  # one more poll, so the screenshot shows the final state
        driver.save_screenshot(os.path.join(args.out, "sweep.png"))

        # A sigmoid depth-5 trial: layer plots and the diagnosis.
        trials = api(base, f"/api/sweeps/{sweep_id}/trials?limit=50")["trials"]
        sigmoid5 = next(t for t in trials if t["activation"] == "sigmoid" and t["depth"] == 5)
        driver.get(f"{base}/#/trial/{sigmoid5['id']}")
        points = wait_for(lambda: driver.execute_script(
            "const c = Chart.getChart('layer-activation'); if (!c) return 0;"
            "return c.getDatasetMeta(0).data.length"), "the layer plot")
        check(points == CHECKPOINTS, f"layer plot drawn with {points} points, expected {CHECKPOINTS}")
        layers = driver.execute_script(
            "return Chart.getChart('layer-saturation').data.datasets.length")
        check(layers == 5, f"saturation plot has {layers} layers, expected 5")
        diagnosis = wait_for(lambda: text_of("#diagnosis"), "diagnosis")
        kinds = driver.execute_script("return document.getElementById('diagnosis').dataset.kinds")
        check("top_layer_saturated" in kinds.split() and
              "top hidden layer 5 saturated" in diagnosis,
              f"diagnosis does not name the saturated top layer: {diagnosis!r} ({kinds})")
        driver.save_screenshot(os.path.join(args.out, "trial.png"))

        driver.get(base + "/#/workers")
        wait_for(lambda: len(texts_of("#view tbody tr")) == 2, "two workers")
        driver.save_screenshot(os.path.join(args.out, "workers.png"))
        driver.get(f"{base}/#/sweep/{xss_id}")
        wait_for(lambda: (text_of("#sweep-title") or "").endswith(XSS_NAME),
                 "the script-named sweep's page")

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        check(not errors, f"browser console errors: {errors}")
        print("dashboard browser test passed; screenshots in", args.out)
    finally:
        if driver is not None:
            driver.quit()
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
