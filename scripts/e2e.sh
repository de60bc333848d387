#!/usr/bin/env bash
# End-to-end test of the prospect's demo page in headless Chromium (e2e/demo.test.mjs, the
# guided checklist in e2e/checklist.test.mjs, from demo to customer — sign-up, login,
# logout, reset — in e2e/signup.test.mjs, the operator view in e2e/admin.test.mjs) against
# the real local stack.
#   - installs Debian's chromium and the test's node packages (e2e/package-lock.json)
#   - reuses a stack already answering on 127.0.0.1:8080 (8080 + BAKERY_HTTP_PORT_OFFSET, with
#     the services on 8001-8003 + the offset), or starts one with
#     `scripts/dev.sh` in the background, waits for every /ready, and stops it at the end
#     (dev.sh itself leaves PostgreSQL and Redis alone when it did not start them)
#   - runs the test
# `scripts/e2e.sh --screenshots` also refreshes docs/screenshots/ (otherwise they go to
# .local/e2e-screenshots/). Called at the end of scripts/test.sh (SKIP_E2E=1 skips it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SHOTS="$LOCAL/e2e-screenshots"
[ "${1:-}" = "--screenshots" ] && SHOTS="$ROOT/docs/screenshots"
GATEWAY="http://127.0.0.1:$GATEWAY_HTTP_PORT"
PORTS=("$TENANT_HTTP_PORT" "$INVENTORY_HTTP_PORT" "$DEMO_HTTP_PORT" "$GATEWAY_HTTP_PORT")

ensure_browser_and_node() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium fonts-dejavu-core)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "node $major is too old for the e2e test: node 20 or newer is needed"
  # never a browser download: playwright-core drives the system chromium
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ ! -d "$ROOT/e2e/node_modules/playwright-core" ] ||
     [ "$ROOT/e2e/package-lock.json" -nt "$ROOT/e2e/node_modules/.package-lock.json" ]; then
    log "installing the e2e test's node packages"
    (cd "$ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

stack_ready() {
  local port
  for port in "${PORTS[@]}"; do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 || return 1
  done
}

# one e2e run at a time on this machine (they would share the ports)
mkdir -p "$LOCAL"
exec 9>"$LOCAL/e2e.lock"
flock 9

ensure_browser_and_node

DEV_PID=""
DEV_LOG="$LOCAL/logs/e2e-dev.log"
stop_stack() { stop_started "$DEV_PID" "the stack started for the e2e test"; }
trap stop_stack EXIT

if stack_ready; then
  log "reusing the stack already running on $GATEWAY (its gateway serves the page it was built with)"
else
  mkdir -p "$LOCAL/logs"
  log "starting the stack with scripts/dev.sh (log: .local/logs/e2e-dev.log)"
  # generous limits: the test creates a few sessions, and converts a few, from 127.0.0.1 on
  # every run
  # a cap of 100: e2e/waiting.test.mjs fills it to see the waiting room
  DEMO_RATE_LIMIT_PER_HOUR="${DEMO_RATE_LIMIT_PER_HOUR:-1000}" \
    DEMO_CONVERSIONS_PER_HOUR="${DEMO_CONVERSIONS_PER_HOUR:-1000}" \
    DEMO_MAX_ACTIVE_SESSIONS="${DEMO_MAX_ACTIVE_SESSIONS:-100}" \
    "$ROOT/scripts/dev.sh" >"$DEV_LOG" 2>&1 &
  DEV_PID=$!
  # dev.sh builds every binary first: allow for a cold build
  deadline=$((SECONDS + ${E2E_STACK_TIMEOUT:-1800}))
  until stack_ready; do
    if ! kill -0 "$DEV_PID" 2>/dev/null; then
      tail -40 "$DEV_LOG" >&2
      die "scripts/dev.sh stopped before the stack was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -40 "$DEV_LOG" >&2; die "the stack was not ready in time"; }
    sleep 1
  done
  log "the stack is ready"
fi

# fail fast (not in 30-second browser timeouts) when the gateway does not serve the page
page="$(curl -fsS "$GATEWAY/" 2>/dev/null || true)"
[[ "$page" == *"/static/app.js"* ]] ||
  die "the gateway on $GATEWAY does not serve the demo page at / (was it built from crates/gateway/static/?)"

log "running the e2e test (screenshots: ${SHOTS#"$ROOT"/})"
cd "$ROOT/e2e"
E2E_BASE_URL="$GATEWAY" E2E_SCREENSHOTS="$SHOTS" E2E_PG_PORT="$PG_PORT" E2E_REDIS_PORT="$REDIS_PORT" \
  timeout "${E2E_TEST_TIMEOUT:-600}" node --test --test-concurrency=1 --test-reporter=spec policy.test.mjs api.test.mjs format.test.mjs demo.test.mjs checklist.test.mjs signup.test.mjs admin.test.mjs clock.test.mjs waiting.test.mjs
