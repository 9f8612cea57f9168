#!/bin/sh
# Registers one demo connector with Siphon's REST API, as a Kafka Connect user would:
# `POST /connectors` with Debezium's JSON (here from docker/connectors/<name>.json).
#   register.sh <name>     (env: SIPHON_URL, SIPHON_API_TOKEN)
set -eu
file="/demo/connectors/$1.json"
url="${SIPHON_URL:-http://siphon:8083}"
name="$(sed -n 's/.*"name": *"\([^"]*\)".*/\1/p' "$file" | head -n 1)"
auth="Authorization: Bearer ${SIPHON_API_TOKEN}"
if curl -fsS -H "$auth" "$url/connectors/$name" >/dev/null 2>&1; then
  echo "connector $name is already registered"
  exit 0
fi
curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' --data @"$file" "$url/connectors"
echo
echo "registered $name; status: $url/connectors/$name/status"
