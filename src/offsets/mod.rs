//! Source positions and where they are stored.
//!
//! [`Position`] is the resume point of a connector, one variant per source, with a fallible
//! ordering. The offset stores: the Kafka `siphon-offsets` topic (written by the emitter
//! inside each produce transaction, read back with the transaction-aware `committed_reader`)
//! and a local file for the embedded mode.

pub mod committed_reader;
mod gtid;
mod position;
mod store;

pub use gtid::{GtidParseError, MariaDbGtidState, MySqlGtidSet};
pub use position::{
    MongoPosition, MongoTime, MongoTxProgress, MySqlPosition, PgPosition, Position, PositionError,
    SnapshotProgress,
};
pub use store::{FileOffsetStore, KafkaOffsets, OffsetError, TopicPresence, offset_key};
