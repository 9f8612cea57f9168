#!/usr/bin/env bash
# What the container checks need (scripts/docker-check.sh), apart from the test servers:
# Debian's docker.io, docker-compose and debootstrap; a running docker engine (started here
# as `dockerd --bridge=none --iptables=false` when none answers: containers then use the host
# network only); and a local `debian:bookworm-slim` base image made with debootstrap when no
# registry can provide one. Safe to re-run.
set -euo pipefail

log() { printf '[install-docker] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

DOCKER_STATE="${SIPHON_DEV_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.dev}/docker"
BASE_IMAGE=debian:bookworm-slim
mkdir -p "$DOCKER_STATE"

sudo=()
if [[ $EUID -ne 0 ]]; then
    have sudo || die "need root or sudo"
    sudo=(sudo)
fi

missing=()
for pkg in docker.io docker-compose debootstrap; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's CLI builds with BuildKit itself (no buildx plugin needed), which skips the stages a
# target does not use.
DOCKER=/usr/bin/docker
if ! "${sudo[@]}" "$DOCKER" info >/dev/null 2>&1; then
    log "starting dockerd (host network only; log: $DOCKER_STATE/dockerd.log)"
    "${sudo[@]}" setsid dockerd --bridge=none --iptables=false \
        >"$DOCKER_STATE/dockerd.log" 2>&1 < /dev/null &
    echo $! >"$DOCKER_STATE/dockerd.pid"
    for _ in $(seq 1 60); do
        "${sudo[@]}" "$DOCKER" info >/dev/null 2>&1 && break
        sleep 1
    done
    "${sudo[@]}" "$DOCKER" info >/dev/null 2>&1 || die "dockerd did not start: $(tail -5 "$DOCKER_STATE/dockerd.log")"
fi

if ! "${sudo[@]}" "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    if "${sudo[@]}" "$DOCKER" pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
        log "pulled $BASE_IMAGE"
    else
        root_dir="$(mktemp -d)"
        log "no registry: making $BASE_IMAGE with debootstrap (~2 min)"
        "${sudo[@]}" debootstrap --variant=minbase bookworm "$root_dir" >"$DOCKER_STATE/debootstrap.log" 2>&1 ||
            die "debootstrap failed: $(tail -5 "$DOCKER_STATE/debootstrap.log")"
        # What the official slim image leaves out: package caches, docs, man pages, locales.
        "${sudo[@]}" rm -rf "$root_dir"/var/cache/apt/archives/*.deb "$root_dir"/var/lib/apt/lists/* \
            "$root_dir"/usr/share/doc/* "$root_dir"/usr/share/man/* "$root_dir"/usr/share/info/*
        "${sudo[@]}" tar -C "$root_dir" -c . | "${sudo[@]}" "$DOCKER" import - "$BASE_IMAGE" >/dev/null
        "${sudo[@]}" rm -rf "$root_dir"
        log "imported $BASE_IMAGE"
    fi
fi
log "done"
