#!/usr/bin/env bash
# Stop the local test servers started by scripts/start-servers.sh.
#
#   scripts/stop-servers.sh [--wipe] [pg] [mariadb] [kafka] [registry] [mariadb-bad]
#                                                       (no names = all, mariadb-bad included)
#
# Stops each server by its recorded PID (graceful signal, wait up to
# SIPHON_STOP_TIMEOUT seconds (default 30), then KILL), removes its pid/port
# files and rewrites <state>/env. --wipe also deletes the state: the servers'
# dirs when names are given, the whole ${SIPHON_DEV_DIR:-<repo>/.dev} otherwise.
# Safe to run when nothing is running.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/servers-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers-common.sh"

usage() {
    echo "usage: $0 [--wipe] [pg] [mariadb] [kafka] [registry] [mariadb-bad]   (no names = all)" >&2
    exit 2
}

main() {
    local wipe=false arg name
    local -a wanted=()
    for arg in "$@"; do
        case "$arg" in
            --wipe) wipe=true ;;
            -h | --help) usage ;;
            *)
                name="$(canonical_server "$arg")" || { log "unknown server: $arg"; usage; }
                [[ " ${wanted[*]} " == *" $name "* ]] || wanted+=("$name")
                ;;
        esac
    done
    local all=false
    if ((${#wanted[@]} == 0)); then
        all=true
        # Every server, including the on-demand ones a test may have started.
        wanted=("${SIPHON_KNOWN_SERVERS[@]}")
    fi

    if [[ ! -d $SIPHON_STATE_DIR ]]; then
        log "nothing to stop ($SIPHON_STATE_DIR does not exist)"
        return 0
    fi
    acquire_lock
    for name in "${wanted[@]}"; do
        stop_server "$name"
        if $wipe; then
            log "wiping $(server_dir "$name")"
            rm -rf "$(server_dir "$name")" "$(socket_dir_for "$name")"
        fi
    done
    if $wipe && $all; then
        log "wiping $SIPHON_STATE_DIR"
        rm -rf "$SIPHON_STATE_DIR"
    else
        write_env_file
    fi
}

main "$@"
