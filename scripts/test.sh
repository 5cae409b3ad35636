#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit).
#   BUILD_DIR   CMake build directory (build)
#   CERTBRIDGE_SANITIZE=1  build with ASan/UBSan
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

"$ROOT/scripts/bootstrap.sh"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCERTBRIDGE_SANITIZE="$([ "${CERTBRIDGE_SANITIZE:-0}" = 1 ] && echo ON || echo OFF)" >/dev/null
cmake --build "$BUILD_DIR"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300 -j2 "$@"
