#!/usr/bin/env bash
# The dashboard and the point of sale as a prospect sees them at HH:MM today in Madrid:
#   scripts/screenshots-at.sh 11:00          -> docs/screenshots/{dashboard,pos}-1100.png
# A demo's "today" is a day in progress (the template's tickets show once their time has
# come), so what the screens hold depends on the hour; this shows another hour than the
# present one. It starts a stack of its own (instances under .local/clock, other ports,
# as scripts/dev.sh does) whose clock is moved to that hour — PostgreSQL, Redis, the seeds
# and the services through libfaketime (Debian's `libfaketime`, installed if missing;
# only the real time of day moves, never the monotonic clock the timers use) — and moves
# the headless browser's clock by the same offset (e2e/bakery-day.mjs, Playwright's
# clock). The build itself runs on the real clock. Stops everything it started.
set -euo pipefail
AT="${1:-}"
[[ "$AT" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || {
  echo "usage: scripts/screenshots-at.sh HH:MM   (today, Madrid time; e.g. 11:00)" >&2
  exit 2
}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# a stack apart from dev.sh's and the tests' (ports, instances, logs)
export BAKERY_LOCAL_DIR="${BAKERY_LOCAL_DIR:-$ROOT/.local/clock}"
export BAKERY_PG_PORT="${BAKERY_PG_PORT:-55632}"
export BAKERY_REDIS_PORT="${BAKERY_REDIS_PORT:-56579}"
export BAKERY_HTTP_PORT_OFFSET="${BAKERY_HTTP_PORT_OFFSET:-300}"
. "$ROOT/scripts/lib.sh"

faketime_library() { dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$' || true; }
if [ -z "$(faketime_library)" ]; then
  log "installing libfaketime"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libfaketime >/dev/null
fi
LIBFAKETIME="$(faketime_library)"
[ -n "$LIBFAKETIME" ] || die "libfaketime.so.1 not found after installing libfaketime"

now="$(date +%s)"
target="$(TZ=Europe/Madrid date -d "today $AT" +%s)"
offset=$((target - now))
log "moving the stack's clock by ${offset} s: $(TZ=Europe/Madrid date -d "@$target" '+%A %d %B %Y, %H:%M') in Madrid"

cd "$ROOT"
log "building (on the real clock)"
cargo build --bins ${CARGO_PROFILE_FLAG:-}

GATEWAY="http://127.0.0.1:$GATEWAY_HTTP_PORT"
PORTS=("$TENANT_HTTP_PORT" "$INVENTORY_HTTP_PORT" "$DEMO_HTTP_PORT" "$GATEWAY_HTTP_PORT")
mkdir -p "$LOCAL/logs"
DEV_LOG="$LOCAL/logs/dev.log"
DEV_PID=""
stop_stack() { stop_started "$DEV_PID" "the moved stack"; }

# Only PostgreSQL and the stack's own programs get the moved clock: libfaketime clashes
# with jemalloc (redis-server and redis-cli hang with it preloaded), and Redis's TTLs are
# intervals anyway. PostgreSQL is started here, before dev.sh, which then leaves it alone.
MOVED=(env "LD_PRELOAD=$LIBFAKETIME" "FAKETIME=$(printf %+d "$offset")" FAKETIME_DONT_FAKE_MONOTONIC=1)
pg_running && die "a PostgreSQL already runs from ${PG_DATA#"$ROOT/"}: stop it first (its clock is not moved)"
log "starting PostgreSQL at the moved hour"
(
  export LD_PRELOAD="$LIBFAKETIME" FAKETIME="$(printf %+d "$offset")" FAKETIME_DONT_FAKE_MONOTONIC=1
  start_postgres
)
stop_everything() {
  stop_stack
  stop_postgres
  stop_redis
}
trap stop_everything EXIT

log "starting the stack at the moved hour (log: ${DEV_LOG#"$ROOT/"})"
BAKERY_RUN_PREFIX="${MOVED[*]}" DEMO_RATE_LIMIT_PER_HOUR=1000 \
  setsid "$ROOT/scripts/dev.sh" >"$DEV_LOG" 2>&1 &
DEV_PID=$!
for _ in $(seq 1 300); do
  ready=1
  for port in "${PORTS[@]}"; do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 || { ready=0; break; }
  done
  [ "$ready" = 1 ] && break
  kill -0 "$DEV_PID" 2>/dev/null || { tail -n 30 "$DEV_LOG" >&2; die "the stack did not start"; }
  sleep 1
done
[ "$ready" = 1 ] || { tail -n 30 "$DEV_LOG" >&2; die "the stack was not ready within 5 minutes"; }
psql_now="$(PGPASSWORD= psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT to_char(now() AT TIME ZONE 'Europe/Madrid', 'HH24:MI')" 2>/dev/null || echo '?')"
log "PostgreSQL's clock says $psql_now in Madrid"

cd "$ROOT/e2e"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
E2E_BASE_URL="$GATEWAY" E2E_SCREENSHOTS="$ROOT/docs/screenshots" E2E_PG_PORT="$PG_PORT" \
  E2E_CLOCK_OFFSET_MS="$((offset * 1000))" E2E_SHOT_LABEL="${AT/:/}" \
  timeout 300 node bakery-day.mjs
log "docs/screenshots/dashboard-${AT/:/}.png and pos-${AT/:/}.png written"
