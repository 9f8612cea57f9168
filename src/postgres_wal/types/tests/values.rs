//! Whole values end to end: a captured pgoutput Insert, and how value errors read.

use super::*;

#[test]
fn a_real_pgoutput_insert() {
    // Column (type OID, typmod) from a Relation message and values from the Insert message
    // that followed, decoded from pg_logical_slot_peek_binary_changes(..., 'pgoutput').
    let columns: [(u32, i32, &str, Value); 18] = [
        (16, -1, "t", Value::Bool(true)),
        (869, -1, "192.168.0.1", text("192.168.0.1")),
        (
            1184,
            -1,
            "2024-01-01 21:19:05.12+00",
            Value::TimestampTz(1_704_143_945_120_000),
        ),
        (701, -1, "0.1", Value::Float64(0.1)),
        (700, -1, "3.4028235e+38", Value::Float32(f32::MAX)),
        (1042, 9, "ab   ", text("ab   ")),
        (
            790,
            -1,
            "-$1,234.50",
            Value::Decimal(Decimal::Finite {
                unscaled: BigInt::from(-123_450),
                scale: 2,
            }),
        ),
        (
            1186,
            -1,
            "-1 days +02:03:00",
            interval(0, -1, 7_380_000_000),
        ),
        (17, -1, "\\x00ff", Value::Bytes(vec![0, 255])),
        (
            1007,
            -1,
            "{{1,2},{3,NULL}}",
            Value::Array(vec![
                Value::Array(vec![Value::Int32(1), Value::Int32(2)]),
                Value::Array(vec![Value::Int32(3), Value::Null]),
            ]),
        ),
        (
            1009,
            -1,
            r#"{"a b","NULL",NULL}"#,
            Value::Array(vec![text("a b"), text("NULL"), Value::Null]),
        ),
        (
            HSTORE,
            -1,
            r#""a"=>"1", "b"=>NULL"#,
            Value::Map(vec![("a".into(), Some("1".into())), ("b".into(), None)]),
        ),
        (
            1560,
            3,
            "101",
            Value::Bits {
                bytes: vec![0b1010_0000],
                length: 3,
            },
        ),
        (MOOD, -1, "with space", Value::Enum("with space".into())),
        (1082, -1, "0044-03-15 BC", Value::Date(-735_160)),
        (
            1266,
            -1,
            "12:00:00+05:30:15",
            Value::TimeTz {
                micros: 43_200_000_000,
                offset_seconds: 19_815,
            },
        ),
        (1700, 655_367, "12.340", dec("12.340")),
        (
            3802,
            -1,
            r#"{"a": [2.50], "b": 1}"#,
            Value::Json(r#"{"a": [2.50], "b": 1}"#.into()),
        ),
    ];
    for (type_oid, typmod, s, expected) in columns {
        assert_eq!(parse(type_oid, typmod, s), expected, "{s}");
    }
}

#[test]
fn errors_name_the_type_and_value_and_truncate_long_text() {
    let err = parse_text(&ty(23, -1), "12x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid int4 value \"12x\": not an integer from -2147483648 to 2147483647"
    );
    let long = "é".repeat(100);
    let ValueError::Invalid {
        type_name, text, ..
    } = parse_text(&ty(POSINT, -1), &long).unwrap_err();
    assert_eq!(
        (type_name.as_str(), text.as_str()),
        ("posint", long.as_str())
    );
    let message = parse_text(&ty(POSINT, -1), &long).unwrap_err().to_string();
    assert!(
        message.contains(&format!("\"{}…\"", "é".repeat(64))),
        "{message}"
    );
    assert!(!message.contains(&"é".repeat(65)));
}
