#!/usr/bin/env bash
# The README's first command: the whole local stack, no containers.
#   - installs PostgreSQL and Redis if missing, starts private instances under .local/
#   - builds every binary, migrates every database, seeds the demo data
#   - starts every service and prints the gateway URL; Ctrl-C stops everything it started
# `scripts/dev.sh --smoke` does the same, checks every service answers /ready, and exits.
# `--with-monitoring` also starts a local Prometheus on 127.0.0.1:59090 scraping every
# service with the alert rules of k8s/components/monitoring (docs/observability.md).
# BAKERY_HTTP_PORT_OFFSET=N moves every HTTP port by N (gateway 8080+N, services 8001+N to
# 8003+N, the gateway's metrics 9180+N), and the URLs the services reach each other on.
# BAKERY_RUN_PREFIX is put before every program of the stack it runs (migrations, seeds,
# services): scripts/screenshots-at.sh runs them on a moved clock with it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SMOKE=0; MONITORING=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --with-monitoring) MONITORING=1 ;;
  esac
done

note_what_runs
trap stop_what_we_started INT TERM EXIT
setup_infrastructure
export_service_urls
for port in "$DEMO_HTTP_PORT" "$TENANT_HTTP_PORT" "$INVENTORY_HTTP_PORT" "$GATEWAY_HTTP_PORT" "$GATEWAY_METRICS_PORT"; do
  port_taken "$port" && die "127.0.0.1:$port is taken (another stack?): stop it, or move every HTTP port with BAKERY_HTTP_PORT_OFFSET"
done

cd "$ROOT"
log "building"
cargo build --bins ${CARGO_PROFILE_FLAG:-}
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_PROFILE_DIR:-debug}"
LOGS="$LOCAL/logs"; mkdir -p "$LOGS"

RUN=(${BAKERY_RUN_PREFIX:-})

log "migrating"
"${RUN[@]}" "$BIN/tenant-service" migrate
"${RUN[@]}" "$BIN/inventory-service" migrate
"${RUN[@]}" "$BIN/demo-session" migrate

# seeds (idempotent): run when the binaries that provide them exist
for seed in seed-demo-users seed-demo-tenants seed-demo-inventory; do
  if [ -x "$BIN/$seed" ]; then log "$seed"; "${RUN[@]}" "$BIN/$seed"; fi
done

# name port binary
SERVICES=(
  "tenant-service $TENANT_HTTP_PORT"
  "inventory-service $INVENTORY_HTTP_PORT"
  "demo-session $DEMO_HTTP_PORT"
  "gateway $GATEWAY_HTTP_PORT"
)
for entry in "${SERVICES[@]}"; do
  set -- $entry
  name=$1; port=$2
  [ -x "$BIN/$name" ] || continue
  PORT=$port "${RUN[@]}" "$BIN/$name" serve >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
done

log "waiting for services"
for entry in "${SERVICES[@]}"; do
  set -- $entry
  name=$1; port=$2
  [ -x "$BIN/$name" ] || continue
  wait_ready "$name" "$port" "$LOGS/$name.log"
  printf '    %-18s http://127.0.0.1:%s  (log: .local/logs/%s.log)\n' "$name" "$port" "$name"
done

if [ "$MONITORING" = 1 ]; then
  log "starting Prometheus"
  start_prometheus
  printf '    %-18s http://127.0.0.1:%s/alerts  (log: .local/logs/prometheus.log)\n' prometheus "$PROM_PORT"
fi

if [ -x "$BIN/gateway" ]; then
  printf '\n\033[1;32mBakery-IA is up: open http://127.0.0.1:%s/\033[0m\n' "$GATEWAY_HTTP_PORT"
else
  printf '\n\033[1;32mBakery-IA services are up.\033[0m\n'
fi

if [ "$SMOKE" = 1 ]; then log "smoke check passed"; exit 0; fi
echo "Ctrl-C stops everything."
wait
