#!/usr/bin/env bash
# Deployment checks that run without a cluster: render every overlay with
# kubectl kustomize, validate each rendered object against the Kubernetes
# and prometheus-operator schemas (offline, npm kubernetes-models), check
# and unit-test the alert rules with promtool, and lint the Dockerfile.
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

(cd deploy/tools && npm install --no-audit --no-fund --loglevel=error >/dev/null)
for overlay in deploy/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$WORK/$name.yaml"
  echo "kustomize $name: $(grep -c '^kind:' "$WORK/$name.yaml") objects"
  node deploy/tools/validate.mjs "$WORK/$name.yaml"
done

# The PrometheusRule's spec is the rule file promtool checks and tests.
/usr/bin/python3 - "$WORK" <<'PY'
import sys, yaml
doc = yaml.safe_load(open("deploy/base/prometheusrule.yaml"))
yaml.safe_dump(doc["spec"], open(sys.argv[1] + "/certbridge.rules.yaml", "w"),
               sort_keys=False)
PY
cp deploy/tests/alerts_test.yaml "$WORK/"
promtool check rules "$WORK/certbridge.rules.yaml"
promtool test rules "$WORK/alerts_test.yaml"

npx --yes --prefix deploy/tools dockerfilelint@1.8.0 Dockerfile
echo "deploy checks: OK"
