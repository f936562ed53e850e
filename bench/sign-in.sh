#!/usr/bin/env bash
# Sign-in throughput and what a sign-in flood does to other requests, on a
# real `lightbox serve`, loopback only, in one run.
#
# For each configuration (SQLite; PostgreSQL too when
# LIGHTBOX_BENCH_POSTGRES_URL is set) it:
#   1. makes a fresh data dir (and database) with the CLI: account, API on,
#      service token, BENCH_USERS users bench<i>@bench.example with one
#      password (members of the account), and victim@bench.example;
#   2. starts `lightbox serve --trusted-proxy 127.0.0.1` (so X-Forwarded-For
#      from wrk is believed and every request can come from its own client
#      IP) and checks one right and one wrong sign-in. Every run below gets a
#      fresh server on the same data (a run ends with up to its connection
#      count of sign-ins cut off in flight, which must not change the next),
#      and after every run that signs in, PROBE_N right sign-ins at once
#      check the server still lets people in;
#   3. (a) sign-ins/s: right passwords, each request from a new client IP,
#      users round-robin, BENCH_SIGNIN_CONNECTIONS connections flat out for
#      BENCH_DURATION s after a warm-up; counts the 200s, and the 429s
#      ("busy" = the hashing queue was full);
#   4. (b) GET /v1/me latency (service token, BENCH_ME_CONNECTIONS
#      connections), alone and while BENCH_FLOOD_CONNECTIONS connections send
#      wrong-password sign-ins flat out:
#        spread    a new client IP and a new unknown login per attempt: passes
#                  both limits, so every attempt costs a full Argon2id hash;
#        one-ip    all from one client IP: the per-IP limit refuses them
#                  before any hashing;
#        one-login one existing login from ever new IPs: the per-login limit
#                  refuses them before any hashing;
#      each /v1/me run once flat out ("saturating", a closed loop: wrk takes
#      CPU from the server) and once "paced" (each connection waits
#      BENCH_ME_DELAY_MS between requests, like a client at a steady rate).
#      The flood starts BENCH_WARMUP s before /v1/me is measured and ends
#      after it. Target: /v1/me p99 <= BENCH_TARGET_P99_MS during a flood.
# Prints markdown tables on stdout; progress and raw wrk output go to stderr
# and to the work dir. Lua scripts: bench/sign-in/.
#
# Settings (environment):
#   BENCH_DURATION=15 BENCH_WARMUP=3
#   BENCH_USERS=32                  users signing in in (a) (keep it above the connections:
#                                   more than 5 sign-ins of one login in flight trip its limit)
#   BENCH_SIGNIN_CONNECTIONS=16     (a)
#   BENCH_ME_CONNECTIONS=4          (b) /v1/me probe
#   BENCH_ME_DELAY_MS=5             (b) pause per connection in the paced probe
#   BENCH_ME_MODES="saturating paced"
#   BENCH_FLOOD_CONNECTIONS=64      (b) the server queues at most 64 hashes beyond the running ones
#   BENCH_FLOODS="none spread one-ip one-login"
#   BENCH_TARGET_P99_MS=50
#   BENCH_PROBE=8                   right sign-ins at once after each run (should all be 200)
#   BENCH_HASH_CONCURRENCY=N        pass --hash-concurrency N (default: the server's, CPUs - 1, at least 1)
#   BENCH_CONFIGS="sqlite postgres" (postgres needs the URL)
#   BENCH_LIGHTBOX_LOG=warn         LIGHTBOX_LOG for the server under test
#   LIGHTBOX_BENCH_POSTGRES_URL=postgres://user@127.0.0.1:PORT/postgres
#                                   a fresh database bench_<random> is made there and dropped after
#   BENCH_NO_BUILD=1                use the binary already built
#   BENCH_BIN_DIR=DIR               use lightbox from DIR (no build); the shared target dir can be
#                                   rebuilt by someone else between a build and a run
#   BENCH_KEEP=1                    keep the work dir (data, server logs, raw wrk output)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
USERS=${BENCH_USERS:-32}
SIGNIN_CONNS=${BENCH_SIGNIN_CONNECTIONS:-16}
ME_CONNS=${BENCH_ME_CONNECTIONS:-4}
ME_DELAY=${BENCH_ME_DELAY_MS:-5}
FLOOD_CONNS=${BENCH_FLOOD_CONNECTIONS:-64}
TARGET_P99=${BENCH_TARGET_P99_MS:-50}
LB_LOG=${BENCH_LIGHTBOX_LOG:-warn}
PGURL=${LIGHTBOX_BENCH_POSTGRES_URL:-}
read -r -a ME_MODES <<<"${BENCH_ME_MODES:-saturating paced}"
read -r -a FLOODS <<<"${BENCH_FLOODS:-none spread one-ip one-login}"
if [ -n "${BENCH_CONFIGS:-}" ]; then
  read -r -a CONFIGS <<<"$BENCH_CONFIGS"
elif [ -n "$PGURL" ]; then
  CONFIGS=(sqlite postgres)
else
  CONFIGS=(sqlite)
fi
PASSWORD='tangerine-bicycle-Orbit-42'
LUA_DIR="$PWD/bench/sign-in"

. bench/lib.sh
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
[ -r "$LUA_DIR/sign-in.lua" ] && [ -r "$LUA_DIR/paced.lua" ] || die "missing $LUA_DIR/*.lua"
[ "$USERS" -ge 1 ] || die "BENCH_USERS must be at least 1"
for m in "${ME_MODES[@]}"; do
  case $m in saturating | paced) ;; *) die "unknown /v1/me mode $m" ;; esac
done
for f in "${FLOODS[@]}"; do
  case $f in none | spread | one-ip | one-login) ;; *) die "unknown flood $f" ;; esac
done

if [ -n "${BENCH_HASH_CONCURRENCY:-}" ]; then
  HASH_CONC=$BENCH_HASH_CONCURRENCY
  HASH_ARGS=(--hash-concurrency "$HASH_CONC")
else
  # What the server picks: CPUs - 1, at least 1.
  HASH_CONC=$((NCPU > 1 ? NCPU - 1 : 1))
  HASH_ARGS=()
fi

if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_BIN_DIR:-}" ]; then
  say "building the release binary"
  cargo build --release -q -p lightbox --bin lightbox >&2
fi
LB="${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release}/lightbox"
[ -x "$LB" ] || die "missing $LB"

WORK=$(mktemp -d /tmp/lightbox-signin.XXXXXX)
# A private copy: the shared target dir may be rebuilt during the run.
mkdir "$WORK/bin"
cp "$LB" "$WORK/bin/"
LB="$WORK/bin/lightbox"
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
# Once a process has been waited for its pid may be reused: stop tracking it.
forget_pid() {
  local p keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
trap 'exit 130' INT TERM

# One distinct /16 per wrk run, so no run meets another's per-IP state.
NET_NO=0
next_net() { NET_NO=$((NET_NO + 1)); NET="10.$NET_NO"; }

# Status counts a sign-in.lua run printed: sets C200 C401 C429IP C429LOGIN
# C429BUSY C429OTHER COTHER, and ERRS (wrk's socket errors: connect, read,
# write, timeout), SECS (the run's real length).
read_counts() { # wrk-output
  local n var
  for n in c200 c401 c429ip c429login c429busy c429other cother; do
    var=${n^^}
    printf -v "$var" '%s' "$(awk -v k="$n" '$1 == "STATUS" && $2 == k { print $3 }' "$1")"
    [ -n "${!var}" ] || die "no STATUS lines in $1 (did the lua script fail?)"
  done
  ERRS=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$1")
  ERRS=${ERRS:-0}
  SECS=$(awk '/ requests in / { v = $4; sub(/,$/, "", v); print v + 0 }' "$1")
}

# A fresh server on the configuration's data for every run: a run that ends
# with sign-ins in flight (wrk closes its connections) must not change the
# next one. Sets SPID SURL SLOG.
SERVER_NO=0
start_server() { # name storage-args...
  local name=$1
  shift
  SERVER_NO=$((SERVER_NO + 1))
  SLOG="$WORK/$name/serve-$SERVER_NO"
  LIGHTBOX_LOG=$LB_LOG "$LB" serve --listen 127.0.0.1:0 --trusted-proxy 127.0.0.1 "${HASH_ARGS[@]}" "$@" \
    >"$SLOG.out" 2>"$SLOG.err" &
  SPID=$!
  PIDS+=("$SPID")
  SURL=$(wait_url "$SLOG.out" "$SPID") || { cat "$SLOG.err" >&2; die "$name: lightbox did not start"; }
  curl -fsS -o /dev/null "$SURL/healthz" || die "$name: $SURL/healthz failed"
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$SURL/v1/me" || die "$name: GET /v1/me failed"
}

# Stops the run's server; sets PEAK_MIB (its VmHWM) and keeps its WARN/ERROR lines.
stop_server() { # name tag
  kill -0 "$SPID" 2>/dev/null || { cat "$SLOG.err" >&2; die "$1: the server died during $2"; }
  PEAK_MIB=$(mib "$(status_kib "$SPID" VmHWM)")
  kill "$SPID"
  wait "$SPID" 2>/dev/null || true
  forget_pid "$SPID"
  grep -E 'ERROR|WARN' "$SLOG.err" | sed "s/^/[$2] /" >>"$WORK/$1/problems.log" || true
}

# After a run: PROBE_N right sign-ins at once, from fresh addresses. Every
# one should succeed: the hashing queue is empty again. Sets PROBE.
PROBE_N=${BENCH_PROBE:-8}
PROBE_NO=0
probe() { # name url
  local dir i ok=0 busy=0 other=0 pids=()
  sleep 1
  PROBE_NO=$((PROBE_NO + 1))
  dir="$WORK/$1/probe-$PROBE_NO"
  mkdir -p "$dir"
  for i in $(seq 0 $((PROBE_N - 1))); do
    curl -sS -o "$dir/$i.json" -w '%{http_code}' -H 'Content-Type: application/json' \
      -H "X-Forwarded-For: 198.18.$((PROBE_NO % 256)).$((i % 256))" "$2/v1/auth/sign_in" \
      --data "{\"login\":\"bench$((i % USERS))@bench.example\",\"password\":\"$PASSWORD\",\"device\":{\"name\":\"probe\",\"platform\":\"linux\"}}" \
      >"$dir/$i.code" 2>/dev/null &
    pids+=("$!")
  done
  wait "${pids[@]}" || true
  for i in $(seq 0 $((PROBE_N - 1))); do
    if [ "$(cat "$dir/$i.code")" = 200 ]; then
      ok=$((ok + 1))
    elif grep -q '"detail":"busy"' "$dir/$i.json" 2>/dev/null; then
      busy=$((busy + 1))
    else
      other=$((other + 1))
    fi
  done
  if [ "$ok" = "$PROBE_N" ]; then PROBE="$ok ok"; else PROBE="**$ok ok, $busy busy, $other other**"; fi
}

# (a) Right passwords flat out. Sets SIGNIN_* for the summary.
run_signins() { # name storage-args...
  local name=$1
  shift
  local out="$WORK/$name-signin.txt" times="$WORK/$name-signin.time" s0 s1 m0 m1
  start_server "$name" "$@"
  next_net
  say "$name: (a) warm-up ${WARMUP}s"
  SIGNIN_MODE=ok SIGNIN_USERS=$USERS SIGNIN_PASSWORD=$PASSWORD SIGNIN_NET=$NET \
    wrk -t1 -c"$SIGNIN_CONNS" -d"${WARMUP}s" --timeout 10s -s "$LUA_DIR/sign-in.lua" \
    "$SURL/v1/auth/sign_in" >"$WORK/$name-signin-warmup.txt"
  next_net
  say "$name: (a) right passwords, $SIGNIN_CONNS connections, ${DURATION}s"
  s0=$(cpu_ticks "$SPID")
  m0=$(machine_busy)
  SIGNIN_MODE=ok SIGNIN_USERS=$USERS SIGNIN_PASSWORD=$PASSWORD SIGNIN_NET=$NET \
    /usr/bin/time -f '%U %S' -o "$times" \
    wrk -t1 -c"$SIGNIN_CONNS" -d"${DURATION}s" --timeout 10s --latency -s "$LUA_DIR/sign-in.lua" \
    "$SURL/v1/auth/sign_in" >"$out"
  s1=$(cpu_ticks "$SPID")
  m1=$(machine_busy)
  cat "$out" >&2
  read_counts "$out"
  [ "$C200" -gt 0 ] || die "$name: no sign-in succeeded (see $out)"
  read -r SIGNIN_RATE SIGNIN_PER_CORE SIGNIN_CPU_MS SIGNIN_SERVER_PCT SIGNIN_OTHER < <(awk \
    -v ok="$C200" -v secs="$SECS" -v conc="$HASH_CONC" -v s="$((s1 - s0))" -v m="$((m1 - m0))" \
    -v hz="$CLK_TCK" -v ncpu="$NCPU" -v w="$(tail -n 1 "$times")" -v d="$DURATION" 'BEGIN {
      split(w, t, " "); wrk = (t[1] + t[2]) * hz
      other = (m - s - wrk) / (d * ncpu * hz) * 100; if (other < 0) other = 0
      printf "%.1f %.1f %.1f %.0f %.0f\n", ok / secs, ok / secs / conc, s * 1000 / hz / ok,
        s / (d * hz) * 100, other }')
  SIGNIN_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  SIGNIN_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  probe "$name" "$SURL"
  stop_server "$name" signins
  local rest=$((C401 + C429IP + C429LOGIN + C429OTHER + COTHER))
  SIGNIN_ROWS+=("| $name | $C200 | $SECS | **$SIGNIN_RATE** | $HASH_CONC | **$SIGNIN_PER_CORE** | $C429BUSY | $rest | $ERRS | $SIGNIN_P50 / $SIGNIN_P99 | $SIGNIN_CPU_MS | $SIGNIN_SERVER_PCT | $PEAK_MIB | $PROBE | $SIGNIN_OTHER |")
  say "$name: (a) $C200 sign-ins in ${SECS}s = $SIGNIN_RATE/s, $SIGNIN_PER_CORE/s per hashing thread;" \
    "429 busy $C429BUSY, other non-200 $rest (401 $C401, 429 ip $C429IP, 429 login $C429LOGIN), socket errors $ERRS;" \
    "server CPU $SIGNIN_CPU_MS ms per sign-in; peak $PEAK_MIB MiB; probe after: $PROBE; other load $SIGNIN_OTHER%"
}

# (b) One /v1/me measurement, with a flood running or not.
run_me() { # name flood mode storage-args...
  local name=$1 flood=$2 mode=$3
  shift 3
  local tag="$name-$flood-$mode" out times s0 s1 m0 m1 f0=0 f1=0 fpid="" fout
  out="$WORK/$tag-me.txt" times="$WORK/$tag-me.time" fout="$WORK/$tag-flood.txt"
  start_server "$name" "$@"
  local url=$SURL pid=$SPID
  if [ "$flood" != none ]; then
    next_net
    SIGNIN_MODE=$flood SIGNIN_NET=$NET SIGNIN_IP=203.0.113.7 SIGNIN_LOGIN=victim@bench.example \
      wrk -t1 -c"$FLOOD_CONNS" -d"$((WARMUP + DURATION + 2))s" --timeout 30s -s "$LUA_DIR/sign-in.lua" \
      "$url/v1/auth/sign_in" >"$fout" 2>&1 &
    fpid=$!
    PIDS+=("$fpid")
    sleep "$WARMUP"
    kill -0 "$fpid" 2>/dev/null || { cat "$fout" >&2; die "$tag: the flood (wrk) did not run"; }
  else
    # Warm-up: as long as a flood's head start.
    wrk -t1 -c"$ME_CONNS" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$url/v1/me" >/dev/null
  fi
  local script=()
  if [ "$mode" = paced ]; then script=(-s "$LUA_DIR/paced.lua"); fi
  say "$tag: /v1/me $mode, $ME_CONNS connections, ${DURATION}s, flood: $flood"
  s0=$(cpu_ticks "$pid")
  m0=$(machine_busy)
  if [ -n "$fpid" ]; then f0=$(cpu_ticks "$fpid"); fi
  ME_DELAY_MS=$ME_DELAY /usr/bin/time -f '%U %S' -o "$times" \
    wrk -t1 -c"$ME_CONNS" -d"${DURATION}s" --timeout 30s --latency "${script[@]}" \
    -H "Authorization: Bearer $TOKEN" "$url/v1/me" >"$out"
  s1=$(cpu_ticks "$pid")
  m1=$(machine_busy)
  if [ -n "$fpid" ]; then
    f1=$(cpu_ticks "$fpid" 2>/dev/null || echo "$f0")
    wait "$fpid" || { cat "$fout" >&2; die "$tag: the flood (wrk) failed"; }
    forget_pid "$fpid"
  fi
  local errs non2xx rps p50 p99 max srv other
  errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
  errs=${errs:-0}
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$out")
  non2xx=${non2xx:-0}
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  max=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 { print $4; exit }' "$out")")
  read -r srv other < <(awk -v s="$((s1 - s0))" -v m="$((m1 - m0))" -v f="$((f1 - f0))" \
    -v hz="$CLK_TCK" -v ncpu="$NCPU" -v w="$(tail -n 1 "$times")" -v d="$DURATION" 'BEGIN {
      split(w, t, " "); wrk = (t[1] + t[2]) * hz
      other = (m - s - wrk - f) / (d * ncpu * hz) * 100; if (other < 0) other = 0
      printf "%.0f %.0f\n", s / (d * hz) * 100, other }')
  local verdict="-" frate="-" fcounts="-" ferrs="-"
  PROBE="-"
  if [ "$flood" != none ]; then
    verdict=$(awk -v p="$p99" -v t="$TARGET_P99" 'BEGIN { print (p <= t ? "meets" : "**ABOVE**") }')
    read_counts "$fout"
    frate=$(awk -v n="$((C200 + C401 + C429IP + C429LOGIN + C429BUSY + C429OTHER + COTHER))" -v s="$SECS" \
      'BEGIN { printf "%.0f", n / s }')
    fcounts="$C401 / $C429IP / $C429LOGIN / $C429BUSY / $((C200 + C429OTHER + COTHER))"
    ferrs=$ERRS
    probe "$name" "$url"
  fi
  stop_server "$name" "$flood-$mode"
  ME_ROWS+=("| $name | $flood | $mode | $rps | $p50 | **$p99** | $max | $verdict | $errs / $non2xx | $frate | $fcounts | $ferrs | $srv | $PEAK_MIB | $PROBE | $other |")
  say "$tag: /v1/me $rps req/s, p50 $p50 ms, p99 $p99 ms, max $max ms ($verdict); errors $errs, non-2xx $non2xx;" \
    "flood $frate attempts/s (401 / 429 ip / 429 login / 429 busy / other: $fcounts), flood socket errors $ferrs;" \
    "server CPU $srv%; peak $PEAK_MIB MiB; probe after: $PROBE; other load $other%"
  if [ "$errs" != 0 ] || [ "$non2xx" != 0 ]; then
    say "$tag: /v1/me saw errors:"
    cat "$out" >&2
  fi
}

SIGNIN_ROWS=()
ME_ROWS=()
LOG_NOTES=()

run_config() { # name
  local name=$1 engine=sqlite storage dir db url
  case $name in
    sqlite) ;;
    postgres) engine=postgres ;;
    *) die "unknown configuration $name" ;;
  esac
  dir="$WORK/$name"
  mkdir -p "$dir"
  storage=(--data-dir "$dir/data")
  if [ "$engine" = postgres ]; then
    [ -n "$PGURL" ] || die "$name needs LIGHTBOX_BENCH_POSTGRES_URL"
    command -v psql >/dev/null || die "psql is not installed"
    db="bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql "$PGURL" -v ON_ERROR_STOP=1 -qAt -c "CREATE DATABASE $db" >/dev/null ||
      die "$name: cannot create a database at $PGURL"
    PGDBS+=("$db")
    local base=${PGURL%%\?*} query=""
    [ "$base" != "$PGURL" ] && query="?${PGURL#*\?}"
    url="${base%/*}/$db$query"
    storage+=(--database-url "$url")
  fi

  say "$name: account, API switch, token, $USERS users + victim@bench.example"
  local cli_err="$dir/cli.err" i login
  {
    "$LB" account create --name Bench --unique-id bench "${storage[@]}" >/dev/null
    "$LB" account api-access bench on "${storage[@]}" >/dev/null
    TOKEN=$("$LB" token create --account bench --name bench --scopes all "${storage[@]}")
    for i in $(seq 0 $((USERS - 1))) victim; do
      login="bench$i@bench.example"
      [ "$i" = victim ] && login=victim@bench.example
      echo "$PASSWORD" | "$LB" user create --login "$login" --name "Bench $i" --password-stdin "${storage[@]}" >/dev/null
      "$LB" user add-to-account "$login" bench --role user "${storage[@]}" >/dev/null
    done
  } 2>"$cli_err" || { cat "$cli_err" >&2; die "$name: setting up the data failed"; }
  : >"$dir/problems.log"

  # One right and one wrong sign-in, from an address no run uses.
  start_server "$name" "${storage[@]}"
  local code
  code=$(curl -sS -o "$dir/check-ok.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 198.51.100.1' "$SURL/v1/auth/sign_in" \
    --data "{\"login\":\"bench0@bench.example\",\"password\":\"$PASSWORD\",\"device\":{\"name\":\"bench\",\"platform\":\"linux\"}}")
  [ "$code" = 200 ] && grep -q '"refresh_token"' "$dir/check-ok.json" ||
    { cat "$dir/check-ok.json" >&2; echo >&2; die "$name: a right sign-in answered $code, not 200 with a refresh_token"; }
  code=$(curl -sS -o "$dir/check-wrong.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 198.51.100.1' "$SURL/v1/auth/sign_in" \
    --data '{"login":"bench0@bench.example","password":"wrong-password-1","device":{"name":"bench","platform":"linux"}}')
  [ "$code" = 401 ] || { cat "$dir/check-wrong.json" >&2; echo >&2; die "$name: a wrong sign-in answered $code, not 401"; }
  IDLE_MIB=$(mib "$(status_kib "$SPID" VmRSS)")
  stop_server "$name" checks

  run_signins "$name" "${storage[@]}"
  local flood mode
  for flood in "${FLOODS[@]}"; do
    for mode in "${ME_MODES[@]}"; do
      run_me "$name" "$flood" "$mode" "${storage[@]}"
    done
  done

  if [ -s "$dir/problems.log" ]; then
    say "$name: the servers logged warnings or errors (first 20 lines):"
    head -n 20 "$dir/problems.log" >&2
    LOG_NOTES+=("$name: the server logs have $(grep -c 'ERROR' "$dir/problems.log") ERROR and $(grep -c 'WARN' "$dir/problems.log") WARN lines, e.g. \`$(head -n 1 "$dir/problems.log" | cut -c1-200)\`")
  else
    LOG_NOTES+=("$name: no WARN or ERROR line in the server logs.")
  fi
  LOG_NOTES+=("$name: idle server $IDLE_MIB MiB RSS after start-up and two sign-ins.")
}

for config in "${CONFIGS[@]}"; do
  run_config "$config"
done

# --- report -------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cat <<EOF
### Sign-in throughput and /v1/me under a sign-in flood ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $NCPU cores ($cpu), $(uname -r); wrk and the server share these cores.
Server: \`lightbox serve --trusted-proxy 127.0.0.1 ${HASH_ARGS[*]}\` (hash concurrency $HASH_CONC), LIGHTBOX_LOG=$LB_LOG;
Argon2id m=19 MiB t=2 p=1 (\`cargo bench -p lightbox-auth --bench argon2\` times one hash alone).

**(a) Sign-ins per second:** \`wrk -t1 -c$SIGNIN_CONNS -d${DURATION}s --latency -s bench/sign-in/sign-in.lua\`
(SIGNIN_MODE=ok: right passwords of $USERS users round-robin, a new X-Forwarded-For per request), after a ${WARMUP} s warm-up.
"per hashing thread" is sign-ins/s over the hash concurrency (the cores the server may hash on).

| configuration | sign-ins (200) | seconds | **sign-ins/s** | hash concurrency | **per hashing thread** | 429 busy | other non-200 | socket errors | sign-in p50 / p99 ms | server CPU ms per sign-in | server CPU % | server peak MiB | sign-in probe after | other load % |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |
EOF
printf '%s\n' "${SIGNIN_ROWS[@]}"
cat <<EOF

**(b) GET /v1/me during a sign-in flood:** \`wrk -t1 -c$ME_CONNS -d${DURATION}s --latency -H 'Authorization: Bearer <service token>'\`
("paced": each connection waits ${ME_DELAY} ms between requests, \`-s bench/sign-in/paced.lua\`), while
\`wrk -t1 -c$FLOOD_CONNS -s bench/sign-in/sign-in.lua\` sends wrong-password sign-ins flat out, starting ${WARMUP} s before
and ending 2 s after: *spread* = a new client IP and unknown login each attempt (all hashed),
*one-ip* = all from one IP, *one-login* = one existing login from new IPs (both refused by a limiter before hashing).
Target: p99 ≤ ${TARGET_P99} ms during a flood. Flood answers are counted over the whole flood.

| configuration | flood | /v1/me | req/s | p50 ms | **p99 ms** | max ms | p99 ≤ ${TARGET_P99} ms | /v1/me errors / non-2xx | flood attempts/s | flood 401 / 429 ip / 429 login / 429 busy / other | flood socket errors | server CPU % | server peak MiB | sign-in probe after | other load % |
| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |
EOF
printf '%s\n' "${ME_ROWS[@]}"
cat <<EOF

Every run has a fresh server on the same data. "server CPU" is the server process's user+system
time over the measured window, in % of one core; "server peak" its VmHWM at the end of the run;
"sign-in probe after": $PROBE_N right sign-ins at once, 1 s after the run ended (all should be ok);
"other load" the CPU every process other than the server and the wrk processes used, in % of the
machine (noise: above a few % the run is worthless).

EOF
printf -- '- %s\n' "${LOG_NOTES[@]}"
