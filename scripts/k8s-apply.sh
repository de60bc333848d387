#!/usr/bin/env bash
# Deploys (or upgrades) Bakery-IA with plain kubectl, in order:
#   1. deletes the previous migration and seed Jobs (Jobs are immutable; both are
#      idempotent, so they simply run again with the new image),
#   2. applies the overlay,
#   3. waits for the migrations, then the seeds, then every Deployment's rollout.
#
#   scripts/k8s-apply.sh prod            # k8s/overlays/prod (needs its secrets/*.env)
#   scripts/k8s-apply.sh dev             # k8s/overlays/dev on a local cluster
#   scripts/k8s-apply.sh path/to/overlay # your own overlay
# shellcheck source=scripts/k8s-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/k8s-lib.sh"

[ $# -eq 1 ] || die "usage: $0 dev|prod|OVERLAY_DIR"
dir="$(overlay_dir "$1")"

# prod: the git-ignored secret files must exist and be filled in
if [ -d "$dir/secrets" ]; then
  for f in database.env keys.env; do
    [ -f "$dir/secrets/$f" ] || die "$dir/secrets/$f missing: copy $f.example and fill it in (docs/deploy.md)"
    if grep -q 'CHANGE-ME' "$dir/secrets/$f"; then die "$dir/secrets/$f still has CHANGE-ME placeholders"; fi
  done
fi

if k get namespace "$NS" >/dev/null 2>&1; then
  log "removing the previous migration and seed Jobs"
  k delete job -l 'app.kubernetes.io/component in (migration,seed)' --ignore-not-found --wait=true >/dev/null
fi

log "applying $dir"
"${KUBECTL_CMD[@]}" apply -k "$dir"

wait_jobs 600s migrate-tenant migrate-inventory migrate-demo-session
wait_jobs 900s seed-demo-tenants seed-demo-users seed-demo-inventory

for d in tenant-service inventory-service demo-session gateway; do
  log "waiting for deployment/$d"
  k rollout status "deployment/$d" --timeout=300s
done
log "Bakery-IA is deployed in namespace $NS"
