//! Source positions and where they are stored.
//!
//! [`Position`] is the resume point of a connector, one variant per source, with a fallible
//! ordering. The offset stores (the Kafka `siphon-offsets` topic written inside each produce
//! transaction, and a local file for the embedded mode) arrive with the emitter (issue #4).

pub mod committed_reader;
mod gtid;
mod position;

pub use gtid::{GtidParseError, MariaDbGtidState, MySqlGtidSet};
pub use position::{
    MongoPosition, MySqlPosition, PgPosition, Position, PositionError, SnapshotProgress,
};
