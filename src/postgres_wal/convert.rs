//! Pure conversion of decoded pgoutput row messages into change events.

use std::sync::Arc;

use super::error::PgError;
use super::pgoutput::{OldTuple, TupleData, TupleValue};
use super::relations::TableState;
use super::types::parse_text;
use crate::event::{
    ChangeEvent, Op, Row, SnapshotMarker, SourceDetails, SourceInfo, TableSchema, Value,
};

/// Where the change happened: the fields of Debezium's `source` block the stream knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeContext<'a> {
    pub db: &'a str,
    /// Commit time, microseconds since the Unix epoch.
    pub commit_ts_us: i64,
    pub xid: u32,
    /// LSN of this change.
    pub lsn: u64,
    /// Commit LSN of the previous transaction the stream delivered.
    pub last_commit_lsn: Option<u64>,
}

/// One tuple → one row in schema order. Values of excluded columns are dropped; a TOASTed
/// value the WAL did not carry becomes `Value::Unavailable`.
pub fn tuple_to_row(table: &TableState, tuple: &TupleData) -> Result<Row, PgError> {
    if tuple.len() != table.wire_to_schema.len() {
        return Err(PgError::Protocol(format!(
            "{}: tuple has {} columns, the relation {}",
            table.schema.id,
            tuple.len(),
            table.wire_to_schema.len()
        )));
    }
    let mut values = vec![Value::Null; table.schema.columns.len()];
    for (value, target) in tuple.iter().zip(&table.wire_to_schema) {
        let Some(i) = *target else { continue };
        let (Some(slot), Some(ty), Some(column)) = (
            values.get_mut(i),
            table.types.get(i),
            table.schema.columns.get(i),
        ) else {
            continue;
        };
        *slot = match value {
            TupleValue::Null => Value::Null,
            TupleValue::UnchangedToast => Value::Unavailable,
            TupleValue::Text(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    PgError::Protocol(format!(
                        "{}.{}: value is not UTF-8",
                        table.schema.id, column.name
                    ))
                })?;
                parse_text(ty, text).map_err(|source| PgError::Value {
                    table: table.schema.id.to_string(),
                    column: column.name.clone(),
                    source,
                })?
            }
            TupleValue::Binary(_) => {
                return Err(PgError::Protocol(format!(
                    "{}.{}: binary tuple value, but text format was requested",
                    table.schema.id, column.name
                )));
            }
        };
    }
    Ok(Row(values))
}

fn source(ctx: &ChangeContext<'_>) -> SourceInfo {
    SourceInfo {
        ts_us: ctx.commit_ts_us,
        snapshot: SnapshotMarker::False,
        db: ctx.db.to_owned(),
        details: SourceDetails::Postgres {
            tx_id: Some(i64::from(ctx.xid)),
            lsn: Some(ctx.lsn),
            xmin: None,
            last_commit_lsn: ctx.last_commit_lsn,
        },
    }
}

fn event(
    op: Op,
    table: &TableState,
    before: Option<Row>,
    after: Option<Row>,
    ctx: &ChangeContext<'_>,
) -> ChangeEvent {
    ChangeEvent {
        op,
        table: Arc::clone(&table.schema),
        before,
        after,
        source: source(ctx),
        transaction: None,
        document: None,
    }
}

/// A logical decoding message (`pg_logical_emit_message`): Debezium's `op: m`, its row the
/// prefix and content. A message outside a transaction (`xid` `None`) has no `txId`.
pub fn logical_message(
    prefix: String,
    content: Vec<u8>,
    xid: Option<u32>,
    ctx: &ChangeContext<'_>,
) -> ChangeEvent {
    let mut source = source(ctx);
    if let SourceDetails::Postgres { tx_id, .. } = &mut source.details {
        *tx_id = xid.map(i64::from);
    }
    ChangeEvent {
        op: Op::Message,
        table: Arc::new(TableSchema::logical_message()),
        before: None,
        after: Some(Row(vec![Value::Text(prefix), Value::Bytes(content)])),
        source,
        transaction: None,
        document: None,
    }
}

/// `TRUNCATE` of a captured table: Debezium's `op: t`, no rows, a null key.
pub fn truncate(table: &TableState, ctx: &ChangeContext<'_>) -> ChangeEvent {
    event(Op::Truncate, table, None, None, ctx)
}

pub fn insert(
    table: &TableState,
    new: &TupleData,
    ctx: &ChangeContext<'_>,
) -> Result<ChangeEvent, PgError> {
    Ok(event(
        Op::Create,
        table,
        None,
        Some(tuple_to_row(table, new)?),
        ctx,
    ))
}

/// `before` is what the replica identity gave: nothing (DEFAULT, key unchanged), the key
/// columns with the rest NULL (DEFAULT, key changed), or the whole old row (FULL).
pub fn update(
    table: &TableState,
    old: Option<&OldTuple>,
    new: &TupleData,
    ctx: &ChangeContext<'_>,
) -> Result<ChangeEvent, PgError> {
    let before = old.map(|o| tuple_to_row(table, o.tuple())).transpose()?;
    let mut after = tuple_to_row(table, new)?;
    // An unchanged TOASTed value that the old full row carries is known: use it.
    if let Some(before) = &before {
        for (a, b) in after.0.iter_mut().zip(&before.0) {
            if matches!(a, Value::Unavailable) && !matches!(b, Value::Unavailable) {
                *a = b.clone();
            }
        }
    }
    Ok(event(Op::Update, table, before, Some(after), ctx))
}

pub fn delete(
    table: &TableState,
    old: &OldTuple,
    ctx: &ChangeContext<'_>,
) -> Result<ChangeEvent, PgError> {
    Ok(event(
        Op::Delete,
        table,
        Some(tuple_to_row(table, old.tuple())?),
        None,
        ctx,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Column, DataType, TableId, TableSchema};
    use crate::postgres_wal::types::PgType;
    use bytes::Bytes;

    fn table() -> TableState {
        let col = |name: &str, data_type: DataType| Column {
            name: name.into(),
            data_type,
            nullable: true,
            source_type: "x".into(),
            default: None,
        };
        TableState {
            schema: Arc::new(TableSchema {
                id: TableId::new("public", "t"),
                version: 1,
                columns: vec![col("id", DataType::Int32), col("body", DataType::Text)],
                primary_key: vec![0],
            }),
            types: vec![
                PgType::new(DataType::Int32, "int4"),
                PgType::new(DataType::Text, "text"),
            ],
            // The middle wire column is excluded.
            wire_to_schema: vec![Some(0), None, Some(1)],
        }
    }

    fn text(s: &str) -> TupleValue {
        TupleValue::Text(Bytes::copy_from_slice(s.as_bytes()))
    }

    const CTX: ChangeContext<'static> = ChangeContext {
        db: "app",
        commit_ts_us: 1_700_000_000_000_000,
        xid: 7,
        lsn: 0x10,
        last_commit_lsn: Some(0x8),
    };

    #[test]
    fn tuples_map_to_schema_order_with_unavailable_toast() {
        let row = tuple_to_row(
            &table(),
            &vec![text("5"), text("ignored"), TupleValue::UnchangedToast],
        )
        .unwrap();
        assert_eq!(row, Row(vec![Value::Int32(5), Value::Unavailable]));
    }

    #[test]
    fn bad_values_name_table_and_column() {
        let err = tuple_to_row(
            &table(),
            &vec![text("x"), TupleValue::Null, TupleValue::Null],
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("public.t.id: "), "{err}");
        let err = tuple_to_row(&table(), &vec![text("1")]).unwrap_err();
        assert!(err.to_string().contains("tuple has 1 columns"), "{err}");
    }

    #[test]
    fn update_fills_unavailable_from_full_old_row() {
        let old = OldTuple::Full(vec![text("1"), TupleValue::Null, text("long")]);
        let new = vec![text("1"), TupleValue::Null, TupleValue::UnchangedToast];
        let e = update(&table(), Some(&old), &new, &CTX).unwrap();
        assert_eq!(e.after.unwrap().0[1], Value::Text("long".into()));
        let e = update(&table(), None, &new, &CTX).unwrap();
        assert_eq!(e.before, None);
        assert_eq!(e.after.unwrap().0[1], Value::Unavailable);
        assert_eq!(e.op, Op::Update);
    }

    #[test]
    fn delete_and_insert_carry_source_fields() {
        let e = delete(
            &table(),
            &OldTuple::Key(vec![text("3"), TupleValue::Null, TupleValue::Null]),
            &CTX,
        )
        .unwrap();
        assert_eq!((e.op, e.after.is_none()), (Op::Delete, true));
        assert_eq!(e.key(), Some(Row(vec![Value::Int32(3)])));
        let e = insert(
            &table(),
            &vec![text("4"), TupleValue::Null, text("b")],
            &CTX,
        )
        .unwrap();
        assert_eq!(e.source.ts_us, CTX.commit_ts_us);
        assert_eq!(
            e.source.details,
            SourceDetails::Postgres {
                tx_id: Some(7),
                lsn: Some(0x10),
                xmin: None,
                last_commit_lsn: Some(0x8)
            }
        );
    }
}
