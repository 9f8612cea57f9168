//! MySQL values (from binlog rows and from snapshot reads over the binary protocol) → model
//! values. The two origins encode some types differently (ENUM is an index in the binlog and
//! a string in a result set, TIMESTAMP is epoch seconds in the binlog and a UTC date-time in
//! a result set read with `time_zone = '+00:00'`); both end as the same model value.

use chrono::NaiveDate;
use mysql_async::Value as My;
use mysql_async::binlog::value::BinlogValue;
use num_bigint::BigInt;

use super::column::{Charset, Kind, MyColumn};
use crate::event::{Decimal, Value};

/// Where a value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A binlog row: text in the column's charset.
    Binlog,
    /// A snapshot result set: text already converted to utf8mb4 by the server.
    Snapshot,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot map value {value} of type {source_type}: {reason}")]
pub struct ValueError {
    pub value: String,
    pub source_type: String,
    pub reason: String,
}

type Res = Result<Value, ValueError>;

fn fail(v: &My, col: &MyColumn, reason: impl Into<String>) -> ValueError {
    let mut value = format!("{v:?}");
    if value.len() > 64 {
        value.truncate(61);
        value.push_str("...");
    }
    ValueError {
        value,
        source_type: col.source_type.clone(),
        reason: reason.into(),
    }
}

/// A binlog value; partial JSON updates are refused (Siphon asks for full row images).
pub fn from_binlog(v: BinlogValue<'_>, col: &MyColumn, bigint_precise: bool) -> Res {
    match v {
        BinlogValue::Value(v) => convert(v, col, Origin::Binlog, bigint_precise),
        BinlogValue::Jsonb(j) => {
            let json = serde_json::Value::try_from(j).map_err(|e| ValueError {
                value: "<binary JSON>".into(),
                source_type: col.source_type.clone(),
                reason: e.to_string(),
            })?;
            Ok(Value::Json(json.to_string()))
        }
        BinlogValue::JsonDiff(_) => Err(ValueError {
            value: "<partial JSON update>".into(),
            source_type: col.source_type.clone(),
            reason: "partial JSON updates need binlog_row_value_options='' (the default)".into(),
        }),
    }
}

/// One value of `col`.
pub fn convert(v: My, col: &MyColumn, origin: Origin, bigint_precise: bool) -> Res {
    if v == My::NULL {
        return Ok(Value::Null);
    }
    match &col.kind {
        Kind::Int { bytes, unsigned } => int(&v, col, *bytes, *unsigned, bigint_precise),
        Kind::Decimal { scale, .. } => {
            let text = text_of(&v, col)?;
            match Decimal::parse(text.trim()) {
                Some(Decimal::Finite { unscaled, scale: s }) if s <= *scale => {
                    Ok(Value::Decimal(Decimal::Finite {
                        unscaled: unscaled * BigInt::from(10).pow(scale - s),
                        scale: *scale,
                    }))
                }
                Some(d @ Decimal::Finite { .. }) => Ok(Value::Decimal(d)),
                _ => Err(fail(&v, col, "not a decimal")),
            }
        }
        Kind::Float => match v {
            My::Float(f) => Ok(Value::Float32(f)),
            My::Double(f) => Ok(Value::Float32(f as f32)),
            _ => Err(fail(&v, col, "not a float")),
        },
        Kind::Double => match v {
            My::Double(f) => Ok(Value::Float64(f)),
            My::Float(f) => Ok(Value::Float64(f64::from(f))),
            _ => Err(fail(&v, col, "not a double")),
        },
        Kind::Bit { length } => match &v {
            My::Bytes(b) => Ok(bits(b, *length)),
            My::Int(n) => Ok(bits(&n.to_be_bytes(), *length)),
            My::UInt(n) => Ok(bits(&n.to_be_bytes(), *length)),
            _ => Err(fail(&v, col, "not a bit string")),
        },
        Kind::Text(charset) => {
            let My::Bytes(b) = v else {
                return Err(fail(&v, col, "not text"));
            };
            let charset = match origin {
                Origin::Snapshot => Charset::UTF8MB4,
                Origin::Binlog => *charset,
            };
            charset
                .decode(&b)
                .map(Value::Text)
                .map_err(|reason| text_error(&b, col, reason))
        }
        Kind::Inet4 | Kind::Inet6 | Kind::Uuid => special(v, col, origin),
        Kind::Unknown(_) => match v {
            My::Bytes(b) => Ok(Value::Bytes(b)),
            // A result set's number or temporal: its text, as the server would send it.
            other => Ok(Value::Bytes(other.as_sql(true).into_bytes())),
        },
        Kind::Binary { fixed } => match v {
            My::Bytes(mut b) => {
                if let Some(n) = fixed {
                    // The binlog drops BINARY(n)'s trailing zero bytes.
                    if b.len() < *n as usize {
                        b.resize(*n as usize, 0);
                    }
                }
                Ok(Value::Bytes(b))
            }
            other => Err(fail(&other, col, "not bytes")),
        },
        Kind::Date => match v {
            My::Date(y, m, d, ..) => Ok(date(y, m, d)
                .map(Value::Date)
                .unwrap_or_else(|| zero(col, Value::Date(0)))),
            _ => Err(fail(&v, col, "not a date")),
        },
        Kind::Time { .. } => match v {
            My::Time(neg, days, h, m, s, us) => {
                let secs =
                    (i64::from(days) * 24 + i64::from(h)) * 3600 + i64::from(m) * 60 + i64::from(s);
                let micros = secs * 1_000_000 + i64::from(us);
                Ok(Value::Time(if neg { -micros } else { micros }))
            }
            _ => Err(fail(&v, col, "not a time")),
        },
        Kind::DateTime { .. } => match v {
            My::Date(y, mo, d, h, mi, s, us) => Ok(datetime_micros(y, mo, d, h, mi, s, us)
                .map(Value::Timestamp)
                .unwrap_or_else(|| zero(col, Value::Timestamp(0)))),
            _ => Err(fail(&v, col, "not a datetime")),
        },
        Kind::Timestamp { .. } => match &v {
            My::Date(y, mo, d, h, mi, s, us) => Ok(datetime_micros(*y, *mo, *d, *h, *mi, *s, *us)
                .map(Value::TimestampTz)
                .unwrap_or_else(|| zero(col, Value::TimestampTz(0)))),
            // The binlog's TIMESTAMP: epoch seconds, `sec` or `sec.micros`; 0 is the zero value.
            My::Int(0) => Ok(zero(col, Value::TimestampTz(0))),
            My::Int(sec) => sec
                .checked_mul(1_000_000)
                .map(Value::TimestampTz)
                .ok_or_else(|| fail(&v, col, "not a timestamp")),
            My::Bytes(b) => {
                let text = std::str::from_utf8(b).map_err(|_| fail(&v, col, "not a timestamp"))?;
                let (sec, frac) = text.split_once('.').unwrap_or((text, "0"));
                let sec: i64 = sec.parse().map_err(|_| fail(&v, col, "not a timestamp"))?;
                let frac = format!("{frac:0<6}");
                let micros: i64 = frac
                    .get(..6)
                    .and_then(|f| f.parse().ok())
                    .ok_or_else(|| fail(&v, col, "not a timestamp"))?;
                if sec == 0 && micros == 0 {
                    return Ok(zero(col, Value::TimestampTz(0)));
                }
                sec.checked_mul(1_000_000)
                    .and_then(|us| us.checked_add(micros))
                    .map(Value::TimestampTz)
                    .ok_or_else(|| fail(&v, col, "not a timestamp"))
            }
            _ => Err(fail(&v, col, "not a timestamp")),
        },
        Kind::Year => {
            let year = match &v {
                My::Int(y) => *y,
                My::UInt(y) => *y as i64,
                My::Bytes(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| fail(&v, col, "not a year"))?,
                _ => return Err(fail(&v, col, "not a year")),
            };
            // The binlog stores YEAR as years since 1900, with 0 meaning the zero year 0000.
            let year = if origin == Origin::Binlog && year == 1900 {
                0
            } else {
                year
            };
            Ok(Value::Year(year as i32))
        }
        Kind::Enum(allowed) => match &v {
            My::Int(i) => Ok(Value::Enum(enum_at(allowed, *i))),
            My::UInt(i) => Ok(Value::Enum(enum_at(allowed, *i as i64))),
            My::Bytes(b) => Ok(Value::Enum(String::from_utf8_lossy(b).into_owned())),
            _ => Err(fail(&v, col, "not an enum")),
        },
        Kind::Set(allowed) => match &v {
            My::Bytes(b) if origin == Origin::Binlog => {
                // A little-endian bit mask over the allowed values.
                let members = allowed
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| b.get(i / 8).is_some_and(|byte| byte & (1 << (i % 8)) != 0))
                    .map(|(_, s)| s.clone())
                    .collect();
                Ok(Value::EnumSet(members))
            }
            My::Bytes(b) => {
                let text = String::from_utf8_lossy(b);
                Ok(Value::EnumSet(if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',').map(str::to_owned).collect()
                }))
            }
            My::Int(mask) => Ok(Value::EnumSet(
                allowed
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 64 && mask & (1 << i) != 0)
                    .map(|(_, s)| s.clone())
                    .collect(),
            )),
            _ => Err(fail(&v, col, "not a set")),
        },
        Kind::Json => {
            let My::Bytes(b) = v else {
                return Err(fail(&v, col, "not JSON"));
            };
            String::from_utf8(b)
                .map(Value::Json)
                .map_err(|e| fail(&My::Bytes(e.into_bytes()), col, "invalid UTF-8"))
        }
        Kind::Point => {
            let My::Bytes(b) = &v else {
                return Err(fail(&v, col, "not a geometry"));
            };
            match (b.get(..4), b.get(4..).and_then(point_of_wkb)) {
                (Some(srid), Some((x, y))) => Ok(Value::Point {
                    x,
                    y,
                    wkb: b[4..].to_vec(),
                    srid: Some(i32::from_le_bytes([srid[0], srid[1], srid[2], srid[3]])),
                }),
                _ => Err(fail(&v, col, "not an SRID and a 2D point's WKB")),
            }
        }
        Kind::Geometry => {
            // MySQL's internal geometry: a little-endian SRID, then WKB.
            let My::Bytes(b) = &v else {
                return Err(fail(&v, col, "not a geometry"));
            };
            match (b.get(..4), b.get(4..)) {
                (Some(srid), Some(wkb)) if !wkb.is_empty() => Ok(Value::Geometry {
                    wkb: wkb.to_vec(),
                    srid: Some(i32::from_le_bytes([srid[0], srid[1], srid[2], srid[3]])),
                }),
                _ => Err(fail(&v, col, "too short for SRID + WKB")),
            }
        }
    }
}

/// x and y of a 2D point's WKB (21 bytes: byte order, type 1, x, y), as Debezium's
/// `Point.createValue(schema, wkb, srid)` reads them.
fn point_of_wkb(wkb: &[u8]) -> Option<(f64, f64)> {
    if wkb.len() != 21 {
        return None;
    }
    let little = match wkb[0] {
        1 => true,
        0 => false,
        _ => return None,
    };
    let word = |b: &[u8]| -> [u8; 4] { [b[0], b[1], b[2], b[3]] };
    let double = |b: &[u8]| -> f64 {
        let a: [u8; 8] = b.try_into().unwrap_or([0; 8]);
        if little {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        }
    };
    let kind = if little {
        u32::from_le_bytes(word(&wkb[1..5]))
    } else {
        u32::from_be_bytes(word(&wkb[1..5]))
    };
    (kind == 1).then(|| (double(&wkb[5..13]), double(&wkb[13..21])))
}

/// Debezium's zero-date rule: NULL when the column allows it, else the epoch.
fn zero(col: &MyColumn, epoch: Value) -> Value {
    if col.nullable { Value::Null } else { epoch }
}

fn int(v: &My, col: &MyColumn, bytes: u8, unsigned: bool, precise: bool) -> Res {
    let mut n: i128 = match v {
        My::Int(n) => i128::from(*n),
        My::UInt(n) => i128::from(*n),
        My::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| fail(v, col, "not an integer"))?,
        _ => return Err(fail(v, col, "not an integer")),
    };
    let width = 8 * u32::from(bytes);
    // A value decoded as signed for an unsigned column wraps back; the driver reads a
    // negative MEDIUMINT without sign extension, which wraps the other way.
    if unsigned && n < 0 {
        n += 1i128 << width;
    } else if !unsigned && bytes < 8 && n >= 1i128 << (width - 1) {
        n -= 1i128 << width;
    }
    let out_of_range = || fail(v, col, "out of range");
    Ok(match (bytes, unsigned) {
        (1, _) | (2, false) => Value::Int16(i16::try_from(n).map_err(|_| out_of_range())?),
        (2 | 3, _) | (4, false) => Value::Int32(i32::try_from(n).map_err(|_| out_of_range())?),
        (8, true) if precise => Value::Decimal(Decimal::Finite {
            unscaled: BigInt::from(n),
            scale: 0,
        }),
        // Debezium's `long` mode: BIGINT UNSIGNED above i64::MAX wraps.
        (8, true) => Value::Int64(u64::try_from(n).map_err(|_| out_of_range())? as i64),
        _ => Value::Int64(i64::try_from(n).map_err(|_| out_of_range())?),
    })
}

fn text_of(v: &My, col: &MyColumn) -> Result<String, ValueError> {
    match v {
        My::Bytes(b) => String::from_utf8(b.clone()).map_err(|_| fail(v, col, "invalid UTF-8")),
        My::Int(n) => Ok(n.to_string()),
        My::UInt(n) => Ok(n.to_string()),
        My::Double(f) => Ok(f.to_string()),
        _ => Err(fail(v, col, "not a number")),
    }
}

/// Text that does not decode: the error names the charset and the bytes' length, not the
/// bytes (which may be long, or private).
fn text_error(b: &[u8], col: &MyColumn, reason: String) -> ValueError {
    ValueError {
        value: format!("<{} bytes>", b.len()),
        source_type: col.source_type.clone(),
        reason,
    }
}

/// MariaDB's INET4, INET6 and UUID: bytes in the binlog, the server's text in a result set.
fn special(v: My, col: &MyColumn, origin: Origin) -> Res {
    use super::mariadb_types::{inet4_text, inet6_text, padded, uuid_of};
    let My::Bytes(b) = &v else {
        return Err(fail(&v, col, "not bytes"));
    };
    if origin == Origin::Snapshot {
        let text = std::str::from_utf8(b).map_err(|_| fail(&v, col, "not text"))?;
        return match col.kind {
            Kind::Uuid => text
                .parse()
                .map(Value::Uuid)
                .map_err(|_| fail(&v, col, "not a UUID")),
            _ => Ok(Value::Text(text.to_owned())),
        };
    }
    let wrong = || fail(&v, col, "longer than the type's bytes");
    Ok(match col.kind {
        Kind::Inet4 => Value::Text(inet4_text(&padded(b).ok_or_else(wrong)?)),
        Kind::Inet6 => Value::Text(inet6_text(&padded(b).ok_or_else(wrong)?)),
        _ => Value::Uuid(uuid_of(&padded(b).ok_or_else(wrong)?)),
    })
}

/// A BIT(n) value, stored as a big-endian number in whole bytes, as the model's bit string
/// (first bit most significant, packed from the high bit of byte 0). BIT(1) is a boolean.
fn bits(stored: &[u8], length: u32) -> Value {
    let n = length as usize;
    let bit = |j: usize| {
        stored
            .len()
            .checked_sub(1 + j / 8)
            .and_then(|i| stored.get(i))
            .is_some_and(|b| b & (1 << (j % 8)) != 0)
    };
    if n == 1 {
        return Value::Bool(bit(0));
    }
    let mut bytes = vec![0u8; n.div_ceil(8)];
    for k in 0..n {
        if bit(n - 1 - k) {
            bytes[k / 8] |= 0x80 >> (k % 8);
        }
    }
    Value::Bits { bytes, length }
}

fn enum_at(allowed: &[String], index: i64) -> String {
    // Index 0 is MySQL's "invalid value" empty string.
    usize::try_from(index)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| allowed.get(i))
        .cloned()
        .unwrap_or_default()
}

fn date(y: u16, m: u8, d: u8) -> Option<i32> {
    let day = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((day - epoch).num_days()).ok()
}

#[allow(clippy::too_many_arguments)]
fn datetime_micros(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> Option<i64> {
    let day = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))?;
    let t = day.and_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)?;
    Some(t.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(kind: Kind, nullable: bool) -> MyColumn {
        MyColumn {
            name: "c".into(),
            kind,
            nullable,
            source_type: "T".into(),
            default: None,
        }
    }

    fn bin(kind: Kind, v: My) -> Value {
        convert(v, &col(kind, true), Origin::Binlog, false).unwrap()
    }

    #[test]
    fn unsigned_extremes_follow_the_handling_mode() {
        let k = Kind::Int {
            bytes: 8,
            unsigned: true,
        };
        assert_eq!(bin(k.clone(), My::UInt(u64::MAX)), Value::Int64(-1));
        assert_eq!(bin(k.clone(), My::Int(-1)), Value::Int64(-1));
        let precise = convert(My::UInt(u64::MAX), &col(k, false), Origin::Binlog, true).unwrap();
        assert_eq!(
            precise,
            Value::Decimal(Decimal::Finite {
                unscaled: BigInt::from(u64::MAX),
                scale: 0
            })
        );
        let tiny = Kind::Int {
            bytes: 1,
            unsigned: true,
        };
        assert_eq!(bin(tiny.clone(), My::Int(-1)), Value::Int16(255));
        let medium = Kind::Int {
            bytes: 3,
            unsigned: true,
        };
        assert_eq!(bin(medium, My::Int(16_777_215)), Value::Int32(16_777_215));
        let signed_medium = Kind::Int {
            bytes: 3,
            unsigned: false,
        };
        assert_eq!(
            bin(signed_medium, My::Int(8_388_608)),
            Value::Int32(-8_388_608)
        );
        let int = Kind::Int {
            bytes: 4,
            unsigned: true,
        };
        assert_eq!(bin(int, My::Int(-1)), Value::Int64(4_294_967_295));
    }

    #[test]
    fn decimals_keep_the_column_scale() {
        let k = Kind::Decimal {
            precision: 10,
            scale: 2,
        };
        assert_eq!(
            bin(k, My::Bytes(b"0.5".to_vec())),
            Value::Decimal(Decimal::Finite {
                unscaled: BigInt::from(50),
                scale: 2
            })
        );
    }

    #[test]
    fn bits_become_a_left_aligned_string() {
        // b'1000000001' is stored as 0x02 0x01.
        assert_eq!(
            bin(Kind::Bit { length: 10 }, My::Bytes(vec![0x02, 0x01])),
            Value::Bits {
                bytes: vec![0x80, 0x40],
                length: 10
            }
        );
        assert_eq!(
            bin(Kind::Bit { length: 1 }, My::Bytes(vec![1])),
            Value::Bool(true)
        );
        assert_eq!(
            bin(Kind::Bit { length: 1 }, My::Bytes(vec![0])),
            Value::Bool(false)
        );
    }

    #[test]
    fn temporal_values_and_zero_dates() {
        assert_eq!(
            bin(Kind::Date, My::Date(1970, 1, 2, 0, 0, 0, 0)),
            Value::Date(1)
        );
        assert_eq!(bin(Kind::Date, My::Date(0, 0, 0, 0, 0, 0, 0)), Value::Null);
        let not_null = col(Kind::DateTime { fsp: 0 }, false);
        assert_eq!(
            convert(
                My::Date(0, 0, 0, 0, 0, 0, 0),
                &not_null,
                Origin::Snapshot,
                false
            )
            .unwrap(),
            Value::Timestamp(0)
        );
        assert_eq!(
            bin(Kind::DateTime { fsp: 6 }, My::Date(1970, 1, 1, 0, 0, 1, 5)),
            Value::Timestamp(1_000_005)
        );
        assert_eq!(
            bin(Kind::Time { fsp: 6 }, My::Time(true, 34, 22, 59, 59, 0)),
            Value::Time(-838 * 3_600_000_000 - 59 * 60_000_000 - 59_000_000)
        );
        let ts = Kind::Timestamp { fsp: 3 };
        assert_eq!(
            bin(ts.clone(), My::Bytes(b"2147483647.499000".to_vec())),
            Value::TimestampTz(2_147_483_647_499_000)
        );
        assert_eq!(
            bin(ts.clone(), My::Bytes(b"10.5".to_vec())),
            Value::TimestampTz(10_500_000)
        );
        assert_eq!(bin(ts.clone(), My::Bytes(b"0".to_vec())), Value::Null);
        assert_eq!(
            convert(
                My::Date(2038, 1, 19, 3, 14, 7, 499_000),
                &col(ts, true),
                Origin::Snapshot,
                false
            )
            .unwrap(),
            Value::TimestampTz(2_147_483_647_499_000)
        );
        assert_eq!(
            bin(Kind::Year, My::Bytes(b"2155".to_vec())),
            Value::Year(2155)
        );
        assert_eq!(bin(Kind::Year, My::Bytes(b"1900".to_vec())), Value::Year(0));
    }

    #[test]
    fn enums_and_sets_from_both_origins() {
        let allowed: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        assert_eq!(
            bin(Kind::Enum(allowed.clone()), My::Int(2)),
            Value::Enum("y".into())
        );
        assert_eq!(
            bin(Kind::Enum(allowed.clone()), My::Int(0)),
            Value::Enum("".into())
        );
        assert_eq!(
            bin(Kind::Set(allowed.clone()), My::Bytes(vec![0b101])),
            Value::EnumSet(vec!["x".into(), "z".into()])
        );
        let snap = |v| {
            convert(
                v,
                &col(Kind::Set(allowed.clone()), true),
                Origin::Snapshot,
                false,
            )
        };
        assert_eq!(
            snap(My::Bytes(b"x,z".to_vec())).unwrap(),
            Value::EnumSet(vec!["x".into(), "z".into()])
        );
        assert_eq!(snap(My::Bytes(Vec::new())).unwrap(), Value::EnumSet(vec![]));
    }

    #[test]
    fn text_charsets_and_binary_padding() {
        assert_eq!(
            bin(
                Kind::Text(Charset::Named("latin1")),
                My::Bytes(vec![b'c', b'a', b'f', 0xe9])
            ),
            Value::Text("café".into())
        );
        let err = convert(
            My::Bytes(vec![0xff]),
            &col(Kind::Text(Charset::UTF8MB4), true),
            Origin::Binlog,
            false,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("1 bytes are not valid utf8mb4"),
            "{err}"
        );
        assert!(err.to_string().contains("<1 bytes>"), "{err}");
        assert_eq!(
            bin(Kind::Binary { fixed: Some(4) }, My::Bytes(vec![1, 2])),
            Value::Bytes(vec![1, 2, 0, 0])
        );
    }

    #[test]
    fn binary_json_becomes_text_and_partial_updates_are_refused() {
        use mysql_async::binlog::jsonb;
        let c = col(Kind::Json, true);
        let text = |v| match from_binlog(BinlogValue::Jsonb(v), &c, false).unwrap() {
            Value::Json(t) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(text(jsonb::Value::I64(-5)), "-5");
        assert_eq!(
            text(jsonb::Value::String(jsonb::JsonbString::new(
                "h\u{e9}\"".as_bytes()
            ))),
            "\"h\u{e9}\\\"\""
        );
        assert_eq!(text(jsonb::Value::Null), "null");
        let err = from_binlog(BinlogValue::JsonDiff(Vec::new()), &c, false).unwrap_err();
        assert!(
            err.to_string().contains("binlog_row_value_options"),
            "{err}"
        );
    }

    #[test]
    fn a_point_has_x_y_its_wkb_and_srid() {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend(1.5f64.to_le_bytes());
        wkb.extend((-2.25f64).to_le_bytes());
        let mut raw = 4326i32.to_le_bytes().to_vec();
        raw.extend(&wkb);
        assert_eq!(
            bin(Kind::Point, My::Bytes(raw)),
            Value::Point {
                x: 1.5,
                y: -2.25,
                wkb: wkb.clone(),
                srid: Some(4326)
            }
        );
        // Big-endian WKB reads the same.
        let mut be = vec![0, 0, 0, 0, 1];
        be.extend(1.5f64.to_be_bytes());
        be.extend((-2.25f64).to_be_bytes());
        assert_eq!(point_of_wkb(&be), Some((1.5, -2.25)));
        // A linestring's WKB is no point.
        let mut line = wkb;
        line[1] = 2;
        assert_eq!(point_of_wkb(&line), None);
        assert!(
            convert(
                My::Bytes(vec![0; 8]),
                &col(Kind::Point, true),
                Origin::Binlog,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn geometry_splits_srid_and_wkb() {
        let mut raw = 4326i32.to_le_bytes().to_vec();
        raw.extend([1, 1, 0, 0, 0]);
        assert_eq!(
            bin(Kind::Geometry, My::Bytes(raw)),
            Value::Geometry {
                wkb: vec![1, 1, 0, 0, 0],
                srid: Some(4326)
            }
        );
        assert!(
            convert(
                My::Bytes(vec![1]),
                &col(Kind::Geometry, true),
                Origin::Binlog,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn mariadb_types_and_unknown_ones_from_both_origins() {
        let snap = |k: Kind, v: &[u8]| {
            convert(
                My::Bytes(v.to_vec()),
                &col(k, true),
                Origin::Snapshot,
                false,
            )
        };
        let u = "01020304-0506-0708-090a-0b0c0d0e0f10";
        assert_eq!(
            snap(Kind::Uuid, u.as_bytes()).unwrap(),
            Value::Uuid(u.parse().unwrap())
        );
        assert_eq!(
            bin(Kind::Uuid, My::Bytes((1..=16).collect())),
            Value::Uuid(u.parse().unwrap())
        );
        assert_eq!(
            bin(Kind::Inet4, My::Bytes(vec![10])),
            Value::Text("10.0.0.0".into())
        );
        assert_eq!(
            bin(Kind::Inet6, My::Bytes(vec![])),
            Value::Text("::".into())
        );
        assert_eq!(
            snap(Kind::Inet6, b"::1").unwrap(),
            Value::Text("::1".into())
        );
        assert!(
            convert(
                My::Bytes(vec![0; 5]),
                &col(Kind::Inet4, true),
                Origin::Binlog,
                false
            )
            .is_err()
        );
        assert!(snap(Kind::Uuid, b"nope").is_err());
        let unknown = Kind::Unknown("vector(2)".into());
        assert_eq!(
            bin(unknown.clone(), My::Bytes(vec![1, 2])),
            Value::Bytes(vec![1, 2])
        );
        assert_eq!(bin(unknown, My::Int(-3)), Value::Bytes(b"-3".to_vec()));
    }
}
