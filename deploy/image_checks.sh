#!/usr/bin/env bash
# Builds the images without a Docker daemon (buildah, chroot isolation, a
# Debian base made with debootstrap because no registry is reachable) and
# smoke-runs them: the server image answers a gRPC health check and serves
# /metrics, against the emulator image as its backend.
# Usage: deploy/image_checks.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh" buildah podman debootstrap runc
WORK="$(mktemp -d -t certbridge-image.XXXXXX)"
CONTAINERS=()
cleanup() {
  for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. Base images the Dockerfile names, made locally once.
if ! podman image exists docker.io/library/debian:bookworm; then
  debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log"
  tar -C "$WORK/rootfs" -c . | podman import - docker.io/library/debian:bookworm >/dev/null
  rm -rf "$WORK/rootfs"
fi
podman image exists docker.io/library/debian:bookworm-slim ||
  podman tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim

# 2. Both targets, tagged as deploy/ names them (the project version); the
# runtime stage reuses the cached build stage.
VERSION="$(sed -n 's/^project(certbridge VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
REVISION="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
buildah bud --isolation chroot --pull=never --layers --target runtime \
  --build-arg REVISION="$REVISION" -t "localhost/certbridge:$VERSION" .
buildah bud --isolation chroot --pull=never --layers --target emulator \
  --build-arg REVISION="$REVISION" -t "localhost/certbridge-emulator:$VERSION" .
[ "$(podman image inspect "localhost/certbridge:$VERSION" --format '{{.Config.User}}')" = 10001:10001 ] \
  || fail "the runtime image does not run as the non-root user"

# podman here (as root, no systemd) needs runc and explicit ulimits: without
# them runc fails to set RLIMIT_NOFILE ("operation not permitted").
PODMAN_RUN=(podman run --runtime runc --network host --ulimit nofile=1024:1024
            --ulimit nproc=4096:4096)

# The binaries report the revision they were built from.
version_line="$("${PODMAN_RUN[@]}" --rm --entrypoint /usr/local/bin/certbridge-server \
  "localhost/certbridge:$VERSION" --version)"
grep -q "$VERSION.*$REVISION" <<<"$version_line" \
  || fail "--version says '$version_line', want $VERSION and $REVISION"
echo "image: $version_line"

# 3. Smoke run on the host network (loopback only).
RUN=("${PODMAN_RUN[@]}" -d --read-only)
EMU_PORT="$(free_port)"; GRPC_PORT="$(free_port)"; METRICS_PORT="$(free_port)"
CONTAINERS+=("$("${RUN[@]}" --entrypoint /usr/local/bin/certbridge-emulator \
  "localhost/certbridge-emulator:$VERSION" --host=127.0.0.1 --port="$EMU_PORT" --leegality_token=t)")
printf t >"$WORK/token"
cat >"$WORK/config.json" <<JSON
{"listen_address": "127.0.0.1:$GRPC_PORT", "metrics_address": "127.0.0.1:$METRICS_PORT",
 "backends": [{"name": "leegality", "kind": "leegality",
               "base_url": "http://127.0.0.1:$EMU_PORT",
               "auth": {"token_file": "/etc/certbridge/token"}}]}
JSON
# The image runs as uid 10001: the mounted directory must be readable.
chmod 0755 "$WORK"
chmod 0644 "$WORK/config.json" "$WORK/token"
CONTAINERS+=("$("${RUN[@]}" -v "$WORK:/etc/certbridge:ro" "localhost/certbridge:$VERSION")")
ok=""
for _ in $(seq 1 60); do
  if "${PODMAN_RUN[@]}" --rm --entrypoint /usr/local/bin/certbridge-health \
       "localhost/certbridge:$VERSION" --address="127.0.0.1:$GRPC_PORT" \
       --service=certbridge.v1.CertificateService >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
[ -n "$ok" ] || { podman logs "${CONTAINERS[-1]}" >&2 || true; fail "no SERVING health from the image"; }
echo "image health: SERVING"
# certctl exits 3 on the (expected) NOT_FOUND; its output is what counts.
out="$("${PODMAN_RUN[@]}" --rm --entrypoint /usr/local/bin/certctl \
  "localhost/certbridge:$VERSION" --address="127.0.0.1:$GRPC_PORT" \
  get backends/leegality/certificates/0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52 2>&1 || true)"
grep -q "reason: CERTIFICATE_NOT_FOUND" <<<"$out" \
  || fail "the image did not reach the emulator image: $out"
# Read the whole page first: grep -q stops at the first match, and under pipefail the
# writer's broken pipe (curl exit 23) would fail a check that passed.
metrics="$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics")" || fail "/metrics from the image did not answer"
grep -q 'grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetCertificate"' <<<"$metrics" \
  || fail "/metrics from the image lacks the call"
echo "image /metrics: OK"
echo "image checks: OK"
