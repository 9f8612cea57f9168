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
use apache_avro::types::Value as Avro;

use super::avro_convert::{Ctx, opt, some};
use super::avro_schema::{
    AvroOptions, ENVELOPE_FIELDS, SourceKind, TableAvroSchemas, sanitize_field_name,
};
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
}

/// The record key, or `None` when the table has no key (or for a truncate, which Debezium
/// keys with null).
pub fn key_value(
    event: &ChangeEvent,
    schemas: &TableAvroSchemas,
) -> Result<Option<Avro>, EncodeError> {
    let Some(key_schema) = &schemas.key else {
        return Ok(None);
    };
    if event.op == Op::Truncate {
        return Ok(None);
    }
    let table = &event.table;
    let names = field_names(key_schema, table, &table.primary_key)?;
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
    ctx.record(row, &table.primary_key, &names).map(Some)
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
    let all: Vec<usize> = (0..table.columns.len()).collect();
    let names = field_names(value_record(&schemas.value), table, &all)?;
    let row = |row: Option<&Row>, fallback_nulls: bool| -> Result<Avro, EncodeError> {
        Ok(match row {
            None => Avro::Union(0, Box::new(Avro::Null)),
            Some(row) => {
                check_row(row, table)?;
                let ctx = Ctx {
                    opts,
                    table,
                    fallback_nulls,
                };
                Avro::Union(1, Box::new(ctx.record(row, &all, &names)?))
            }
        })
    };
    let mut fields = Vec::with_capacity(ENVELOPE_FIELDS.len());
    for name in ENVELOPE_FIELDS {
        let value = match name {
            "before" => row(event.before.as_ref(), true)?,
            "after" => row(event.after.as_ref(), false)?,
            "source" => source_value(event, meta, opts.source)?,
            "transaction" => match &event.transaction {
                None => Avro::Union(0, Box::new(Avro::Null)),
                Some(tx) => Avro::Union(
                    1,
                    Box::new(Avro::Record(vec![
                        ("id".into(), Avro::String(tx.id.clone())),
                        ("total_order".into(), long_of(tx.total_order, table)?),
                        (
                            "data_collection_order".into(),
                            long_of(tx.data_collection_order, table)?,
                        ),
                    ])),
                ),
            },
            "op" => Avro::String(event.op.code().into()),
            "ts_ms" => some(Avro::Long(processed_at_us.div_euclid(1000))),
            "ts_us" => some(Avro::Long(processed_at_us)),
            _ => some(Avro::Long(nanos_of(processed_at_us, table)?)),
        };
        fields.push((name.to_owned(), value));
    }
    Ok(Avro::Record(fields))
}

fn event_error(table: &TableSchema, reason: impl Into<String>) -> EncodeError {
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

/// The record's field names, after checking they are the columns' (the schemas belong to this
/// table version).
fn field_names(
    record: &Schema,
    table: &TableSchema,
    columns: &[usize],
) -> Result<Vec<String>, EncodeError> {
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
    columns
        .iter()
        .zip(&r.fields)
        .map(|(&i, field)| match table.columns.get(i) {
            Some(c) if sanitize_field_name(&c.name) == field.name => Ok(field.name.clone()),
            _ => Err(mismatch()),
        })
        .collect()
}

fn source_value(
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
                ("ord".into(), Avro::Int(to_i32(*ord)?)),
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

/// A row as the record of `columns` (named `names`); a value that does not convert becomes an
/// [`EncodeError::Column`] naming the table, column and type.
impl Ctx<'_> {
    fn record(&self, row: &Row, columns: &[usize], names: &[String]) -> Result<Avro, EncodeError> {
        let mut fields = Vec::with_capacity(columns.len());
        for (&i, name) in columns.iter().zip(names) {
            let (Some(column), Some(value)) = (self.table.columns.get(i), row.get(i)) else {
                return Err(event_error(self.table, format!("no column {i}")));
            };
            let encoded = self.field(value, column).map_err(|f| EncodeError::Column {
                table: self.table.id.to_string(),
                column: column.name.clone(),
                source_type: column.source_type.clone(),
                value: f.value,
                reason: f.reason,
            })?;
            fields.push((name.clone(), encoded));
        }
        Ok(Avro::Record(fields))
    }
}

#[cfg(test)]
#[path = "avro_value_tests.rs"]
pub(crate) mod tests;
