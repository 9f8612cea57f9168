//! Which LSN to confirm to the server: a pure function, so its rules are unit-tested.
//!
//! The server skips, on restart, every transaction whose commit LSN is below the confirmed
//! flush LSN. Confirming the commit LSN of the newest committed position is therefore safe
//! even for a partly emitted transaction (its commit LSN is not below itself, so it is sent
//! again and the reader skips what was already emitted). Only when nothing handed over is
//! still uncommitted, nothing is open and nothing waits to be handed over can the server's
//! WAL end be confirmed, so an idle or filtered database never pins WAL.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckInputs {
    /// Commit LSN of the newest position the emitter committed.
    pub committed: Option<u64>,
    /// Something handed to the emitter (in this session or an earlier one) is not committed.
    pub in_flight: bool,
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
    if let Some(commit_lsn) = i.committed {
        ack = ack.max(commit_lsn);
    }
    if !i.in_flight
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
    fn confirms_the_committed_commit_lsn_while_a_batch_is_in_flight() {
        let i = AckInputs {
            committed: Some(100),
            in_flight: true,
            server_wal_end: Some(300),
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 100);
    }

    #[test]
    fn idle_stream_confirms_wal_end() {
        let i = AckInputs {
            committed: Some(200),
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
    fn in_flight_with_nothing_committed_confirms_nothing_new() {
        // A reconnect after batches were handed over but before any commit: the old
        // confirmation stands, whatever the server's WAL end.
        let i = AckInputs {
            in_flight: true,
            server_wal_end: Some(900),
            last_acked: 40,
            ..Default::default()
        };
        assert_eq!(choose_ack(&i), 40);
    }

    #[test]
    fn open_transaction_or_pending_events_hold_at_committed() {
        let base = AckInputs {
            committed: Some(200),
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
                in_flight: true,
                ..base
            },
        ] {
            assert_eq!(choose_ack(&i), 200, "{i:?}");
        }
    }

    proptest! {
        #[test]
        fn never_moves_backwards_nor_past_committed_while_busy(
            c in proptest::option::of(0u64..1000),
            w in proptest::option::of(0u64..1000),
            last in 0u64..1000,
            flight: bool, tx: bool, pending: bool,
        ) {
            let i = AckInputs { committed: c, in_flight: flight, in_transaction: tx, pending_events: pending, server_wal_end: w, last_acked: last };
            prop_assert!(choose_ack(&i) >= last);
            if flight || tx || pending {
                prop_assert_eq!(choose_ack(&i), last.max(c.unwrap_or(0)));
            }
        }
    }
}
