#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs `ctest -L fuzz`:
# each fuzzer over its seed corpus once, then fuzzing for SECONDS.
# Usage: scripts/fuzz.sh [SECONDS]   (per fuzzer; default 30)
#   FUZZ_BUILD_DIR   CMake build directory (build-fuzz)
# Exits non-zero on any crash, leak, timeout or failed property; the input
# that did it is in $FUZZ_BUILD_DIR/tests/fuzz/runs/<fuzzer>/artifacts/.
# Reproduce: $FUZZ_BUILD_DIR/tests/fuzz/<fuzzer> <artifact>
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
FUZZ_SECONDS="${1:-30}"

"$ROOT/scripts/bootstrap.sh" clang libclang-rt-14-dev
# Libraries get coverage instrumentation (fuzzer-no-link) and sanitizers;
# the fuzzers add libFuzzer's main at link time (tests/fuzz/CMakeLists.txt).
# Only what the fuzzers link is built: no tests, emulator or server binary.
SANITIZE="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCERTBRIDGE_FUZZ=ON -DCERTBRIDGE_BUILD_TESTS=OFF -DCERTBRIDGE_WERROR=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$SANITIZE" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCERTBRIDGE_FUZZ_SECONDS="$FUZZ_SECONDS" >/dev/null
cmake --build "$BUILD_DIR" --target fuzzers

# One fuzzer per core; corpus regressions are quick.
status=0
ctest --test-dir "$BUILD_DIR" -L fuzz -j"$(nproc)" --output-on-failure || status=$?

# One line per fuzzer from its run log: "#N DONE cov: .. ft: .. corp: ..".
echo "fuzz summary (${FUZZ_SECONDS}s each):"
for log in "$BUILD_DIR"/tests/fuzz/runs/fuzz_*/run.log; do
  [ -f "$log" ] || continue
  name="$(basename "$(dirname "$log")")"
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
  if [ -n "$done_line" ]; then
    echo "  $name: $(awk '{sub(/^#/, "", $1); printf "%s execs, cov: %s ft: %s corp: %s", $1, $4, $6, $8}' <<<"$done_line")"
  else
    echo "  $name: no DONE line (crashed or did not run; see $log)"
  fi
done
exit "$status"
