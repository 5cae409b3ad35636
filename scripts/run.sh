#!/usr/bin/env bash
# Serves certbridge on localhost against the built-in emulator of both
# backend APIs, in the foreground until Ctrl-C; stops everything it started.
#
# Environment (all optional):
#   CERTBRIDGE_GRPC_ADDRESS   gRPC listen address        (127.0.0.1:50051; port 0 = any free port)
#   CERTBRIDGE_METRICS_ADDRESS Prometheus /metrics address (127.0.0.1:9464; port 0 = any free port)
#   EMULATOR_PORT             emulator HTTP port         (8089; 0 = any free port)
#   BUILD_DIR                 CMake build directory      (build)
#   RUN_DIR                   where config, tokens and port files go (a fresh temp dir)
#   CERTBRIDGE_SKIP_BUILD=1   use the binaries already in BUILD_DIR
#   CERTBRIDGE_SEED=0         start with empty backends (default: a few demo
#                             certificates on both, one expiring within 7 days)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
GRPC_ADDRESS="${CERTBRIDGE_GRPC_ADDRESS:-127.0.0.1:50051}"
METRICS_ADDRESS="${CERTBRIDGE_METRICS_ADDRESS:-127.0.0.1:9464}"
EMULATOR_PORT="${EMULATOR_PORT:-8089}"

if [ "${CERTBRIDGE_SKIP_BUILD:-0}" != 1 ]; then
  "$ROOT/scripts/bootstrap.sh"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
  cmake --build "$BUILD_DIR" --target certbridge-server certbridge-emulator certctl
fi

RUN_DIR="${RUN_DIR:-$(mktemp -d -t certbridge-run.XXXXXX)}"
mkdir -p "$RUN_DIR"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "run.sh: stopped" >&2
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for_file() {  # path pid what log
  for _ in $(seq 1 200); do
    [ -s "$1" ] && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "run.sh: $3 exited during start-up:" >&2
      tail -n 5 "$4" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "run.sh: $3 did not start within 10 s (log: $4)" >&2
  return 1
}

# Emulator tokens are fixed demo values; the server reads them from files
# the way it reads a mounted Kubernetes Secret.
LEEGALITY_TOKEN="demo-leegality-token"
APINIZER_TOKEN="demo-apinizer-token"
umask 077
printf '%s' "$LEEGALITY_TOKEN" >"$RUN_DIR/leegality.token"
printf '%s' "$APINIZER_TOKEN" >"$RUN_DIR/apinizer.token"
rm -f "$RUN_DIR/emulator.port" "$RUN_DIR/grpc.port" "$RUN_DIR/metrics.port"

# Tokens through the environment, not argv (which any user can read in ps).
EMULATOR_LEEGALITY_TOKEN="$LEEGALITY_TOKEN" EMULATOR_APINIZER_TOKEN="$APINIZER_TOKEN" \
  "$BUILD_DIR/tests/emulator/certbridge-emulator" --host=127.0.0.1 \
  --port="$EMULATOR_PORT" --port_file="$RUN_DIR/emulator.port" \
  2>"$RUN_DIR/emulator.log" &
pids+=($!)
wait_for_file "$RUN_DIR/emulator.port" "${pids[-1]}" emulator "$RUN_DIR/emulator.log"
EMULATOR_URL="http://127.0.0.1:$(cat "$RUN_DIR/emulator.port")"

cat >"$RUN_DIR/config.json" <<JSON
{
  "listen_address": "$GRPC_ADDRESS",
  "metrics_address": "$METRICS_ADDRESS",
  "log_level": "info",
  "shutdown_drain_delay": "0s",
  "backends": [
    {"name": "leegality", "kind": "leegality", "base_url": "$EMULATOR_URL",
     "auth": {"header": "x-auth-token", "token_file": "$RUN_DIR/leegality.token"},
     "inventory": {"enabled": true, "interval": "15s"}},
    {"name": "apinizer", "kind": "apinizer", "base_url": "$EMULATOR_URL/apiops",
     "auth": {"header": "bearer", "token_file": "$RUN_DIR/apinizer.token"},
     "inventory": {"enabled": true, "interval": "15s", "projects": ["Payments"]}}
  ]
}
JSON

"$BUILD_DIR/server/certbridge-server" --config="$RUN_DIR/config.json" \
  --port_file="$RUN_DIR/grpc.port" --metrics_port_file="$RUN_DIR/metrics.port" \
  2> >(tee -a "$RUN_DIR/server.log" >&2) &
pids+=($!)
wait_for_file "$RUN_DIR/grpc.port" "${pids[-1]}" certbridge-server "$RUN_DIR/server.log"
GRPC_PORT="$(cat "$RUN_DIR/grpc.port")"
CERTCTL=("$BUILD_DIR/client/certctl" "--address=${GRPC_ADDRESS%:*}:$GRPC_PORT" --output=name)

# Demo certificates, created through certbridge as a user would, so that
# `certctl list` and the expiry metrics show something at once: on each
# backend one soon to expire (Leegality: 5 days, inside the critical alert's
# 7; Apinizer: 15 days, inside the warning's 21) and one long-lived.
seed_certificate() {  # file-stem days
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days "$2" -subj "/CN=$1.demo.example" \
    -keyout "$RUN_DIR/seed/$1.key" -out "$RUN_DIR/seed/$1.pem" 2>/dev/null
}
seed_failed() {
  echo "run.sh: could not create demo certificate $1:" >&2
  tail -n 5 "$RUN_DIR/seed.log" >&2
  exit 1
}
if [ "${CERTBRIDGE_SEED:-1}" = 1 ]; then
  mkdir -p "$RUN_DIR/seed"
  printf 'demo-seed-passkey' >"$RUN_DIR/seed/passkey"
  for spec in demo-signing-expiring:5 demo-signing:400; do
    stem="${spec%%:*}"
    seed_certificate "$stem" "${spec#*:}"
    openssl pkcs12 -export -in "$RUN_DIR/seed/$stem.pem" -inkey "$RUN_DIR/seed/$stem.key" \
      -passout "file:$RUN_DIR/seed/passkey" -out "$RUN_DIR/seed/$stem.p12"
    "${CERTCTL[@]}" create backends/leegality --file="$RUN_DIR/seed/$stem.p12" \
      --passkey_file="$RUN_DIR/seed/passkey" \
      --department_id=18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52 >/dev/null 2>>"$RUN_DIR/seed.log" || seed_failed "$stem"
  done
  for spec in payments-gateway-tls:15:prod,uat partner-bank-root:700:prod; do
    IFS=: read -r stem days envs <<<"$spec"
    seed_certificate "$stem" "$days"
    "${CERTCTL[@]}" create backends/apinizer/projects/Payments --certificate_id="$stem" \
      --alias="$stem" --description="run.sh demo certificate" --environments="$envs" \
      --file="$RUN_DIR/seed/$stem.pem" >/dev/null 2>>"$RUN_DIR/seed.log" || seed_failed "$stem"
  done
fi

cat >&2 <<MSG

certbridge is serving gRPC on ${GRPC_ADDRESS%:*}:$GRPC_PORT
  metrics: http://${METRICS_ADDRESS%:*}:$(cat "$RUN_DIR/metrics.port")/metrics
  backends: leegality, apinizer -> emulator at $EMULATOR_URL (requests: $EMULATOR_URL/__emulator/requests)
  demo certificates: $BUILD_DIR/client/certctl --address=${GRPC_ADDRESS%:*}:$GRPC_PORT list backends/leegality
                     (and backends/apinizer/projects/Payments); CERTBRIDGE_SEED=0 starts empty
  expiry metrics: certbridge_certificate_expiration_timestamp_seconds (inventory sweeps every 15 s)
  config and logs: $RUN_DIR
  try: $BUILD_DIR/client/certctl --address=${GRPC_ADDRESS%:*}:$GRPC_PORT help
Press Ctrl-C to stop.

MSG

# Returns when either process exits or a signal arrives.
wait -n "${pids[@]}" || true
