//! Encodes a [`ChangeEvent`] as the Avro key and `Envelope` values of the schemas
//! [`table_schemas`](super::avro_schema::table_schemas) derived, rendering each column the way
//! Debezium's value converters do.
//!
//! Decisions where Debezium is silent, ambiguous, or where Siphon deliberately differs:
//! - **NULL in a NOT NULL column.** In `before`, Debezium's per-type fallback (`0`, `""`,
//!   `false`, the epoch, an empty array...), which is what Debezium writes: a PostgreSQL DELETE
//!   under `REPLICA IDENTITY DEFAULT` carries only the key, and the reader fills the other
//!   columns with NULL. In `after` and in the key it is an [`EncodeError`] (a new row cannot
//!   have it, so the table schema is stale), where Debezium would write the fallback silently.
//! - **Unavailable (unchanged TOAST).** Debezium's default placeholder
//!   `__debezium_unavailable_value` where the Avro type can carry it as Debezium does: any
//!   column written as an Avro string (text, json, xml, enum, uuid, decimal in `string` mode,
//!   hstore as JSON...), `bytes` (the placeholder's UTF-8 bytes), hstore as a map
//!   (`{placeholder: placeholder}`), arrays of strings / bytes (`[placeholder]`), of `int4` or
//!   `date` / `int8` (the placeholder's bytes as numbers) and of uuid (Java's
//!   `UUID.nameUUIDFromBytes(placeholder)`). Any other type: NULL if the column is nullable,
//!   else an [`EncodeError`] (Debezium has no rule; such types are rarely TOASTable).
//! - **NaN / ±Infinity decimals.** `double` mode: the IEEE values; `string` mode: `NAN`,
//!   `POSITIVE_INFINITY`, `NEGATIVE_INFINITY` (Debezium's spelling). `precise` mode has no way to
//!   express them: NULL for a nullable column (or array element), else an [`EncodeError`]
//!   (Debezium fails the connector in both cases).
//! - **Decimals** are brought to the column's scale exactly; a value with more fractional
//!   digits than the scale, or (precise mode) more digits than the precision, is an error,
//!   never rounded. Variable-scale decimals drop trailing fractional zeros, as Debezium does.
//! - **Infinite PostgreSQL timestamps** (the reader's `i64::MAX` / `i64::MIN`) become
//!   Debezium's values: `infinity` / `-infinity` for `ZonedTimestamp`, 9223372036825200000 /
//!   -9223372036832400000 microseconds (milliseconds: divided by 1000) and `i64::MAX` /
//!   `i64::MIN` nanoseconds. Infinite dates pass through as `i32::MAX` / `i32::MIN` days.
//! - **hstore as JSON** keeps the source's pair order (Debezium's follows a Java `HashMap`).
//! - **Multi-dimensional arrays** (a nested array value in a one-level array type) are an error.

use apache_avro::Schema;
use apache_avro::schema::RecordField;
use apache_avro::types::Value as Avro;

use super::avro_convert::{Ctx, opt, some};
use super::avro_schema::{
    AvroOptions, ENVELOPE_FIELDS, SourceKind, TableAvroSchemas, sanitize_field_name,
};
use super::avro_write::{AvroWriter, WriteError, write_long};
use super::mongo_envelope::{document_envelope, document_key};
use crate::event::{ChangeEvent, Op, Row, SnapshotMarker, SourceDetails, TableSchema};

/// Connector-level `source` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorMeta {
    /// `source.name`: the connector's `topic.prefix`.
    pub name: String,
    /// `source.version`: Siphon's version string.
    pub version: String,
    /// `source.connector`: `"postgresql"`, `"mysql"` or `"mongodb"`.
    pub connector: &'static str,
}

/// An event that cannot be encoded; names the table, column, type and (truncated) value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{table}.{column} ({source_type}): value {value} {reason}")]
    Column {
        table: String,
        column: String,
        source_type: String,
        value: String,
        reason: String,
    },
    #[error("{table}: {reason}")]
    Event { table: String, reason: String },
    #[error("{table}: {source}")]
    Write { table: String, source: WriteError },
}

/// The record key, or `None` when the table has no key (or for a truncate, which Debezium
/// keys with null).
pub fn key_value(
    event: &ChangeEvent,
    schemas: &TableAvroSchemas,
) -> Result<Option<Avro>, EncodeError> {
    if schemas.options().source == SourceKind::MongoDb {
        return document_key(event).map(Some);
    }
    if event.table.is_logical_message() {
        return super::pg_message::message_key(event).map(Some);
    }
    let Some(key_schema) = &schemas.key else {
        return Ok(None);
    };
    if event.op == Op::Truncate {
        return Ok(None);
    }
    let table = &event.table;
    let names = record_fields(key_schema, table, &table.primary_key)?;
    let row = event
        .after
        .as_ref()
        .or(event.before.as_ref())
        .ok_or_else(|| event_error(table, "the event has no row to take the key from"))?;
    check_row(row, table)?;
    let ctx = Ctx {
        opts: schemas.options(),
        table,
        fallback_nulls: false,
    };
    ctx.record(row, &table.primary_key, names).map(Some)
}

/// The `Envelope` value. `processed_at_us` is when Siphon handled the event (the envelope's
/// `ts_*`); the source's commit time is in `event.source`.
pub fn envelope_value(
    event: &ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
    schemas: &TableAvroSchemas,
) -> Result<Avro, EncodeError> {
    if opts.source == SourceKind::MongoDb {
        return document_envelope(event, meta, processed_at_us, opts);
    }
    if event.table.is_logical_message() {
        return super::pg_message::message_value(event, meta, processed_at_us, opts);
    }
    let (all, fields) = envelope_checks(event, opts, schemas)?;
    let table = &event.table;
    let mut out = Vec::with_capacity(ENVELOPE_FIELDS.len());
    for name in ENVELOPE_FIELDS {
        let value = match envelope_part(name, event, meta, processed_at_us, opts)? {
            Part::Row(None, _) => Avro::Union(0, Box::new(Avro::Null)),
            Part::Row(Some(row), fallback_nulls) => {
                let ctx = Ctx {
                    opts,
                    table,
                    fallback_nulls,
                };
                Avro::Union(1, Box::new(ctx.record(row, &all, fields)?))
            }
            Part::Value(v) => v,
        };
        out.push((name.to_owned(), value));
    }
    Ok(Avro::Record(out))
}

/// Appends the Avro binary encoding of [`envelope_value`]'s value to `out`, writing the rows
/// column by column instead of building them as records first (the hot path: a row is most
/// of an event, and its field names and boxes would be built only to be dropped).
pub fn write_envelope(
    event: &ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
    schemas: &TableAvroSchemas,
    writer: &AvroWriter,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let table = &event.table;
    let write_err = |source: WriteError| EncodeError::Write {
        table: table.id.to_string(),
        source,
    };
    if opts.source == SourceKind::MongoDb {
        // Documents are one string per image: nothing to gain from writing them in place.
        let value = document_envelope(event, meta, processed_at_us, opts)?;
        return writer.write(&value, out).map_err(write_err);
    }
    if table.is_logical_message() {
        let value = super::pg_message::message_value(event, meta, processed_at_us, opts)?;
        return writer.write(&value, out).map_err(write_err);
    }
    let (all, fields) = envelope_checks(event, opts, schemas)?;
    let Schema::Record(envelope) = &schemas.value else {
        return Err(event_error(table, "the value schema is not a record"));
    };
    let namespace = envelope.name.namespace();
    if envelope.fields.len() != ENVELOPE_FIELDS.len() {
        return Err(event_error(
            table,
            "the value schema is not Debezium's envelope",
        ));
    }
    for (name, field) in ENVELOPE_FIELDS.into_iter().zip(&envelope.fields) {
        match envelope_part(name, event, meta, processed_at_us, opts)? {
            Part::Row(None, _) => write_long(0, out),
            Part::Row(Some(row), fallback_nulls) => {
                write_long(1, out);
                let ctx = Ctx {
                    opts,
                    table,
                    fallback_nulls,
                };
                for (&i, f) in all.iter().zip(fields) {
                    let v = ctx.column(row, i)?;
                    writer
                        .write_at(&v, &f.schema, namespace, out)
                        .map_err(|e| write_err(e.within(name)))?;
                }
            }
            Part::Value(v) => writer
                .write_at(&v, &field.schema, namespace, out)
                .map_err(|e| write_err(e.within(name)))?,
        }
    }
    Ok(())
}

/// What both envelope encodings check first; the row's columns and their record fields.
fn envelope_checks<'s>(
    event: &ChangeEvent,
    opts: &AvroOptions,
    schemas: &'s TableAvroSchemas,
) -> Result<(Vec<usize>, &'s [RecordField]), EncodeError> {
    let table = &event.table;
    if opts != schemas.options() {
        return Err(event_error(
            table,
            "the Avro options differ from those the schemas were derived with",
        ));
    }
    if event.op == Op::Message {
        return Err(event_error(
            table,
            "logical decoding messages use Debezium's message envelope, which this encoder does not build",
        ));
    }
    for row in [&event.before, &event.after].into_iter().flatten() {
        check_row(row, table)?;
    }
    let all: Vec<usize> = (0..table.columns.len()).collect();
    let fields = record_fields(value_record(&schemas.value), table, &all)?;
    Ok((all, fields))
}

/// One envelope field: a row (with whether NULLs in NOT NULL columns get fallbacks), or a
/// value built whole.
enum Part<'a> {
    Row(Option<&'a Row>, bool),
    Value(Avro),
}

fn envelope_part<'e>(
    name: &str,
    event: &'e ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
) -> Result<Part<'e>, EncodeError> {
    let table = &event.table;
    Ok(Part::Value(match name {
        "before" => return Ok(Part::Row(event.before.as_ref(), true)),
        "after" => return Ok(Part::Row(event.after.as_ref(), false)),
        "source" => source_value(event, meta, opts.source)?,
        "transaction" => transaction_value(event)?,
        "op" => Avro::String(event.op.code().into()),
        "ts_ms" => some(Avro::Long(processed_at_us.div_euclid(1000))),
        "ts_us" => some(Avro::Long(processed_at_us)),
        _ => some(Avro::Long(nanos_of(processed_at_us, table)?)),
    }))
}

/// The envelope's optional `transaction` block.
pub(super) fn transaction_value(event: &ChangeEvent) -> Result<Avro, EncodeError> {
    let table = &event.table;
    Ok(match &event.transaction {
        None => Avro::Union(0, Box::new(Avro::Null)),
        Some(tx) => some(Avro::Record(vec![
            ("id".into(), Avro::String(tx.id.clone())),
            ("total_order".into(), long_of(tx.total_order, table)?),
            (
                "data_collection_order".into(),
                long_of(tx.data_collection_order, table)?,
            ),
        ])),
    })
}

pub(super) fn event_error(table: &TableSchema, reason: impl Into<String>) -> EncodeError {
    EncodeError::Event {
        table: table.id.to_string(),
        reason: reason.into(),
    }
}

fn long_of(v: u64, table: &TableSchema) -> Result<Avro, EncodeError> {
    i64::try_from(v)
        .map(Avro::Long)
        .map_err(|_| event_error(table, format!("{v} does not fit an Avro long")))
}

fn nanos_of(micros: i64, table: &TableSchema) -> Result<i64, EncodeError> {
    micros
        .checked_mul(1000)
        .ok_or_else(|| event_error(table, format!("{micros} µs overflows nanoseconds")))
}

fn check_row(row: &Row, table: &TableSchema) -> Result<(), EncodeError> {
    if row.0.len() == table.columns.len() {
        Ok(())
    } else {
        Err(event_error(
            table,
            format!(
                "row has {} values, the table schema {} columns",
                row.0.len(),
                table.columns.len()
            ),
        ))
    }
}

/// The `Value` record inside the envelope's `before` union.
fn value_record(envelope: &Schema) -> &Schema {
    if let Schema::Record(r) = envelope
        && let Some(before) = r.fields.first()
        && let Schema::Union(u) = &before.schema
        && let Some(value) = u.variants().get(1)
    {
        return value;
    }
    envelope
}

/// The record's fields, after checking they are the columns' (the schemas belong to this
/// table version).
fn record_fields<'s>(
    record: &'s Schema,
    table: &TableSchema,
    columns: &[usize],
) -> Result<&'s [RecordField], EncodeError> {
    let mismatch = || {
        event_error(
            table,
            "the Avro schemas were derived for another table version",
        )
    };
    let Schema::Record(r) = record else {
        return Err(mismatch());
    };
    if r.fields.len() != columns.len() {
        return Err(mismatch());
    }
    for (&i, field) in columns.iter().zip(&r.fields) {
        match table.columns.get(i) {
            Some(c) if field_name_matches(&c.name, &field.name) => {}
            _ => return Err(mismatch()),
        }
    }
    Ok(&r.fields)
}

/// `sanitize_field_name(column) == field`, without allocating when the name needs no change.
fn field_name_matches(column: &str, field: &str) -> bool {
    column == field || sanitize_field_name(column) == field
}

pub(super) fn source_value(
    event: &ChangeEvent,
    meta: &ConnectorMeta,
    kind: SourceKind,
) -> Result<Avro, EncodeError> {
    let table = &event.table;
    let src = &event.source;
    let mut fields: Vec<(String, Avro)> = vec![
        ("version".into(), Avro::String(meta.version.clone())),
        ("connector".into(), Avro::String(meta.connector.into())),
        ("name".into(), Avro::String(meta.name.clone())),
        ("ts_ms".into(), Avro::Long(src.ts_us.div_euclid(1000))),
        (
            "snapshot".into(),
            Avro::Union(0, Box::new(Avro::String(src.snapshot.as_str().into()))),
        ),
        ("db".into(), Avro::String(src.db.clone())),
    ];
    let sequence = match &src.details {
        SourceDetails::Postgres {
            lsn,
            last_commit_lsn,
            ..
        } => {
            let parts = [last_commit_lsn, lsn].map(|l| l.map(|l| l.to_string()));
            Some(serde_json::to_string(&parts).map_err(|e| event_error(table, e.to_string()))?)
        }
        _ => None,
    };
    fields.push(("sequence".into(), opt(sequence, Avro::String)));
    fields.push(("ts_us".into(), some(Avro::Long(src.ts_us))));
    fields.push((
        "ts_ns".into(),
        some(Avro::Long(nanos_of(src.ts_us, table)?)),
    ));
    let to_i64 = |v: u64| {
        i64::try_from(v).map_err(|_| event_error(table, format!("{v} does not fit an Avro long")))
    };
    let to_i32 = |v: u32| {
        i32::try_from(v).map_err(|_| event_error(table, format!("{v} does not fit an Avro int")))
    };
    match (&src.details, kind) {
        (
            SourceDetails::Postgres {
                tx_id, lsn, xmin, ..
            },
            SourceKind::Postgres,
        ) => {
            // Debezium leaves these out of incremental-snapshot events.
            let streamed = src.snapshot != SnapshotMarker::Incremental;
            let lsn = match lsn.filter(|_| streamed) {
                Some(l) => Some(to_i64(l)?),
                None => None,
            };
            fields.extend([
                ("schema".into(), Avro::String(table.id.namespace.clone())),
                ("table".into(), Avro::String(table.id.name.clone())),
                ("txId".into(), opt(tx_id.filter(|_| streamed), Avro::Long)),
                ("lsn".into(), opt(lsn, Avro::Long)),
                ("xmin".into(), opt(xmin.filter(|_| streamed), Avro::Long)),
            ]);
        }
        (
            SourceDetails::MySql {
                server_id,
                gtid,
                file,
                pos,
                row,
                thread,
                query,
            },
            SourceKind::MySql,
        ) => {
            let thread = match thread {
                Some(t) => Some(to_i64(*t)?),
                None => None,
            };
            fields.extend([
                ("table".into(), some(Avro::String(table.id.name.clone()))),
                ("server_id".into(), Avro::Long(to_i64(*server_id)?)),
                ("gtid".into(), opt(gtid.clone(), Avro::String)),
                ("file".into(), Avro::String(file.clone())),
                ("pos".into(), Avro::Long(to_i64(*pos)?)),
                ("row".into(), Avro::Int(to_i32(*row)?)),
                ("thread".into(), opt(thread, Avro::Long)),
                ("query".into(), opt(query.clone(), Avro::String)),
            ]);
        }
        (
            SourceDetails::Mongo {
                ord,
                lsid,
                txn_number,
                wall_time,
            },
            SourceKind::MongoDb,
        ) => {
            fields.extend([
                ("collection".into(), Avro::String(table.id.name.clone())),
                ("ord".into(), Avro::Int(*ord)),
                ("lsid".into(), opt(lsid.clone(), Avro::String)),
                ("txnNumber".into(), opt(*txn_number, Avro::Long)),
                ("wallTime".into(), opt(*wall_time, Avro::Long)),
            ]);
        }
        (details, kind) => {
            return Err(event_error(
                table,
                format!("source details {details:?} do not belong to a {kind:?} connector"),
            ));
        }
    }
    Ok(Avro::Record(fields))
}

/// A row as the record of `columns` (the record's `fields`); a value that does not convert
/// becomes an [`EncodeError::Column`] naming the table, column and type.
impl Ctx<'_> {
    fn record(
        &self,
        row: &Row,
        columns: &[usize],
        fields: &[RecordField],
    ) -> Result<Avro, EncodeError> {
        let mut out = Vec::with_capacity(columns.len());
        for (&i, field) in columns.iter().zip(fields) {
            out.push((field.name.clone(), self.column(row, i)?));
        }
        Ok(Avro::Record(out))
    }

    /// Column `i` of `row` as Avro.
    fn column(&self, row: &Row, i: usize) -> Result<Avro, EncodeError> {
        let (Some(column), Some(value)) = (self.table.columns.get(i), row.get(i)) else {
            return Err(event_error(self.table, format!("no column {i}")));
        };
        self.field(value, column).map_err(|f| EncodeError::Column {
            table: self.table.id.to_string(),
            column: column.name.clone(),
            source_type: column.source_type.clone(),
            value: f.value,
            reason: f.reason,
        })
    }
}

#[cfg(test)]
#[path = "avro_value_tests.rs"]
pub(crate) mod tests;
