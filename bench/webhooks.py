#!/usr/bin/env python3
"""Webhook delivery under load (issue 19), driven by bench/webhooks.sh.

A receiver on loopback (Python's threading HTTP server) records the arrival
of every delivery. Phase 1: EVENTS set creations at RATE per second, each a
`set.created` event; latency = arrival at the receiver − the moment the
creating request was sent (an upper bound of commit → received: the commit
happens inside that request). Phase 2: the receiver answers 503 ("down")
while EVENTS more are made; once each has failed its first attempt, the
receiver comes back and the server's debug clock moves 10 minutes on (the
retries of a receiver down for 10 minutes all come due); the drain rate is
EVENTS / (last delivery − clock moved). The server's RSS is sampled every
0.5 s. Prints markdown.
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE, TOKEN, PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
EVENTS = int(os.environ.get("EVENTS", "10000"))
RATE = float(os.environ.get("RATE", "500"))
WRITERS = int(os.environ.get("WRITERS", "8"))

lock = threading.Lock()
arrivals = {}  # set name -> first arrival (monotonic)
ids = {}  # webhook-id -> requests seen
refused = [0]
down = threading.Event()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        now = time.monotonic()
        if down.is_set():
            with lock:
                refused[0] += 1
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        event = json.loads(body)
        name = event.get("data", {}).get("name", "")
        with lock:
            arrivals.setdefault(name, now)
            hook_id = self.headers.get("webhook-id", "")
            ids[hook_id] = ids.get(hook_id, 0) + 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
receiver.daemon_threads = True
threading.Thread(target=receiver.serve_forever, daemon=True).start()
RECEIVER_URL = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

host = urllib.parse.urlsplit(BASE)


def connection():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=30)


def call(conn, method, path, body=None):
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    if method != "GET":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None


def rss_kib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


rss = []
sampling = threading.Event()


def sample():
    while not sampling.is_set():
        rss.append(rss_kib())
        time.sleep(0.5)


def make_sets(prefix, sent):
    """EVENTS set creations at RATE per second over WRITERS connections."""
    start = time.monotonic() + 0.2
    errors = []

    def writer(k):
        conn = connection()
        try:
            for n in range(k, EVENTS, WRITERS):
                at = start + n / RATE
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                name = f"{prefix} {n}"
                t = time.monotonic()
                call(conn, "POST", "/v1/sets", {"name": name})
                sent[name] = t
        except BaseException as e:  # reported after the join
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"writer failed: {errors[0]}")
    return time.monotonic() - start


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


conn = connection()
call(conn, "POST", "/v1/webhooks", {"url": RECEIVER_URL, "events": ["set.created"]})
threading.Thread(target=sample, daemon=True).start()
rss_start = rss_kib()

# Phase 1: steady load.
sent = {}
elapsed = make_sets("Live", sent)
wait_for(lambda: sum(1 for n in sent if n in arrivals) == EVENTS, 120, "phase 1 deliveries")
latencies = [(arrivals[n] - t) * 1000 for n, t in sent.items()]
rss_after_load = rss_kib()

# Phase 2: the receiver is down while EVENTS more are made.
down.set()
sent_down = {}
make_sets("Backlog", sent_down)
wait_for(lambda: refused[0] >= EVENTS, 300, "every first attempt refused")
rss_backlog = rss_kib()
down.clear()
before = len(arrivals)
moved = time.monotonic()
clock = connection()
clock.request("POST", "/_debug/clock?advance_secs=600")
clock.getresponse().read()
wait_for(lambda: len(arrivals) - before >= EVENTS, 600, "the backlog")
drained = max(arrivals[n] for n in sent_down) - moved
sampling.set()
twice = sum(1 for v in ids.values() if v > 1)

print("| figure | value | target |")
print("|---|---|---|")
print(f"| events (phase 1) | {EVENTS} in {elapsed:.1f} s ({EVENTS / elapsed:.0f}/s offered) | 10,000 at 500/s |")
print(f"| commit → received p50 | {statistics.median(latencies):.1f} ms | ≤ 50 ms |")
print(f"| commit → received p99 | {pct(latencies, 99):.1f} ms | ≤ 500 ms |")
print(f"| commit → received max | {max(latencies):.1f} ms | |")
print(f"| backlog drained | {EVENTS} in {drained:.1f} s = {EVENTS / drained:.0f} events/s | ≥ 1,000/s |")
print(f"| delivered twice | {twice} | 0 without a crash |")
print(
    f"| server RSS | start {rss_start / 1024:.1f} MiB, after load {rss_after_load / 1024:.1f} MiB, "
    f"backlog {rss_backlog / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB, end {rss[-1] / 1024:.1f} MiB | flat |"
)
