#!/usr/bin/env bash
# A website's set page (first page of a 10,000-image set) and an image page,
# served by `lightbox` (release build, the embedded SQLite default), against
# nginx (Debian's) serving the same HTML bytes from disk: wrk on loopback,
# nginx then lightbox per page, in one run (issue 17's measure).
#
#   1. `lightbox demo` on a fresh data dir (a public website `festival`);
#   2. a set "Ten thousand" under the website's root, filled in the database
#      with 10,000 copies of a demo photograph (new ids, the same versions);
#   3. the two pages fetched once, written for nginx;
#   4. wrk -t$THREADS -c$CONNS for $DURATION s per server and page, after a
#      warm-up; lightbox's memory (RSS now and peak) after the load.
# Prints a markdown table on stdout; raw wrk output stays in the work dir.
#
# Settings (environment): BENCH_THREADS=2 BENCH_CONNECTIONS=64
#   BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_IMAGES=10000
#   BENCH_NO_BUILD=1 (use the release binary already built) BENCH_KEEP=1
# Needs: wrk, nginx (Debian: nginx-light), sqlite3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
IMAGES=${BENCH_IMAGES:-10000}
. bench/lib.sh

for tool in wrk nginx sqlite3 curl; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || die "needs $tool"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "building lightbox (release)"
  cargo build --release -q -p lightbox
fi
BIN="$CARGO_TARGET_DIR/release/lightbox"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lightbox-bench-website.XXXXXX")
LB_PID=""; NG_PID=""
cleanup() {
  [ -n "$LB_PID" ] && kill "$LB_PID" 2>/dev/null || true
  [ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] && echo "work dir kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "lightbox demo on a fresh data dir"
LB_PORT=$(free_port)
(cd "$WORK" && LIGHTBOX_LOG=warn exec "$BIN" demo --listen "127.0.0.1:$LB_PORT" >"$WORK/demo.out" 2>"$WORK/demo.err") &
LB_PID=$!
URL=$(wait_url "$WORK/demo.out" "$LB_PID") || { cat "$WORK/demo.err" >&2; die "lightbox did not start"; }
for _ in $(seq 1 100); do [ "$(wc -l <"$WORK/demo.out")" -ge 2 ] && break; sleep 0.1; done
TOKEN=$(sed -n 2p "$WORK/demo.out")
DB="$WORK/lightbox-demo/lightbox.db"
sql() { sqlite3 -cmd ".timeout 10000" "$DB" "$@"; }

ROOT=$(sql "SELECT root_set_id FROM websites WHERE slug = 'festival'")
[ -n "$ROOT" ] || die "the demo has no website 'festival'"
# A photograph whose four versions are made (the demo renders them at start).
SOURCE=""
for _ in $(seq 1 300); do
  SOURCE=$(sql "SELECT image_id FROM image_versions GROUP BY image_id HAVING COUNT(*) >= 4 LIMIT 1")
  [ -n "$SOURCE" ] && break
  sleep 0.1
done
[ -n "$SOURCE" ] || die "no demo photograph got its versions"

say "a set of $IMAGES images under the website's root"
BIG=$(curl -sf -X POST "$URL/v1/sets" -H "Authorization: Bearer $TOKEN" \
  -H "Idempotency-Key: bench-$RANDOM-$RANDOM" -H 'Content-Type: application/json' \
  -d "{\"name\":\"Ten thousand\",\"parent_public_uuid\":\"$ROOT\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["set_public_uuid"])')
SALT=$(printf '%08x' $((RANDOM * 32768 + RANDOM)))
COLUMNS=$(sql "SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_table_info('images') ORDER BY cid)")
EXPRS=$(sql "SELECT group_concat(CASE name
    WHEN 'id' THEN 'printf(''$SALT-0000-4000-8000-%012d'', n.i)'
    WHEN 'sha256' THEN 'printf(''%012d'', n.i) || src.sha256'
    WHEN 'created_at' THEN 'src.created_at + n.i'
    WHEN 'updated_at' THEN 'src.updated_at + n.i'
    ELSE 'src.' || name END, ', ') FROM (SELECT name FROM pragma_table_info('images') ORDER BY cid)")
NOW_US=$(($(date +%s) * 1000000))
sql <<SQL
BEGIN;
INSERT INTO images ($COLUMNS)
  SELECT $EXPRS FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $IMAGES) SELECT i FROM s) AS n,
       images src WHERE src.id = '$SOURCE';
INSERT INTO image_versions (image_id, name, width, height, content_type, bytes, etag, blob_key, created_at)
  SELECT i.id, v.name, v.width, v.height, v.content_type, v.bytes, v.etag, v.blob_key, v.created_at
    FROM images i, image_versions v WHERE i.id LIKE '$SALT-%' AND v.image_id = '$SOURCE';
INSERT INTO set_images (set_id, image_id, position, created_at, hidden, activation_time)
  SELECT '$BIG', id, ROW_NUMBER() OVER (ORDER BY id) - 1, $NOW_US, 0, NULL
    FROM images WHERE id LIKE '$SALT-%';
COMMIT;
SQL
IMAGE="$SALT-0000-4000-8000-000000000001"

SET_PATH="/w/festival/s/$BIG"
IMAGE_PATH="/w/festival/i/$IMAGE"
mkdir -p "$WORK/nginx/root"
curl -sf "$URL$SET_PATH" -o "$WORK/nginx/root/set.html" || die "the set page did not answer"
curl -sf "$URL$IMAGE_PATH" -o "$WORK/nginx/root/image.html" || die "the image page did not answer"
grep -q "$IMAGE" "$WORK/nginx/root/set.html" || die "the set page does not show the set's images"

say "nginx serving the same bytes"
NG_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type text/html;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server { listen 127.0.0.1:$NG_PORT; root $WORK/nginx/root; }
}
CONF
mkdir -p "$WORK/nginx/tmp"
# nginx's workers drop to an unprivileged user when started as root.
chmod a+rx "$WORK" "$WORK/nginx" "$WORK/nginx/root"
chmod a+r "$WORK/nginx/root/"*.html
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NG_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NG_PORT/set.html" -o /dev/null && break; sleep 0.1; done

# wrk on one URL: req/s and p99 (ms).
load() { # label url
  local out="$WORK/wrk-$1.txt"
  wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$2" >/dev/null
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$2" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then cat "$out" >&2; die "$1: wrk saw errors"; fi
  echo "$(awk '/^Requests\/sec:/ { print $2 }' "$out") $(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
}

echo "| page | bytes | nginx req/s | lightbox req/s | × nginx | nginx p99 ms | lightbox p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for page in set image; do
  if [ "$page" = set ]; then path=$SET_PATH; else path=$IMAGE_PATH; fi
  say "$page page: nginx"
  read -r ng_rps ng_p99 < <(load "nginx-$page" "http://127.0.0.1:$NG_PORT/$page.html")
  say "$page page: lightbox"
  read -r lb_rps lb_p99 < <(load "lightbox-$page" "$URL$path")
  bytes=$(wc -c <"$WORK/nginx/root/$page.html")
  ratio=$(awk -v a="$lb_rps" -v b="$ng_rps" 'BEGIN { printf "%.3f", a / b }')
  echo "| $page | $bytes | $ng_rps | $lb_rps | $ratio | $ng_p99 | $lb_p99 |"
done
echo
echo "lightbox memory after the load: RSS $(mib "$(status_kib "$LB_PID" VmRSS)") MiB, peak $(mib "$(status_kib "$LB_PID" VmHWM)") MiB"
