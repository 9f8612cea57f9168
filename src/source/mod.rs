//! The contract between a source reader and the runtime, written once: the [`Source`] trait
//! every reader implements and the reconnect loop that drives it ([`run`]), the channel that
//! hands batches to the emitter (and remembers what it handed over), what a reader reports
//! about its connection, the error classification every reader implements, the reconnect
//! loop, the snapshot's chunk loop, the in-flight state that decides hand-overs and
//! acknowledgements, and backoff.
//!
//! Dependencies point one way: `event`, `offsets`, `config` ← `source` ← readers ←
//! `runtime`. A reader imports this module, never the runtime.

mod backoff;
mod batcher;
mod bytes;
mod channel;
mod error;
mod in_flight;
mod observer;
mod resilient;
mod snapshot;

pub use backoff::backoff_delay;
pub use batcher::{Batcher, sleep_until};
pub use bytes::{batch_bytes, event_bytes};
pub use channel::{BatchSender, Closed};
pub use error::SourceError;
pub use in_flight::InFlight;
pub use observer::{NoObserver, ReaderObserver};
pub use resilient::{Source, run};
pub use snapshot::{
    SnapshotRun, TableChunks, TableProbe, finish_snapshot, needs_snapshot, read_table,
    tables_to_read,
};
