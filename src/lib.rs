//! Siphon: change data capture from PostgreSQL, MySQL/MariaDB and MongoDB into Kafka, in
//! Debezium's event format, exactly once. See `../shared/design.md` for the architecture.

pub mod api;
pub mod config;
pub mod emitter;
pub mod event;
pub mod mongo_oplog;
pub mod mysql_binlog;
pub mod offsets;
pub mod postgres_wal;
pub mod runtime;
pub mod source;
pub mod task;
pub mod telemetry;
