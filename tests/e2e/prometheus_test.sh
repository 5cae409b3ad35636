#!/usr/bin/env bash
# A real Prometheus (Debian's 2.42) scrapes a running certbridge with the
# labels the ServiceMonitor gives it, and its HTTP API returns
# grpc_server_handled_total for the calls just made, and the inventory's
# expiry series for the certificate created.
# Usage: prometheus_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v prometheus >/dev/null || "$ROOT/scripts/bootstrap.sh" prometheus
WORK="$(mktemp -d -t certbridge-prom.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Polls for up to 30 s (a loaded machine can be slow to start things).
wait_file() { for _ in $(seq 1 600); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "no $1"; }
# The TCP port process $1 listens on, read back from /proc once it does (so
# it can be started on port 0: no free-port guess that someone else could
# take before it binds). Empty if it does not listen (yet).
listening_port() {
  /usr/bin/python3 - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("tcp", "tcp6"):
    try:
        lines = open(f"/proc/{pid}/net/{table}").read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:  # LISTEN, and this process'
            print(int(f[1].rsplit(":", 1)[1], 16))
            sys.exit(0)
PY
}

"$BUILD_DIR/tests/emulator/certbridge-emulator" --port=0 --port_file="$WORK/emu.port" \
  --leegality_token=t 2>/dev/null &
PIDS+=($!)
wait_file "$WORK/emu.port"
printf t >"$WORK/token"
cat >"$WORK/config.json" <<JSON
{"listen_address": "127.0.0.1:0", "metrics_address": "127.0.0.1:0",
 "backends": [{"name": "leegality", "kind": "leegality",
               "base_url": "http://127.0.0.1:$(cat "$WORK/emu.port")",
               "auth": {"token_file": "$WORK/token"},
               "inventory": {"enabled": true, "interval": "10s"}}]}
JSON
"$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --port_file="$WORK/grpc.port" --metrics_port_file="$WORK/metrics.port" 2>/dev/null &
PIDS+=($!)
wait_file "$WORK/grpc.port"
CERTCTL=("$BUILD_DIR/client/certctl" "--address=127.0.0.1:$(cat "$WORK/grpc.port")")
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=prom" \
  -keyout "$WORK/k.pem" -out "$WORK/c.pem" 2>/dev/null
printf pw >"$WORK/pw"
openssl pkcs12 -export -in "$WORK/c.pem" -inkey "$WORK/k.pem" -passout "file:$WORK/pw" -out "$WORK/c.p12"
"${CERTCTL[@]}" create backends/leegality --file="$WORK/c.p12" --passkey_file="$WORK/pw" \
  --department_id=18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52 >/dev/null
"${CERTCTL[@]}" get backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52 \
  >/dev/null 2>&1 || true

# The relabeling a prometheus-operator ServiceMonitor (deploy/base/
# servicemonitor.yaml) produces: job = Service name, plus namespace,
# service, endpoint (port name) and pod.
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: serviceMonitor/certbridge/certbridge/0
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$(cat "$WORK/metrics.port")"]
    relabel_configs:
      - target_label: namespace
        replacement: certbridge
      - target_label: service
        replacement: certbridge
      - target_label: endpoint
        replacement: metrics
      - target_label: pod
        replacement: certbridge-0
      - target_label: job
        replacement: certbridge
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:0" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS+=("$PROM_PID")
PROM_PORT=""
for _ in $(seq 1 600); do  # polling, up to 30 s
  PROM_PORT="$(listening_port "$PROM_PID" 2>/dev/null || true)"
  [ -n "$PROM_PORT" ] && break
  kill -0 "$PROM_PID" 2>/dev/null || { tail -20 "$WORK/prometheus.log" >&2; fail "prometheus exited"; }
  sleep 0.05
done
[ -n "$PROM_PORT" ] || { tail -20 "$WORK/prometheus.log" >&2; fail "prometheus did not listen"; }
QUERY='grpc_server_handled_total{job="certbridge",namespace="certbridge",grpc_method="CreateCertificate",grpc_code="OK"}'
for _ in $(seq 1 90); do
  result="$(curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    --data-urlencode "query=$QUERY" 2>/dev/null || true)"
  value="$(echo "$result" | /usr/bin/python3 -c 'import json,sys
try:
  r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")
except Exception: print("")')"
  if [ "$value" = 1 ]; then
    echo "Prometheus query $QUERY -> $value"
    nf="$(curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" \
      --data-urlencode 'query=grpc_server_handled_total{job="certbridge",grpc_method="GetCertificate",grpc_code="NotFound"}')"
    echo "$nf" | grep -q '"1"\]' || fail "GetCertificate NotFound not counted: $nf"
    # The inventory (interval 10s) publishes the created certificate's
    # expiry, in the future.
    EXPIRY='certbridge_certificate_expiration_timestamp_seconds{job="certbridge",backend="leegality",project="",environment=""} > time()'
    for _ in $(seq 1 40); do
      inv="$(curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" \
        --data-urlencode "query=$EXPIRY" 2>/dev/null || true)"
      if echo "$inv" | grep -q '"certificate":"'; then
        echo "Prometheus query $EXPIRY -> a series"
        echo PASS
        exit 0
      fi
      sleep 1  # polling: the next sweep is at most 11 s away
    done
    fail "no inventory expiry series: $inv"
  fi
  sleep 1  # polling (scrape_interval 1s), up to 90 s
done
tail -20 "$WORK/prometheus.log" >&2
fail "Prometheus never returned the series: $result"
