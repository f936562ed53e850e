#!/usr/bin/env bash
# Webhook delivery under load (issue 19): 10,000 events to a local receiver
# at 500 events/s — commit → received p50/p99, the server's memory — then a
# receiver down while 10,000 more are made, back after 10 minutes (the debug
# clock), and the backlog's drain rate. The load generator and receiver are
# bench/webhook-load (Rust, one thread, built here); its header says how each
# figure is taken. Prints markdown on stdout.
#
#   bench/webhooks.sh                    # SQLite + folder store
#   BENCH_POSTGRES=postgres://… bench/webhooks.sh   # PostgreSQL (a scratch database)
#   EVENTS=2000 RATE=500 bench/webhooks.sh
#   EVENTS=300000 BACKLOG=10000 bench/webhooks.sh   # 10 minutes at 500/s: is the memory flat?
#
# Needs a release build: cargo build --release -p lightbox
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
BIN="$TARGET/release/lightbox"
[ -x "$BIN" ] || die "build first: cargo build --release -p lightbox"
say "building bench/webhook-load (release)"
(cd bench/webhook-load && CARGO_TARGET_DIR="$TARGET" cargo build --release -q) >&2
WORK=$(mktemp -d /tmp/lightbox-webhooks-bench.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; grep -hE "ERROR" "$WORK"/*.err >&2 || true; [ -n "${KEEP_LOG:-}" ] && cp "$WORK/serve.err" "$KEEP_LOG"; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -n "${BENCH_POSTGRES:-}" ]; then
  storage=(--database-url "$BENCH_POSTGRES" --data-dir "$WORK/data")
else
  storage=(--data-dir "$WORK/data")
fi
"$BIN" account create --name Bench --unique-id bench "${storage[@]}" >/dev/null
"$BIN" account api-access bench on "${storage[@]}" >/dev/null
TOKEN=$("$BIN" token create --account bench --name bench --scopes all "${storage[@]}")
LIGHTBOX_LOG=${LIGHTBOX_LOG:-info,sqlx=warn} "$BIN" serve --listen 127.0.0.1:0 "${storage[@]}" --webhook-allow-private --debug-clock \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
URL=$(wait_url "$WORK/serve.out" "$PID") || { cat "$WORK/serve.err" >&2; die "the server did not start"; }
say "server $URL (pid $PID); ${EVENTS:-10000} events at ${RATE:-500}/s"
"$TARGET/release/webhook-load" "$URL" "$TOKEN" "$PID"
