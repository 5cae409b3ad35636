#!/usr/bin/env bash
# certbridge's benchmark: what the gRPC hop costs. Each point runs the same
# operation against the same emulator twice -- "proxied" through
# certbridge-server (gRPC) and "direct" (the emulator's REST API with the
# same HTTP/1.1 keep-alive settings, headers, token and bodies certbridge
# uses) -- in interleaved pairs, and reports medians over the pairs.
# The load generator is bench/load_generator.cc (certbridge-loadgen).
#
# Points: closed loop Get at each GET_CONCURRENCY, Create (Leegality, ~5 KB
# PKCS#12) and Update (Apinizer description) at each WRITE_CONCURRENCY, then
# an open-loop Get at OPEN_PERCENT of the best proxied closed-loop Get rate.
# Prints Markdown tables (also written to bench/results/latest.md, the raw
# JSON lines to bench/results/latest.jsonl) and exits non-zero when any run
# had an error (a failed RPC or REST call) or a process died.
#
# Usage: bench/run.sh              full run (about 7 minutes after the build)
#        QUICK=1 bench/run.sh      smoke test: 1 pair of 1 s runs per point
# Environment (all optional):
#   BUILD_DIR          CMake build directory        (build-bench)
#   BUILD_TYPE         CMAKE_BUILD_TYPE             (Release: what the
#                      Dockerfile ships; the project's default is
#                      RelWithDebInfo)
#   CERTBRIDGE_SKIP_BUILD=1  use the binaries already in BUILD_DIR
#   DURATION           timed seconds per run        (5; QUICK: 1)
#   WARMUP             untimed seconds before each  (1; QUICK: 0.3)
#   PAIRS              direct+proxied pairs/point   (3; QUICK: 1)
#   GET_CONCURRENCY    closed-loop Get points       ("1 16 64 256 1024")
#   WRITE_CONCURRENCY  Create and Update points     ("1 64")
#   OPEN_PERCENT       open-loop Get rate, % of the proxied peak (50)
#   PER_CHANNEL        outstanding RPCs per gRPC channel/connection (64)
#   RESULTS_DIR        where latest.md/.jsonl go    (bench/results)
#   SERVER_BIN         the certbridge-server measured (BUILD_DIR's): e.g. an
#                      older revision's, for a before/after in one sitting
#   SERVER_PRELOAD     LD_PRELOAD for the server alone, e.g. an allocator
#                      (/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)
#
# CPU placement: nothing is pinned (no taskset). The load generator,
# certbridge-server and the emulator share the machine's cores -- 2 on the
# machine this was written on -- so every figure is "on this box, all three
# competing": the direct runs leave certbridge's share of the CPU to the
# emulator and the load generator, which flatters direct at saturation.
# Pinning was not measured to help: with three busy processes on two cores,
# any placement makes two of them share a core. Compare ratios and per-RPC
# costs, not absolute rates, across machines; the load average printed
# before and after shows other load on the box.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
BUILD_TYPE="${BUILD_TYPE:-Release}"
if [ "${QUICK:-0}" = 1 ]; then
  DURATION="${DURATION:-1}"
  WARMUP="${WARMUP:-0.3}"
  PAIRS="${PAIRS:-1}"
fi
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-1}"
PAIRS="${PAIRS:-3}"
GET_CONCURRENCY="${GET_CONCURRENCY:-1 16 64 256 1024}"
WRITE_CONCURRENCY="${WRITE_CONCURRENCY:-1 64}"
OPEN_PERCENT="${OPEN_PERCENT:-50}"
PER_CHANNEL="${PER_CHANNEL:-64}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"

if [ "${CERTBRIDGE_SKIP_BUILD:-0}" != 1 ]; then
  "$ROOT/scripts/bootstrap.sh"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DCERTBRIDGE_BUILD_TESTS=ON -DCERTBRIDGE_BUILD_BENCH=ON >/dev/null
  nice cmake --build "$BUILD_DIR" --target certbridge-loadgen \
    certbridge-server certbridge-emulator >&2
fi
LOADGEN="$BUILD_DIR/bench/certbridge-loadgen"
BUILT_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt")"

RUN_DIR="$(mktemp -d -t certbridge-bench.XXXXXX)"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" = 0 ]; then rm -rf "$RUN_DIR"; else echo "run.sh: FAILED; config and logs in $RUN_DIR" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "run.sh: $*" >&2; exit 1; }

wait_for_file() {  # path pid what log
  for _ in $(seq 1 200); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { tail -n 5 "$4" >&2; fail "$3 exited during start-up"; }
    sleep 0.05
  done
  fail "$3 did not start within 10 s (log: $4)"
}

# As scripts/run.sh: fixed demo tokens, read by the server from files and by
# the emulator from the environment (not argv).
LEEGALITY_TOKEN="demo-leegality-token"
APINIZER_TOKEN="demo-apinizer-token"
(
  umask 077
  printf '%s' "$LEEGALITY_TOKEN" >"$RUN_DIR/leegality.token"
  printf '%s' "$APINIZER_TOKEN" >"$RUN_DIR/apinizer.token"
)

# Logs are appended (O_APPEND), so truncating them between runs is safe; the
# emulator writes a line per request and the server an access line per RPC.
EMULATOR_LEEGALITY_TOKEN="$LEEGALITY_TOKEN" EMULATOR_APINIZER_TOKEN="$APINIZER_TOKEN" \
  "$BUILD_DIR/tests/emulator/certbridge-emulator" --host=127.0.0.1 --port=0 \
  --port_file="$RUN_DIR/emulator.port" 2>>"$RUN_DIR/emulator.log" &
EMULATOR_PID=$!
pids+=("$EMULATOR_PID")
wait_for_file "$RUN_DIR/emulator.port" "$EMULATOR_PID" emulator "$RUN_DIR/emulator.log"
EMULATOR_URL="http://127.0.0.1:$(cat "$RUN_DIR/emulator.port")"

# scripts/run.sh's configuration (log_level info: one access line per RPC,
# as shipped), except max_concurrent_calls: the default 256 sheds load with
# RESOURCE_EXHAUSTED, by design, before the 1024-concurrency point.
cat >"$RUN_DIR/config.json" <<JSON
{
  "listen_address": "127.0.0.1:0",
  "metrics_address": "127.0.0.1:0",
  "log_level": "info",
  "shutdown_drain_delay": "0s",
  "backends": [
    {"name": "leegality", "kind": "leegality", "base_url": "$EMULATOR_URL",
     "auth": {"header": "x-auth-token", "token_file": "$RUN_DIR/leegality.token"},
     "max_concurrent_calls": 4096},
    {"name": "apinizer", "kind": "apinizer", "base_url": "$EMULATOR_URL/apiops",
     "auth": {"header": "bearer", "token_file": "$RUN_DIR/apinizer.token"},
     "max_concurrent_calls": 4096}
  ]
}
JSON
SERVER_BIN="${SERVER_BIN:-$BUILD_DIR/server/certbridge-server}"
[ -x "$SERVER_BIN" ] || fail "no server binary at $SERVER_BIN"
LD_PRELOAD="${SERVER_PRELOAD:-}" "$SERVER_BIN" --config="$RUN_DIR/config.json" \
  --port_file="$RUN_DIR/grpc.port" --metrics_port_file="$RUN_DIR/metrics.port" \
  2>>"$RUN_DIR/server.log" &
SERVER_PID=$!
pids+=("$SERVER_PID")
wait_for_file "$RUN_DIR/grpc.port" "$SERVER_PID" certbridge-server "$RUN_DIR/server.log"
GRPC_ADDRESS="127.0.0.1:$(cat "$RUN_DIR/grpc.port")"

# The certificates Get and Update work on, created through certbridge.
"$LOADGEN" --op=seed --grpc_address="$GRPC_ADDRESS" >"$RUN_DIR/seed.json" \
  || fail "seeding failed"
LEEGALITY_NAME="$(sed -n 's/.*"leegality_name":"\([^"]*\)".*/\1/p' "$RUN_DIR/seed.json")"
APINIZER_NAME="$(sed -n 's/.*"apinizer_name":"\([^"]*\)".*/\1/p' "$RUN_DIR/seed.json")"
if [ -z "$LEEGALITY_NAME" ] || [ -z "$APINIZER_NAME" ]; then
  fail "seed: $(cat "$RUN_DIR/seed.json")"
fi

JSONL="$RUN_DIR/results.jsonl"
: >"$JSONL"
LOADAVG_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
failed_runs=0

run() {  # label pair target loadgen-flags...
  local label=$1 pair=$2 target=$3 line rc=0
  shift 3
  line="$("$LOADGEN" --target="$target" --label="$label" --pair="$pair" \
    --grpc_address="$GRPC_ADDRESS" --emulator_url="$EMULATOR_URL" \
    --leegality_token_file="$RUN_DIR/leegality.token" \
    --apinizer_token_file="$RUN_DIR/apinizer.token" \
    --leegality_name="$LEEGALITY_NAME" --apinizer_name="$APINIZER_NAME" \
    --server_pid="$SERVER_PID" --emulator_pid="$EMULATOR_PID" \
    --per_channel="$PER_CHANNEL" --duration="${DURATION}s" --warmup="${WARMUP}s" \
    "$@")" || rc=$?
  kill -0 "$SERVER_PID" 2>/dev/null || fail "certbridge-server died during $label ($target)"
  kill -0 "$EMULATOR_PID" 2>/dev/null || fail "the emulator died during $label ($target)"
  [ -n "$line" ] || fail "certbridge-loadgen failed ($rc) for $label ($target)"
  echo "$line" >>"$JSONL"
  local errors
  errors="$(grep -o '"errors":[0-9]*' <<<"$line" | head -n 1 | cut -d: -f2)"
  if [ "$rc" != 0 ] || [ "${errors:-1}" != 0 ]; then
    failed_runs=$((failed_runs + 1))
    echo "run.sh: $label $target pair $pair: ERRORS: $line" >&2
    cp "$RUN_DIR/server.log" "$RUN_DIR/server.$label.$target.$pair.log"
    cp "$RUN_DIR/emulator.log" "$RUN_DIR/emulator.$label.$target.$pair.log"
  fi
  printf 'run.sh: %-12s %-5s pair %s: %s\n' "$label" "$target" "$pair" \
    "$(grep -o '"rps":[0-9.]*\|"p99_us":[0-9.]*\|"errors":[0-9]*' <<<"$line" | head -n 3 | tr '\n' ' ')" >&2
  : >"$RUN_DIR/server.log"
  : >"$RUN_DIR/emulator.log"
}

# Direct and proxied alternate which goes first, so that drift (a warming
# cache, a growing heap, a neighbour's load) does not favour either.
point() {  # label loadgen-flags...
  local label=$1 pair
  shift
  for pair in $(seq 1 "$PAIRS"); do
    if [ $((pair % 2)) = 1 ]; then
      run "$label" "$pair" rest "$@"
      run "$label" "$pair" grpc "$@"
    else
      run "$label" "$pair" grpc "$@"
      run "$label" "$pair" rest "$@"
    fi
  done
}

for c in $GET_CONCURRENCY; do point "get-c$c" --op=get --concurrency="$c"; done
for c in $WRITE_CONCURRENCY; do point "create-c$c" --op=create --concurrency="$c"; done
for c in $WRITE_CONCURRENCY; do point "update-c$c" --op=update --concurrency="$c"; done
PEAK="$("$LOADGEN" --report_peak="$JSONL")" || fail "no proxied Get rate to base the open loop on"
OPEN_RATE=$((PEAK * OPEN_PERCENT / 100))
if [ "$OPEN_RATE" -gt 0 ]; then
  # Four channels: at that rate and a few ms of latency, well under the 100
  # streams one connection may carry.
  point "get-open-${OPEN_RATE}" --op=get --mode=open --rate="$OPEN_RATE" --channels=4
fi

mkdir -p "$RESULTS_DIR"
{
  echo "## certbridge benchmark: proxied (certbridge gRPC) vs direct (REST to the emulator)"
  echo
  echo "- date: $STARTED (UTC), host $(uname -n), $(nproc) CPUs, $(uname -sr)"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo ' (uncommitted changes)')"
  echo "- build: ${BUILT_TYPE:-RelWithDebInfo} ($BUILD_DIR); server measured: $SERVER_BIN" \
    "$( [ -n "$("$SERVER_BIN" --version 2>/dev/null | head -n 1)" ] && echo "($("$SERVER_BIN" --version 2>/dev/null | head -n 1))")" \
    "$( [ -n "${SERVER_PRELOAD:-}" ] && echo "with LD_PRELOAD=$SERVER_PRELOAD")"
  echo "- load average (1/5/15 min) before: $LOADAVG_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- runs: ${PAIRS} interleaved pair(s) per point, ${WARMUP} s warm-up + ${DURATION} s timed each;" \
    "closed loop cN = N outstanding, ${PER_CHANNEL} per gRPC connection; open loop at ${OPEN_PERCENT} % of the" \
    "proxied Get peak (${PEAK} RPC/s), latency from the scheduled send time"
  echo "- direct: libcurl multi, HTTP/1.1 keep-alive, at most 64 connections, a new connection per POST (as certbridge);" \
    "update = GET + PUT + GET, as certbridge does for a description change"
  echo "- load generator, server and emulator share the CPUs (no pinning)"
  echo
  "$LOADGEN" --report="$JSONL"
  echo
  if [ "$failed_runs" = 0 ]; then
    echo "All runs: 0 errors."
  else
    echo "**$failed_runs run(s) had errors** (see results/latest.jsonl)."
  fi
} >"$RESULTS_DIR/latest.md"
cp "$JSONL" "$RESULTS_DIR/latest.jsonl"
cat "$RESULTS_DIR/latest.md"

[ "$failed_runs" = 0 ] || fail "$failed_runs run(s) had errors"
