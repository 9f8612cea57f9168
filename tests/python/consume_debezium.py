"""Reads Siphon's Kafka topics the way a Debezium user would: confluent-kafka's Consumer
with SchemaRegistryClient + AvroDeserializer. Prints one JSON line per record:
{"topic", "partition", "offset", "key", "value"} with keys and values decoded to dicts.

usage: consume_debezium.py BOOTSTRAP REGISTRY_URL MIN_RECORDS TIMEOUT_S TOPIC...
Exits 1 if fewer than MIN_RECORDS records arrive within TIMEOUT_S.
"""
import base64
import decimal
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": base64.b64encode(v).decode()}
    raise TypeError(repr(v))


def main():
    bootstrap, registry, min_records, timeout = sys.argv[1:5]
    topics = sys.argv[5:]
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry}))
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "siphon-test-reader",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    # assign(), not subscribe(): no group join (slow on the test broker). A topic the
    # connector has not created yet has no partitions to assign: wait for it.
    deadline = time.time() + float(timeout)
    parts = []
    for topic in topics:
        while True:
            meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if meta is not None and meta.error is None and meta.partitions:
                break
            if time.time() > deadline:
                raise SystemExit(f"topic {topic} does not exist after {timeout}s")
            time.sleep(0.2)
        parts += [TopicPartition(topic, p, 0) for p in meta.partitions]
    consumer.assign(parts)
    seen = 0
    while seen < int(min_records) and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit(f"consumer error: {msg.error()}")
        ctx_k = SerializationContext(msg.topic(), MessageField.KEY)
        ctx_v = SerializationContext(msg.topic(), MessageField.VALUE)
        key = deserializer(msg.key(), ctx_k) if msg.key() is not None else None
        value = deserializer(msg.value(), ctx_v) if msg.value() is not None else None
        headers = {k: v.decode("utf-8", "replace") for k, v in (msg.headers() or [])}
        print(json.dumps({"topic": msg.topic(), "partition": msg.partition(),
                          "offset": msg.offset(), "key": key, "value": value,
                          "headers": headers},
                         default=plain), flush=True)
        seen += 1
    consumer.close()
    if seen < int(min_records):
        raise SystemExit(f"only {seen} of {min_records} records within {timeout}s")


if __name__ == "__main__":
    main()
