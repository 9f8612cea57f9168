//! Whether something handed to the emitter is not committed yet: the one rule for both
//! hand-overs (hand a finished transaction over at once when the emitter is idle, as
//! Debezium's poll takes what is queued) and acknowledgements (confirm the server's end of
//! the log only when nothing is in flight). It starts from what the channel already handed
//! over, so a reconnect does not forget batches that are still uncommitted.

use tokio::sync::watch;

use super::channel::BatchSender;
use crate::offsets::Position;

#[derive(Debug, Clone)]
pub struct InFlight {
    sent: Option<Position>,
    in_flight: bool,
}

/// Positions of one reader always compare; if they ever do not, assume in flight, which only
/// holds hand-overs and acknowledgements back.
fn uncommitted(sent: Option<&Position>, committed: Option<&Position>) -> bool {
    match (sent, committed) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(s), Some(c)) => s.is_after(c).unwrap_or(true),
    }
}

impl InFlight {
    pub fn new(out: &BatchSender, committed: &watch::Receiver<Option<Position>>) -> Self {
        let sent = out.last_sent().cloned();
        let in_flight = uncommitted(sent.as_ref(), committed.borrow().as_ref());
        InFlight { sent, in_flight }
    }

    /// After a batch was handed over.
    pub fn sent(&mut self, out: &BatchSender) {
        self.sent = out.last_sent().cloned();
        self.in_flight = true;
    }

    /// Notes the committed position; true when it completes what was sent, so the emitter is
    /// idle and a waiting batch should be handed over now.
    pub fn on_committed(&mut self, committed: &watch::Receiver<Option<Position>>) -> bool {
        if !self.in_flight {
            return false;
        }
        self.in_flight = uncommitted(self.sent.as_ref(), committed.borrow().as_ref());
        !self.in_flight
    }

    pub fn is_in_flight(&self) -> bool {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ChangeBatch;
    use crate::offsets::PgPosition;

    fn pg(lsn: u64) -> Position {
        Position::Postgres(PgPosition::after_commit(lsn))
    }

    #[tokio::test]
    async fn in_flight_until_the_committed_position_reaches_what_was_sent() {
        let (tx, _rx) = tokio::sync::mpsc::channel(4);
        let mut out = BatchSender::new(tx);
        let (commit_tx, committed) = watch::channel(None);
        let mut f = InFlight::new(&out, &committed);
        assert!(!f.is_in_flight());
        out.send(ChangeBatch {
            events: vec![],
            markers: vec![],
            position: pg(20),
        })
        .await
        .unwrap();
        f.sent(&out);
        assert!(f.is_in_flight());
        commit_tx.send_replace(Some(pg(10)));
        assert!(!f.on_committed(&committed) && f.is_in_flight());
        commit_tx.send_replace(Some(pg(20)));
        assert!(f.on_committed(&committed) && !f.is_in_flight());
        // A new session over the same channel starts from what is still uncommitted.
        commit_tx.send_replace(Some(pg(10)));
        assert!(InFlight::new(&out, &committed).is_in_flight());
    }
}
