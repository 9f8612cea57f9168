//! The change stream: opened strictly after the committed position (`startAfter` its resume
//! token, or `startAtOperationTime` just after the snapshot's cluster time), read one
//! server batch at a time, events batched for the emitter with the resume token of each as
//! its position, so a restart resumes strictly after the last committed event, even inside a
//! transaction.
//!
//! The stream is never read inside a `select!`: a `getMore` cancelled half-way would lose
//! the batch the server already handed out. The server's await time bounds each read, and
//! hand-overs are checked between reads.

use std::time::{Duration, Instant};

use mongodb::Client;
use mongodb::bson::{Document, doc};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::ResumeToken;
use mongodb::options::{FullDocumentBeforeChangeType, FullDocumentType};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::debug;

use super::MongoSource;
use super::change::{Operation, read_event};
use super::convert::{Converter, join_fragments, transaction_id};
use super::error::MongoError;
use super::setup::is_captured;
use crate::config::{CaptureScope, FullUpdateType, OversizeMode};
use crate::event::TxOrders;
use crate::offsets::{MongoPosition, MongoTxProgress, Position};
use crate::source::{BatchSender, Batcher};

/// How often progress with no captured change (other collections, an idle server) is
/// committed, so a restart does not start far behind.
const IDLE_PROGRESS_EVERY: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
struct Wrapped {
    t: ResumeToken,
}

/// A resume token from its `_data` hex string.
pub fn token_from_data(data: &str) -> Result<ResumeToken, MongoError> {
    let bytes = mongodb::bson::to_vec(&doc! { "t": { "_data": data } })
        .map_err(|e| MongoError::Protocol(format!("resume token `{data}`: {e}")))?;
    let w: Wrapped = mongodb::bson::from_slice(&bytes)
        .map_err(|e| MongoError::Protocol(format!("resume token `{data}`: {e}")))?;
    Ok(w.t)
}

/// The `_data` hex string of a resume token.
pub fn data_of(token: &ResumeToken) -> Option<String> {
    let d = mongodb::bson::to_document(&Wrapped { t: token.clone() }).ok()?;
    d.get_document("t")
        .ok()?
        .get_str("_data")
        .ok()
        .map(str::to_owned)
}

fn at_token(data: String) -> MongoPosition {
    MongoPosition {
        resume_token: Some(data),
        cluster_time: None,
        snapshot: None,
        transaction: None,
    }
}

/// The pipeline after the change stream stage: only what Debezium emits (and `invalidate`,
/// which the server always sends), the oversize stages last.
pub fn pipeline(oversize: OversizeMode) -> Vec<Document> {
    let mut stages = vec![doc! {
        "$match": { "operationType": { "$in": ["insert", "update", "replace", "delete", "invalidate"] } }
    }];
    match oversize {
        OversizeMode::Fail => {}
        OversizeMode::Skip { threshold } => stages.push(doc! {
            "$match": { "$and": [
                { "$expr": { "$lte": [{ "$bsonSize": "$fullDocument" }, threshold as i64] } },
                { "$expr": { "$lte": [{ "$bsonSize": "$fullDocumentBeforeChange" }, threshold as i64] } },
            ] }
        }),
        OversizeMode::Split => stages.push(doc! { "$changeStreamSplitLargeEvent": {} }),
    }
    stages
}

/// Opens the change stream of the capture scope strictly after `from`.
pub async fn open(
    client: &Client,
    source: MongoSource<'_>,
    from: &MongoPosition,
) -> Result<ChangeStream<Document>, MongoError> {
    let o = source.options;
    let db;
    let coll;
    let watch = match &o.capture_scope {
        CaptureScope::Deployment => client.watch(),
        CaptureScope::Database(name) => {
            db = client.database(name);
            db.watch()
        }
        CaptureScope::Collection {
            database,
            collection,
        } => {
            coll = client.database(database).collection::<Document>(collection);
            coll.watch()
        }
    };
    let mut watch = watch
        .pipeline(pipeline(o.oversize))
        .max_await_time(Duration::from_millis(match o.max_await_time_ms {
            // Debezium's 0 is the server's default (1 s); shorter keeps hand-overs prompt.
            0 => source.config.poll_interval_ms.clamp(100, 1000),
            ms => ms,
        }))
        .batch_size(source.config.max_batch_size);
    if o.capture_mode.update_full {
        watch = watch.full_document(match o.full_update_type {
            FullUpdateType::Lookup => FullDocumentType::UpdateLookup,
            // As Debezium: an update whose post-image is missing (not enabled, or expired)
            // comes with a null `after` rather than failing the stream.
            FullUpdateType::PostImage => FullDocumentType::WhenAvailable,
        });
    }
    if o.capture_mode.pre_image {
        watch = watch.full_document_before_change(FullDocumentBeforeChangeType::WhenAvailable);
    }
    watch = match (&from.resume_token, from.cluster_time) {
        (Some(data), _) => watch.start_after(token_from_data(data)?),
        (None, Some(t)) => {
            // The snapshot read everything at `t`: start with what follows it.
            let next = if t.i == u32::MAX {
                mongodb::bson::Timestamp {
                    time: t.t.saturating_add(1),
                    increment: 0,
                }
            } else {
                mongodb::bson::Timestamp {
                    time: t.t,
                    increment: t.i + 1,
                }
            };
            watch.start_at_operation_time(next)
        }
        (None, None) => watch,
    };
    let stream = watch
        .await
        .map_err(|e| MongoError::driver("opening the change stream", e))?;
    Ok(stream.with_type::<Document>())
}

/// The MongoDB transaction events are in, while its events arrive.
struct OpenTx {
    id: String,
    session: (String, i64),
    ts_us: i64,
    orders: TxOrders,
    last: MongoPosition,
}

impl OpenTx {
    /// A position inside the transaction: the token, with how far the transaction got.
    fn inside(&self, token: MongoPosition) -> MongoPosition {
        MongoPosition {
            transaction: Some(MongoTxProgress {
                id: self.id.clone(),
                lsid: self.session.0.clone(),
                txn_number: self.session.1,
                ts_us: self.ts_us,
                total: self.orders.total,
                per_collection: self.orders.per_table.clone(),
            }),
            ..token
        }
    }

    /// The transaction a position was inside, to continue its metadata after a restart.
    fn resumed(from: &MongoPosition) -> Option<OpenTx> {
        let t = from.transaction.as_ref()?;
        Some(OpenTx {
            id: t.id.clone(),
            session: (t.lsid.clone(), t.txn_number),
            ts_us: t.ts_us,
            orders: TxOrders {
                total: t.total,
                per_table: t.per_collection.clone(),
            },
            last: from.clone(),
        })
    }
}

pub struct Streamer<'a> {
    source: MongoSource<'a>,
    converter: Converter<'a>,
    batcher: Batcher<MongoPosition>,
    out: &'a mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    tx: Option<OpenTx>,
    /// Fragments of a split event so far.
    fragments: Vec<Document>,
    idle_point: Option<MongoPosition>,
    last_progress: Instant,
}

impl<'a> Streamer<'a> {
    /// Streams on from `from` (a transaction it is inside continues with its metadata).
    pub fn new(
        source: MongoSource<'a>,
        out: &'a mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
        from: &MongoPosition,
    ) -> Self {
        Streamer {
            source,
            converter: Converter::new(source.options),
            batcher: Batcher::new(source.config, out, &committed),
            out,
            committed,
            tx: OpenTx::resumed(from),
            fragments: Vec::new(),
            idle_point: None,
            last_progress: Instant::now(),
        }
    }

    /// Runs until the stream fails or the emitter goes away.
    pub async fn run(&mut self, stream: &mut ChangeStream<Document>) -> Result<(), MongoError> {
        loop {
            if self
                .committed
                .has_changed()
                .map_err(|_| MongoError::DownstreamClosed)?
            {
                self.committed.borrow_and_update();
                if self.batcher.on_committed(&self.committed) && self.batcher.has_point() {
                    self.flush().await?;
                }
            }
            if self.batcher.deadline().is_some_and(|d| Instant::now() >= d) {
                self.flush().await?;
            }
            let next = stream
                .next_if_any()
                .await
                .map_err(|e| MongoError::driver("reading the change stream", e))?;
            match next {
                Some(doc) => self.on_document(doc).await?,
                None => {
                    // The server has nothing more now: a transaction in progress is complete
                    // (its events are written together), and the stream's own token is
                    // progress.
                    self.end_transaction().await?;
                    // Between the fragments of a split event the stream's token is inside the
                    // event: never progress to commit.
                    if self.fragments.is_empty()
                        && let Some(data) = stream.resume_token().as_ref().and_then(data_of)
                    {
                        self.idle(at_token(data));
                    }
                    if !stream.is_alive() {
                        return Err(MongoError::StreamClosed);
                    }
                }
            }
        }
    }

    fn idle(&mut self, point: MongoPosition) {
        self.idle_point = Some(point);
        if self.last_progress.elapsed() >= IDLE_PROGRESS_EVERY {
            self.batcher.linger_from_now();
        }
    }

    async fn on_document(&mut self, doc: Document) -> Result<(), MongoError> {
        let doc = match doc.get_document("splitEvent") {
            Ok(split) => {
                let (fragment, of) = (
                    split.get_i32("fragment").unwrap_or(0),
                    split.get_i32("of").unwrap_or(0),
                );
                if fragment != self.fragments.len() as i32 + 1 {
                    return Err(MongoError::Protocol(format!(
                        "split change event fragment {fragment} of {of} arrived after {} fragments",
                        self.fragments.len()
                    )));
                }
                self.fragments.push(doc);
                if fragment < of {
                    return Ok(());
                }
                join_fragments(std::mem::take(&mut self.fragments))
            }
            Err(_) => doc,
        };
        let event = read_event(&doc)?;
        let point = at_token(event.resume_token.clone());
        if event.operation == Operation::Invalidate {
            // The watched collection or database is gone: commit past the event, then let
            // the session reopen the stream after it.
            self.end_transaction().await?;
            self.batcher.set_point(point);
            self.flush().await?;
            return Err(MongoError::Invalidated);
        }
        let session = event.txn.as_ref().map(|t| (t.lsid.clone(), t.txn_number));
        if self.tx.as_ref().map(|t| &t.session) != session.as_ref() {
            self.end_transaction().await?;
        }
        let captured = match &event.collection {
            Some(c) => is_captured(
                &self.source.options.capture_scope,
                &self.source.config.filters,
                &crate::event::TableId::new(event.db.clone(), c.clone()),
            ),
            None => false,
        };
        let lsid_json = event
            .txn
            .as_ref()
            .map(|t| super::ext_json::strict_document(&t.session));
        let change = if captured {
            self.converter.stream_event(event)?
        } else {
            None
        };
        let Some(mut change) = change else {
            match &mut self.tx {
                Some(tx) => tx.last = tx.inside(point),
                None => self.idle(point),
            }
            return Ok(());
        };
        let table = change.table.id.to_string();
        let ts_us = change.source.ts_us;
        match (session, lsid_json) {
            (Some(session), Some(lsid)) => {
                let tx = self.tx.get_or_insert_with(|| OpenTx {
                    id: transaction_id(&lsid, session.1),
                    session,
                    ts_us,
                    orders: TxOrders::default(),
                    last: point.clone(),
                });
                // A skipped operation (dropped by the emitter, its position kept) takes no
                // place in the transaction's order, as in Debezium.
                let orders = if self.source.config.skipped_operations.skips(change.op) {
                    (0, 0)
                } else {
                    tx.orders.count(&table)
                };
                let id = tx.id.clone();
                change.transaction = self.batcher.transaction_info(|| id, tx.ts_us, orders);
                tx.last = tx.inside(point);
                if self.batcher.push(change, tx.last.clone()) {
                    self.flush().await?;
                }
            }
            _ => {
                self.batcher.push(change, point.clone());
                match self
                    .batcher
                    .commit(String::new, ts_us, &TxOrders::default(), point)
                {
                    Ok(true) => self.flush().await?,
                    Ok(false) => {}
                    Err(after) => self.idle(after),
                }
            }
        }
        Ok(())
    }

    /// Ends the transaction in progress: its END marker, and a hand-over if one is due.
    async fn end_transaction(&mut self) -> Result<(), MongoError> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        debug!(id = %tx.id, events = tx.orders.total, "transaction");
        let id = tx.id;
        let after = MongoPosition {
            transaction: None,
            ..tx.last
        };
        match self.batcher.commit(|| id, tx.ts_us, &tx.orders, after) {
            Ok(true) => self.flush().await?,
            Ok(false) => {}
            Err(after) => self.idle(after),
        }
        Ok(())
    }

    /// Hands what waits to the emitter (or, every `IDLE_PROGRESS_EVERY`, the progress made
    /// without captured changes); waits when the channel is full (backpressure).
    async fn flush(&mut self) -> Result<(), MongoError> {
        if !self.batcher.has_point()
            && self.last_progress.elapsed() >= IDLE_PROGRESS_EVERY
            && let Some(idle) = self.idle_point.take()
        {
            self.batcher.set_point(idle);
        }
        let sent = self
            .batcher
            .flush(self.out)
            .await
            .map_err(|_| MongoError::DownstreamClosed)?;
        if sent {
            self.idle_point = None;
            self.last_progress = Instant::now();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_tokens_round_trip_through_their_data() {
        let data = "8263F1A5B2000000012B022C0100296E5A1004B1E8F4C0A5B3";
        let token = token_from_data(data).unwrap();
        assert_eq!(data_of(&token).as_deref(), Some(data));
    }

    #[test]
    fn the_pipeline_keeps_debeziums_operations_and_puts_oversize_stages_last() {
        let p = pipeline(OversizeMode::Fail);
        assert_eq!(p.len(), 1);
        let ops = p[0]
            .get_document("$match")
            .unwrap()
            .get_document("operationType")
            .unwrap()
            .get_array("$in")
            .unwrap()
            .len();
        assert_eq!(ops, 5);
        let split = pipeline(OversizeMode::Split);
        assert!(
            split
                .last()
                .unwrap()
                .contains_key("$changeStreamSplitLargeEvent")
        );
        let skip = pipeline(OversizeMode::Skip { threshold: 1024 });
        assert!(skip[1].to_string().contains("$bsonSize"), "{}", skip[1]);
        assert!(skip[1].to_string().contains("1024"), "{}", skip[1]);
    }
}
