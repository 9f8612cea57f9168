//! The streaming half of the reader: binlog events → batches of change events, resuming
//! strictly after the committed position (skipping the rows of a partly delivered
//! transaction), tracking table schemas from TABLE_MAP events and DDL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use mysql_async::Conn;
use mysql_async::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_async::prelude::Queryable;
use tokio::sync::watch;
use tracing::{debug, info};

use super::error::MySqlError;
use super::image::{Absent, Image, absent, by_column, is_blob};
use super::mariadb;
use super::schema::{TableState, with_hints};
use super::setup::{self, InfoTable, ServerInfo};
use super::statement::{self, Target};
use super::table_map::columns_of;
use super::value::from_binlog;
use crate::config::{ConnectorConfig, MySqlOptions};
use crate::event::{
    ChangeEvent, Op, Row, SnapshotMarker, SourceDetails, SourceInfo, TableId, TableSchema,
    TxOrders, Value,
};
use crate::offsets::{MariaDbGtidState, MySqlGtidSet, MySqlPosition, Position};
use crate::source::{BatchSender, Batcher, sleep_until};

mod truncate;

/// How often a position-only batch may record progress through uncaptured transactions, so
/// the stored offset never points at a binlog file the server has long purged.
const IDLE_PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// No event (not even a heartbeat) for this long means the connection is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// A transaction's GTID.
#[derive(Debug, Clone)]
enum Gtid {
    MySql { uuid: String, gno: u64 },
    Maria { domain: u32, server: u32, seq: u64 },
}

impl Gtid {
    fn text(&self) -> String {
        match self {
            Gtid::MySql { uuid, gno } => format!("{uuid}:{gno}"),
            Gtid::Maria {
                domain,
                server,
                seq,
            } => format!("{domain}-{server}-{seq}"),
        }
    }
}

/// The transaction being received.
struct OpenTx {
    start_file: String,
    start_pos: u64,
    gtid: Option<Gtid>,
    /// BEGIN was seen: the transaction ends at XID or COMMIT, not after one statement.
    begun: bool,
    /// Rows events seen so far (captured or not), which positions count.
    rows_events: u64,
    /// Events and rows delivered before a restart.
    skip: Option<(u64, u64)>,
    ts_us: i64,
    thread: Option<u64>,
    query: Option<String>,
    orders: TxOrders,
}

impl OpenTx {
    fn id(&self) -> String {
        match &self.gtid {
            Some(g) => g.text(),
            None => format!("{}:{}", self.start_file, self.start_pos),
        }
    }
}

/// A captured table's decoding state, keyed by the binlog's table id.
struct Mapped {
    tme: TableMapEvent<'static>,
    state: Option<Arc<TableState>>,
}

/// DML logged as a statement: a definite error when it writes a captured table (or one that
/// cannot be told), else nothing to deliver.
fn statement_dml(
    filters: &crate::config::Filters,
    default_db: &str,
    sql: &str,
    target: Target,
    at: String,
) -> Result<(), MySqlError> {
    let table = match target {
        Target::Table { database, table } => {
            let id = TableId::new(database.unwrap_or_else(|| default_db.to_owned()), table);
            if !setup::is_captured(filters, &id) {
                return Ok(());
            }
            format!("`{id}`")
        }
        Target::Unknown => format!("a table of database `{default_db}`"),
    };
    Err(MySqlError::StatementDml {
        table,
        at,
        statement: statement::excerpt(sql),
    })
}

pub struct Streamer<'a> {
    config: &'a ConnectorConfig,
    options: &'a MySqlOptions,
    server: ServerInfo,
    /// For `information_schema` look-ups while the binlog connection streams.
    sql: Conn,
    out: &'a mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    tables: HashMap<u64, Mapped>,
    schemas: HashMap<TableId, Arc<TableSchema>>,
    hints: HashMap<TableId, Option<InfoTable>>,
    file: String,
    gtid_set: Option<MySqlGtidSet>,
    maria_state: Option<MariaDbGtidState>,
    pending_skip: Option<(u64, u64)>,
    tx: Option<OpenTx>,
    batcher: Batcher<MySqlPosition>,
    /// The position after the last transaction with no captured change: handed over as
    /// progress every `IDLE_PROGRESS_EVERY` while nothing captured changes.
    idle_point: Option<MySqlPosition>,
    last_progress: Instant,
    /// A FORMAT_DESCRIPTION event was seen on this connection.
    seen_format: bool,
    /// MariaDB statement texts by position, in one binlog file, read up to a position.
    annotations: (String, std::collections::BTreeMap<u64, String>, u64),
}

impl<'a> Streamer<'a> {
    pub fn new(
        source: super::MySqlSource<'a>,
        server: ServerInfo,
        sql: Conn,
        resume: &MySqlPosition,
        out: &'a mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
    ) -> Self {
        let skip = (resume.skip_events, resume.skip_rows);
        let batcher = Batcher::new(source.config, out, &committed);
        Streamer {
            config: source.config,
            options: source.options,
            server,
            sql,
            out,
            committed,
            tables: HashMap::new(),
            schemas: HashMap::new(),
            hints: HashMap::new(),
            file: resume.file.clone(),
            gtid_set: resume.gtids.clone(),
            maria_state: resume.mariadb_gtids.clone(),
            pending_skip: (skip != (0, 0)).then_some(skip),
            tx: None,
            batcher,
            idle_point: None,
            last_progress: Instant::now(),
            seen_format: false,
            annotations: Default::default(),
        }
    }

    /// Runs until the stream ends, fails, or the emitter goes away.
    pub async fn run(&mut self, stream: &mut mysql_async::BinlogStream) -> Result<(), MySqlError> {
        let mut last_event = Instant::now();
        loop {
            let deadline = self.batcher.deadline();
            tokio::select! {
                event = stream.next() => {
                    match event {
                        Some(Ok(event)) => self.on_event(event).await?,
                        Some(Err(e)) => {
                            return Err(MySqlError::from_stream(e, &self.file, self.options.server_id));
                        }
                        None => return Err(MySqlError::Stream(mysql_async::Error::Driver(
                            mysql_async::DriverError::ConnectionClosed,
                        ))),
                    }
                    // After handling, which may have waited for the emitter (backpressure).
                    last_event = Instant::now();
                }
                changed = self.committed.changed() => {
                    if changed.is_err() {
                        return Err(MySqlError::DownstreamClosed);
                    }
                    if self.batcher.on_committed(&self.committed)
                        && self.tx.is_none()
                        && self.batcher.has_point()
                    {
                        self.flush().await?;
                        last_event = Instant::now();
                    }
                }
                () = sleep_until(deadline) => {
                    if self.tx.is_none() {
                        self.flush().await?;
                    }
                    // Time spent waiting for the emitter is not the server's silence.
                    last_event = Instant::now();
                    continue;
                }
                () = tokio::time::sleep_until((last_event + SILENCE_LIMIT).into()) => {
                    return Err(MySqlError::Stream(mysql_async::Error::Driver(
                        mysql_async::DriverError::ConnectionClosed,
                    )));
                }
                () = self.out.closed() => return Err(MySqlError::DownstreamClosed),
            }
        }
    }

    async fn on_event(&mut self, event: Event) -> Result<(), MySqlError> {
        let header = event.header();
        let end_pos = u64::from(header.log_pos());
        let start_pos = end_pos.saturating_sub(u64::from(header.event_size()));
        let at = || format!("{}:{}", self.file, start_pos);
        match header.event_type_raw() {
            mariadb::GTID_EVENT => {
                let g = mariadb::decode_gtid(event.data())
                    .map_err(|reason| MySqlError::Decode { at: at(), reason })?;
                let gtid = Gtid::Maria {
                    domain: g.domain,
                    server: header.server_id(),
                    seq: g.seq,
                };
                self.begin(start_pos, header.timestamp(), Some(gtid), !g.standalone);
                return Ok(());
            }
            mariadb::ANNOTATE_ROWS_EVENT => {
                if let Some(tx) = &mut self.tx {
                    tx.query = Some(mariadb::decode_annotate(event.data()));
                }
                return Ok(());
            }
            mariadb::BINLOG_CHECKPOINT_EVENT | mariadb::GTID_LIST_EVENT => return Ok(()),
            mariadb::START_ENCRYPTION_EVENT..=175 => {
                return Err(MySqlError::Decode {
                    at: at(),
                    reason: format!(
                        "MariaDB event type {} (encrypted or compressed binlog) is not supported: turn off encrypt_binlog and log_bin_compress",
                        header.event_type_raw()
                    ),
                });
            }
            _ => {}
        }
        let data = event.read_data().map_err(|e| MySqlError::Decode {
            at: at(),
            reason: e.to_string(),
        })?;
        let Some(data) = data else { return Ok(()) };
        match data {
            EventData::FormatDescriptionEvent(_) => self.seen_format = true,
            EventData::RotateEvent(r) => {
                let mut name = r.name_raw();
                // The stream's first, fake ROTATE comes before the format description, so
                // the driver cannot know it ends with a checksum: cut it off here.
                if !self.seen_format && self.server.checksum {
                    name = name.get(..name.len().saturating_sub(4)).unwrap_or_default();
                }
                self.file = String::from_utf8_lossy(name).into_owned();
                debug!(file = %self.file, pos = r.position(), "rotate");
            }
            EventData::GtidEvent(g) => {
                let uuid = uuid::Uuid::from_bytes(g.sid()).hyphenated().to_string();
                let gtid = Gtid::MySql { uuid, gno: g.gno() };
                self.begin(start_pos, header.timestamp(), Some(gtid), false);
            }
            EventData::QueryEvent(q) => {
                let query = q.query();
                let word = query.trim().to_ascii_uppercase();
                if word == "BEGIN" {
                    if self.tx.is_none() {
                        self.begin(start_pos, header.timestamp(), None, true);
                    }
                    if let Some(tx) = &mut self.tx {
                        tx.begun = true;
                        tx.thread = Some(u64::from(q.thread_id()));
                    }
                } else if word == "COMMIT" || word == "ROLLBACK" {
                    self.commit(end_pos).await?;
                } else {
                    match statement::dml_target(&query) {
                        Some(target) => {
                            statement_dml(&self.config.filters, &q.schema(), &query, target, at())?
                        }
                        None => self.on_ddl(&q.schema(), &query),
                    }
                    if self.tx.is_none() {
                        self.begin(start_pos, header.timestamp(), None, false);
                    }
                    if let Some(target) = statement::truncate_target(&query) {
                        let (server_id, thread) = (header.server_id(), q.thread_id());
                        let at = truncate::QueryAt {
                            start_pos,
                            server_id,
                            thread,
                            timestamp: header.timestamp(),
                        };
                        self.on_truncate(&q.schema(), target, at).await?;
                    }
                    if self.tx.as_ref().is_some_and(|t| !t.begun) {
                        self.commit(end_pos).await?;
                    }
                }
            }
            // LOAD DATA logged as a statement (its rows are in a file the event refers to).
            EventData::ExecuteLoadQueryEvent(q) => {
                let query = q.query();
                let target = statement::dml_target(&query).unwrap_or(Target::Unknown);
                statement_dml(&self.config.filters, &q.schema(), &query, target, at())?;
                if self.tx.is_none() {
                    self.begin(start_pos, header.timestamp(), None, false);
                }
                if self.tx.as_ref().is_some_and(|t| !t.begun) {
                    self.commit(end_pos).await?;
                }
            }
            EventData::XidEvent(_) => self.commit(end_pos).await?,
            EventData::RowsQueryEvent(r) => {
                if let Some(tx) = &mut self.tx {
                    tx.query = Some(r.query().into_owned());
                }
            }
            EventData::TableMapEvent(tme) => self.on_table_map(tme.into_owned()).await?,
            EventData::RowsEvent(rows) => {
                self.on_rows(&rows, start_pos, header.server_id(), header.timestamp())
                    .await?
            }
            EventData::TransactionPayloadEvent(_) => {
                // The driver unpacks compressed transactions into the events that follow.
            }
            _ => {}
        }
        Ok(())
    }

    fn begin(&mut self, start_pos: u64, timestamp: u32, gtid: Option<Gtid>, begun: bool) {
        self.tx = Some(OpenTx {
            start_file: self.file.clone(),
            start_pos,
            gtid,
            begun,
            rows_events: 0,
            skip: self.pending_skip.take(),
            ts_us: i64::from(timestamp) * 1_000_000,
            thread: None,
            query: None,
            orders: TxOrders::default(),
        });
    }

    /// DDL: tables may have changed, so their decoding state and hints are reloaded on their
    /// next TABLE_MAP. Debezium's schema change topic is not written; the change is logged.
    fn on_ddl(&mut self, schema: &str, query: &str) {
        info!(database = schema, ddl = query, "schema change");
        self.tables.clear();
        self.hints.clear();
    }

    async fn on_table_map(&mut self, tme: TableMapEvent<'static>) -> Result<(), MySqlError> {
        let table_id = tme.table_id();
        if let Some(m) = self.tables.get(&table_id)
            && m.tme == tme
        {
            return Ok(());
        }
        let id = TableId::new(tme.database_name(), tme.table_name());
        let state = if setup::is_captured(&self.config.filters, &id) {
            let (columns, primary_key) = columns_of(&tme)?;
            if !self.hints.contains_key(&id) {
                let info = setup::load_table(&mut self.sql, &id, self.server.mariadb).await?;
                self.hints.insert(id.clone(), info);
            }
            let hints = self.hints.get(&id).and_then(Option::as_ref);
            // The table's key now, when the event has none (older servers omit it).
            let primary_key = if primary_key.is_empty() {
                hints
                    .map(|h| {
                        h.primary_key
                            .iter()
                            .filter_map(|&k| {
                                let name = &h.columns.get(k)?.name;
                                columns.iter().position(|c| &c.name == name)
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                primary_key
            };
            let columns = with_hints(columns, hints);
            let state = TableState::build(
                &id,
                columns,
                &primary_key,
                self.config,
                self.options,
                self.schemas.get(&id),
            )?;
            if self.schemas.get(&id) != Some(&state.schema) {
                debug!(table = %id, version = state.schema.version, "table schema");
            }
            self.schemas.insert(id, Arc::clone(&state.schema));
            Some(Arc::new(state))
        } else {
            None
        };
        self.tables.insert(table_id, Mapped { tme, state });
        Ok(())
    }

    async fn on_rows(
        &mut self,
        rows: &RowsEventData<'_>,
        start_pos: u64,
        server_id: u32,
        timestamp: u32,
    ) -> Result<(), MySqlError> {
        let at = format!("{}:{}", self.file, start_pos);
        let Some(tx) = &mut self.tx else {
            return Err(MySqlError::Decode {
                at,
                reason: "rows event outside a transaction".into(),
            });
        };
        let event_index = tx.rows_events;
        tx.rows_events += 1;
        let mapped = self
            .tables
            .get(&rows.table_id())
            .ok_or_else(|| MySqlError::Decode {
                at: at.clone(),
                reason: format!("rows event for unknown table id {}", rows.table_id()),
            })?;
        let Some(state) = mapped.state.clone() else {
            return Ok(());
        };
        let op = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => Op::Create,
            RowsEventData::UpdateRowsEventV1(_) | RowsEventData::UpdateRowsEvent(_) => Op::Update,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => Op::Delete,
            RowsEventData::PartialUpdateRowsEvent(_) => {
                return Err(MySqlError::Decode {
                    at,
                    reason: "partial JSON updates need binlog_row_value_options='' (the default)"
                        .into(),
                });
            }
        };
        let precise = self.options.bigint_unsigned_precise;
        let table_name = state.schema.id.to_string();
        let include_query = self.options.include_query;
        if include_query && self.server.mariadb {
            let query = self.annotation(start_pos).await?;
            if let Some(tx) = &mut self.tx {
                tx.query = query.or(tx.query.take());
            }
        }
        let Some(mapped) = self.tables.get(&rows.table_id()) else {
            return Ok(());
        };
        let decoded =
            bounded_rows(rows.rows(&mapped.tme), rows.rows_data().len()).map_err(|reason| {
                MySqlError::Decode {
                    at: at.clone(),
                    reason,
                }
            })?;
        // Which columns each image carries (all of them under binlog_row_image=FULL).
        let before_bits: Vec<bool> = rows
            .columns_before_image()
            .map(|b| b.iter().map(|x| *x).collect())
            .unwrap_or_default();
        let after_bits: Vec<bool> = rows
            .columns_after_image()
            .map(|b| b.iter().map(|x| *x).collect())
            .unwrap_or_default();
        let blobs: Vec<bool> = (0..state.columns.len())
            .map(|i| {
                mapped
                    .tme
                    .get_column_type(i)
                    .ok()
                    .flatten()
                    .is_some_and(is_blob)
            })
            .collect();
        // A skipped operation (dropped by the emitter, its position kept) takes no place in
        // the transaction's order, as in Debezium.
        let counted = !self.config.skipped_operations.skips(op);
        for (r, (before, after)) in decoded.into_iter().enumerate() {
            let Some(tx) = &mut self.tx else { break };
            let (total_order, table_order) = if counted {
                tx.orders.count(&table_name)
            } else {
                (0, 0)
            };
            if let Some((se, sr)) = tx.skip
                && (event_index < se || (event_index == se && (r as u64) < sr))
            {
                continue;
            }
            let convert = |row: Option<mysql_async::binlog::row::BinlogRow>,
                           image: Image|
             -> Result<Option<Row>, MySqlError> {
                let Some(row) = row else { return Ok(None) };
                let bits = match image {
                    Image::Before => &before_bits,
                    Image::After => &after_bits,
                };
                let placed =
                    by_column(row.unwrap(), bits, state.columns.len()).map_err(|reason| {
                        MySqlError::Decode {
                            at: at.clone(),
                            reason: format!("`{table_name}`: {reason}"),
                        }
                    })?;
                let mut values = Vec::with_capacity(state.columns.len());
                let mut missing = Vec::new();
                for (i, (v, col)) in placed.into_iter().zip(&state.columns).enumerate() {
                    values.push(match v {
                        Some(v) => {
                            from_binlog(v, col, precise).map_err(|source| MySqlError::Value {
                                table: table_name.clone(),
                                column: col.name.clone(),
                                source,
                            })?
                        }
                        None => match absent(image, blobs.get(i).copied().unwrap_or(false)) {
                            Absent::Unavailable => Value::Unavailable,
                            Absent::Null => Value::Null,
                            Absent::Missing => {
                                missing.push(format!("`{}`", col.name));
                                Value::Null
                            }
                        },
                    });
                }
                if !missing.is_empty() {
                    return Err(MySqlError::IncompleteRowImage {
                        table: table_name.clone(),
                        at: at.clone(),
                        columns: missing.join(", "),
                    });
                }
                Ok(Some(state.project(values)))
            };
            let (before, after) = match op {
                Op::Create => (None, convert(after, Image::After)?),
                Op::Update => (
                    convert(before, Image::Before)?,
                    convert(after, Image::After)?,
                ),
                _ => (convert(before, Image::Before)?, None),
            };
            let metadata =
                self.batcher
                    .transaction_info(|| tx.id(), tx.ts_us, (total_order, table_order));
            let event = ChangeEvent {
                op,
                table: Arc::clone(&state.schema),
                before,
                after,
                source: SourceInfo {
                    ts_us: i64::from(timestamp) * 1_000_000,
                    snapshot: SnapshotMarker::False,
                    db: state.schema.id.namespace.clone(),
                    details: SourceDetails::MySql {
                        server_id: u64::from(server_id),
                        gtid: tx.gtid.as_ref().map(Gtid::text),
                        file: self.file.clone(),
                        pos: start_pos,
                        row: r as u32,
                        thread: tx.thread,
                        query: tx.query.clone().filter(|_| include_query),
                    },
                },
                transaction: metadata,
                document: None,
            };
            let point = MySqlPosition {
                file: tx.start_file.clone(),
                pos: tx.start_pos,
                skip_events: event_index,
                skip_rows: r as u64 + 1,
                gtids: self.gtid_set.clone(),
                mariadb_gtids: self.maria_state.clone(),
                snapshot: None,
            };
            // A transaction larger than a batch is split, recording the rows done inside it.
            if self.batcher.push(event, point) {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// MariaDB sends ANNOTATE_ROWS only to replicas that ask with a dump flag the driver
    /// cannot set, so `include.query` reads the statement text of the rows event at `pos`
    /// from the binlog file itself (one look-up per stretch of events).
    async fn annotation(&mut self, pos: u64) -> Result<Option<String>, MySqlError> {
        let Some(tx) = &self.tx else { return Ok(None) };
        let (file, from) = (tx.start_file.clone(), tx.start_pos);
        if self.annotations.0 != file {
            self.annotations = (file.clone(), Default::default(), from);
        }
        // Reads on from the last event looked at, a thousand events at a time.
        while self.annotations.2 < pos {
            let start = self.annotations.2.max(from);
            let rows: Vec<mysql_async::Row> = self
                .sql
                // SHOW cannot be prepared: the file name is quoted as a literal.
                .query(format!(
                    "SHOW BINLOG EVENTS IN '{}' FROM {start} LIMIT 1000",
                    file.replace('\\', "\\\\").replace('\'', "''")
                ))
                .await
                .map_err(|source| MySqlError::Query {
                    context: "SHOW BINLOG EVENTS (include.query)",
                    source,
                })?;
            let mut end = start;
            for row in &rows {
                let at: u64 = row.get(1).unwrap_or_default();
                let next: u64 = row.get(4).unwrap_or_default();
                let kind: String = row.get(2).unwrap_or_default();
                end = end.max(next);
                if kind.eq_ignore_ascii_case("Annotate_rows") {
                    self.annotations
                        .1
                        .insert(at, row.get::<String, _>(5).unwrap_or_default());
                }
            }
            if end == start {
                break;
            }
            self.annotations.2 = end;
        }
        Ok(self
            .annotations
            .1
            .range(from..pos)
            .next_back()
            .map(|(_, q)| q.clone()))
    }

    async fn commit(&mut self, end_pos: u64) -> Result<(), MySqlError> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        match &tx.gtid {
            Some(Gtid::MySql { uuid, gno }) => {
                if let Some(set) = &mut self.gtid_set {
                    set.add(uuid, *gno);
                }
            }
            Some(Gtid::Maria {
                domain,
                server,
                seq,
            }) => {
                if let Some(state) = &mut self.maria_state {
                    state.apply(*domain, *server, *seq);
                }
            }
            None => {}
        }
        let after = MySqlPosition {
            file: self.file.clone(),
            pos: end_pos,
            skip_events: 0,
            skip_rows: 0,
            gtids: self.gtid_set.clone(),
            mariadb_gtids: self.maria_state.clone(),
            snapshot: None,
        };
        match self.batcher.commit(|| tx.id(), tx.ts_us, &tx.orders, after) {
            Ok(true) => self.flush().await?,
            Ok(false) => {}
            Err(after) => {
                self.idle_point = Some(after);
                if self.last_progress.elapsed() >= IDLE_PROGRESS_EVERY {
                    self.batcher.linger_from_now();
                }
            }
        }
        Ok(())
    }

    /// Hands the batch to the emitter (or, every `IDLE_PROGRESS_EVERY`, the position after
    /// transactions with no captured change); waits when the channel is full (backpressure).
    async fn flush(&mut self) -> Result<(), MySqlError> {
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
            .map_err(|_| MySqlError::DownstreamClosed)?;
        if sent {
            self.idle_point = None;
            self.last_progress = Instant::now();
        }
        Ok(())
    }
}

/// The rows of a rows event, stopping at the first that cannot be decoded. The driver's
/// iterator does not end on a malformed event: it repeats the error, or (a bitmap with no
/// column) yields empty rows, forever; since every real row takes at least one byte, more
/// rows than the event has bytes is malformed too (found by the `mysql_rows` fuzz target).
pub(crate) fn bounded_rows<T, E: std::fmt::Display>(
    rows: impl Iterator<Item = Result<T, E>>,
    data_len: usize,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for row in rows {
        let row = row.map_err(|e| e.to_string())?;
        if out.len() >= data_len {
            return Err(format!(
                "a rows event of {data_len} bytes decodes to more rows than it has bytes"
            ));
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod bounded_rows_tests {
    #[test]
    fn a_rows_iterator_that_never_ends_is_cut_off() {
        let endless_errors = std::iter::repeat_with(|| Err::<(), _>("bad row"));
        assert_eq!(
            super::bounded_rows(endless_errors, 100),
            Err("bad row".to_owned())
        );
        let endless_empty = std::iter::repeat_with(|| Ok::<(), String>(()));
        let e = super::bounded_rows(endless_empty, 10).unwrap_err();
        assert!(e.contains("10 bytes"), "{e}");
        let fine = vec![Ok::<i32, String>(1), Ok(2)];
        assert_eq!(super::bounded_rows(fine.into_iter(), 10), Ok(vec![1, 2]));
    }
}
