# Helpers shared by the bench scripts (sourced, not run).
# Needs: wrk, curl, /usr/bin/time (Debian package `time`), $WORK, $TOKEN,
# $THREADS, $CONNS set by the caller.

say() { echo "== $*" >&2; }
die() { echo "${0##*/}: $*" >&2; exit 1; }

CLK_TCK=$(getconf CLK_TCK)

# COUNT files of MIB MiB in DIR: a real JPEG header (baseline, 800×600)
# followed by random bytes, distinct per file (no duplicate is refused).
# The processor checks the head and streams, hashes and stores the rest as
# for any photo; their versions fail fast.
make_jpeg_files() { # dir count mib
  mkdir -p "$1"
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
folder, count, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
head = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffc0000b080258032001011100")
block = os.urandom(mib << 20)
for n in range(count):
    with open(os.path.join(folder, f"IMG_{n:05d}.jpg"), "wb") as f:
        f.write(head)
        f.write(n.to_bytes(8, "big"))
        f.write(block[: (mib << 20) - len(head) - 8])
PY
}
NCPU=$(nproc)

# The base URL a server printed as the first line of its stdout.
wait_url() { # file pid
  local i
  for i in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || return 1
    if [ -s "$1" ]; then head -n 1 "$1"; return 0; fi
    sleep 0.05
  done
  return 1
}

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# user + system CPU of a process (all its threads), in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# busy CPU of the whole machine (user nice system irq softirq steal), in clock ticks
machine_busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# wrk latency like 512.00us / 1.23ms / 1.01s, in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# One wrk run against $url/v1/me with the token header; the server's pid
# for its CPU. Sets RPS P50 P99 (ms) REQS, CPU_US (server CPU per request),
# WRK_US (wrk's CPU per request) and OTHER_PCT (CPU used by every other
# process during the run, % of the whole machine: the noise).
RUN_NO=0
run_wrk() { # label url pid seconds
  local out="$WORK/wrk-$RUN_NO-$1.txt" times="$WORK/wrk-$RUN_NO-$1.time" s0 s1 m0 m1
  RUN_NO=$((RUN_NO + 1))
  s0=$(cpu_ticks "$3")
  m0=$(machine_busy)
  /usr/bin/time -f '%U %S' -o "$times" \
    wrk -t"$THREADS" -c"$CONNS" -d"$4s" --latency -H "Authorization: Bearer $TOKEN" "$2/v1/me" >"$out"
  s1=$(cpu_ticks "$3")
  m1=$(machine_busy)
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    cat "$out" >&2
    die "$1: wrk saw errors (see above)"
  fi
  RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  REQS=$(awk '/requests in/ { print $1 }' "$out")
  read -r CPU_US WRK_US OTHER_PCT < <(awk -v s="$((s1 - s0))" -v m="$((m1 - m0))" -v hz="$CLK_TCK" \
    -v n="$REQS" -v secs="$4" -v ncpu="$NCPU" -v w="$(tail -n 1 "$times")" 'BEGIN {
      split(w, t, " "); wrk = (t[1] + t[2]) * hz
      other = (m - s - wrk) / (secs * ncpu * hz) * 100; if (other < 0) other = 0
      printf "%.1f %.1f %.0f\n", s * 1e6 / hz / n, wrk * 1e6 / hz / n, other }')
}
