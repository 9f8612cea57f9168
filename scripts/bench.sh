#!/usr/bin/env bash
# Benchmark (issue #7): Siphon against the physical ceiling of the same work, on the local
# servers (release build), in one run:
#   1. PostgreSQL catch-up: changes already in the WAL before the readers start (60% inserts,
#      30% updates, 10% deletes of ~200-byte rows with int, text, numeric, timestamptz and
#      jsonb columns, in transactions of 1,000): pg_recvlogical (pgoutput) to /dev/null, then
#      Siphon into Kafka with transactions: events/s, MB/s, ratio, start-up, RSS;
#   2. the snapshot of a table of the same size: rows/s, RSS;
#   3. live: a workload at a fixed rate while Siphon streams; latency from each source commit
#      to Kafka (p50/p99/max), RSS;
#   4. MariaDB catch-up of the same workload against mariadb-binlog reading it to /dev/null;
#   and the CPU each program used in each phase.
#
#   scripts/bench.sh                          # 1,000,000 changes, 1,000,000-row snapshot
#   SIPHON_BENCH_ROWS=200000 scripts/bench.sh
#   SIPHON_BENCH_LIVE_RATE=10000 SIPHON_BENCH_LIVE_SECONDS=30   # the live workload (defaults)
#   SIPHON_BENCH_PRODUCER='"linger.ms" = "0"'                   # librdkafka settings to try
#   SIPHON_BENCH_PERF=/tmp/siphon.perf        # also records perf profiles of siphon per phase
#                                             # (/tmp/siphon.perf.catchup, ...; `perf report -i`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${SIPHON_BENCH_ROWS:-1000000}"

bash scripts/install-deps.sh >/dev/null
bash scripts/start-servers.sh pg mariadb kafka registry >/dev/null
# shellcheck disable=SC1091
source "${SIPHON_DEV_DIR:-$root/.dev}/env"
cargo build --release --locked --bin siphon >/dev/null 2>&1 || cargo build --release --locked --bin siphon

db="siphon_bench_$$"
admin="$SIPHON_TEST_PG_URL"
url="${admin%/*}/$db"
hostport="${admin#*@}"; hostport="${hostport%%/*}"
pg_host="${hostport%:*}"; pg_port="${hostport##*:}"
work="$(mktemp -d)"
siphon_pid=""
cleanup() {
  [ -n "$siphon_pid" ] && kill "$siphon_pid" 2>/dev/null || true
  psql "$admin" -qAtc "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null 2>&1 || true
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "${mdb:-}" ] && my -e "DROP DATABASE IF EXISTS $mdb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
psql "$admin" -qc "CREATE DATABASE $db"
psql "$url" -q <<'SQL'
CREATE TABLE bench (id bigint PRIMARY KEY, n int NOT NULL, label text NOT NULL,
                    amount numeric(12,2) NOT NULL, at timestamptz NOT NULL, doc jsonb NOT NULL);
CREATE TABLE snap (LIKE bench INCLUDING ALL);
CREATE PUBLICATION bench_pub FOR TABLE bench;
CREATE PUBLICATION snap_pub FOR TABLE snap;
SELECT pg_create_logical_replication_slot('bench_ceiling', 'pgoutput');
SELECT pg_create_logical_replication_slot('bench_siphon', 'pgoutput');
SQL

# The workload: 60% inserts, 30% updates, 10% deletes, in transactions of 1,000 rows.
inserts=$((rows * 6 / 10)); updates=$((rows * 3 / 10)); deletes=$((rows - inserts - updates))
echo "writing $rows changes ($inserts inserts, $updates updates, $deletes deletes) ..."
psql "$url" -q <<SQL
DO \$\$ BEGIN
  FOR i IN 0..($inserts / 1000 - 1) LOOP
    INSERT INTO bench SELECT g, g % 1000, repeat('label-' || g, 8), g * 1.25, now(), jsonb_build_object('k', g, 'tag', 'bench')
      FROM generate_series(i * 1000 + 1, i * 1000 + 1000) g;
    COMMIT;
  END LOOP;
  FOR i IN 0..($updates / 1000 - 1) LOOP
    UPDATE bench SET n = n + 1, amount = amount + 1 WHERE id BETWEEN i * 1000 + 1 AND i * 1000 + 1000;
    COMMIT;
  END LOOP;
  FOR i IN 0..($deletes / 1000 - 1) LOOP
    DELETE FROM bench WHERE id BETWEEN $inserts - (i + 1) * 1000 + 1 AND $inserts - i * 1000;
    COMMIT;
  END LOOP;
END \$\$;
SQL
# A last one-row transaction: once Siphon's committed commit LSN passes the WAL position taken
# before it, every change above is committed. pg_recvlogical reads up to the position after it.
end_lsn="$(psql "$url" -qAtc "SELECT pg_current_wal_lsn()")"
psql "$url" -qc "INSERT INTO bench VALUES (-1, 0, 'sentinel', 0, now(), '{}')" >/dev/null
stop_lsn="$(psql "$url" -qAtc "SELECT pg_current_wal_lsn()")"
psql "$url" -qc "INSERT INTO snap SELECT * FROM bench" >/dev/null
psql "$url" -qc "INSERT INTO snap SELECT id + 10000000, n, label, amount, at, doc FROM bench LIMIT $((rows - (inserts - deletes)))" >/dev/null
snap_rows="$(psql "$url" -qAtc "SELECT count(*) FROM snap")"

# 1a. The ceiling: pg_recvlogical with pgoutput, same slot kind, to /dev/null.
t0=$(now)
pg_recvlogical -h "$pg_host" -p "$pg_port" -U postgres -d "$db" --slot bench_ceiling --start \
  -o proto_version=1 -o publication_names=bench_pub --endpos="$stop_lsn" -f /dev/null
t1=$(now)
ceiling_s=$(calc "$t1 - $t0")

# 1b. Siphon: the same changes into Kafka with transactions, timed until the committed offset
# (read from the REST API) reaches the end of the workload. 2. Then, alone, the snapshot.
lsn_num() { local hi="${1%/*}" lo="${1#*/}"; echo $(( (16#$hi << 32) + 16#$lo )); }
end_num=$(lsn_num "$end_lsn")
api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
service() {
  cat <<EOF
[service]
api_bind = "127.0.0.1:$api_port"
data_dir = "$work/$1"
log = "warn"
schema_registry_url = "$SIPHON_TEST_REGISTRY"
[service.kafka]
bootstrap_servers = "$SIPHON_TEST_KAFKA"
offsets_topic = "$db-offsets"
configs_topic = "$db-configs-$1"
[service.kafka.producer]
${SIPHON_BENCH_PRODUCER:-}
EOF
}
connector() { # name slot publication prefix extra-lines
  cat <<EOF
[[connectors]]
name = "$1"
[connectors.config]
"connector.class" = "postgres"
"database.hostname" = "$pg_host"
"database.port" = $pg_port
"database.user" = "postgres"
"database.dbname" = "$db"
"topic.prefix" = "$4"
"slot.name" = "$2"
"publication.name" = "$3"
"publication.autocreate.mode" = "disabled"
$5
EOF
}
# Runs siphon on config $1 until bench_wait.py's condition `$2...` holds for connector $3;
# sets elapsed_s, first_s (time to the first commit) and peak/final RSS (kB), and leaves the
# CPU use per program in $work/cpu.$3.txt.
measure() {
  local t0 config="$1" name="$2"; shift 2
  python3 scripts/bench_cpu.py snap "$work/cpu.$name"
  t0=$(now)
  target/release/siphon run --config "$config" 2>"$work/siphon.log" &
  siphon_pid=$!
  perf_pid=""
  if [ -n "${SIPHON_BENCH_PERF:-}" ]; then
    perf record -q -F 499 --call-graph dwarf,16384 -p "$siphon_pid" -o "$SIPHON_BENCH_PERF.$name" 2>/dev/null &
    perf_pid=$!
  fi
  read -r elapsed_s first_s peak_rss final_rss < <(python3 scripts/bench_wait.py \
    "http://127.0.0.1:$api_port" "$name" "$siphon_pid" "$t0" "$@" || { cat "$work/siphon.log" >&2; echo fail; })
  [ "$elapsed_s" = fail ] && { echo "siphon did not finish the $name phase"; exit 1; }
  python3 scripts/bench_cpu.py diff "$work/cpu.$name" "$elapsed_s" > "$work/cpu.$name.txt"
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  kill "$siphon_pid"; wait "$siphon_pid" || true; siphon_pid=""
}

{ service catchup; connector catchup bench_siphon bench_pub "$db" '"snapshot.mode" = "never"
"max.batch.size" = 4096
"max.queue.size" = 32768
"poll.interval.ms" = 100'; } > "$work/catchup.toml"
measure "$work/catchup.toml" catchup --commit-lsn "$end_num"
catchup_s=$elapsed_s; catchup_first=$first_s; catchup_peak=$peak_rss; catchup_final=$final_rss

{ service snapshot; connector snapshot bench_snapshot snap_pub "${db}_snap" '"snapshot.mode" = "initial_only"
"snapshot.fetch.size" = 10000
"max.batch.size" = 10000
"max.queue.size" = 40000'; } > "$work/snapshot.toml"
measure "$work/snapshot.toml" snapshot --snapshot-done
snapshot_s=$elapsed_s; snapshot_first=$first_s; snapshot_peak=$peak_rss

# MB/s: what the catch-up wrote to its topic (the events and the deletes' tombstones).
read -r catchup_records catchup_bytes < <(python3 scripts/bench_bytes.py "$SIPHON_TEST_KAFKA" "$db.public.bench" "$((rows + deletes + 1))" 300)

# 3. Live: a workload at a fixed rate while Siphon streams (transactions of 100 changes: 60
# inserts, 30 updates, 10 deletes, paced by the server's clock), and the latency from each
# commit to Kafka, measured by bench_latency.py on the topic.
live_rate="${SIPHON_BENCH_LIVE_RATE:-10000}"; live_s="${SIPHON_BENCH_LIVE_SECONDS:-30}"
live_txs=$((live_rate * live_s / 100))
live_topic="${db}_live.public.live"
psql "$url" -q <<SQL
CREATE TABLE live (LIKE bench INCLUDING ALL);
CREATE PUBLICATION live_pub FOR TABLE live;
SELECT pg_create_logical_replication_slot('bench_live', 'pgoutput');
SQL
# The broker stamps records with its append time where it can: the latency's end point.
python3 - "$SIPHON_TEST_KAFKA" "$live_topic" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
for future in admin.create_topics([NewTopic(sys.argv[2], 1, 1, config={"message.timestamp.type": "LogAppendTime"})]).values():
    future.result()
PY
{ service live; connector live bench_live live_pub "${db}_live" '"snapshot.mode" = "never"
"max.batch.size" = 4096
"max.queue.size" = 32768'; } > "$work/live.toml"
python3 scripts/bench_cpu.py snap "$work/cpu.live"
target/release/siphon run --config "$work/live.toml" 2>"$work/siphon.log" &
siphon_pid=$!
until curl -sf "http://127.0.0.1:$api_port/connectors/live/status" | grep -q '"state":"RUNNING"'; do
  kill -0 "$siphon_pid" 2>/dev/null || { cat "$work/siphon.log"; echo "siphon died"; exit 1; }
  sleep 0.2
done
sleep 2
python3 scripts/bench_latency.py "$SIPHON_TEST_KAFKA" "$SIPHON_TEST_REGISTRY" "$live_topic" \
  "$((live_txs * 100))" "$((live_s + 120))" > "$work/latency.json" &
latency_pid=$!
t0=$(now)
psql "$url" -q <<SQL
DO \$\$ DECLARE started timestamptz := clock_timestamp(); base bigint;
BEGIN
  FOR i IN 0..($live_txs - 1) LOOP
    base := i * 60;
    INSERT INTO live SELECT g, g % 1000, repeat('label-' || g, 8), g * 1.25, now(), jsonb_build_object('k', g, 'tag', 'live')
      FROM generate_series(base + 1, base + 60) g;
    UPDATE live SET n = n + 1, amount = amount + 1 WHERE id BETWEEN base + 1 AND base + 30;
    DELETE FROM live WHERE id BETWEEN base + 31 AND base + 40;
    COMMIT;
    PERFORM pg_sleep(GREATEST(0, EXTRACT(epoch FROM
      started + (i + 1) * interval '1 second' * 100 / $live_rate - clock_timestamp())));
  END LOOP;
END \$\$;
SQL
live_elapsed=$(calc "$(now) - $t0")
wait "$latency_pid" || { cat "$work/siphon.log"; echo "the latency consumer failed"; exit 1; }
python3 scripts/bench_cpu.py diff "$work/cpu.live" "$live_elapsed" > "$work/cpu.live.txt"
live_peak=$(awk '/VmHWM/ {print $2}' "/proc/$siphon_pid/status")
live_final=$(awk '/VmRSS/ {print $2}' "/proc/$siphon_pid/status")
kill "$siphon_pid"; wait "$siphon_pid" || true; siphon_pid=""
latency() { python3 -c "import json; print(json.load(open('$work/latency.json')).get('$1', 'n/a'))"; }

# 4. MariaDB: the same kind of workload already in the binlog, read by mariadb-binlog (the
# ceiling) and by Siphon. Siphon first snapshots the empty table, which commits the binlog
# position before the workload; it is then stopped, the workload written, and restarted.
my_admin="$SIPHON_TEST_MYSQL_URL"
my_hostport="${my_admin#*@}"; my_hostport="${my_hostport%%/*}"
my_host="${my_hostport%:*}"; my_port="${my_hostport##*:}"
mdb="siphon_bench_$$"
my() { mariadb -h "$my_host" -P "$my_port" -u root "$@"; }
my -e "CREATE DATABASE $mdb; CREATE TABLE $mdb.bench (id bigint PRIMARY KEY, n int NOT NULL,
  label text NOT NULL, amount decimal(12,2) NOT NULL, at timestamp(6) NOT NULL, doc json NOT NULL)"
my_connector() {
  cat <<EOT
[[connectors]]
name = "mariadb"
[connectors.config]
"connector.class" = "mariadb"
"database.hostname" = "$my_host"
"database.port" = $my_port
"database.user" = "root"
"database.server.id" = $((5000 + $$ % 1000))
"database.include.list" = "$mdb"
"topic.prefix" = "${db}_maria"
"snapshot.mode" = "initial"
"max.batch.size" = 4096
"max.queue.size" = 32768
EOT
}
{ service mariadb; my_connector; } > "$work/mariadb.toml"
measure "$work/mariadb.toml" mariadb --snapshot-done
read -r my_file my_start < <(my -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
echo "writing $rows changes to MariaDB ..."
{
  for ((i = 0; i < inserts / 1000; i++)); do
    echo "INSERT INTO bench SELECT seq, seq % 1000, repeat(concat('label-', seq), 8), seq * 1.25, now(6), json_object('k', seq, 'tag', 'bench') FROM seq_$((i * 1000 + 1))_to_$((i * 1000 + 1000));"
  done
  for ((i = 0; i < updates / 1000; i++)); do
    echo "UPDATE bench SET n = n + 1, amount = amount + 1 WHERE id BETWEEN $((i * 1000 + 1)) AND $((i * 1000 + 1000));"
  done
  for ((i = 0; i < deletes / 1000; i++)); do
    echo "DELETE FROM bench WHERE id BETWEEN $((inserts - (i + 1) * 1000 + 1)) AND $((inserts - i * 1000));"
  done
  echo "INSERT INTO bench VALUES (-1, 0, 'sentinel', 0, now(6), '{}');"
} | my "$mdb"
read -r my_end_file my_end < <(my -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
t0=$(now)
mariadb-binlog --read-from-remote-server -h "$my_host" -P "$my_port" -u root \
  --start-position="$my_start" --to-last-log "$my_file" > /dev/null
maria_ceiling_s=$(calc "$(now) - $t0")
# The same with -v: decoding every row to text, closer to what a change-data reader must do.
t0=$(now)
mariadb-binlog --read-from-remote-server -h "$my_host" -P "$my_port" -u root -v \
  --start-position="$my_start" --to-last-log "$my_file" > /dev/null
maria_decode_s=$(calc "$(now) - $t0")
measure "$work/mariadb.toml" mariadb --binlog-at-least "$my_end_file" "$my_end"
maria_s=$elapsed_s; maria_first=$first_s; maria_peak=$peak_rss; maria_final=$final_rss
my -e "DROP DATABASE $mdb"

rate() { python3 -c "print(round($1 / $2))"; }
ceiling_rate=$(rate "$rows" "$ceiling_s")
siphon_rate=$(rate "$rows" "$catchup_s")
snap_rate=$(rate "$snap_rows" "$snapshot_s")
printf '\n%-52s %12s\n' "measure" "value"
printf '%-52s %12s\n' "changes in the WAL before the readers start" "$rows"
printf '%-52s %12s\n' "pg_recvlogical (pgoutput to /dev/null), events/s" "$ceiling_rate"
printf '%-52s %12s\n' "siphon catch-up (Avro, Kafka transactions), events/s" "$siphon_rate"
printf '%-52s %12s\n' "ratio siphon / ceiling" "$(python3 -c "print(f'{$siphon_rate / $ceiling_rate:.2f}')")"
printf '%-52s %12s\n' "siphon catch-up, MB/s written to Kafka" "$(python3 -c "print(f'{$catchup_bytes / $catchup_s / 1e6:.1f}')")"
printf '%-52s %12s\n' "  (records incl. tombstones, bytes of keys + values)" "$catchup_records, $catchup_bytes"
printf '%-52s %12s\n' "siphon start-up (launch to first commit), s" "$catchup_first"
printf '%-52s %12s\n' "siphon catch-up after start-up, events/s" "$(rate "$rows" "($catchup_s - $catchup_first)")"
printf '%-52s %12s\n' "siphon catch-up peak RSS, MB" "$((catchup_peak / 1024))"
printf '%-52s %12s\n' "siphon RSS after catch-up, MB" "$((catchup_final / 1024))"
printf '%-52s %12s\n' "snapshot of a table of rows" "$snap_rows"
printf '%-52s %12s\n' "snapshot, rows/s (Avro, Kafka transactions)" "$snap_rate"
printf '%-52s %12s\n' "snapshot peak RSS, MB" "$((snapshot_peak / 1024))"
printf '%-52s %12s\n' "live: events at a fixed rate, events/s" "$(latency events) at $live_rate"
printf '%-52s %12s\n' "live: latency commit -> Kafka p50, ms" "$(latency p50_ms)"
printf '%-52s %12s\n' "live: latency commit -> Kafka p99, ms" "$(latency p99_ms)"
printf '%-52s %12s\n' "live: latency commit -> Kafka max, ms" "$(latency max_ms)"
printf '%-52s %12s\n' "live: commit -> handed to the producer p50 / p99, ms" "$(latency produced_p50_ms) / $(latency produced_p99_ms)"
printf '%-52s %12s\n' "live: siphon peak RSS, MB" "$((live_peak / 1024))"
printf '%-52s %12s\n' "live: siphon RSS at the end, MB" "$((live_final / 1024))"
echo "  (latency measured as: $(latency basis))"
printf '%-52s %12s\n' "MariaDB: mariadb-binlog (remote, to /dev/null), events/s" "$(rate "$rows" "$maria_ceiling_s")"
printf '%-52s %12s\n' "MariaDB: mariadb-binlog -v (rows decoded), events/s" "$(rate "$rows" "$maria_decode_s")"
printf '%-52s %12s\n' "MariaDB: siphon catch-up, events/s" "$(rate "$rows" "$maria_s")"
printf '%-52s %12s\n' "MariaDB: ratio siphon / mariadb-binlog (raw / -v)" "$(python3 -c "print(f'{$maria_ceiling_s / $maria_s:.2f} / {$maria_decode_s / $maria_s:.2f}')")"
printf '%-52s %12s\n' "MariaDB: siphon catch-up after start-up, events/s" "$(rate "$rows" "($maria_s - $maria_first)")"
printf '%-52s %12s\n' "MariaDB: siphon peak RSS / at the end, MB" "$((maria_peak / 1024)) / $((maria_final / 1024))"
echo; echo "where the CPU went, catch-up:"; cat "$work/cpu.catchup.txt"
echo "where the CPU went, snapshot:"; cat "$work/cpu.snapshot.txt"
echo "where the CPU went, live:"; cat "$work/cpu.live.txt"
echo "where the CPU went, MariaDB catch-up:"; cat "$work/cpu.mariadb.txt"
