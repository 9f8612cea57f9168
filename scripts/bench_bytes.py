#!/usr/bin/env python3
"""Bytes Siphon wrote to a topic (keys and values, as produced), for scripts/bench.sh's MB/s.

  bench_bytes.py BOOTSTRAP TOPIC RECORDS TIMEOUT_S

Reads the topic from its start with a read_committed consumer until RECORDS records are
counted; prints "records bytes". Exits 1 if fewer arrive within TIMEOUT_S.
"""
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    bootstrap, topic, want, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "siphon-bench-bytes",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
    records = size = 0
    deadline = time.time() + timeout
    while records < want and time.time() < deadline:
        for msg in consumer.consume(10000, 0.5):
            if msg.error():
                sys.exit(f"consumer error: {msg.error()}")
            records += 1
            size += len(msg.key() or b"") + len(msg.value() or b"")
    consumer.close()
    if records < want:
        sys.exit(f"only {records} of {want} records within {timeout} s")
    print(records, size)


if __name__ == "__main__":
    main()
