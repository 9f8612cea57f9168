//! The reader → emitter channel, remembering the position of the last batch handed over, so
//! a reader that reconnects resumes after what it already sent (not only after what was
//! committed, which would send the in-flight batches twice).

use tokio::sync::mpsc;

use crate::event::ChangeBatch;
use crate::offsets::Position;

/// The emitter side is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the emitter stopped")]
pub struct Closed;

pub struct BatchSender {
    tx: mpsc::Sender<ChangeBatch>,
    last_sent: Option<Position>,
}

impl BatchSender {
    pub fn new(tx: mpsc::Sender<ChangeBatch>) -> Self {
        BatchSender {
            tx,
            last_sent: None,
        }
    }

    /// Waits for room (the bound is the backpressure), then hands the batch over.
    pub async fn send(&mut self, batch: ChangeBatch) -> Result<(), Closed> {
        let position = batch.position.clone();
        self.tx.send(batch).await.map_err(|_| Closed)?;
        self.last_sent = Some(position);
        Ok(())
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
}
