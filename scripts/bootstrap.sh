#!/usr/bin/env bash
# Installs the Debian 12 packages certbridge builds and tests with.
# Idempotent: when every package is already present it only runs dpkg-query (well under a second).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ninja-build ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcurl4-openssl-dev nlohmann-json3-dev prometheus-cpp-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # google/rpc/{status,error_details}.proto are not in the C++ packages; Debian ships them here.
  golang-github-gogo-googleapis-dev
  # grpc/health/v1/health.proto and grpc/reflection/v1alpha/reflection.proto for the tests' clients.
  grpc-proto
  # nghttp reads the server's HTTP/2 SETTINGS in an e2e test.
  nghttp2-client
  # openssl CLI makes test certificates and PKCS#12 fixtures at test time.
  openssl curl ca-certificates
  # The Redis client uses hiredis as its RESP codec only (its I/O is ours);
  # its tests run a real redis-server (built with TLS in Debian 12).
  libhiredis-dev redis-server
)
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
