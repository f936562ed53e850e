#!/usr/bin/env bash
# Versions of a 24-megapixel JPEG: Lightbox's render_versions against
# vipsthumbnail (libvips), same file, same four sizes, same machine, one run.
#
#   1. builds the release `versions-bench` example of lightbox-media and copies
#      it to the work dir (the shared target dir may be rebuilt meanwhile);
#   2. makes a photo-like 6000×4000 JPEG (quality 90, 4:2:0; sky, clouds,
#      foliage-like texture at several scales, sensor noise);
#   3. BENCH_ROUNDS times, alternating: one `versions-bench run` process that
#      builds thumbnail 320, small 640, medium 1280, large 2560 and writes them;
#      then four `vipsthumbnail -s N` processes (Q=82, optimised Huffman, strip),
#      with libvips' default threads and again with VIPS_CONCURRENCY=1;
#   4. prints the median wall time of each (whole processes, start to exit,
#      files written) and the peak RSS (`/usr/bin/time -f %M`: ours for the
#      whole job, vips the largest of its four processes), and the ratio.
#
# Needs: cargo, /usr/bin/time (Debian `time`), vipsthumbnail (Debian
# `libvips-tools`; for this bench only, not CI).
# Settings: BENCH_ROUNDS=7, BENCH_WIDTH=6000, BENCH_HEIGHT=4000,
#   BENCH_IMAGE=FILE (use a JPEG of your own instead of the generated one),
#   BENCH_NO_BUILD=1, BENCH_KEEP=1 (keep the work dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_ROUNDS:-7}
W=${BENCH_WIDTH:-6000}
H=${BENCH_HEIGHT:-4000}
die() { echo "${0##*/}: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
command -v vipsthumbnail >/dev/null || die "vipsthumbnail missing: apt-get install libvips-tools"
[ -x /usr/bin/time ] || die "/usr/bin/time missing: apt-get install time"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}

WORK=$(mktemp -d /tmp/lightbox-versions-bench.XXXXXX)
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "building versions-bench (release)"
  cargo build -q --release -p lightbox-media --example versions-bench
fi
cp "$CARGO_TARGET_DIR/release/examples/versions-bench" "$WORK/versions-bench"
BIN=$WORK/versions-bench

if [ -n "${BENCH_IMAGE:-}" ]; then
  cp "$BENCH_IMAGE" "$WORK/photo.jpg"
else
  "$BIN" make "$WORK/photo.jpg" "$W" "$H" >&2
fi
say "$(vipsheader "$WORK/photo.jpg" 2>/dev/null || true), $(stat -c %s "$WORK/photo.jpg") bytes"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ours() { # → "wall_ms rss_kib"
  local t0 t1
  t0=$(now_ms)
  /usr/bin/time -f %M -o "$WORK/rss" "$BIN" run "$WORK/photo.jpg" 1 "$WORK/ours" >"$WORK/ours.out"
  t1=$(now_ms)
  echo "$(( t1 - t0 )) $(cat "$WORK/rss")"
}
vips() { # concurrency ("" = default) → "wall_ms max_rss_kib"
  local t0 t1 rss=0 r s
  mkdir -p "$WORK/vips"
  t0=$(now_ms)
  for s in 2560 1280 640 320; do
    if [ -n "$1" ]; then
      VIPS_CONCURRENCY=$1 /usr/bin/time -f %M -o "$WORK/rss" \
        vipsthumbnail "$WORK/photo.jpg" -s "$s" -o "$WORK/vips/t$s.jpg[Q=82,optimize_coding,strip]"
    else
      /usr/bin/time -f %M -o "$WORK/rss" \
        vipsthumbnail "$WORK/photo.jpg" -s "$s" -o "$WORK/vips/t$s.jpg[Q=82,optimize_coding,strip]"
    fi
    r=$(cat "$WORK/rss"); [ "$r" -gt "$rss" ] && rss=$r
  done
  t1=$(now_ms)
  echo "$(( t1 - t0 )) $rss"
}

# Warm the page cache and the binaries.
ours >/dev/null; vips "" >/dev/null
: >"$WORK/ours.tsv"; : >"$WORK/vips.tsv"; : >"$WORK/vips1.tsv"
for i in $(seq 1 "$ROUNDS"); do
  o=$(ours); v=$(vips ""); v1=$(vips 1)
  say "round $i: ours $o, vips $v, vips (1 thread) $v1   (ms KiB)"
  echo "$o" >>"$WORK/ours.tsv"; echo "$v" >>"$WORK/vips.tsv"; echo "$v1" >>"$WORK/vips1.tsv"
done
OW=$(cut -d' ' -f1 "$WORK/ours.tsv" | median);  OR=$(cut -d' ' -f2 "$WORK/ours.tsv" | sort -n | tail -1)
VW=$(cut -d' ' -f1 "$WORK/vips.tsv" | median);  VR=$(cut -d' ' -f2 "$WORK/vips.tsv" | sort -n | tail -1)
V1=$(cut -d' ' -f1 "$WORK/vips1.tsv" | median); V1R=$(cut -d' ' -f2 "$WORK/vips1.tsv" | sort -n | tail -1)
INNER=$(grep -o 'median_ms=[0-9.]*' "$WORK/ours.out" | cut -d= -f2)
echo
echo "| job | wall ms (median of $ROUNDS) | × vipsthumbnail | peak RSS MiB |"
echo "| --- | ---: | ---: | ---: |"
awk -v o="$OW" -v v="$VW" -v v1="$V1" -v orss="$OR" -v vr="$VR" -v v1r="$V1R" 'BEGIN {
  printf "| Lightbox render_versions (1 process, 1 thread) | %d | %.2f | %.1f |\n", o, o / v, orss / 1024
  printf "| vipsthumbnail ×4 (default threads) | %d | 1.00 | %.1f |\n", v, vr / 1024
  printf "| vipsthumbnail ×4 (VIPS_CONCURRENCY=1) | %d | %.2f | %.1f |\n", v1, v1 / v, v1r / 1024 }'
echo
echo "(last Lightbox round inside the process: ${INNER} ms)"
echo "| version | Lightbox bytes | vipsthumbnail bytes |"
echo "| --- | ---: | ---: |"
for pair in thumbnail:320 small:640 medium:1280 large:2560; do
  n=${pair%%:*}; s=${pair##*:}
  echo "| $n ($(grep "^version $n " "$WORK/ours.out" | cut -d' ' -f3)) | $(stat -c %s "$WORK/ours/$n.jpg") | $(stat -c %s "$WORK/vips/t$s.jpg") |"
done
