//! The streaming half of the reader: pgoutput messages → batches of change events, resume
//! strictly after the committed position, and acknowledgement of committed positions.

use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use tokio::sync::watch;
use tokio_postgres::Client;
use tracing::{debug, trace, warn};

use super::ack::{AckInputs, choose_ack};
use super::catalog::{CustomTypes, table_by_oid};
use super::convert::{self, ChangeContext};
use super::error::{PgError, format_lsn};
use super::pgoutput::{
    self, DecodeContext, PgOutputMessage, Relation, pg_epoch_micros_to_unix_micros,
};
use super::relations::{RelationCache, WireColumn, build_table, catalog_from_relation};
use crate::config::ConnectorConfig;
use crate::event::{ChangeEvent, Op, TxOrders};
use crate::offsets::{PgPosition, Position};
use crate::source::{BatchSender, Batcher, sleep_until};

/// What a change in a transaction is of.
enum Subject {
    /// A change of this operation to this relation.
    Relation(u32, Op),
    Message,
}

/// The transaction being received.
struct OpenTx {
    xid: u32,
    commit_lsn: u64,
    commit_ts_us: i64,
    /// The committed position inside this transaction (a restart split it): the changes it
    /// covers were emitted already, skip them.
    skip_through: Option<PgPosition>,
    /// The whole transaction was committed before: drop it.
    skip_all: bool,
    /// Captured changes so far, counting skipped ones, so the transaction block's orders
    /// stay the same across a restart inside the transaction.
    orders: TxOrders,
    /// The LSN of the latest change and how many changes of this transaction had it (one WAL
    /// record can decode into many changes: COPY's multi-insert).
    lsn_run: (u64, u64),
}

impl OpenTx {
    /// Debezium's PostgreSQL transaction id: `<xid>:<commit LSN>`.
    fn id(&self) -> String {
        format!("{}:{}", self.xid, self.commit_lsn)
    }

    /// Counts a change at `lsn`: its 1-based index among this transaction's changes at `lsn`.
    fn index_at(&mut self, lsn: u64) -> u64 {
        if self.lsn_run.0 == lsn {
            self.lsn_run.1 += 1;
        } else {
            self.lsn_run = (lsn, 1);
        }
        self.lsn_run.1
    }
}

/// State of one streaming session.
pub struct Streamer<'a> {
    config: &'a ConnectorConfig,
    db: String,
    sql: &'a Client,
    relations: RelationCache,
    custom: CustomTypes,
    resume: Option<PgPosition>,
    out: &'a mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    /// While a batch handed over (in this session or an earlier one of the same run) is not
    /// committed, nothing beyond the committed position may be confirmed.
    batcher: Batcher<PgPosition>,
    last_acked: u64,
    last_commit_lsn: Option<u64>,
    tx: Option<OpenTx>,
    wal_end: Option<u64>,
}

impl<'a> Streamer<'a> {
    pub fn new(
        config: &'a ConnectorConfig,
        db: String,
        sql: &'a Client,
        resume: Option<PgPosition>,
        out: &'a mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
    ) -> Self {
        // Confirm only what is committed: `resume` may be a position that was handed over
        // but not committed yet (a reconnect resumes after what was sent).
        let last_acked = super::committed_commit_lsn(&committed);
        let batcher = Batcher::new(config, out, &committed);
        Streamer {
            config,
            db,
            sql,
            relations: RelationCache::default(),
            custom: CustomTypes::default(),
            resume,
            out,
            committed,
            batcher,
            last_acked,
            last_commit_lsn: None,
            tx: None,
            wal_end: None,
        }
    }

    /// Runs until the stream ends, fails, or the emitter goes away.
    pub async fn run(&mut self, client: &mut ReplicationClient) -> Result<(), PgError> {
        loop {
            let deadline = self.batcher.deadline();
            tokio::select! {
                event = client.recv() => {
                    match event? {
                        Some(event) => self.on_event(event).await?,
                        None => return Ok(()),
                    }
                }
                changed = self.committed.changed() => {
                    if changed.is_err() {
                        return Err(PgError::DownstreamClosed);
                    }
                    if self.batcher.on_committed(&self.committed) && self.tx.is_none() {
                        self.flush().await?;
                    }
                }
                () = sleep_until(deadline) => {
                    if self.tx.is_none() {
                        self.flush().await?;
                    }
                }
                () = self.out.closed() => return Err(PgError::DownstreamClosed),
            }
            self.ack(client);
        }
    }

    fn ack(&mut self, client: &ReplicationClient) {
        let committed = match &*self.committed.borrow() {
            Some(Position::Postgres(p)) => Some(p.commit_lsn),
            _ => None,
        };
        let inputs = AckInputs {
            committed,
            in_flight: self.batcher.is_in_flight(),
            in_transaction: self.tx.is_some(),
            pending_events: !self.batcher.is_empty(),
            server_wal_end: self.wal_end,
            last_acked: self.last_acked,
        };
        let ack = choose_ack(&inputs);
        if ack > self.last_acked {
            trace!(lsn = %format_lsn(ack), "confirming flush");
            client.update_applied_lsn(Lsn(ack));
            self.last_acked = ack;
        }
    }

    async fn on_event(&mut self, event: ReplicationEvent) -> Result<(), PgError> {
        match event {
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                self.wal_end = Some(wal_end.0);
            }
            ReplicationEvent::Begin {
                final_lsn,
                xid,
                commit_time_micros,
            } => {
                let commit_lsn = final_lsn.0;
                let (skip_all, skip_through) = match &self.resume {
                    Some(r) if commit_lsn < r.commit_lsn => (true, None),
                    Some(r) if commit_lsn == r.commit_lsn && r.is_transaction_complete() => {
                        (true, None)
                    }
                    Some(r) if commit_lsn == r.commit_lsn => (false, Some(r.clone())),
                    _ => (false, None),
                };
                self.tx = Some(OpenTx {
                    xid,
                    commit_lsn,
                    commit_ts_us: pg_epoch_micros_to_unix_micros(commit_time_micros),
                    skip_through,
                    skip_all,
                    orders: TxOrders::default(),
                    lsn_run: (0, 0),
                });
            }
            ReplicationEvent::Commit { lsn, .. } => {
                let tx = self.tx.take();
                let commit_lsn = tx.as_ref().map_or(lsn.0, |t| t.commit_lsn);
                self.last_commit_lsn = Some(commit_lsn);
                let Some(tx) = tx.filter(|t| !t.skip_all) else {
                    return Ok(());
                };
                let after = PgPosition::after_commit(commit_lsn);
                let due = self
                    .batcher
                    .commit(|| tx.id(), tx.commit_ts_us, &tx.orders, after);
                if due == Ok(true) {
                    self.flush().await?;
                }
            }
            ReplicationEvent::XLogData {
                wal_start, data, ..
            } => {
                let ctx = DecodeContext {
                    protocol_version: 1,
                    in_stream: false,
                };
                let msg = pgoutput::decode(ctx, &data).map_err(|source| PgError::Decode {
                    lsn: format_lsn(wal_start.0),
                    source,
                })?;
                self.on_message(wal_start.0, msg).await?;
            }
            ReplicationEvent::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => {
                self.on_logical_message(transactional, lsn.0, prefix, content.to_vec())
                    .await?;
            }
            ReplicationEvent::StoppedAt { .. } => {}
        }
        Ok(())
    }

    async fn on_message(&mut self, lsn: u64, msg: PgOutputMessage) -> Result<(), PgError> {
        match msg {
            PgOutputMessage::Relation(rel) => self.on_relation(rel).await,
            PgOutputMessage::Insert { rel_id, new, .. } => {
                self.on_change(lsn, rel_id, Op::Create, |t, ctx| {
                    convert::insert(t, &new, ctx)
                })
                .await
            }
            PgOutputMessage::Update {
                rel_id, old, new, ..
            } => {
                self.on_change(lsn, rel_id, Op::Update, |t, ctx| {
                    convert::update(t, old.as_ref(), &new, ctx)
                })
                .await
            }
            PgOutputMessage::Delete { rel_id, old, .. } => {
                self.on_change(lsn, rel_id, Op::Delete, |t, ctx| {
                    convert::delete(t, &old, ctx)
                })
                .await
            }
            // Skipped here, not only by the emitter, so a skipped truncate takes no place in
            // the transaction's event order (as in Debezium).
            PgOutputMessage::Truncate { rel_ids, .. } => {
                if self.config.skipped_operations.skips(Op::Truncate) {
                    return Ok(());
                }
                for rel_id in rel_ids {
                    self.on_change(lsn, rel_id, Op::Truncate, |t, ctx| {
                        Ok(convert::truncate(t, ctx))
                    })
                    .await?;
                }
                Ok(())
            }
            PgOutputMessage::Type { .. } | PgOutputMessage::Origin { .. } => Ok(()),
            other => Err(PgError::Protocol(format!(
                "unexpected message at {}: {other:?}",
                format_lsn(lsn)
            ))),
        }
    }

    async fn on_relation(&mut self, rel: Relation) -> Result<(), PgError> {
        let id = crate::event::TableId::new(&rel.namespace, &rel.name);
        if !self.config.filters.includes_table(&id) {
            self.relations.insert(rel.rel_id, None);
            return Ok(());
        }
        let wire = WireColumn::of_relation(&rel);
        let oids: Vec<u32> = wire.iter().map(|c| c.type_oid).collect();
        self.custom.load(self.sql, &oids).await?;
        // The catalog is read now, the Relation message is as of the change: a table renamed
        // since keeps the message's name (the facts of its OID still apply), and one dropped
        // since is described by the message alone, so its changes are still delivered.
        let catalog = match table_by_oid(self.sql, rel.rel_id).await? {
            Some(mut current) => {
                current.schema.clone_from(&rel.namespace);
                current.name.clone_from(&rel.name);
                current
            }
            None => {
                warn!(table = %id, rel_id = rel.rel_id, "table is no longer in the catalog; using the relation message's columns");
                catalog_from_relation(&rel)
            }
        };
        let custom = &self.custom;
        let state = build_table(
            &wire,
            &catalog,
            &self.config.filters,
            &|oid| custom.get(oid),
            self.relations.previous_schema(rel.rel_id),
            self.config.source.include_unknown_datatypes(),
        )?;
        debug!(table = %id, version = state.schema.version, "relation");
        self.relations.insert(rel.rel_id, Some(state));
        Ok(())
    }

    async fn on_change<F>(&mut self, lsn: u64, rel_id: u32, op: Op, make: F) -> Result<(), PgError>
    where
        F: FnOnce(
            &super::relations::TableState,
            &ChangeContext<'_>,
        ) -> Result<ChangeEvent, PgError>,
    {
        self.in_transaction(
            lsn,
            Subject::Relation(rel_id, op),
            |table, ctx| match table {
                Some(t) => make(t, ctx),
                None => Err(PgError::Protocol("a change without its relation".into())),
            },
        )
        .await
    }

    /// Places one change (of a relation, or a logical decoding message) in the open
    /// transaction: its order, the skip of what a restart inside the transaction already
    /// delivered, its metadata and its position.
    async fn in_transaction<F>(
        &mut self,
        lsn: u64,
        subject: Subject,
        make: F,
    ) -> Result<(), PgError>
    where
        F: FnOnce(
            Option<&super::relations::TableState>,
            &ChangeContext<'_>,
        ) -> Result<ChangeEvent, PgError>,
    {
        let Some(tx) = &mut self.tx else {
            return Err(PgError::Protocol(format!(
                "change at {} outside a transaction",
                format_lsn(lsn)
            )));
        };
        if tx.skip_all {
            return Ok(());
        }
        // Counted before the relation is looked at, so filtered changes count too and the
        // index of a change does not depend on the connector's filters.
        let index = tx.index_at(lsn);
        let (table, collection) = match subject {
            // A skipped operation takes no place in the transaction's order, as in Debezium
            // (whose transaction monitor counts only the events it dispatches).
            Subject::Relation(_, op) if self.config.skipped_operations.skips(op) => {
                return Ok(());
            }
            Subject::Relation(rel_id, _) => match self.relations.get(rel_id) {
                Some(Some(t)) => (Some(t), t.schema.id.to_string()),
                Some(None) => return Ok(()),
                None => {
                    return Err(PgError::Protocol(format!(
                        "change for unknown relation {rel_id} at {}",
                        format_lsn(lsn)
                    )));
                }
            },
            // Debezium's data collection for messages.
            Subject::Message => (None, "LOGICAL_DECODING_MESSAGE".to_owned()),
        };
        let (total_order, table_order) = tx.orders.count(&collection);
        if tx
            .skip_through
            .as_ref()
            .is_some_and(|s| s.covers_change(lsn, index))
        {
            return Ok(());
        }
        let metadata =
            self.batcher
                .transaction_info(|| tx.id(), tx.commit_ts_us, (total_order, table_order));
        let ctx = ChangeContext {
            db: &self.db,
            commit_ts_us: tx.commit_ts_us,
            xid: tx.xid,
            lsn,
            last_commit_lsn: self.last_commit_lsn,
        };
        let mut event = make(table, &ctx)?;
        event.transaction = metadata;
        let point = PgPosition {
            commit_lsn: tx.commit_lsn,
            lsn,
            lsn_index: Some(index),
            snapshot: None,
        };
        if self.batcher.push(event, point) {
            self.flush().await?;
        }
        Ok(())
    }

    /// A logical decoding message (Debezium's `op: m`, to `<prefix>.message`). One inside a
    /// transaction takes its place in it like a change; one outside is its own unit,
    /// positioned at its LSN (the server decodes it where it lies in the WAL, between the
    /// commits around it).
    async fn on_logical_message(
        &mut self,
        transactional: bool,
        lsn: u64,
        prefix: String,
        content: Vec<u8>,
    ) -> Result<(), PgError> {
        if !self.config.filters.includes_message_prefix(&prefix) {
            return Ok(());
        }
        if transactional {
            return self
                .in_transaction(lsn, Subject::Message, |_, ctx| {
                    Ok(convert::logical_message(
                        prefix,
                        content,
                        Some(ctx.xid),
                        ctx,
                    ))
                })
                .await;
        }
        if self.resume.as_ref().is_some_and(|r| lsn <= r.commit_lsn) {
            return Ok(());
        }
        let ctx = ChangeContext {
            db: &self.db,
            commit_ts_us: chrono::Utc::now().timestamp_micros(),
            xid: 0,
            lsn,
            last_commit_lsn: self.last_commit_lsn,
        };
        let event = convert::logical_message(prefix, content, None, &ctx);
        let ts = ctx.commit_ts_us;
        let after = PgPosition::after_commit(lsn);
        self.batcher.push(event, after.clone());
        let due = self
            .batcher
            .commit(String::new, ts, &TxOrders::default(), after);
        if due == Ok(true) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Hands the batch to the emitter; waits when the channel is full (backpressure).
    async fn flush(&mut self) -> Result<(), PgError> {
        self.batcher
            .flush(self.out)
            .await
            .map_err(|_| PgError::DownstreamClosed)?;
        Ok(())
    }
}
