//! cargo-fuzz target for the MySQL column mapping and value decoder of the snapshot: a column
//! as `information_schema.COLUMNS` describes it and one value of it as a binary-protocol
//! result set returns it. Never a panic nor an allocation far beyond the input; NULL stays
//! NULL; an error names the column's type; integers stay in their type's range, BIT(n) keeps
//! n bits, BINARY(n) at least n bytes, an ENUM index maps to one of its values (or '' for 0),
//! a DECIMAL keeps at least the column's scale, and a zero date is NULL only when nullable.
//!
//! Input: type index, flags, precision, scale, fractional-second precision, octet length,
//! value variant, then the COLUMN_TYPE suffix (e.g. `('a','b')`) up to a 0 byte and the value.
//! The numbers are kept to what a server reports (precision <= 65, scale <= 30, BINARY <= 255).

#![no_main]

#[path = "common/alloc.rs"]
mod alloc;

use libfuzzer_sys::fuzz_target;
use siphon::event::{Decimal, Value};
use siphon::fuzzing::{ColumnInfo, Kind, MyValue, mysql_value};

const TYPES: [&str; 33] = [
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "decimal",
    "float",
    "double",
    "bit",
    "char",
    "varchar",
    "text",
    "longtext",
    "binary",
    "varbinary",
    "blob",
    "date",
    "time",
    "datetime",
    "timestamp",
    "year",
    "enum",
    "set",
    "json",
    "geometry",
    "point",
    "bool",
    "numeric",
    "real",
    "mediumtext",
    "longblob",
    "polygon",
    "unknown",
];
const CHARSETS: [Option<&str>; 4] = [None, Some("utf8mb4"), Some("latin1"), Some("ascii")];

fn value(variant: u8, b: &[u8]) -> MyValue {
    let n = |k: usize| b.get(k).copied().unwrap_or(0);
    let u64_at = || u64::from_le_bytes(std::array::from_fn(n));
    match variant % 8 {
        0 => MyValue::NULL,
        1 => MyValue::Bytes(b.to_vec()),
        2 => MyValue::Int(u64_at() as i64),
        3 => MyValue::UInt(u64_at()),
        4 => MyValue::Float(f32::from_le_bytes([n(0), n(1), n(2), n(3)])),
        5 => MyValue::Double(f64::from_bits(u64_at())),
        6 => MyValue::Date(
            u16::from_le_bytes([n(0), n(1)]) % 10_000,
            n(2),
            n(3),
            n(4),
            n(5),
            n(6),
            u32::from_le_bytes([n(7), n(8), n(9), 0]) % 1_000_000,
        ),
        // TIME's range is +-838:59:59.999999: at most 34 days and 22 hours.
        _ => MyValue::Time(
            n(0) & 1 != 0,
            u32::from(n(1)) % 35,
            n(2) % 24,
            n(3) % 60,
            n(4) % 60,
            u32::from_le_bytes([n(5), n(6), n(7), 0]) % 1_000_000,
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let [ty, flags, precision, scale, fsp, octets, variant, rest @ ..] = data else {
        return;
    };
    let (suffix, payload) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let data_type = TYPES[usize::from(*ty) % TYPES.len()];
    let unsigned = if flags & 2 != 0 { " unsigned" } else { "" };
    let info = ColumnInfo {
        data_type: data_type.to_owned(),
        column_type: format!("{data_type}{}{unsigned}", String::from_utf8_lossy(suffix)),
        nullable: flags & 1 != 0,
        charset: CHARSETS[usize::from(flags >> 4) % 4].map(str::to_owned),
        numeric_precision: (flags & 8 != 0).then_some(u64::from(*precision % 66)),
        numeric_scale: (flags & 8 != 0).then_some(u64::from(*scale % 31)),
        octet_length: (flags & 8 != 0).then_some(u64::from(*octets)),
        datetime_precision: Some(u64::from(*fsp % 7)),
        json_check: flags & 64 != 0,
    };
    let input = value(*variant, payload);
    let is_null = input == MyValue::NULL;
    let int_input = match &input {
        MyValue::Int(i) => Some(i128::from(*i)),
        MyValue::UInt(u) => Some(i128::from(*u)),
        _ => None,
    };
    let precise = flags & 4 != 0;
    let (kind, out) = alloc::bounded(data.len(), || mysql_value(&info, input, precise));
    let v = match out {
        Ok(v) => v,
        Err(e) => {
            assert_eq!(e.source_type, info.column_type.to_ascii_uppercase());
            assert!(!e.reason.is_empty());
            return;
        }
    };
    if is_null {
        assert_eq!(v, Value::Null);
        return;
    }
    if v == Value::Null {
        // Only a zero date or time stamp of a nullable column becomes NULL.
        assert!(info.nullable, "{kind:?}");
        assert!(matches!(
            kind,
            Kind::Date | Kind::DateTime { .. } | Kind::Timestamp { .. }
        ));
    }
    match (&kind, &v) {
        (Kind::Int { bytes, unsigned }, Value::Int16(_) | Value::Int32(_) | Value::Int64(_))
            if !(*bytes == 8 && *unsigned) =>
        {
            let n = match v {
                Value::Int16(n) => i128::from(n),
                Value::Int32(n) => i128::from(n),
                Value::Int64(n) => i128::from(n),
                _ => unreachable!(),
            };
            // A value in the column's range (what a server sends) comes out unchanged; the
            // decoder does not promise anything for others beyond fitting the model type.
            let width = 8 * u32::from(*bytes);
            let range = if *unsigned {
                0..1i128 << width
            } else {
                -(1i128 << (width - 1))..1i128 << (width - 1)
            };
            if let Some(i) = int_input.filter(|i| range.contains(i)) {
                assert_eq!(n, i, "for {kind:?}");
            }
        }
        (
            Kind::Int {
                bytes: 8,
                unsigned: true,
            },
            Value::Decimal(Decimal::Finite { unscaled, scale }),
        ) => {
            assert_eq!(*scale, 0);
            assert!(unscaled.sign() != num_bigint::Sign::Minus && unscaled.bits() <= 64);
        }
        // Debezium's `long` mode: BIGINT UNSIGNED above i64::MAX wraps.
        (
            Kind::Int {
                bytes: 8,
                unsigned: true,
            },
            Value::Int64(_),
        ) => assert!(!precise),
        (Kind::Int { .. }, other) => panic!("{other:?} for {kind:?}"),
        (Kind::Bit { length }, Value::Bits { bytes, length: l }) => {
            assert_eq!(l, length);
            assert_eq!(bytes.len(), (*length as usize).div_ceil(8));
        }
        (Kind::Bit { length }, Value::Bool(_)) => assert_eq!(*length, 1),
        (Kind::Binary { fixed: Some(n) }, Value::Bytes(b)) => assert!(b.len() >= *n as usize),
        (Kind::Enum(allowed), Value::Enum(s)) if int_input.is_some() => {
            assert!(
                s.is_empty() || allowed.contains(s),
                "{s:?} not in {allowed:?}"
            );
        }
        (Kind::Decimal { scale, .. }, Value::Decimal(Decimal::Finite { scale: s, .. })) => {
            assert!(s >= scale);
        }
        _ => {}
    }
});
