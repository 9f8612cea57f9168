//! `TRUNCATE TABLE` of a captured table, from the binlog's QUERY event: Debezium's truncate
//! event (`op: t`, no rows, a null key), unless `skipped.operations` lists `t` (the
//! default). Skipped here, not only by the emitter, so a skipped truncate takes no place in
//! the transaction's event order (as for PostgreSQL).

use std::sync::Arc;

use super::{Gtid, Streamer};
use crate::event::{ChangeEvent, Op, SnapshotMarker, SourceDetails, SourceInfo, TableId};
use crate::mysql_binlog::error::MySqlError;
use crate::mysql_binlog::schema::TableState;
use crate::mysql_binlog::setup;
use crate::mysql_binlog::statement::Target;
use crate::offsets::MySqlPosition;

/// Where a QUERY event is: its position, server id, timestamp and thread.
pub(super) struct QueryAt {
    pub start_pos: u64,
    pub server_id: u32,
    pub timestamp: u32,
    pub thread: u32,
}

impl Streamer<'_> {
    /// Hands over the truncate event of `target` when it is a captured table; the caller
    /// has opened the statement's transaction.
    pub(super) async fn on_truncate(
        &mut self,
        default_db: &str,
        target: Target,
        at: QueryAt,
    ) -> Result<(), MySqlError> {
        let Target::Table { database, table } = target else {
            return Ok(());
        };
        let id = TableId::new(database.unwrap_or_else(|| default_db.to_owned()), table);
        if self.config.skipped_operations.skips(Op::Truncate)
            || !setup::is_captured(&self.config.filters, &id)
        {
            return Ok(());
        }
        let schema = match self.schemas.get(&id) {
            Some(s) => Arc::clone(s),
            // Not seen since the reader started: the table as it is now (a TRUNCATE does
            // not change its columns).
            None => {
                let Some(info) = setup::load_table(&mut self.sql, &id, self.server.mariadb).await?
                else {
                    return Ok(());
                };
                let state = TableState::build(
                    &id,
                    info.columns,
                    &info.primary_key,
                    self.config,
                    self.options,
                    None,
                )?;
                self.schemas.insert(id.clone(), Arc::clone(&state.schema));
                state.schema
            }
        };
        let Some(tx) = &mut self.tx else {
            return Ok(());
        };
        let event_index = tx.rows_events;
        tx.rows_events += 1;
        let orders = tx.orders.count(&id.to_string());
        if let Some((se, sr)) = tx.skip
            && (event_index < se || (event_index == se && sr > 0))
        {
            return Ok(());
        }
        let transaction = self.batcher.transaction_info(|| tx.id(), tx.ts_us, orders);
        let event = ChangeEvent {
            op: Op::Truncate,
            table: schema,
            before: None,
            after: None,
            source: SourceInfo {
                ts_us: i64::from(at.timestamp) * 1_000_000,
                snapshot: SnapshotMarker::False,
                db: id.namespace.clone(),
                details: SourceDetails::MySql {
                    server_id: u64::from(at.server_id),
                    gtid: tx.gtid.as_ref().map(Gtid::text),
                    file: self.file.clone(),
                    pos: at.start_pos,
                    row: 0,
                    thread: Some(u64::from(at.thread)),
                    query: None,
                },
            },
            transaction,
            document: None,
        };
        let point = MySqlPosition {
            file: tx.start_file.clone(),
            pos: tx.start_pos,
            skip_events: event_index,
            skip_rows: 1,
            gtids: self.gtid_set.clone(),
            mariadb_gtids: self.maria_state.clone(),
            snapshot: None,
        };
        if self.batcher.push(event, point) {
            self.flush().await?;
        }
        Ok(())
    }
}
