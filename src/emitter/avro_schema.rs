//! Debezium-compatible Avro schemas for a table: the record key, the `Envelope` value, and the
//! per-connector `source` block, as Debezium 3.x (3.1–3.4) builds them and Confluent's
//! `AvroConverter` (`AvroData.fromConnectSchema`, default settings) turns them into Avro.
//!
//! What a consumer of Debezium's topics sees, and therefore what this module reproduces:
//! - Kafka Connect metadata as Avro properties: `connect.name` (the Connect schema name) on
//!   every named schema, `connect.version` where Debezium versions a schema, `connect.parameters`
//!   (string map) where it sets parameters, `connect.default` for Connect defaults, and
//!   `connect.type` = `int16` for `INT16`, in the order `AvroData` writes them.
//! - Optional fields as the union `["null", T]` with `"default": null`; an optional field with a
//!   Connect default (only `source.snapshot`) as `[T, "null"]` with that default.
//! - Structs as records whose full name is the Connect name split at the last `.`; a record's
//!   `namespace` is written only where it differs from the enclosing one, and a named type seen
//!   before in the same schema is written as a reference (Avro forbids redefinition).
//! - Envelope fields in Debezium's order: `before`, `after`, `source`, `transaction`, `op`,
//!   `ts_ms`, `ts_us`, `ts_ns` ([`ENVELOPE_FIELDS`]); `Envelope.Builder` adds `transaction`
//!   with the record and source schemas and `op`/`ts_*` at `build()`. Avro's binary encoding
//!   follows the writer schema's field order, so a consumer holding a fixed copy of
//!   Debezium's schema as the writer schema reads Siphon's records too.
//!
//! Names: topics follow Debezium's `sanitizedTopicName` (characters outside `[A-Za-z0-9._-]`
//! become `_`), schema names its `SchemaNameAdjuster` in `avro` mode ([`sanitize_avro_name`]),
//! field names its `avro` field namer. Debezium's default `schema.name.adjustment.mode` is
//! `none`, which only differs where a name is invalid for Avro (and then the Avro converter
//! fails), so the `avro` behaviour is what a working Debezium+Avro setup produces.

use std::collections::HashSet;

use apache_avro::Schema;
use serde_json::{Map, Value as Json, json};

use super::avro_spatial::{
    CIRCLE, GEOGRAPHY, GEOMETRY, LINE, POINT, SPATIAL_NAMESPACE, circle, geography, geometry, line,
    point,
};
use crate::event::{Column, DataType, TableId, TableSchema, TimePrecision};

/// Which Debezium connector's `source` block and conventions to follow.
pub use crate::event::SourceKind;

/// Debezium's `decimal.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecimalMode {
    /// `precise`: Connect `Decimal` (Avro `bytes` + `decimal` logical type), or
    /// `io.debezium.data.VariableScaleDecimal` for a decimal without a fixed scale.
    Precise,
    /// `double`: Avro `double`.
    Double,
    /// `string`: the plain decimal text.
    String,
}

/// Debezium's `time.precision.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeMode {
    /// `adaptive`: millis / micros / nanos semantic types by the column's precision.
    Adaptive,
    /// `adaptive_time_microseconds`: like `adaptive`, but `TIME` is always `MicroTime`.
    AdaptiveTimeMicroseconds,
    /// `connect`: Kafka Connect's logical `Date`, `Time`, `Timestamp` (milliseconds).
    Connect,
}

/// How columns are rendered; fixed for the life of a connector (a change is a new schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AvroOptions {
    pub source: SourceKind,
    pub decimal: DecimalMode,
    pub time: TimeMode,
    /// `hstore.handling.mode=map` (Debezium's default is `json`).
    pub hstore_as_map: bool,
    /// `interval.handling.mode=string` (Debezium's default is `numeric`: `MicroDuration`).
    pub interval_as_string: bool,
}

impl AvroOptions {
    /// Debezium's defaults for a connector: `precise`, `adaptive` (`adaptive_time_microseconds`
    /// for MySQL), hstore as JSON, intervals as `MicroDuration`.
    pub fn debezium_defaults(source: SourceKind) -> Self {
        AvroOptions {
            source,
            decimal: DecimalMode::Precise,
            time: match source {
                SourceKind::MySql => TimeMode::AdaptiveTimeMicroseconds,
                SourceKind::Postgres | SourceKind::MongoDb => TimeMode::Adaptive,
            },
            hstore_as_map: false,
            interval_as_string: false,
        }
    }
}

/// The Avro schemas of one table version, parsed and as the JSON text to register.
#[derive(Debug, Clone)]
pub struct TableAvroSchemas {
    /// `<topic>.Key`, or `None` when the table has no primary key (the record key is null).
    pub key: Option<Schema>,
    /// `<topic>.Envelope`.
    pub value: Schema,
    pub key_json: Option<String>,
    pub value_json: String,
    /// The options the schemas were derived with; the encoder follows them (a key encoder has
    /// no other way to know, e.g., the decimal mode of a key column).
    options: AvroOptions,
}

impl TableAvroSchemas {
    /// Parses the schema documents (the value, and the key when there is one) of `table`.
    pub(super) fn parse(
        table: &TableId,
        key: Option<&Json>,
        value: &Json,
        options: AvroOptions,
    ) -> Result<Self, SchemaError> {
        let parse = |doc: &Json| -> Result<(Schema, String), SchemaError> {
            let text = doc.to_string();
            let schema = Schema::parse_str(&text).map_err(|e| SchemaError::Invalid {
                table: table.to_string(),
                reason: e.to_string(),
            })?;
            Ok((schema, text))
        };
        let (value, value_json) = parse(value)?;
        let (key, key_json) = match key.map(parse).transpose()? {
            Some((schema, text)) => (Some(schema), Some(text)),
            None => (None, None),
        };
        Ok(TableAvroSchemas {
            key,
            value,
            key_json,
            value_json,
            options,
        })
    }

    pub fn options(&self) -> &AvroOptions {
        &self.options
    }
}

/// A table whose schema cannot be expressed in Avro.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("{table}: {reason}")]
    Table { table: String, reason: String },
    #[error("{table}.{column} ({source_type}): {reason}")]
    Column {
        table: String,
        column: String,
        source_type: String,
        reason: String,
    },
    /// The generated schema did not parse: a bug, or a name Avro cannot take.
    #[error("{table}: generated Avro schema is invalid: {reason}")]
    Invalid { table: String, reason: String },
}

/// Debezium's placeholder for a value the source did not send (`unavailable.value.placeholder`).
pub const UNAVAILABLE_PLACEHOLDER: &str = "__debezium_unavailable_value";

/// `source.snapshot`'s allowed values, in Debezium's `SnapshotRecord` order.
pub const SNAPSHOT_ALLOWED: &str =
    "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

/// Envelope field names, in Debezium's order (see the module documentation).
pub const ENVELOPE_FIELDS: [&str; 8] = [
    "before",
    "after",
    "source",
    "transaction",
    "op",
    "ts_ms",
    "ts_us",
    "ts_ns",
];

/// Kafka's topic name length limit, which Debezium truncates to.
const MAX_TOPIC_LENGTH: usize = 249;

/// `<prefix>.<namespace>.<name>` with blank parts skipped and characters outside
/// `[A-Za-z0-9._-]` replaced by `_` (one per UTF-16 unit, as Debezium does), cut to 249.
/// The topic of an event's table: [`topic_name`], or `<prefix>.message` for PostgreSQL's
/// logical decoding messages.
pub fn table_topic(prefix: &str, table: &TableSchema) -> String {
    if table.is_logical_message() {
        super::pg_message::message_topic(prefix)
    } else {
        topic_name(prefix, &table.id)
    }
}

pub fn topic_name(prefix: &str, table: &TableId) -> String {
    let joined = [prefix, table.namespace.as_str(), table.name.as_str()]
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join(".");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else {
            (0..c.len_utf16()).for_each(|_| out.push('_'));
        }
    }
    out.truncate(MAX_TOPIC_LENGTH);
    match out.as_str() {
        "." => "_".into(),
        ".." => "__".into(),
        _ => out,
    }
}

/// Debezium's `SchemaNameAdjuster` (`avro` mode) on a full name: a first character outside
/// `[A-Za-z_]` becomes `_` (a leading digit is kept after it: `1ab` → `_1ab`), later characters
/// outside `[A-Za-z0-9_.]` become `_`, one per UTF-16 unit.
pub fn sanitize_avro_name(s: &str) -> String {
    adjust(s, true)
}

/// Debezium's `avro` field namer: as [`sanitize_avro_name`], but `.` is invalid too.
pub fn sanitize_field_name(s: &str) -> String {
    adjust(s, false)
}

fn adjust(s: &str, dots: bool) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for (i, c) in s.chars().enumerate() {
        let valid = c.is_ascii_alphabetic()
            || c == '_'
            || (i > 0 && (c.is_ascii_digit() || (dots && c == '.')));
        if valid {
            out.push(c);
        } else {
            (0..c.len_utf16()).for_each(|_| out.push('_'));
            if i == 0 && c.is_ascii_digit() {
                out.push(c);
            }
        }
    }
    out
}

/// A full Avro name from a Connect name: Debezium's adjustment, then (Siphon's addition) each
/// dot-separated part that Avro would still reject (empty, or starting with a digit, which
/// Debezium's check lets through after a `.`) gets a leading `_`.
pub(super) fn avro_full_name(connect_name: &str) -> String {
    sanitize_avro_name(connect_name)
        .split('.')
        .map(|part| match part.chars().next() {
            Some(c) if !c.is_ascii_digit() => part.to_owned(),
            _ => format!("_{part}"),
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub(super) fn split_name(full: &str) -> (&str, &str) {
    full.rsplit_once('.').unwrap_or(("", full))
}

/// How a time-of-day column is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeRepr {
    /// Debezium `Time` / `Timestamp`: `int` / `long` milliseconds.
    Millis,
    Micros,
    Nanos,
    /// Kafka Connect's logical `Time` / `Timestamp` (milliseconds).
    Connect,
}

pub(crate) fn time_repr(p: TimePrecision, mode: TimeMode) -> TimeRepr {
    match mode {
        TimeMode::Connect => TimeRepr::Connect,
        TimeMode::AdaptiveTimeMicroseconds => TimeRepr::Micros,
        TimeMode::Adaptive => adaptive(p),
    }
}

pub(crate) fn timestamp_repr(p: TimePrecision, mode: TimeMode) -> TimeRepr {
    match mode {
        TimeMode::Connect => TimeRepr::Connect,
        TimeMode::Adaptive | TimeMode::AdaptiveTimeMicroseconds => adaptive(p),
    }
}

fn adaptive(p: TimePrecision) -> TimeRepr {
    match p {
        TimePrecision::Millis => TimeRepr::Millis,
        TimePrecision::Micros => TimeRepr::Micros,
        TimePrecision::Nanos => TimeRepr::Nanos,
    }
}

/// How a decimal column is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalRepr {
    /// Connect `Decimal` at this scale (precision parameter only when the column has one).
    Fixed {
        precision: Option<u32>,
        scale: u32,
    },
    VariableScale,
    Double,
    String,
}

pub(crate) fn decimal_repr(
    precision: Option<u32>,
    scale: Option<u32>,
    mode: DecimalMode,
) -> DecimalRepr {
    match (mode, precision, scale) {
        (DecimalMode::Double, ..) => DecimalRepr::Double,
        (DecimalMode::String, ..) => DecimalRepr::String,
        (DecimalMode::Precise, None, None) => DecimalRepr::VariableScale,
        (DecimalMode::Precise, precision, scale) => DecimalRepr::Fixed {
            precision,
            scale: scale.unwrap_or(0),
        },
    }
}

/// A column's default as its field's Avro default, where the column's type takes it as is.
fn default_json(column: &Column) -> Option<Json> {
    use crate::event::ColumnDefault as D;
    match (&column.data_type, column.default.as_ref()?) {
        (DataType::Int16, D::Int(n)) if i16::try_from(*n).is_ok() => Some(json!(n)),
        (DataType::Int32, D::Int(n)) if i32::try_from(*n).is_ok() => Some(json!(n)),
        (DataType::Int64, D::Int(n)) => Some(json!(n)),
        (DataType::Boolean, D::Bool(b)) => Some(json!(b)),
        (DataType::Text, D::Text(t)) => Some(json!(t)),
        _ => None,
    }
}

/// Whether an optional column's union puts null second: as AvroData writes an optional field
/// with a default (Avro wants the default to match the union's first branch).
pub(crate) fn null_last(column: &Column) -> bool {
    is_optional(column) && default_json(column).is_some()
}

/// Whether a column's field is an optional union. Debezium's `Geometry`, `Circle` and `Line`
/// schema builders are optional themselves, so those fields are optional even for a NOT NULL
/// column.
pub(crate) fn is_optional(column: &Column) -> bool {
    column.nullable
        || matches!(
            column.data_type,
            DataType::Geometry | DataType::Shape(_) | DataType::Circle | DataType::Line
        )
}

/// The fractional-second width Debezium pads a `ZonedTimestamp` to: the column's precision.
/// The model's `TimestampTz` carries none, so it is read from a `(n)` in `source_type`
/// (`timestamptz(3)`, `TIMESTAMP(6)`), else the source's default: PostgreSQL 6, MySQL 0.
pub(crate) fn zoned_timestamp_width(column: &Column, source: SourceKind) -> u32 {
    let explicit = column
        .source_type
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(digits, _)| digits.trim().parse::<u32>().ok())
        .filter(|w| *w <= 9);
    explicit.unwrap_or(match source {
        SourceKind::Postgres => 6,
        SourceKind::MySql | SourceKind::MongoDb => 0,
    })
}

/// Builds one schema document, remembering the named types already defined in it.
struct Builder<'a> {
    opts: &'a AvroOptions,
    defined: HashSet<String>,
}

impl Builder<'_> {
    /// A reference to `full` if it was defined before, else its definition from `define`.
    fn named(&mut self, full: &str, space: &str, define: impl FnOnce(&str) -> Json) -> Json {
        if self.defined.insert(full.to_owned()) {
            define(space)
        } else {
            let (ns, name) = split_name(full);
            Json::String(if ns == space { name } else { full }.to_owned())
        }
    }

    /// The non-null Avro type of a column of type `dt` inside namespace `space`.
    fn column_type(&mut self, dt: &DataType, space: &str) -> Result<Json, String> {
        let opts = *self.opts;
        Ok(match dt {
            DataType::Boolean => json!("boolean"),
            DataType::Int16 => json!({"type": "int", "connect.type": "int16"}),
            DataType::Int32 => json!("int"),
            DataType::Int64 => json!("long"),
            DataType::Float32 => json!("float"),
            DataType::Float64 => json!("double"),
            DataType::Decimal { precision, scale } => {
                match decimal_repr(*precision, *scale, opts.decimal) {
                    DecimalRepr::Double => json!("double"),
                    DecimalRepr::String => json!("string"),
                    DecimalRepr::Fixed { precision, scale } => decimal_type(precision, scale)?,
                    DecimalRepr::VariableScale => {
                        self.named(VARIABLE_SCALE_DECIMAL, space, variable_scale_decimal)
                    }
                }
            }
            DataType::Text => json!("string"),
            DataType::Bytes => json!("bytes"),
            DataType::Date => match opts.time {
                TimeMode::Connect => connect_logical("int", "Date", "date"),
                _ => semantic("int", "io.debezium.time.Date", None),
            },
            DataType::Time(p) => match time_repr(*p, opts.time) {
                TimeRepr::Millis => semantic("int", "io.debezium.time.Time", None),
                TimeRepr::Micros => semantic("long", "io.debezium.time.MicroTime", None),
                TimeRepr::Nanos => semantic("long", "io.debezium.time.NanoTime", None),
                TimeRepr::Connect => connect_logical("int", "Time", "time-millis"),
            },
            DataType::TimeTz => semantic("string", "io.debezium.time.ZonedTime", None),
            DataType::Timestamp(p) => match timestamp_repr(*p, opts.time) {
                TimeRepr::Millis => semantic("long", "io.debezium.time.Timestamp", None),
                TimeRepr::Micros => semantic("long", "io.debezium.time.MicroTimestamp", None),
                TimeRepr::Nanos => semantic("long", "io.debezium.time.NanoTimestamp", None),
                TimeRepr::Connect => connect_logical("long", "Timestamp", "timestamp-millis"),
            },
            DataType::TimestampTz => semantic("string", "io.debezium.time.ZonedTimestamp", None),
            DataType::Interval if opts.interval_as_string => {
                semantic("string", "io.debezium.time.Interval", None)
            }
            DataType::Interval => semantic("long", "io.debezium.time.MicroDuration", None),
            DataType::Year => semantic("int", "io.debezium.time.Year", None),
            DataType::Uuid => semantic("string", "io.debezium.data.Uuid", None),
            DataType::Json => semantic("string", "io.debezium.data.Json", None),
            DataType::Xml => semantic("string", "io.debezium.data.Xml", None),
            DataType::Enum { allowed } => semantic(
                "string",
                "io.debezium.data.Enum",
                Some(("allowed", allowed.join(","))),
            ),
            DataType::EnumSet { allowed } => semantic(
                "string",
                "io.debezium.data.EnumSet",
                Some(("allowed", allowed.join(","))),
            ),
            DataType::Bits { length: 0 } => return Err("a bit string of length 0".into()),
            DataType::Bits { length: 1 } => json!("boolean"),
            DataType::Bits { length } => semantic(
                "bytes",
                "io.debezium.data.Bits",
                Some(("length", length.to_string())),
            ),
            DataType::Map if opts.hstore_as_map => {
                json!({"type": "map", "values": ["null", "string"]})
            }
            DataType::Map => semantic("string", "io.debezium.data.Json", None),
            DataType::Geometry | DataType::Shape(_) => self.named(GEOMETRY, space, geometry),
            DataType::Point => self.named(POINT, space, point),
            DataType::Geography => self.named(GEOGRAPHY, space, geography),
            DataType::Line => self.named(LINE, space, line),
            DataType::Circle if self.defined.contains(CIRCLE) => {
                self.named(CIRCLE, space, |_| Json::Null)
            }
            DataType::Circle => {
                // The center's Point is defined inside the Circle (unless seen before).
                let center = self.named(POINT, SPATIAL_NAMESPACE, point);
                self.named(CIRCLE, space, |s| circle(s, center))
            }
            DataType::TsVector => semantic("string", "io.debezium.data.Tsvector", None),
            DataType::Ltree => semantic("string", "io.debezium.data.Ltree", None),
            DataType::DoubleVector => vector("double", "io.debezium.data.DoubleVector"),
            DataType::FloatVector => vector("float", "io.debezium.data.FloatVector"),
            DataType::Array(element) => {
                let items = self.column_type(element, space)?;
                json!({"type": "array", "items": ["null", items]})
            }
        })
    }

    /// A record of `columns` named `full` (written inside namespace `enclosing`).
    fn row_record(
        &mut self,
        full: &str,
        enclosing: &str,
        table: &TableSchema,
        columns: &[usize],
    ) -> Result<Json, SchemaError> {
        let (space, _) = split_name(full);
        let mut fields = Vec::with_capacity(columns.len());
        let mut seen = HashSet::new();
        for &i in columns {
            let column = table.columns.get(i).ok_or_else(|| SchemaError::Table {
                table: table.id.to_string(),
                reason: format!("key index {i} out of range"),
            })?;
            let column_error = |reason: String| SchemaError::Column {
                table: table.id.to_string(),
                column: column.name.clone(),
                source_type: column.source_type.clone(),
                reason,
            };
            let name = sanitize_field_name(&column.name);
            if name.is_empty() || !seen.insert(name.clone()) {
                return Err(column_error(format!(
                    "Avro field name \"{name}\" is empty or not unique in the table"
                )));
            }
            let ty = self
                .column_type(&column.data_type, space)
                .map_err(column_error)?;
            // Defaults as AvroData writes them: `connect.default` on the type and the field's
            // default (so adding such a column is a compatible change); an optional field with
            // a default is the union `[T, "null"]`, whose first branch the default matches.
            let with_default = |ty: Json, d: &Json| {
                let mut ty = match ty {
                    Json::Object(m) => m,
                    other => Map::from_iter([("type".to_owned(), other)]),
                };
                ty.insert("connect.default".into(), d.clone());
                Json::Object(ty)
            };
            fields.push(match (is_optional(column), default_json(column)) {
                (true, Some(d)) => {
                    json!({"name": name, "type": [with_default(ty, &d), "null"], "default": d})
                }
                (true, None) => json!({"name": name, "type": ["null", ty], "default": null}),
                (false, Some(d)) => {
                    json!({"name": name, "type": with_default(ty, &d), "default": d})
                }
                (false, None) => json!({"name": name, "type": ty}),
            });
        }
        self.defined.insert(full.to_owned());
        Ok(record(
            full,
            enclosing,
            fields,
            vec![("connect.name", json!(full))],
        ))
    }
}

const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
const CONNECT_DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
/// `AvroData`'s precision for a Connect `Decimal` without `connect.decimal.precision`.
const DEFAULT_DECIMAL_PRECISION: u32 = 64;

/// A record type; `namespace` only when it differs from the enclosing one, as Avro's Java
/// `Schema.toString` writes it.
pub(super) fn record(
    full: &str,
    enclosing: &str,
    fields: Vec<Json>,
    props: Vec<(&str, Json)>,
) -> Json {
    let (ns, name) = split_name(full);
    let mut m = Map::new();
    m.insert("type".into(), json!("record"));
    m.insert("name".into(), json!(name));
    if ns != enclosing {
        m.insert("namespace".into(), json!(ns));
    }
    m.insert("fields".into(), Json::Array(fields));
    for (k, v) in props {
        m.insert(k.into(), v);
    }
    Json::Object(m)
}

/// A primitive carrying a Debezium semantic type: version 1, optional parameter, name.
pub(super) fn semantic(ty: &str, name: &str, parameter: Option<(&str, String)>) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    m.insert("connect.version".into(), json!(1));
    if let Some((k, v)) = parameter {
        m.insert("connect.parameters".into(), json!({ k: v }));
    }
    m.insert("connect.name".into(), json!(name));
    Json::Object(m)
}

/// Debezium's `DoubleVector` / `FloatVector`: an array of required numbers, named.
fn vector(item: &str, name: &str) -> Json {
    json!({"type": "array", "items": item, "connect.version": 1, "connect.name": name})
}

/// Kafka Connect's logical `Date` / `Time` / `Timestamp`.
fn connect_logical(ty: &str, connect: &str, logical: &str) -> Json {
    json!({
        "type": ty,
        "connect.version": 1,
        "connect.name": format!("org.apache.kafka.connect.data.{connect}"),
        "logicalType": logical,
    })
}

fn decimal_type(precision: Option<u32>, scale: u32) -> Result<Json, String> {
    let avro_precision = precision.unwrap_or(DEFAULT_DECIMAL_PRECISION);
    if avro_precision == 0 || scale > avro_precision {
        return Err(format!(
            "decimal precision {avro_precision} and scale {scale} are not a valid Avro decimal"
        ));
    }
    let mut parameters = Map::new();
    parameters.insert("scale".into(), json!(scale.to_string()));
    if let Some(p) = precision {
        parameters.insert("connect.decimal.precision".into(), json!(p.to_string()));
    }
    Ok(json!({
        "type": "bytes",
        "scale": scale,
        "precision": avro_precision,
        "connect.version": 1,
        "connect.parameters": parameters,
        "connect.name": CONNECT_DECIMAL,
        "logicalType": "decimal",
    }))
}

fn variable_scale_decimal(space: &str) -> Json {
    record(
        VARIABLE_SCALE_DECIMAL,
        space,
        vec![
            json!({"name": "scale", "type": "int"}),
            json!({"name": "value", "type": "bytes"}),
        ],
        vec![
            ("connect.doc", json!("Variable scaled decimal")),
            ("connect.version", json!(1)),
            ("connect.name", json!(VARIABLE_SCALE_DECIMAL)),
        ],
    )
}

fn optional(ty: &str) -> Json {
    json!(["null", ty])
}

/// The per-connector `source` record (Debezium 3.1+: versioned, snapshot enum versioned).
pub(super) fn source_record(kind: SourceKind, enclosing: &str) -> Json {
    let field = |name: &str, ty: Json| json!({"name": name, "type": ty});
    let opt = |name: &str, ty: &str| json!({"name": name, "type": optional(ty), "default": null});
    let snapshot = json!({
        "name": "snapshot",
        "type": [{
            "type": "string",
            "connect.version": 1,
            "connect.parameters": {"allowed": SNAPSHOT_ALLOWED},
            "connect.default": "false",
            "connect.name": "io.debezium.data.Enum",
        }, "null"],
        "default": "false",
    });
    let mut fields = vec![
        field("version", json!("string")),
        field("connector", json!("string")),
        field("name", json!("string")),
        field("ts_ms", json!("long")),
        snapshot,
        field("db", json!("string")),
        opt("sequence", "string"),
        opt("ts_us", "long"),
        opt("ts_ns", "long"),
    ];
    let name = match kind {
        SourceKind::Postgres => {
            fields.extend([
                field("schema", json!("string")),
                field("table", json!("string")),
                opt("txId", "long"),
                opt("lsn", "long"),
                opt("xmin", "long"),
            ]);
            "io.debezium.connector.postgresql.Source"
        }
        SourceKind::MySql => {
            fields.extend([
                opt("table", "string"),
                field("server_id", json!("long")),
                opt("gtid", "string"),
                field("file", json!("string")),
                field("pos", json!("long")),
                field("row", json!("int")),
                opt("thread", "long"),
                opt("query", "string"),
            ]);
            "io.debezium.connector.mysql.Source"
        }
        SourceKind::MongoDb => {
            fields.extend([
                field("collection", json!("string")),
                field("ord", json!("int")),
                opt("lsid", "string"),
                opt("txnNumber", "long"),
                opt("wallTime", "long"),
            ]);
            // Debezium's MongoDB name really is `mongo`, not `mongodb`.
            "io.debezium.connector.mongo.Source"
        }
    };
    record(
        name,
        enclosing,
        fields,
        vec![("connect.version", json!(1)), ("connect.name", json!(name))],
    )
}

pub(super) fn transaction_record(enclosing: &str) -> Json {
    record(
        "event.block",
        enclosing,
        vec![
            json!({"name": "id", "type": "string"}),
            json!({"name": "total_order", "type": "long"}),
            json!({"name": "data_collection_order", "type": "long"}),
        ],
        vec![
            ("connect.version", json!(1)),
            ("connect.name", json!("event.block")),
        ],
    )
}

/// Derives the key and envelope schemas of `table` for records on `topic`.
pub fn table_schemas(
    topic: &str,
    table: &TableSchema,
    opts: &AvroOptions,
) -> Result<TableAvroSchemas, SchemaError> {
    let table_error = |reason: String| SchemaError::Table {
        table: table.id.to_string(),
        reason,
    };
    table.check().map_err(table_error)?;
    if table.is_logical_message() {
        return super::pg_message::message_schemas(opts);
    }
    if opts.source == SourceKind::MongoDb {
        return super::mongo_envelope::document_schemas(topic, &table.id, opts);
    }
    let base = avro_full_name(topic);

    let key_doc = if table.primary_key.is_empty() {
        None
    } else {
        let mut b = Builder {
            opts,
            defined: HashSet::new(),
        };
        Some(b.row_record(&format!("{base}.Key"), "", table, &table.primary_key)?)
    };

    let envelope_name = format!("{base}.Envelope");
    let (space, _) = split_name(&envelope_name);
    let mut b = Builder {
        opts,
        defined: HashSet::new(),
    };
    let all: Vec<usize> = (0..table.columns.len()).collect();
    let value_name = format!("{base}.Value");
    let value_record = b.row_record(&value_name, space, table, &all)?;
    let value_ref = split_name(&value_name).1;
    let nullable =
        |name: &str, ty: Json| json!({"name": name, "type": ["null", ty], "default": null});
    let fields: Vec<Json> = ENVELOPE_FIELDS
        .iter()
        .map(|&f| match f {
            "before" => nullable(f, value_record.clone()),
            "after" => nullable(f, json!(value_ref)),
            "source" => json!({"name": f, "type": source_record(opts.source, space)}),
            "transaction" => nullable(f, transaction_record(space)),
            "op" => json!({"name": f, "type": "string"}),
            _ => nullable(f, json!("long")),
        })
        .collect();
    let envelope = record(
        &envelope_name,
        "",
        fields,
        vec![
            ("connect.version", json!(2)),
            ("connect.name", json!(envelope_name)),
        ],
    );

    TableAvroSchemas::parse(&table.id, key_doc.as_ref(), &envelope, *opts)
}

#[cfg(test)]
#[path = "avro_schema_tests.rs"]
pub(crate) mod tests;
