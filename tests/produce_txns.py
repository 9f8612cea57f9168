#!/usr/bin/env python3
"""Test data for the committed reader, written with librdkafka (confluent_kafka).

usage: produce_txns.py scenario BOOTSTRAP TOPIC EMPTY_TOPIC
       produce_txns.py bulk BOOTSTRAP TOPIC

scenario: creates TOPIC (2 partitions) and EMPTY_TOPIC (3 partitions, left empty), then writes to TOPIC:
  1. producer p1: transaction c1 (6 records, headers), COMMIT
  2. producer p1: transaction a1 (4 records), ABORT
  3. plain idempotent producer (lz4): n1 (3 records, one tombstone), no transaction
  4. producer p2 (gzip) begins i2 and writes 3 records; meanwhile p1 commits c3 (4 records);
     then p2 writes one more and commits (interleaved producers)
  5. producer p1: transaction a2 (2 records), ABORT
  6. producer p3: transaction o1 (2 records), flushed and left OPEN
Then a librdkafka consumer reads TOPIC with isolation.level=read_committed (and one with
read_uncommitted) from the beginning to the end of both partitions.

Prints one JSON line (what was written and what librdkafka saw), then waits for a line on stdin,
aborts the open transaction, prints one more JSON line and exits 0.

bulk: creates TOPIC (1 partition) and writes, with 1 KiB values, a committed transaction of
BULK records, an aborted one of BULK // 5, and BULK // 25 non-transactional records (several
MiB: more than one Fetch). Prints one JSON line with the counts.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 30.0


def die(msg):
    print(json.dumps({"error": msg}), flush=True)
    sys.exit(1)


BULK = 5000


def main():
    if sys.argv[1] == "bulk":
        return bulk(sys.argv[2], sys.argv[3])
    bootstrap, topic, empty_topic = sys.argv[2], sys.argv[3], sys.argv[4]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=2, replication_factor=1),
         NewTopic(empty_topic, num_partitions=3, replication_factor=1)],
        operation_timeout=TIMEOUT)
    for f in futures.values():
        f.result(timeout=TIMEOUT)

    written = []  # every record, in the order the broker appended it
    common = {"bootstrap.servers": bootstrap, "linger.ms": 5}

    def txn_producer(name, **extra):
        p = Producer({**common, "transactional.id": f"{topic}-{name}", **extra})
        p.init_transactions(TIMEOUT)
        return p

    def produce(p, txn, fate, partition, i, value=True, headers=None):
        key = f"{txn}-{i}"
        val = f"{txn} value {i}" if value else None
        p.produce(topic, key=key.encode(), value=None if val is None else val.encode(),
                  partition=partition, headers=headers)
        written.append({"txn": txn, "fate": fate, "partition": partition, "key": key,
                        "value": val,
                        "headers": [[k, None if v is None else v.decode()]
                                    for k, v in (headers or [])]})

    p1 = txn_producer("p1")
    p2 = txn_producer("p2", **{"compression.type": "gzip"})
    p3 = txn_producer("p3")
    plain = Producer({**common, "enable.idempotence": True, "compression.type": "lz4"})

    # 1. committed transaction with headers
    p1.begin_transaction()
    for i in range(6):
        headers = [("source", b"pg"), ("seq", str(i).encode()), ("nullable", None)] if i % 2 == 0 else None
        produce(p1, "c1", "commit", i % 2, i, headers=headers)
    p1.commit_transaction(TIMEOUT)

    # 2. aborted transaction
    p1.begin_transaction()
    for i in range(4):
        produce(p1, "a1", "abort", i % 2, i)
    p1.flush(TIMEOUT)
    p1.abort_transaction(TIMEOUT)

    # 3. non-transactional records (one tombstone)
    for i in range(3):
        produce(plain, "n1", "plain", i % 2, i, value=(i != 1))
    if plain.flush(TIMEOUT) != 0:
        die("plain producer did not flush")

    # 4. interleaved transactions of two producers
    p2.begin_transaction()
    for i in range(3):
        produce(p2, "i2", "commit", i % 2, i)
    p2.flush(TIMEOUT)
    p1.begin_transaction()
    for i in range(4):
        produce(p1, "c3", "commit", (i + 1) % 2, i)
    p1.commit_transaction(TIMEOUT)
    produce(p2, "i2", "commit", 0, 3)
    p2.commit_transaction(TIMEOUT)

    # 5. another abort, after the interleaving
    p1.begin_transaction()
    for i in range(2):
        produce(p1, "a2", "abort", i % 2, i)
    p1.flush(TIMEOUT)
    p1.abort_transaction(TIMEOUT)

    # 6. an open transaction
    p3.begin_transaction()
    for i in range(2):
        produce(p3, "o1", "open", i % 2, i)
    if p3.flush(TIMEOUT) != 0:
        die("p3 did not flush")

    report = {
        "written": written,
        "read_committed": consume(bootstrap, topic, "read_committed"),
        "read_uncommitted": consume(bootstrap, topic, "read_uncommitted"),
    }
    print(json.dumps(report), flush=True)

    sys.stdin.readline()
    p3.abort_transaction(TIMEOUT)
    print(json.dumps({"aborted_open": True}), flush=True)


def bulk(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                                 operation_timeout=TIMEOUT).values():
        f.result(timeout=TIMEOUT)
    pad = "x" * 1024
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-bulk",
                  "linger.ms": 5})
    p.init_transactions(TIMEOUT)
    for fate, n in (("commit", BULK), ("abort", BULK // 5)):
        p.begin_transaction()
        for i in range(n):
            p.produce(topic, key=f"{fate}-{i}".encode(), value=f"{i} {pad}".encode(), partition=0)
            if i % 500 == 0:
                p.poll(0)
        if fate == "commit":
            p.commit_transaction(TIMEOUT)
        else:
            p.flush(TIMEOUT)
            p.abort_transaction(TIMEOUT)
    plain = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(BULK // 25):
        plain.produce(topic, key=f"plain-{i}".encode(), value=f"{i} {pad}".encode(), partition=0)
    if plain.flush(TIMEOUT) != 0:
        die("plain producer did not flush")
    print(json.dumps({"commit": BULK, "abort": BULK // 5, "plain": BULK // 25,
                      "value_bytes": len(pad) + 6}), flush=True)


def consume(bootstrap, topic, isolation):
    """Values librdkafka delivers with `isolation`, reading both partitions to their end."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-{isolation}",
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, p, 0) for p in (0, 1)])  # offset 0 = beginning
    seen, eof = [], set()
    deadline = time.monotonic() + TIMEOUT
    while len(eof) < 2 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
                continue
            die(f"consumer ({isolation}): {m.error()}")
        seen.append({"partition": m.partition(), "offset": m.offset(),
                     "key": m.key().decode() if m.key() is not None else None})
    c.close()
    return {"records": seen, "reached_end": len(eof) == 2}


if __name__ == "__main__":
    main()
