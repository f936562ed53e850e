#!/usr/bin/env bash
# Does the time of a refused sign-in tell whether the login exists?
#
# Starts a release server (SQLite, fresh data dir, --trusted-proxy 127.0.0.1),
# makes BENCH_TIMING_N users with a password and as many without, then sends
# BENCH_TIMING_N rounds of three sign-ins, one at a time, in a shuffled order
# per round, each for a login of its own (so no per-login delay applies) and
# from a new X-Forwarded-For
# address (so no limit applies): a wrong password for an existing login, an
# unknown login, and a user without a password. Prints the latency distribution of each kind and the difference
# of medians; the three must be indistinguishable (same status, same body,
# one Argon2 verification each).
#
#   bench/sign-in-timing.sh               BENCH_TIMING_N=200 by default
#   BENCH_BIN_DIR=dir                     use dir/lightbox instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source bench/lib.sh
N=${BENCH_TIMING_N:-200}

if [ -n "${BENCH_BIN_DIR:-}" ]; then BIN="$BENCH_BIN_DIR/lightbox"; else
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
  say "building the release binary"
  cargo build --release -q -p lightbox --bin lightbox
  BIN="$CARGO_TARGET_DIR/release/lightbox"
fi
WORK=$(mktemp -d /tmp/lightbox-timing.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

DATA=(--data-dir "$WORK/data")
"$BIN" "${DATA[@]}" account create --name Bench --unique-id bench >/dev/null 2>&1
say "making $N users with a password and $N without"
for i in $(seq 0 $((N + 9))); do
  echo "tangerine-bicycle-Orbit-42" | "$BIN" "${DATA[@]}" user create --login "jane$i@bench.example" --name "Jane $i" --password-stdin >/dev/null 2>&1
  "$BIN" "${DATA[@]}" user create --login "nopass$i@bench.example" --name "Nopass $i" >/dev/null 2>&1
done
LIGHTBOX_LOG=warn "$BIN" "${DATA[@]}" serve --listen 127.0.0.1:0 --trusted-proxy 127.0.0.1 >"$WORK/out" 2>"$WORK/err" &
PID=$!
URL=$(wait_url "$WORK/out" "$PID") || die "server did not start: $(cat "$WORK/err")"
say "server $URL; $N rounds"

python3 - "$URL" "$N" <<'PY'
import http.client, json, random, statistics, sys, time, urllib.parse
url, n = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlsplit(url).netloc
kinds = {
    "wrong password": "jane{}@bench.example",
    "unknown login": "nobody{}@bench.example",
    "no password set": "nopass{}@bench.example",
}
times = {k: [] for k in kinds}
bodies = {k: set() for k in kinds}
conn = http.client.HTTPConnection(host)
ip = 0
for round_ in range(n + 10):
    order = list(kinds)
    random.shuffle(order)
    for kind in order:
        ip += 1
        body = json.dumps({"login": kinds[kind].format(round_), "password": "not-the-password-1",
                           "device": {"name": "timing", "platform": "bench"}})
        headers = {"Content-Type": "application/json",
                   "X-Forwarded-For": f"10.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}"}
        t0 = time.perf_counter()
        conn.request("POST", "/v1/auth/sign_in", body, headers)
        r = conn.getresponse()
        data = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if round_ < 10:
            continue  # warm-up
        err = json.loads(data)["error"]
        err.pop("request_id")
        assert r.status == 401, (kind, r.status, err)
        bodies[kind].add((r.status, json.dumps(err, sort_keys=True)))
        times[kind].append(dt)
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
print(f"| refused sign-in ({n} each, interleaved) | status + body | p10 ms | **median ms** | p90 ms | mean ms |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
base = statistics.median(times["wrong password"])
for k, v in times.items():
    shape = "same" if bodies[k] == bodies["wrong password"] and len(bodies[k]) == 1 else f"DIFFERENT {bodies[k]}"
    print(f"| {k} | {shape} | {q(v, .1):.2f} | **{statistics.median(v):.2f}** | {q(v, .9):.2f} | {statistics.mean(v):.2f} |")
for k, v in times.items():
    if k != "wrong password":
        print(f"\nmedian({k}) - median(wrong password) = {statistics.median(v) - base:+.2f} ms")
PY
