#!/usr/bin/env bash
# COUNT files of SIZE_MIB uploaded through the console's upload page in
# Chromium (4 at a time, the page's own way: a ticket each, then the file to
# the processor) vs the same files with curl through the API (a ticket, then
# the file; 4 at a time with xargs -P4), each on a fresh server and data dir,
# alternating A B A B. Reports MB/s of each and the ratio, and the page's JS
# heap (before, peak, after: flat memory means peak ≈ before).
#
#   bench/console-upload.sh               # 200 × 5 MiB, 2 rounds, SQLite + folder store
#   COUNT=50 ROUNDS=1 bench/console-upload.sh
#
# Needs a release build (cargo build --release -p lightbox), curl, Chromium,
# node and the web-quality tools (.ci/run installs them; or set WEB_QUALITY).
# The files are a real JPEG header followed by random bytes (distinct per
# file): the processor checks the head and streams, hashes and stores the
# rest as for any photo; their versions fail fast, on both paths alike.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
COUNT=${COUNT:-200}
SIZE_MIB=${SIZE_MIB:-5}
ROUNDS=${ROUNDS:-2}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/lightbox"
export WEB_QUALITY=${WEB_QUALITY:-$TARGET/tools/web-quality}
[ -x "$BIN" ] || die "build first: cargo build --release -p lightbox"
[ -d "$WEB_QUALITY/node_modules/puppeteer-core" ] || die "no puppeteer-core in $WEB_QUALITY (bash .ci/run installs the web-quality tools)"
WORK=$(mktemp -d /tmp/lightbox-console-upload.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

say "making $COUNT files of $SIZE_MIB MiB"
make_jpeg_files "$WORK/files" "$COUNT" "$SIZE_MIB"
BYTES=$(du -sb "$WORK/files" | awk '{print $1}')
LOGIN=bench@example.com
PASSWORD=bench-console-upload-password-1

# A fresh library and server: sets URL, TOKEN, PID.
fresh() {
  [ -n "$PID" ] && { kill "$PID"; wait "$PID" 2>/dev/null || true; }
  rm -rf "$WORK/data"
  local data="$WORK/data"
  "$BIN" account create --name Bench --unique-id bench --data-dir "$data" >/dev/null
  "$BIN" account api-access bench on --data-dir "$data" >/dev/null
  printf '%s\n' "$PASSWORD" | "$BIN" user create --login "$LOGIN" --name Bench --password-stdin --data-dir "$data" >/dev/null
  "$BIN" user add-to-account "$LOGIN" bench --role admin --data-dir "$data" >/dev/null
  TOKEN=$("$BIN" token create --account bench --name bench --scopes all --data-dir "$data")
  "$BIN" serve --listen 127.0.0.1:0 --data-dir "$data" >"$WORK/serve.out" 2>"$WORK/serve.err" &
  PID=$!
  URL=$(wait_url "$WORK/serve.out" "$PID") || die "the server did not start"
}

upload_one() { # file (env: URL TOKEN)
  local name ticket code
  name=$(basename "$1")
  # The ticket's one field, without starting an interpreter per file.
  ticket=$(curl -sf -X POST "$URL/v1/uploads" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"filename\":\"$name\"}" |
    sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')
  code=$(curl -s -o /dev/null -w '%{http_code}' -F "ticket=$ticket" -F "file=@$1;type=image/jpeg" "$URL/upload")
  [ "$code" = 201 ] || { echo "upload of $name: $code" >&2; exit 1; }
}
export -f upload_one

CURL_RATES=()
PAGE_RATES=()
for round in $(seq 1 "$ROUNDS"); do
  fresh
  say "round $round: curl, 4 at a time"
  t0=$(date +%s.%N)
  find "$WORK/files" -name '*.jpg' -print0 | URL=$URL TOKEN=$TOKEN xargs -0 -P4 -n1 bash -c 'upload_one "$0"'
  t1=$(date +%s.%N)
  rate=$(awk -v b="$BYTES" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f", b / 1e6 / (t1 - t0) }')
  CURL_RATES+=("$rate")
  say "curl: $rate MB/s"

  fresh
  say "round $round: the console in Chromium"
  out=$(node bench/console-upload.cjs "$URL" "$LOGIN" "$PASSWORD" "$WORK"/files/*.jpg)
  secs=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$out")
  rate=$(awk -v b="$BYTES" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
  PAGE_RATES+=("$rate")
  say "console: $rate MB/s, heap $out"
done

python3 - "${CURL_RATES[*]}" "${PAGE_RATES[*]}" "$COUNT" "$SIZE_MIB" <<'PY'
import statistics, sys
curl = [float(x) for x in sys.argv[1].split()]
page = [float(x) for x in sys.argv[2].split()]
print(f"{sys.argv[3]} files x {sys.argv[4]} MiB, 4 at a time")
print(f"curl (API)     MB/s: {' '.join(f'{x:.1f}' for x in curl)}  median {statistics.median(curl):.1f}")
print(f"console page   MB/s: {' '.join(f'{x:.1f}' for x in page)}  median {statistics.median(page):.1f}")
print(f"console / curl: {statistics.median(page) / statistics.median(curl):.2f}x")
PY
