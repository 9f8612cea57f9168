//! The contract a reader implements ([`Source`]) and the reconnect loop every reader runs
//! under ([`run`]), written once.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::warn;

use super::backoff::backoff_delay;
use super::channel::BatchSender;
use super::error::SourceError;
use super::observer::ReaderObserver;
use crate::event::{ChangeBatch, SourceKind};
use crate::offsets::Position;

/// A reader of one kind of database.
///
/// A session connects, checks the server and settles where to start (creating the slot,
/// taking the binlog position; it may drop `from` when the server lost it and the snapshot
/// mode allows a new snapshot), takes the consistent snapshot when [`needs_snapshot`] says
/// so (a chunk at a time, with [`read_table`]), then streams strictly after the position,
/// handing batches over with [`InFlight`]'s hand-over rule. It calls
/// [`ReaderObserver::started`] once every change committed from then on will be captured.
///
/// [`needs_snapshot`]: super::needs_snapshot
/// [`read_table`]: super::read_table
/// [`InFlight`]: super::InFlight
pub trait Source: Sync {
    const KIND: SourceKind;
    /// This source's own position (the variant of [`Position`] it writes).
    type Position: TryFrom<Position, Error = Position> + Send;
    type Error: SourceError;

    /// `max.queue.size.in.bytes` of the connector (0: no byte bound).
    fn max_queue_bytes(&self) -> u64;

    /// One connection's run, until an error or until the emitter side has gone. `committed`
    /// carries the positions the emitter commits: only those may be acknowledged to the
    /// server.
    fn session<'a>(
        &'a self,
        from: Option<Self::Position>,
        out: &'a mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
        observer: &'a dyn ReaderObserver,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'a;
}

/// Runs `source`, reconnecting with capped exponential backoff on transient errors (lost
/// connection, server restart). Each session resumes after the last batch handed to the
/// emitter (the emitter still holds it: resuming after what was only committed would send it
/// twice), falling back to the committed position, then to `resume`; what it may
/// *acknowledge* to the server is only what `committed` says. The backoff restarts once a
/// session made progress. Returns on a definite error, or when the emitter has gone.
pub async fn run<S: Source>(
    source: &S,
    resume: Option<Position>,
    out: mpsc::Sender<ChangeBatch>,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
) -> Result<(), S::Error> {
    let mut sender = BatchSender::bounded(out, committed.clone(), source.max_queue_bytes());
    let mut attempt = 0u32;
    loop {
        let from = sender
            .last_sent()
            .cloned()
            .or_else(|| committed.borrow().clone())
            .or_else(|| resume.clone());
        let from = match from.map(S::Position::try_from).transpose() {
            Ok(from) => from,
            Err(other) => {
                return Err(S::Error::definite(format!(
                    "the stored offset is a {} position, not a {} one: reset the connector's \
                     offsets",
                    other.kind().label(),
                    S::KIND.label()
                )));
            }
        };
        let before = sender.last_sent().cloned();
        let result = source
            .session(from, &mut sender, committed.clone(), observer)
            .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.is_downstream_closed() => return Ok(()),
            Err(e) if e.is_transient() => {
                if sender.last_sent() != before.as_ref() {
                    attempt = 0;
                }
                let delay =
                    backoff_delay(attempt, Duration::from_millis(200), Duration::from_secs(30));
                let shown = observer.scrub(&e.to_string());
                warn!(error = %shown, retry_in_ms = delay.as_millis() as u64, "transient error, reconnecting");
                observer.retrying(&e);
                tokio::time::sleep(delay).await;
                attempt = attempt.saturating_add(1);
            }
            Err(e) => return Err(e),
        }
    }
}
