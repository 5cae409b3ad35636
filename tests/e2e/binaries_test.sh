#!/usr/bin/env bash
# Every binary answers --version with its name, the project version and the
# source revision, and --help with its usage and flags (Issue 11
# finding 10: --version printed no version, --help "No flags matched.").
# Usage: binaries_test.sh BUILD_DIR
set -euo pipefail
BUILD_DIR="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }
VERSION="$(sed -n 's/^project(certbridge VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")"
# A build from a git checkout reports its commit; from a tarball, "unknown".
REVISION_RE='[0-9a-f]{12}|unknown'
check() {  # binary  a-flag-its-help-must-list
  local bin="$BUILD_DIR/$1" name
  name="$(basename "$1")"
  out="$("$bin" --version)" || fail "$name --version exited $?"
  # Here-strings, not `echo | grep -q`: grep -q exits at the first match and
  # under pipefail the writer's SIGPIPE failed the check now and then.
  grep -Eqx "$name $VERSION \(revision ($REVISION_RE)\)" <<<"$out" \
    || fail "$name --version: '$out'"
  echo "$out"
  # Abseil's flag library ends --help with status 1; certctl with 0.
  set +e; help="$("$bin" --help 2>&1)"; rc=$?; set -e
  [ "$rc" -le 1 ] || fail "$name --help exited $rc"
  grep -q -- "$2" <<<"$help" || fail "$name --help lacks $2: $help"
  grep -q "No flags matched" <<<"$help" && fail "$name --help: No flags matched"
  echo "$name --help lists $2"
}
check server/certbridge-server --config
check client/certbridge-health --tls_server_name
check client/certctl --output
check tests/emulator/certbridge-emulator --port
echo PASS
