#!/usr/bin/env bash
# The test command (README): installs what is missing, starts the local servers, runs every
# test against them, and stops the servers it started (SIPHON_KEEP_SERVERS=1 keeps them up for
# the next run). Extra arguments go to the test runner, e.g. `scripts/test.sh smoke`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh
bash scripts/start-servers.sh
if [ "${SIPHON_KEEP_SERVERS:-0}" != 1 ]; then
  # With no names, stop-servers.sh stops every server, including the on-demand ones that
  # tests started through the harness (mariadb-bad).
  trap 'bash scripts/stop-servers.sh >/dev/null 2>&1 || true' EXIT
fi
# shellcheck disable=SC1091
source "${SIPHON_DEV_DIR:-$root/.dev}/env"

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast "$@"
else
  cargo test --locked --no-fail-fast -- "$@"
fi
