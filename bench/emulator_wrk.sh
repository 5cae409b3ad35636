#!/usr/bin/env bash
# How fast the emulator answers small keep-alive requests on loopback, so it
# can stand in as the backend in certbridge benchmarks. Runs each endpoint
# with wrk (installed by bootstrap) and prints requests/s.
# Usage: bench/emulator_wrk.sh [BUILD_DIR] [DURATION_S]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-$ROOT/build}"
DURATION="${2:-5}"
"$ROOT/scripts/bootstrap.sh" wrk
WORK="$(mktemp -d)"
"$BUILD_DIR/tests/emulator/certbridge-emulator" --port=0 --port_file="$WORK/port" \
  --leegality_token=bench-token 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$WORK/port")"
# A certificate to read back: GET of an unknown UUID exercises the same path.
GET_PATH="/api/v1/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52"
cat >"$WORK/auth.lua" <<'LUA'
wrk.headers["X-Auth-Token"] = "bench-token"
LUA
for c in 1 16 64 256; do
  t=$(( c < 2 ? 1 : 2 ))
  health=$(wrk -t"$t" -c"$c" -d"${DURATION}s" "$URL/__emulator/health" | awk '/Requests\/sec/ {print $2}')
  get=$(wrk -t"$t" -c"$c" -d"${DURATION}s" -s "$WORK/auth.lua" "$URL$GET_PATH" | awk '/Requests\/sec/ {print $2}')
  printf 'connections=%-4s health=%10s req/s   leegality GET (404)=%10s req/s\n' "$c" "$health" "$get"
done
