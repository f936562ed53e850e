#!/usr/bin/env bash
# Fuzzes lightbox-media's parsers with cargo-fuzz (libFuzzer), each target for
# a bounded time, and fails when any target finds a crash.
#
#   .ci/fuzz.sh                 every target, FUZZ_SECONDS (default 15) each
#   .ci/fuzz.sh exif xmp        only these targets
#
# Targets (crates/lightbox-media/fuzz/fuzz_targets): sniff (sniff +
# header_dimensions), exif, iptc, xmp, read_embedded, probe_video.
# Installs cargo-fuzz from crates.io when missing. Uses the nightly toolchain
# when rustup has one, else the pinned stable one with RUSTC_BOOTSTRAP=1; no
# sanitizer either way (the crate forbids unsafe code; libFuzzer's coverage
# and the Rust panics are what find the bugs). Build products go to
# $CARGO_TARGET_DIR/fuzz when CARGO_TARGET_DIR is set (instrumented builds
# would otherwise evict the normal ones), else to the fuzz folder's target/.
# Crash inputs are left in crates/lightbox-media/fuzz/artifacts/<target>/;
# keep each as a regression test in the crate before fixing it.
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=65536".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_DIR=crates/lightbox-media/fuzz
SECS=${FUZZ_SECONDS:-15}
ALL_TARGETS=(sniff exif iptc xmp read_embedded probe_video)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  # Built in the persistent target dir when there is one: a machine that
  # lost ~/.cargo/bin reinstalls in seconds.
  INSTALL_DIR=()
  [ -n "${CARGO_TARGET_DIR:-}" ] && INSTALL_DIR=(--target-dir "$CARGO_TARGET_DIR/tools")
  cargo install cargo-fuzz --locked "${INSTALL_DIR[@]}"
fi

TOOLCHAIN=()
if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
  echo "== toolchain: nightly"
else
  export RUSTC_BOOTSTRAP=1
  echo "== toolchain: $(rustc --version) with RUSTC_BOOTSTRAP=1"
fi

TARGET_ARGS=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  mkdir -p "$CARGO_TARGET_DIR/fuzz"
  TARGET_ARGS=(--target-dir "$CARGO_TARGET_DIR/fuzz")
  # cargo-fuzz reads --target-dir; the variable itself would win over it.
  unset CARGO_TARGET_DIR
fi

cd "$FUZZ_DIR"
# Seeds from the fixtures are committed under corpus/<target>/seed-*.
echo "== building the fuzz targets"
started=$(date +%s)
cargo "${TOOLCHAIN[@]}" fuzz build --sanitizer none "${TARGET_ARGS[@]}"
echo "== built in $(( $(date +%s) - started )) s"

failed=()
for t in "${TARGETS[@]}"; do
  echo "== fuzzing $t for ${SECS}s"
  mkdir -p "corpus/$t"
  # shellcheck disable=SC2086
  if ! cargo "${TOOLCHAIN[@]}" fuzz run --sanitizer none "${TARGET_ARGS[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
      ${FUZZ_FLAGS:-} 2>"$ROOT/$FUZZ_DIR/$t.log"; then
    failed+=("$t")
    echo "!! $t failed; the input is in $FUZZ_DIR/artifacts/$t/; the end of its log:" >&2
    tail -n 40 "$ROOT/$FUZZ_DIR/$t.log" >&2
  else
    grep -E '^stat::number_of_executed_units|^Done ' "$ROOT/$FUZZ_DIR/$t.log" | tr '\n' ' '; echo
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "!! crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "== no crash in ${TARGETS[*]}"
