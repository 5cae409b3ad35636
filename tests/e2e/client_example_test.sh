#!/usr/bin/env bash
# certbridge-client-example (the client library's example) against a running
# certbridge-server and emulator: it lists a parent's certificates, reads
# one with the callback API and prints both; a failed call prints the
# status with certbridge's ErrorInfo and exits 1; an unreachable server
# (after gRPC's retries) exits 1 with UNAVAILABLE.
# Usage: client_example_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="$1"
EXAMPLE="$BUILD_DIR/client/certbridge-client-example"
WORK="$(mktemp -d -t certbridge-client-example.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2
  exit 1
}
# Polls for up to 30 s (a loaded machine can be slow to start things).
wait_file() { for _ in $(seq 1 600); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "no $1"; }

"$BUILD_DIR/tests/emulator/certbridge-emulator" --port=0 --port_file="$WORK/emu.port" \
  --apinizer_token=t 2>/dev/null &
PIDS+=($!)
wait_file "$WORK/emu.port"
printf t >"$WORK/token"
cat >"$WORK/config.json" <<JSON
{"listen_address": "127.0.0.1:0", "metrics_address": "",
 "backends": [{"name": "apinizer", "kind": "apinizer",
               "base_url": "http://127.0.0.1:$(cat "$WORK/emu.port")/apiops",
               "auth": {"token_file": "$WORK/token"}}]}
JSON
"$BUILD_DIR/server/certbridge-server" --config="$WORK/config.json" \
  --port_file="$WORK/grpc.port" 2>"$WORK/server.log" &
PIDS+=($!)
wait_file "$WORK/grpc.port"
ADDRESS="127.0.0.1:$(cat "$WORK/grpc.port")"
PARENT=backends/apinizer/projects/Payments

# Two certificates, made with certctl (itself built on the library).
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=example-root" \
  -keyout "$WORK/c.key" -out "$WORK/c.pem" 2>/dev/null
for id in example-a example-b; do
  "$BUILD_DIR/client/certctl" --address="$ADDRESS" create "$PARENT" --certificate_id="$id" \
    --alias="$id-alias" --environments=prod --file="$WORK/c.pem" --output=name \
    >/dev/null 2>"$WORK/certctl.err" || fail "certctl create $id: $(cat "$WORK/certctl.err")"
done

# 1. List and read one by name.
set +e
out="$("$EXAMPLE" --address="$ADDRESS" --parent="$PARENT" \
  --name="$PARENT/certificates/example-b" --page_size=1 2>"$WORK/err")"; rc=$?
set -e
echo "$out"
[ "$rc" = 0 ] || fail "example exited $rc: $(cat "$WORK/err")"
grep -qx "listed 2 certificate(s) under $PARENT" <<<"$out" || fail "no list line"
# --page_size=1: both came from following next_page_token.
grep -qx "  $PARENT/certificates/example-a" <<<"$out" || fail "example-a not listed"
grep -qx "  $PARENT/certificates/example-b" <<<"$out" || fail "example-b not listed"
grep -qx "certificate $PARENT/certificates/example-b:" <<<"$out" || fail "no get line"
json="$(sed -n '/^certificate /,$p' <<<"$out" | tail -n +2)"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["apinizer"]["alias"] == "example-b-alias", d' \
  "$json" || fail "the JSON is not example-b's: $json"

# 2. Without --name it reads the first listed.
out="$("$EXAMPLE" --address="$ADDRESS" --parent="$PARENT")" || fail "no --name: exit $?"
grep -qx "certificate $PARENT/certificates/example-a:" <<<"$out" || fail "first listed not read: $out"

# 3. A failed call: the status and certbridge's ErrorInfo on stderr, exit 1.
set +e
"$EXAMPLE" --address="$ADDRESS" --parent="$PARENT" --name="$PARENT/certificates/missing" \
  >/dev/null 2>"$WORK/err"; rc=$?
set -e
cat "$WORK/err"
[ "$rc" = 1 ] || fail "missing certificate: exit $rc, want 1"
grep -qx "get $PARENT/certificates/missing: NOT_FOUND: .*" "$WORK/err" || fail "no status line"
grep -qx "  reason: CERTIFICATE_NOT_FOUND" "$WORK/err" || fail "no reason"
grep -q "^  metadata: .*backend=apinizer" "$WORK/err" || fail "no metadata"

# 4. Usage error: exit 2.
set +e; "$EXAMPLE" --address="$ADDRESS" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 2 ] || fail "no --parent: exit $rc, want 2"

# 5. Nothing listens: UNAVAILABLE once gRPC's retries are spent, exit 1.
kill -TERM "${PIDS[1]}"; wait "${PIDS[1]}" || true
set +e
"$EXAMPLE" --address="$ADDRESS" --parent="$PARENT" --timeout=20s >/dev/null 2>"$WORK/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "server down: exit $rc, want 1"
grep -q "^list $PARENT: UNAVAILABLE: " "$WORK/err" || fail "server down: $(cat "$WORK/err")"
echo PASS
