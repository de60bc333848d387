#!/usr/bin/env bash
# Gateway benchmark (issue 6): the same requests, on loopback, for 10 s each,
#   1. straight to the upstream,
#   2. through nginx `proxy_pass` (keep-alive pool to the upstream),
#   3. through the gateway, as a demo session (session cache, policy, identity signing).
# The upstream is its own nginx instance answering a fixed JSON list, so the figures are
# the proxies' own cost; the compared nginx proxy is a second, separate instance. Prints p50 latency at 1 connection (the latency each proxy adds)
# and requests/s at BENCH_CONNECTIONS connections (throughput vs nginx).
#
# Needs wrk and nginx (installed with apt-get when missing), the local Redis on 56379
# (scripts/dev.sh or scripts/test.sh). Starts its own nginx with a private configuration
# on loopback ports (never the system service) and stops everything it started on exit.
#
#   scripts/bench-gateway.sh            # builds the gateway in release mode first
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_ROUNDS=3 scripts/bench-gateway.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
UPSTREAM_PORT="${BENCH_UPSTREAM_PORT:-18180}"
NGINX_PORT="${BENCH_NGINX_PORT:-18181}"
GATEWAY_PORT="${BENCH_GATEWAY_PORT:-18182}"
REDIS_PORT="${BAKERY_REDIS_PORT:-56379}"
PATH_UNDER_TEST="/api/inventory/ingredients"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get install -y "${missing[@]}" >/dev/null
fi
command -v redis-cli >/dev/null || die "redis-cli is missing (scripts/test.sh installs Redis)"
redis-cli -p "$REDIS_PORT" ping >/dev/null || die "no Redis on port $REDIS_PORT: start scripts/dev.sh first"
for port in "$UPSTREAM_PORT" "$NGINX_PORT" "$GATEWAY_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use"; fi
done

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  log "building the gateway (release)"
  (cd "$ROOT" && cargo build --release -p bakery-gateway --bin gateway)
fi
GATEWAY_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gateway"
[ -x "$GATEWAY_BIN" ] || die "$GATEWAY_BIN is missing"

WORK="$(mktemp -d /tmp/bench-gateway.XXXXXX)"
PIDS=()
PREFIX="bench:$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n'):"
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  redis-cli -p "$REDIS_PORT" --scan --pattern "${PREFIX}*" | xargs -r redis-cli -p "$REDIS_PORT" unlink >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A ~0.6 kB JSON list, like a small page of ingredients.
BODY='{"items":['
for i in 1 2 3 4 5; do
  BODY+="{\"id\":\"00000000-0000-4000-8000-00000000000$i\",\"name\":\"Harina de trigo $i\",\"unit\":\"kg\",\"unit_cost\":0.85,\"on_hand\":12.5},"
done
BODY="${BODY%,}],\"limit\":50,\"offset\":0,\"total\":5}"

# Two private nginx instances, so the proxy under comparison runs in its own processes,
# apart from the upstream, exactly like the gateway: the upstream, and nginx as the
# reverse proxy (2 workers each, like the gateway's 2 actix workers on 2 CPUs).
nginx_conf() { # name port http-directives server-directives
  cat > "$WORK/$1.conf" <<NGINX
daemon off;
worker_processes 2;
pid $WORK/$1.pid;
error_log $WORK/$1.error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/$1;
  proxy_temp_path $WORK/$1;
  fastcgi_temp_path $WORK/$1;
  uwsgi_temp_path $WORK/$1;
  scgi_temp_path $WORK/$1;
  keepalive_requests 1000000;
  $3
  server {
    listen 127.0.0.1:$2;
    $4
  }
}
NGINX
  mkdir -p "$WORK/$1"
  nginx -p "$WORK" -c "$WORK/$1.conf" &
  PIDS+=($!)
}
nginx_conf upstream "$UPSTREAM_PORT" "" \
  "location / { default_type application/json; return 200 '$BODY'; }"
nginx_conf proxy "$NGINX_PORT" \
  "upstream backend { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }" \
  "location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; }"

secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
SESSION_SECRET="$(secret)"
# A session id as demo-session issues it: 24 random characters and a 12-character tag, a
# MAC of them under SESSION_TOKEN_SECRET (bakery_config::demo::SessionIdKey): the gateway
# refuses an untagged id before any lookup.
SESSION_ID="$(python3 - "$SESSION_SECRET" <<'PY'
import hashlib, hmac, secrets, string, sys
alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
random = "".join(secrets.choice(alphabet) for _ in range(24))
digest = hmac.new(sys.argv[1].encode(), b"bakery-demo-session-id\0" + random.encode(), hashlib.sha256).digest()
print("demo_" + random + "".join(alphabet[b % 62] for b in digest[:12]))
PY
)"
TENANT="$(cat /proc/sys/kernel/random/uuid)"
EXPIRES="$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
redis-cli -p "$REDIS_PORT" set "${PREFIX}demo:session:${SESSION_ID}" \
  "{\"session_id\":\"$SESSION_ID\",\"virtual_tenant_id\":\"$TENANT\",\"demo_account_type\":\"individual_bakery\",\"status\":\"ready\",\"expires_at\":\"$EXPIRES\"}" \
  ex 3600 >/dev/null

HOST=127.0.0.1 PORT="$GATEWAY_PORT" LOG_LEVEL=warn GATEWAY_METRICS_ADDR=127.0.0.1:0 \
  INVENTORY_SERVICE_URL="http://127.0.0.1:$UPSTREAM_PORT" \
  TENANT_SERVICE_URL="http://127.0.0.1:$UPSTREAM_PORT" \
  DEMO_SESSION_URL="http://127.0.0.1:$UPSTREAM_PORT" \
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT" REDIS_KEY_PREFIX="$PREFIX" \
  INTERNAL_TOKEN_SECRET="$(secret)" ACCESS_TOKEN_SECRET="$(secret)" SESSION_TOKEN_SECRET="$SESSION_SECRET" \
  "$GATEWAY_BIN" > "$WORK/gateway.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 50); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/health" 2>/dev/null \
     && curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT$PATH_UNDER_TEST" 2>/dev/null; then break; fi
  sleep 0.2
done
status="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Demo-Session-Id: $SESSION_ID" "http://127.0.0.1:$GATEWAY_PORT$PATH_UNDER_TEST")"
[ "$status" = 200 ] || { cat "$WORK/gateway.log" >&2; die "gateway answered $status"; }

# wrk → "p50_ms rps"
run() { # name url connections [header]
  local name="$1" url="$2" conns="$3" out p50 rps
  shift 3
  out="$(wrk -t1 -c"$conns" -d"${SECONDS_PER_RUN}s" --latency "$@" "$url")"
  p50="$(awk '/^ +50%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.3f", v}' <<<"$out")"
  rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")"
  if grep -q "Non-2xx" <<<"$out"; then die "$name: $(grep Non-2xx <<<"$out")"; fi
  printf '%s %s\n' "$p50" "$rps"
}

DIRECT="http://127.0.0.1:$UPSTREAM_PORT$PATH_UNDER_TEST"
NGINX="http://127.0.0.1:$NGINX_PORT$PATH_UNDER_TEST"
GATEWAY="http://127.0.0.1:$GATEWAY_PORT$PATH_UNDER_TEST"
DEMO=(-H "X-Demo-Session-Id: $SESSION_ID")

log "warming up"
wrk -t1 -c"$CONNECTIONS" -d2s "${DEMO[@]}" "$GATEWAY" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d2s "$NGINX" >/dev/null

# The three targets take turns, ROUNDS times, and each figure is the median of its runs:
# on a shared machine the load moves between runs, not within one turn. The throughput
# ratio is taken per round (gateway against the nginx run just before or after it, the
# order alternating so a drift in the machine's load favours neither) and its median
# reported: on a noisy machine two medians of separate runs can pair a quiet minute of one
# with a busy minute of the other.
ROUNDS="${BENCH_ROUNDS:-3}"
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
declare -A P50 RPS
RATIOS=""
for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS: latency at 1 connection, then throughput at $CONNECTIONS, ${SECONDS_PER_RUN}s each"
  read -r p _ < <(run direct "$DIRECT" 1);                   P50[direct]+="$p "
  read -r p _ < <(run nginx "$NGINX" 1);                     P50[nginx]+="$p "
  read -r p _ < <(run gateway "$GATEWAY" 1 "${DEMO[@]}");     P50[gateway]+="$p "
  read -r _ r < <(run direct "$DIRECT" "$CONNECTIONS");       RPS[direct]+="$r "
  if (( round % 2 )); then
    read -r _ nr < <(run nginx "$NGINX" "$CONNECTIONS")
    read -r _ gr < <(run gateway "$GATEWAY" "$CONNECTIONS" "${DEMO[@]}")
  else
    read -r _ gr < <(run gateway "$GATEWAY" "$CONNECTIONS" "${DEMO[@]}")
    read -r _ nr < <(run nginx "$NGINX" "$CONNECTIONS")
  fi
  RPS[nginx]+="$nr "; RPS[gateway]+="$gr "
  RATIOS+="$(awk -v g="$gr" -v n="$nr" 'BEGIN {printf "%.3f", g / n}') "
done
for t in direct nginx gateway; do
  log "$t: p50 ms ${P50[$t]}| requests/s ${RPS[$t]}"
done
log "gateway / nginx per round: $RATIOS"
d_p50="$(tr ' ' '\n' <<<"${P50[direct]}" | grep . | median)"
n_p50="$(tr ' ' '\n' <<<"${P50[nginx]}" | grep . | median)"
g_p50="$(tr ' ' '\n' <<<"${P50[gateway]}" | grep . | median)"
d_rps="$(tr ' ' '\n' <<<"${RPS[direct]}" | grep . | median)"
n_rps="$(tr ' ' '\n' <<<"${RPS[nginx]}" | grep . | median)"
g_rps="$(tr ' ' '\n' <<<"${RPS[gateway]}" | grep . | median)"
ratio="$(tr ' ' '\n' <<<"$RATIOS" | grep . | median)"

awk -v d="$d_p50" -v n="$n_p50" -v g="$g_p50" -v dr="$d_rps" -v nr="$n_rps" -v gr="$g_rps" -v ratio="$ratio" \
    -v c="$CONNECTIONS" -v s="$SECONDS_PER_RUN" -v rounds="$ROUNDS" 'BEGIN {
  printf "\n| target | p50 latency, 1 connection | added p50 | requests/s, %d connections |\n", c
  printf "|---|---|---|---|\n"
  printf "| upstream directly | %.3f ms | — | %d |\n", d, dr
  printf "| nginx proxy_pass | %.3f ms | %.3f ms | %d |\n", n, n - d, nr
  printf "| gateway (demo session) | %.3f ms | %.3f ms | %d |\n", g, g - d, gr
  printf "\ngateway added p50: %.3f ms (target <= 0.5 ms): %s\n", g - d, (g - d <= 0.5 ? "met" : "NOT met")
  printf "gateway throughput / nginx (median of the per-round ratios): %.2fx (target >= 0.7x): %s\n", ratio, (ratio >= 0.7 ? "met" : "NOT met")
  printf "(medians of %d rounds, %d s per run, wrk -t1, loopback, %s)\n", rounds, s, "'"$(nproc)"' CPUs"
}'
