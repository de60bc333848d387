#!/usr/bin/env bash
# admin_api METHOD PATH: calls demo-session's admin API with the ADMIN_API_KEY of the
# Secret bakery-ia-keys, through a temporary port-forward (nothing is exposed). Sourced by
# scripts/k8s-sessions.sh and scripts/k8s-cleanup.sh after k8s-lib.sh.

admin_api() {
  local method="$1" path="$2" port="${ADMIN_LOCAL_PORT:-18001}" key pf status=0
  command -v curl >/dev/null || die "curl not found"
  key="$(k get secret bakery-ia-keys -o jsonpath='{.data.ADMIN_API_KEY}' | base64 -d)"
  [ -n "$key" ] || die "secret bakery-ia-keys has no ADMIN_API_KEY"
  k port-forward svc/demo-session "$port:8001" >/dev/null 2>&1 &
  pf=$!
  # shellcheck disable=SC2064 # expand now: the trap must kill this port-forward
  trap "kill $pf 2>/dev/null || true" EXIT
  local i
  for i in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.2
  done
  [ "$i" -lt 50 ] || die "port-forward to svc/demo-session did not come up"
  curl -sS -X "$method" -H "X-Admin-Key: $key" -H 'Accept: application/json' \
    "http://127.0.0.1:$port$path" || status=$?
  echo
  return "$status"
}
