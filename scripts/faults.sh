#!/usr/bin/env bash
# Fault injection with real processes (issue 13): the whole stack (debug binaries) on a
# PostgreSQL and a Redis of its own, and scripts/faults.py breaking things under traffic:
#   kill-clone      demo-session SIGKILLed while creates clone, then started again
#   pg-restart      PostgreSQL stopped (-m fast) and started again under steady traffic
#   redis-outage    Redis stopped, then started again, under traffic
#   inventory-down  inventory-service killed under traffic, then started again
#   cleanup-race    three `demo-session cleanup` processes on the same N expired sessions
#   soak            a mixed load; RSS of every service flat, 0 orphans, 0 5xx
# Each scenario is bounded in time and requests, prints its figures and fails the run
# when a goal is missed (docs/reliability.md, "Faults").
#
#   scripts/faults.sh                   # the short form (scripts/test.sh runs it; SKIP_FAULTS=1 skips)
#   scripts/faults.sh --long            # the long form: longer outages, N=1000, a 10-minute soak
#   scripts/faults.sh pg-restart soak   # only these scenarios
#
# It restarts PostgreSQL and stops Redis, so it never uses the stack's instances: it starts
# its own under .local/faults/ on FAULTS_PG_PORT and FAULTS_REDIS_PORT (default: the stack's
# ports + 10) and refuses to run if either is taken. Services listen on loopback,
# FAULTS_BASE_PORT+1..+3 (default 19001-19003), the gateway on +80 (19080).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LONG=0
if [ "${1:-}" = "--long" ]; then LONG=1; shift; fi
export FAULTS_LONG=$LONG

PG_PORT="${FAULTS_PG_PORT:-$((PG_PORT + 10))}"
REDIS_PORT="${FAULTS_REDIS_PORT:-$((REDIS_PORT + 10))}"
BASE="${FAULTS_BASE_PORT:-19000}"
use_local_dir "$LOCAL/faults"

# only ever instances this script started: both ports must be free, and nothing may run
# in .local/faults/ (an interrupted run's leftovers are stopped by hand)
port_taken "$PG_PORT" && die "127.0.0.1:$PG_PORT is taken: faults.sh needs a PostgreSQL of its own (FAULTS_PG_PORT)"
port_taken "$REDIS_PORT" && die "127.0.0.1:$REDIS_PORT is taken: faults.sh needs a Redis of its own (FAULTS_REDIS_PORT)"
for port in $((BASE + 1)) $((BASE + 2)) $((BASE + 3)) $((BASE + 80)) $((BASE + 90)); do
  port_taken "$port" && die "port $port is in use (another faults run? FAULTS_BASE_PORT moves them)"
done

note_what_runs
[ "$STARTED_PG" = 1 ] && [ "$STARTED_REDIS" = 1 ] || die "PostgreSQL or Redis already runs in .local/faults: stop it first"
trap stop_what_we_started INT TERM EXIT
setup_infrastructure

cd "$ROOT"
log "building (debug)"
cargo build --workspace --bins --quiet
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
LOGS="$LOCAL/logs"; mkdir -p "$LOGS"

migrate_and_seed "$BIN"

# the stack's settings for the scenarios: no warm pool (every create clones while the
# request waits, which is what a kill must catch), no background sweeper (the scenarios run
# cleanup passes themselves), the shortest pending timeout, generous create limits, and an
# upstream timeout the traffic checks "never a hang" against
export LOG_LEVEL="${LOG_LEVEL:-warn}" REDIS_KEY_PREFIX="faults:"
export DEMO_WARM_POOL_SIZE=0 CLEANUP_INTERVAL_SECONDS=0 PENDING_TIMEOUT_SECONDS=10
export DEMO_RATE_LIMIT_PER_HOUR=100000 DEMO_MAX_ACTIVE_SESSIONS=5000
export UPSTREAM_TIMEOUT_SECONDS=10 DATABASE_POOL_WAIT_MS=2000
export DEMO_SESSION_URL="http://127.0.0.1:$((BASE + 1))"
export TENANT_SERVICE_URL="http://127.0.0.1:$((BASE + 2))"
export INVENTORY_SERVICE_URL="http://127.0.0.1:$((BASE + 3))"
export GATEWAY_METRICS_ADDR="127.0.0.1:$((BASE + 90))"
export FAULTS_BIN="$BIN" FAULTS_LOGS="$LOGS" FAULTS_BASE_PORT="$BASE"
export FAULTS_PG_PORT="$PG_PORT" FAULTS_PG_DATA="$PG_DATA" FAULTS_PG_LOG="$PG_LOG"
export FAULTS_PG_CTL="$(pg_bin_dir)/pg_ctl"
export FAULTS_REDIS_PORT="$REDIS_PORT" FAULTS_REDIS_DIR="$REDIS_DIR" FAULTS_REDIS_MAXMEMORY="$REDIS_MAXMEMORY"
export FAULTS_AS_POSTGRES=""
[ "$(id -u)" -eq 0 ] && FAULTS_AS_POSTGRES="runuser -u postgres --"

log "running the fault scenarios ($([ "$LONG" = 1 ] && echo long || echo short) form; logs: ${LOGS#"$ROOT"/})"
# the driver starts and stops the services itself (it kills and restarts them); it is
# our child, and stops them when it is stopped
python3 "$ROOT/scripts/faults.py" "$@" &
PIDS+=($!)
wait "${PIDS[-1]}"
