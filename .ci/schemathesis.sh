#!/usr/bin/env bash
# Runs schemathesis (every check, every phase) against /openapi.v1.yaml of a
# debug build, once on SQLite and once on PostgreSQL. Each engine gets fresh
# storage, an account with API access on and an all-scope service token made
# with the admin CLI. Fails on any failure (a 5xx, an answer the document does
# not describe, a valid request refused, an invalid one accepted, ...).
#
# Environment:
#   LIGHTBOX_TEST_POSTGRES_URL  postgres://…/postgres of a server where a fresh
#                               database may be created (set by .ci/run);
#                               unset → the PostgreSQL run is skipped, loudly.
#   LIGHTBOX_ST_MAX_EXAMPLES    test cases per operation and phase on SQLite [300]
#                               (a random seed each run: depth accrues across runs).
#   LIGHTBOX_ST_MAX_EXAMPLES_PG the same on PostgreSQL [100]: the contract is
#                               engine-independent, so the second engine runs
#                               a shorter pass (the test suite covers it whole).
#   LIGHTBOX_ST_SEED            fixed seed to replay a run [random, printed].
#   LIGHTBOX_BIN                a lightbox binary already built [built here].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MAX_EXAMPLES_SQLITE="${LIGHTBOX_ST_MAX_EXAMPLES:-300}"
MAX_EXAMPLES_PG="${LIGHTBOX_ST_MAX_EXAMPLES_PG:-100}"

if command -v schemathesis >/dev/null 2>&1; then ST=(schemathesis)
else ST=(python3 -m schemathesis.cli); fi

# .ci/run passes the binary its test build just made (the same one the
# tests ran); building it again here could pick other features and rebuild.
if [ -n "${LIGHTBOX_BIN:-}" ] && [ -x "$LIGHTBOX_BIN" ]; then
  BIN=$LIGHTBOX_BIN
else
  echo "== building the debug binary"
  cargo build -q -p lightbox
  BIN="$CARGO_TARGET_DIR/debug/lightbox"
fi

WORK=$(mktemp -d /tmp/lightbox-schemathesis.XXXXXX)
SERVER_PID=""
PSQL=""
PG_ADMIN_URL=""
PG_DB=""

# SIGTERM (graceful shutdown), SIGKILL if it is still there after 10 s.
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

drop_database() {
  if [ -n "$PG_DB" ]; then
    "$PSQL" "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    PG_DB=""
  fi
}

cleanup() {
  stop_server
  drop_database
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls `url` until it answers 200 (or gives up after ~60 s).
wait_ready() {
  python3 - "$1" <<'PY'
import sys, time, urllib.request
url = sys.argv[1]
for _ in range(600):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

ADMIN_PASSWORD="ci-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"

# admin_access_token BASE: signs the CI admin in and prints an access token.
admin_access_token() {
  python3 - "$1" "$ADMIN_PASSWORD" <<'PY'
import json, sys, urllib.request
base, password = sys.argv[1], sys.argv[2]
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
signed = post("/v1/auth/sign_in", {"login": "admin@ci.example", "password": password,
                                   "device": {"name": "schemathesis", "platform": "ci"}})
grant = post("/v1/auth/token", {"refresh_token": signed["refresh_token"],
                                "account_uuid": signed["accounts"][0]["uuid"]})
print(grant["access_token"])
PY
}

# run_engine NAME MAX-EXAMPLES STORAGE-FLAGS...: sets up data, serves, runs schemathesis.
# Called as `run_engine … || FAILED+=…`, where errexit is off: every step
# checks its own status.
run_engine() {
  local name=$1; shift
  local MAX_EXAMPLES=$1; shift
  local storage=("$@")
  local dir="$WORK/$name"
  mkdir -p "$dir"
  echo "== [$name] account, API access, token"
  local token
  "$BIN" "${storage[@]}" account create --name "CI" --unique-id ci >/dev/null 2>"$dir/admin.log" \
    && "$BIN" "${storage[@]}" account api-access ci on >/dev/null 2>>"$dir/admin.log" \
    && token=$("$BIN" "${storage[@]}" token create --account ci --name schemathesis --scopes all 2>>"$dir/admin.log") \
    && echo "$ADMIN_PASSWORD" | "$BIN" "${storage[@]}" user create --login admin@ci.example --name "CI admin" --password-stdin >/dev/null 2>>"$dir/admin.log" \
    && "$BIN" "${storage[@]}" user add-to-account admin@ci.example ci --role admin >/dev/null 2>>"$dir/admin.log" \
    || { cat "$dir/admin.log" >&2; return 1; }

  echo "== [$name] starting the server"
  # Port 0: the server picks a free port and prints its base URL first.
  "$BIN" "${storage[@]}" serve --listen 127.0.0.1:0 >"$dir/stdout" 2>"$dir/server.log" &
  SERVER_PID=$!
  local base=""
  for _ in $(seq 1 600); do
    base=$(head -n 1 "$dir/stdout" 2>/dev/null || true)
    [ -n "$base" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$base" ] || ! wait_ready "$base/readyz"; then
    echo "!! [$name] the server did not become ready; its log:" >&2
    cat "$dir/server.log" >&2
    return 1
  fi
  echo "   $base"

  # Signed in before the first pass, whose sign-in fuzzing soon puts
  # 127.0.0.1 over the failed-attempt limit (the token lives 15 minutes).
  local access
  access=$(admin_access_token "$base") || { echo "!! [$name] admin sign-in failed" >&2; return 1; }

  echo "== [$name] schemathesis $base/openapi.v1.yaml"
  local seed=()
  [ -n "${LIGHTBOX_ST_SEED:-}" ] && seed=(--seed "$LIGHTBOX_ST_SEED")
  local status=0
  # Run from the work dir so nothing (reports, caches) lands in the clone.
  # use_after_free is left out: it takes `DELETE /v1/sets/{id}/images` (and
  # the keyword and credit removals) for deleting the resource at that path,
  # and a later read of the set's images (200, or 304 to `If-None-Match: *`)
  # for a use after free — the set is still there, only members left. Reads
  # after real deletes answering 404 are in the Rust tests (images, sets,
  # websites, tokens).
  (cd "$dir" && "${ST[@]}" run "$base/openapi.v1.yaml" \
    --header "Authorization: Bearer $token" \
    --checks all --exclude-checks use_after_free \
    --exclude-path-regex '^/v1/(images|facets|operations/batch|images/\{public_uuid\}/crop|sets/reorder|sets/\{public_uuid\}(/order|/visibility)?|webhooks(/\{public_uuid\})?)$' \
    --max-examples "$MAX_EXAMPLES" \
    --generation-database none \
    "${seed[@]}") || status=$?
  if [ "$status" -eq 0 ]; then
    # Fields that depend on each other, which a schema cannot say: the
    # library's filters (`exif_value` needs `exif_property`, `bbox` needs
    # south <= north, a range's from <= to, a query's quotes must close), a
    # crop's size must match its aspect ratio, a batch item's body its path,
    # a set's order must be a permutation of its members (siblings for a
    # reorder), a re-parent must not make a cycle, a lead image must be a
    # member, `move` needs one of before/after, `live` needs a set.
    # A webhook's url must resolve to a public address: the machine's DNS
    # (none in CI) decides, not the schema.
    # Every check but positive_data_acceptance.
    echo "== [$name] schemathesis on interdependent fields (images, facets, crop, batch, webhooks)"
    (cd "$dir" && "${ST[@]}" run "$base/openapi.v1.yaml" \
      --header "Authorization: Bearer $token" \
      --checks all --exclude-checks positive_data_acceptance \
      --include-path-regex '^/v1/(images|facets|operations/batch|images/\{public_uuid\}/crop|sets/reorder|sets/\{public_uuid\}(/order|/visibility)?|webhooks(/\{public_uuid\})?)$' \
      --phases examples,coverage,fuzzing \
      --max-examples "$MAX_EXAMPLES" \
      --generation-database none \
      "${seed[@]}") || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    # Second pass as a signed-in account admin, on what only such a token
    # reaches. `positive_data_acceptance` stays with the first pass: a
    # schema cannot say "a future date" or "an IP address or CIDR block".
    echo "== [$name] schemathesis as an account admin (user access token)"
    (cd "$dir" && "${ST[@]}" run "$base/openapi.v1.yaml" \
      --header "Authorization: Bearer $access" \
      --checks all --exclude-checks positive_data_acceptance \
      --include-path-regex '^/v1/(service_tokens|auth/sessions$|me$)' \
      --max-examples "$MAX_EXAMPLES" \
      --generation-database none \
      "${seed[@]}") || status=$?
  fi
  stop_server
  if [ "$status" -ne 0 ]; then
    echo "!! [$name] schemathesis failed (exit $status); server errors logged:" >&2
    grep -E "ERROR|panicked" "$dir/server.log" | tail -n 50 >&2 || true
    return "$status"
  fi
  if grep -q "panicked" "$dir/server.log"; then
    echo "!! [$name] the server panicked:" >&2
    grep -A5 "panicked" "$dir/server.log" >&2
    return 1
  fi
}

FAILED=()

# --- SQLite ----------------------------------------------------------------
run_engine sqlite "$MAX_EXAMPLES_SQLITE" --data-dir "$WORK/sqlite-data" || FAILED+=(sqlite)

# --- PostgreSQL --------------------------------------------------------------
if [ -n "${LIGHTBOX_TEST_POSTGRES_URL:-}" ]; then
  PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$PSQL" ]; then
    echo "!! psql not found (install postgresql-client)" >&2
    FAILED+=(postgres)
  else
    PG_ADMIN_URL=$LIGHTBOX_TEST_POSTGRES_URL
    PG_DB="schemathesis_$(date +%s)_$$"
    "$PSQL" "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    echo "== [postgres] fresh database $PG_DB"
    # Same server and credentials, the fresh database in place of the path.
    PG_URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$PG_DB")
    run_engine postgres "$MAX_EXAMPLES_PG" --data-dir "$WORK/postgres-data" --database-url "$PG_URL" || FAILED+=(postgres)
    drop_database
  fi
else
  echo "!! LIGHTBOX_TEST_POSTGRES_URL is unset: PostgreSQL NOT tested (.ci/run sets it)" >&2
fi

if [ "${#FAILED[@]}" -ne 0 ]; then
  echo "!! schemathesis failed on: ${FAILED[*]}" >&2
  exit 1
fi
echo "== schemathesis passed"
