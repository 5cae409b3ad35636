#!/usr/bin/env bash
# Soak test: certbridge-server against the emulator of both backends, under
# mixed Create/Get/Update/Delete load from tests/soak's certbridge-soak with
# faults injected into the emulator at random intervals, for MINUTES
# (default 2; a real soak is 30). Fails if the server crashes or does not
# shut down cleanly, an RPC hangs past its deadline or never finishes on the
# server, or RSS, open fds or threads grow after the warm-up (thresholds:
# certbridge-soak --help). Prints a table of samples and the RPC outcomes.
# Usage: scripts/soak.sh [MINUTES]
#   BUILD_DIR                CMake build directory (build)
#   CERTBRIDGE_SKIP_BUILD=1  use the binaries already in BUILD_DIR
#   SOAK_WORKERS             concurrent callers (8)
#   SOAK_ARGS                more certbridge-soak flags, e.g. --rss_growth_mib=50
# Config, logs and port files go to a temporary directory, kept on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
MINUTES="${1:-2}"

if [ "${CERTBRIDGE_SKIP_BUILD:-0}" != 1 ]; then
  "$ROOT/scripts/bootstrap.sh"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
  nice cmake --build "$BUILD_DIR" -j2 --target certbridge-server certbridge-emulator certbridge-soak
fi

WORK="$(mktemp -d -t certbridge-soak.XXXXXX)"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" = 0 ]; then rm -rf "$WORK"; else echo "soak.sh: FAIL; logs in $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "soak.sh: $*" >&2; exit 1; }
wait_for_file() {  # path pid what
  for _ in $(seq 1 400); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || fail "$3 exited during start-up"
    sleep 0.05
  done
  fail "$3 did not start within 20 s"
}

printf soak-leegality-token >"$WORK/leegality.token"
printf soak-apinizer-token >"$WORK/apinizer.token"
"$BUILD_DIR/tests/emulator/certbridge-emulator" --port=0 --port_file="$WORK/emulator.port" \
  --leegality_token=soak-leegality-token --apinizer_token=soak-apinizer-token \
  2>"$WORK/emulator.log" &
pids+=($!)
wait_for_file "$WORK/emulator.port" "${pids[-1]}" emulator
EMU="http://127.0.0.1:$(cat "$WORK/emulator.port")"

# Both backends, as scripts/run.sh configures them; a short breaker
# open_duration so that injected 5xx bursts open and close it many times.
cat >"$WORK/config.json" <<JSON
{
  "listen_address": "127.0.0.1:0", "metrics_address": "127.0.0.1:0",
  "log_level": "info", "shutdown_grace_period": "5s",
  "backends": [
    {"name": "leegality", "kind": "leegality", "base_url": "$EMU",
     "auth": {"header": "x-auth-token", "token_file": "$WORK/leegality.token"},
     "circuit_breaker": {"open_duration": "3s"}},
    {"name": "apinizer", "kind": "apinizer", "base_url": "$EMU/apiops",
     "auth": {"header": "bearer", "token_file": "$WORK/apinizer.token"},
     "circuit_breaker": {"open_duration": "3s"}}
  ]
}
JSON
"$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --port_file="$WORK/grpc.port" --metrics_port_file="$WORK/metrics.port" 2>"$WORK/server.log" &
SERVER=$!
pids+=("$SERVER")
wait_for_file "$WORK/grpc.port" "$SERVER" certbridge-server
wait_for_file "$WORK/metrics.port" "$SERVER" certbridge-server
echo "soak.sh: ${MINUTES} min against certbridge-server pid $SERVER (logs: $WORK)"

# The generator bounds every RPC by its deadline; `timeout` bounds the
# generator itself in case it wedges anyway.
rc=0
# shellcheck disable=SC2086  # SOAK_ARGS is a list of flags
timeout --kill-after=10 "$((MINUTES * 60 + 120))" "$BUILD_DIR/tests/soak/certbridge-soak" \
  --target="127.0.0.1:$(cat "$WORK/grpc.port")" --emulator_url="$EMU" \
  --metrics_url="http://127.0.0.1:$(cat "$WORK/metrics.port")/metrics" \
  --server_pid="$SERVER" --duration="${MINUTES}m" --workers="${SOAK_WORKERS:-8}" \
  ${SOAK_ARGS:-} || rc=$?

# The server must still be up, and drain and exit 0 on SIGTERM.
kill -0 "$SERVER" 2>/dev/null || fail "certbridge-server is gone"
kill -TERM "$SERVER"
(sleep 15 && kill -KILL "$SERVER" 2>/dev/null) &
watchdog=$!
server_rc=0
wait "$SERVER" || server_rc=$?
kill "$watchdog" 2>/dev/null || true
pids=("${pids[0]}")
[ "$server_rc" = 0 ] || fail "certbridge-server exited $server_rc after SIGTERM (137: hung 15 s; else crashed)"
[ "$rc" = 0 ] || fail "certbridge-soak exited $rc"
echo "soak.sh: PASS (${MINUTES} min; server exited 0 on SIGTERM)"
