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

ensure_venv() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "installing python3-venv"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  if [ ! -x "$VENV/bin/schemathesis" ]; then
    log "installing schemathesis into .local/fuzz-venv"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==4.32.5" "openapi-spec-validator==0.7.2" "argon2-cffi==25.1.0"
  fi
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

log "migrating and seeding"
"$BIN/tenant-service" migrate >/dev/null
"$BIN/inventory-service" migrate >/dev/null
"$BIN/demo-session" migrate >/dev/null
for seed in seed-demo-users seed-demo-tenants seed-demo-inventory; do "$BIN/$seed" >/dev/null; done

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

# Gating checks. Not yet: unsupported_method, allow_header_conformance (a method the
# document does not list is 401 or 404 at the gateway, and 405s carry no `Allow`),
# missing_required_header, ignored_auth (open findings, docs/reliability.md);
# positive_data_acceptance (a valid-looking id that does not exist is a 404, not a bug).
# The coverage phase is off: schemathesis 4.32.5 crashes in it on this document.
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,use_after_free,ensure_resource_availability"
FAILED=0
run() {
  local who=$1; shift
  log "schemathesis as $who: $EXAMPLES examples per operation, seed $SEED"
  local started=$SECONDS
  if ! "$VENV/bin/schemathesis" run "$GW/api/openapi.json" \
      --checks "$CHECKS" --phases examples,fuzzing,stateful \
      --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 \
      --request-timeout 30 --suppress-health-check all \
      --report junit --report-dir "$LOGS/$who" \
      "$@" 2>&1 | tee "$LOGS/schemathesis-$who.log"; then
    FAILED=1
  fi
  log "as $who: $((SECONDS - started)) s"
}
run demo -H "X-Demo-Session-Id: $SESSION_ID"
run customer -H "Authorization: Bearer $ACCESS_TOKEN"
run anonymous

[ "$FAILED" = 0 ] || die "schemathesis found failures (logs: .local/logs/fuzz/)"
log "no server errors, no schema violations"
