//! The initial snapshot: every captured table read inside one snapshot (the slot's exported
//! snapshot when the slot is new), in primary-key order, chunk by chunk, as op "r" events.
//! Each chunk is a batch whose position records the last key read, so a restart resumes from
//! the last committed chunk.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use tokio_postgres::{Client, SimpleQueryMessage};
use tracing::info;

use super::catalog::{CatalogTable, CustomTypes, table_by_oid, table_oid};
use super::error::PgError;
use super::relations::{TableState, WireColumn, build_table};
use super::setup::quote_ident;
use super::types::parse_text;
use crate::config::ConnectorConfig;
use crate::event::{
    ChangeEvent, Op, Row, SnapshotMarker, SourceDetails, SourceInfo, TableId, Value,
};
use crate::offsets::{PgPosition, Position, SnapshotProgress};
use crate::source::{
    BatchSender, SnapshotRun, TableChunks, TableProbe, finish_snapshot, read_table, tables_to_read,
};

impl TableProbe for &Client {
    type Error = PgError;
    async fn has_rows(&mut self, t: &TableId) -> Result<bool, PgError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{})",
            quote_ident(&t.namespace),
            quote_ident(&t.name)
        );
        Ok(self
            .query_one(&sql, &[])
            .await
            .map_err(q("snapshot table check"))?
            .get(0))
    }
}

fn q(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> PgError {
    move |source| PgError::Query { context, source }
}

/// Opens the snapshot transaction; with `exported`, it sees exactly what the slot's
/// consistent point follows.
pub async fn begin(client: &Client, exported: Option<&str>) -> Result<(), PgError> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(q("snapshot BEGIN"))?;
    if let Some(name) = exported {
        client
            .batch_execute(&format!(
                "SET TRANSACTION SNAPSHOT '{}'",
                name.replace('\'', "''")
            ))
            .await
            .map_err(q("SET TRANSACTION SNAPSHOT"))?;
    }
    Ok(())
}

/// Reads `tables` and sends their rows; returns the position after the snapshot.
/// `stream_point` is the commit LSN below which the slot delivers nothing (its consistent
/// point minus one): the snapshot's rows stand for everything committed before it.
pub async fn run(
    client: &Client,
    config: &ConnectorConfig,
    db: &str,
    tables: &[TableId],
    resume: Option<SnapshotProgress>,
    stream_point: u64,
    out: &mut BatchSender,
) -> Result<PgPosition, PgError> {
    let mut progress = resume.unwrap_or_default();
    let mut custom = CustomTypes::default();
    let ts_us = chrono::Utc::now().timestamp_micros();
    let (todo, last_with_rows) = tables_to_read(&mut &*client, tables, &progress).await?;
    let first_overall = progress.rows_done == 0;
    let position = |p: &SnapshotProgress| {
        Position::Postgres(PgPosition {
            commit_lsn: stream_point,
            lsn: stream_point,
            lsn_index: None,
            snapshot: Some(p.clone()),
        })
    };
    let mut run = SnapshotRun {
        progress: &mut progress,
        first_overall,
    };
    for (index, table_id) in todo.iter().enumerate() {
        let last_table = Some(index) == last_with_rows;
        let Some(oid) = table_oid(client, &table_id.namespace, &table_id.name).await? else {
            continue;
        };
        let Some(catalog) = table_by_oid(client, oid).await? else {
            continue;
        };
        let wire: Vec<WireColumn> = catalog
            .columns
            .iter()
            .map(|c| WireColumn {
                name: c.name.clone(),
                type_oid: c.type_oid,
                typmod: c.typmod,
            })
            .collect();
        let oids: Vec<u32> = wire.iter().map(|c| c.type_oid).collect();
        custom.load(client, &oids).await?;
        let state = build_table(
            &wire,
            &catalog,
            &config.filters,
            &|o| custom.get(o),
            None,
            config.source.include_unknown_datatypes(),
        )?;
        let resume_key = match &run.progress.current_table {
            Some(t) if *t == table_id.to_string() => run.progress.last_key.as_ref().map(|k| {
                k.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<String>>()
            }),
            _ => None,
        };
        info!(table = %table_id, resumed = resume_key.is_some(), "snapshot of table");
        let mut reader = TableReader {
            client,
            catalog: &catalog,
            state: &state,
            chunk: config.snapshot_fetch_size as usize,
            chunk_bytes: 0,
            cursor_open: std::sync::atomic::AtomicBool::new(false),
            db,
            ts_us,
            lsn: stream_point,
        };
        read_table(
            &mut reader,
            table_id,
            resume_key,
            last_table,
            &mut run,
            &position,
            out,
        )
        .await?;
    }
    client
        .batch_execute("COMMIT")
        .await
        .map_err(q("snapshot COMMIT"))?;
    let done = PgPosition::after_commit(stream_point);
    finish_snapshot::<PgError>(out, Position::Postgres(done.clone())).await?;
    Ok(done)
}

fn read_event(
    state: &TableState,
    row: Row,
    marker: SnapshotMarker,
    db: &str,
    ts_us: i64,
    lsn: u64,
) -> ChangeEvent {
    ChangeEvent {
        op: Op::Read,
        table: Arc::clone(&state.schema),
        before: None,
        after: Some(row),
        source: SourceInfo {
            ts_us,
            snapshot: marker,
            db: db.to_owned(),
            details: SourceDetails::Postgres {
                tx_id: None,
                lsn: Some(lsn),
                xmin: None,
                last_commit_lsn: None,
            },
        },
        transaction: None,
        document: None,
    }
}

/// Reads one table chunk by chunk, in primary-key order.
struct TableReader<'a> {
    client: &'a Client,
    catalog: &'a CatalogTable,
    state: &'a TableState,
    chunk: usize,
    /// A keyed chunk ends once its rows' text holds this many bytes (0: never early).
    chunk_bytes: u64,
    /// Tables without a primary key are read through a cursor, opened on the first chunk.
    cursor_open: std::sync::atomic::AtomicBool,
    db: &'a str,
    ts_us: i64,
    /// The LSN the snapshot's events carry (the stream point).
    lsn: u64,
}

impl TableChunks for TableReader<'_> {
    type Item = Row;
    type Key = Vec<String>;
    type Error = PgError;

    fn chunk_rows(&self) -> usize {
        self.chunk
    }

    fn set_chunk_limits(&mut self, rows: usize, bytes: u64) {
        self.chunk = rows;
        self.chunk_bytes = bytes;
    }

    async fn chunk(
        &mut self,
        after: Option<&Vec<String>>,
    ) -> Result<(Vec<ReadRow>, bool), PgError> {
        self.read_chunk(after.map(Vec::as_slice)).await
    }

    fn event(&self, row: Row, marker: SnapshotMarker) -> Result<ChangeEvent, PgError> {
        Ok(read_event(
            self.state, row, marker, self.db, self.ts_us, self.lsn,
        ))
    }

    fn key_to_json(key: &Vec<String>) -> Vec<serde_json::Value> {
        key.iter().cloned().map(serde_json::Value::String).collect()
    }
}

/// A row and the text of its key columns (the next chunk starts after it).
type ReadRow = (Row, Option<Vec<String>>);

impl TableReader<'_> {
    /// Up to `chunk` rows after `after`; `true` when more remain.
    async fn read_chunk(&self, after: Option<&[String]>) -> Result<(Vec<ReadRow>, bool), PgError> {
        let columns: Vec<&str> = self
            .state
            .wire_to_schema
            .iter()
            .zip(&self.catalog.columns)
            .filter(|(target, _)| target.is_some())
            .map(|(_, c)| c.name.as_str())
            .collect();
        let key = &self.catalog.primary_key;
        let table = format!(
            "{}.{}",
            quote_ident(&self.catalog.schema),
            quote_ident(&self.catalog.name)
        );
        let select: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let key_cols: Vec<String> = key.iter().map(|c| quote_ident(c)).collect();
        let mut sql = format!(
            "SELECT {} , {} FROM {table}",
            select.join(", "),
            if key_cols.is_empty() {
                "NULL".to_owned()
            } else {
                key_cols.join(", ")
            }
        );
        if key.is_empty() {
            // No key to page by: a scrollable cursor in the snapshot transaction keeps memory
            // bounded (a scroll cursor, so the look-ahead row can be given back).
            if !self.cursor_open.load(Ordering::Relaxed) {
                self.client
                    .batch_execute(&format!("DECLARE siphon_snapshot SCROLL CURSOR FOR {sql}"))
                    .await
                    .map_err(q("snapshot cursor"))?;
                self.cursor_open.store(true, Ordering::Relaxed);
            }
            sql = format!("FETCH FORWARD {} FROM siphon_snapshot", self.chunk + 1);
        } else {
            if let Some(after) = after {
                let literals: Vec<String> = after
                    .iter()
                    .zip(key)
                    .map(|(v, k)| {
                        let ty = self
                            .catalog
                            .columns
                            .iter()
                            .find(|c| &c.name == k)
                            .map_or("text", |c| c.type_text.as_str());
                        format!("'{}'::{ty}", v.replace('\'', "''"))
                    })
                    .collect();
                sql.push_str(&format!(
                    " WHERE ({}) > ({})",
                    key_cols.join(", "),
                    literals.join(", ")
                ));
            }
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                key_cols.join(", "),
                self.chunk + 1
            ));
        }
        // Streamed, so a keyed chunk of big rows can end at its byte limit (the rest of the
        // answer is read and dropped by the connection), with one row of look-ahead to tell
        // whether more follow.
        let stream = self
            .client
            .simple_query_raw(&sql)
            .await
            .map_err(q("snapshot read"))?;
        futures::pin_mut!(stream);
        let mut rows = Vec::new();
        let mut bytes = 0u64;
        let mut ended_early = None;
        while let Some(message) = stream.next().await {
            let SimpleQueryMessage::Row(r) = message.map_err(q("snapshot read"))? else {
                continue;
            };
            if ended_early.is_some() {
                // The look-ahead: more rows follow the early end.
                ended_early = Some(true);
                break;
            }
            let mut values = Vec::with_capacity(columns.len());
            // The selected columns are the schema's, in schema order.
            for (i, (name, ty)) in columns.iter().zip(&self.state.types).enumerate() {
                let value = match r.get(i) {
                    None => Value::Null,
                    Some(text) => {
                        bytes += text.len() as u64;
                        parse_text(ty, text).map_err(|source| PgError::Value {
                            table: self.state.schema.id.to_string(),
                            column: (*name).to_owned(),
                            source,
                        })?
                    }
                };
                values.push(value);
            }
            let key_text = (!key.is_empty()).then(|| {
                (0..key.len())
                    .map(|k| r.get(columns.len() + k).unwrap_or_default().to_owned())
                    .collect()
            });
            rows.push((Row(values), key_text));
            if !key.is_empty()
                && self.chunk_bytes > 0
                && bytes >= self.chunk_bytes
                && rows.len() < self.chunk
            {
                ended_early = Some(false);
            }
        }
        if let Some(more) = ended_early {
            return Ok((rows, more));
        }
        let more = rows.len() > self.chunk;
        rows.truncate(self.chunk);
        if key.is_empty() {
            if more {
                self.client
                    .batch_execute("MOVE BACKWARD 1 FROM siphon_snapshot")
                    .await
                    .map_err(q("snapshot cursor"))?;
            } else {
                self.client
                    .batch_execute("CLOSE siphon_snapshot")
                    .await
                    .map_err(q("snapshot cursor"))?;
                self.cursor_open.store(false, Ordering::Relaxed);
            }
        }
        Ok((rows, more))
    }
}
