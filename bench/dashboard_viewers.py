#!/usr/bin/env python3
"""Simulated open dashboards: N viewers polling the web dashboard's sweep page as the page
does (web/static/dashboard.js: refresh, then wait POLL_MS = 1 s, then refresh again). One
refresh of the sweep view fetches /api/sweeps (to find the sweep), /api/sweeps/ID,
/api/sweeps/ID/trials?offset=0&limit=50 and /api/sweeps/ID/curves?config=T for the best
configuration's first trial. Like the page (fetch with cache: 'no-cache'), each viewer keeps
every answer with its ETag and asks again with If-None-Match, taking a 304 as "unchanged".
Stops when --until-pid exits or after --seconds (a bound), then prints refreshes, requests,
304s, errors and latency per page. Loopback only (bench/, run by hand:
bench/run_dashboard_load.sh).
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def viewer(base, stop, stats, lock):
    kept = {}  # path -> (etag, body), as a browser's cache keeps them

    def get(page, path):
        begin = time.monotonic()
        request = urllib.request.Request(base + path)
        if path in kept:
            request.add_header("If-None-Match", kept[path][0])
        unchanged = False
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.loads(response.read())
                if response.headers.get("ETag"):
                    kept[path] = (response.headers["ETag"], body)
            ok = True
        except urllib.error.HTTPError as e:
            unchanged = e.code == 304 and path in kept
            body, ok = (kept[path][1], True) if unchanged else (None, False)
        except Exception:  # any failure counts as an error of that page
            body, ok = None, False
        with lock:
            stats.setdefault(page, []).append(time.monotonic() - begin)
            if unchanged:
                stats["unchanged"] = stats.get("unchanged", 0) + 1
            if not ok:
                stats["errors"] = stats.get("errors", 0) + 1
        return body

    while not stop.is_set():
        sweeps = get("sweeps", "/api/sweeps")
        if sweeps:
            sweep_id = sweeps[0]["id"]
            detail = get("sweep", f"/api/sweeps/{sweep_id}")
            get("trials", f"/api/sweeps/{sweep_id}/trials?offset=0&limit=50")
            configs = (detail or {}).get("configs") or []
            best = next((c for c in configs if c.get("best")), configs[0] if configs else None)
            if best:
                get("curves", f"/api/sweeps/{sweep_id}/curves?config={best['first_trial']}")
        with lock:
            stats["refreshes"] = stats.get("refreshes", 0) + 1
        stop.wait(1.0)  # POLL_MS


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--viewers", type=int, default=5)
    parser.add_argument("--until-pid", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=600)
    args = parser.parse_args()
    stop = threading.Event()
    stats, lock = {}, threading.Lock()
    threads = [threading.Thread(target=viewer, args=(args.url, stop, stats, lock), daemon=True)
               for _ in range(args.viewers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and (args.until_pid == 0 or alive(args.until_pid)):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    pages = {k: v for k, v in stats.items() if isinstance(v, list)}
    cpu = os.times()
    print(f"dashboards: {args.viewers} viewers, {stats.get('refreshes', 0)} refreshes, "
          f"{sum(len(v) for v in pages.values())} requests ({stats.get('unchanged', 0)} answered 304), "
          f"{stats.get('errors', 0)} errors; "
          f"the viewers' own CPU {cpu.user + cpu.system:.1f} s")
    for page, times in sorted(pages.items()):
        print(f"  {page:<7} {len(times):6} requests  median {1000 * statistics.median(times):7.1f} ms"
              f"  max {1000 * max(times):7.1f} ms")
    return 1 if stats.get("errors", 0) else 0


if __name__ == "__main__":
    sys.exit(main())
