#!/usr/bin/env bash
# Offline checks of the deployment (CI runs this from .ci/run; so can you, ~1 min warm):
#   1. both kustomize overlays render (dev, prod with placeholder secrets, and dev with the
#      monitoring component as docs/observability.md enables it) + the reference clone Job
#   2. every rendered object validates against the Kubernetes JSON schema, strict mode,
#      for the oldest and the newest Kubernetes we support (the monitoring.coreos.com
#      objects have no schema there: step 3 checks their fields)
#   3. our own manifest rules (scripts/check-deploy-policy.py)
#   3b. the clone Jobs' ValidatingAdmissionPolicy, evaluated with CEL (celpy) against the
#      reference clone Job and bad variants of it (scripts/check-deploy-cel.py)
#   3c. the alert rules: the PrometheusRule's spec extracted from the rendered prod overlay
#      (scripts/monitoring-rules.py), `promtool check rules` and `promtool test rules`
#      (k8s/components/monitoring/tests/rules.test.yaml); promtool from Debian's
#      `prometheus` package
#   4. checkov security scan of the manifests and the Dockerfile: no failed check (the
#      accepted findings carry skip annotations, listed in docs/deploy.md)
#   5. hadolint on docker/Dockerfile
#   6. shellcheck on the operator scripts
#   7. the Tiltfile under a stand-in of the Tilt API (scripts/check-deploy-tilt.py)
# Tools come from PyPI (scripts/check-deploy-requirements.txt), cached under
# .local/deploy-tools (git-ignored); python3 and promtool from Debian's packages if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${BAKERY_DEPLOY_TOOLS:-$ROOT/.local/deploy-tools}"
REQS="$ROOT/scripts/check-deploy-requirements.txt"
K8S_VERSIONS=(1.30.0 1.37.0)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}
apt_install() {
  log "installing $* (Debian)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- tools --------------------------------------------------------------------------
command -v python3 >/dev/null || apt_install python3 python3-venv python3-pip
command -v promtool >/dev/null || apt_install prometheus
VENV="$TOOLS/venv"
stamp="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" != "$stamp" ]; then
  log "installing the deploy check tools into ${VENV#"$ROOT"/}"
  rm -rf "$VENV"
  mkdir -p "$TOOLS"
  python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  echo "$stamp" > "$VENV/.requirements.sha256"
fi
export PATH="$VENV/bin:$PATH"
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
PY="$VENV/bin/python"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

# ---- 1. render -----------------------------------------------------------------------
log "rendering k8s/overlays/dev, k8s/overlays/prod, k8s/reference"
mkdir -p "$WORK/rendered"
kubectl kustomize k8s/overlays/dev > "$WORK/rendered/dev.yaml"
# prod reads git-ignored secret files: render a copy with the committed examples, so
# real files someone keeps in their checkout are never read here
cp -r k8s "$WORK/k8s"
for example in "$WORK"/k8s/overlays/prod/secrets/*.env.example; do
  cp "$example" "${example%.example}"
done
kubectl kustomize "$WORK/k8s/overlays/prod" > "$WORK/rendered/prod.yaml"
# dev with the monitoring component, exactly as docs/observability.md tells to enable it
printf 'components:\n  - ../../components/monitoring\n' >> "$WORK/k8s/overlays/dev/kustomization.yaml"
kubectl kustomize "$WORK/k8s/overlays/dev" > "$WORK/rendered/dev-monitoring.yaml"
kubectl kustomize k8s/reference > "$WORK/rendered/clone-job.yaml"
for f in "$WORK"/rendered/*.yaml; do
  printf '    %-20s %3d objects\n' "$(basename "$f")" "$(grep -c '^kind:' "$f")"
done
tracked="$(git ls-files k8s/overlays/prod/secrets | grep -v -e '\.gitignore$' -e '\.env\.example$' || true)"
[ -z "$tracked" ] || die "real secret files are tracked by git: $tracked"

# ---- 2. schema -----------------------------------------------------------------------
# The Prometheus Operator's kinds (monitoring.coreos.com) are CRDs, not in Kubernetes'
# schemas: set them aside, say so, and let step 3 check their fields; any other object
# without a schema fails.
mkdir -p "$WORK/native"
"$PY" - "$WORK/rendered" "$WORK/native" <<'EOF'
import os, sys, yaml
src, dst = sys.argv[1:3]
for name in sorted(os.listdir(src)):
    docs = [d for d in yaml.safe_load_all(open(os.path.join(src, name))) if d]
    crd = [d for d in docs if d['apiVersion'].startswith('monitoring.coreos.com/')]
    with open(os.path.join(dst, name), 'w') as f:
        yaml.safe_dump_all([d for d in docs if d not in crd], f, sort_keys=False)
    if crd:
        kinds = ', '.join(sorted({d['kind'] for d in crd}))
        print(f"    {name}: {len(crd)} monitoring.coreos.com objects ({kinds}) not schema-checked here "
              "(CRDs; scripts/check-deploy-policy.py checks their fields)", file=sys.stderr)
EOF
for v in "${K8S_VERSIONS[@]}"; do
  log "validating against the Kubernetes $v schema (strict)"
  out="$(kubernetes-validate --strict --quiet --kubernetes-version "$v" "$WORK"/native/*.yaml 2>&1)" || {
    echo "$out" >&2; die "schema validation failed"; }
  if grep -q "Couldn't find schema" <<<"$out"; then echo "$out" >&2; die "objects without a schema"; fi
  [ -z "$out" ] || echo "$out" >&2
done

# ---- 3. our rules ------------------------------------------------------------------------
log "manifest policy"
"$PY" scripts/check-deploy-policy.py "$WORK/rendered/dev.yaml" "$WORK/rendered/prod.yaml" "$WORK/rendered/clone-job.yaml" \
  "$WORK/rendered/dev-monitoring.yaml"

log "admission policy of the clone Jobs (CEL)"
"$PY" scripts/check-deploy-cel.py "$WORK/rendered/clone-job.yaml" "$WORK/rendered/dev.yaml" "$WORK/rendered/prod.yaml"

log "alert rules (promtool $(promtool --version 2>&1 | awk 'NR==1 {print $3}'))"
mkdir -p "$WORK/rules"
"$PY" scripts/monitoring-rules.py "$WORK/rules/bakery-ia.rules.yml" "$WORK/rendered/prod.yaml"
cp k8s/components/monitoring/tests/rules.test.yaml "$WORK/rules/"
out="$(promtool check rules "$WORK/rules/bakery-ia.rules.yml" 2>&1)" || { echo "$out" >&2; die "promtool check rules failed"; }
sed -n 's/^ *SUCCESS: /    check rules: /p' <<<"$out"
(cd "$WORK/rules" && promtool test rules rules.test.yaml) >"$WORK/rules/test.out" 2>&1 || {
  cat "$WORK/rules/test.out" >&2; die "promtool test rules failed"; }
printf '    test rules: %s cases, %s alert checks: %s\n' \
  "$(grep -c '^  - name:' k8s/components/monitoring/tests/rules.test.yaml)" \
  "$(grep -c 'alertname:' k8s/components/monitoring/tests/rules.test.yaml)" "$(grep -o 'SUCCESS' "$WORK/rules/test.out")"

# ---- 4. security scan ----------------------------------------------------------------
log "checkov (manifests, Dockerfile)"
checkov_run() {
  local out
  out="$(checkov "$@" --quiet --compact --skip-download 2>&1)" || { echo "$out" >&2; die "checkov found problems"; }
  printf '%s\n' "$out" | grep -E 'scan results|Passed checks' | paste -sd' ' | sed 's/^/    /'
}
checkov_run -d "$WORK/rendered" --framework kubernetes
checkov_run -f docker/Dockerfile --framework dockerfile

# ---- 5. Dockerfile lint --------------------------------------------------------------
log "hadolint docker/Dockerfile"
hadolint docker/Dockerfile

# ---- 6. scripts ------------------------------------------------------------------------
log "shellcheck"
shellcheck -x scripts/k8s-*.sh scripts/check-deploy.sh

# ---- 7. Tiltfile ---------------------------------------------------------------------
log "Tiltfile under the Tilt API stand-in"
"$PY" scripts/check-deploy-tilt.py Tiltfile

log "deployment checks passed"
