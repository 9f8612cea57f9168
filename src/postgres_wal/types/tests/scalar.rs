//! Scalar values from the server: booleans, numbers, `money`, text, `bytea`, bit strings.

use super::*;

#[test]
fn booleans_and_integers() {
    assert_eq!(parse(16, -1, "t"), Value::Bool(true));
    assert_eq!(parse(16, -1, "f"), Value::Bool(false));
    assert_eq!(parse(21, -1, "-32768"), Value::Int16(i16::MIN));
    assert_eq!(parse(21, -1, "32767"), Value::Int16(i16::MAX));
    assert_eq!(parse(23, -1, "-2147483648"), Value::Int32(i32::MIN));
    assert_eq!(parse(23, -1, "2147483647"), Value::Int32(i32::MAX));
    assert_eq!(
        parse(20, -1, "-9223372036854775808"),
        Value::Int64(i64::MIN)
    );
    assert_eq!(parse(20, -1, "9223372036854775807"), Value::Int64(i64::MAX));
    assert_eq!(parse(26, -1, "4294967295"), Value::Int64(4_294_967_295));
    parse_err(21, -1, "32768");
    parse_err(23, -1, "1.0");
    parse_err(16, -1, "maybe");
}

#[test]
fn floats_round_trip_with_specials() {
    let f32_of = |s| match parse(700, -1, s) {
        Value::Float32(v) => v,
        other => panic!("{other:?}"),
    };
    let f64_of = |s| match parse(701, -1, s) {
        Value::Float64(v) => v,
        other => panic!("{other:?}"),
    };
    assert!(f32_of("NaN").is_nan());
    assert_eq!(f32_of("Infinity"), f32::INFINITY);
    assert_eq!(f32_of("-Infinity"), f32::NEG_INFINITY);
    assert_eq!(f32_of("3.4028235e+38"), f32::MAX);
    assert_eq!(f32_of("1.1754944e-38"), f32::MIN_POSITIVE);
    assert_eq!(f32_of("1e-45"), f32::from_bits(1));
    assert_eq!(f32_of("0.1"), 0.1f32);
    assert!(f32_of("-0").is_sign_negative());
    assert!(f64_of("NaN").is_nan());
    assert_eq!(f64_of("Infinity"), f64::INFINITY);
    assert_eq!(f64_of("-Infinity"), f64::NEG_INFINITY);
    assert_eq!(f64_of("1.7976931348623157e+308"), f64::MAX);
    assert_eq!(f64_of("5e-324"), f64::from_bits(1));
    assert_eq!(f64_of("1e+15"), 1e15);
    assert_eq!(f64_of("123456789012345.67"), 123_456_789_012_345.67);
    assert!(f64_of("-0").is_sign_negative());
}

#[test]
fn numerics_keep_every_digit() {
    assert_eq!(parse(1700, -1, "NaN"), Value::Decimal(Decimal::NaN));
    assert_eq!(
        parse(1700, -1, "Infinity"),
        Value::Decimal(Decimal::PositiveInfinity)
    );
    assert_eq!(
        parse(1700, -1, "-Infinity"),
        Value::Decimal(Decimal::NegativeInfinity)
    );
    assert_eq!(parse(1700, 655_367, "12.340"), dec("12.340"));
    assert_eq!(parse(1700, -1, "-0.001"), dec("-0.001"));
    assert_eq!(
        parse(1700, -1, "0.00000000000000000001"),
        dec("0.00000000000000000001")
    );
    let big = "12345678901234567890123456789012345678901234567890.12345678901234567890";
    assert_eq!(parse(1700, -1, big), dec(big));
    assert_eq!(
        parse(1700, -1, "100000000000000000000"),
        dec("100000000000000000000")
    );
    // numeric(5,2) printed with its scale, and brought to it if ever printed shorter.
    assert_eq!(parse(1700, 327_686, "0.00"), dec("0.00"));
    assert_eq!(parse(1700, 327_686, "7"), dec("7.00"));
    assert_eq!(parse(1700, 327_686, "7.100"), dec("7.10"));
    assert!(parse_err(1700, 327_686, "7.125").contains("more than 2 fractional digits"));
    // Currency text is only money's.
    parse_err(1700, -1, "$1.00");
    parse_err(1700, -1, "1e5");
}

#[test]
fn money_in_c_and_english_locales() {
    let cents = |c: i64| {
        Value::Decimal(Decimal::Finite {
            unscaled: BigInt::from(c),
            scale: 2,
        })
    };
    assert_eq!(parse(790, -1, "$1,234,567.89"), cents(123_456_789));
    assert_eq!(parse(790, -1, "-$1.00"), cents(-100));
    assert_eq!(parse(790, -1, "-$1,234.50"), cents(-123_450));
    assert_eq!(parse(790, -1, "$0.00"), cents(0));
    assert_eq!(
        parse(790, -1, "$92,233,720,368,547,758.07"),
        cents(i64::MAX)
    );
    assert_eq!(
        parse(790, -1, "-$92,233,720,368,547,758.08"),
        cents(i64::MIN)
    );
    assert_eq!(parse(790, -1, "($5.25)"), cents(-525));
    assert_eq!(parse(790, -1, "£12.5"), cents(1250));
    assert_eq!(parse(790, -1, "USD 3"), cents(300));
    assert_eq!(parse(790, -1, "1.00-"), cents(-100));
    for bad in [
        "", "$", "$1,", "$1.2.3", "$1 2", "--$1", "$1.234", "1,.5", "$(1)",
    ] {
        parse_err(790, -1, bad);
    }
}

#[test]
fn text_types_are_verbatim() {
    assert_eq!(parse(1042, 7, "abc  "), text("abc  "));
    assert_eq!(parse(25, -1, "héllo wörld ☃ 𝄞"), text("héllo wörld ☃ 𝄞"));
    assert_eq!(
        parse(25, -1, "tab\tand\nnewline \\ \"q\""),
        text("tab\tand\nnewline \\ \"q\"")
    );
    assert_eq!(parse(19, -1, "x"), text("x"));
    assert_eq!(parse(18, -1, "\u{1}"), text("\u{1}"));
    assert_eq!(parse(CITEXT, -1, "MiXeD"), text("MiXeD"));
    assert_eq!(parse(869, -1, "192.168.0.1"), text("192.168.0.1"));
    assert_eq!(parse(869, -1, "::1"), text("::1"));
    assert_eq!(parse(650, -1, "10.0.0.0/8"), text("10.0.0.0/8"));
    assert_eq!(
        parse(829, -1, "08:00:2b:01:02:03"),
        text("08:00:2b:01:02:03")
    );
    assert_eq!(
        parse(774, -1, "08:00:2b:01:02:03:04:05"),
        text("08:00:2b:01:02:03:04:05")
    );
    assert_eq!(parse(142, -1, "<a>x &amp; y</a>"), text("<a>x &amp; y</a>"));
    let json = r#"{"a": [1, 2.50, "x"], "b": null}"#;
    assert_eq!(parse(114, -1, json), Value::Json(json.into()));
    assert_eq!(parse(3802, -1, json), Value::Json(json.into()));
    assert_eq!(
        parse(2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        Value::Uuid(uuid::Uuid::from_u128(
            0xa0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11
        ))
    );
    parse_err(2950, -1, "a0eebc99");
    assert_eq!(
        parse(MOOD, -1, "with space"),
        Value::Enum("with space".into())
    );
}

#[test]
fn bytea_hex_and_escape_formats() {
    assert_eq!(parse(17, -1, "\\x00ff10"), Value::Bytes(vec![0, 255, 16]));
    assert_eq!(parse(17, -1, "\\x"), Value::Bytes(vec![]));
    assert_eq!(parse(17, -1, "\\xDE AD"), Value::Bytes(vec![0xde, 0xad]));
    // bytea_output = escape.
    assert_eq!(
        parse(17, -1, "\\000\\001\\\\\\177\\200\\377A"),
        Value::Bytes(vec![0, 1, b'\\', 0x7f, 0x80, 0xff, b'A'])
    );
    assert_eq!(parse(17, -1, ""), Value::Bytes(vec![]));
    assert_eq!(parse(17, -1, "a\\\\b"), Value::Bytes(b"a\\b".to_vec()));
    for bad in ["\\x0", "\\xgg", "\\", "\\9", "\\400", "a\\1"] {
        parse_err(17, -1, bad);
    }
}

#[test]
fn bit_strings() {
    let bits = |bytes: &[u8], length| Value::Bits {
        bytes: bytes.to_vec(),
        length,
    };
    assert_eq!(parse(1560, 4, "0101"), bits(&[0b0101_0000], 4));
    assert_eq!(parse(1560, 1, "1"), Value::Bool(true));
    assert_eq!(parse(1560, 1, "0"), Value::Bool(false));
    assert_eq!(parse(1562, -1, "101010101"), bits(&[0xaa, 0x80], 9));
    assert_eq!(parse(1562, -1, ""), bits(&[], 0));
    assert_eq!(parse(1560, 8, "11110000"), bits(&[0xf0], 8));
    assert!(parse_err(1562, 7, "10101010").contains("8 bits, more than the type's 7"));
    parse_err(1560, 4, "0120");
}
