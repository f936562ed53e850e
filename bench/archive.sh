#!/usr/bin/env bash
# A ZIP archive of COUNT × SIZE_MIB images through POST /v1/archives vs
# `zip -0` (Info-ZIP, stored) over the same files, in one run, alternating.
# Reports throughput (input MiB per second of wall time, POST → Operation
# succeeded for ours) and the worker's memory: RSS before the first archive,
# and its peak (VmHWM) after archives of COUNT/5 and COUNT images — flat
# memory means both peaks are about the same.
#
#   bench/archive.sh                      # 1,000 × 5 MiB, 3 rounds, SQLite + folder store
#   COUNT=200 ROUNDS=1 bench/archive.sh
#
# Needs a release build (cargo build --release -p lightbox), zip, curl.
# The files are a real JPEG header followed by random bytes (distinct per
# file): the processor checks the head and stores the original byte for byte,
# which is all an archive of originals reads.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
COUNT=${COUNT:-1000}
SIZE_MIB=${SIZE_MIB:-5}
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/lightbox"
[ -x "$BIN" ] || die "build first: cargo build --release -p lightbox"
command -v zip >/dev/null || die "apt-get install zip"
WORK=$(mktemp -d /tmp/lightbox-archive-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; grep -hE 'ERROR' "$WORK"/*.err >&2 || true; rm -rf "$WORK"; }
trap cleanup EXIT

say "making $COUNT files of $SIZE_MIB MiB"
make_jpeg_files "$WORK/files" "$COUNT" "$SIZE_MIB"
BYTES=$(du -sb "$WORK/files" | awk '{print $1}')

DATA="$WORK/data"
"$BIN" account create --name Bench --unique-id bench --data-dir "$DATA" >/dev/null
"$BIN" account api-access bench on --data-dir "$DATA" >/dev/null
TOKEN=$("$BIN" token create --account bench --name bench --scopes all --data-dir "$DATA")
start() { # role -> url, pid
  "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" --role "$1" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  local pid=$!; PIDS+=("$pid")
  local url; url=$(wait_url "$WORK/$1.out" "$pid") || die "$1 did not start"
  echo "$url $pid"
}
read -r API _ < <(start api)
read -r PROC _ < <(start processor)

say "uploading $COUNT files"
: >"$WORK/ids.txt"
for f in "$WORK"/files/*.jpg; do
  name=$(basename "$f")
  ticket=$(curl -sf -X POST "$API/v1/uploads" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"filename\":\"$name\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["ticket"])')
  code=$(curl -s -o "$WORK/up.json" -w '%{http_code}' -F "ticket=$ticket" -F "file=@$f;type=image/jpeg" "$PROC/upload")
  [ "$code" = 201 ] || die "upload of $name: $code $(cat "$WORK/up.json")"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_public_uuid"])' "$WORK/up.json" >>"$WORK/ids.txt"
done
python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().split()))' "$WORK/ids.txt" >"$WORK/ids.json"

# The worker starts after the uploads: its version jobs (which fail fast on
# these random bodies) run first; then its RSS is read.
read -r _ WORKER_PID < <(start worker)
python3 - "$API" "$TOKEN" <<'PY'
import json, sys, time, urllib.request
api, token = sys.argv[1:]
# Wait until no version job is left (the last image's versions are settled).
for _ in range(600):
    req = urllib.request.Request(f"{api}/v1/images?limit=200", headers={"Authorization": f"Bearer {token}"})
    images = json.load(urllib.request.urlopen(req))
    if all(i.get("versions_error") or all(v["ready"] for v in i["versions"]) for i in images):
        break
    time.sleep(0.5)
PY
sleep 2
RSS0=$(status_kib "$WORKER_PID" VmRSS)

# One archive of the first N images: prints "seconds bytes".
ours() { # n round
  python3 - "$API" "$TOKEN" "$WORK/ids.json" "$1" "$2" <<'PY'
import json, sys, time, urllib.request
api, token, ids_file, n, rnd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ids = json.load(open(ids_file))[:n]
h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": f"archive-{n}-{rnd}"}
t0 = time.monotonic()
req = urllib.request.Request(f"{api}/v1/archives", json.dumps({"image_public_uuids": ids, "filename": f"bench-{rnd}"}).encode(), h)
op = json.load(urllib.request.urlopen(req))
while op["status"] not in ("succeeded", "failed"):
    time.sleep(0.02)
    op = json.load(urllib.request.urlopen(urllib.request.Request(f"{api}/v1/operations/{op['uuid']}", headers={"Authorization": f"Bearer {token}"})))
t = time.monotonic() - t0
if op["status"] != "succeeded":
    sys.exit(f"archive failed: {op}")
print(f"{t:.3f} {op['result']['archive']['bytes']}")
PY
}
theirs() { # round
  rm -f "$WORK/zip-out.zip"
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$WORK/files" && zip -0 -q "$WORK/zip-out.zip" ./*.jpg)
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
rate() { awk -v b="$BYTES" -v t="$1" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }

say "warm-up: archive of $((COUNT / 5)) images (the smaller size for the memory check)"
read -r _ _ < <(ours $((COUNT / 5)) small)
HWM_SMALL=$(status_kib "$WORKER_PID" VmHWM)
rm -f "$DATA"/blobs/archives/*.zip

printf '%-6s %-6s %10s %10s %14s\n' round who seconds MiB/s archive-bytes
TOTAL_OURS=0; TOTAL_ZIP=0
for r in $(seq 1 "$ROUNDS"); do
  t=$(theirs "$r"); zb=$(stat -c %s "$WORK/zip-out.zip")
  printf '%-6s %-6s %10.2f %10s %14s\n' "$r" zip "$t" "$(rate "$t")" "$zb"
  TOTAL_ZIP=$(awk -v a="$TOTAL_ZIP" -v b="$t" 'BEGIN { print a + b }')
  rm -f "$WORK/zip-out.zip"
  read -r t ob < <(ours "$COUNT" "$r")
  printf '%-6s %-6s %10.2f %10s %14s\n' "$r" ours "$t" "$(rate "$t")" "$ob"
  TOTAL_OURS=$(awk -v a="$TOTAL_OURS" -v b="$t" 'BEGIN { print a + b }')
  rm -f "$DATA"/blobs/archives/*.zip
done
HWM=$(status_kib "$WORKER_PID" VmHWM)
echo "input: $COUNT files, $(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB"
echo "throughput ours / zip -0: $(awk -v o="$TOTAL_OURS" -v z="$TOTAL_ZIP" 'BEGIN { printf "%.2f", z / o }')"
echo "worker memory: RSS before $(mib "$RSS0") MiB; peak after $((COUNT / 5)) images $(mib "$HWM_SMALL") MiB; peak after $COUNT images × $ROUNDS $(mib "$HWM") MiB"
