//! One column value as Avro, the way Debezium's value converters render each type.

use std::collections::HashMap;

use apache_avro::Decimal as AvroDecimal;
use apache_avro::types::Value as Avro;
use num_bigint::{BigInt, Sign};

use super::avro_schema::{
    AvroOptions, DecimalMode, DecimalRepr, SourceKind, TimeMode, TimeRepr, UNAVAILABLE_PLACEHOLDER,
    decimal_repr, is_optional, null_last, time_repr, timestamp_repr, zoned_timestamp_width,
};
use super::avro_spatial as spatial;
use crate::event::{Column, DataType, Decimal, Interval, TableSchema, Value};

/// Java's `UUID.nameUUIDFromBytes("__debezium_unavailable_value")`, Debezium's placeholder in
/// uuid arrays.
const UNAVAILABLE_UUID: &str = "b68a35a7-17ad-35b3-af2a-ae46edb4545a";
/// Debezium's `infinity` timestamps in microseconds (PgJDBC's `DATE_POSITIVE_INFINITY` /
/// `DATE_NEGATIVE_INFINITY`).
const PG_INFINITY_MICROS: i64 = 9_223_372_036_825_200_000;
const PG_NEG_INFINITY_MICROS: i64 = -9_223_372_036_832_400_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Debezium's `MicroDuration.DAYS_PER_MONTH_AVG` (365.25 / 12).
const DAYS_PER_MONTH_AVG: f64 = 365.25 / 12.0;
const MESSAGE_VALUE_CHARS: usize = 64;
/// `GEOMETRYCOLLECTION EMPTY` as (E)WKB.
const EMPTY_GEOMETRY_COLLECTION: [u8; 9] = [1, 7, 0, 0, 0, 0, 0, 0, 0];

/// Why one value failed, before the column is known.
pub(super) struct Fail {
    pub(super) value: String,
    pub(super) reason: String,
}

fn fail(value: &Value, reason: impl Into<String>) -> Fail {
    Fail {
        value: describe(value),
        reason: reason.into(),
    }
}

type Conv<T> = Result<T, Fail>;

pub(super) fn some(v: Avro) -> Avro {
    Avro::Union(1, Box::new(v))
}

pub(super) fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Avro) -> Avro {
    match v {
        None => Avro::Union(0, Box::new(Avro::Null)),
        Some(v) => some(f(v)),
    }
}

/// Encoding of one row.
pub(super) struct Ctx<'a> {
    pub(super) opts: &'a AvroOptions,
    pub(super) table: &'a TableSchema,
    /// NULL in a NOT NULL column gets Debezium's fallback (`before`) instead of an error.
    pub(super) fallback_nulls: bool,
}

impl Ctx<'_> {
    pub(super) fn field(&self, value: &Value, column: &Column) -> Conv<Avro> {
        let optional = is_optional(column);
        // `[T, "null"]` for an optional column with a default, else `["null", T]`.
        let (null_at, value_at) = if null_last(column) { (1, 0) } else { (0, 1) };
        let null = || Avro::Union(null_at, Box::new(Avro::Null));
        let wrap = |v: Avro| {
            if optional {
                Avro::Union(value_at, Box::new(v))
            } else {
                v
            }
        };
        let dt = &column.data_type;
        match value {
            Value::Null if optional => Ok(null()),
            Value::Null if self.fallback_nulls => self.fallback(dt, column).map(wrap),
            Value::Null => Err(fail(value, "is not allowed: the column is NOT NULL")),
            Value::Unavailable => match placeholder(dt, self.opts) {
                Some(v) => Ok(wrap(v)),
                None if optional => Ok(null()),
                None => Err(fail(
                    value,
                    "(unchanged TOAST) has no Debezium placeholder for this type and the column is NOT NULL",
                )),
            },
            Value::Decimal(d) if self.unrepresentable(d, dt) => {
                if optional {
                    Ok(null())
                } else {
                    Err(fail(
                        value,
                        "cannot be written in decimal.handling.mode=precise (use string or double)",
                    ))
                }
            }
            v => self.convert(v, dt, column).map(wrap),
        }
    }

    /// NaN / infinity in a precise-mode decimal.
    fn unrepresentable(&self, d: &Decimal, dt: &DataType) -> bool {
        matches!(dt, DataType::Decimal { .. })
            && self.opts.decimal == DecimalMode::Precise
            && !matches!(d, Decimal::Finite { .. })
    }

    /// Debezium's value for a NULL in a NOT NULL column.
    fn fallback(&self, dt: &DataType, column: &Column) -> Conv<Avro> {
        let zero = match dt {
            DataType::TimestampTz => return Ok(Avro::String("1970-01-01T00:00:00Z".into())),
            DataType::Uuid => return Ok(Avro::String(String::new())),
            DataType::Bits { length } if *length > 1 => return Ok(Avro::Bytes(Vec::new())),
            DataType::Boolean | DataType::Bits { .. } => Value::Bool(false),
            DataType::Int16 => Value::Int16(0),
            DataType::Int32 => Value::Int32(0),
            DataType::Int64 => Value::Int64(0),
            DataType::Float32 => Value::Float32(0.0),
            DataType::Float64 => Value::Float64(0.0),
            DataType::Decimal { .. } => Value::Decimal(Decimal::Finite {
                unscaled: BigInt::from(0),
                scale: 0,
            }),
            DataType::Text | DataType::Xml => Value::Text(String::new()),
            DataType::Json => Value::Json(String::new()),
            DataType::Enum { .. } => Value::Enum(String::new()),
            DataType::EnumSet { .. } => Value::EnumSet(Vec::new()),
            DataType::Bytes => Value::Bytes(Vec::new()),
            DataType::Date => Value::Date(0),
            DataType::Time(_) => Value::Time(0),
            DataType::TimeTz => Value::TimeTz {
                micros: 0,
                offset_seconds: 0,
            },
            DataType::Timestamp(_) => Value::Timestamp(0),
            DataType::Interval => Value::Interval(Interval {
                months: 0,
                days: 0,
                micros: 0,
            }),
            DataType::Year => Value::Year(0),
            DataType::Map => Value::Map(Vec::new()),
            DataType::Geometry => Value::Geometry {
                wkb: Vec::new(),
                srid: None,
            },
            DataType::TsVector | DataType::Ltree => Value::Text(String::new()),
            DataType::DoubleVector | DataType::FloatVector => Value::Array(Vec::new()),
            DataType::Point => Value::point(0.0, 0.0),
            // Debezium's `PostgisGeometry.createEmpty()`: an empty geometry collection.
            DataType::Geography => Value::Geometry {
                wkb: EMPTY_GEOMETRY_COLLECTION.to_vec(),
                srid: None,
            },
            // Optional fields (see `is_optional`): a NULL never needs a fallback.
            DataType::Shape(_) | DataType::Circle | DataType::Line => {
                return Err(fail(&Value::Null, "has no fallback"));
            }
            DataType::Array(_) => Value::Array(Vec::new()),
        };
        self.convert(&zero, dt, column)
    }

    /// A non-null value as the Avro value of its column type.
    fn convert(&self, v: &Value, dt: &DataType, column: &Column) -> Conv<Avro> {
        let opts = self.opts;
        let mismatch = || fail(v, format!("does not match the column type {dt:?}"));
        Ok(match (dt, v) {
            (DataType::Boolean, Value::Bool(b)) => Avro::Boolean(*b),
            (DataType::Boolean | DataType::Bits { length: 1 }, Value::Bits { bytes, length }) => {
                Avro::Boolean(*length > 0 && bytes.first().is_some_and(|b| b & 0x80 != 0))
            }
            (DataType::Bits { length: 1 }, Value::Bool(b)) => Avro::Boolean(*b),
            (DataType::Int16, Value::Int16(x)) => Avro::Int(i32::from(*x)),
            (DataType::Int32 | DataType::Year, Value::Int16(x)) => Avro::Int(i32::from(*x)),
            (DataType::Int32 | DataType::Year, Value::Int32(x))
            | (DataType::Year, Value::Year(x)) => Avro::Int(*x),
            (DataType::Int64, Value::Int16(x)) => Avro::Long(i64::from(*x)),
            (DataType::Int64, Value::Int32(x)) => Avro::Long(i64::from(*x)),
            (DataType::Int64, Value::Int64(x)) => Avro::Long(*x),
            (DataType::Float32, Value::Float32(x)) => Avro::Float(*x),
            (DataType::Float64, Value::Float32(x)) => Avro::Double(f64::from(*x)),
            (DataType::Float64, Value::Float64(x)) => Avro::Double(*x),
            (DataType::Decimal { precision, scale }, Value::Decimal(d)) => {
                decimal(v, d, *precision, *scale, opts)?
            }
            (DataType::Text, Value::Text(s))
            | (DataType::Xml, Value::Text(s))
            | (DataType::Json, Value::Json(s) | Value::Text(s))
            | (DataType::Enum { .. }, Value::Enum(s) | Value::Text(s))
            | (DataType::EnumSet { .. }, Value::Text(s)) => Avro::String(s.clone()),
            (DataType::EnumSet { .. }, Value::EnumSet(items)) => Avro::String(items.join(",")),
            (DataType::Bytes, Value::Bytes(b)) => Avro::Bytes(b.clone()),
            (DataType::Date, Value::Date(d)) => match opts.time {
                TimeMode::Connect => Avro::Date(*d),
                _ => Avro::Int(*d),
            },
            (DataType::Time(p), Value::Time(us)) => time(v, *us, time_repr(*p, opts.time))?,
            (
                DataType::TimeTz,
                Value::TimeTz {
                    micros,
                    offset_seconds,
                },
            ) => Avro::String(zoned_time(v, *micros, *offset_seconds)?),
            (DataType::Timestamp(p), Value::Timestamp(us)) => {
                timestamp(v, *us, timestamp_repr(*p, opts.time))?
            }
            (DataType::TimestampTz, Value::TimestampTz(us)) => Avro::String(zoned_timestamp(
                *us,
                zoned_timestamp_width(column, opts.source),
            )),
            (DataType::Interval, Value::Interval(iv)) if opts.interval_as_string => {
                Avro::String(interval_iso(iv))
            }
            (DataType::Interval, Value::Interval(iv)) => Avro::Long(micro_duration(iv)),
            (DataType::Uuid, Value::Uuid(u)) => Avro::String(u.hyphenated().to_string()),
            (DataType::Bits { length }, Value::Bits { bytes, length: n }) => {
                let pad = (opts.source == SourceKind::MySql).then_some(*length);
                Avro::Bytes(bits_little_endian(v, bytes, *n, pad)?)
            }
            (DataType::Map, Value::Map(pairs)) if opts.hstore_as_map => Avro::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), opt(v.clone(), Avro::String)))
                    .collect::<HashMap<_, _>>(),
            ),
            (DataType::Map, Value::Map(pairs)) => Avro::String(hstore_json(pairs)),
            (DataType::Geometry, Value::Geometry { wkb, srid }) => {
                spatial::geometry_value(wkb, *srid, &[])
            }
            (DataType::Geometry | DataType::Shape(_), Value::Shape { wkb, extensions }) => {
                spatial::geometry_value(wkb, None, extensions)
            }
            (DataType::Geography, Value::Geometry { wkb, srid }) => {
                spatial::geography_value(wkb, *srid)
            }
            (DataType::Point, Value::Point { x, y, wkb, srid }) => {
                spatial::point_value(*x, *y, wkb, *srid)
            }
            (DataType::Circle, Value::Circle { x, y, radius }) => {
                spatial::circle_value(*x, *y, *radius)
            }
            (DataType::Line, Value::Line { a, b, c }) => spatial::line_value(*a, *b, *c),
            (DataType::TsVector | DataType::Ltree, Value::Text(s)) => Avro::String(s.clone()),
            (DataType::DoubleVector | DataType::FloatVector, Value::Array(items)) => {
                let item = |x: &Value| match (dt, x) {
                    (DataType::DoubleVector, Value::Float64(f)) => Ok(Avro::Double(*f)),
                    (DataType::FloatVector, Value::Float32(f)) => Ok(Avro::Float(*f)),
                    _ => Err(fail(v, "is not a vector of this type's numbers")),
                };
                Avro::Array(items.iter().map(item).collect::<Result<_, _>>()?)
            }
            (DataType::Array(element), Value::Array(items)) => {
                if matches!(**element, DataType::Array(_)) {
                    return Err(fail(v, "nested array types are not supported"));
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(match item {
                        Value::Null => Avro::Union(0, Box::new(Avro::Null)),
                        Value::Decimal(d) if self.unrepresentable(d, element) => {
                            Avro::Union(0, Box::new(Avro::Null))
                        }
                        Value::Array(_) => {
                            return Err(fail(v, "multi-dimensional arrays are not supported"));
                        }
                        item => some(self.convert(item, element, column)?),
                    });
                }
                Avro::Array(out)
            }
            _ => return Err(mismatch()),
        })
    }
}

/// Debezium's unchanged-TOAST placeholder for a column type, if it has one.
fn placeholder(dt: &DataType, opts: &AvroOptions) -> Option<Avro> {
    let text = || Avro::String(UNAVAILABLE_PLACEHOLDER.into());
    let bytes = || UNAVAILABLE_PLACEHOLDER.as_bytes();
    match dt {
        DataType::Bytes => Some(Avro::Bytes(bytes().to_vec())),
        DataType::Map if opts.hstore_as_map => Some(Avro::Map(HashMap::from([(
            UNAVAILABLE_PLACEHOLDER.to_owned(),
            some(text()),
        )]))),
        DataType::Map => Some(Avro::String(hstore_json(&[(
            UNAVAILABLE_PLACEHOLDER.into(),
            Some(UNAVAILABLE_PLACEHOLDER.into()),
        )]))),
        DataType::Array(element) => {
            let items: Vec<Avro> = match &**element {
                DataType::Bytes => vec![Avro::Bytes(bytes().to_vec())],
                DataType::Int32 => bytes().iter().map(|&b| Avro::Int(b.into())).collect(),
                DataType::Date if opts.time != TimeMode::Connect => {
                    bytes().iter().map(|&b| Avro::Int(b.into())).collect()
                }
                DataType::Int64 => bytes().iter().map(|&b| Avro::Long(b.into())).collect(),
                DataType::Uuid => vec![Avro::String(UNAVAILABLE_UUID.into())],
                e if is_string(e, opts) => vec![text()],
                _ => return None,
            };
            Some(Avro::Array(items.into_iter().map(some).collect()))
        }
        dt if is_string(dt, opts) => Some(text()),
        _ => None,
    }
}

/// Whether a (non-array) column type is written as an Avro string.
fn is_string(dt: &DataType, opts: &AvroOptions) -> bool {
    match dt {
        DataType::Text
        | DataType::Json
        | DataType::Xml
        | DataType::Enum { .. }
        | DataType::EnumSet { .. }
        | DataType::Uuid
        | DataType::TimeTz
        | DataType::TimestampTz
        | DataType::TsVector
        | DataType::Ltree => true,
        DataType::Interval => opts.interval_as_string,
        DataType::Map => !opts.hstore_as_map,
        DataType::Decimal { precision, scale } => {
            decimal_repr(*precision, *scale, opts.decimal) == DecimalRepr::String
        }
        _ => false,
    }
}

/// `unscaled` brought from `from` to `to` fractional digits, or `None` if digits would be lost.
fn rescale(unscaled: &BigInt, from: u32, to: u32) -> Option<BigInt> {
    if to >= from {
        Some(unscaled * BigInt::from(10u8).pow(to - from))
    } else {
        let factor = BigInt::from(10u8).pow(from - to);
        (unscaled % &factor)
            .sign()
            .eq(&Sign::NoSign)
            .then(|| unscaled / factor)
    }
}

fn digits(unscaled: &BigInt) -> usize {
    unscaled.magnitude().to_string().len()
}

fn decimal(
    v: &Value,
    d: &Decimal,
    precision: Option<u32>,
    scale: Option<u32>,
    opts: &AvroOptions,
) -> Conv<Avro> {
    let repr = decimal_repr(precision, scale, opts.decimal);
    let (unscaled, value_scale) = match d {
        Decimal::Finite { unscaled, scale } => (unscaled, *scale),
        special => {
            return match repr {
                DecimalRepr::Double => Ok(Avro::Double(match special {
                    Decimal::NaN => f64::NAN,
                    Decimal::PositiveInfinity => f64::INFINITY,
                    _ => f64::NEG_INFINITY,
                })),
                DecimalRepr::String => Ok(Avro::String(
                    match special {
                        Decimal::NaN => "NAN",
                        Decimal::PositiveInfinity => "POSITIVE_INFINITY",
                        _ => "NEGATIVE_INFINITY",
                    }
                    .into(),
                )),
                _ => Err(fail(v, "cannot be written as a precise decimal")),
            };
        }
    };
    // A column without precision or scale keeps the value's own scale.
    let column_scale = match (precision, scale) {
        (None, None) => None,
        (_, s) => Some(s.unwrap_or(0)),
    };
    let (unscaled, value_scale) = match column_scale {
        None => (unscaled.clone(), value_scale),
        Some(s) => match rescale(unscaled, value_scale, s) {
            Some(u) => (u, s),
            None => return Err(fail(v, format!("has more digits than scale {s}"))),
        },
    };
    Ok(match repr {
        DecimalRepr::Fixed { precision, .. } => {
            if let Some(p) = precision
                && digits(&unscaled) > p as usize
            {
                return Err(fail(v, format!("has more digits than precision {p}")));
            }
            Avro::Decimal(AvroDecimal::from(unscaled.to_signed_bytes_be()))
        }
        DecimalRepr::VariableScale => {
            // Debezium: stripTrailingZeros, never below scale 0.
            let (mut unscaled, mut s) = (unscaled, value_scale);
            let ten = BigInt::from(10u8);
            while s > 0 && (&unscaled % &ten).sign() == Sign::NoSign {
                unscaled /= &ten;
                s -= 1;
            }
            let s = i32::try_from(s).map_err(|_| fail(v, "has a scale beyond an Avro int"))?;
            Avro::Record(vec![
                ("scale".into(), Avro::Int(s)),
                ("value".into(), Avro::Bytes(unscaled.to_signed_bytes_be())),
            ])
        }
        DecimalRepr::Double | DecimalRepr::String => {
            let text = Decimal::Finite {
                unscaled,
                scale: value_scale,
            }
            .to_string();
            if repr == DecimalRepr::String {
                Avro::String(text)
            } else {
                Avro::Double(text.parse().map_err(|_| fail(v, "is not a number"))?)
            }
        }
    })
}

fn time(v: &Value, us: i64, repr: TimeRepr) -> Conv<Avro> {
    let millis = || {
        i32::try_from(us.div_euclid(1000)).map_err(|_| fail(v, "is out of range for an Avro int"))
    };
    Ok(match repr {
        TimeRepr::Millis => Avro::Int(millis()?),
        TimeRepr::Micros => Avro::Long(us),
        TimeRepr::Nanos => Avro::Long(
            us.checked_mul(1000)
                .ok_or_else(|| fail(v, "overflows nanoseconds"))?,
        ),
        TimeRepr::Connect if (0..MICROS_PER_DAY).contains(&us) => Avro::TimeMillis(millis()?),
        TimeRepr::Connect => {
            return Err(fail(
                v,
                "is outside 00:00-24:00, which Kafka Connect's Time cannot hold",
            ));
        }
    })
}

fn timestamp(v: &Value, us: i64, repr: TimeRepr) -> Conv<Avro> {
    let debezium_micros = match us {
        i64::MAX => PG_INFINITY_MICROS,
        i64::MIN => PG_NEG_INFINITY_MICROS,
        us => us,
    };
    Ok(match repr {
        TimeRepr::Millis => Avro::Long(debezium_micros.div_euclid(1000)),
        TimeRepr::Connect => Avro::TimestampMillis(debezium_micros.div_euclid(1000)),
        TimeRepr::Micros => Avro::Long(debezium_micros),
        TimeRepr::Nanos => Avro::Long(match us {
            i64::MAX | i64::MIN => us,
            us => us.checked_mul(1000).ok_or_else(|| {
                fail(
                    v,
                    "is outside the range of nanoseconds since 1970 (1677..2262)",
                )
            })?,
        }),
    })
}

/// `HH:MM:SS[.ffffff]` from microseconds of the day, fraction without trailing zeros (Java's
/// `ISO_LOCAL_TIME`).
fn time_of_day(micros: i64) -> String {
    let secs = micros / 1_000_000;
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    push_fraction(&mut s, micros % 1_000_000, 0);
    s
}

/// Appends `.fraction` (`frac` microseconds): `width` 0 trims trailing zeros (nothing when 0),
/// 1..=9 writes exactly that many digits (cut or zero-padded), as Java's `appendFraction`.
fn push_fraction(s: &mut String, frac: i64, width: u32) {
    let digits = format!("{frac:06}000");
    let shown = if width == 0 {
        digits.trim_end_matches('0')
    } else {
        &digits[..width.min(9) as usize]
    };
    if !shown.is_empty() {
        s.push('.');
        s.push_str(shown);
    }
}

/// Debezium's `ZonedTime`: the time in UTC, `ISO_OFFSET_TIME`.
fn zoned_time(v: &Value, micros: i64, offset_seconds: i32) -> Conv<String> {
    if !(0..=MICROS_PER_DAY).contains(&micros) {
        return Err(fail(v, "is not a time of day"));
    }
    if micros == MICROS_PER_DAY && offset_seconds == 0 {
        return Ok("24:00:00Z".into());
    }
    let utc = (micros - i64::from(offset_seconds) * 1_000_000).rem_euclid(MICROS_PER_DAY);
    Ok(format!("{}Z", time_of_day(utc)))
}

/// Debezium's `ZonedTimestamp`: UTC, `ISO_OFFSET_DATE_TIME` with the column's fraction width.
fn zoned_timestamp(us: i64, width: u32) -> String {
    match us {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let days = us.div_euclid(MICROS_PER_DAY);
    let of_day = us.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let year = match year {
        y if y > 9999 => format!("+{y}"),
        y if y < 0 => format!("-{:04}", -y),
        y => format!("{y:04}"),
    };
    let secs = of_day / 1_000_000;
    let mut s = format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_fraction(&mut s, of_day % 1_000_000, width);
    s.push('Z');
    s
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (Howard Hinnant's
/// algorithm; astronomical years, so 1 BC is year 0).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The interval's time part as PgJDBC's `PGInterval` splits it (same sign throughout).
fn hms(micros: i64) -> (i64, i64, i64) {
    (
        micros / 3_600_000_000,
        micros % 3_600_000_000 / 60_000_000,
        micros % 60_000_000,
    )
}

/// Debezium's `MicroDuration.durationMicros` with `DAYS_PER_MONTH_AVG`, in the same double
/// arithmetic (so the same rounding) as the Java code.
fn micro_duration(iv: &Interval) -> i64 {
    let (hours, minutes, sec_micros) = hms(iv.micros);
    let seconds = sec_micros as f64 / 1e6;
    let days = f64::from(iv.months) * DAYS_PER_MONTH_AVG + f64::from(iv.days);
    let total_seconds = ((days * 24.0 + hours as f64) * 60.0 + minutes as f64) * 60.0 + seconds;
    (total_seconds * 1e6) as i64
}

/// Debezium's `Interval.toIsoString`: `P<y>Y<m>M<d>DT<h>H<m>M<s>S`, seconds without trailing
/// zeros.
fn interval_iso(iv: &Interval) -> String {
    let (hours, minutes, sec_micros) = hms(iv.micros);
    let mut seconds = Decimal::Finite {
        unscaled: BigInt::from(sec_micros),
        scale: 6,
    }
    .to_string();
    if seconds.contains('.') {
        seconds = seconds
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned();
    }
    if seconds == "-0" {
        seconds = "0".into();
    }
    format!(
        "P{}Y{}M{}DT{hours}H{minutes}M{seconds}S",
        iv.months / 12,
        iv.months % 12,
        iv.days
    )
}

/// The model's bit string (first bit most significant, packed from the high bit of byte 0)
/// as Debezium writes `Bits`: `BitSet.toByteArray()` of the number the bits spell, i.e.
/// little-endian bytes, minimal (PostgreSQL) or padded to the column's byte width (MySQL).
fn bits_little_endian(
    v: &Value,
    bytes: &[u8],
    length: u32,
    pad_to_bits: Option<u32>,
) -> Conv<Vec<u8>> {
    let n = length as usize;
    if bytes.len() < n.div_ceil(8) {
        return Err(fail(
            v,
            format!("has fewer bytes than its {length} bits need"),
        ));
    }
    let mut out = vec![0u8; n.div_ceil(8)];
    for k in 0..n {
        if bytes[k / 8] & (0x80 >> (k % 8)) != 0 {
            let i = n - 1 - k;
            out[i / 8] |= 1 << (i % 8);
        }
    }
    match pad_to_bits {
        Some(bits) => out.resize(out.len().max((bits as usize).div_ceil(8)), 0),
        None => {
            while out.last() == Some(&0) {
                out.pop();
            }
        }
    }
    Ok(out)
}

/// hstore as Debezium's JSON text (`{"k":"v","n":null}`).
fn hstore_json(pairs: &[(String, Option<String>)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.clone().map_or(serde_json::Value::Null, Into::into),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A value for an error message, at most 64 characters.
fn describe(v: &Value) -> String {
    let s = match v {
        Value::Null => "NULL".into(),
        Value::Unavailable => "<unavailable>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int16(x) => x.to_string(),
        Value::Int32(x) | Value::Date(x) | Value::Year(x) => x.to_string(),
        Value::Int64(x) | Value::Time(x) | Value::Timestamp(x) | Value::TimestampTz(x) => {
            x.to_string()
        }
        Value::Float32(x) => x.to_string(),
        Value::Float64(x) => x.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Text(s) | Value::Json(s) | Value::Enum(s) => format!("{s:?}"),
        Value::Bytes(b) | Value::Geometry { wkb: b, .. } => {
            format!(
                "\\x{}",
                b.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        }
        Value::Bits { length, .. } => format!("<{length} bits>"),
        Value::Uuid(u) => u.to_string(),
        other => format!("{other:?}"),
    };
    match s.char_indices().nth(MESSAGE_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

#[cfg(test)]
#[path = "avro_convert_tests.rs"]
mod tests;
