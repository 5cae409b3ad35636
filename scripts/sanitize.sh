#!/usr/bin/env bash
# Sanitizer runs. asan: ASan + UBSan + LeakSanitizer over the whole ctest
# suite (all labels). tsan: ThreadSanitizer over `ctest -L integration` (real
# gRPC server, libcurl engine thread and emulator threads in one process).
# Usage: scripts/sanitize.sh [asan|tsan|all]   (default all)
#   ASAN_BUILD_DIR  ASan/UBSan build directory (build-asan)
#   TSAN_BUILD_DIR  TSan build directory       (build-tsan)
# Exits non-zero on any failed test or sanitizer report. Reports go to
# <build dir>/sanitizer-logs/ (so those of child processes -- the servers the
# e2e scripts start -- count too) and are printed at the end. Suppressions
# (third-party code only, each explained) are in tests/sanitizers/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-all}"
SUPP="$ROOT/tests/sanitizers"
case "$MODE" in asan | tsan | all) ;; *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;; esac
"$ROOT/scripts/bootstrap.sh"
status=0
summary=()

# configure DIR CMAKE-ARGS...: gcc, RelWithDebInfo (-O2 -g: fast, full
# stacks). No -Werror: the normal build enforces warnings, and gcc's
# instrumentation adds spurious ones (-Wmaybe-uninitialized and the like).
configure() {
  local dir="$1"; shift
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTBRIDGE_WERROR=OFF "$@" >/dev/null
}

# check NAME LOGS START CTEST-ARGS...: runs ctest (tests inherit the caller's
# *SAN_OPTIONS, whose log_path points into LOGS), then fails on any report.
check() {
  local name="$1" logs="$2" start="$3" rc=0 t0=$SECONDS reports=(); shift 3
  nice ctest --output-on-failure --timeout 600 -j2 "$@" || rc=$?
  mapfile -t reports < <(find "$logs" -type f)
  if [ ${#reports[@]} -gt 0 ]; then
    echo "=== $name: ${#reports[@]} sanitizer report(s):" >&2
    cat "${reports[@]}" >&2
    rc=1
  fi
  summary+=("$name: build $((t0 - start))s, tests $((SECONDS - t0))s, ${#reports[@]} reports, $([ $rc = 0 ] && echo PASS || echo FAIL)")
  [ $rc = 0 ] || status=1
}

if [ "$MODE" != tsan ]; then
  dir="${ASAN_BUILD_DIR:-$ROOT/build-asan}" start=$SECONDS logs="$dir/sanitizer-logs"
  configure "$dir" -DCERTBRIDGE_SANITIZE=ON -DCERTBRIDGE_TSAN=OFF
  rm -rf "$logs" && mkdir -p "$logs/fast" "$logs/slow" "$logs/checks"
  # No leak check while building: gtest discovery only lists the tests.
  ASAN_OPTIONS=detect_leaks=0 nice cmake --build "$dir" -j2
  # abort_on_error: a report kills the process, and so fails its test.
  asan="detect_leaks=1:abort_on_error=1:halt_on_error=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/fast/ubsan" \
    ASAN_OPTIONS="$asan:log_path=$logs/fast/asan" check asan "$logs/fast" "$start" --test-dir "$dir" -LE 'integration|e2e|build'
  # Processes that load OpenSSL's providers (the server, integration tests)
  # need full malloc stacks through OpenSSL, which has no frame pointers, for
  # lsan.supp to match: the slow unwinder (~3x slower). MemoryTest bounds the
  # server's RSS, which ASan's redzones and quarantine inflate by design.
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/slow/ubsan" \
    ASAN_OPTIONS="$asan:fast_unwind_on_malloc=0:log_path=$logs/slow/asan" check asan-server "$logs/slow" $SECONDS \
    --test-dir "$dir" -L 'integration|e2e' -E '^(MemoryTest|ChecksTest)[.]'
  # ChecksTest opens PKCS#12 files of a million PBKDF2 iterations, each of
  # which allocates inside OpenSSL: with the slow unwinder a file takes
  # minutes and the backend times out. Fast unwinding, no leak check (the
  # pass above covers leaks on the same code paths).
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/checks/ubsan" \
    ASAN_OPTIONS="$asan:detect_leaks=0:log_path=$logs/checks/asan" check asan-checks "$logs/checks" $SECONDS \
    --test-dir "$dir" -L integration -R '^ChecksTest[.]'
  unset LSAN_OPTIONS
fi

if [ "$MODE" != asan ]; then
  dir="${TSAN_BUILD_DIR:-$ROOT/build-tsan}" start=$SECONDS logs="$dir/sanitizer-logs"
  # abseil and gRPC are not instrumented: TSan cannot see absl::Mutex (ours
  # and gRPC's) nor gRPC's hand-offs of a call between threads, and reports
  # them as races. tests/sanitizers/tsan_annotations.cc annotates them; it is
  # linked into every executable, its symbols exported so that they take the
  # calls (object named by content, so a change relinks).
  mkdir -p "$dir" && shim="$dir/tsan_annotations-$(sha1sum "$SUPP/tsan_annotations.cc" | cut -c1-12).o"
  [ -f "$shim" ] || "${CXX:-c++}" -std=c++17 -O1 -g -fsanitize=thread -fPIC -c "$SUPP/tsan_annotations.cc" -o "$shim"
  exports="$(nm "$shim" | sed -n 's/^[0-9a-f]* T /-Wl,--export-dynamic-symbol=/p' | tr '\n' ' ')"
  configure "$dir" -DCERTBRIDGE_TSAN=ON -DCERTBRIDGE_SANITIZE=OFF -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread $exports $shim"
  rm -rf "$logs" && mkdir -p "$logs"
  # Only what the integration tests need: the tests/integration targets.
  # MemoryTest bounds RSS, which TSan's shadow memory multiplies; it runs in
  # the normal build.
  nice cmake --build "$dir" -j2 --target tests/integration/all
  TSAN_OPTIONS="suppressions=$SUPP/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4:log_path=$logs/tsan" \
    check tsan "$logs" "$start" --test-dir "$dir" -L integration -E '^MemoryTest[.]'
fi

echo "sanitize.sh summary:"
printf '  %s\n' "${summary[@]}"
exit "$status"
