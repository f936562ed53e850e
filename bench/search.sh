#!/usr/bin/env bash
# Full-text search and facets on a synthetic library of 1,000,000 images
# (design §6: `?query=` p50 ≤ 10 ms, p99 ≤ 40 ms; `GET /v1/facets` p50 ≤ 30 ms).
#
# 1. Builds (release) lightbox, bench/images-list and lightbox-search's
#    `query_bench` example.
# 2. Fills SQLite with `images-list-bench fill` (10 keywords per image from a
#    skewed vocabulary plus a long tail, Exif, dates, geo, ratings), then
#    gives every image a title and a description drawn from 64 photo words
#    (so text queries have realistic postings).
# 3. `lightbox reindex`: the full rebuild time and images/s (indexing
#    throughput).
# 4. Direct: `query_bench` times each mix on the index itself (page of 51).
# 5. HTTP: `lightbox serve` on the same data, `wrk -c1` per mix; the ratio
#    HTTP p50 / direct p50 is the API's overhead (sync with the change log,
#    rows and their keywords/versions/sets from the database, JSON).
# Prints markdown on stdout; progress on stderr.
#
# Settings: BENCH_IMAGES=1000000 BENCH_ITERATIONS=200 BENCH_DURATION=5 BENCH_CONSOLE=1 (the grid)
#           BENCH_DATA=DIR (reuse a filled dir) BENCH_KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
IMAGES=${BENCH_IMAGES:-1000000}
ITER=${BENCH_ITERATIONS:-200}
DURATION=${BENCH_DURATION:-5}
say() { echo "== $*" >&2; }

say "building (release)"
cargo build --release -q -p lightbox --bin lightbox >&2
cargo build --release -q -p lightbox-search --example query_bench >&2
(cd bench/images-list && cargo build --release -q) >&2

if [ -n "${BENCH_DATA:-}" ]; then WORK=$BENCH_DATA; REUSE=1; else WORK=$(mktemp -d /tmp/lightbox-search.XXXXXX); REUSE=; fi
mkdir -p "$WORK/bin" "$WORK/data"
cp "$CARGO_TARGET_DIR/release/lightbox" "$CARGO_TARGET_DIR/release/examples/query_bench" \
   "$CARGO_TARGET_DIR/release/images-list-bench" "$WORK/bin/"
LB="$WORK/bin/lightbox"
storage=(--data-dir "$WORK/data")
DB="$WORK/data/lightbox.db"
PID=
cleanup() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  if [ -z "${BENCH_KEEP:-}" ] && [ -z "$REUSE" ]; then rm -rf "$WORK"; else say "kept $WORK"; fi
}
trap cleanup EXIT

if [ -z "$REUSE" ]; then
  "$LB" account create --name Bench --unique-id bench "${storage[@]}" >/dev/null
  "$LB" account api-access bench on "${storage[@]}" >/dev/null
  say "filling $IMAGES images"
  "$WORK/bin/images-list-bench" fill --database-url "sqlite://$DB" --account bench --images "$IMAGES"
  say "titles and descriptions"
  sqlite3 "$DB" <<'SQL'
CREATE TEMP TABLE w(i INTEGER PRIMARY KEY, t TEXT);
INSERT INTO w(t) VALUES ('concert'),('stage'),('crowd'),('singer'),('guitar'),('drums'),('lights'),('sunset'),
 ('night'),('festival'),('backstage'),('portrait'),('dancer'),('fireworks'),('rain'),('summer'),('lake'),('mountain'),
 ('street'),('market'),('bridge'),('river'),('harbour'),('beach'),('forest'),('snow'),('city'),('tent'),('food'),
 ('family'),('children'),('press'),('interview'),('award'),('speech'),('audience'),('encore'),('rehearsal'),('soundcheck'),
 ('zürich'),('lausanne'),('geneva'),('paris'),('berlin'),('tokyo'),('red'),('blue'),('golden'),('smoke'),('confetti'),
 ('piano'),('violin'),('choir'),('orchestra'),('jazz'),('rock'),('techno'),('headliner'),('opening'),('closing'),
 ('morning'),('evening'),('aerial'),('drone');
UPDATE images SET
  title = (SELECT t FROM w WHERE i = 1 + (images.rowid * 2654435761) % (SELECT COUNT(*) FROM w)) || ' ' || (SELECT t FROM w WHERE i = 1 + (images.rowid * 40503 + 7) % (SELECT COUNT(*) FROM w)),
  description = (SELECT t FROM w WHERE i = 1 + (images.rowid * 97 + 11) % (SELECT COUNT(*) FROM w)) || ' and ' || (SELECT t FROM w WHERE i = 1 + (images.rowid * 7919 + 3) % (SELECT COUNT(*) FROM w))
     || ' during the ' || (SELECT t FROM w WHERE i = 1 + (images.rowid * 104729 + 5) % (SELECT COUNT(*) FROM w));
SQL
fi
ACCOUNT=$(sqlite3 "$DB" "SELECT id FROM accounts WHERE unique_id = 'bench'")

say "full reindex"
started=$(date +%s.%N)
"$LB" reindex "${storage[@]}" 2>"$WORK/reindex.err" || { cat "$WORK/reindex.err" >&2; exit 1; }
ended=$(date +%s.%N)
echo "### Search index, $IMAGES images ($(date -u +%FT%TZ), $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "- full reindex: $(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f s", b - a }') — $(tail -n 1 "$WORK/reindex.err")"
echo "- index size: $(du -sh "$WORK/data/search" | cut -f1)"
echo

# name <TAB> kind <TAB> query <TAB> extra (direct) <TAB> query string (HTTP)
MIXES=$(cat <<'TSV'
word (concert)	search	concert		query=concert
two words	search	concert sunset		query=concert%20sunset
must + must	search	+concert +sunset		query=%2Bconcert%20%2Bsunset
must - exclude	search	+concert -rain		query=%2Bconcert%20-rain
phrase	search	"main stage"		query=%22main%20stage%22
keyword text (word17)	search	word17		query=word17
rare tail keyword	search	tail12345		query=tail12345
prefix	search	rehears*		query=rehears*
filename token	search	img_4242		query=img_4242
year	search	2023		query=2023
query + min_rating 4	search	concert	min_rating=4	query=concert&min_rating=4
query + has_geo	search	sunset	has_geo=true	query=sunset&has_geo=true
query sort newest	search	concert	sort=newest	query=concert&sort=newest
facets default (whole library)	facets		rating,namespace,creation_year,has_geo,has_video	fields=rating,namespace,creation_year,has_geo,has_video
facets rating (whole library)	facets		rating	fields=rating
facets keyword:artist (whole library)	facets		keyword:artist	fields=keyword:artist
facets keyword (whole library)	facets		keyword	fields=keyword
facets default + query	facets	concert	rating,namespace,creation_year,has_geo,has_video	fields=rating,namespace,creation_year,has_geo,has_video&query=concert
facets exif:Make + query	facets	sunset	exif:Make	fields=exif:Make&query=sunset
TSV
)

say "direct on the index"
direct=$(awk -F'\t' '{ print $2 "\t" $1 "\t" $3 "\t" $4 }' <<<"$MIXES" | "$WORK/bin/query_bench" "$WORK/data/search" "$ACCOUNT" "$ITER")

say "HTTP"
TOKEN=$("$LB" token create --account bench --name "bench-$RANDOM" --scopes all "${storage[@]}" 2>/dev/null)
LIGHTBOX_LOG=warn "$LB" serve --listen 127.0.0.1:0 "${storage[@]}" >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 400); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
base=$(head -n 1 "$WORK/serve.out")
curl -sf -H "Authorization: Bearer $TOKEN" "$base/v1/images?query=concert&limit=1" >/dev/null \
  || { say "search failed"; cat "$WORK/serve.err" >&2; exit 1; }
ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }'; }
echo "| mix | direct p50 ms | direct p99 ms | HTTP p50 ms | HTTP p99 ms | HTTP / direct (p50) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
# '|' keeps empty fields (a tab, being whitespace to `read`, would not).
while IFS='|' read -r name kind q extra qs; do
  if [ "$kind" = facets ]; then path="/v1/facets?$qs"; else path="/v1/images?limit=50&$qs"; fi
  out=$(wrk -t1 -c1 -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$base$path")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then say "$name: wrk saw errors"; echo "$out" >&2; fi
  h50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | ms)
  h99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | ms)
  d=$(awk -F'\t' -v n="$name" '$1 == n' <<<"$direct")
  d50=$(cut -f2 <<<"$d"); d99=$(cut -f3 <<<"$d")
  ratio=$(awk -v h="$h50" -v d="$d50" 'BEGIN { if (d > 0) printf "%.2f", h / d; else print "-" }')
  echo "| $name | $d50 | $d99 | $h50 | $h99 | $ratio |"
done < <(tr '\t' '|' <<<"$MIXES")

# The console's library grid on the same library (BENCH_CONSOLE=1): an admin
# signs in through the form, then wrk -c1 on the grid's first page, filtered
# pages and a search page (48 tiles each, the whole HTML page).
if [ -n "${BENCH_CONSOLE:-}" ]; then
  say "console grid"
  PASSWORD="bench-console-grid-password-1"
  printf '%s\n' "$PASSWORD" | "$LB" user create --login grid@example.com --name Grid --password-stdin "${storage[@]}" >/dev/null 2>&1 || true
  "$LB" user add-to-account grid@example.com bench --role admin "${storage[@]}" >/dev/null 2>&1 || true
  jar="$WORK/console.jar"
  form=$(curl -sf -c "$jar" "$base/admin/sign-in")
  pre=$(sed -n 's/.*name="pre" value="\([^"]*\)".*/\1/p' <<<"$form" | head -n 1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null --data-urlencode "pre=$pre" --data-urlencode "next=/admin/library" \
    --data-urlencode "login=grid@example.com" --data-urlencode "password=$PASSWORD" "$base/admin/sign-in"
  console=$(awk '$6 == "lightbox_console" { print $7 }' "$jar")
  [ -n "$console" ] || { say "console sign-in failed"; exit 1; }
  echo
  echo "### Console library grid, $IMAGES images (wrk -t1 -c1 -d${DURATION}s, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| page | p50 ms | p99 ms | req/s |"
  echo "| --- | ---: | ---: | ---: |"
  while IFS='|' read -r name qs; do
    out=$(wrk -t1 -c1 -d"${DURATION}s" --latency -H "Cookie: lightbox_console=$console" "$base/admin/library$qs")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then say "$name: wrk saw errors"; echo "$out" >&2; fi
    echo "| $name | $(awk '$1 == "50%" { print $2 }' <<<"$out" | ms) | $(awk '$1 == "99%" { print $2 }' <<<"$out" | ms) | $(awk '/^Requests\/sec:/ { print $2 }' <<<"$out") |"
  done <<'PAGES'
first page (newest)|
second page|?offset=48
keyword filter (word17)|?keyword=word17
rating + geo filter|?min_rating=4&has_geo=true
taken order, a year|?sort=taken&creation_date_from=2023-01-01&creation_date_to=2023-12-31
search (concert)|?query=concert
search + filter|?query=concert+sunset&min_rating=3
PAGES
fi
