#!/usr/bin/env bash
# certbridge-server as a process, seen by a plain HTTP/2 client (nghttp):
# it advertises the stream limit from limits.max_concurrent_streams in its
# SETTINGS (issue 10 finding 19: it advertised none).
# Usage: http2_limits_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="$1"
WORK="$(mktemp -d -t certbridge-h2.XXXXXX)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill -KILL "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v nghttp >/dev/null || fail "nghttp (Debian nghttp2-client) is not installed"

printf t >"$WORK/token"
cat >"$WORK/config.json" <<JSON
{"listen_address": "127.0.0.1:0", "metrics_address": "",
 "limits": {"max_concurrent_streams": 37},
 "backends": [{"name": "leegality", "kind": "leegality", "base_url": "http://127.0.0.1:9",
               "auth": {"token_file": "$WORK/token"}}]}
JSON
"$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --port_file="$WORK/grpc.port" 2>"$WORK/server.log" &
SERVER=$!
# Polls for the port file, up to 30 s.
for _ in $(seq 1 600); do [ -s "$WORK/grpc.port" ] && break; sleep 0.05; done
[ -s "$WORK/grpc.port" ] || fail "server did not start: $(cat "$WORK/server.log")"

out="$(timeout 10 nghttp -nv "http://127.0.0.1:$(cat "$WORK/grpc.port")/" 2>&1 || true)"
settings="$(printf '%s\n' "$out" | grep -A8 'recv SETTINGS frame <length=[1-9]' || true)"
printf '%s\n' "$settings" | grep -q 'SETTINGS_MAX_CONCURRENT_STREAMS(0x03):37' \
  || fail "no MAX_CONCURRENT_STREAMS 37 in the server's SETTINGS: $settings"
echo "server SETTINGS: $(printf '%s' "$settings" | grep -o 'SETTINGS_[A-Z_]*([^)]*):[0-9]*' | tr '\n' ' ')"
echo PASS
