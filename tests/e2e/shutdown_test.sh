#!/usr/bin/env bash
# certbridge-server as a process: SIGTERM lets an in-flight call finish and
# exits 0; a second signal during the drain exits at once; SIGHUP is
# ignored; overridden addresses are checked.
# Usage: shutdown_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="$1"
WORK="$(mktemp -d -t certbridge-shutdown.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2
  exit 1
}
# Polls until "$@" succeeds, for up to 30 s (a loaded machine can be slow);
# waits on events (files, log lines, the emulator's request log), never on
# elapsed time.
wait_until() {  # what command...
  local what="$1"; shift
  for _ in $(seq 1 600); do "$@" && return 0; sleep 0.05; done
  fail "timed out waiting for $what"
}
wait_file() { wait_until "$1" test -s "$1"; }
# The emulator has received a GET (it is holding it if a delay fault is set).
backend_has_get() {
  grep -q '"method":"GET"' <<<"$(curl -fsS "$EMU/__emulator/requests")"
}
# The server wrote its port file; fails at once if it exited instead.
server_started() {
  [ -s "$WORK/grpc.port" ] && return 0
  kill -0 "$SERVER" 2>/dev/null || fail "certbridge-server exited during start-up"
  return 1
}
# How many lines of the server log contain $1.
log_lines() { grep -c -- "$1" "$WORK/server.log" || true; }
# The server has logged "shutting down" more than $1 times.
shutdown_logged_since() { [ "$(log_lines '"msg":"shutting down"')" -gt "$1" ]; }

"$BUILD_DIR/tests/emulator/certbridge-emulator" --port=0 --port_file="$WORK/emu.port" \
  --leegality_token=t 2>/dev/null &
PIDS+=($!)
wait_file "$WORK/emu.port"
EMU="http://127.0.0.1:$(cat "$WORK/emu.port")"
printf t >"$WORK/token"
cat >"$WORK/config.json" <<JSON
{"listen_address": "127.0.0.1:0", "metrics_address": "", "shutdown_grace_period": "30s",
 "shutdown_drain_delay": "300ms",
 "backends": [{"name": "leegality", "kind": "leegality", "base_url": "$EMU",
               "auth": {"token_file": "$WORK/token"}}]}
JSON
NAME=backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52

start_server() {
  rm -f "$WORK/grpc.port"
  "$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
    --port_file="$WORK/grpc.port" 2>>"$WORK/server.log" &
  SERVER=$!
  PIDS+=("$SERVER")
  wait_until "$WORK/grpc.port" server_started
  CERTCTL=("$BUILD_DIR/client/certctl" "--address=127.0.0.1:$(cat "$WORK/grpc.port")")
}

# 0. An overridden address gets the file's checks (port 99999 would bind
#    99999 mod 65536); SIGHUP does not end the server.
set +e
err="$("$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --listen_address=127.0.0.1:99999 2>&1)"; rc=$?
set -e
[ "$rc" != 0 ] || fail "--listen_address=127.0.0.1:99999 started"
echo "$err" | grep -q "the port must be a number from 0 to 65535" || fail "override: $err"
start_server
kill -HUP "$SERVER"
# The server has handled the signal once it logs so (a SIGHUP that killed
# it would never get there).
wait_until "the SIGHUP log line" grep -q '"msg":"SIGHUP ignored' "$WORK/server.log"
kill -0 "$SERVER" 2>/dev/null || fail "SIGHUP ended the server"
"${CERTCTL[@]}" get "$NAME" >/dev/null 2>&1 || [ $? = 3 ] || fail "no call after SIGHUP"
kill -TERM "$SERVER"; wait "$SERVER" || fail "exit after SIGHUP then SIGTERM"
echo "override checked; SIGHUP ignored"

# 1. Drain: the slow call (1.5 s at the backend) completes, then exit 0 --
#    as soon as it has, not at the end of the 30 s grace period.
curl -fsS -X POST "$EMU/__emulator/faults" -d '{"method":"GET","delay_ms":1500}' >/dev/null
curl -fsS -X DELETE "$EMU/__emulator/requests" >/dev/null
start_server
( set +e; "${CERTCTL[@]}" get "$NAME" >/dev/null 2>"$WORK/call1.err"; echo $? >"$WORK/call1.rc" ) &
CALL1=$!
# SIGTERM once the call is in flight: the backend is holding it.
wait_until "the slow GET at the backend" backend_has_get
start=$(date +%s%N)
kill -TERM "$SERVER"
set +e; wait "$SERVER"; rc=$?; set -e
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 0 ] || fail "server exited $rc after SIGTERM"
# ~1.5 s expected; half the grace period is a generous bound that still
# tells "drained" from "waited out the grace".
[ "$took_ms" -lt 15000 ] || fail "drain took ${took_ms} ms"
wait "$CALL1" || true
[ "$(cat "$WORK/call1.rc")" = 3 ] || fail "in-flight call: rc $(cat "$WORK/call1.rc")"
grep -q "ERROR: NOT_FOUND" "$WORK/call1.err" || fail "in-flight call did not finish normally: $(cat "$WORK/call1.err")"
echo "drained in ${took_ms} ms; in-flight call finished: $(head -1 "$WORK/call1.err")"

# 2. A second signal during the drain ends the process at once.
curl -fsS -X POST "$EMU/__emulator/faults" -d '{"method":"GET","delay_ms":20000}' >/dev/null
curl -fsS -X DELETE "$EMU/__emulator/requests" >/dev/null
start_server
( "${CERTCTL[@]}" --timeout=30s get "$NAME" >/dev/null 2>&1 || true ) &
wait_until "the slow GET at the backend" backend_has_get
draining="$(log_lines '"msg":"shutting down"')"
kill -TERM "$SERVER"
# The second signal must land during the drain: once the first is logged.
wait_until "the first SIGTERM to be handled" shutdown_logged_since "$draining"
start=$(date +%s%N)
kill -TERM "$SERVER"
set +e; wait "$SERVER"; rc=$?; set -e
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 143 ] || fail "second SIGTERM: exit $rc, want 143"
# A few ms expected; the drain would take 20 s (the held call).
[ "$took_ms" -lt 5000 ] || fail "second signal took ${took_ms} ms"
grep -q '"msg":"second signal: exiting without waiting"' "$WORK/server.log" || fail "no log line"
echo "second signal: exit $rc after ${took_ms} ms"
echo PASS
