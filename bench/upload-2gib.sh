#!/usr/bin/env bash
# A 2 GiB upload through the image processor vs curl PUTting the same file to
# nginx (Debian; WebDAV PUT writes the body to disk) on loopback, in one run,
# alternating. Reports throughput and the processor's memory growth (VmHWM
# after − VmRSS before).
#
#   bench/upload-2gib.sh            # 2 GiB, 3 rounds each, SQLite + folder store
#   SIZE_MIB=512 ROUNDS=1 bench/upload-2gib.sh
#
# Needs a release build (cargo build --release -p lightbox), nginx, curl.
# The file is a real JPEG header followed by random bytes: the processor
# sniffs and checks the head, then streams and hashes the rest like any photo.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MIB=${SIZE_MIB:-2048}
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/lightbox"
[ -x "$BIN" ] || die "build first: cargo build --release -p lightbox"
command -v nginx >/dev/null || die "apt-get install nginx-light"
WORK=$(mktemp -d /tmp/lightbox-upload-bench.XXXXXX)
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

# nginx: PUT stores the body as a file (through its temp dir, like our tmp/).
mkdir -p "$WORK/www" "$WORK/nginx-tmp"
cat >"$WORK/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-tmp;
  server {
    listen 127.0.0.1:18099;
    location / { root $WORK/www; dav_methods PUT; client_max_body_size 0; create_full_put_path on; }
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
read -r API _ < <(start api)
read -r PROC PROC_PID < <(start processor)

ours() {
  local ticket
  ticket=$(curl -sf -X POST "$API/v1/uploads" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"filename\":\"big-$1.jpg\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["ticket"])')
  curl -s -o "$WORK/ours-$1.json" -w '%{http_code} %{time_total}\n' \
    -F "ticket=$ticket" -F "file=@$WORK/big.jpg;type=image/jpeg" "$PROC/upload"
}
theirs() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -T "$WORK/big.jpg" "http://127.0.0.1:18099/big-$1.jpg"
}

RSS0=$(status_kib "$PROC_PID" VmRSS)
printf '%-8s %-6s %10s %10s\n' round who seconds MiB/s
for r in $(seq 1 "$ROUNDS"); do
  read -r code t < <(theirs "$r"); [ "$code" = 201 ] || [ "$code" = 204 ] || die "nginx said $code"
  printf '%-8s %-6s %10.2f %10.0f\n' "$r" nginx "$t" "$(awk -v b="$BYTES" -v t="$t" 'BEGIN{print b/1048576/t}')"
  rm -f "$WORK/www/big-$r.jpg"
  # Each round's file must be new to the account (else: a duplicate, answered
  # after the stream without a second copy): change one byte past the head.
  printf "\\x$(printf %02x "$r")" | dd of="$WORK/big.jpg" bs=1 seek=4096 conv=notrunc status=none
  read -r code t < <(ours "$r"); [ "$code" = 201 ] || die "processor said $code: $(cat "$WORK/ours-$r.json")"
  printf '%-8s %-6s %10.2f %10.0f\n' "$r" ours "$t" "$(awk -v b="$BYTES" -v t="$t" 'BEGIN{print b/1048576/t}')"
  # Delete it again (its original goes after the commit): the disk holds one copy at a time.
  id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_public_uuid"])' "$WORK/ours-$r.json")
  curl -sf -o /dev/null -X DELETE "$API/v1/images/$id" -H "Authorization: Bearer $TOKEN" -H "Idempotency-Key: del-$r"
done
HWM=$(status_kib "$PROC_PID" VmHWM)
echo "processor memory: RSS before $(mib "$RSS0") MiB, peak $(mib "$HWM") MiB, growth $(mib $((HWM - RSS0))) MiB"
