# Siphon's container image: a Rust builder, then a slim Debian runtime running `siphon run` as
# a non-root user. Build: `docker build -t siphon .`
#
# Targets:
#   runtime   (default) the binary built from source in the `build` stage;
#   prebuilt  the runtime with a binary built outside (CI: `--target prebuilt
#             --build-arg SIPHON_BIN=target/debug/siphon`), so no Rust image is needed.
ARG RUST_IMAGE=rust:1.89-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
# rdkafka's bundled librdkafka is built with cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake build-essential pkg-config \
      libcurl4-openssl-dev zlib1g-dev libssl-dev libsasl2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin siphon \
 && install -s -m 0755 target/release/siphon /usr/local/bin/siphon

FROM ${RUNTIME_IMAGE} AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libsasl2-2 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/siphon --shell /usr/sbin/nologin siphon \
 && mkdir -p /var/lib/siphon /etc/siphon \
 && chown siphon:siphon /var/lib/siphon
# The REST API listens on every interface inside the container (publish it with -p 8083:8083);
# offsets, configs and the embedded sink's files live in the data volume.
ENV SIPHON_API_BIND=0.0.0.0:8083 \
    SIPHON_DATA_DIR=/var/lib/siphon \
    SIPHON_LOG=info
VOLUME ["/var/lib/siphon"]
EXPOSE 8083
USER siphon
WORKDIR /var/lib/siphon
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["siphon", "health"]
# siphon is PID 1 and handles SIGTERM itself: the API stops, connectors commit and stop.
ENTRYPOINT ["siphon"]
CMD ["run"]

FROM base AS prebuilt
ARG SIPHON_BIN=target/release/siphon
COPY ${SIPHON_BIN} /usr/local/bin/siphon

FROM base AS runtime
COPY --from=build /usr/local/bin/siphon /usr/local/bin/siphon
