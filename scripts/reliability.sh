#!/usr/bin/env bash
# Reliability figures under hostile load (issue 11), written to docs/reliability.md:
#   1. a real session's latency alone and during a flood of made-up session ids;
#   2. a demo session reading and writing while another writes as fast as it can;
#   3. consuming 5,000 lots in one adjustment, and what the quotas let a session do.
#
# Starts the whole stack in release mode on private ports (18001-18003, gateway 18080),
# on the local PostgreSQL and Redis (started if needed, as scripts/dev.sh does), runs
# `cargo bench -p bakery-gateway --bench reliability` against it and stops what it
# started. Loopback only; every scenario is bounded in time (RELIABILITY_SECONDS, 20).
#
#   scripts/reliability.sh                 # writes docs/reliability.md
#   RELIABILITY_SECONDS=5 RELIABILITY_OUTPUT=/tmp/r.md scripts/reliability.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUTPUT="${RELIABILITY_OUTPUT:-$ROOT/docs/reliability.md}"
export RELIABILITY_SECONDS="${RELIABILITY_SECONDS:-20}"
export RELIABILITY_FLOOD_CONNECTIONS="${RELIABILITY_FLOOD_CONNECTIONS:-64}"

note_what_runs
trap stop_what_we_started INT TERM EXIT
setup_infrastructure

for port in 18001 18002 18003 18080; do
  port_taken "$port" && die "port $port is in use (another reliability run?)"
done

cd "$ROOT"
log "building (release)"
cargo build --release --bins
cargo bench -p bakery-gateway --bench reliability --no-run
BIN="$ROOT/target/release"
LOGS="$LOCAL/logs/reliability"; mkdir -p "$LOGS"

migrate_and_seed "$BIN"

# production defaults, except: the script creates a dozen sessions from one address, and
# the gateway trusts loopback as its proxy so the flood can come "from many clients"
export APP_ENV=production LOG_LEVEL=warn
export REDIS_KEY_PREFIX="reliability:"
export DEMO_RATE_LIMIT_PER_HOUR=1000
export GATEWAY_TRUSTED_PROXIES=127.0.0.1
export DEMO_SESSION_URL=http://127.0.0.1:18001
export TENANT_SERVICE_URL=http://127.0.0.1:18002
export INVENTORY_SERVICE_URL=http://127.0.0.1:18003
# the gateway's metrics listener, off the default 9180 a running scripts/dev.sh holds
export GATEWAY_METRICS_ADDR=127.0.0.1:18090
redis-cli -p "$REDIS_PORT" --scan --pattern "${REDIS_KEY_PREFIX}*" | xargs -r redis-cli -p "$REDIS_PORT" unlink >/dev/null
for entry in "tenant-service 18002" "inventory-service 18003" "demo-session 18001" "gateway 18080"; do
  set -- $entry
  PORT=$2 "$BIN/$1" serve >"$LOGS/$1.log" 2>&1 &
  PIDS+=($!)
done
for entry in "tenant-service 18002" "inventory-service 18003" "demo-session 18001" "gateway 18080"; do
  set -- $entry
  wait_ready "$1" "$2" "$LOGS/$1.log"
done

log "running the scenarios (${RELIABILITY_SECONDS} s each run)"
FIGURES="$(mktemp)"
RELIABILITY_GATEWAY_URL=http://127.0.0.1:18080 RELIABILITY_OUTPUT="$FIGURES" \
  cargo bench -p bakery-gateway --bench reliability

{
  cat <<EOF
# Reliability under hostile load

Figures from \`scripts/reliability.sh\` (the stack in release mode on loopback, production
defaults except \`DEMO_RATE_LIMIT_PER_HOUR=1000\` and \`GATEWAY_TRUSTED_PROXIES=127.0.0.1\`),
each from one run. What makes them hold is described in [gateway.md](gateway.md) (the
client address, bad credentials), [api-inventory.md](api-inventory.md) (quotas,
set-based stock consumption) and [configuration.md](configuration.md) (database limits).

- commit: \`$(git rev-parse --short HEAD)$(git diff --quiet || echo ' + local changes')\`, $(date -u +%Y-%m-%d)
- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); the probes
  run on the same cores as the stack, the floods and the fast writer in their own process
  at \`nice -n 19\` (they stand in for machines elsewhere)
- PostgreSQL $(psql_admin -tAc 'SHOW server_version' | cut -d' ' -f1), Redis $(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/')

EOF
  cat "$FIGURES"
} > "$OUTPUT"
rm -f "$FIGURES"
log "written: $OUTPUT"
