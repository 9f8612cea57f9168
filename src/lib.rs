//! Siphon: change data capture from PostgreSQL, MySQL/MariaDB and MongoDB into Kafka, in
//! Debezium's event format, exactly once. See `../shared/design.md` for the architecture.
//!
//! Dependencies point one way: `event`, `offsets`, `config` ← `source` (the contract every
//! reader implements) ← the readers ← `runtime` (the one dispatch) ← `api`; the emitter sits
//! below the runtime. Modules the tests and the binary do not use are crate-private.

pub mod api;
pub mod config;
pub(crate) mod emitter;
/// The librdkafka client context that catches a broker's TLS or SASL refusal.
pub use emitter::client::SecurityWatch as KafkaSecurityWatch;
/// Every librdkafka client starts here: bootstrap servers and `[service.kafka.security]`.
pub use emitter::client::client_config as kafka_client_config;
pub mod event;
#[doc(hidden)]
pub mod fuzzing;
pub mod mongo_oplog;
pub mod mysql_binlog;
pub mod offsets;
pub mod postgres_wal;
pub mod runtime;
pub mod source;
pub(crate) mod task;
pub mod telemetry;
pub mod tls;
