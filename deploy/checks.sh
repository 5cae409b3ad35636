#!/usr/bin/env bash
# Deployment checks that run without a cluster: render every overlay (and
# prod with the cert-manager component) with kubectl kustomize, validate each
# object against the Kubernetes, prometheus-operator and cert-manager schemas
# (offline, npm kubernetes-models), check what schemas cannot
# (deploy/tests/manifests_test.py: selectors, NetworkPolicy reachability,
# HPA-owned replicas, probes, labels, alert scope), check and unit-test the
# alert rules with promtool, and lint the Dockerfile.
# Usage: deploy/checks.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" prometheus python3-yaml
# Node may come from elsewhere than Debian (it does on the CI machine).
command -v npm >/dev/null || "$ROOT/scripts/bootstrap.sh" nodejs npm
command -v kubectl >/dev/null || { echo "checks: kubectl is required" >&2; exit 1; }
WORK="$(mktemp -d -t certbridge-checks.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/rendered"

(cd deploy/tools && npm install --no-audit --no-fund --loglevel=error >/dev/null)
for overlay in deploy/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$WORK/rendered/$name.yaml"
  echo "kustomize $name: $(grep -c '^kind:' "$WORK/rendered/$name.yaml") objects"
  node deploy/tools/validate.mjs "$WORK/rendered/$name.yaml"
done
# prod with cert-manager issuing its certificate, as its kustomization says.
# (kustomize takes relative paths only.)
mkdir "$WORK/prod-cert-manager"
rel() { realpath --relative-to="$WORK/prod-cert-manager" "$ROOT/$1"; }
cat >"$WORK/prod-cert-manager/kustomization.yaml" <<YAML
resources:
  - $(rel deploy/overlays/prod)
components:
  - $(rel deploy/components/cert-manager)
YAML
kubectl kustomize "$WORK/prod-cert-manager" >"$WORK/prod-cert-manager.yaml"
grep -q '^kind: Certificate$' "$WORK/prod-cert-manager.yaml" \
  || { echo "checks: the cert-manager component adds no Certificate" >&2; exit 1; }
echo "kustomize prod + cert-manager: $(grep -c '^kind:' "$WORK/prod-cert-manager.yaml") objects"
node deploy/tools/validate.mjs "$WORK/prod-cert-manager.yaml"

/usr/bin/python3 deploy/tests/manifests_test.py "$WORK/rendered"

# The rule file promtool checks and tests is prod's rendered PrometheusRule
# spec: the alerts as an installation in namespace certbridge gets them.
/usr/bin/python3 - "$WORK" <<'PY'
import sys, yaml
work = sys.argv[1]
for doc in yaml.safe_load_all(open(work + "/rendered/prod.yaml")):
    if doc and doc["kind"] == "PrometheusRule":
        yaml.safe_dump(doc["spec"], open(work + "/certbridge.rules.yaml", "w"),
                       sort_keys=False)
PY
cp deploy/tests/alerts_test.yaml "$WORK/"
promtool check rules "$WORK/certbridge.rules.yaml"
promtool test rules "$WORK/alerts_test.yaml"

npx --yes --prefix deploy/tools dockerfilelint@1.8.0 Dockerfile
echo "deploy checks: OK"
