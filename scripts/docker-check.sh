#!/usr/bin/env bash
# The container checks CI runs (issue 15), on a machine with no image registry:
#  1. docker-compose.yml is valid (`docker-compose config`), for every profile;
#  2. the siphon image builds: the `prebuilt` target from the binary cargo built (the full
#     multi-stage build too when a Rust builder image is present, SIPHON_DOCKER_FULL=1 forces
#     it), and its size is reported;
#  3. the image runs, as a user would, against the local test servers (host network): a
#     connector created over its REST API (bearer token) streams a PostgreSQL change into
#     Kafka, the healthcheck reports healthy, it runs as a non-root user, and SIGTERM stops
#     it cleanly (exit 0, connectors stopped).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[docker-check] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

bash scripts/install-docker.sh
DOCKER=(/usr/bin/docker)
[[ $EUID -eq 0 ]] || DOCKER=(sudo /usr/bin/docker)
export DOCKER_BUILDKIT=1

# 1. The compose file.
docker-compose config -q || die "docker-compose.yml is invalid"
for profile in postgres mysql mongodb; do
    COMPOSE_PROFILES=$profile docker-compose config -q || die "profile $profile is invalid"
done
log "docker-compose.yml is valid"

# 2. The image.
cargo build --locked --bin siphon
"${DOCKER[@]}" build -q --network host --target prebuilt \
    --build-arg SIPHON_BIN=target/debug/siphon -t siphon:check . >/dev/null
log "siphon:check (debug binary) is $("${DOCKER[@]}" image inspect -f '{{.Size}}' siphon:check | numfmt --to=iec)"
rust_image="$(sed -n 's/^ARG RUST_IMAGE=//p' Dockerfile)"
if [[ ${SIPHON_DOCKER_FULL:-0} == 1 ]] || "${DOCKER[@]}" image inspect "$rust_image" >/dev/null 2>&1; then
    "${DOCKER[@]}" build -q --network host -t siphon:full . >/dev/null
    log "multi-stage build: siphon:full is $("${DOCKER[@]}" image inspect -f '{{.Size}}' siphon:full | numfmt --to=iec)"
else
    log "no $rust_image image here: the full multi-stage build was not run"
fi

# 3. Run it against the local servers.
bash scripts/start-servers.sh pg kafka registry >/dev/null
# shellcheck disable=SC1091
source "${SIPHON_DEV_DIR:-$root/.dev}/env"
db="docker_check_$$"
psql "$SIPHON_TEST_PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
db_url="${SIPHON_TEST_PG_URL%/*}/$db"
psql "$db_url" -q -v ON_ERROR_STOP=1 -f docker/postgres/init.sql
hostport="${SIPHON_TEST_PG_URL#*@}"
hostport="${hostport%%/*}"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="check-$$"
name="siphon-check-$$"
cleanup() {
    "${DOCKER[@]}" rm -f "$name" >/dev/null 2>&1 || true
    psql "$SIPHON_TEST_PG_URL" -q -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null 2>&1 || true
    psql "$SIPHON_TEST_PG_URL" -q -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${DOCKER[@]}" run -d --name "$name" --network host \
    -e SIPHON_API_BIND="127.0.0.1:$port" -e SIPHON_API_TOKEN="$token" \
    -e SIPHON_KAFKA_BOOTSTRAP="$SIPHON_TEST_KAFKA" -e SIPHON_SCHEMA_REGISTRY_URL="$SIPHON_TEST_REGISTRY" \
    -e SIPHON_GROUP_ID="check-$$" siphon:check >/dev/null
api="http://127.0.0.1:$port"
for _ in $(seq 1 60); do
    curl -fsS "$api/" >/dev/null 2>&1 && break
    sleep 1
done
curl -fsS "$api/" >/dev/null || die "the REST API never answered: $("${DOCKER[@]}" logs "$name" 2>&1 | tail -20)"
uid="$("${DOCKER[@]}" exec "$name" id -u)"
[[ $uid != 0 ]] || die "the container runs as root"
log "runs as uid $uid"
code="$(curl -s -o /dev/null -w '%{http_code}' "$api/connectors")"
[[ $code == 401 ]] || die "GET /connectors without the token answered $code, not 401"
topic_prefix="check$$"
curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$api/connectors" \
    --data @- >/dev/null <<JSON || die "POST /connectors failed"
{"name": "pg-check-$$", "config": {
  "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
  "database.hostname": "${hostport%:*}", "database.port": "${hostport##*:}",
  "database.user": "postgres", "database.dbname": "$db", "topic.prefix": "$topic_prefix",
  "table.include.list": "public.orders", "slot.name": "$db", "publication.name": "$db"}}
JSON
log "connector created over the REST API"
consume() { python3 tests/python/consume_debezium.py "$SIPHON_TEST_KAFKA" "$SIPHON_TEST_REGISTRY" "$1" 90 "$topic_prefix.public.orders"; }
# The snapshot's two rows first, so the load round below is streamed.
consume 2 >/dev/null || die "no snapshot reached Kafka: $("${DOCKER[@]}" logs "$name" 2>&1 | tail -30)"
psql "$db_url" -q -v ON_ERROR_STOP=1 -f docker/postgres/load.sql
out="$(consume 4)" || die "no change reached Kafka: $("${DOCKER[@]}" logs "$name" 2>&1 | tail -30)"
grep -q '"op": "c"' <<<"$out" || die "no create event in: $out"
log "a change streamed into Kafka through the container"
for _ in $(seq 1 40); do
    health="$("${DOCKER[@]}" inspect -f '{{.State.Health.Status}}' "$name")"
    [[ $health == healthy ]] && break
    sleep 1
done
[[ $health == healthy ]] || die "healthcheck status is $health"
log "healthcheck: healthy"
curl -fsS -X DELETE -H "Authorization: Bearer $token" "$api/connectors/pg-check-$$" >/dev/null ||
    die "DELETE /connectors/pg-check-$$ failed"
"${DOCKER[@]}" stop -t 30 "$name" >/dev/null
exit_code="$("${DOCKER[@]}" inspect -f '{{.State.ExitCode}}' "$name")"
logs="$("${DOCKER[@]}" logs "$name" 2>&1)"
[[ $exit_code == 0 ]] || die "exit code $exit_code after SIGTERM: $(tail -20 <<<"$logs")"
grep -q 'SIGTERM received' <<<"$logs" || die "siphon did not see SIGTERM"
grep -q 'siphon stopped' <<<"$logs" || die "siphon did not stop cleanly"
if grep -q $'\e\[' <<<"$logs"; then die "container logs carry ANSI colour codes"; fi
log "SIGTERM: clean stop, exit 0"
log "all container checks passed"
