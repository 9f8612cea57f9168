//! What a reader tells the runtime about its connection, so the status shows RUNNING once
//! changes are being captured and RESTARTING (with the error as trace) while it reconnects.

use std::fmt::Display;

pub trait ReaderObserver: Sync {
    /// The start point is fixed (the slot exists, the binlog position is taken): every change
    /// committed from now on will be captured, as an event of the stream or in the snapshot.
    fn started(&self) {}
    fn streaming(&self) {}
    fn retrying(&self, _error: &dyn Display) {}
    /// `text` as it may be logged: the connector's secrets taken out (drivers may quote a
    /// connection string in their errors).
    fn scrub(&self, text: &str) -> String {
        text.to_owned()
    }
}

/// An observer that ignores everything.
pub struct NoObserver;
impl ReaderObserver for NoObserver {}
