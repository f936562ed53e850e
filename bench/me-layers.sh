#!/usr/bin/env bash
# Where the time of GET /v1/me goes: the real handler behind subsets of the
# real layers (crates/lightbox/examples/me_layers.rs), next to bare axum and
# the real `lightbox serve`, all on one fresh SQLite data dir, measured with
# identical wrk settings, round-robin, in one run. Loopback only.
#
# Settings (environment): BENCH_THREADS=1 BENCH_CONNECTIONS=32
#   BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_ROUNDS=2 BENCH_NO_BUILD=1 BENCH_KEEP=1
#   BENCH_BIN_DIR=DIR (lightbox, bare_axum, me_layers from DIR; no build)
#   BENCH_TARGETS="bare handler ..." (default: all, in the order below)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-2}

# name | what runs it
declare -A STACK=(
  [handler]="caller"
  [handler+observe]="caller,observe"
  [handler+etag]="caller,etag"
  [authorize]="authorize"
  [authorize+etag]="authorize,etag"
  [v1-stack]="authorize,observe"
  [app]="app"
)
ALL_TARGETS=(bare handler handler+observe handler+etag authorize authorize+etag v1-stack app serve serve-log-off)
if [ -n "${BENCH_TARGETS:-}" ]; then read -r -a TARGETS <<<"$BENCH_TARGETS"; else TARGETS=("${ALL_TARGETS[@]}"); fi
declare -A WHAT=(
  [bare]="bare_axum: fixed bytes, no Lightbox code"
  [handler]="get_me alone (principal checked once at start-up)"
  [handler+observe]="get_me + observe (request id, task-local, 2 metrics)"
  [handler+etag]="get_me + etag (buffer body, SHA-256, hex)"
  [authorize]="get_me + authorize (credential check; ETag too since 7f75d4d)"
  [authorize+etag]="get_me + authorize + the separate etag layer"
  [v1-stack]="get_me + authorize + observe (the /v1 stack since 7f75d4d)"
  [app]="lightbox_api::app as built by serve (no workers, no log subscriber)"
  [serve]="lightbox serve, LIGHTBOX_LOG=warn (job workers, housekeeping)"
  [serve-log-off]="lightbox serve, LIGHTBOX_LOG=off"
)

. bench/lib.sh
command -v wrk >/dev/null || die "wrk is not installed"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_BIN_DIR:-}" ]; then
  say "building release binaries"
  cargo build --release -q -p lightbox --bin lightbox --example bare_axum --example me_layers >&2
fi
LB="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release}/lightbox"
BARE="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release/examples}/bare_axum"
LAYERS="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release/examples}/me_layers"

WORK=$(mktemp -d /tmp/lightbox-layers.XXXXXX)
# Private copies: the shared target dir may be rebuilt during the run.
mkdir "$WORK/bin"
cp "$LB" "$BARE" "$LAYERS" "$WORK/bin/"
LB="$WORK/bin/lightbox" BARE="$WORK/bin/bare_axum" LAYERS="$WORK/bin/me_layers"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
D="$WORK/data"
say "fresh SQLite data dir: account, API switch, token"
"$LB" account create --name Bench --unique-id bench --data-dir "$D" >/dev/null 2>"$WORK/cli.err"
"$LB" account api-access bench on --data-dir "$D" >/dev/null 2>>"$WORK/cli.err"
TOKEN=$("$LB" token create --account bench --name bench --scopes all --data-dir "$D" 2>>"$WORK/cli.err")

declare -A URL PID
start() { # name command...
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID[$name]=$!
  PIDS+=("$!")
  URL[$name]=$(wait_url "$WORK/$name.out" "$!") || { cat "$WORK/$name.err" >&2; die "$name did not start"; }
}

# The body every Lightbox target answers, after the first last-use flush.
LIGHTBOX_LOG=warn start serve "$LB" serve --listen 127.0.0.1:0 --data-dir "$D"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "${URL[serve]}/v1/me"
say "waiting 11 s for the last-use flush"
sleep 11
curl -fsS -o "$WORK/me.json" -H "Authorization: Bearer $TOKEN" "${URL[serve]}/v1/me"

for t in "${TARGETS[@]}"; do
  case $t in
    serve) ;;
    bare) start bare "$BARE" 127.0.0.1:0 "$WORK/me.json" ;;
    serve-log-off) LIGHTBOX_LOG=off start "$t" "$LB" serve --listen 127.0.0.1:0 --data-dir "$D" ;;
    *) [ -n "${STACK[$t]:-}" ] || die "unknown target $t"
       start "$t" "$LAYERS" 127.0.0.1:0 "$D" "$TOKEN" "${STACK[$t]}" ;;
  esac
  got=$(curl -fsS -H "Authorization: Bearer $TOKEN" "${URL[$t]}/v1/me" | wc -c)
  [ "$got" = "$(wc -c <"$WORK/me.json")" ] || say "note: $t answers $got bytes, not $(wc -c <"$WORK/me.json")"
done
sleep 1

declare -A SUM=()
ROWS=()
for round in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    run_wrk "$t-warmup" "${URL[$t]}" "${PID[$t]}" "$WARMUP"
    run_wrk "$t" "${URL[$t]}" "${PID[$t]}" "$DURATION"
    say "round $round, $t: $RPS req/s, p50 $P50 ms, p99 $P99 ms, CPU/req server $CPU_US us, wrk $WRK_US us; other load ${OTHER_PCT}%"
    for m in RPS P50 P99 CPU_US OTHER_PCT; do
      SUM[$t.$m]=$(awk -v a="${SUM[$t.$m]:-0}" -v b="${!m}" 'BEGIN { print a + b }')
    done
    ROWS+=("| $t | $round | $RPS | $P50 | $P99 | $CPU_US | $WRK_US | $OTHER_PCT |")
  done
done

base="${SUM[bare.RPS]:-}"
cat <<EOF
### GET /v1/me, layer by layer ($(date -u +%Y-%m-%dT%H:%MZ))

$(nproc) cores, wrk and the servers on the same cores; \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\`,
${WARMUP} s warm-up before each run, targets round-robin, $ROUNDS rounds; means over the rounds.
Body $(wc -c <"$WORK/me.json") bytes. "vs bare" is req/s over bare's req/s in the same run.

| target | what | req/s | vs bare | p50 ms | p99 ms | server CPU us/req | other load % |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
for t in "${TARGETS[@]}"; do
  awk -v t="$t" -v w="${WHAT[$t]}" -v r="$ROUNDS" -v s="${SUM[$t.RPS]}" -v b="${base:-0}" \
    -v p50="${SUM[$t.P50]}" -v p99="${SUM[$t.P99]}" -v c="${SUM[$t.CPU_US]}" -v o="${SUM[$t.OTHER_PCT]}" 'BEGIN {
    printf "| %s | %s | %.0f | %s | %.3f | %.3f | %.1f | %.0f |\n", t, w, s / r,
      (b > 0 ? sprintf("%.2f", s / b) : "-"), p50 / r, p99 / r, c / r, o / r }'
done
cat <<EOF

Every run:

| target | round | req/s | p50 ms | p99 ms | server CPU us/req | wrk CPU us/req | other load % |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${ROWS[@]}"
