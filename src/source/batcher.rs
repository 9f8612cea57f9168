//! The batcher every streaming reader fills, written once: change events and transaction
//! markers gathered into batches of at most `max.batch.size` events, handed over at a
//! transaction's end when the emitter is idle or the batch is full, else when
//! `poll.interval.ms` has passed; with the in-flight state that also decides what a reader may
//! acknowledge to its server.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::bytes::event_bytes;
use super::channel::{BatchSender, Closed};
use super::in_flight::InFlight;
use crate::config::ConnectorConfig;
use crate::event::{ChangeBatch, ChangeEvent, TxInfo, TxMarker, TxOrders};
use crate::offsets::Position;

/// `P`: the reader's own position type.
pub struct Batcher<P> {
    events: Vec<ChangeEvent>,
    markers: Vec<TxMarker>,
    /// When the first thing waiting was added: the linger runs from here.
    started: Option<Instant>,
    /// The position after the last event or marker waiting.
    point: Option<P>,
    linger: Duration,
    max_batch_size: u32,
    /// The events' size ([`event_bytes`]) and the size that hands a batch over early (0: none).
    bytes: u64,
    max_batch_bytes: u64,
    transaction_metadata: bool,
    in_flight: InFlight,
}

impl<P: Into<Position>> Batcher<P> {
    /// Starts from what `out` handed over earlier in this run, so a reconnect does not forget
    /// batches that are still uncommitted.
    pub fn new(
        config: &ConnectorConfig,
        out: &BatchSender,
        committed: &watch::Receiver<Option<Position>>,
    ) -> Self {
        Batcher {
            events: Vec::new(),
            markers: Vec::new(),
            started: None,
            point: None,
            linger: Duration::from_millis(config.poll_interval_ms),
            max_batch_size: config.max_batch_size,
            bytes: 0,
            max_batch_bytes: config.max_batch_bytes(),
            transaction_metadata: config.provide_transaction_metadata,
            in_flight: InFlight::new(out, committed),
        }
    }

    /// When what is waiting must be handed over (`None`: nothing waits).
    pub fn deadline(&self) -> Option<Instant> {
        self.started.map(|t| t + self.linger)
    }

    /// Starts the linger if it is not running.
    pub fn linger_from_now(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    /// No change event waits (markers may).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Something waits with the position after it.
    pub fn has_point(&self) -> bool {
        self.point.is_some()
    }

    /// A batch handed over is not committed yet.
    pub fn is_in_flight(&self) -> bool {
        self.in_flight.is_in_flight()
    }

    /// Notes the committed position; true when it completes what was sent, so the emitter is
    /// idle and what waits should be handed over now.
    pub fn on_committed(&mut self, committed: &watch::Receiver<Option<Position>>) -> bool {
        self.in_flight.on_committed(committed)
    }

    /// The transaction metadata of an event (`None` when `provide.transaction.metadata` is
    /// off); `orders` is its (total, per-table) order from [`TxOrders::count`]. The first
    /// event of a transaction also opens its BEGIN marker.
    pub fn transaction_info(
        &mut self,
        id: impl FnOnce() -> String,
        ts_us: i64,
        (total_order, data_collection_order): (u64, u64),
    ) -> Option<TxInfo> {
        if !self.transaction_metadata {
            return None;
        }
        let id = id();
        if total_order == 1 {
            self.markers.push(TxMarker::Begin {
                id: id.clone(),
                ts_us,
            });
        }
        Some(TxInfo {
            id,
            total_order,
            data_collection_order,
        })
    }

    /// Adds an event; `point` is the position after it. True when the batch is full: hand it
    /// over now (a transaction larger than a batch is split, its position inside it).
    pub fn push(&mut self, event: ChangeEvent, point: P) -> bool {
        self.bytes += event_bytes(&event);
        self.events.push(event);
        self.linger_from_now();
        self.point = Some(point);
        self.is_full()
    }

    /// `max.batch.size` events, or the batch's share of `max.queue.size.in.bytes`.
    fn is_full(&self) -> bool {
        self.events.len() >= self.max_batch_size as usize
            || (self.max_batch_bytes > 0 && self.bytes >= self.max_batch_bytes)
    }

    /// A transaction's end, `after` the position after it: adds its END marker (with metadata
    /// on and events seen). `Err(after)` when nothing waits (the transaction had no captured
    /// change), else whether to hand over now: when the batch is full, or when the emitter has
    /// committed everything sent (is idle), as Debezium's poll takes what is queued at once;
    /// under load batches fill up during each Kafka transaction.
    pub fn commit(
        &mut self,
        id: impl FnOnce() -> String,
        ts_us: i64,
        orders: &TxOrders,
        after: P,
    ) -> Result<bool, P> {
        if self.transaction_metadata && orders.total > 0 {
            self.markers.push(TxMarker::End {
                id: id(),
                ts_us,
                event_count: orders.total,
                data_collections: orders.per_table.clone(),
            });
            self.linger_from_now();
        }
        if self.events.is_empty() && self.markers.is_empty() {
            return Err(after);
        }
        self.point = Some(after);
        Ok(self.is_full() || !self.in_flight.is_in_flight())
    }

    /// Makes `point` the position of what waits (progress with no events, so the committed
    /// position keeps up with the server while nothing captured changes).
    pub fn set_point(&mut self, point: P) {
        self.point = Some(point);
    }

    /// Hands what waits to the emitter, if anything does; waits when the channel is full
    /// (backpressure). True when a batch was handed over.
    pub async fn flush(&mut self, out: &mut BatchSender) -> Result<bool, Closed> {
        self.started = None;
        let Some(point) = self.point.take() else {
            return Ok(false);
        };
        self.bytes = 0;
        let batch = ChangeBatch {
            events: std::mem::take(&mut self.events),
            markers: std::mem::take(&mut self.markers),
            position: point.into(),
        };
        out.send(batch).await?;
        self.in_flight.sent(out);
        Ok(true)
    }
}

/// Resolves at `deadline`, never without one.
pub async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::offsets::PgPosition;

    fn config(extra: &[(&str, &str)]) -> ConnectorConfig {
        let map = [
            ("connector.class", "postgres"),
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
            ("max.batch.size", "2"),
            ("max.queue.size", "8"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        ConnectorConfig::from_map("c", &map).unwrap()
    }

    /// A one-column create event (other modules' tests build theirs from it).
    pub(in crate::source) fn event() -> ChangeEvent {
        use crate::event::*;
        ChangeEvent {
            op: Op::Create,
            table: std::sync::Arc::new(TableSchema {
                id: TableId::new("s", "t"),
                version: 1,
                columns: vec![Column {
                    name: "id".into(),
                    data_type: DataType::Int32,
                    nullable: false,
                    source_type: "int4".into(),
                    default: None,
                }],
                primary_key: vec![0],
            }),
            before: None,
            after: Some(Row(vec![Value::Int32(1)])),
            source: SourceInfo {
                ts_us: 0,
                snapshot: SnapshotMarker::False,
                db: "d".into(),
                details: SourceDetails::Postgres {
                    tx_id: None,
                    lsn: None,
                    xmin: None,
                    last_commit_lsn: None,
                },
            },
            transaction: None,
            document: None,
        }
    }

    #[tokio::test]
    async fn hands_over_at_commit_when_idle_and_holds_while_in_flight() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let mut out = BatchSender::new(tx);
        let (commit_tx, committed) = watch::channel(None);
        let config = config(&[("provide.transaction.metadata", "true")]);
        let mut b: Batcher<PgPosition> = Batcher::new(&config, &out, &committed);
        assert!(b.deadline().is_none());
        let mut orders = TxOrders::default();
        let info = b.transaction_info(|| "7:10".into(), 5, orders.count("s.t"));
        assert_eq!(info.as_ref().map(|i| i.total_order), Some(1));
        assert!(!b.push(event(), PgPosition::after_commit(10)));
        assert!(b.deadline().is_some());
        assert_eq!(
            b.commit(|| "7:10".into(), 5, &orders, PgPosition::after_commit(10)),
            Ok(true),
            "idle emitter: at once"
        );
        assert!(b.flush(&mut out).await.unwrap());
        let batch = rx.recv().await.unwrap();
        assert_eq!(batch.events.len(), 1);
        assert!(matches!(
            batch.markers.as_slice(),
            [TxMarker::Begin { .. }, TxMarker::End { event_count: 1, .. }]
        ));
        assert!(b.is_in_flight() && b.deadline().is_none());

        // While that batch is in flight, the next transaction waits (for the linger).
        let orders = TxOrders::default();
        assert!(!b.push(event(), PgPosition::after_commit(20)));
        assert_eq!(
            b.commit(|| "8:20".into(), 6, &orders, PgPosition::after_commit(20)),
            Ok(false)
        );
        commit_tx.send_replace(Some(Position::Postgres(PgPosition::after_commit(10))));
        assert!(b.on_committed(&committed), "now idle: hand over");
        // A full batch is due whatever the emitter does.
        assert!(b.push(event(), PgPosition::after_commit(20)));
    }

    #[tokio::test]
    async fn a_transaction_without_captured_changes_gives_its_position_back() {
        let (tx, _rx) = tokio::sync::mpsc::channel(4);
        let mut out = BatchSender::new(tx);
        let (_commit_tx, committed) = watch::channel(None);
        let mut b: Batcher<PgPosition> = Batcher::new(&config(&[]), &out, &committed);
        let orders = TxOrders::default();
        assert_eq!(
            b.commit(|| unreachable!(), 0, &orders, PgPosition::after_commit(3)),
            Err(PgPosition::after_commit(3))
        );
        assert!(!b.flush(&mut out).await.unwrap(), "nothing to hand over");
        b.set_point(PgPosition::after_commit(3));
        assert!(b.flush(&mut out).await.unwrap(), "progress without events");
    }
}
