//! Emitter (issue #4): Debezium-format Avro through a Confluent-compatible schema registry,
//! topic naming, the Kafka transactional producer that commits each batch together with its
//! offset record, and the embedded stdout/file sinks.
