#!/usr/bin/env bash
# Shared by the scripts/k8s-*.sh operator helpers (docs/deploy.md). Sourced, not run.
#   BAKERY_NAMESPACE   namespace (default bakery-ia)
#   KUBECTL            kubectl to use (default: kubectl on PATH); --context etc. through
#                      KUBECTL="kubectl --context my-cluster"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NS="${BAKERY_NAMESPACE:-bakery-ia}"
read -r -a KUBECTL_CMD <<< "${KUBECTL:-kubectl}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

k() { "${KUBECTL_CMD[@]}" --namespace "$NS" "$@"; }

command -v "${KUBECTL_CMD[0]}" >/dev/null || die "kubectl not found (set KUBECTL=...)"

# overlay_dir dev|prod|PATH -> the kustomize directory
overlay_dir() {
  case "$1" in
    dev | prod) echo "$ROOT/k8s/overlays/$1" ;;
    *) [ -f "$1/kustomization.yaml" ] || die "$1: not a kustomize directory"; echo "$1" ;;
  esac
}

# current_release: the release deployed (ConfigMap bakery-ia-release), which names the
# migration and seed Jobs: migrate-tenant-<release>, ... (docs/deploy.md "Upgrades and rollback")
current_release() {
  local rel
  rel="$(k get configmap bakery-ia-release -o jsonpath='{.data.release}' 2>/dev/null || true)"
  [ -n "$rel" ] || die "no ConfigMap bakery-ia-release in namespace $NS: apply an overlay first"
  echo "$rel"
}

# run_job_from_cronjob CRONJOB PREFIX: a one-off Job from the CronJob's template; waits for
# it and prints its logs. Exits non-zero if the Job fails.
run_job_from_cronjob() {
  local cronjob="$1" job
  job="$2-$(date +%Y%m%d%H%M%S)"
  log "creating job/$job from cronjob/$cronjob"
  k create job "$job" --from="cronjob/$cronjob" >/dev/null
  wait_jobs "${JOB_TIMEOUT:-600s}" "$job"
  k logs "job/$job" --all-containers=true || true
}

# wait_jobs TIMEOUT JOB...: waits until every Job completes; a failed Job stops the wait
# early and prints its logs.
wait_jobs() {
  local timeout="$1"; shift
  local job
  for job in "$@"; do
    log "waiting for job/$job"
    if ! k wait --for=condition=complete --timeout="$timeout" "job/$job" >/dev/null 2>&1; then
      k logs "job/$job" --all-containers=true --tail=50 >&2 || true
      die "job/$job did not complete (kubectl -n $NS describe job/$job)"
    fi
  done
}
