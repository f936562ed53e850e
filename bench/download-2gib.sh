#!/usr/bin/env bash
# A 2 GiB original downloaded through a signed link (POST /v1/downloads, then
# GET the link) vs curl GETting the same file from nginx (Debian, a static
# file) on loopback, in one run, alternating. Reports throughput and the
# serving process's memory growth (VmHWM after − VmRSS before).
#
#   bench/download-2gib.sh            # 2 GiB, 3 rounds each, SQLite + folder store
#   SIZE_MIB=512 ROUNDS=1 bench/download-2gib.sh
#
# Needs a release build (cargo build --release -p lightbox), nginx, curl.
# The file is a real JPEG header followed by random bytes (stored byte for
# byte as the original).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MIB=${SIZE_MIB:-2048}
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/lightbox"
[ -x "$BIN" ] || die "build first: cargo build --release -p lightbox"
command -v nginx >/dev/null || die "apt-get install nginx-light"
WORK=$(mktemp -d /tmp/lightbox-download-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true; grep -hE 'ERROR|WARN' "$WORK"/*.err >&2 || true; rm -rf "$WORK"; }
trap cleanup EXIT

say "making a ${SIZE_MIB} MiB file"
python3 - "$WORK/big.jpg" "$SIZE_MIB" <<'PY'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
# SOI, JFIF APP0, a baseline SOF0 800x600: enough for sniffing and the pixel check.
head = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffc0000b080258032001011100")
with open(path, "wb") as f:
    f.write(head)
    chunk = os.urandom(8 << 20)
    left = mib * (1 << 20) - len(head)
    while left > 0:
        n = min(left, len(chunk)); f.write(chunk[:n]); left -= n
PY
BYTES=$(stat -c %s "$WORK/big.jpg")

# nginx serves the same bytes as a static file.
mkdir -p "$WORK/www" "$WORK/nginx-tmp"
cp "$WORK/big.jpg" "$WORK/www/big.jpg"
cat >"$WORK/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  # As Debian's default nginx.conf has it: the kernel copies the file.
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $WORK/nginx-tmp;
  server {
    listen 127.0.0.1:18099;
    location / { root $WORK/www; }
  }
}
CONF
nginx -c "$WORK/nginx.conf"

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
read -r API API_PID < <(start api)
read -r PROC _ < <(start processor)

say "uploading the original"
ticket=$(curl -sf -X POST "$API/v1/uploads" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"filename":"big.jpg"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["ticket"])')
curl -sf -o "$WORK/upload.json" -F "ticket=$ticket" -F "file=@$WORK/big.jpg;type=image/jpeg" "$PROC/upload"
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_public_uuid"])' "$WORK/upload.json")
rm -f "$WORK/big.jpg"

ours() {
  local url
  url=$(curl -sf -X POST "$API/v1/downloads" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"image_public_uuid\":\"$ID\",\"version\":\"original\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "$url"
}
theirs() {
  curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "http://127.0.0.1:18099/big.jpg"
}

sleep 1
RSS0=$(status_kib "$API_PID" VmRSS)
printf '%-8s %-6s %10s %10s\n' round who seconds MiB/s
T_OURS=0; T_NGINX=0
for r in $(seq 1 "$ROUNDS"); do
  read -r code t size < <(theirs); [ "$code" = 200 ] && [ "$size" = "$BYTES" ] || die "nginx said $code ($size bytes)"
  printf '%-8s %-6s %10.2f %10.0f\n' "$r" nginx "$t" "$(awk -v b="$BYTES" -v t="$t" 'BEGIN{print b/1048576/t}')"
  T_NGINX=$(awk -v a="$T_NGINX" -v b="$t" 'BEGIN { print a + b }')
  read -r code t size < <(ours); [ "$code" = 200 ] && [ "$size" = "$BYTES" ] || die "ours said $code ($size bytes)"
  printf '%-8s %-6s %10.2f %10.0f\n' "$r" ours "$t" "$(awk -v b="$BYTES" -v t="$t" 'BEGIN{print b/1048576/t}')"
  T_OURS=$(awk -v a="$T_OURS" -v b="$t" 'BEGIN { print a + b }')
done
HWM=$(status_kib "$API_PID" VmHWM)
echo "throughput ours / nginx: $(awk -v o="$T_OURS" -v n="$T_NGINX" 'BEGIN { printf "%.2f", n / o }')"
echo "serving process memory: RSS before $(mib "$RSS0") MiB, peak $(mib "$HWM") MiB, growth $(mib $((HWM - RSS0))) MiB"
