//! Emitter (issue #4): Debezium-format Avro through a Confluent-compatible schema registry,
//! topic naming, the Kafka transactional producer that commits each batch together with its
//! offset record, and the embedded stdout/file sinks.

mod avro_convert;
pub mod avro_schema;
mod avro_spatial;
pub mod avro_value;
mod avro_write;
pub mod client;
mod connect_json;
mod embedded;
mod encoder;
mod fault;
mod fixed_topic;
pub mod heartbeat;
pub mod json;
pub mod kafka;
mod key_header;
mod mongo_envelope;
mod owner;
mod pg_message;
mod pipeline;
pub mod records;
pub mod registry;
pub mod txmeta;

pub use embedded::run_embedded;
pub use encoder::EncoderError;
pub use owner::{OWNER_HEADER, current_owner, hostname, instance_id, offsets_of};
pub use pipeline::{EmitError, KafkaEmitter};
