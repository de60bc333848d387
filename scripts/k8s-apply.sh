#!/usr/bin/env bash
# Deploys or upgrades Bakery-IA with plain kubectl (docs/deploy.md "Upgrades and rollback"):
#   1. applies the overlay at once: the migration and seed Jobs of its release are new
#      objects (named <job>-<release>); the Deployments roll, and their new pods turn ready
#      only once their database schema is migrated, while maxUnavailable 0 keeps the old
#      pods serving;
#   2. waits for this release's migrations, then its seeds, then every rollout, and
#      reports the first failure with its logs;
#   3. prunes the finished migration and seed Jobs of other releases (they would go after
#      ttlSecondsAfterFinished, a week, anyway).
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
  for f in database.env keys.env clone-job.env; do
    [ -f "$dir/secrets/$f" ] || die "$dir/secrets/$f missing: copy $f.example and fill it in (docs/deploy.md)"
    if grep -q 'CHANGE-ME' "$dir/secrets/$f"; then die "$dir/secrets/$f still has CHANGE-ME placeholders"; fi
  done
fi

log "applying $dir"
if ! out="$("${KUBECTL_CMD[@]}" apply -k "$dir" 2>&1)"; then
  printf '%s\n' "$out" >&2
  if grep -q 'field is immutable' <<< "$out"; then
    die "this release's Jobs already exist with another spec (a new image?): set a new release in $dir/kustomization.yaml (docs/deploy.md)"
  fi
  die "kubectl apply failed"
fi
printf '%s\n' "$out" | grep -v ' unchanged$' || true

release="$(current_release)"
log "release $release"
wait_jobs 600s "migrate-tenant-$release" "migrate-inventory-$release" "migrate-demo-session-$release"
wait_jobs 900s "seed-demo-tenants-$release" "seed-demo-users-$release" "seed-demo-inventory-$release"

for d in tenant-service inventory-service demo-session gateway; do
  log "waiting for deployment/$d"
  k rollout status "deployment/$d" --timeout=300s
done

# finished (Complete or Failed) migration and seed Jobs of other releases
old="$(k get jobs -l "app.kubernetes.io/component in (migration,seed),bakery-ia/release!=$release" \
  -o jsonpath='{range .items[*]}{.metadata.name}{" "}{range .status.conditions[*]}{.type}={.status}{","}{end}{"\n"}{end}' |
  awk '/(Complete|Failed)=True/ {print $1}')"
if [ -n "$old" ]; then
  log "pruning the finished Jobs of other releases: $(echo "$old" | paste -sd' ')"
  # shellcheck disable=SC2086 # one name per word
  k delete job $old --ignore-not-found >/dev/null
fi
log "Bakery-IA release $release is deployed in namespace $NS"
