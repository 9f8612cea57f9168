//! The initial snapshot: a consistent-snapshot transaction whose binlog position is read
//! while it is exact (under `FLUSH TABLES WITH READ LOCK` for as short as possible, or from
//! MariaDB's `binlog_snapshot_*` status without any lock), then every captured table in
//! primary-key order, chunk by chunk, as op "r" events. Each chunk is a batch whose position
//! records the last key read, so a restart resumes after the last committed chunk.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row as MyRow, Value as My};
use serde_json::json;
use tracing::{info, warn};

use super::error::MySqlError;
use super::lock;
use super::schema::TableState;
use super::setup::{self, ServerInfo, quote_ident};
use super::value::{Origin, convert};
use crate::config::{MySqlOptions, SnapshotLocking};
use crate::event::{ChangeEvent, Op, Row, SnapshotMarker, SourceDetails, SourceInfo, TableId};
use crate::offsets::{MySqlPosition, Position, SnapshotProgress};
use crate::source::{
    BatchSender, SnapshotRun, TableChunks, TableProbe, finish_snapshot, read_table, tables_to_read,
};

impl TableProbe for Conn {
    type Error = MySqlError;
    async fn has_rows(&mut self, t: &TableId) -> Result<bool, MySqlError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.{})",
            quote_ident(&t.namespace),
            quote_ident(&t.name)
        );
        let has_rows: Option<bool> = self
            .query_first(sql)
            .await
            .map_err(q("snapshot table check"))?;
        Ok(has_rows == Some(true))
    }
}

fn q(context: &'static str) -> impl FnOnce(mysql_async::Error) -> MySqlError {
    move |source| MySqlError::Query { context, source }
}

/// Opens the snapshot transaction on `conn` and returns the binlog position it matches, and
/// whether the global read lock is still held (`extended`: [`run`] releases it).
pub async fn begin(
    conn: &mut Conn,
    server: &ServerInfo,
    options: &MySqlOptions,
) -> Result<((String, u64, Option<String>), bool), MySqlError> {
    let lock = lock::takes_lock(options.snapshot_locking, server);
    if lock {
        lock::acquire(conn, options.snapshot_lock_timeout).await?;
    }
    let result = begin_locked(conn, server, lock).await;
    let extended = options.snapshot_locking == SnapshotLocking::Extended;
    if lock && (!extended || result.is_err()) {
        // Released as soon as the position and the snapshot are both taken.
        conn.query_drop("UNLOCK TABLES")
            .await
            .map_err(q("UNLOCK TABLES"))?;
    }
    Ok((result?, lock && extended))
}

async fn begin_locked(
    conn: &mut Conn,
    server: &ServerInfo,
    global_lock: bool,
) -> Result<(String, u64, Option<String>), MySqlError> {
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(q("snapshot isolation"))?;
    if server.mariadb {
        conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            .await
            .map_err(q("START TRANSACTION WITH CONSISTENT SNAPSHOT"))?;
        // MariaDB reports the binlog position its consistent snapshot matches, lock or not.
        let rows: Vec<(String, String)> = conn
            .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
            .await
            .map_err(q("binlog_snapshot status"))?;
        let get = |name: &str| {
            rows.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let file = get("Binlog_snapshot_file").unwrap_or_default();
        let pos: u64 = get("Binlog_snapshot_position")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if file.is_empty() {
            return Err(MySqlError::Settings(vec![
                "the server reports no binlog snapshot position: log_bin is OFF".into(),
            ]));
        }
        let gtids = setup::gtid_pos(conn, &file, pos).await?;
        return Ok((file, pos, gtids));
    }
    let end = setup::binlog_end(conn, server).await?;
    if !global_lock {
        // Only `none` reaches here on MySQL.
        warn!(
            "snapshot.locking.mode=none on MySQL: writes between reading the binlog position and starting the snapshot may be delivered twice"
        );
    }
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .await
        .map_err(q("START TRANSACTION WITH CONSISTENT SNAPSHOT"))?;
    Ok(end)
}

/// Reads `tables` and sends their rows; returns the position after the snapshot.
/// `point` is where streaming continues (the snapshot stands for everything before it);
/// `locked`: the global read lock is held until the tables are read.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    conn: &mut Conn,
    source: super::MySqlSource<'_>,
    server: &ServerInfo,
    tables: &[TableId],
    resume: Option<SnapshotProgress>,
    point: MySqlPosition,
    locked: bool,
    out: &mut BatchSender,
) -> Result<MySqlPosition, MySqlError> {
    let config = source.config;
    let mut progress = resume.unwrap_or_default();
    let ts_us = chrono::Utc::now().timestamp_micros();
    // Debezium's snapshot records carry server_id 0: they come from no binlog event.
    let server_id = 0;
    let (todo, last_with_rows) = tables_to_read(&mut *conn, tables, &progress).await?;
    let first_overall = progress.rows_done == 0;
    let snapshot_point = point.clone();
    let position = |p: &SnapshotProgress| {
        Position::Mysql(MySqlPosition {
            snapshot: Some(p.clone()),
            ..snapshot_point.clone()
        })
    };
    let mut run = SnapshotRun {
        progress: &mut progress,
        first_overall,
    };
    for (index, table_id) in todo.iter().enumerate() {
        let last_table = Some(index) == last_with_rows;
        let Some(info) = setup::load_table(conn, table_id, server.mariadb).await? else {
            continue;
        };
        let state = TableState::build(
            table_id,
            info.columns,
            &info.primary_key,
            config,
            source.options,
            None,
        )?;
        let resume_key = match &run.progress.current_table {
            Some(t) if *t == table_id.to_string() && !info.primary_key.is_empty() => run
                .progress
                .last_key
                .as_ref()
                .and_then(|k| k.iter().map(key_from_json).collect::<Option<Vec<My>>>()),
            _ => None,
        };
        info!(table = %table_id, resumed = resume_key.is_some(), "snapshot of table");
        let mut reader = TableReader {
            conn: &mut *conn,
            table: table_id,
            state: &state,
            key: &info.primary_key,
            chunk: config.snapshot_fetch_size.max(1) as usize,
            offset: 0,
            precise: source.options.bigint_unsigned_precise,
            ts_us,
            server_id,
            point: &point,
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
    if locked {
        conn.query_drop("UNLOCK TABLES")
            .await
            .map_err(q("UNLOCK TABLES"))?;
    }
    conn.query_drop("COMMIT")
        .await
        .map_err(q("snapshot COMMIT"))?;
    finish_snapshot::<MySqlError>(out, Position::Mysql(point.clone())).await?;
    Ok(point)
}

fn read_event(
    state: &TableState,
    row: Row,
    marker: SnapshotMarker,
    ts_us: i64,
    server_id: u64,
    point: &MySqlPosition,
) -> ChangeEvent {
    ChangeEvent {
        op: Op::Read,
        table: Arc::clone(&state.schema),
        before: None,
        after: Some(row),
        source: SourceInfo {
            ts_us,
            snapshot: marker,
            db: state.schema.id.namespace.clone(),
            details: SourceDetails::MySql {
                server_id,
                gtid: None,
                file: point.file.clone(),
                pos: point.pos,
                row: 0,
                thread: None,
                query: None,
            },
        },
        transaction: None,
        document: None,
    }
}

/// Reads one table chunk by chunk: after the last key in primary-key order, or by offset in
/// the snapshot transaction when the table has no key.
struct TableReader<'a> {
    conn: &'a mut Conn,
    table: &'a TableId,
    state: &'a TableState,
    key: &'a [usize],
    chunk: usize,
    offset: u64,
    precise: bool,
    ts_us: i64,
    server_id: u64,
    /// Where streaming continues: the snapshot's events carry it.
    point: &'a MySqlPosition,
}

impl TableChunks for TableReader<'_> {
    type Item = Row;
    type Key = Vec<My>;
    type Error = MySqlError;

    fn chunk_rows(&self) -> usize {
        self.chunk
    }

    // A chunk is read whole: the byte limit is for readers that stream a chunk's rows.
    fn set_chunk_limits(&mut self, rows: usize, _bytes: u64) {
        self.chunk = rows;
    }

    async fn chunk(&mut self, after: Option<&Vec<My>>) -> Result<(Vec<ReadRow>, bool), MySqlError> {
        self.read_chunk(after.map(Vec::as_slice)).await
    }

    fn event(&self, row: Row, marker: SnapshotMarker) -> Result<ChangeEvent, MySqlError> {
        Ok(read_event(
            self.state,
            row,
            marker,
            self.ts_us,
            self.server_id,
            self.point,
        ))
    }

    fn key_to_json(key: &Vec<My>) -> Vec<serde_json::Value> {
        key.iter().map(key_to_json).collect()
    }
}

type ReadRow = (Row, Option<Vec<My>>);

impl TableReader<'_> {
    async fn read_chunk(
        &mut self,
        after: Option<&[My]>,
    ) -> Result<(Vec<ReadRow>, bool), MySqlError> {
        let names: Vec<String> = self
            .state
            .columns
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect();
        let key_names: Vec<&String> = self.key.iter().map(|&k| &names[k]).collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            names.join(", "),
            quote_ident(&self.table.namespace),
            quote_ident(&self.table.name)
        );
        let mut params: Vec<My> = Vec::new();
        if let Some(after) = after {
            // (a, b) > (x, y) spelled out, which every version's optimizer ranges on.
            let mut ors = Vec::new();
            for i in 0..key_names.len().min(after.len()) {
                let mut ands = Vec::new();
                for j in 0..i {
                    ands.push(format!("{} = ?", key_names[j]));
                    params.push(after[j].clone());
                }
                ands.push(format!("{} > ?", key_names[i]));
                params.push(after[i].clone());
                ors.push(format!("({})", ands.join(" AND ")));
            }
            sql.push_str(&format!(" WHERE {}", ors.join(" OR ")));
        }
        if key_names.is_empty() {
            // No key to page by: offsets are stable inside the snapshot transaction.
            sql.push_str(&format!(" LIMIT {} OFFSET {}", self.chunk + 1, self.offset));
        } else {
            let order: Vec<&str> = key_names.iter().map(|s| s.as_str()).collect();
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                order.join(", "),
                self.chunk + 1
            ));
        }
        let rows: Vec<MyRow> = self
            .conn
            .exec(sql, params)
            .await
            .map_err(q("snapshot read"))?;
        let more = rows.len() > self.chunk;
        let mut out = Vec::with_capacity(rows.len().min(self.chunk));
        for row in rows.into_iter().take(self.chunk) {
            let raw = row.unwrap();
            let key = (!self.key.is_empty()).then(|| {
                self.key
                    .iter()
                    .map(|&k| raw.get(k).cloned().unwrap_or(My::NULL))
                    .collect()
            });
            let mut values = Vec::with_capacity(raw.len());
            for (v, col) in raw.into_iter().zip(&self.state.columns) {
                values.push(
                    convert(v, col, Origin::Snapshot, self.precise).map_err(|source| {
                        MySqlError::Value {
                            table: self.table.to_string(),
                            column: col.name.clone(),
                            source,
                        }
                    })?,
                );
            }
            out.push((self.state.project(values), key));
        }
        self.offset += out.len() as u64;
        Ok((out, more))
    }
}

/// A key value as JSON for the offset (tagged, so it binds back as the same MySQL value).
fn key_to_json(v: &My) -> serde_json::Value {
    match v {
        My::NULL => json!(null),
        My::Int(n) => json!({ "i": n }),
        My::UInt(n) => json!({ "u": n }),
        My::Float(f) => json!({ "f": f }),
        My::Double(f) => json!({ "f": f }),
        My::Bytes(b) => json!({ "b": hex(b) }),
        My::Date(y, mo, d, h, mi, s, us) => json!({ "d": [y, mo, d, h, mi, s, us] }),
        My::Time(neg, days, h, m, s, us) => json!({ "t": [neg, days, h, m, s, us] }),
    }
}

fn key_from_json(v: &serde_json::Value) -> Option<My> {
    if v.is_null() {
        return Some(My::NULL);
    }
    let o = v.as_object()?;
    let (tag, val) = o.iter().next()?;
    let n = |i: usize| val.get(i).and_then(serde_json::Value::as_u64);
    Some(match tag.as_str() {
        "i" => My::Int(val.as_i64()?),
        "u" => My::UInt(val.as_u64()?),
        "f" => My::Double(val.as_f64()?),
        "b" => My::Bytes(unhex(val.as_str()?)?),
        "d" => My::Date(
            n(0)? as u16,
            n(1)? as u8,
            n(2)? as u8,
            n(3)? as u8,
            n(4)? as u8,
            n(5)? as u8,
            n(6)? as u32,
        ),
        "t" => My::Time(
            val.get(0)?.as_bool()?,
            n(1)? as u32,
            n(2)? as u8,
            n(3)? as u8,
            n(4)? as u8,
            n(5)? as u32,
        ),
        _ => return None,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_round_trip_through_json() {
        for v in [
            My::NULL,
            My::Int(-5),
            My::UInt(u64::MAX),
            My::Double(1.5),
            My::Bytes(vec![0, 255, 7]),
            My::Date(2024, 2, 29, 23, 59, 59, 999_999),
            My::Time(true, 34, 22, 59, 59, 0),
        ] {
            assert_eq!(key_from_json(&key_to_json(&v)), Some(v));
        }
        assert_eq!(key_from_json(&json!({"x": 1})), None);
        assert_eq!(key_from_json(&json!({"b": "abc"})), None);
    }
}
