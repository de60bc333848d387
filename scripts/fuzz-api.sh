#!/usr/bin/env bash
# Schemathesis against the whole stack, through the gateway, driven by the OpenAPI document
# the gateway serves (GET /api/openapi.json, generated from the code: docs/api.md).
#   - installs schemathesis, openapi-spec-validator and argon2-cffi into .local/fuzz-venv
#     (python3-venv with apt-get when missing)
#   - starts PostgreSQL and Redis as scripts/dev.sh does, builds, migrates, seeds, adds one
#     customer (tenant + owner), and starts every service on private ports (gateway
#     28080, services 28001-28003; FUZZ_PORT_BASE moves them)
#   - validates the served document (openapi-spec-validator), then runs schemathesis three
#     times: as a demo session (X-Demo-Session-Id of a real POST /api/demo/session/create),
#     as the customer (the access token of a real login) and anonymously; the checks in
#     CHECKS below (server errors, status code, content type, headers and response schema
#     conformance, negative data rejection, use after free); stateful phase on the document's links (create → get →
#     extend → delete)
#   - fails on any server error or schema violation
# Bounded by default (fixed seed, few examples: ~2-3 minutes on 2 cores after the build);
# `FUZZ_LONG=1` or `--long` runs many more examples (docs/reliability.md has its figures).
# Called by scripts/test.sh (SKIP_FUZZ=1 skips it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LONG="${FUZZ_LONG:-0}"
[ "${1:-}" = "--long" ] && LONG=1
if [ "$LONG" = 1 ]; then EXAMPLES="${FUZZ_MAX_EXAMPLES:-300}"; else EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"; fi
SEED="${FUZZ_SEED:-20261130}"
BASE="${FUZZ_PORT_BASE:-28000}"
DEMO_PORT=$((BASE + 1)) TENANT_PORT=$((BASE + 2)) INVENTORY_PORT=$((BASE + 3)) GATEWAY_PORT=$((BASE + 80))
GW="http://127.0.0.1:$GATEWAY_PORT"
VENV="$LOCAL/fuzz-venv"

# A Python whose AST constructor is safe with threads: CPython 3.11.0-3.11.7 and
# 3.12.0-3.12.1 keep the AST recursion counter in per-interpreter state, so two schemathesis
# workers parsing source at once (hypothesis reads a lambda's source to describe a strategy)
# fail at random with "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905, fixed by #113035 in 3.11.8 / 3.12.2).
python_ok() {
  "$1" -c 'import sys, venv, ensurepip; v = sys.version_info[:3]; sys.exit(0 if v >= (3, 12, 2) or (3, 11, 8) <= v < (3, 12) else 1)' >/dev/null 2>&1
}
pick_python() {
  local candidates=(python3.13 python3.12 python3)
  command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv root)"/versions/3.1[2-9]*/bin/python3)
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 && python_ok "$py"; then command -v "$py"; return; fi
  done
}

ensure_venv() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "installing python3-venv"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  local python; python="$(pick_python)"
  if [ -x "$VENV/bin/python" ] && ! python_ok "$VENV/bin/python" && [ -n "$python" ]; then
    log "recreating .local/fuzz-venv with $python (the old one has the AST race)"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/schemathesis" ]; then
    log "installing schemathesis into .local/fuzz-venv"
    "${python:-python3}" -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==4.32.5" "openapi-spec-validator==0.7.2" "argon2-cffi==25.1.0"
  fi
  # one worker where the AST race can strike (no fixed Python found)
  if python_ok "$VENV/bin/python"; then WORKERS=2; else WORKERS=1; log "$("$VENV/bin/python" -V) has the AST race: one schemathesis worker"; fi
}

note_what_runs
trap stop_what_we_started INT TERM EXIT
setup_infrastructure
ensure_venv
for port in $DEMO_PORT $TENANT_PORT $INVENTORY_PORT $GATEWAY_PORT; do
  port_taken "$port" && die "port $port is in use (another fuzz run? FUZZ_PORT_BASE moves them)"
done

cd "$ROOT"
log "building"
cargo build --bins
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
LOGS="$LOCAL/logs/fuzz"; mkdir -p "$LOGS"

migrate_and_seed "$BIN"

# one customer (not a demo tenant) to log in as; the password is made up per run
CUSTOMER_EMAIL="fuzz-owner@example.com"
CUSTOMER_PASSWORD="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
HASH="$("$VENV/bin/python" -c 'import sys, argon2; print(argon2.PasswordHasher().hash(sys.argv[1]))' "$CUSTOMER_PASSWORD")"
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d tenant -q -v ON_ERROR_STOP=1 \
  -v email="$CUSTOMER_EMAIL" -v hash="$HASH" <<'SQL' >/dev/null
INSERT INTO tenants (id, name, slug, business_model, city)
VALUES ('0f0f0f0f-0000-4000-8000-00000000f022', 'Horno Fuzz', 'horno-fuzz', 'individual_bakery', 'Toledo')
ON CONFLICT (id) DO NOTHING;
INSERT INTO users (tenant_id, id, email, password_hash, full_name, role)
VALUES ('0f0f0f0f-0000-4000-8000-00000000f022', '0f0f0f0f-0000-4000-8000-00000000f023',
        :'email', :'hash', 'Dueña Fuzz', 'owner')
ON CONFLICT (tenant_id, id) DO UPDATE SET password_hash = EXCLUDED.password_hash;
SQL

# limits raised so the run measures answers, not quotas: every session, write, row and
# refused credential of a fuzz run comes from one address and one session
export APP_ENV=development LOG_LEVEL=warn
export REDIS_KEY_PREFIX="fuzz:"
export DEMO_RATE_LIMIT_PER_HOUR=100000
export DEMO_MAX_ACTIVE_SESSIONS=100000
export DEMO_WRITES_PER_MINUTE=100000
export DEMO_MAX_ROWS_PER_TABLE=10000000
export GATEWAY_CREDENTIAL_FAILURES_PER_MINUTE=100000
export LOGIN_MAX_FAILURES_PER_IP=1000 LOGIN_MAX_FAILURES_PER_EMAIL_AND_IP=1000 LOGIN_SLOWDOWN_AFTER_FAILURES=100000
export DEMO_SESSION_URL="http://127.0.0.1:$DEMO_PORT"
export TENANT_SERVICE_URL="http://127.0.0.1:$TENANT_PORT"
export INVENTORY_SERVICE_URL="http://127.0.0.1:$INVENTORY_PORT"
# the gateway's metrics listener, off the default 9180 a running scripts/dev.sh holds
export GATEWAY_METRICS_ADDR="127.0.0.1:$((BASE + 90))"
redis-cli -p "$REDIS_PORT" --scan --pattern "${REDIS_KEY_PREFIX}*" | xargs -r redis-cli -p "$REDIS_PORT" unlink >/dev/null
SERVICES=("tenant-service $TENANT_PORT" "inventory-service $INVENTORY_PORT" "demo-session $DEMO_PORT" "gateway $GATEWAY_PORT")
for entry in "${SERVICES[@]}"; do
  set -- $entry
  PORT=$2 "$BIN/$1" serve >"$LOGS/$1.log" 2>&1 &
  PIDS+=($!)
done
for entry in "${SERVICES[@]}"; do
  set -- $entry
  wait_ready "$1" "$2" "$LOGS/$1.log"
done

log "validating $GW/api/openapi.json"
curl -fsS "$GW/api/openapi.json" -o "$LOGS/openapi.json"
"$VENV/bin/openapi-spec-validator" "$LOGS/openapi.json"

json_field() { "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
SESSION_ID="$(curl -fsS -X POST "$GW/api/demo/session/create" -H 'Content-Type: application/json' \
  -d '{"demo_account_type": "individual_bakery"}' | json_field session_id)"
ACCESS_TOKEN="$(curl -fsS -X POST "$GW/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$CUSTOMER_EMAIL\", \"password\": \"$CUSTOMER_PASSWORD\"}" | json_field access_token)"

# Every check schemathesis has, every phase (examples, coverage, fuzzing, stateful).
# Credentials go by security scheme ([auth.openapi.*] in a config file per identity), so
# an operation gets one only where the document says it takes it: a demo session's id is
# not sent to an operation the demo policy refuses (which lists only `bearer`), and
# schemathesis's auth checks (`ignored_auth`, `missing_required_header`) see what the
# document promises.
CHECKS="${FUZZ_CHECKS:-all}"
PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}"
# Refusals of schema-valid input that no schema can state, so `positive_data_acceptance`
# takes them there and only there (every other refusal of documented input is a finding;
# the document states each rule it can: docs/api.md):
#   - writes that name other rows answer `422 unknown_…` when a row does not exist, and
#     `422 insufficient_stock` when the stock is short: state, not shape; a recipe's lines
#     name each ingredient once (`422 invalid_input`: uniqueness of one property of the
#     items, which JSON Schema cannot state);
#   - GET /api/sales answers `400 invalid_query` for `from` after `to` (two parameters
#     compared: JSON Schema cannot relate them); GET /api/sales/summary too, and for a range
#     of more than 92 days (two parameters again) or a `tz` that is not an IANA zone (the
#     tz database's list, which the document does not copy).
ST_REFUSALS='
[[operations]]
include-name = ["POST /api/inventory/adjustments", "POST /api/inventory/ingredients", "PUT /api/inventory/ingredients/{id}", "POST /api/orders", "POST /api/pos/sales", "POST /api/production/batches", "PUT /api/recipes/{id}"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = ["GET /api/sales", "GET /api/sales/summary"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
'
printf '[auth.openapi.demo_session]\napi_key = "%s"\n%s' "$SESSION_ID" "$ST_REFUSALS" >"$LOGS/demo.toml"
printf '[auth.openapi.bearer]\nbearer = "%s"\n%s' "$ACCESS_TOKEN" "$ST_REFUSALS" >"$LOGS/customer.toml"
printf '%s' "$ST_REFUSALS" >"$LOGS/anonymous.toml"
FAILED=0
run() {
  local who=$1; shift
  log "schemathesis as $who: $EXAMPLES examples per operation, seed $SEED"
  local started=$SECONDS
  if ! "$VENV/bin/schemathesis" --config-file "$LOGS/$who.toml" run "$GW/api/openapi.json" \
      --checks "$CHECKS" --phases "$PHASES" \
      --max-examples "$EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
      --request-timeout 30 --suppress-health-check all \
      --report junit --report-dir "$LOGS/$who" \
      "$@" 2>&1 | tee "$LOGS/schemathesis-$who.log"; then
    FAILED=1
  fi
  log "as $who: $((SECONDS - started)) s"
}
run demo
run customer
run anonymous

[ "$FAILED" = 0 ] || die "schemathesis found failures (logs: .local/logs/fuzz/)"
log "no server errors, no schema violations"
