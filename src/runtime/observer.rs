//! What a reader tells the runtime about its connection, so the status shows RUNNING while
//! it streams and RESTARTING (with the error as trace) while it reconnects.

use std::fmt::Display;

pub trait ReaderObserver: Sync {
    fn streaming(&self) {}
    fn retrying(&self, _error: &dyn Display) {}
}

/// An observer that ignores everything.
pub struct NoObserver;
impl ReaderObserver for NoObserver {}
