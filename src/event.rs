//! The common change-event model every reader produces and the emitter consumes.
//!
//! One model for all sources (design.md §3). A [`ChangeEvent`] points at the shared, versioned
//! [`TableSchema`] its rows follow; a [`Row`] holds one [`Value`] per column of that schema, in
//! schema order. Values keep the source's exactness (decimals are unscaled integers plus scale,
//! temporal values are integer counts from the epoch) so the emitter can render Debezium's
//! semantic types without re-parsing text.

use std::fmt;
use std::sync::Arc;

use num_bigint::BigInt;
use serde::{Deserialize, Serialize};

use crate::offsets::Position;

/// The kind of database a connector reads: the one vocabulary that the config, the offsets,
/// the emitter and the runtime share (MySQL and MariaDB are one kind with two classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Postgres,
    MySql,
    MongoDb,
}

impl SourceKind {
    /// As offsets and the REST API name it.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Postgres => "postgres",
            SourceKind::MySql => "mysql",
            SourceKind::MongoDb => "mongodb",
        }
    }

    /// The connectors of this kind, for messages.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Postgres => "postgres",
            SourceKind::MySql => "mysql/mariadb",
            SourceKind::MongoDb => "mongodb",
        }
    }
}

/// A captured table (PostgreSQL `schema.table`, MySQL `database.table`, Mongo `db.collection`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableId {
    /// PostgreSQL schema, MySQL database or Mongo database.
    pub namespace: String,
    /// Table or collection name.
    pub name: String,
}

impl TableId {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

/// Sub-second precision of a temporal column, which picks Debezium's semantic type
/// (`io.debezium.time.Timestamp` vs `MicroTimestamp` vs `NanoTimestamp`, likewise for time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimePrecision {
    Millis,
    Micros,
    Nanos,
}

impl TimePrecision {
    /// Debezium's "adaptive" rule: up to 3 fractional digits is millis, up to 6 micros.
    pub fn from_fractional_digits(digits: u32) -> Self {
        match digits {
            0..=3 => TimePrecision::Millis,
            4..=6 => TimePrecision::Micros,
            _ => TimePrecision::Nanos,
        }
    }
}

/// The logical type of a column, independent of the source; the emitter maps it to Avro.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataType {
    Boolean,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// Exact decimal. `None` precision/scale means variable scale (PostgreSQL bare `numeric`),
    /// which Debezium renders as `io.debezium.data.VariableScaleDecimal`.
    Decimal {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Text,
    Bytes,
    /// Days since 1970-01-01.
    Date,
    /// Time of day without zone.
    Time(TimePrecision),
    /// Time of day with a UTC offset (PostgreSQL `timetz`).
    TimeTz,
    /// Timestamp without zone.
    Timestamp(TimePrecision),
    /// Instant in time (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
    TimestampTz,
    Interval,
    /// MySQL `YEAR`.
    Year,
    Uuid,
    Json,
    Xml,
    Enum {
        allowed: Vec<String>,
    },
    /// MySQL `SET`.
    EnumSet {
        allowed: Vec<String>,
    },
    /// Bit string of a fixed or maximum length (`bit(n)`, `varbit(n)`, MySQL `BIT(n)`).
    Bits {
        length: u32,
    },
    /// PostgreSQL `hstore`.
    Map,
    /// Geometry as WKB plus optional SRID (MySQL geometry, PostGIS `geometry`); values are
    /// [`Value::Geometry`] or, for PostgreSQL's built-in shapes, [`Value::Shape`].
    Geometry,
    /// A PostgreSQL built-in shape (`box`, `lseg`, `path`, `polygon`), which Debezium writes as
    /// a `Geometry` whose extensions name the type.
    Shape(ShapeKind),
    /// A 2D point (Debezium's `Point`: x, y, WKB, SRID); values are [`Value::Point`].
    Point,
    /// PostGIS `geography`: WKB plus SRID, as [`Value::Geometry`].
    Geography,
    /// PostgreSQL `circle`: [`Value::Circle`].
    Circle,
    /// PostgreSQL `line` (`Ax + By + C = 0`): [`Value::Line`].
    Line,
    /// PostgreSQL `tsvector`, as its text.
    TsVector,
    /// The `ltree` extension's label path, as its text.
    Ltree,
    /// pgvector's `vector` (Debezium's `DoubleVector`): [`Value::Array`] of `Float64`.
    DoubleVector,
    /// pgvector's `halfvec` (Debezium's `FloatVector`): [`Value::Array`] of `Float32`.
    FloatVector,
    Array(Box<DataType>),
}

/// Which PostgreSQL shape a [`DataType::Shape`] column holds (its text format differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShapeKind {
    Box,
    Lseg,
    Path,
    Polygon,
}

impl ShapeKind {
    /// The PostgreSQL type name, which Debezium puts in the extensions' `type`.
    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Box => "box",
            ShapeKind::Lseg => "lseg",
            ShapeKind::Path => "path",
            ShapeKind::Polygon => "polygon",
        }
    }
}

/// One column of a table schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    /// The source's own type name (`int4`, `varchar(255)`, `DECIMAL(10,2) UNSIGNED`), used in
    /// error messages and Debezium's `__debezium.source.column.type` parameter.
    pub source_type: String,
    /// The column's default when it is a constant Siphon can read (Debezium puts it in the
    /// field's schema, which makes `ADD COLUMN ... NOT NULL DEFAULT 0` a compatible change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<ColumnDefault>,
}

/// A column default, in the column's own terms (the emitter converts it like a value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnDefault {
    Int(i64),
    Bool(bool),
    Text(String),
}

/// The columns of a table at one point of its history. Shared behind an `Arc`; a schema change
/// makes a new value with `version + 1`, and later events point at the new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableSchema {
    pub id: TableId,
    pub version: u32,
    pub columns: Vec<Column>,
    /// Indexes into `columns` of the primary key, in key order; empty when the table has none.
    pub primary_key: Vec<usize>,
}

impl TableSchema {
    /// A document collection (MongoDB): one JSON column holding the whole document, no key
    /// columns (the key is the event's [`DocumentChange::id_json`]).
    pub fn document(id: TableId) -> TableSchema {
        TableSchema {
            id,
            version: 1,
            columns: vec![Column {
                name: "document".into(),
                data_type: DataType::Json,
                nullable: true,
                source_type: "document".into(),
                default: None,
            }],
            primary_key: Vec::new(),
        }
    }

    /// PostgreSQL's logical decoding messages (`pg_logical_emit_message`), which Debezium
    /// writes to `<topic.prefix>.message`: the row is `[prefix, content]`. The empty names
    /// are what Debezium's `source.schema` and `source.table` show for a message.
    pub fn logical_message() -> TableSchema {
        let column = |name: &str, data_type| Column {
            name: name.into(),
            data_type,
            nullable: true,
            source_type: "message".into(),
            default: None,
        };
        TableSchema {
            id: TableId::new("", ""),
            version: 1,
            columns: vec![
                column("prefix", DataType::Text),
                column("content", DataType::Bytes),
            ],
            primary_key: Vec::new(),
        }
    }

    /// Whether this is [`TableSchema::logical_message`].
    pub fn is_logical_message(&self) -> bool {
        self.id.namespace.is_empty()
            && self.id.name.is_empty()
            && self.columns.len() == 2
            && self.columns[0].source_type == "message"
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The next version of this table with other columns and key.
    pub fn next_version(&self, columns: Vec<Column>, primary_key: Vec<usize>) -> TableSchema {
        TableSchema {
            id: self.id.clone(),
            version: self.version.saturating_add(1),
            columns,
            primary_key,
        }
    }

    /// Checks the invariants the emitter relies on: key indexes in range and unique.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = vec![false; self.columns.len()];
        for &i in &self.primary_key {
            match seen.get_mut(i) {
                None => return Err(format!("{}: key index {i} out of range", self.id)),
                Some(true) => return Err(format!("{}: key index {i} repeated", self.id)),
                Some(s) => *s = true,
            }
        }
        Ok(())
    }
}

/// An exact decimal: `unscaled * 10^-scale`, plus the special values PostgreSQL's `numeric`
/// allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decimal {
    Finite { unscaled: BigInt, scale: u32 },
    NaN,
    PositiveInfinity,
    NegativeInfinity,
}

impl Decimal {
    /// Parses a plain decimal literal (`-12.340`, `7`, `.5`), keeping every digit and the scale
    /// as written; `NaN`, `Infinity` and `-Infinity` map to the special values.
    pub fn parse(text: &str) -> Option<Decimal> {
        match text {
            "NaN" => return Some(Decimal::NaN),
            "Infinity" | "+Infinity" => return Some(Decimal::PositiveInfinity),
            "-Infinity" => return Some(Decimal::NegativeInfinity),
            _ => {}
        }
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{int_part}{frac_part}");
        let magnitude = if digits.is_empty() {
            BigInt::from(0)
        } else {
            digits.parse::<BigInt>().ok()?
        };
        let scale = u32::try_from(frac_part.len()).ok()?;
        Some(Decimal::Finite {
            unscaled: if negative { -magnitude } else { magnitude },
            scale,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decimal::NaN => f.write_str("NaN"),
            Decimal::PositiveInfinity => f.write_str("Infinity"),
            Decimal::NegativeInfinity => f.write_str("-Infinity"),
            Decimal::Finite { unscaled, scale } => {
                let digits = unscaled.magnitude().to_string();
                let sign = if unscaled.sign() == num_bigint::Sign::Minus {
                    "-"
                } else {
                    ""
                };
                let scale = *scale as usize;
                if scale == 0 {
                    return write!(f, "{sign}{digits}");
                }
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (int_part, frac_part) = padded.split_at(padded.len() - scale);
                write!(f, "{sign}{int_part}.{frac_part}")
            }
        }
    }
}

/// A PostgreSQL-style interval: months, days and microseconds kept apart, because a month is
/// not a fixed number of days. The emitter converts it as Debezium does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

/// One column value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    /// The source did not send this value (an unchanged TOASTed PostgreSQL column). Never a
    /// placeholder string: the emitter decides how to render it.
    Unavailable,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Decimal(Decimal),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight (MySQL `TIME` may be negative or past 24h).
    Time(i64),
    /// Microseconds since midnight at a UTC offset in seconds (east positive).
    TimeTz {
        micros: i64,
        offset_seconds: i32,
    },
    /// Microseconds since 1970-01-01T00:00:00, no zone.
    Timestamp(i64),
    /// Microseconds since the Unix epoch, UTC.
    TimestampTz(i64),
    Interval(Interval),
    Year(i32),
    Uuid(uuid::Uuid),
    /// JSON document as text, exactly as the source rendered it.
    Json(String),
    Enum(String),
    EnumSet(Vec<String>),
    /// Bit string: `length` bits, most significant first, packed into bytes.
    Bits {
        bytes: Vec<u8>,
        length: u32,
    },
    /// hstore pairs in source order; a value may be SQL NULL.
    Map(Vec<(String, Option<String>)>),
    Geometry {
        wkb: Vec<u8>,
        srid: Option<i32>,
    },
    /// A shape as OGC WKB (little endian) without SRID, plus what WKB cannot say (Debezium's
    /// `extensions`: the source `type`, and for a path whether it is `closed`), in order.
    Shape {
        wkb: Vec<u8>,
        extensions: Vec<(String, String)>,
    },
    /// A 2D point with its WKB (as the source gave it, or built from x and y) and SRID.
    Point {
        x: f64,
        y: f64,
        wkb: Vec<u8>,
        srid: Option<i32>,
    },
    Circle {
        x: f64,
        y: f64,
        radius: f64,
    },
    /// The line `a·x + b·y + c = 0`.
    Line {
        a: f64,
        b: f64,
        c: f64,
    },
    Array(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A point without SRID whose WKB is built from x and y, as Debezium's
    /// `Point.createValue(schema, x, y)` does.
    pub fn point(x: f64, y: f64) -> Value {
        Value::Point {
            x,
            y,
            wkb: point_wkb(x, y),
            srid: None,
        }
    }
}

/// The 21-byte OGC WKB of a 2D point: little endian, type 1, x, y.
pub fn point_wkb(x: f64, y: f64) -> Vec<u8> {
    let mut wkb = Vec::with_capacity(21);
    wkb.push(1);
    wkb.extend_from_slice(&1u32.to_le_bytes());
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    wkb
}

/// Column values in the order of the schema's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn get(&self, index: usize) -> Option<&Value> {
        self.0.get(index)
    }

    /// The key columns of this row for `schema`, or `None` when the table has no primary key.
    pub fn key(&self, schema: &TableSchema) -> Option<Row> {
        if schema.primary_key.is_empty() {
            return None;
        }
        let values = schema
            .primary_key
            .iter()
            .map(|&i| self.0.get(i).cloned().unwrap_or(Value::Null))
            .collect();
        Some(Row(values))
    }
}

/// Debezium's `op` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A row read by a snapshot.
    Read,
    Truncate,
    /// A logical decoding message (PostgreSQL `pg_logical_emit_message`).
    Message,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
            Op::Message => "m",
        }
    }
}

/// Debezium's `source.snapshot` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SnapshotMarker {
    /// Streamed, not a snapshot.
    False,
    True,
    First,
    FirstInDataCollection,
    LastInDataCollection,
    Last,
    Incremental,
}

impl SnapshotMarker {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::False => "false",
            SnapshotMarker::True => "true",
            SnapshotMarker::First => "first",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Last => "last",
            SnapshotMarker::Incremental => "incremental",
        }
    }
}

/// Source-specific fields of Debezium's `source` block (the common ones are in [`SourceInfo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceDetails {
    Postgres {
        /// Transaction id.
        tx_id: Option<i64>,
        /// LSN of this change.
        lsn: Option<u64>,
        xmin: Option<i64>,
        /// LSN of the last committed transaction before this one (Debezium's `sequence[0]`).
        last_commit_lsn: Option<u64>,
    },
    MySql {
        server_id: u64,
        gtid: Option<String>,
        file: String,
        pos: u64,
        /// Row index inside the binlog event.
        row: u32,
        thread: Option<u64>,
        query: Option<String>,
    },
    Mongo {
        /// The event's cluster time ordinal within its second; -1 for snapshot reads (which
        /// have no oplog position), as Debezium writes it.
        ord: i32,
        lsid: Option<String>,
        txn_number: Option<i64>,
        wall_time: Option<i64>,
    },
}

/// Where and when a change happened. Connector-level fields (version, connector, name) are
/// added by the emitter, which knows the connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Commit time at the source, microseconds since the Unix epoch.
    pub ts_us: i64,
    pub snapshot: SnapshotMarker,
    /// Database name (PostgreSQL `database.dbname`, MySQL database, Mongo database).
    pub db: String,
    pub details: SourceDetails,
}

/// Debezium's `transaction` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    pub id: String,
    /// Position of the event among all events of the transaction, from 1.
    pub total_order: u64,
    /// Position of the event among the events of its table in the transaction, from 1.
    pub data_collection_order: u64,
}

/// What a document change (MongoDB) carries that a row change has not: the document's `_id`,
/// which keys the record even when neither image is there (a delete without pre-images), and
/// the update's description. The images themselves are in `before`/`after` as one
/// [`Value::Json`] each (see [`DocumentChange::image`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentChange {
    /// `_id` as the extended JSON Debezium writes in the key's `id` field.
    pub id_json: String,
    pub update: Option<DocumentUpdate>,
}

impl DocumentChange {
    /// A document image as the row `before`/`after` holds it.
    pub fn image(json: String) -> Row {
        Row(vec![Value::Json(json)])
    }
}

/// Debezium's `updateDescription` of a MongoDB update; Debezium writes empty lists as null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentUpdate {
    pub removed_fields: Option<Vec<String>>,
    /// The fields set, as extended JSON.
    pub updated_fields: Option<String>,
    /// Field paths and their new sizes.
    pub truncated_arrays: Option<Vec<(String, i32)>>,
}

/// One row change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub op: Op,
    /// The schema version `before` and `after` follow.
    pub table: Arc<TableSchema>,
    pub before: Option<Row>,
    pub after: Option<Row>,
    pub source: SourceInfo,
    pub transaction: Option<TxInfo>,
    /// Set for a document change (MongoDB), whose table schema is [`TableSchema::document`].
    pub document: Option<Box<DocumentChange>>,
}

impl ChangeEvent {
    /// The record key: the primary key of `after` (or of `before` for a delete); a document's
    /// `_id`.
    pub fn key(&self) -> Option<Row> {
        if let Some(doc) = &self.document {
            return Some(Row(vec![Value::Text(doc.id_json.clone())]));
        }
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .and_then(|row| row.key(&self.table))
    }
}

/// Counts a transaction's events for Debezium's `transaction` block and END record: in all
/// and per table, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxOrders {
    pub total: u64,
    pub per_table: Vec<(String, u64)>,
}

impl TxOrders {
    /// Counts an event of `table`; returns (total order, order within the table), from 1.
    pub fn count(&mut self, table: &str) -> (u64, u64) {
        self.total += 1;
        let n = match self.per_table.iter_mut().find(|(t, _)| t == table) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((table.to_owned(), 1));
                1
            }
        };
        (self.total, n)
    }
}

impl SnapshotMarker {
    /// Debezium's marker for a snapshot row: `first` for the very first row, `last` for the
    /// last row of the last table, else the first/last of its table, else `true`.
    pub fn for_row(
        first_overall: bool,
        last_table: bool,
        first_in_table: bool,
        last_in_table: bool,
    ) -> Self {
        if first_overall {
            SnapshotMarker::First
        } else if last_table && last_in_table {
            SnapshotMarker::Last
        } else if first_in_table {
            SnapshotMarker::FirstInDataCollection
        } else if last_in_table {
            SnapshotMarker::LastInDataCollection
        } else {
            SnapshotMarker::True
        }
    }
}

/// Debezium's transaction metadata records (`<topic.prefix>.transaction`), when
/// `provide.transaction.metadata` is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxMarker {
    Begin {
        id: String,
        ts_us: i64,
    },
    End {
        id: String,
        ts_us: i64,
        event_count: u64,
        /// Events per table (`schema.table`), in order of first appearance.
        data_collections: Vec<(String, u64)>,
    },
}

/// Events handed from a reader to the emitter, tagged with the source position after the last
/// one: committing the batch makes that position the resume point.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    pub events: Vec<ChangeEvent>,
    /// Transaction boundaries among these events (empty unless transaction metadata is on).
    pub markers: Vec<TxMarker>,
    pub position: Position,
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
