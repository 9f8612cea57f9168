//! PostgreSQL column types and their text values, as pgoutput (protocol v1, text format) sends
//! them, mapped onto the common change-event model.
//!
//! A Relation message gives each column's type OID and type modifier; [`map_type`] turns that
//! into a [`PgType`] (the model's [`DataType`] plus a name for error messages). Each tuple value
//! arrives as the text the type's output function prints, with the server's defaults
//! (`DateStyle` ISO, MDY; `IntervalStyle` postgres; `bytea_output` hex; `extra_float_digits` 1);
//! [`parse_text`] turns that text into a model [`Value`]. SQL NULL and unchanged TOASTed values
//! never reach this module: the reader handles them.
//!
//! The mapping follows Debezium's PostgreSQL connector. Where Debezium or PostgreSQL leave a
//! choice open, this module decides as follows:
//!
//! * **Infinite dates and timestamps.** `infinity` / `-infinity` become `i32::MAX` / `i32::MIN`
//!   for `date` and `i64::MAX` / `i64::MIN` for `timestamp` and `timestamptz`. No finite
//!   PostgreSQL date is that far from 1970; a finite timestamp that would land exactly on
//!   `i64::MAX` microseconds, or past it (PostgreSQL allows years up to 294276, but microseconds
//!   since 1970 overflow an `i64` in year 294247), is rejected rather than confused with infinity.
//! * **Calendar.** Dates are proleptic Gregorian with astronomical year numbering, as PostgreSQL
//!   does: `0001-01-01 BC` is year 0, a leap year. The arithmetic is done here with plain
//!   integers rather than chrono because PostgreSQL's range (dates up to 5874897 AD, timestamps up
//!   to 294276 AD) exceeds chrono's (±262143); the tests check it against chrono over chrono's
//!   range and against a real server's output.
//! * **`money`** maps to `Decimal { precision: None, scale: Some(2) }` (Debezium's default
//!   `money.fraction.digits` of 2). Values are read from the `lc_monetary` formats of the C and
//!   English locales (`$1,234.56`, `-$1.00`, `($1.00)`): any currency symbol without digits,
//!   dots, commas or minus signs is skipped, `,` is a group separator and `.` the decimal point.
//!   Locales that swap those two separators are not supported; the reader should pin
//!   `lc_monetary` to `C`.
//! * **`numeric(p, s)`** decodes the type modifier as PostgreSQL 15 does (the scale is an 11-bit
//!   signed field, so `numeric(5,-2)` exists). The model wants `0 <= scale <= precision`, so a
//!   negative scale maps to `precision = p - s, scale = 0` and a scale above the precision
//!   (`numeric(3,5)`) to `precision = s`; both hold every value the column can store. Finite
//!   values of a fixed-scale column are brought to the column's scale exactly (never rounded).
//! * **`bit(1)`** maps to `Boolean`, like Debezium; `bit(n > 1)` and `varbit(n)` map to
//!   `Bits { length: n }`, and `varbit` without a length (or `bit` without a modifier, which only
//!   expressions produce) to `Bits { length: 2^31 - 1 }`, Debezium's value for "no length".
//!   A bit value's `length` is the number of bits in the value itself.
//! * **Intervals** keep PostgreSQL's three fields (months, days, microseconds). The `postgres`
//!   style (the default), `postgres_verbose` and `iso_8601` styles are all read;
//!   `sql_standard` is not, so the reader must not set `IntervalStyle` to it.
//! * **Enums** accept any label: a label added by `ALTER TYPE ... ADD VALUE` does not produce a
//!   new Relation message, so checking against the labels known when the relation was mapped
//!   would reject valid rows. The emitter may check `allowed` if it wants.
//! * **`timetz`** keeps the local time of day and the offset as written (east of UTC positive).
//! * **Arrays** of any dimension map to `Array(element type)`; a multi-dimensional value is a
//!   nested `Value::Array`, and explicit bounds (`[0:1]={1,2}`) are dropped.
//! * `json` / `jsonb` text is kept verbatim (PostgreSQL has already validated it); `xml`,
//!   network addresses, `citext`, `ltree`, `tsvector` and range types are kept as text (what
//!   the server prints, so a `tstzrange` is in the session's `TimeZone`, UTC).
//! * **Multiranges** (`int4multirange`, ...) are kept as text like ranges. Debezium has no
//!   mapping for them (it drops such a column unless `include.unknown.datatypes`); text is
//!   what its range mapping would give.
//! * **pgvector**'s `vector` and `halfvec` (found by type name) are read from their text
//!   `[1,2,3]`; `sparsevec` is not supported. No pgvector server could be tested here.
//! * **Geometric types** follow Debezium 3.7's mapping (see `geometric.rs`); PostGIS
//!   `geometry` / `geography` arrive as hex EWKB. Arrays of PostGIS types use `:` between
//!   elements (their `typdelim`); arrays of the built-in geometric types are not supported
//!   (Debezium has none for `point[]` either).

use std::fmt;

use crate::event::{DataType, Value};

mod composite;
mod geometric;
mod mapping;
pub mod oid;
mod scalar;
mod temporal;
#[cfg(test)]
mod tests;

pub use mapping::{MAX_TYPE_DEPTH, map_type};
pub use oid::builtin_type_name;

use composite::{parse_array, parse_hstore};
use geometric::{parse_circle, parse_line, parse_point, parse_postgis, parse_shape, parse_vector};
use scalar::{parse_bits, parse_bool, parse_bytea, parse_decimal};
use temporal::{parse_date, parse_interval, parse_time_of_day, parse_timestamp, split_offset};

/// What Siphon knows about a column's type: the model type and the name to show in errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PgType {
    pub data_type: DataType,
    pub name: String,
    /// A type Siphon cannot map, kept under `include.unknown.datatypes=true` as Debezium
    /// does: `Bytes` holding the value's text as the server renders it.
    pub opaque: bool,
}

impl PgType {
    /// A type Siphon maps.
    pub fn new(data_type: DataType, name: impl Into<String>) -> PgType {
        PgType {
            data_type,
            name: name.into(),
            opaque: false,
        }
    }

    /// A type Siphon cannot map, as opaque bytes (`include.unknown.datatypes`).
    pub fn opaque(name: impl Into<String>) -> PgType {
        PgType {
            data_type: DataType::Bytes,
            name: name.into(),
            opaque: true,
        }
    }
}

/// A user-defined type, as the reader finds it in `pg_type` / `pg_enum`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomType {
    /// `typtype = 'e'`, labels in `enumsortorder`.
    Enum { name: String, labels: Vec<String> },
    /// `typtype = 'd'`: `typbasetype` and `typtypmod`.
    Domain {
        name: String,
        base_oid: u32,
        base_typmod: i32,
    },
    /// An array type (`typelem`) of a user-defined type.
    Array { name: String, element_oid: u32 },
    /// The `hstore` extension's type.
    Hstore,
    /// Anything else, by name: `citext`, `ltree` and PostGIS's `geometry` / `geography` are
    /// known.
    Other { name: String },
}

/// A column type Siphon cannot capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    #[error("unsupported PostgreSQL type {name} (oid {oid})")]
    Unsupported { oid: u32, name: String },
    /// Not a built-in OID, and the catalog lookup does not know it either.
    #[error("unknown PostgreSQL type oid {oid}: not built in and not found in pg_type")]
    Unknown { oid: u32 },
    /// Domains and arrays nested deeper than any real type (or a loop in the lookup).
    #[error("PostgreSQL type oid {oid} nests domains or arrays more than {MAX_TYPE_DEPTH} deep")]
    TooDeep { oid: u32 },
}

/// A column value whose text does not read as its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("invalid {type_name} value \"{}\": {reason}", truncate_for_message(.text))]
    Invalid {
        type_name: String,
        /// The whole text; the message shows at most its first 64 characters.
        text: String,
        reason: String,
    },
}

const MESSAGE_TEXT_CHARS: usize = 64;

fn truncate_for_message(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_TEXT_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Parses one text value of a column of type `ty` into the model value.
pub fn parse_text(ty: &PgType, text: &str) -> Result<Value, ValueError> {
    if ty.opaque {
        return Ok(Value::Bytes(text.as_bytes().to_vec()));
    }
    parse_value(&ty.data_type, &ty.name, text).map_err(|reason| ValueError::Invalid {
        type_name: ty.name.clone(),
        text: text.to_owned(),
        reason,
    })
}

/// Parses `text` as `data_type`; the error is the reason only.
fn parse_value(data_type: &DataType, name: &str, text: &str) -> Result<Value, String> {
    Ok(match data_type {
        DataType::Boolean => Value::Bool(parse_bool(text)?),
        DataType::Int16 => Value::Int16(
            text.parse()
                .map_err(|_| "not an integer from -32768 to 32767".to_owned())?,
        ),
        DataType::Int32 => Value::Int32(
            text.parse()
                .map_err(|_| "not an integer from -2147483648 to 2147483647".to_owned())?,
        ),
        DataType::Int64 => Value::Int64(
            text.parse()
                .map_err(|_| "not a 64-bit signed integer".to_owned())?,
        ),
        DataType::Float32 => Value::Float32(
            text.parse()
                .map_err(|_| "not a floating-point number".to_owned())?,
        ),
        DataType::Float64 => Value::Float64(
            text.parse()
                .map_err(|_| "not a floating-point number".to_owned())?,
        ),
        DataType::Decimal { precision, scale } => {
            Value::Decimal(parse_decimal(text, *precision, *scale)?)
        }
        DataType::Text => Value::Text(text.to_owned()),
        DataType::Xml => Value::Text(text.to_owned()),
        DataType::Json => Value::Json(text.to_owned()),
        DataType::Enum { .. } => Value::Enum(text.to_owned()),
        DataType::Bytes => Value::Bytes(parse_bytea(text)?),
        DataType::Date => Value::Date(parse_date(text)?),
        DataType::Time(_) => Value::Time(parse_time_of_day(text, true)?),
        DataType::TimeTz => {
            let (time, offset_seconds) = split_offset(text)?;
            Value::TimeTz {
                micros: parse_time_of_day(time, true)?,
                offset_seconds,
            }
        }
        DataType::Timestamp(_) => Value::Timestamp(parse_timestamp(text, false)?),
        DataType::TimestampTz => Value::TimestampTz(parse_timestamp(text, true)?),
        DataType::Interval => Value::Interval(parse_interval(text)?),
        DataType::Uuid => {
            Value::Uuid(uuid::Uuid::try_parse(text).map_err(|e| format!("not a UUID ({e})"))?)
        }
        DataType::Bits { length } => {
            let (bytes, bits) = parse_bits(text)?;
            if bits > *length {
                return Err(format!("{bits} bits, more than the type's {length}"));
            }
            Value::Bits {
                bytes,
                length: bits,
            }
        }
        DataType::Map => Value::Map(parse_hstore(text)?),
        DataType::Array(element) => {
            let element_name = name.strip_suffix("[]").unwrap_or(name);
            Value::Array(parse_array(text, element, element_name)?)
        }
        DataType::TsVector | DataType::Ltree => Value::Text(text.to_owned()),
        DataType::Point => parse_point(text)?,
        DataType::Shape(kind) => parse_shape(*kind, text)?,
        DataType::Circle => parse_circle(text)?,
        DataType::Line => parse_line(text)?,
        DataType::Geometry | DataType::Geography => parse_postgis(text)?,
        DataType::DoubleVector => Value::Array(
            parse_vector(text)?
                .into_iter()
                .map(Value::Float64)
                .collect(),
        ),
        DataType::FloatVector => Value::Array(
            parse_vector(text)?
                .into_iter()
                .map(Value::Float32)
                .collect(),
        ),
        DataType::Year | DataType::EnumSet { .. } => {
            return Err(format!("{data_type:?} is not a PostgreSQL type"));
        }
    })
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
