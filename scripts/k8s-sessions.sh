#!/usr/bin/env bash
# Shows the demo sessions.
#
#   scripts/k8s-sessions.sh            active sessions (pending/ready), newest first, read
#                                      from the demo_session database with psql in a
#                                      one-off pod (works with the in-cluster and with an
#                                      external PostgreSQL: it uses DEMO_SESSION_DATABASE_URL
#                                      of the Secret bakery-ia-database)
#   scripts/k8s-sessions.sh --all      every session of the last 24 hours
#   scripts/k8s-sessions.sh --stats    the admin API's GET /api/demo/stats (JSON)
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

PSQL_IMAGE="${PSQL_IMAGE:-postgres:17-bookworm}"
where="status IN ('pending', 'ready')"
case "${1:-}" in
  --stats)
    # shellcheck source=scripts/k8s-admin-api.sh
    . "$ROOT/scripts/k8s-admin-api.sh"
    admin_api GET /api/demo/stats
    exit $?
    ;;
  --all) where="created_at > now() - interval '24 hours'" ;;
  "") ;;
  *) die "usage: $0 [--all|--stats]" ;;
esac

# One line, no double quotes: it goes into the pod's JSON as is.
sql="SELECT id, demo_account_type AS account, status, virtual_tenant_id, \
to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created, \
to_char(expires_at, 'YYYY-MM-DD HH24:MI:SS') AS expires, \
greatest(0, extract(epoch FROM expires_at - now()))::int AS seconds_left, \
extensions_used AS ext FROM demo_sessions WHERE $where ORDER BY created_at DESC"

# A pod the namespace's "restricted" Pod Security profile and the dev PostgreSQL's
# NetworkPolicy (label bakery-ia/postgres-client) both admit.
overrides=$(cat <<JSON
{
  "apiVersion": "v1",
  "spec": {
    "automountServiceAccountToken": false,
    "securityContext": {"runAsNonRoot": true, "runAsUser": 10999, "runAsGroup": 10999,
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{
      "name": "psql",
      "image": "$PSQL_IMAGE",
      "command": ["psql", "\$(DEMO_SESSION_DATABASE_URL)", "-X", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", "-c", "$sql"],
      "env": [{"name": "DEMO_SESSION_DATABASE_URL",
               "valueFrom": {"secretKeyRef": {"name": "bakery-ia-database", "key": "DEMO_SESSION_DATABASE_URL"}}}],
      "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
      "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                          "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}
    }]
  }
}
JSON
)
k run "demo-sessions-$(date +%s)" --rm -i --quiet --restart=Never --image="$PSQL_IMAGE" \
  --labels=app.kubernetes.io/part-of=bakery-ia,bakery-ia/postgres-client=true \
  --overrides="$overrides"
