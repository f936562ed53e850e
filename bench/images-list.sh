#!/usr/bin/env bash
# GET /v1/images on a synthetic library of 1,000,000 images (design §6:
# newest first and any stacked filters, p50 ≤ 5 ms, p99 ≤ 20 ms).
#
# 1. Builds bench/images-list (its own cargo workspace, release).
# 2. Per engine (SQLite always; PostgreSQL when LIGHTBOX_BENCH_POSTGRES_URL is
#    set): makes a data dir (and a fresh database bench_<random>), creates the
#    account with the CLI when the lightbox binary is there (else the
#    generator makes it), fills it (`images-list-bench fill`, SQL inside the
#    database: ≈ 2–7 min per engine on 2 cores).
# 3. Store level: `images-list-bench run` times list_ids (limit 51, as the
#    route asks for 50 + 1) over every filter mix, on one connection.
# 4. HTTP (BENCH_HTTP=1, needs the images routes): `lightbox serve` on the
#    same data, a service token, and `wrk --latency` per mix (query strings
#    from `images-list-bench queries`).
# Prints markdown tables on stdout; progress on stderr.
#
# Settings (environment):
#   BENCH_IMAGES=1000000   BENCH_ITERATIONS=200   BENCH_MIXES=name,name (prefixes)
#   LIGHTBOX_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres
#   BENCH_DATA=DIR          reuse a filled work dir (skip the fill): DIR/sqlite, and
#                           DIR/pg-url holding the database URL
#   BENCH_EXPLAIN=1         print each mix's plan on stderr
#   BENCH_HTTP=1            also measure over HTTP (BENCH_DURATION=10 s per mix, -c8)
#   BENCH_HTTP_MIXES=a,b    only these mixes over HTTP (name prefixes; default all)
#   BENCH_STORE=0           skip the store-level timings
#   BENCH_ENGINES="sqlite postgres"   which engines (default: SQLite, and PostgreSQL when set)
#   BENCH_KEEP=1            keep the work dir and database
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
IMAGES=${BENCH_IMAGES:-1000000}
ITER=${BENCH_ITERATIONS:-200}
PGURL=${LIGHTBOX_BENCH_POSTGRES_URL:-}
say() { echo "== $*" >&2; }

say "building bench/images-list (release)"
(cd bench/images-list && cargo build --release -q) >&2
BIN_SRC="$CARGO_TARGET_DIR/release/images-list-bench"

if [ -n "${BENCH_DATA:-}" ]; then
  WORK=$BENCH_DATA
  REUSE=1
else
  WORK=$(mktemp -d /tmp/lightbox-images-list.XXXXXX)
  REUSE=
fi
mkdir -p "$WORK/bin"
cp "$BIN_SRC" "$WORK/bin/"   # the shared target dir may be rebuilt meanwhile
BENCH="$WORK/bin/images-list-bench"
LB=""
if [ -n "${BENCH_HTTP:-}" ]; then
  cargo build --release -q -p lightbox --bin lightbox >&2
  cp "$CARGO_TARGET_DIR/release/lightbox" "$WORK/bin/"
  LB="$WORK/bin/lightbox"
fi
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -z "${BENCH_KEEP:-}" ] && [ -z "$REUSE" ]; then
    if [ -s "$WORK/pg-url" ]; then
      db=$(basename "$(cat "$WORK/pg-url")")
      psql "$PGURL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
  else
    say "kept $WORK"
  fi
}
trap cleanup EXIT

engines=(sqlite)
[ -n "$PGURL" ] || [ -s "$WORK/pg-url" ] && engines+=(postgres)
[ -n "${BENCH_ENGINES:-}" ] && read -ra engines <<<"$BENCH_ENGINES"

for engine in "${engines[@]}"; do
  if [ "$engine" = sqlite ]; then
    mkdir -p "$WORK/sqlite"
    url="sqlite://$WORK/sqlite/lightbox.db"
    storage=(--data-dir "$WORK/sqlite")
  else
    if [ ! -s "$WORK/pg-url" ]; then
      db="bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
      psql "$PGURL" -qAt -c "CREATE DATABASE $db" >/dev/null
      echo "${PGURL%/*}/$db" >"$WORK/pg-url"
    fi
    url=$(cat "$WORK/pg-url")
    mkdir -p "$WORK/pgdata"
    storage=(--data-dir "$WORK/pgdata" --database-url "$url")
  fi
  if [ -z "$REUSE" ]; then
    if [ -n "$LB" ]; then
      "$LB" account create --name Bench --unique-id bench "${storage[@]}" >/dev/null
      "$LB" account api-access bench on "${storage[@]}" >/dev/null
    fi
    say "$engine: filling $IMAGES images"
    "$BENCH" fill --database-url "$url" --account bench --images "$IMAGES"
  fi
  if [ "${BENCH_STORE:-1}" != 0 ]; then
    say "$engine: store level, list_ids(limit 51)"
    echo
    echo "### $engine, store level ($(date -u +%FT%TZ), $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    args=(run --database-url "$url" --account bench --iterations "$ITER")
    [ -n "${BENCH_MIXES:-}" ] && args+=(--mixes "$BENCH_MIXES")
    [ -n "${BENCH_EXPLAIN:-}" ] && args+=(--explain)
    "$BENCH" "${args[@]}"
  fi

  if [ -n "$LB" ]; then
    TOKEN=$("$LB" token create --account bench --name "bench-$RANDOM" --scopes all "${storage[@]}")
    LIGHTBOX_LOG=warn "$LB" serve --listen 127.0.0.1:0 "${storage[@]}" >"$WORK/serve-$engine.out" 2>"$WORK/serve-$engine.err" &
    PIDS+=($!)
    for _ in $(seq 1 200); do [ -s "$WORK/serve-$engine.out" ] && break; sleep 0.05; done
    base=$(head -n 1 "$WORK/serve-$engine.out")
    curl -sf -H "Authorization: Bearer $TOKEN" "$base/v1/images?limit=1" >/dev/null \
      || { say "GET /v1/images failed"; cat "$WORK/serve-$engine.err" >&2; exit 1; }
    echo
    echo "### $engine, HTTP (wrk -t1 -c${BENCH_CONNECTIONS:-8} -d${BENCH_DURATION:-10}s, limit=50, load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    echo "| mix | req/s | p50 ms | p99 ms |"
    echo "| --- | ---: | ---: | ---: |"
    "$BENCH" queries | while IFS=$'\t' read -r name qs; do
      only=${BENCH_HTTP_MIXES:-${BENCH_MIXES:-}}
      if [ -n "$only" ]; then
        hit=
        IFS=, read -ra prefixes <<<"$only"
        for p in "${prefixes[@]}"; do [[ "$name" == "$p"* ]] && hit=1; done
        [ -n "$hit" ] || continue
      fi
      out=$(wrk -t1 -c"${BENCH_CONNECTIONS:-8}" -d"${BENCH_DURATION:-10}s" --latency \
        -H "Authorization: Bearer $TOKEN" "$base/v1/images?limit=50&$qs")
      if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then say "$name: wrk saw errors"; echo "$out" >&2; fi
      rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
      p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
      echo "| $name | $rps | $p50 | $p99 |"
    done
  fi
done
