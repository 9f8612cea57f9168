# shellcheck shell=bash
# Shared helpers for start-servers.sh / stop-servers.sh. Sourced, not executed.
#
# Layout of the state dir (${SIPHON_DEV_DIR:-<repo>/.dev}):
#   lock                 flock(1) target: serialises every start/stop caller
#   env                  `export NAME=value` lines for the servers that are up
#   <server>/pid         PID of the running server process
#   <server>/port        its loopback TCP port
#   <server>/log         its stdout/stderr (PostgreSQL: pg_ctl -l log)
#   <server>/data        its data dir (pg, mariadb, mariadb-bad; kafka and registry are
#                        memory-only)

SIPHON_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Absolute, so the paths we hand to servers and record stay valid from any cwd.
SIPHON_STATE_DIR="$(realpath -m "${SIPHON_DEV_DIR:-$SIPHON_REPO_ROOT/.dev}")"
# Started when no names are given.
SIPHON_ALL_SERVERS=(pg mariadb kafka registry)
# Started only when named (e.g. by the test harness); stopped with the others.
SIPHON_ON_DEMAND_SERVERS=(mariadb-bad)
SIPHON_KNOWN_SERVERS=("${SIPHON_ALL_SERVERS[@]}" "${SIPHON_ON_DEMAND_SERVERS[@]}")
SIPHON_LOCK_TIMEOUT="${SIPHON_LOCK_TIMEOUT:-600}"

log() { printf '[siphon-dev] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Accept a few aliases so `start-servers.sh mysql postgres` also works.
canonical_server() {
    case "$1" in
        pg | postgres | postgresql) echo pg ;;
        mariadb | mysql) echo mariadb ;;
        mariadb-bad | mysql-bad) echo mariadb-bad ;;
        kafka | tansu | broker) echo kafka ;;
        registry | schema-registry | rivven | rivven-schema) echo registry ;;
        *) return 1 ;;
    esac
}

server_dir() { printf '%s/%s' "$SIPHON_STATE_DIR" "$1"; }

# Unix socket paths are limited to ~107 bytes; fall back to a short /tmp dir
# when the state dir is deep.
socket_dir_for() {
    local name=$1 dir
    dir="$(server_dir "$name")"
    if ((${#dir} > 80)); then
        dir="/tmp/siphon-$(printf '%s' "$SIPHON_STATE_DIR" | cksum | cut -d' ' -f1)-$name"
    fi
    echo "$dir"
}

# Take the state-dir lock on fd 9 for the rest of the script. Re-check after
# locking that the file we hold is still the one at the path: `stop --wipe`
# deletes the state dir (and the lock file) while waiters may be queued on it.
acquire_lock() {
    local lock="$SIPHON_STATE_DIR/lock"
    while :; do
        mkdir -p "$SIPHON_STATE_DIR"
        exec 9>>"$lock"
        flock -w "$SIPHON_LOCK_TIMEOUT" 9 || die "timed out after ${SIPHON_LOCK_TIMEOUT}s waiting for $lock"
        if [[ -e $lock ]] && [[ "$(stat -L -c %d:%i /proc/self/fd/9)" == "$(stat -c %d:%i "$lock")" ]]; then
            return 0
        fi
        exec 9>&-
    done
}

# The process name we expect behind a recorded PID, so a recycled PID that now
# belongs to something else is not mistaken for our server.
expected_comm() {
    case "$1" in
        pg) echo postgres ;;
        mariadb | mariadb-bad) echo mariadbd ;;
        kafka) echo tansu ;;
        registry) echo rivven-schema ;;
    esac
}

# pid_alive SERVER PID: PID is a live process running that server's binary.
pid_alive() {
    local name=$1 pid=$2 want
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || [[ -d /proc/$pid ]] || return 1
    want="$(expected_comm "$name")"
    # Zombies count as dead.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 1
    # Not `| grep -q`: under pipefail its early exit makes tr die of SIGPIPE.
    [[ "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" == *"$want"* ]]
}

read_file() { [[ -f $1 ]] && tr -d '[:space:]' <"$1"; }

# recorded_pid SERVER: prints the PID from the pid file if that process is alive.
recorded_pid() {
    local pid
    pid="$(read_file "$(server_dir "$1")/pid" || true)"
    [[ -n $pid ]] && pid_alive "$1" "$pid" && echo "$pid"
}

# shellcheck disable=SC2016 # $1 is expanded by the inner bash
tcp_open() { timeout 2 bash -c ': </dev/tcp/127.0.0.1/"$1"' _ "$1" 2>/dev/null; }

# server_up SERVER: pid file names a live process and its port file exists
# and the port accepts TCP connections.
server_up() {
    local port
    recorded_pid "$1" >/dev/null || return 1
    port="$(read_file "$(server_dir "$1")/port" || true)"
    [[ -n $port ]] && tcp_open "$port"
}

env_line() {
    local name=$1 port=$2
    case "$name" in
        pg) echo "export SIPHON_TEST_PG_URL=postgres://postgres@127.0.0.1:${port}/postgres" ;;
        mariadb) echo "export SIPHON_TEST_MYSQL_URL=mysql://root@127.0.0.1:${port}" ;;
        mariadb-bad) echo "export SIPHON_TEST_MYSQL_BAD_URL=mysql://root@127.0.0.1:${port}" ;;
        kafka) echo "export SIPHON_TEST_KAFKA=127.0.0.1:${port}" ;;
        registry) echo "export SIPHON_TEST_REGISTRY=http://127.0.0.1:${port}" ;;
    esac
}

# Rebuild <state>/env from the per-server port files of servers that are up.
# Written via rename so a test reading it without the lock never sees half a file.
write_env_file() {
    local env="$SIPHON_STATE_DIR/env" tmp name port
    mkdir -p "$SIPHON_STATE_DIR"
    tmp="$(mktemp "$SIPHON_STATE_DIR/.env.XXXXXX")"
    {
        echo "# Generated by scripts/start-servers.sh / stop-servers.sh; source it."
        for name in "${SIPHON_KNOWN_SERVERS[@]}"; do
            if recorded_pid "$name" >/dev/null; then
                port="$(read_file "$(server_dir "$name")/port" || true)"
                [[ -n $port ]] && env_line "$name" "$port"
            fi
        done
    } >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$env"
}

# Signal used for a graceful stop. PostgreSQL's TERM is "smart" shutdown,
# which waits for every client (e.g. a leftover replication connection) to
# leave; INT is its "fast" shutdown, which is what we want for throwaway data.
stop_signal() {
    case "$1" in
        pg) echo INT ;;
        *) echo TERM ;;
    esac
}

# stop_server SERVER: graceful signal, poll up to SIPHON_STOP_TIMEOUT, then KILL.
stop_server() {
    local name=$1 dir pid deadline sig
    dir="$(server_dir "$name")"
    if pid="$(recorded_pid "$name")"; then
        sig="$(stop_signal "$name")"
        log "stopping $name (pid $pid, SIG$sig)"
        kill "-$sig" "$pid" 2>/dev/null || true
        deadline=$((SECONDS + ${SIPHON_STOP_TIMEOUT:-30}))
        while pid_alive "$name" "$pid" && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if pid_alive "$name" "$pid"; then
            log "$name (pid $pid) did not exit in time; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 10))
            while pid_alive "$name" "$pid" && ((SECONDS < deadline)); do
                sleep 0.1
            done
        fi
    fi
    rm -f "$dir/pid" "$dir/port"
}
