#!/usr/bin/env bash
# The prod overlay as the kubelet and callers meet it: render
# deploy/overlays/prod, run certbridge-server with its config.json (files and
# addresses moved to a temporary directory and loopback), and run the exact
# probes its Deployment declares -- plaintext grpc.health.v1 Check on the
# health port with the declared service, as the kubelet's native gRPC probe
# does -- while the gRPC listener requires mutual TLS and an allowed caller.
# Then SIGTERM: readiness turns NOT_SERVING during the drain delay.
# Usage: tls_probe_test.sh BUILD_DIR   (exit 77 = skipped: no kubectl)
set -euo pipefail
BUILD_DIR="$(cd "$1" && pwd)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v kubectl >/dev/null || { echo "SKIP: kubectl is needed to render the overlay"; exit 77; }
WORK="$(mktemp -d -t certbridge-probe.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }
# Polls for up to 30 s (a loaded machine can be slow to start things).
wait_file() { for _ in $(seq 1 600); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "no $1"; }
HEALTH="$BUILD_DIR/client/certbridge-health"
CERTCTL="$BUILD_DIR/client/certctl"

kubectl kustomize "$ROOT/deploy/overlays/prod" >"$WORK/prod.yaml"
# config.json with paths and addresses made local; the probes as
# "name port service" lines; the first allowed caller.
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys, yaml
work = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(work + "/prod.yaml")) if d]
cm = next(d for d in docs if d["kind"] == "ConfigMap")
config = json.loads(cm["data"]["config.json"])
dep = next(d for d in docs if d["kind"] == "Deployment")
container = dep["spec"]["template"]["spec"]["containers"][0]
health_port = int(config["health_listen_address"].rsplit(":", 1)[1])
with open(work + "/probes", "w") as f:
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        grpc = container[name]["grpc"]
        assert grpc["port"] == health_port, (name, grpc, health_port)
        f.write(f'{name} {grpc.get("service", "")}\n')
for key in ("listen_address", "health_listen_address", "metrics_address"):
    config[key] = "127.0.0.1:0"
# Time the probe in step 4 needs: NOT_SERVING is only visible during the
# drain delay, and a loaded machine may take a while to run the probe.
config["shutdown_drain_delay"] = "5s"
tls = config["tls"]
for key, local in (("cert_file", "server.crt"), ("key_file", "server.key"),
                   ("client_ca_file", "ca.crt")):
    tls[key] = f"{work}/tls/{local}"
for b in config["backends"]:
    b["auth"]["token_file"] = f"{work}/{b['name']}.token"
config["page_token_key_file"] = f"{work}/page-token-key"
open(config["page_token_key_file"], "w").write("k" * 32)
# prod shares request_ids through Redis. Its address is a placeholder, and
# Redis is not a start-up condition (only Creates with a request_id need
# it): a loopback port where nothing listens keeps name lookups out of it.
redis = config.get("idempotency", {}).get("redis")
if redis:
    redis["address"] = "127.0.0.1:9"
    if "password_file" in redis:
        redis["password_file"] = f"{work}/redis-password"
        open(redis["password_file"], "w").write("p")
json.dump(config, open(work + "/config.json", "w"), indent=1)
open(work + "/allowed", "w").write(tls["allowed_callers"][0])
PY
ALLOWED="$(cat "$WORK/allowed")"
case "$ALLOWED" in
  dns:*) ALLOWED_SAN="DNS:${ALLOWED#dns:}" ;;
  *) ALLOWED_SAN="URI:$ALLOWED" ;;
esac

# A CA (what cert-manager's ca.crt would be), the server's certificate for
# the Service name, an allowed caller and a caller not on the list.
mkdir "$WORK/tls"
cd "$WORK/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=certbridge-ca" -keyout ca.key -out ca.crt 2>/dev/null
issue() {  # name subjectAltName extendedKeyUsage
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
issue server "DNS:certbridge.certbridge.svc,IP:127.0.0.1" serverAuth
issue allowed "$ALLOWED_SAN" clientAuth
issue stranger "URI:spiffe://cluster.local/ns/other/sa/stranger" clientAuth
cd - >/dev/null
printf t >"$WORK/leegality.token"
printf t >"$WORK/apinizer.token"
chmod 0600 "$WORK"/*.token "$WORK/tls/"*.key

# 0. A pair that cannot serve stops start-up (it would report SERVING and
#    fail every handshake).
cp "$WORK/tls/server.key" "$WORK/tls/server.key.good"
cp "$WORK/tls/allowed.key" "$WORK/tls/server.key"
set +e
err="$("$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" 2>&1)"; rc=$?
set -e
[ "$rc" = 1 ] && echo "$err" | grep -q "the private key does not match the certificate" \
  || fail "a mismatched key pair: rc $rc: $err"
mv "$WORK/tls/server.key.good" "$WORK/tls/server.key"
echo "mismatched certificate and key: start-up refused"

"$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --health_port_file="$WORK/health.port" --port_file="$WORK/grpc.port" \
  2>"$WORK/server.log" &
SERVER=$!
PIDS+=("$SERVER")
wait_file "$WORK/grpc.port"
HP="$(cat "$WORK/health.port")"
GP="$(cat "$WORK/grpc.port")"

# 1. The manifest's probes, as the kubelet runs them: plaintext, pod port.
while read -r probe service; do
  "$HEALTH" --address="127.0.0.1:$HP" --service="$service" >/dev/null \
    || fail "$probe (service '$service') on the health port is not SERVING"
  echo "$probe on :$HP (service '${service}'): SERVING"
done <"$WORK/probes"

# 2. The gRPC listener speaks only TLS: the same probe there fails.
if "$HEALTH" --address="127.0.0.1:$GP" >/dev/null 2>&1; then
  fail "the gRPC listener answered a plaintext probe"
fi
TLS=(--tls_ca_file="$WORK/tls/ca.crt")
# 3. An allowed caller gets through with the Service's name; a stranger is refused.
"$HEALTH" --address="127.0.0.1:$GP" "${TLS[@]}" --tls_server_name=certbridge.certbridge.svc \
  --tls_cert_file="$WORK/tls/allowed.crt" --tls_key_file="$WORK/tls/allowed.key" >/dev/null \
  || fail "the allowed caller ($ALLOWED) was refused"
echo "mTLS health as $ALLOWED: SERVING"
set +e
"$CERTCTL" --address="127.0.0.1:$GP" "${TLS[@]}" \
  --tls_cert_file="$WORK/tls/stranger.crt" --tls_key_file="$WORK/tls/stranger.key" \
  get backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52 >/dev/null 2>"$WORK/stranger.err"
rc=$?
set -e
[ "$rc" = 6 ] && grep -q CALLER_NOT_ALLOWED "$WORK/stranger.err" \
  || fail "a caller not on the list: rc $rc $(cat "$WORK/stranger.err")"
echo "caller not on the list: PERMISSION_DENIED / CALLER_NOT_ALLOWED"
if "$CERTCTL" --address="127.0.0.1:$GP" "${TLS[@]}" get \
     backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52 >/dev/null 2>&1; then
  fail "a call without a client certificate succeeded"
fi

# 4. Drain: readiness turns NOT_SERVING while the process still runs.
READY_SERVICE="$(awk '$1 == "readinessProbe" {print $2}' "$WORK/probes")"
kill -TERM "$SERVER"
saw=""
# Poll the probe until it fails (up to 30 s, or until the server is gone).
for _ in $(seq 1 600); do
  if ! "$HEALTH" --address="127.0.0.1:$HP" --service="$READY_SERVICE" >/dev/null 2>&1; then
    kill -0 "$SERVER" 2>/dev/null && saw=1
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.05
done
[ -n "$saw" ] || fail "readiness did not turn NOT_SERVING during the drain delay"
echo "after SIGTERM: readiness NOT_SERVING while still running"
set +e; wait "$SERVER"; rc=$?; set -e
[ "$rc" = 0 ] || fail "server exited $rc"

# 5. Every line the server wrote is JSON, handshake failures included.
/usr/bin/python3 - "$WORK/server.log" <<'PY' || fail "non-JSON log lines"
import json, sys
bad = []
for line in open(sys.argv[1]):
    try:
        json.loads(line)
    except ValueError:
        bad.append(line.rstrip())
if bad:
    print("\n".join(bad[:5]), file=sys.stderr)
    sys.exit(1)
PY
echo PASS
