#!/usr/bin/env bash
# End to end, as a user would: scripts/run.sh serves against the emulator and
# the README's certctl commands create, get, update and delete a certificate
# on both backends; Ctrl-C (SIGINT) stops everything run.sh started.
# Usage: run_sh_test.sh BUILD_DIR
set -euo pipefail

BUILD_DIR="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d -t certbridge-e2e.XXXXXX)"
RUN_PID=""
cleanup() {
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -INT "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Job control, so the background run.sh receives SIGINT as it would from a
# terminal (non-interactive shells make background jobs ignore it).
set -m
BUILD_DIR="$BUILD_DIR" RUN_DIR="$WORK/run" CERTBRIDGE_SKIP_BUILD=1 \
  CERTBRIDGE_GRPC_ADDRESS=127.0.0.1:0 CERTBRIDGE_METRICS_ADDRESS=127.0.0.1:0 EMULATOR_PORT=0 \
  "$ROOT/scripts/run.sh" >"$WORK/run.out" 2>&1 &
RUN_PID=$!
# The banner comes after the demo certificates are in.
for _ in $(seq 1 600); do  # polling for the banner, up to 30 s
  grep -q "Press Ctrl-C to stop" "$WORK/run.out" 2>/dev/null && break
  kill -0 "$RUN_PID" 2>/dev/null || { cat "$WORK/run.out"; fail "run.sh exited"; }
  sleep 0.05
done
grep -q "Press Ctrl-C to stop" "$WORK/run.out" || { cat "$WORK/run.out"; fail "server did not start"; }
CERTCTL=("$BUILD_DIR/client/certctl" "--address=127.0.0.1:$(cat "$WORK/run/grpc.port")")
CHILDREN="$(pgrep -P "$RUN_PID" | tr '\n' ' ')"

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# run.sh seeded demo certificates on both backends before printing its
# banner; a new user's first `certctl list` shows them.
out="$("${CERTCTL[@]}" list backends/leegality --output=json)"
for want in demo-signing-expiring demo-signing; do
  [ "$(echo "$out" | json "sum(c['display_name'] == '$want' for c in d['certificates'])")" = 1 ] \
    || fail "seeded Leegality $want not listed: $out"
done
soon="$(echo "$out" | json "[c['name'] for c in d['certificates'] if c['display_name'] == 'demo-signing-expiring'][0]")"
out="$("${CERTCTL[@]}" list backends/apinizer/projects/Payments --output=name)"
[ "$out" = "$(printf 'backends/apinizer/projects/Payments/certificates/partner-bank-root\nbackends/apinizer/projects/Payments/certificates/payments-gateway-tls')" ] \
  || fail "seeded Apinizer certificates: $out"
# The near-expiry one expires within 7 days.
"${CERTCTL[@]}" get "$soon" --output=json | /usr/bin/python3 -c '
import datetime, json, sys
d = json.load(sys.stdin)
exp = datetime.datetime.fromisoformat(d["leegality"]["expire_time"].replace("Z", "+00:00"))
left = exp - datetime.datetime.now(datetime.timezone.utc)
sys.exit(0 if datetime.timedelta(days=4) < left < datetime.timedelta(days=7) else 1)' \
  || fail "the seeded near-expiry certificate does not expire within 7 days"
# ...and the inventory (every 15 s under run.sh) exports their expiry: the
# near-expiry Leegality one and each environment of the Apinizer one.
soon_id="${soon##*/}"
want=('certbridge_certificate_expiration_timestamp_seconds{backend="leegality",certificate="'"$soon_id"'",environment="",project=""}'
      'certbridge_certificate_expiration_timestamp_seconds{backend="apinizer",certificate="payments-gateway-tls",environment="uat",project="Payments"}'
      'certbridge_certificate_expiration_timestamp_seconds{backend="apinizer",certificate="payments-gateway-tls",environment="prod",project="Payments"}'
      'certbridge_certificates{backend="leegality"} 2'
      'certbridge_certificates{backend="apinizer"} 2')
seen=""
for _ in $(seq 1 120); do  # up to 60 s: one sweep interval plus slack
  metrics="$(curl -fsS "http://127.0.0.1:$(cat "$WORK/run/metrics.port")/metrics")"
  seen=1
  for w in "${want[@]}"; do grep -qF "$w" <<<"$metrics" || { seen=""; break; }; done
  [ -n "$seen" ] && break
  sleep 0.5
done
[ -n "$seen" ] || { grep '^certbridge_certificate' <<<"$metrics" >&2; fail "no expiry series for the seeded certificates"; }

# The README's "Try it" block, pasted as a user would: every line must work
# (only the certctl path and the scratch directory differ).
/usr/bin/python3 - "$ROOT/README.md" >"$WORK/try_it.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text[text.index("## Try it"):]
print(re.search(r"```sh\n(.*?)```", section, re.S).group(1))
PY
grep -q '^CERTCTL=build/client/certctl$' "$WORK/try_it.sh" || fail "README Try it: no CERTCTL line"
mkdir "$WORK/try"
# /tmp/ first: the checkout itself may live under /tmp.
sed -e "s|/tmp/|$WORK/try/|g" -e "s|^CERTCTL=build/client/certctl\$|CERTCTL=\"${CERTCTL[*]}\"|" \
  "$WORK/try_it.sh" >"$WORK/try_it.local.sh"
bash -euo pipefail "$WORK/try_it.local.sh" >"$WORK/try_it.out" 2>&1 \
  || { cat "$WORK/try_it.out"; fail "the README's Try it block failed"; }
echo "README Try it: $(grep -c '^\$CERTCTL\|^NAME=' "$WORK/try_it.sh") certctl commands ran"

# The README's test files.
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=demo-signer" \
  -keyout "$WORK/demo.key" -out "$WORK/demo.pem" 2>/dev/null
printf 'demo-passkey' >"$WORK/demo.passkey"
openssl pkcs12 -export -in "$WORK/demo.pem" -inkey "$WORK/demo.key" \
  -passout "file:$WORK/demo.passkey" -out "$WORK/demo.p12"

# --- Leegality ---
out="$("${CERTCTL[@]}" create backends/leegality --file="$WORK/demo.p12" \
  --passkey_file="$WORK/demo.passkey" \
  --department_id=18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52)"
echo "$out"
name="$(echo "$out" | json 'd["name"]')"
[[ "$name" == backends/leegality/certificates/* ]] || fail "create returned $name"
[ "$(echo "$out" | json 'd["leegality"]["department_name"]')" = HR ] || fail "department"
echo "$out" | grep -q demo-passkey && fail "passkey echoed"

"${CERTCTL[@]}" get "$name" | json 'd["name"]' | grep -qx "$name" || fail "get"
out="$("${CERTCTL[@]}" update "$name" --department_id=7c1f0a52-3b7e-4b0c-9a55-0d2c1e9b8f10)"
[ "$(echo "$out" | json 'd["leegality"]["department_name"]')" = Legal ] || fail "update"
"${CERTCTL[@]}" delete "$name" >/dev/null || fail "delete"
set +e
err="$("${CERTCTL[@]}" get "$name" 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" = 3 ] || fail "get after delete exited $rc (want 3, NOT_FOUND)"
echo "$err" | grep -q "ERROR: NOT_FOUND" || fail "no NOT_FOUND: $err"
echo "$err" | grep -q "reason: CERTIFICATE_NOT_FOUND" || fail "no reason: $err"

# Passkey from the environment; a wrong one is refused with a clear reason.
set +e
err="$(WRONG=nope "${CERTCTL[@]}" create backends/leegality --file="$WORK/demo.p12" \
  --passkey_env=WRONG 2>&1 >/dev/null)"
rc=$?
set -e
[ "$rc" = 4 ] || fail "wrong passkey exited $rc (want 4, INVALID_ARGUMENT)"
echo "$err" | grep -q "reason: INVALID_PKCS12" || fail "wrong passkey: $err"

# --- Apinizer ---
out="$("${CERTCTL[@]}" create "backends/apinizer/projects/Payments" --certificate_id=partner-root \
  --alias=partner-root --description="Partner bank root" --environments=prod,uat --file="$WORK/demo.pem")"
echo "$out"
[ "$(echo "$out" | json 'd["apinizer"]["deployment_result"]["state"]')" = SUCCEEDED ] || fail "deploy"
aname=backends/apinizer/projects/Payments/certificates/partner-root
"${CERTCTL[@]}" get "$aname" | json 'd["apinizer"]["alias"]' | grep -qx partner-root || fail "apinizer get"
out="$("${CERTCTL[@]}" update "$aname" --description="rotated")"
[ "$(echo "$out" | json 'd["apinizer"]["description"]')" = rotated ] || fail "apinizer update"
"${CERTCTL[@]}" delete "$aname" --jwk_delete_action=NULLIFY >/dev/null || fail "apinizer delete"

# Metrics are served and count the calls just made. The server counts a
# call once it has finished it, which can be a moment after the caller has
# its answer: poll (up to 30 s) until the count shows.
CREATES='grpc_server_handled_total{grpc_code="OK",grpc_method="CreateCertificate",grpc_service="certbridge.v1.CertificateService",grpc_type="unary"} 8'
counted=""
for _ in $(seq 1 600); do
  metrics="$(curl -fsS "http://127.0.0.1:$(cat "$WORK/run/metrics.port")/metrics")"
  grep -qF "$CREATES" <<<"$metrics" && { counted=1; break; }
  sleep 0.05
done
[ -n "$counted" ] || fail "metrics do not show the eight creates (four seeded by run.sh, two from the README block)"

# Ctrl-C stops run.sh and everything it started.
kill -INT "$RUN_PID"
wait "$RUN_PID" || true
RUN_PID=""
for pid in $CHILDREN; do
  kill -0 "$pid" 2>/dev/null && fail "process $pid survived run.sh"
done
echo "PASS"
