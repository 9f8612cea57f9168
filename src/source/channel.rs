//! The reader → emitter channel, remembering the position of the last batch handed over, so
//! a reader that reconnects resumes after what it already sent (not only after what was
//! committed, which would send the in-flight batches twice). It also bounds the bytes handed
//! over and not yet committed (`max.queue.size.in.bytes`): a batch waits until the emitter
//! has committed enough, so big rows cannot pile up anywhere between reader and broker.

use std::collections::VecDeque;

use tokio::sync::{mpsc, watch};

use super::bytes::batch_bytes;
use crate::event::ChangeBatch;
use crate::offsets::Position;

/// What was handed over and is not committed yet, with its size.
struct ByteBound {
    limit: u64,
    committed: watch::Receiver<Option<Position>>,
    unsettled: VecDeque<(Position, u64)>,
    bytes: u64,
}

impl ByteBound {
    /// Forgets what the emitter committed. Positions of one reader always compare; if they
    /// ever do not, the batch counts as uncommitted, which only holds the reader back.
    fn settle(&mut self) {
        let committed = self.committed.borrow_and_update().clone();
        let Some(c) = committed else { return };
        while let Some((p, size)) = self.unsettled.front() {
            if p.is_after(&c).unwrap_or(true) {
                break;
            }
            self.bytes -= size;
            self.unsettled.pop_front();
        }
    }

    /// Waits until `size` more bytes fit, or nothing is uncommitted (a batch bigger than the
    /// bound goes alone).
    async fn room_for(&mut self, size: u64, tx: &mpsc::Sender<ChangeBatch>) -> Result<(), Closed> {
        loop {
            self.settle();
            if self.bytes == 0 || self.bytes + size <= self.limit {
                return Ok(());
            }
            tokio::select! {
                changed = self.committed.changed() => changed.map_err(|_| Closed)?,
                () = tx.closed() => return Err(Closed),
            }
        }
    }
}

/// The emitter side is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the emitter stopped")]
pub struct Closed;

pub struct BatchSender {
    tx: mpsc::Sender<ChangeBatch>,
    last_sent: Option<Position>,
    bound: Option<ByteBound>,
}

impl BatchSender {
    /// A channel bounded in batches only.
    pub fn new(tx: mpsc::Sender<ChangeBatch>) -> Self {
        BatchSender {
            tx,
            last_sent: None,
            bound: None,
        }
    }

    /// A channel also bounded to `limit` bytes handed over and not yet in `committed` (0: no
    /// byte bound).
    pub fn bounded(
        tx: mpsc::Sender<ChangeBatch>,
        committed: watch::Receiver<Option<Position>>,
        limit: u64,
    ) -> Self {
        let bound = (limit > 0).then(|| ByteBound {
            limit,
            committed,
            unsettled: VecDeque::new(),
            bytes: 0,
        });
        BatchSender {
            tx,
            last_sent: None,
            bound,
        }
    }

    /// Waits for room (the bounds are the backpressure), then hands the batch over.
    pub async fn send(&mut self, batch: ChangeBatch) -> Result<(), Closed> {
        let position = batch.position.clone();
        let size = match &mut self.bound {
            Some(bound) => {
                let size = batch_bytes(&batch);
                bound.room_for(size, &self.tx).await?;
                size
            }
            None => 0,
        };
        self.tx.send(batch).await.map_err(|_| Closed)?;
        if let Some(bound) = &mut self.bound {
            bound.unsettled.push_back((position.clone(), size));
            bound.bytes += size;
        }
        self.last_sent = Some(position);
        Ok(())
    }

    /// The byte bound (0: none).
    pub fn byte_limit(&self) -> u64 {
        self.bound.as_ref().map_or(0, |b| b.limit)
    }

    /// Bytes handed over and not yet seen committed (0 without a byte bound).
    pub fn unsettled_bytes(&self) -> u64 {
        self.bound.as_ref().map_or(0, |b| b.bytes)
    }

    pub fn last_sent(&self) -> Option<&Position> {
        self.last_sent.as_ref()
    }

    /// Resolves when the emitter side has gone.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::offsets::PgPosition;

    #[tokio::test]
    async fn remembers_the_last_handed_over_position() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut s = BatchSender::new(tx);
        assert!(s.last_sent().is_none());
        let p = Position::Postgres(PgPosition::after_commit(9));
        s.send(ChangeBatch {
            events: vec![],
            markers: vec![],
            position: p.clone(),
        })
        .await
        .unwrap();
        assert_eq!(s.last_sent(), Some(&p));
        assert!(rx.recv().await.is_some());
        drop(rx);
        let err = s
            .send(ChangeBatch {
                events: vec![],
                markers: vec![],
                position: p,
            })
            .await;
        assert_eq!(err, Err(Closed));
    }

    fn batch(lsn: u64, text_len: usize) -> ChangeBatch {
        let mut event = crate::source::batcher::tests::event();
        event.after = Some(crate::event::Row(vec![crate::event::Value::Text(
            "x".repeat(text_len),
        )]));
        ChangeBatch {
            events: vec![event],
            markers: vec![],
            position: Position::Postgres(PgPosition::after_commit(lsn)),
        }
    }

    #[tokio::test]
    async fn bytes_wait_for_the_commit_of_what_was_handed_over() {
        let (tx, mut rx) = mpsc::channel(100);
        let (commit_tx, committed) = watch::channel(None);
        let mut s = BatchSender::bounded(tx, committed, 3_000_000);
        // Two 1 MB batches fit in 3 MB; a third does not until the first is committed.
        s.send(batch(10, 1_000_000)).await.unwrap();
        s.send(batch(20, 1_000_000)).await.unwrap();
        let held = s.unsettled_bytes();
        assert!(held > 2_000_000 && held < 2_100_000, "{held}");
        let third = tokio::time::timeout(Duration::from_millis(200), s.send(batch(30, 1_000_000)));
        assert!(third.await.is_err(), "sent past the byte bound");
        commit_tx.send_replace(Some(Position::Postgres(PgPosition::after_commit(10))));
        s.send(batch(30, 1_000_000)).await.unwrap();
        assert_eq!(s.last_sent(), Some(&batch(30, 0).position));
        // A batch bigger than the bound goes alone, once everything before it is committed.
        commit_tx.send_replace(Some(Position::Postgres(PgPosition::after_commit(30))));
        s.send(batch(40, 5_000_000)).await.unwrap();
        assert!(s.unsettled_bytes() > 5_000_000);
        for _ in 0..4 {
            assert!(rx.recv().await.is_some());
        }
        // The emitter gone while waiting: Closed, not a hang.
        drop(rx);
        assert_eq!(s.send(batch(50, 10)).await, Err(Closed));
    }
}
