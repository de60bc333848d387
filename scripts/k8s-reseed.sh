#!/usr/bin/env bash
# Re-runs the seed Jobs of the deployed release (seed-demo-tenants, then seed-demo-users
# and seed-demo-inventory). Each seed is idempotent: the templates end up as the data files
# describe them, and nothing is duplicated. Sessions already running keep their copies.
# The release's migration Jobs are applied again too: unchanged ones stay as they are, and
# ones Kubernetes already removed (ttlSecondsAfterFinished) run again, idempotent, so the
# seeds' init containers find them.
#
#   scripts/k8s-reseed.sh [dev|prod|OVERLAY_DIR]    (default dev)
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

dir="$(overlay_dir "${1:-dev}")"
release="$(current_release)"
log "deleting the seed Jobs of release $release"
k delete job -l "app.kubernetes.io/component=seed,bakery-ia/release=$release" --ignore-not-found --wait=true >/dev/null
log "re-creating them from $dir"
"${KUBECTL_CMD[@]}" kustomize "$dir" |
  "${KUBECTL_CMD[@]}" apply -l "app.kubernetes.io/component in (migration,seed),bakery-ia/release=$release" -f -
wait_jobs 900s "seed-demo-tenants-$release" "seed-demo-users-$release" "seed-demo-inventory-$release"
log "templates re-seeded"
