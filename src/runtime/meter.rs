//! Sits between the reader and the emitter and feeds the connector's metrics without either
//! of them knowing: it notes what each batch carries as it passes, and when the emitter
//! publishes a committed position, it settles every batch up to that position (the watch
//! channel may skip intermediate positions, so counting its updates would undercount).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::metrics::{Committed, ConnectorMetrics, SnapshotState};
use crate::emitter::avro_schema::topic_name;
use crate::event::{ChangeBatch, Op};
use crate::offsets::Position;

/// What the meter needs of a batch (a trait so its tests need no real batches).
pub trait Metered: Send + 'static {
    fn position(&self) -> &Position;
    fn describe(&self, topic_prefix: &str) -> Committed;
}

impl Metered for ChangeBatch {
    fn position(&self) -> &Position {
        &self.position
    }
    fn describe(&self, topic_prefix: &str) -> Committed {
        describe(topic_prefix, self)
    }
}

struct Pending {
    position: Position,
    handed: Instant,
    batch: Committed,
}

fn describe(prefix: &str, batch: &ChangeBatch) -> Committed {
    let mut out = Committed {
        events: batch.events.len() as u64,
        ..Committed::default()
    };
    let mut topics = BTreeSet::new();
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    // Events come in runs of one table: names are built once per run, not per event.
    for run in batch
        .events
        .chunk_by(|a, b| Arc::ptr_eq(&a.table, &b.table))
    {
        let table = &run[0].table.id;
        topics.insert(topic_name(prefix, table));
        let read = run.iter().filter(|e| e.op == Op::Read).count() as u64;
        if read > 0 {
            *rows.entry(table.to_string()).or_default() += read;
        }
        for e in run {
            out.newest_source_us = out.newest_source_us.max(Some(e.source.ts_us));
        }
    }
    out.topics = topics;
    out.snapshot_rows = rows;
    out
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Settles the batches committed up to `committed`.
fn settle(pending: &mut VecDeque<Pending>, committed: &Position, metrics: &ConnectorMetrics) {
    while let Some(front) = pending.front() {
        // Positions of one reader always compare; if they ever do not, settle anyway rather
        // than let the queue grow.
        if front.position.is_after(committed).unwrap_or(false) {
            break;
        }
        let Some(mut p) = pending.pop_front() else {
            break;
        };
        p.batch.latency = p.handed.elapsed();
        metrics.committed(p.batch, now_us());
    }
    let snapshot = committed.snapshot();
    metrics.set_snapshot(SnapshotState {
        running: snapshot.is_some(),
        tables_completed: snapshot.map_or(0, |s| s.completed_tables.len() as u64),
        rows_done: snapshot.map_or(0, |s| s.rows_done),
    });
}

/// Forwards batches from the reader to the emitter, keeping the reader's backpressure, until
/// both sides are done.
pub async fn meter<B: Metered>(
    topic_prefix: String,
    metrics: Arc<ConnectorMetrics>,
    mut from_reader: mpsc::Receiver<B>,
    to_emitter: mpsc::Sender<B>,
    mut committed: watch::Receiver<Option<Position>>,
) {
    let mut to_emitter = Some(to_emitter);
    let mut held: Option<B> = None;
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut reader_done = false;
    loop {
        if reader_done && held.is_none() {
            // The reader is done: close the emitter's input so it drains and ends.
            to_emitter = None;
        }
        tokio::select! {
            permit = reserve(to_emitter.as_ref()), if held.is_some() => {
                let (Ok(permit), Some(batch)) = (permit, held.take()) else {
                    return; // the emitter is gone
                };
                permit.send(batch);
            }
            batch = from_reader.recv(), if held.is_none() && !reader_done => {
                match batch {
                    Some(b) => {
                        pending.push_back(Pending {
                            position: b.position().clone(),
                            handed: Instant::now(),
                            batch: b.describe(&topic_prefix),
                        });
                        held = Some(b);
                    }
                    None => reader_done = true,
                }
            }
            changed = committed.changed() => {
                if changed.is_err() {
                    return; // the emitter has ended
                }
                let position = committed.borrow_and_update().clone();
                if let Some(p) = position {
                    settle(&mut pending, &p, &metrics);
                }
            }
        }
    }
}

async fn reserve<B>(tx: Option<&mpsc::Sender<B>>) -> Result<mpsc::Permit<'_, B>, ()> {
    match tx {
        Some(tx) => tx.reserve().await.map_err(|_| ()),
        None => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offsets::PgPosition;

    struct Fake(Position);

    impl Metered for Fake {
        fn position(&self) -> &Position {
            &self.0
        }
        fn describe(&self, prefix: &str) -> Committed {
            Committed {
                events: 2,
                topics: [format!("{prefix}.public.t")].into(),
                ..Committed::default()
            }
        }
    }

    fn at(lsn: u64) -> Position {
        Position::Postgres(PgPosition::after_commit(lsn))
    }

    #[tokio::test]
    async fn settles_every_batch_up_to_the_committed_position() {
        let metrics = Arc::new(ConnectorMetrics::new());
        let (reader_tx, reader_rx) = mpsc::channel(4);
        let (emit_tx, mut emit_rx) = mpsc::channel(1);
        let (commit_tx, commit_rx) = watch::channel(None);
        let task = tokio::spawn(meter(
            "p".to_owned(),
            Arc::clone(&metrics),
            reader_rx,
            emit_tx,
            commit_rx,
        ));
        for lsn in 1..=3 {
            reader_tx.send(Fake(at(lsn))).await.unwrap();
        }
        for _ in 0..3 {
            emit_rx.recv().await.unwrap();
        }
        // One publication for three batches: all three settle.
        commit_tx.send_replace(Some(at(3)));
        drop(reader_tx);
        assert!(emit_rx.recv().await.is_none(), "the emitter's input closes");
        drop(commit_tx);
        task.await.unwrap();
        let s = metrics.snapshot();
        assert_eq!((s.batches, s.events, s.latency.count), (3, 6, 3));
        assert_eq!(metrics.topics(), ["p.public.t"]);
    }
}
