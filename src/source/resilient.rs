//! The reconnect loop every reader runs under, written once.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::warn;

use super::backoff::backoff_delay;
use super::channel::BatchSender;
use super::error::SourceError;
use super::observer::ReaderObserver;
use crate::event::ChangeBatch;
use crate::offsets::Position;

/// Runs `session` (one connection of a reader), reconnecting with capped exponential backoff
/// on transient errors (lost connection, server restart). Each session resumes after the last
/// batch handed to the emitter, falling back to the committed position, then to `resume`; what
/// it may *acknowledge* to the server is only what `committed` says. The backoff restarts
/// once a session made progress. Returns on a definite error, or when the emitter has gone.
///
/// A session owns the channel while it runs and gives it back with its result (a future that
/// borrowed it would not be provably `Send`).
pub async fn run_resilient<E, F, Fut>(
    resume: Option<Position>,
    out: mpsc::Sender<ChangeBatch>,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
    mut session: F,
) -> Result<(), E>
where
    E: SourceError,
    F: FnMut(Option<Position>, BatchSender, watch::Receiver<Option<Position>>) -> Fut,
    Fut: Future<Output = (BatchSender, Result<(), E>)>,
{
    let mut sender = BatchSender::new(out);
    let mut attempt = 0u32;
    loop {
        let from = sender
            .last_sent()
            .cloned()
            .or_else(|| committed.borrow().clone())
            .or_else(|| resume.clone());
        let before = sender.last_sent().cloned();
        let (back, result) = session(from, sender, committed.clone()).await;
        sender = back;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if e.is_downstream_closed() => return Ok(()),
            Err(e) if e.is_transient() => {
                if sender.last_sent() != before.as_ref() {
                    attempt = 0;
                }
                let delay =
                    backoff_delay(attempt, Duration::from_millis(200), Duration::from_secs(30));
                warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "transient error, reconnecting");
                observer.retrying(&e);
                tokio::time::sleep(delay).await;
                attempt = attempt.saturating_add(1);
            }
            Err(e) => return Err(e),
        }
    }
}
