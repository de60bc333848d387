#!/usr/bin/env bash
# Re-runs the seed Jobs (seed-demo-tenants, then seed-demo-users and
# seed-demo-inventory). Each seed is idempotent: the templates end up as the data files
# describe them, and nothing is duplicated. Sessions already running keep their copies.
#
#   scripts/k8s-reseed.sh [dev|prod|OVERLAY_DIR]    (default dev)
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

dir="$(overlay_dir "${1:-dev}")"
log "deleting the seed Jobs"
k delete job -l app.kubernetes.io/component=seed --ignore-not-found --wait=true >/dev/null
log "re-creating them from $dir"
"${KUBECTL_CMD[@]}" kustomize "$dir" | "${KUBECTL_CMD[@]}" apply -l app.kubernetes.io/component=seed -f -
wait_jobs 900s seed-demo-tenants seed-demo-users seed-demo-inventory
log "templates re-seeded"
