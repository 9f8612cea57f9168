//! Which LSN to confirm to the server: a pure function, so its rules are unit-tested.
//!
//! The server skips, on restart, every transaction whose commit LSN is below the confirmed
//! flush LSN. Confirming the commit LSN of the newest committed position is therefore safe
//! even for a partly emitted transaction (its commit LSN is not below itself, so it is sent
//! again and the reader skips what was already emitted). When nothing is open or in flight,
//! the server's WAL end can be confirmed, so an idle or filtered database never pins WAL.

/// A stream position as `(commit LSN, LSN inside the transaction)`.
pub type StreamPoint = (u64, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckInputs {
    /// Newest position the emitter committed.
    pub committed: Option<StreamPoint>,
    /// Newest position handed to the emitter (committed or not).
    pub sent: Option<StreamPoint>,
    /// A transaction has begun on the stream and not yet committed.
    pub in_transaction: bool,
    /// Events received but not yet handed to the emitter.
    pub pending_events: bool,
    /// The server's WAL end from its latest keepalive.
    pub server_wal_end: Option<u64>,
    /// What was confirmed last.
    pub last_acked: u64,
}

/// The flush LSN to confirm: never lower than `last_acked`.
pub fn choose_ack(i: &AckInputs) -> u64 {
    let mut ack = i.last_acked;
    if let Some((commit_lsn, _)) = i.committed {
        ack = ack.max(commit_lsn);
    }
    let all_committed = match (i.sent, i.committed) {
        (None, _) => true,
        (Some(s), Some(c)) => s <= c,
        (Some(_), None) => false,
    };
    if all_committed
        && !i.in_transaction
        && !i.pending_events
        && let Some(end) = i.server_wal_end
    {
        ack = ack.max(end);
    }
    ack
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn confirms_the_committed_commit_lsn() {
        let i = AckInputs {
            committed: Some((100, 100)),
            sent: Some((200, 200)),
            server_wal_end: Some(300),
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 100);
    }

    #[test]
    fn idle_stream_confirms_wal_end() {
        let i = AckInputs {
            committed: Some((200, 200)),
            sent: Some((200, 200)),
            server_wal_end: Some(300),
            last_acked: 150,
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 300);
        // Nothing ever captured (filtered database): still advances.
        let i = AckInputs {
            server_wal_end: Some(50),
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 50);
    }

    #[test]
    fn open_transaction_or_pending_events_hold_at_committed() {
        let base = AckInputs {
            committed: Some((200, 200)),
            sent: Some((200, 200)),
            server_wal_end: Some(300),
            ..Default::default()
        };
        for i in [
            AckInputs {
                in_transaction: true,
                ..base
            },
            AckInputs {
                pending_events: true,
                ..base
            },
            AckInputs {
                sent: Some((250, 250)),
                ..base
            },
        ] {
            assert_eq!(choose_ack(&i), 200, "{i:?}");
        }
    }

    #[test]
    fn partial_transaction_confirms_its_commit_lsn() {
        let i = AckInputs {
            committed: Some((500, 420)),
            sent: Some((500, 480)),
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 500);
    }

    proptest! {
        #[test]
        fn never_moves_backwards(
            c in proptest::option::of((0u64..1000, 0u64..1000)),
            s in proptest::option::of((0u64..1000, 0u64..1000)),
            w in proptest::option::of(0u64..1000),
            last in 0u64..1000,
            tx: bool, pending: bool,
        ) {
            let i = AckInputs { committed: c, sent: s, in_transaction: tx, pending_events: pending, server_wal_end: w, last_acked: last };
            prop_assert!(choose_ack(&i) >= last);
            // Never past what is committed unless everything is committed and idle.
            if tx || pending {
                prop_assert_eq!(choose_ack(&i), last.max(c.map_or(0, |p| p.0)));
            }
        }
    }
}
