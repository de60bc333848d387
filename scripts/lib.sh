#!/usr/bin/env bash
# Shared by scripts/dev.sh and scripts/test.sh: installs what is missing, starts private
# PostgreSQL and Redis instances under .local/ (git-ignored) on non-standard ports, and
# creates the databases. Every step is safe to re-run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# BAKERY_LOCAL_DIR puts a whole second set of instances elsewhere (scripts/screenshots-at.sh)
LOCAL="${BAKERY_LOCAL_DIR:-$ROOT/.local}"
PG_PORT="${BAKERY_PG_PORT:-55432}"
REDIS_PORT="${BAKERY_REDIS_PORT:-56379}"
# The HTTP ports of the local stack (scripts/dev.sh, scripts/e2e.sh): demo-session 8001,
# tenant-service 8002, inventory-service 8003, gateway 8080 and its metrics listener 9180,
# all moved together by BAKERY_HTTP_PORT_OFFSET (default 0), so a second stack (another
# checkout, a CI run) can run beside the first. The services reach each other on the moved
# ports too (export_service_urls).
HTTP_PORT_OFFSET="${BAKERY_HTTP_PORT_OFFSET:-0}"
[[ "$HTTP_PORT_OFFSET" =~ ^[0-9]+$ ]] && [ "$HTTP_PORT_OFFSET" -le 50000 ] || {
  printf '\033[1;31mxx\033[0m BAKERY_HTTP_PORT_OFFSET must be a whole number from 0 to 50000, not "%s"\n' "$HTTP_PORT_OFFSET" >&2
  exit 2
}
DEMO_HTTP_PORT=$((8001 + HTTP_PORT_OFFSET))
TENANT_HTTP_PORT=$((8002 + HTTP_PORT_OFFSET))
INVENTORY_HTTP_PORT=$((8003 + HTTP_PORT_OFFSET))
GATEWAY_HTTP_PORT=$((8080 + HTTP_PORT_OFFSET))
GATEWAY_METRICS_PORT=$((9180 + HTTP_PORT_OFFSET))
# Where the instances live; `use_local_dir DIR` moves them (scripts/faults.sh keeps a pair
# of its own under .local/faults, which it may restart and stop).
use_local_dir() {
  LOCAL="$1"
  PG_DATA="$LOCAL/postgres/data"
  PG_RUN="$LOCAL/postgres/run"
  PG_LOG="$LOCAL/postgres/postgres.log"
  REDIS_DIR="$LOCAL/redis"
  TLS_DIR="$LOCAL/tls"
}
use_local_dir "$LOCAL"
# Redis holds sessions, rate counters and small per-tenant counters, never cache pages:
# a memory cap with `noeviction`, so nothing is ever evicted and a runaway fails loudly
# (writes refused) instead of growing without end (docs/deploy.md, "Redis")
REDIS_MAXMEMORY="${BAKERY_REDIS_MAXMEMORY:-256mb}"
DB_ROLE="bakery"
DATABASES=(tenant inventory demo_session)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Installs PostgreSQL server and Redis from Debian's packages when they are missing.
ensure_packages() {
  local missing=()
  pg_bin_dir >/dev/null || missing+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts a system-wide cluster and Redis on install; ours are private, so leave
    # theirs alone (different ports).
  fi
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Something already listens on 127.0.0.1:$1.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_running() {
  "$(pg_bin_dir)/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1 || run_pg "$(pg_bin_dir)/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# A private CA and a server certificate for localhost and 127.0.0.1 it signed, made once
# under .local/tls (ECDSA P-256, ten years), for TLS to the private PostgreSQL and Redis;
# and a second CA that signs nothing (the tests check a server it did not sign is
# refused). Readable by the current user only; PostgreSQL gets its own copy (start_postgres).
ensure_tls_files() {
  [ -f "$TLS_DIR/server.crt" ] && [ -f "$TLS_DIR/other-ca.crt" ] && return 0
  log "creating a private CA and a server certificate in ${TLS_DIR#"$ROOT/"}"
  mkdir -p "$TLS_DIR"
  (
    umask 077
    cd "$TLS_DIR"
    cat > ext.cnf <<'EXT'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
    local ca
    for ca in ca other-ca; do
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$ca.key" -out "$ca.csr" -subj "/CN=Bakery-IA local $ca" 2>/dev/null
      openssl x509 -req -in "$ca.csr" -signkey "$ca.key" -days 3650 \
        -extfile ext.cnf -extensions ca -out "$ca.crt" 2>/dev/null
    done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile ext.cnf -extensions server -out server.crt 2>/dev/null
    rm -f ./*.csr ca.srl other-ca.key
    # certificates are public; keys stay 0600
    chmod 0644 ca.crt other-ca.crt server.crt
  ) || die "could not create the TLS files in $TLS_DIR (openssl)"
}

# PostgreSQL's copy of the server certificate and key, in its data folder, owned by the
# user it runs as (it refuses a key others can read).
PG_TLS_CHANGED=0
install_postgres_tls() {
  cmp -s "$TLS_DIR/server.crt" "$PG_DATA/server.crt" 2>/dev/null && return 0
  run_pg sh -c "umask 077; cat > '$PG_DATA/server.key'" < "$TLS_DIR/server.key"
  run_pg sh -c "umask 077; cat > '$PG_DATA/server.crt'" < "$TLS_DIR/server.crt"
  PG_TLS_CHANGED=1
}

start_postgres() {
  local bin; bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found"
  mkdir -p "$LOCAL/postgres"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || as_root useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$LOCAL/postgres"
    # the postgres user must be able to reach the folder
    local d="$LOCAL"; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising a private PostgreSQL cluster in .local/postgres"
    run_pg mkdir -p "$PG_DATA" "$PG_RUN"
    run_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    # private development/test instance: loopback only, speed over durability
    run_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 400
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
# TLS offered (server.crt/server.key, from .local/tls); plain connections still accepted
ssl = on
CONF
  fi
  run_pg mkdir -p "$PG_RUN"
  ensure_tls_files
  install_postgres_tls
  if ! pg_running; then
    port_taken "$PG_PORT" && die "127.0.0.1:$PG_PORT is taken by another server (another checkout's PostgreSQL?): stop it, or pick another port with BAKERY_PG_PORT"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # our ports lie in Linux's ephemeral range (32768-60999): a client socket of a busy
    # machine can hold the port for a moment and the bind fails, so a failed start is tried
    # again (three times) before giving up with the server's own words
    local attempt
    for attempt in 1 2 3; do
      run_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $PG_PORT" -w -t 60 start >/dev/null && break
      if [ "$attempt" = 3 ]; then
        tail -n 15 "$PG_LOG" >&2 || true
        die "PostgreSQL did not start on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
      fi
      log "PostgreSQL did not start (attempt $attempt: $(tail -n 1 "$PG_LOG" 2>/dev/null)); trying again"
      sleep 2
    done
  fi
  # a running server re-reads new certificate files on a reload
  [ "$PG_TLS_CHANGED" = 1 ] && psql_admin -qc "SELECT pg_reload_conf()" >/dev/null
  # a cluster made before TLS was offered gets it now (a reload is enough)
  if [ "$(psql_admin -tAc "SHOW ssl")" != on ]; then
    log "enabling TLS on the private PostgreSQL"
    psql_admin -qc "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
    local i; for i in $(seq 1 50); do [ "$(psql_admin -tAc "SHOW ssl")" = on ] && break; sleep 0.1; done
    [ "$(psql_admin -tAc "SHOW ssl")" = on ] || die "PostgreSQL did not turn TLS on (see ${PG_LOG#"$ROOT/"})"
  fi
  [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" = 1 ] ||
    psql_admin -qc "CREATE ROLE $DB_ROLE LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS"
  # A role that owns nothing, which the test role may switch to (SET ROLE): the tests check
  # row-level security for a service that is not the tables' owner too. Idempotent.
  [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${DB_ROLE}_service'")" = 1 ] ||
    psql_admin -qc "CREATE ROLE ${DB_ROLE}_service NOLOGIN NOSUPERUSER NOBYPASSRLS" \
      -c "GRANT ${DB_ROLE}_service TO $DB_ROLE"
  # lets the demo cloner skip per-row foreign-key triggers in its copy transaction
  # (PostgreSQL 15+; see crates/demo-session/src/cloner.rs). Idempotent.
  psql_admin -qc "DO \$\$ BEGIN IF current_setting('server_version_num')::int >= 150000 THEN
    EXECUTE 'GRANT SET ON PARAMETER session_replication_role TO $DB_ROLE'; END IF; END \$\$"
  local db
  for db in "${DATABASES[@]}"; do
    [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] ||
      psql_admin -qc "CREATE DATABASE $db OWNER $DB_ROLE"
    # A second wall behind the services' own per-connection limits (DATABASE_*_MS, set on
    # every pooled connection): whatever connects as the role to a service database (a
    # migration, a seed, psql) cannot run, wait for a lock or sit in a transaction for
    # ever. Looser than the services' limits, which override them. Test databases
    # (test_*) are not covered. Idempotent.
    psql_admin -q \
      -c "ALTER ROLE $DB_ROLE IN DATABASE $db SET statement_timeout = '60s'" \
      -c "ALTER ROLE $DB_ROLE IN DATABASE $db SET lock_timeout = '30s'" \
      -c "ALTER ROLE $DB_ROLE IN DATABASE $db SET idle_in_transaction_session_timeout = '60s'"
  done
}

# Migrates every database and seeds the demo data with the binaries in $1, quietly (the
# stacks that scripts/faults.sh, fuzz-api.sh and reliability.sh start; dev.sh shows it).
migrate_and_seed() {
  local bin="$1" seed
  log "migrating and seeding"
  "$bin/tenant-service" migrate >/dev/null
  "$bin/inventory-service" migrate >/dev/null
  "$bin/demo-session" migrate >/dev/null
  for seed in seed-demo-users seed-demo-tenants seed-demo-inventory; do "$bin/$seed" >/dev/null; done
}

psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

stop_postgres() {
  local bin; bin="$(pg_bin_dir)" || return 0
  if pg_running; then log "stopping PostgreSQL"; run_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true; fi
}

redis_running() { redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; }

# Debian's redis-server is built with TLS (it links libssl); a build without it cannot
# take --tls-port, so Redis then runs without its TLS port (and the TLS tests say why).
# (the whole output is read first: `ldd … | grep -q` under `pipefail` fails at random when
# grep stops reading before ldd has written everything, and ldd dies of SIGPIPE)
redis_has_tls() {
  local libs
  libs="$(ldd "$(command -v redis-server)" 2>/dev/null || true)"
  [[ $libs == *libssl* ]]
}
# Redis also listens with TLS, on the port after its own (read when used: scripts/faults.sh
# moves REDIS_PORT after sourcing this file)
redis_tls_port() { echo $((REDIS_PORT + 1)); }

start_redis() {
  mkdir -p "$REDIS_DIR"
  local tls=()
  if redis_has_tls; then
    ensure_tls_files
    tls=(--tls-port "$(redis_tls_port)" --tls-cert-file "$TLS_DIR/server.crt"
      --tls-key-file "$TLS_DIR/server.key" --tls-ca-cert-file "$TLS_DIR/ca.crt" --tls-auth-clients no)
  else
    log "redis-server has no TLS support: no TLS port (the rediss:// tests will fail)"
  fi
  if ! redis_running; then
    [ "${#tls[@]}" -gt 0 ] && port_taken "$(redis_tls_port)" &&
      die "127.0.0.1:$(redis_tls_port) (Redis' TLS port, BAKERY_REDIS_PORT + 1) is taken: pick other ports with BAKERY_REDIS_PORT"
    log "starting Redis on 127.0.0.1:$REDIS_PORT${tls[*]:+ (TLS on $(redis_tls_port))}"
    # tried again like PostgreSQL's start (a port of the ephemeral range held for a moment)
    local attempt i
    for attempt in 1 2 3; do
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
        --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no \
        --protected-mode yes --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy noeviction \
        "${tls[@]}" >/dev/null
      for i in $(seq 1 50); do redis_running && break; sleep 0.1; done
      redis_running && break
      if [ "$attempt" = 3 ]; then
        tail -n 5 "$REDIS_DIR/redis.log" >&2 || true
        die "Redis did not start (see $REDIS_DIR/redis.log)"
      fi
      log "Redis did not start (attempt $attempt); trying again"
      sleep 2
    done
  elif [ "${#tls[@]}" -gt 0 ] && [ "$(redis-cli -p "$REDIS_PORT" config get tls-port | tail -1)" = 0 ]; then
    # an instance started before the TLS port existed gets it now (applied live)
    log "opening Redis' TLS port $(redis_tls_port)"
    redis-cli -p "$REDIS_PORT" config set tls-cert-file "$TLS_DIR/server.crt" >/dev/null
    redis-cli -p "$REDIS_PORT" config set tls-key-file "$TLS_DIR/server.key" >/dev/null
    redis-cli -p "$REDIS_PORT" config set tls-ca-cert-file "$TLS_DIR/ca.crt" >/dev/null
    redis-cli -p "$REDIS_PORT" config set tls-auth-clients no >/dev/null
    redis-cli -p "$REDIS_PORT" config set tls-port "$(redis_tls_port)" >/dev/null
  fi
  # an instance started before these settings existed gets them too (applied live)
  redis-cli -p "$REDIS_PORT" config set maxmemory "$REDIS_MAXMEMORY" >/dev/null
  redis-cli -p "$REDIS_PORT" config set maxmemory-policy noeviction >/dev/null
}

stop_redis() { if redis_running; then log "stopping Redis"; redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi; }

# Signing keys for the local stack, generated once, kept in .local/secrets.env.
ensure_secrets() {
  local f="$LOCAL/secrets.env"
  if [ ! -f "$f" ]; then
    mkdir -p "$LOCAL"
    umask 077
    {
      for v in INTERNAL_TOKEN_SECRET ACCESS_TOKEN_SECRET SESSION_TOKEN_SECRET ADMIN_API_KEY IP_HASH_KEY; do
        echo "$v=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
      done
    } > "$f"
  fi
  set -a; . "$f"; set +a
}

# The environment every process of the local stack shares.
export_stack_env() {
  export APP_ENV="${APP_ENV:-development}"
  export TENANT_DATABASE_URL="postgres://$DB_ROLE@127.0.0.1:$PG_PORT/tenant"
  export INVENTORY_DATABASE_URL="postgres://$DB_ROLE@127.0.0.1:$PG_PORT/inventory"
  export DEMO_SESSION_DATABASE_URL="postgres://$DB_ROLE@127.0.0.1:$PG_PORT/demo_session"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  export TEST_DATABASE_URL="postgres://$DB_ROLE@127.0.0.1:$PG_PORT/postgres"
  export TEST_REDIS_URL="$REDIS_URL"
  # the TLS tests (crates/config/tests/tls.rs): the CA that signed the private servers'
  # certificate, one that did not, and Redis' TLS port; REQUIRE makes them fail, not
  # skip, when something is missing
  export BAKERY_TEST_TLS_CA="$TLS_DIR/ca.crt"
  export BAKERY_TEST_TLS_OTHER_CA="$TLS_DIR/other-ca.crt"
  export BAKERY_TEST_REDIS_TLS_PORT="$(redis_tls_port)"
  export BAKERY_TEST_REQUIRE_TLS=1
}

# The URLs the local stack's services use to reach each other, and the gateway's metrics
# listener, on the ports BAKERY_HTTP_PORT_OFFSET chose (scripts/dev.sh; the settings'
# defaults are the offset-0 ones).
export_service_urls() {
  export DEMO_SESSION_URL="http://127.0.0.1:$DEMO_HTTP_PORT"
  export TENANT_SERVICE_URL="http://127.0.0.1:$TENANT_HTTP_PORT"
  export INVENTORY_SERVICE_URL="http://127.0.0.1:$INVENTORY_HTTP_PORT"
  export GATEWAY_METRICS_ADDR="127.0.0.1:$GATEWAY_METRICS_PORT"
}

# What a script started, so that on exit it stops only that: a running `scripts/dev.sh`
# (and its PostgreSQL and Redis) is left alone. Call note_what_runs before
# setup_infrastructure, add service PIDs to PIDS, and `trap stop_what_we_started …`.
STARTED_PG=0; STARTED_REDIS=0; PIDS=()
note_what_runs() {
  pg_bin_dir >/dev/null 2>&1 && pg_running || STARTED_PG=1
  redis_running || STARTED_REDIS=1
}
stop_what_we_started() {
  trap - INT TERM EXIT
  if [ "${#PIDS[@]}" -gt 0 ]; then
    log "stopping services"
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  [ "$STARTED_REDIS" = 1 ] && stop_redis
  [ "$STARTED_PG" = 1 ] && stop_postgres
  return 0
}

# Stops a background stack this script started (`stop_started PID "what it is"`): TERM, so
# dev.sh stops its services (and the PostgreSQL and Redis it started), then waits for it.
stop_started() {
  local pid="$1" what="$2"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping $what"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

# Waits up to 20 s for http://127.0.0.1:PORT/ready; otherwise shows LOG's tail and stops.
wait_ready() {
  local name=$1 port=$2 logfile=$3 _
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -20 "$logfile" >&2
  die "$name did not become ready on port $port (log: $logfile)"
}

# Everything both README commands need before they build anything.
setup_infrastructure() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
  ensure_packages
  start_postgres
  start_redis
  ensure_secrets
  export_stack_env
}

# ---- local Prometheus (scripts/dev.sh --with-monitoring) ------------------------------
# Debian's `prometheus` package, a private instance: data in .local/prometheus, listening on
# 127.0.0.1 only, on a port of its own (a system-wide Prometheus, which Debian's package
# starts where systemd runs, keeps 9090). It scrapes the local services under the job names
# the Kubernetes ServiceMonitors give them and loads the SAME rules: the PrometheusRule of
# k8s/components/monitoring, extracted by scripts/monitoring-rules.py
# (docs/observability.md "Dashboards and local Prometheus").
PROM_PORT="${BAKERY_PROMETHEUS_PORT:-59090}"
PROM_DIR="$LOCAL/prometheus"

start_prometheus() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  port_taken "$PROM_PORT" && die "127.0.0.1:$PROM_PORT is taken (another Prometheus?): pick another port with BAKERY_PROMETHEUS_PORT"
  mkdir -p "$PROM_DIR/data" "$LOCAL/logs"
  python3 "$ROOT/scripts/monitoring-rules.py" "$PROM_DIR/bakery-ia.rules.yml" \
    "$ROOT/k8s/components/monitoring/prometheusrule.yaml"
  # job name -> metrics address (the gateway's separate listener: GATEWAY_METRICS_ADDR,
  # 127.0.0.1:9180 by default; every port moved by BAKERY_HTTP_PORT_OFFSET)
  {
    echo "# Written by scripts/lib.sh start_prometheus at each start: edit that, not this."
    echo "global: {scrape_interval: 5s, scrape_timeout: 4s, evaluation_interval: 5s}"
    echo "rule_files: [bakery-ia.rules.yml]"
    echo "scrape_configs:"
    local entry
    for entry in "gateway 127.0.0.1:$GATEWAY_METRICS_PORT" "demo-session 127.0.0.1:$DEMO_HTTP_PORT" \
                 "tenant-service 127.0.0.1:$TENANT_HTTP_PORT" "inventory-service 127.0.0.1:$INVENTORY_HTTP_PORT"; do
      set -- $entry
      echo "  - job_name: $1"
      echo "    metrics_path: /metrics"
      echo "    static_configs: [{targets: ['$2'], labels: {namespace: local}}]"
    done
  } > "$PROM_DIR/prometheus.yml"
  prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PROM_PORT" \
    >"$LOCAL/logs/prometheus.log" 2>&1 &
  PIDS+=($!)
  local _
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -20 "$LOCAL/logs/prometheus.log" >&2
  die "Prometheus did not become ready on port $PROM_PORT (log: .local/logs/prometheus.log)"
}
