#!/usr/bin/env bash
# The main job on embedded defaults (README): starts a local PostgreSQL, creates the demo
# database with two tables and a few rows, then runs siphon with connectors.toml (no Kafka:
# events go to the embedded sink). Ctrl-C stops siphon; `scripts/stop-servers.sh` stops
# PostgreSQL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh demo
bash scripts/start-servers.sh pg
# shellcheck disable=SC1091
source "${SIPHON_DEV_DIR:-$root/.dev}/env"

# postgres://user@host:port/db → host and port for connectors.toml's ${env:...} references.
hostport="${SIPHON_TEST_PG_URL#*@}"
hostport="${hostport%%/*}"
export SIPHON_DEMO_PG_HOST="${hostport%:*}"
export SIPHON_DEMO_PG_PORT="${hostport##*:}"

psql_admin() { psql "$SIPHON_TEST_PG_URL" -v ON_ERROR_STOP=1 -q "$@"; }
if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'siphon_demo'" | grep -q 1; then
  psql_admin -c "CREATE DATABASE siphon_demo"
fi
demo_url="${SIPHON_TEST_PG_URL%/*}/siphon_demo"
psql "$demo_url" -v ON_ERROR_STOP=1 -q <<'SQL'
CREATE TABLE IF NOT EXISTS customers (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers(id),
  total numeric(12,2) NOT NULL,
  details jsonb
);
INSERT INTO customers (email) VALUES ('ada@example.com'), ('linus@example.com')
  ON CONFLICT (email) DO NOTHING;
SQL

echo "demo database: $demo_url"
cargo build --locked --bin siphon
exec target/debug/siphon run --config connectors.toml
