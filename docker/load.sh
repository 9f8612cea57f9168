#!/bin/sh
# The demo's load generator: runs one round of statements every SIPHON_LOAD_INTERVAL seconds
# (default 1) with the client of the database image it runs in: `psql`, `mysql` or `mongosh`.
#   load.sh postgres|mysql|mongodb
set -eu
interval="${SIPHON_LOAD_INTERVAL:-1}"
case "$1" in
  postgres) run() { psql -q -v ON_ERROR_STOP=1 -f /demo/postgres/load.sql; } ;;
  mysql) run() { mysql --host="$MYSQL_HOST" --user=root --password="$MYSQL_ROOT_PASSWORD" inventory < /demo/mysql/load.sql; } ;;
  mongodb) run() { mongosh --quiet "$MONGODB_URI" /demo/mongodb/load.js; } ;;
  *) echo "usage: $0 postgres|mysql|mongodb" >&2; exit 2 ;;
esac
echo "load generator for $1: a round every ${interval}s"
while :; do
  run || echo "load round failed; retrying" >&2
  sleep "$interval"
done
