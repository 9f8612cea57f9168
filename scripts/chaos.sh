#!/usr/bin/env bash
# The exactly-once chaos run (tests/chaos.rs): random SIGKILLs of siphon during a mixed
# workload on PostgreSQL and on MariaDB, then the audit of every committed record.
#
#   scripts/chaos.sh            the short run the test suite also runs (10 kills, ~20k changes)
#   scripts/chaos.sh --long     50 kills, ~100k changes per source, transactions up to 50k rows
#
# Knobs (environment): SIPHON_CHAOS_KILLS, SIPHON_CHAOS_CHANGES, SIPHON_CHAOS_BIG (largest
# transaction), SIPHON_CHAOS_SEED (repeat a run: each run prints its seed). Prints one line
# of figures per source: kills, changes, records expected and committed, lost, repeated.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ${1:-} == --long ]]; then
    shift
    export SIPHON_CHAOS_KILLS="${SIPHON_CHAOS_KILLS:-50}"
    export SIPHON_CHAOS_CHANGES="${SIPHON_CHAOS_CHANGES:-100000}"
    export SIPHON_CHAOS_BIG="${SIPHON_CHAOS_BIG:-50000}"
fi
# --no-capture: the figures print as the runs go (one source after the other).
exec bash scripts/test.sh --no-capture chaos_ "$@"
