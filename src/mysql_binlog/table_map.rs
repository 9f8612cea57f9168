//! A table's columns as a binlog TABLE_MAP event describes them. With
//! `binlog_row_metadata=FULL` the event carries names, signedness, charsets, ENUM/SET values
//! and the primary key, i.e. the table as it was when the rows were written, which is what
//! the rows must be decoded with even when the table has been altered since.

use mysql_async::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_async::consts::{ColumnType, GeometryType};

use super::column::{Charset, Kind, MyColumn};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableMapError {
    #[error(
        "the binlog's TABLE_MAP event for `{table}` carries no column names: set binlog_row_metadata = FULL on the server (SET GLOBAL binlog_row_metadata = 'FULL' and in my.cnf)"
    )]
    NoColumnNames { table: String },
    #[error("TABLE_MAP event for `{table}`: {reason}")]
    Malformed { table: String, reason: String },
}

/// The columns and primary key (indexes into the columns) of a TABLE_MAP event.
pub fn columns_of(tme: &TableMapEvent<'_>) -> Result<(Vec<MyColumn>, Vec<usize>), TableMapError> {
    let table = format!("{}.{}", tme.database_name(), tme.table_name());
    let bad = |reason: String| TableMapError::Malformed {
        table: table.clone(),
        reason,
    };
    let meta =
        OptionalMetaExtractor::new(tme.iter_optional_meta()).map_err(|e| bad(e.to_string()))?;
    let names: Vec<String> = meta
        .iter_column_name()
        .map(|n| n.map(|n| n.name().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let count = tme.columns_count() as usize;
    if names.len() != count {
        return Err(TableMapError::NoColumnNames { table });
    }
    let mut enums = Vec::new();
    let mut sets = Vec::new();
    // Which geometry columns are POINTs (Debezium's `Point`), in column order.
    let mut points = Vec::new();
    for field in tme.iter_optional_meta() {
        match field.map_err(|e| bad(e.to_string()))? {
            OptionalMetadataField::EnumStrValue(v) => {
                for values in v.iter_values() {
                    let values = values.map_err(|e| bad(e.to_string()))?;
                    enums.push(
                        values
                            .values()
                            .iter()
                            .map(|s| s.value_raw().to_vec())
                            .collect::<Vec<_>>(),
                    );
                }
            }
            OptionalMetadataField::SetStrValue(v) => {
                for values in v.iter_values() {
                    let values = values.map_err(|e| bad(e.to_string()))?;
                    sets.push(
                        values
                            .values()
                            .iter()
                            .map(|s| s.value_raw().to_vec())
                            .collect::<Vec<_>>(),
                    );
                }
            }
            OptionalMetadataField::GeometryType(g) => {
                for t in g.iter_geometry_types() {
                    let t = t.map_err(|e| bad(e.to_string()))?;
                    points.push(t == GeometryType::GEOM_POINT);
                }
            }
            _ => {}
        }
    }
    let mut enums = enums.into_iter();
    let mut points = points.into_iter();
    let mut sets = sets.into_iter();
    let mut signedness = meta.iter_signedness();
    let mut charsets = meta.iter_charset();
    let mut enum_charsets = meta.iter_enum_and_set_charset();
    let nulls = tme.null_bitmask();
    let mut columns = Vec::with_capacity(count);
    for (i, name) in names.into_iter().enumerate() {
        let ty = tme
            .get_column_type(i)
            .map_err(|e| bad(format!("column `{name}`: {e}")))?
            .ok_or_else(|| bad(format!("column `{name}` has no type")))?;
        let m = tme.get_column_metadata(i).unwrap_or(&[]);
        let unsigned = if ty.is_numeric_type() {
            signedness.next().unwrap_or(false)
        } else {
            false
        };
        let charset = if ty.is_character_type() {
            Some(
                charsets
                    .next()
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?
                    .unwrap_or(63),
            )
        } else {
            None
        };
        // ENUM and SET labels, in the column's charset.
        let mut labels = |raw: Option<Vec<Vec<u8>>>| -> Result<Vec<String>, TableMapError> {
            let id = enum_charsets
                .next()
                .transpose()
                .map_err(|e| bad(e.to_string()))?
                .unwrap_or(63);
            // A binary ENUM's labels are the client's text as written: taken as UTF-8.
            let charset = Charset::from_collation_id(id).unwrap_or(Charset::UTF8MB4);
            raw.unwrap_or_default()
                .iter()
                .map(|l| charset.decode(l))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("column `{name}`: a label: {e}")))
        };
        let meta_byte = |k: usize| u32::from(m.get(k).copied().unwrap_or(0));
        let fsp = || meta_byte(0).min(6);
        use ColumnType::*;
        let (kind, source_type) = match ty {
            MYSQL_TYPE_TINY => (Kind::Int { bytes: 1, unsigned }, "TINYINT".to_owned()),
            MYSQL_TYPE_SHORT => (Kind::Int { bytes: 2, unsigned }, "SMALLINT".to_owned()),
            MYSQL_TYPE_INT24 => (Kind::Int { bytes: 3, unsigned }, "MEDIUMINT".to_owned()),
            MYSQL_TYPE_LONG => (Kind::Int { bytes: 4, unsigned }, "INT".to_owned()),
            MYSQL_TYPE_LONGLONG => (Kind::Int { bytes: 8, unsigned }, "BIGINT".to_owned()),
            MYSQL_TYPE_NEWDECIMAL => {
                let (precision, scale) = (meta_byte(0), meta_byte(1));
                (
                    Kind::Decimal { precision, scale },
                    format!("DECIMAL({precision},{scale})"),
                )
            }
            MYSQL_TYPE_FLOAT => (Kind::Float, "FLOAT".to_owned()),
            MYSQL_TYPE_DOUBLE => (Kind::Double, "DOUBLE".to_owned()),
            MYSQL_TYPE_BIT => {
                let length = meta_byte(1) * 8 + meta_byte(0);
                (Kind::Bit { length }, format!("BIT({length})"))
            }
            MYSQL_TYPE_NEWDATE | MYSQL_TYPE_DATE => (Kind::Date, "DATE".to_owned()),
            MYSQL_TYPE_TIME2 => (Kind::Time { fsp: fsp() }, format!("TIME({})", fsp())),
            MYSQL_TYPE_TIME => (Kind::Time { fsp: 0 }, "TIME".to_owned()),
            MYSQL_TYPE_DATETIME2 => (
                Kind::DateTime { fsp: fsp() },
                format!("DATETIME({})", fsp()),
            ),
            MYSQL_TYPE_DATETIME => (Kind::DateTime { fsp: 0 }, "DATETIME".to_owned()),
            MYSQL_TYPE_TIMESTAMP2 => (
                Kind::Timestamp { fsp: fsp() },
                format!("TIMESTAMP({})", fsp()),
            ),
            MYSQL_TYPE_TIMESTAMP => (Kind::Timestamp { fsp: 0 }, "TIMESTAMP".to_owned()),
            MYSQL_TYPE_YEAR => (Kind::Year, "YEAR".to_owned()),
            MYSQL_TYPE_ENUM => (Kind::Enum(labels(enums.next())?), "ENUM".to_owned()),
            MYSQL_TYPE_SET => (Kind::Set(labels(sets.next())?), "SET".to_owned()),
            MYSQL_TYPE_JSON => (Kind::Json, "JSON".to_owned()),
            MYSQL_TYPE_GEOMETRY if points.next() == Some(true) => (Kind::Point, "POINT".to_owned()),
            MYSQL_TYPE_GEOMETRY => (Kind::Geometry, "GEOMETRY".to_owned()),
            MYSQL_TYPE_STRING | MYSQL_TYPE_VAR_STRING | MYSQL_TYPE_VARCHAR => {
                let fixed = ty == MYSQL_TYPE_STRING;
                match charset.and_then(Charset::from_collation_id) {
                    Some(c) => (
                        Kind::Text(c),
                        if fixed { "CHAR" } else { "VARCHAR" }.to_owned(),
                    ),
                    None if fixed => (
                        Kind::Binary {
                            fixed: Some(fixed_length(m)),
                        },
                        "BINARY".to_owned(),
                    ),
                    None => (Kind::Binary { fixed: None }, "VARBINARY".to_owned()),
                }
            }
            MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB => match charset.and_then(Charset::from_collation_id) {
                Some(c) => (Kind::Text(c), "TEXT".to_owned()),
                None => (Kind::Binary { fixed: None }, "BLOB".to_owned()),
            },
            // Refused only if captured (see `TableState::build`).
            other => (Kind::Unknown(format!("{other:?}")), format!("{other:?}")),
        };
        let source_type = if unsigned {
            format!("{source_type} UNSIGNED")
        } else {
            source_type
        };
        columns.push(MyColumn {
            name,
            kind,
            nullable: nulls.get(i).is_some_and(|b| *b),
            source_type,
            default: None,
        });
    }
    let primary_key = meta
        .iter_primary_key()
        .map(|k| k.map(|k| k as usize))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if primary_key.iter().any(|&k| k >= count) {
        return Err(bad("primary key index out of range".into()));
    }
    Ok((columns, primary_key))
}

/// The declared byte length of a CHAR/BINARY column from its two metadata bytes (the real
/// type shares the first byte with the high bits of the length).
fn fixed_length(meta: &[u8]) -> u32 {
    let (b0, b1) = (
        u32::from(meta.first().copied().unwrap_or(0)),
        u32::from(meta.get(1).copied().unwrap_or(0)),
    );
    if b0 & 0x30 != 0x30 {
        b1 | (((b0 & 0x30) ^ 0x30) << 4)
    } else {
        b1
    }
}
