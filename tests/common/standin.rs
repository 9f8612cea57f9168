//! A stand-in emitter for reader tests, the same for every source: it "commits" every batch
//! the reader hands it (recording the events and transaction markers) and publishes the
//! committed position, as the real emitter does after a Kafka commit. It can stall after a
//! number of batches (a stalled broker), holding the reader by backpressure.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use siphon::config::ConnectorConfig;
use siphon::event::{ChangeBatch, ChangeEvent, TxMarker};
use siphon::offsets::Position;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// A running reader (ending with `Result<(), E>`) and what its stand-in emitter committed.
pub struct Running<E> {
    pub reader: JoinHandle<Result<(), E>>,
    committer: JoinHandle<()>,
    pub events: Arc<Mutex<Vec<ChangeEvent>>>,
    /// Transaction markers, in the order the batches carried them.
    pub markers: Arc<Mutex<Vec<TxMarker>>>,
    pub committed: watch::Receiver<Option<Position>>,
    /// Batches the stand-in emitter has committed.
    pub batches: Arc<AtomicUsize>,
    /// How the reader ended, once it has: its error, or that it returned.
    ended: Arc<Mutex<Option<String>>>,
    gate: Arc<tokio::sync::Semaphore>,
}

/// A reader under test, named by its error type: it runs a connector's source under the real
/// reconnect loop (`siphon::source::run`).
pub trait ReaderUnderTest: std::fmt::Display + Send + Sized + 'static {
    fn read(
        config: ConnectorConfig,
        from: Option<Position>,
        out: mpsc::Sender<ChangeBatch>,
        committed: watch::Receiver<Option<Position>>,
    ) -> impl Future<Output = Result<(), Self>> + Send + 'static;
}

impl<E: ReaderUnderTest> Running<E> {
    pub fn start(config: ConnectorConfig, resume: Option<Position>) -> Running<E> {
        Self::start_with(config, resume, Arc::new(Mutex::new(Vec::new())))
    }

    /// Starts a reader whose committed events are appended to `events`.
    pub fn start_with(
        config: ConnectorConfig,
        resume: Option<Position>,
        events: Arc<Mutex<Vec<ChangeEvent>>>,
    ) -> Running<E> {
        Self::start_limited(config, resume, events, usize::MAX)
    }

    /// Like `start_with`, but the stand-in emitter stops taking batches after `max_batches`
    /// (a stalled broker) until `release`, so the reader is held mid-way by backpressure.
    pub fn start_limited(
        config: ConnectorConfig,
        resume: Option<Position>,
        events: Arc<Mutex<Vec<ChangeEvent>>>,
        max_batches: usize,
    ) -> Running<E> {
        let from = resume.clone();
        Running::spawn(resume, events, max_batches, move |tx, committed| {
            E::read(config, from, tx, committed)
        })
    }
}

impl<E: std::fmt::Display + Send + 'static> Running<E> {
    /// Spawns `reader(out, committed)` and a stand-in emitter that appends the committed
    /// events to `events` and stops taking batches after `max_batches` until `release`.
    pub fn spawn<F, Fut>(
        resume: Option<Position>,
        events: Arc<Mutex<Vec<ChangeEvent>>>,
        max_batches: usize,
        reader: F,
    ) -> Running<E>
    where
        F: FnOnce(mpsc::Sender<ChangeBatch>, watch::Receiver<Option<Position>>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel(4);
        let (commit_tx, commit_rx) = watch::channel(resume);
        let ended: Arc<Mutex<Option<String>>> = Arc::default();
        let outcome = Arc::clone(&ended);
        let run = reader(tx, commit_rx.clone());
        let reader = tokio::spawn(async move {
            let result = run.await;
            *outcome.lock().unwrap() = Some(match &result {
                Ok(()) => "returned Ok(())".to_owned(),
                Err(e) => format!("failed: {e}"),
            });
            result
        });
        let sink = Arc::clone(&events);
        let markers: Arc<Mutex<Vec<TxMarker>>> = Arc::default();
        let marker_sink = Arc::clone(&markers);
        let batches = Arc::new(AtomicUsize::new(0));
        let batch_count = Arc::clone(&batches);
        let gate = Arc::new(tokio::sync::Semaphore::new(max_batches.min(1 << 20)));
        let permits = Arc::clone(&gate);
        let committer = tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.acquire().await else {
                    break;
                };
                permit.forget();
                let Some(batch) = rx.recv().await else { break };
                sink.lock().unwrap().extend(batch.events);
                marker_sink.lock().unwrap().extend(batch.markers);
                batch_count.fetch_add(1, Ordering::SeqCst);
                if commit_tx.send(Some(batch.position)).is_err() {
                    break;
                }
            }
        });
        Running {
            reader,
            committer,
            events,
            markers,
            committed: commit_rx,
            batches,
            ended,
            gate,
        }
    }

    /// Lets the stand-in emitter take batches again, without limit.
    pub fn release(&self) {
        self.gate.add_permits(1 << 20);
    }

    pub fn count(&self) -> usize {
        self.events.lock().unwrap().len()
    }

    /// Batches committed so far.
    pub fn batch_count(&self) -> usize {
        self.batches.load(Ordering::SeqCst)
    }

    /// Stops the reader as a crash would between batches: what was committed stays committed.
    pub async fn stop(self) -> Option<Position> {
        self.reader.abort();
        let _ = self.reader.await;
        self.committer.abort();
        let _ = self.committer.await;
        self.committed.borrow().clone()
    }

    /// Waits (up to a minute) until at least `n` events are committed, failing if the reader
    /// stops.
    pub async fn wait_for_events(&self, what: &str, n: usize) -> Vec<ChangeEvent> {
        super::wait_for(what, std::time::Duration::from_secs(60), || {
            self.assert_alive();
            let events = self.events.lock().unwrap().clone();
            async move { (events.len() >= n).then_some(events) }
        })
        .await
    }

    /// Fails the test, with the reader's error, if the reader has ended.
    pub fn assert_alive(&self) {
        if let Some(how) = self.ended.lock().unwrap().as_ref() {
            panic!("the reader stopped early: it {how}");
        }
        assert!(!self.reader.is_finished(), "the reader stopped early");
    }
}
