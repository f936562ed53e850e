#!/usr/bin/env bash
# GET /v1/me (service token) on a real `lightbox serve` against a bare axum
# route answering the same bytes (crates/lightbox/examples/bare_axum.rs),
# same runtime, same wrk settings, loopback only, in one run.
#
# For each configuration (SQLite with the default auth cache, SQLite with
# --auth-cache-ttl-ms 0, and the same two on PostgreSQL when
# LIGHTBOX_BENCH_POSTGRES_URL is set) it:
#   1. makes a fresh data dir (and database) with the CLI: account, API on, token;
#   2. starts `lightbox serve`, notes its idle memory, calls /v1/me once,
#      waits for the last-use flush (10 s) and captures the body;
#   3. starts bare_axum with that body (so both answer the same bytes);
#   4. runs wrk against bare, lightbox, bare, lightbox (BENCH_ROUNDS pairs),
#      each with a warm-up first, and the token header on both;
#   5. reads the servers' memory after the load.
# Prints markdown tables on stdout; progress and raw wrk output go to stderr
# and to the work dir.
#
# Settings (environment):
#   BENCH_THREADS=1 BENCH_CONNECTIONS=32 BENCH_DURATION=15 BENCH_WARMUP=3
#   BENCH_ROUNDS=2              pairs of (bare, lightbox) runs per configuration
#   BENCH_CONFIGS="sqlite sqlite-ttl0 postgres postgres-ttl0"   (postgres ones need the URL)
#   BENCH_LIGHTBOX_LOG=warn     LIGHTBOX_LOG for the server under test
#   LIGHTBOX_BENCH_POSTGRES_URL=postgres://user@127.0.0.1:PORT/postgres
#                               a fresh database bench_<random> is made there and dropped after
#   BENCH_NO_BUILD=1            use the binaries already built
#   BENCH_BIN_DIR=DIR           use lightbox, bare_axum from DIR (no build); the shared target
#                               dir can be rebuilt by someone else between a build and a run
#   BENCH_KEEP=1                keep the work dir (data, bodies, raw wrk output)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
ROUNDS=${BENCH_ROUNDS:-2}
LB_LOG=${BENCH_LIGHTBOX_LOG:-warn}
PGURL=${LIGHTBOX_BENCH_POSTGRES_URL:-}
if [ -n "${BENCH_CONFIGS:-}" ]; then
  read -r -a CONFIGS <<<"$BENCH_CONFIGS"
elif [ -n "$PGURL" ]; then
  CONFIGS=(sqlite sqlite-ttl0 postgres postgres-ttl0)
else
  CONFIGS=(sqlite sqlite-ttl0)
fi

. bench/lib.sh
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_BIN_DIR:-}" ]; then
  say "building release binaries"
  cargo build --release -q -p lightbox --bin lightbox --example bare_axum >&2
fi
LB="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release}/lightbox"
BARE="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release/examples}/bare_axum"
[ -x "$LB" ] && [ -x "$BARE" ] || die "missing $LB or $BARE"

WORK=$(mktemp -d /tmp/lightbox-bench.XXXXXX)
# Private copies: the shared target dir may be rebuilt during the run.
mkdir "$WORK/bin"
cp "$LB" "$BARE" "$WORK/bin/"
LB="$WORK/bin/lightbox" BARE="$WORK/bin/bare_axum"
PIDS=()
PGDBS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for db in "${PGDBS[@]}"; do
    psql "$PGURL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "${BENCH_KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

RAW_ROWS=()
SUMMARY_ROWS=()
MEM_ROWS=()

run_config() { # name
  local name=$1 engine=sqlite ttl_args=() storage dir db url
  case $name in
    sqlite) ;;
    sqlite-ttl0) ttl_args=(--auth-cache-ttl-ms 0) ;;
    postgres) engine=postgres ;;
    postgres-ttl0) engine=postgres; ttl_args=(--auth-cache-ttl-ms 0) ;;
    *) die "unknown configuration $name" ;;
  esac
  dir="$WORK/$name"
  mkdir -p "$dir"
  storage=(--data-dir "$dir/data")
  if [ "$engine" = postgres ]; then
    [ -n "$PGURL" ] || die "$name needs LIGHTBOX_BENCH_POSTGRES_URL"
    command -v psql >/dev/null || die "psql is not installed"
    db="bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql "$PGURL" -v ON_ERROR_STOP=1 -qAt -c "CREATE DATABASE $db" >/dev/null
    PGDBS+=("$db")
    local base=${PGURL%%\?*} query=""
    [ "$base" != "$PGURL" ] && query="?${PGURL#*\?}"
    url="${base%/*}/$db$query"
    storage+=(--database-url "$url")
  fi

  say "$name: account, API switch, token"
  "$LB" account create --name Bench --unique-id bench "${storage[@]}" >/dev/null 2>"$dir/cli.err"
  "$LB" account api-access bench on "${storage[@]}" >/dev/null 2>>"$dir/cli.err"
  TOKEN=$("$LB" token create --account bench --name bench --scopes all "${storage[@]}" 2>>"$dir/cli.err")

  say "$name: starting lightbox serve ${ttl_args[*]}"
  LIGHTBOX_LOG=$LB_LOG "$LB" serve --listen 127.0.0.1:0 "${storage[@]}" "${ttl_args[@]}" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  local lb_pid=$!
  PIDS+=("$lb_pid")
  local lb_url
  lb_url=$(wait_url "$dir/serve.out" "$lb_pid") || { cat "$dir/serve.err" >&2; die "$name: lightbox did not start"; }
  curl -fsS -o /dev/null "$lb_url/healthz"
  sleep 2
  local lb_idle
  lb_idle=$(status_kib "$lb_pid" VmRSS)

  # The first use is written by the 10 s last-use flush; after it the body
  # (with last_used_at/ip) keeps the same size for the rest of the run.
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$lb_url/v1/me"
  say "$name: waiting 11 s for the last-use flush, then capturing /v1/me"
  sleep 11
  curl -fsS -o "$dir/me.json" -H "Authorization: Bearer $TOKEN" "$lb_url/v1/me"

  "$BARE" 127.0.0.1:0 "$dir/me.json" >"$dir/bare.out" 2>"$dir/bare.err" &
  local bare_pid=$!
  PIDS+=("$bare_pid")
  local bare_url
  bare_url=$(wait_url "$dir/bare.out" "$bare_pid") || { cat "$dir/bare.err" >&2; die "$name: bare_axum did not start"; }
  sleep 1
  local bare_idle
  bare_idle=$(status_kib "$bare_pid" VmRSS)
  cmp -s "$dir/me.json" <(curl -fsS "$bare_url/v1/me") || die "$name: bare_axum answers other bytes"

  local round target url pid m v bare_rps=0
  declare -A SUM=()
  local ratios=()
  for round in $(seq 1 "$ROUNDS"); do
    for target in bare lightbox; do
      if [ "$target" = bare ]; then url=$bare_url pid=$bare_pid; else url=$lb_url pid=$lb_pid; fi
      say "$name: round $round, $target: warm-up ${WARMUP}s, then ${DURATION}s"
      run_wrk "$name-$target-warmup" "$url" "$pid" "$WARMUP"
      run_wrk "$name-$target" "$url" "$pid" "$DURATION"
      say "$name: round $round, $target: $RPS req/s, p50 $P50 ms, p99 $P99 ms," \
        "CPU/req server $CPU_US us, wrk $WRK_US us; other load ${OTHER_PCT}%"
      RAW_ROWS+=("| $name | $target | $round | $RPS | $P50 | $P99 | $CPU_US | $WRK_US | $OTHER_PCT |")
      for m in RPS P50 P99 CPU_US OTHER_PCT; do
        v=${!m}
        SUM[$target.$m]=$(awk -v a="${SUM[$target.$m]:-0}" -v b="$v" 'BEGIN { print a + b }')
      done
      if [ "$target" = bare ]; then bare_rps=$RPS; else
        ratios+=("$(awk -v l="$RPS" -v b="$bare_rps" 'BEGIN { printf "%.2f", l / b }')")
      fi
    done
  done

  local lb_rss lb_hwm bare_hwm
  lb_rss=$(status_kib "$lb_pid" VmRSS)
  lb_hwm=$(status_kib "$lb_pid" VmHWM)
  bare_hwm=$(status_kib "$bare_pid" VmHWM)
  kill "$lb_pid" "$bare_pid"
  wait "$lb_pid" "$bare_pid" 2>/dev/null || true
  if grep -qiE 'ERROR|WARN' "$dir/serve.err"; then
    say "$name: the server logged warnings or errors:"
    head -n 20 "$dir/serve.err" >&2
  fi

  SUMMARY_ROWS+=("$(awk -v n="$name" -v r="$ROUNDS" -v rounds="${ratios[*]}" \
    -v sb="${SUM[bare.RPS]}" -v sl="${SUM[lightbox.RPS]}" \
    -v b50="${SUM[bare.P50]}" -v b99="${SUM[bare.P99]}" -v l50="${SUM[lightbox.P50]}" -v l99="${SUM[lightbox.P99]}" \
    -v cb="${SUM[bare.CPU_US]}" -v cl="${SUM[lightbox.CPU_US]}" \
    -v ob="${SUM[bare.OTHER_PCT]}" -v ol="${SUM[lightbox.OTHER_PCT]}" 'BEGIN {
      ratio = sl / sb; gsub(/ /, ", ", rounds)
      printf "| %s | %.0f | %.0f | **%.2f** (%s) %s | %.3f / %.3f | %.3f / %.3f | %.1f / %.1f | %.0f%% |",
        n, sb / r, sl / r, ratio, rounds, (ratio >= 0.7 ? "meets >= 0.7" : "BELOW 0.7"),
        b50 / r, b99 / r, l50 / r, l99 / r, cb / r, cl / r, (ob + ol) / (2 * r) }')")
  MEM_ROWS+=("| $name | $(mib "$lb_idle") | $(mib "$lb_rss") | $(mib "$lb_hwm") | $(mib "$bare_idle") | $(mib "$bare_hwm") |")
}

for config in "${CONFIGS[@]}"; do
  run_config "$config"
done

# --- report -------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cat <<EOF
### GET /v1/me: lightbox vs bare axum ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(nproc) cores ($cpu), $(uname -r); wrk and both servers share these cores.
wrk: \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -H 'Authorization: Bearer <token>' http://127.0.0.1:PORT/v1/me\`,
a ${WARMUP} s warm-up before each run; order bare, lightbox per round, $ROUNDS rounds per configuration.
Server log level: LIGHTBOX_LOG=$LB_LOG. Body: $(wc -c <"$WORK/${CONFIGS[0]}/me.json") bytes, the same on both.

| configuration | bare req/s | lightbox req/s | ratio lightbox / bare (per round) | bare p50 / p99 ms | lightbox p50 / p99 ms | server CPU us/req bare / lightbox | other load |
| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${SUMMARY_ROWS[@]}"
cat <<EOF

Means over the rounds; a round's ratio is its lightbox run over the bare run just before it.
"server CPU" is the server process's user+system time per request; "wrk CPU" the same for
wrk; "other load" is the CPU every other process used during the run, in % of the machine
(noise: another build or test run on the same cores; on PostgreSQL it also counts the
database server's own work, which is part of the request there).

Every run:

| configuration | server | round | req/s | p50 ms | p99 ms | server CPU us/req | wrk CPU us/req | other load % |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${RAW_ROWS[@]}"
cat <<EOF

Memory (MiB): lightbox idle is VmRSS after start-up, before any request;
after load is VmRSS and VmHWM (peak) once all runs of the configuration ended.

| configuration | lightbox idle RSS | lightbox RSS after load | lightbox peak (VmHWM) | bare idle RSS | bare peak (VmHWM) |
| --- | ---: | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${MEM_ROWS[@]}"
