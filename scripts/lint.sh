#!/usr/bin/env bash
# Formatting (clang-format, .clang-format) and static analysis (clang-tidy,
# .clang-tidy; tests/.clang-tidy for tests/) of our sources. Needs a configured
# build dir for compile_commands.json. Usage: scripts/lint.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${1:-$ROOT/build}" && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" clang-format clang-tidy
mapfile -t files < <(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror "${files[@]}" 2>/dev/null; then
  clang-format --dry-run "${files[@]}" 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u | sed 's/^/needs clang-format: /'
  exit 1
fi

# clang-tidy analyses every .cc of ours (server/, client/, tests/**) that is in
# compile_commands.json; headers come in through HeaderFilterRegex. Two kinds
# of tracked source are only in other build dirs, and are not analysed here:
#   tests/fuzz/*.cc            - the libFuzzer build (CERTBRIDGE_FUZZ=ON, build-fuzz/)
#   tests/sanitizers/*.cc      - linked into the TSan build only
# Any other tracked .cc missing from compile_commands.json means a stale build
# dir (or a source no target builds), and fails the lint rather than being
# silently left out.
db="$BUILD_DIR/compile_commands.json"
[ -f "$db" ] || { echo "lint: no $db (configure $BUILD_DIR first)" >&2; exit 1; }
# CMake writes one "file": "/abs/path" line per entry.
mapfile -t in_db < <(sed -n 's/^ *"file": *"\(.*\)",\{0,1\}$/\1/p' "$db" | sort -u)
declare -A known=()
for f in "${in_db[@]}"; do known["$f"]=1; done
sources=()
missing=()
while IFS= read -r f; do
  if [ -n "${known["$ROOT/$f"]+x}" ]; then
    sources+=("$f")
  else
    case "$f" in
      tests/fuzz/* | tests/sanitizers/*) ;;
      *) missing+=("$f") ;;
    esac
  fi
done < <(git ls-files 'server/*.cc' 'client/*.cc' 'tests/*.cc')
if [ ${#missing[@]} -gt 0 ]; then
  printf 'not in %s (reconfigure the build dir): %s\n' "$db" "${missing[@]}"
  exit 1
fi

# One file per clang-tidy so the $(nproc) workers stay evenly loaded.
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
status=0
printf '%s\n' "${sources[@]}" | xargs -P"$(nproc)" -n1 clang-tidy -p "$BUILD_DIR" --quiet >"$raw" 2>/dev/null || status=$?
# A header reached through a library's include view (build/include/<lib>/...,
# symlinks) is reported under that path: map it back to the source file, so
# it is reported once and by the name to edit.
root_real="$(readlink -f "$ROOT")"
out="$(grep -E '(warning|error):' "$raw" | while IFS= read -r line; do
  f="${line%%:*}"
  if [ -e "$f" ]; then line="$(readlink -f "$f")${line#"$f"}"; fi
  line="${line#"$root_real/"}"
  printf '%s\n' "${line#"$ROOT/"}"
done | sort -u || true)"
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "lint: clang-tidy failed (exit $status) with no diagnostic:" >&2
  tail -n 20 "$raw" >&2
  exit 1
fi
echo "lint: clean (${#files[@]} files formatted, ${#sources[@]} analysed)"
