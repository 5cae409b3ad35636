# syntax=docker/dockerfile:1
# certbridge images. Targets:
#   runtime  (default) the server and certctl, non-root, slim
#   emulator the REST emulator of both vendor APIs, for staging and demos
# Base images are Debian bookworm. Tag with the project version (the one in
# CMakeLists.txt and deploy/) and pass the source revision, e.g.
#   buildah bud --target runtime --build-arg REVISION=$(git rev-parse HEAD) \
#     -t certbridge:0.1.0 .
#   buildah bud --target emulator -t certbridge-emulator:0.1.0 .
# (docker build takes the same arguments.)

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/bootstrap.sh scripts/bootstrap.sh
RUN scripts/bootstrap.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# The build context has no .git: --version and certbridge_build_info report
# this revision.
ARG REVISION=unknown
# Unit tests gate the image; integration tests run in CI (scripts/test.sh),
# so only the shipped programs and the unit tests are built here.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCERTBRIDGE_BUILD_BENCH=OFF \
      -DCERTBRIDGE_REVISION="${REVISION}" \
    && cmake --build /build --target certbridge-server certctl certbridge-health \
       certbridge-emulator tests/unit/all fixtures_selftest \
    && ctest --test-dir /build -L unit --output-on-failure \
    && strip /build/server/certbridge-server /build/client/certctl \
             /build/client/certbridge-health \
             /build/tests/emulator/certbridge-emulator

FROM debian:bookworm-slim AS runtime-base
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (no -dev packages, no compilers).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       ca-certificates libgrpc++1.51 libprotobuf32 libcurl4 libssl3 \
       libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
       libabsl20220623 libc-ares2 libre2-9 zlib1g libhiredis0.14 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 certbridge \
    && useradd --system --uid 10001 --gid certbridge --no-create-home \
       --shell /usr/sbin/nologin certbridge
USER 10001:10001

FROM runtime-base AS emulator
COPY --from=build /build/tests/emulator/certbridge-emulator /usr/local/bin/
EXPOSE 8089
ENTRYPOINT ["/usr/local/bin/certbridge-emulator", "--host=0.0.0.0", "--port=8089"]

FROM runtime-base AS runtime
ARG REVISION=unknown
LABEL org.opencontainers.image.title="certbridge" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /build/server/certbridge-server /build/client/certctl \
     /build/client/certbridge-health /usr/local/bin/
# gRPC, Prometheus /metrics, plaintext health (when health_listen_address
# is set, as deploy/ does).
EXPOSE 50051 9464 8081
ENTRYPOINT ["/usr/local/bin/certbridge-server"]
CMD ["--config=/etc/certbridge/config.json"]
