#!/usr/bin/env bash
# Formatting (clang-format, .clang-format) and static analysis (clang-tidy,
# .clang-tidy) of our sources. Needs a configured build dir for
# compile_commands.json. Usage: scripts/lint.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-$ROOT/build}"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" clang-format clang-tidy
mapfile -t files < <(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror "${files[@]}" 2>/dev/null; then
  clang-format --dry-run "${files[@]}" 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u | sed 's/^/needs clang-format: /'
  exit 1
fi
mapfile -t sources < <(git ls-files 'server/*.cc' 'client/*.cc')
out="$(printf '%s\n' "${sources[@]}" | xargs -P"$(nproc)" -n4 clang-tidy -p "$BUILD_DIR" --quiet 2>/dev/null | grep -E 'warning:|error:' | sort -u || true)"
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
echo "lint: clean (${#files[@]} files formatted, ${#sources[@]} analysed)"
