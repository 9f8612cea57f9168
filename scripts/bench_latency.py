#!/usr/bin/env python3
"""Latency of Siphon's events, for scripts/bench.sh: reads a topic from its start with a
read_committed consumer and, for every change event, compares the source commit time
(`source.ts_us`, PostgreSQL's commit timestamp) with when the record reached Kafka.

  bench_latency.py BOOTSTRAP REGISTRY_URL TOPIC EVENTS TIMEOUT_S

SIPHON_BENCH_LATENCY_ISOLATION=read_uncommitted reads records before their transaction commits.

"Reached Kafka" is the broker's append time when the topic has
message.timestamp.type=LogAppendTime and the broker honours it; otherwise it is when this
consumer received the record (an upper bound: it adds the transaction's commit and the
consumer's fetch). Server, broker and consumer share one clock (one machine).
Prints one JSON object: events, p50_ms, p99_ms, max_ms and basis, and, when the records carry
the producer's create time (librdkafka stamps each record when Siphon hands it over, before the
Kafka transaction commits), produced_p50_ms / produced_p99_ms: the part of the latency spent
before the hand-over (reading, batching, encoding). Exits 1 if fewer than EVENTS events arrive
within TIMEOUT_S.
"""
import io
import os
import json
import sys
import time
import urllib.request

import fastavro
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer, TopicPartition


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def main():
    bootstrap, registry, topic, events, timeout = sys.argv[1:6]
    events, timeout = int(events), float(timeout)
    schemas = {}

    def schema(schema_id):
        if schema_id not in schemas:
            with urllib.request.urlopen(f"{registry}/schemas/ids/{schema_id}", timeout=10) as r:
                schemas[schema_id] = fastavro.parse_schema(json.loads(json.load(r)["schema"]))
        return schemas[schema_id]

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "siphon-bench-latency",
        "enable.auto.commit": False,
        "isolation.level": os.environ.get("SIPHON_BENCH_LATENCY_ISOLATION", "read_committed"),
        # Fetch as soon as anything is there: the consumer should add as little as it can. An
        # empty fetch response must not put the consumer to sleep (librdkafka backs off by
        # fetch.error.backoff.ms, 500 ms by default, after one).
        "fetch.wait.max.ms": 5,
        "fetch.min.bytes": 1,
        "fetch.error.backoff.ms": 1,
        "fetch.queue.backoff.ms": 1,
    })
    deadline = time.time() + timeout
    while True:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is not None and meta.partitions and not meta.error:
            break
        if time.time() > deadline:
            sys.exit(f"topic {topic} does not exist")
        time.sleep(0.2)
    consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
    received, appended, produced = [], [], []
    while len(received) < events and time.time() < deadline:
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            sys.exit(f"consumer error: {msg.error()}")
        now_us = time.time_ns() // 1000
        value = msg.value()
        if value is None:
            continue  # a tombstone: no source block
        record = fastavro.schemaless_reader(io.BytesIO(value[5:]), schema(int.from_bytes(value[1:5], "big")))
        source_us = record["source"]["ts_us"]
        received.append((now_us - source_us) / 1000)
        kind, ts_ms = msg.timestamp()
        if kind == TIMESTAMP_LOG_APPEND_TIME:
            appended.append(ts_ms - source_us / 1000)
        elif kind == TIMESTAMP_CREATE_TIME:
            produced.append(ts_ms - source_us / 1000)
    consumer.close()
    if len(received) < events:
        sys.exit(f"only {len(received)} of {events} events within {timeout} s")
    if len(appended) == len(received):
        values, basis = sorted(appended), "broker append time (LogAppendTime)"
    else:
        values, basis = sorted(received), "received by a read_committed consumer"
    out = {
        "events": len(values),
        "p50_ms": round(percentile(values, 0.50), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(values[-1], 1),
        "basis": basis,
    }
    if len(produced) == len(received):
        produced.sort()
        out["produced_p50_ms"] = round(percentile(produced, 0.50), 1)
        out["produced_p99_ms"] = round(percentile(produced, 0.99), 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
