//! `hstore` and array values from the server, and array shapes.

use super::*;

#[test]
fn hstore_pairs_in_order_with_escapes_and_nulls() {
    let pairs = |p: &[(&str, Option<&str>)]| {
        Value::Map(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        )
    };
    assert_eq!(
        parse(
            HSTORE,
            -1,
            r#"""=>"", "a"=>"1", "b c"=>NULL, "q\"k"=>"v\\x", "NULL"=>"null""#
        ),
        pairs(&[
            ("", Some("")),
            ("a", Some("1")),
            ("b c", None),
            ("q\"k", Some("v\\x")),
            ("NULL", Some("null")),
        ])
    );
    assert_eq!(parse(HSTORE, -1, ""), pairs(&[]));
    // Input-style text (unquoted tokens) reads too.
    assert_eq!(
        parse(HSTORE, -1, "a=>1,b => NULL"),
        pairs(&[("a", Some("1")), ("b", None)])
    );
    for bad in [
        r#""a"=>"#,
        r#""a"=>"1" "b"=>"2""#,
        r#""a">"1""#,
        r#""a"=>"1"#,
        "=>1",
    ] {
        parse_err(HSTORE, -1, bad);
    }
}

#[test]
fn arrays_of_every_kind() {
    let arr = Value::Array;
    assert_eq!(
        parse(1000, -1, "{t,f,NULL}"),
        arr(vec![Value::Bool(true), Value::Bool(false), Value::Null])
    );
    assert_eq!(
        parse(1007, -1, "{1,2,NULL}"),
        arr(vec![Value::Int32(1), Value::Int32(2), Value::Null])
    );
    assert_eq!(
        parse(1005, -1, "{1,-32768}"),
        arr(vec![Value::Int16(1), Value::Int16(i16::MIN)])
    );
    assert_eq!(
        parse(1016, -1, "{9223372036854775807}"),
        arr(vec![Value::Int64(i64::MAX)])
    );
    match parse(1021, -1, "{NaN,Infinity,1.5}") {
        Value::Array(v) => {
            assert!(matches!(v[0], Value::Float32(f) if f.is_nan()));
            assert_eq!(v[1..], [Value::Float32(f32::INFINITY), Value::Float32(1.5)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse(1022, -1, "{-Infinity,0.1}"),
        arr(vec![Value::Float64(f64::NEG_INFINITY), Value::Float64(0.1)])
    );
    assert_eq!(
        parse(1231, -1, "{NaN,1.50,NULL}"),
        arr(vec![Value::Decimal(Decimal::NaN), dec("1.50"), Value::Null])
    );
    assert_eq!(
        parse(1009, -1, r#"{"a b","c\"d",NULL,"NULL","","x\\y","{}",","}"#),
        arr(vec![
            text("a b"),
            text("c\"d"),
            Value::Null,
            text("NULL"),
            text(""),
            text("x\\y"),
            text("{}"),
            text(","),
        ])
    );
    assert_eq!(
        parse(
            1009,
            -1,
            "{\"tab\tand\nnewline \\\\ \\\"q\\\"\",\" lead\",\"trail \",\"a{b\",\"nUlL\"}"
        ),
        arr(vec![
            text("tab\tand\nnewline \\ \"q\""),
            text(" lead"),
            text("trail "),
            text("a{b"),
            text("nUlL"),
        ])
    );
    assert_eq!(
        parse(1015, -1, r#"{plain,"with space"}"#),
        arr(vec![text("plain"), text("with space")])
    );
    assert_eq!(parse(1014, 7, r#"{"abc  "}"#), arr(vec![text("abc  ")]));
    assert_eq!(
        parse(1001, -1, r#"{"\\x01","\\xdeadbeef"}"#),
        arr(vec![
            Value::Bytes(vec![1]),
            Value::Bytes(vec![0xde, 0xad, 0xbe, 0xef])
        ])
    );
    assert_eq!(
        parse(1182, -1, r#"{2024-01-02,infinity,"0044-03-15 BC"}"#),
        arr(vec![
            Value::Date(19_724),
            Value::Date(i32::MAX),
            Value::Date(-735_160)
        ])
    );
    assert_eq!(
        parse(1183, -1, "{12:34:56.5,24:00:00}"),
        arr(vec![
            Value::Time(45_296_500_000),
            Value::Time(86_400_000_000)
        ])
    );
    assert_eq!(
        parse(
            1115,
            -1,
            r#"{"2024-01-02 03:04:05.12","0044-03-15 12:00:00 BC"}"#
        ),
        arr(vec![
            Value::Timestamp(1_704_164_645_120_000),
            Value::Timestamp(-63_517_780_800_000_000)
        ])
    );
    assert_eq!(
        parse(1185, -1, r#"{"2024-01-01 21:19:05.12+00"}"#),
        arr(vec![Value::TimestampTz(1_704_143_945_120_000)])
    );
    assert_eq!(
        parse(
            1187,
            -1,
            r#"{"1 year 2 mons 3 days 04:05:06.789","-1 days +02:03:00"}"#
        ),
        arr(vec![
            interval(14, 3, 14_706_789_000),
            interval(0, -1, 7_380_000_000)
        ])
    );
    assert_eq!(
        parse(2951, -1, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
        arr(vec![Value::Uuid(uuid::Uuid::from_u128(
            0xa0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11
        ))])
    );
    assert_eq!(
        parse(199, -1, r#"{"{\"a\": 1}","[1, \"x,y\"]"}"#),
        arr(vec![
            Value::Json(r#"{"a": 1}"#.into()),
            Value::Json(r#"[1, "x,y"]"#.into())
        ])
    );
    assert_eq!(
        parse(3807, -1, r#"{"{\"a\": 1}"}"#),
        arr(vec![Value::Json(r#"{"a": 1}"#.into())])
    );
    assert_eq!(
        parse(1041, -1, "{192.168.0.1/24}"),
        arr(vec![text("192.168.0.1/24")])
    );
    assert_eq!(
        parse(651, -1, "{10.0.0.0/8}"),
        arr(vec![text("10.0.0.0/8")])
    );
    assert_eq!(
        parse(1040, -1, "{08:00:2b:01:02:03}"),
        arr(vec![text("08:00:2b:01:02:03")])
    );
    assert_eq!(
        parse(1561, 4, "{0101}"),
        arr(vec![Value::Bits {
            bytes: vec![0x50],
            length: 4
        }])
    );
    assert_eq!(
        parse(1563, -1, "{01,111}"),
        arr(vec![
            Value::Bits {
                bytes: vec![0x40],
                length: 2
            },
            Value::Bits {
                bytes: vec![0xe0],
                length: 3
            }
        ])
    );
    assert_eq!(parse(143, -1, "{<a>1</a>}"), arr(vec![text("<a>1</a>")]));
    assert_eq!(
        parse(MOOD_ARRAY, -1, r#"{happy,"with space","quo\"te"}"#),
        arr(vec![
            Value::Enum("happy".into()),
            Value::Enum("with space".into()),
            Value::Enum("quo\"te".into())
        ])
    );
    assert_eq!(
        parse(HSTORE_ARRAY, -1, r#"{"\"a\"=>\"1\"",""}"#),
        arr(vec![
            Value::Map(vec![("a".into(), Some("1".into()))]),
            Value::Map(vec![])
        ])
    );
}

#[test]
fn array_shapes() {
    let ints = |v: &[i32]| Value::Array(v.iter().map(|&i| Value::Int32(i)).collect());
    let nested = Value::Array(vec![ints(&[1, 2]), ints(&[3, 4])]);
    assert_eq!(parse(1007, -1, "{{1,2},{3,4}}"), nested);
    assert_eq!(parse(1007, -1, "[1:2][3:4]={{1,2},{3,4}}"), nested);
    assert_eq!(parse(1007, -1, "[0:1]={1,2}"), ints(&[1, 2]));
    assert_eq!(parse(1007, -1, "{}"), ints(&[]));
    assert_eq!(parse(1007, -1, " { 1 , 2 } "), ints(&[1, 2]));
    assert_eq!(
        parse(1009, -1, "{{{a,b}},{{c,NULL}}}"),
        Value::Array(vec![
            Value::Array(vec![Value::Array(vec![text("a"), text("b")])]),
            Value::Array(vec![Value::Array(vec![text("c"), Value::Null])]),
        ])
    );
    // An unquoted element keeps escaped characters and inner spaces, not outer ones.
    assert_eq!(
        parse(1009, -1, r"{a\,b, c d ,\ x\ }"),
        Value::Array(vec![text("a,b"), text("c d"), text(" x ")])
    );
    for bad in [
        "",
        "{",
        "{1,}",
        "{,1}",
        "{1 2",
        "{1}}",
        "1,2",
        "{\"1}",
        "{a\"b}",
        "[0:1]{1,2}",
        "[x]={1}",
        "{{{{{{{1}}}}}}}",
    ] {
        parse_err(1009, -1, bad);
    }
    let err = parse_err(1007, -1, "{1,2,x3}");
    assert!(err.contains("element 3"), "{err}");
    assert!(err.contains("int4"), "{err}");
    assert!(err.contains("x3"), "{err}");
}
