//! Tests of each type's conversion: decimals, temporal values, intervals, bits, placeholders.

use proptest::prelude::*;

use super::*;
use crate::emitter::avro_schema::table_schemas;
use crate::emitter::avro_value::tests::{
    avro_dec, bits, dec, envelope_value, event, field, meta, pg, s, try_encode, unwrap_union,
};
use crate::event::{DataType as D, Op, Row, TableId, TableSchema, TimePrecision as P};

fn encode(dt: DataType, value: Value, opts: AvroOptions) -> Avro {
    try_encode(dt, false, "x", value, opts).unwrap()
}

#[test]
fn every_data_type_round_trips() {
    let uuid = uuid::Uuid::parse_str("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").unwrap();
    let noon_ist = Value::TimeTz {
        micros: 43_200_000_000,
        offset_seconds: 19_815,
    };
    // 2024-01-02T03:04:05.123456Z
    let instant = 1_704_164_645_123_456;
    let interval = Interval {
        months: 14,
        days: 3,
        micros: 14_706_789_000,
    };
    let cases: Vec<(DataType, Value, Avro)> = vec![
        (D::Boolean, Value::Bool(true), Avro::Boolean(true)),
        (D::Int16, Value::Int16(-5), Avro::Int(-5)),
        (D::Int32, Value::Int32(i32::MIN), Avro::Int(i32::MIN)),
        (D::Int64, Value::Int64(i64::MAX), Avro::Long(i64::MAX)),
        (D::Float32, Value::Float32(1.5), Avro::Float(1.5)),
        (D::Float64, Value::Float64(-2.25), Avro::Double(-2.25)),
        (
            D::Decimal {
                precision: Some(5),
                scale: Some(2),
            },
            dec("1.5"),
            avro_dec(150),
        ),
        (
            D::Decimal {
                precision: None,
                scale: Some(2),
            },
            dec("-1234567.8"),
            avro_dec(-123_456_780),
        ),
        (
            D::Decimal {
                precision: None,
                scale: None,
            },
            dec("12.340"),
            Avro::Record(vec![
                ("scale".into(), Avro::Int(2)),
                ("value".into(), Avro::Bytes(vec![0x04, 0xd2])),
            ]),
        ),
        (D::Text, Value::Text("héllo".into()), s("héllo")),
        (
            D::Bytes,
            Value::Bytes(vec![0, 255]),
            Avro::Bytes(vec![0, 255]),
        ),
        (D::Date, Value::Date(19_723), Avro::Int(19_723)),
        (
            D::Time(P::Millis),
            Value::Time(45_296_789_999),
            Avro::Int(45_296_789),
        ),
        (
            D::Time(P::Micros),
            Value::Time(45_296_789_999),
            Avro::Long(45_296_789_999),
        ),
        (
            D::Time(P::Nanos),
            Value::Time(45_296_789_999),
            Avro::Long(45_296_789_999_000),
        ),
        (D::TimeTz, noon_ist, s("06:29:45Z")),
        (
            D::Timestamp(P::Millis),
            Value::Timestamp(instant),
            Avro::Long(1_704_164_645_123),
        ),
        (
            D::Timestamp(P::Micros),
            Value::Timestamp(instant),
            Avro::Long(instant),
        ),
        (
            D::Timestamp(P::Nanos),
            Value::Timestamp(instant),
            Avro::Long(instant * 1000),
        ),
        (
            D::TimestampTz,
            Value::TimestampTz(instant),
            s("2024-01-02T03:04:05.123456Z"),
        ),
        (
            D::Interval,
            Value::Interval(interval),
            Avro::Long(37_091_106_789_000),
        ),
        (D::Year, Value::Year(2024), Avro::Int(2024)),
        (
            D::Uuid,
            Value::Uuid(uuid),
            s("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ),
        (
            D::Json,
            Value::Json(r#"{"a": [1]}"#.into()),
            s(r#"{"a": [1]}"#),
        ),
        (D::Xml, Value::Text("<a/>".into()), s("<a/>")),
        (
            D::Enum {
                allowed: vec!["x".into(), "y".into()],
            },
            Value::Enum("y".into()),
            s("y"),
        ),
        (
            D::EnumSet {
                allowed: vec!["a".into(), "b".into(), "c".into()],
            },
            Value::EnumSet(vec!["a".into(), "c".into()]),
            s("a,c"),
        ),
        (D::Bits { length: 1 }, bits(&[0x80], 1), Avro::Boolean(true)),
        // B'1000000001' = 513: little-endian 01 02.
        (
            D::Bits { length: 10 },
            bits(&[0x80, 0x40], 10),
            Avro::Bytes(vec![0x01, 0x02]),
        ),
        (
            D::Map,
            Value::Map(vec![("b".into(), Some("1".into())), ("a".into(), None)]),
            s(r#"{"b":"1","a":null}"#),
        ),
        (
            D::Array(Box::new(D::Int32)),
            Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)]),
            Avro::Array(vec![
                Avro::Union(1, Box::new(Avro::Int(1))),
                Avro::Union(0, Box::new(Avro::Null)),
                Avro::Union(1, Box::new(Avro::Int(3))),
            ]),
        ),
    ];
    for (dt, value, expected) in cases {
        assert_eq!(
            encode(dt.clone(), value.clone(), pg()),
            expected,
            "{dt:?} NOT NULL"
        );
        let nullable = try_encode(dt.clone(), true, "x", value, pg()).unwrap();
        assert_eq!(
            nullable,
            Avro::Union(1, Box::new(expected)),
            "{dt:?} nullable"
        );
        let null = try_encode(dt.clone(), true, "x", Value::Null, pg()).unwrap();
        assert_eq!(null, Avro::Union(0, Box::new(Avro::Null)), "{dt:?} NULL");
    }
    // Geometry's field is always optional.
    let geometry = Value::Geometry {
        wkb: vec![1, 2],
        srid: Some(4326),
    };
    assert_eq!(
        encode(D::Geometry, geometry, pg()),
        Avro::Union(
            1,
            Box::new(Avro::Record(vec![
                ("wkb".into(), Avro::Bytes(vec![1, 2])),
                ("srid".into(), Avro::Union(1, Box::new(Avro::Int(4326)))),
                ("extensions".into(), Avro::Union(0, Box::new(Avro::Null))),
            ]))
        )
    );
}

#[test]
fn decimal_errors_name_table_column_type_and_value() {
    let table = TableSchema {
        id: TableId::new("public", "orders"),
        version: 1,
        columns: vec![Column {
            name: "total".into(),
            data_type: D::Decimal {
                precision: Some(5),
                scale: Some(2),
            },
            nullable: false,
            source_type: "numeric(5,2)".into(),
            default: None,
        }],
        primary_key: vec![],
    };
    let schemas = table_schemas("s.public.orders", &table, &pg()).unwrap();
    let encode = |v: &str| {
        let e = event(table.clone(), Op::Create, None, Some(Row(vec![dec(v)])));
        envelope_value(&e, &meta(), 0, &pg(), &schemas).map(|_| ())
    };
    assert_eq!(
        encode("123.456").unwrap_err().to_string(),
        "public.orders.total (numeric(5,2)): value 123.456 has more digits than scale 2"
    );
    assert_eq!(
        encode("1234.5").unwrap_err().to_string(),
        "public.orders.total (numeric(5,2)): value 1234.5 has more digits than precision 5"
    );
    assert_eq!(
        encode("NaN").unwrap_err().to_string(),
        "public.orders.total (numeric(5,2)): value NaN cannot be written in decimal.handling.mode=precise (use string or double)"
    );
    encode("999.990").unwrap();
    encode("-999.99").unwrap();
}

#[test]
fn decimal_modes() {
    let fixed = D::Decimal {
        precision: Some(6),
        scale: Some(3),
    };
    let var = D::Decimal {
        precision: None,
        scale: None,
    };
    let mode = |decimal| AvroOptions { decimal, ..pg() };
    let string = mode(DecimalMode::String);
    let double = mode(DecimalMode::Double);
    assert_eq!(encode(fixed.clone(), dec("-1.5"), string), s("-1.500"));
    assert_eq!(encode(var.clone(), dec("1.50"), string), s("1.50"));
    assert_eq!(
        encode(var.clone(), Value::Decimal(Decimal::NaN), string),
        s("NAN")
    );
    assert_eq!(
        encode(
            var.clone(),
            Value::Decimal(Decimal::PositiveInfinity),
            string
        ),
        s("POSITIVE_INFINITY")
    );
    assert_eq!(
        encode(
            fixed.clone(),
            Value::Decimal(Decimal::NegativeInfinity),
            string
        ),
        s("NEGATIVE_INFINITY")
    );
    assert_eq!(encode(fixed.clone(), dec("0.1"), double), Avro::Double(0.1));
    assert_eq!(
        encode(
            var.clone(),
            Value::Decimal(Decimal::NegativeInfinity),
            double
        ),
        Avro::Double(f64::NEG_INFINITY)
    );
    let Avro::Double(nan) = encode(var.clone(), Value::Decimal(Decimal::NaN), double) else {
        panic!()
    };
    assert!(nan.is_nan());
    // Precise: special values are NULL where the column allows it, array elements too.
    let nan = Value::Decimal(Decimal::NaN);
    assert_eq!(
        try_encode(var.clone(), true, "numeric", nan.clone(), pg()).unwrap(),
        Avro::Union(0, Box::new(Avro::Null))
    );
    let arr = encode(
        D::Array(Box::new(var.clone())),
        Value::Array(vec![nan.clone()]),
        pg(),
    );
    assert_eq!(arr, Avro::Array(vec![Avro::Union(0, Box::new(Avro::Null))]));
    // Variable scale: trailing fractional zeros go, integral ones stay.
    let vsd = |scale: i32, unscaled: i64| {
        Avro::Record(vec![
            ("scale".into(), Avro::Int(scale)),
            (
                "value".into(),
                Avro::Bytes(BigInt::from(unscaled).to_signed_bytes_be()),
            ),
        ])
    };
    assert_eq!(encode(var.clone(), dec("1200"), pg()), vsd(0, 1200));
    assert_eq!(encode(var.clone(), dec("0.000"), pg()), vsd(0, 0));
    assert_eq!(encode(var, dec("-0.50"), pg()), vsd(1, -5));
}

proptest! {
    #[test]
    fn decimals_within_precision_round_trip_exactly(
        precision in 1u32..=38,
        scale_seed in 0u32..=38,
        value_scale_seed in 0u32..=38,
        seed in any::<i128>(),
    ) {
        let scale = scale_seed % (precision + 1);
        let value_scale = value_scale_seed % (scale + 1);
        // An unscaled value that fits `precision` digits at the column's scale.
        let limit = 10i128.pow(precision - (scale - value_scale));
        let unscaled = seed % limit;
        let d = Decimal::Finite { unscaled: BigInt::from(unscaled), scale: value_scale };
        let dt = D::Decimal { precision: Some(precision), scale: Some(scale) };
        let Avro::Decimal(got) = encode(dt, Value::Decimal(d), pg()) else { panic!() };
        let expected = BigInt::from(unscaled) * BigInt::from(10).pow(scale - value_scale);
        prop_assert_eq!(BigInt::from(got), expected);
    }

    #[test]
    fn variable_scale_decimals_keep_their_value(unscaled in any::<i128>(), scale in 0u32..40) {
        let d = Decimal::Finite { unscaled: BigInt::from(unscaled), scale };
        let dt = D::Decimal { precision: None, scale: None };
        let got = encode(dt, Value::Decimal(d.clone()), pg());
        let (Avro::Int(s), Avro::Bytes(b)) = (field(&got, "scale"), field(&got, "value")) else { panic!() };
        let back = Decimal::Finite { unscaled: BigInt::from_signed_bytes_be(b), scale: *s as u32 };
        prop_assert_eq!(rescale_eq(&back, &d), true);
    }
}

fn rescale_eq(a: &Decimal, b: &Decimal) -> bool {
    let (
        Decimal::Finite {
            unscaled: ua,
            scale: sa,
        },
        Decimal::Finite {
            unscaled: ub,
            scale: sb,
        },
    ) = (a, b)
    else {
        return false;
    };
    let s = (*sa).max(*sb);
    rescale(ua, *sa, s) == rescale(ub, *sb, s)
}

#[test]
fn temporal_edge_cases() {
    let ts = |us: i64, p| encode(D::Timestamp(p), Value::Timestamp(us), pg());
    assert_eq!(ts(-1, P::Millis), Avro::Long(-1), "milliseconds round down");
    assert_eq!(
        ts(i64::MAX, P::Micros),
        Avro::Long(9_223_372_036_825_200_000)
    );
    assert_eq!(ts(i64::MIN, P::Millis), Avro::Long(-9_223_372_036_832_400));
    assert_eq!(ts(i64::MAX, P::Nanos), Avro::Long(i64::MAX));
    assert!(
        try_encode(
            D::Timestamp(P::Nanos),
            false,
            "timestamp",
            Value::Timestamp(i64::MAX / 10),
            pg()
        )
        .unwrap_err()
        .to_string()
        .contains("outside the range of nanoseconds")
    );
    assert_eq!(
        encode(D::Time(P::Millis), Value::Time(-1), pg()),
        Avro::Int(-1)
    );
    let micro_time = AvroOptions {
        time: TimeMode::AdaptiveTimeMicroseconds,
        ..pg()
    };
    assert_eq!(
        encode(D::Time(P::Nanos), Value::Time(5), micro_time),
        Avro::Long(5)
    );
    assert_eq!(
        encode(D::Timestamp(P::Nanos), Value::Timestamp(5), micro_time),
        Avro::Long(5000)
    );
    let connect = AvroOptions {
        time: TimeMode::Connect,
        ..pg()
    };
    assert_eq!(encode(D::Date, Value::Date(-3), connect), Avro::Date(-3));
    assert_eq!(
        encode(D::Time(P::Micros), Value::Time(1_999), connect),
        Avro::TimeMillis(1)
    );
    assert_eq!(
        encode(D::Timestamp(P::Nanos), Value::Timestamp(-1_001), connect),
        Avro::TimestampMillis(-2)
    );
    assert!(
        try_encode(
            D::Time(P::Micros),
            false,
            "time",
            Value::Time(MICROS_PER_DAY),
            connect
        )
        .is_err()
    );

    let tz = |us: i64, source_type: &str, opts| {
        try_encode(
            D::TimestampTz,
            false,
            source_type,
            Value::TimestampTz(us),
            opts,
        )
        .unwrap()
    };
    let mysql = AvroOptions::debezium_defaults(SourceKind::MySql);
    assert_eq!(tz(0, "timestamptz", pg()), s("1970-01-01T00:00:00.000000Z"));
    assert_eq!(
        tz(-1, "timestamptz", pg()),
        s("1969-12-31T23:59:59.999999Z")
    );
    assert_eq!(
        tz(123_400, "timestamptz(3)", pg()),
        s("1970-01-01T00:00:00.123Z")
    );
    assert_eq!(
        tz(123_400, "TIMESTAMP", mysql),
        s("1970-01-01T00:00:00.1234Z")
    );
    assert_eq!(tz(0, "TIMESTAMP", mysql), s("1970-01-01T00:00:00Z"));
    assert_eq!(
        tz(10, "TIMESTAMP(6)", mysql),
        s("1970-01-01T00:00:00.000010Z")
    );
    assert_eq!(tz(i64::MAX, "timestamptz", pg()), s("infinity"));
    assert_eq!(tz(i64::MIN, "timestamptz", pg()), s("-infinity"));
    // 10000-01-01 and 0001-01-01 BC (year 0).
    assert_eq!(
        tz(253_402_300_800_000_000, "TIMESTAMP", mysql),
        s("+10000-01-01T00:00:00Z")
    );
    assert_eq!(
        tz(-62_167_219_200_000_000, "TIMESTAMP", mysql),
        s("0000-01-01T00:00:00Z")
    );
    assert_eq!(
        tz(-62_198_755_200_000_000, "TIMESTAMP", mysql),
        s("-0001-01-01T00:00:00Z")
    );

    let tt = |micros, offset_seconds| {
        encode(
            D::TimeTz,
            Value::TimeTz {
                micros,
                offset_seconds,
            },
            pg(),
        )
    };
    assert_eq!(tt(3_600_000_000, 7_200), s("23:00:00Z"));
    assert_eq!(tt(82_800_000_000, -7_200), s("01:00:00Z"));
    assert_eq!(tt(1_500_000, 0), s("00:00:01.5Z"));
    assert_eq!(tt(MICROS_PER_DAY, 0), s("24:00:00Z"));
}

#[test]
fn intervals() {
    let iv = |months, days, micros| {
        Value::Interval(Interval {
            months,
            days,
            micros,
        })
    };
    let md = |v| encode(D::Interval, v, pg());
    assert_eq!(
        md(iv(1, 0, 0)),
        Avro::Long(2_629_800_000_000),
        "a month is 30.4375 days"
    );
    assert_eq!(md(iv(0, 1, 0)), Avro::Long(86_400_000_000));
    assert_eq!(md(iv(-1, 0, -1)), Avro::Long(-2_629_800_000_001));
    assert_eq!(
        md(iv(-14, -3, -14_706_789_000)),
        Avro::Long(-37_091_106_789_000)
    );
    let text = AvroOptions {
        interval_as_string: true,
        ..pg()
    };
    let iso = |v| encode(D::Interval, v, text);
    assert_eq!(iso(iv(14, 3, 14_706_789_000)), s("P1Y2M3DT4H5M6.789S"));
    assert_eq!(iso(iv(0, 0, 0)), s("P0Y0M0DT0H0M0S"));
    assert_eq!(iso(iv(-14, -1, -90_500_000)), s("P-1Y-2M-1DT0H-1M-30.5S"));
}

#[test]
fn bits_follow_each_connectors_byte_layout() {
    let b = |v, source| {
        encode(
            D::Bits { length: 16 },
            v,
            AvroOptions::debezium_defaults(source),
        )
    };
    // B'0000000000000001' = 1.
    assert_eq!(
        b(bits(&[0x00, 0x01], 16), SourceKind::Postgres),
        Avro::Bytes(vec![0x01])
    );
    assert_eq!(
        b(bits(&[0x00, 0x01], 16), SourceKind::MySql),
        Avro::Bytes(vec![0x01, 0x00])
    );
    assert_eq!(
        b(bits(&[0x00, 0x00], 16), SourceKind::Postgres),
        Avro::Bytes(vec![])
    );
    // A shorter varbit value: B'101' = 5.
    assert_eq!(
        b(bits(&[0b1010_0000], 3), SourceKind::Postgres),
        Avro::Bytes(vec![5])
    );
    assert!(
        try_encode(
            D::Bits { length: 16 },
            false,
            "bit(16)",
            bits(&[0xff], 16),
            pg()
        )
        .is_err()
    );
    assert_eq!(
        encode(D::Boolean, bits(&[0x00], 1), pg()),
        Avro::Boolean(false)
    );
}

#[test]
fn unavailable_values_use_debeziums_placeholder() {
    let p = UNAVAILABLE_PLACEHOLDER;
    let un = |dt: DataType, nullable, opts| try_encode(dt, nullable, "x", Value::Unavailable, opts);
    assert_eq!(un(D::Text, false, pg()).unwrap(), s(p));
    assert_eq!(
        un(D::Json, true, pg()).unwrap(),
        Avro::Union(1, Box::new(s(p)))
    );
    assert_eq!(
        un(D::Bytes, false, pg()).unwrap(),
        Avro::Bytes(p.as_bytes().to_vec())
    );
    let string_decimal = AvroOptions {
        decimal: DecimalMode::String,
        ..pg()
    };
    assert_eq!(
        un(
            D::Decimal {
                precision: None,
                scale: None
            },
            false,
            string_decimal
        )
        .unwrap(),
        s(p)
    );
    assert_eq!(
        un(D::Map, false, pg()).unwrap(),
        s(&format!(r#"{{"{p}":"{p}"}}"#))
    );
    let map = AvroOptions {
        hstore_as_map: true,
        ..pg()
    };
    assert_eq!(
        un(D::Map, false, map).unwrap(),
        Avro::Map(HashMap::from([(
            p.to_owned(),
            Avro::Union(1, Box::new(s(p)))
        )]))
    );
    let items = |dt| match un(D::Array(Box::new(dt)), false, pg()).unwrap() {
        Avro::Array(items) => items
            .into_iter()
            .map(|i| unwrap_union(&i).clone())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(items(D::Text), vec![s(p)]);
    assert_eq!(items(D::Int32)[0], Avro::Int(i32::from(b'_')));
    assert_eq!(items(D::Int64).len(), p.len());
    assert_eq!(items(D::Uuid), vec![s(UNAVAILABLE_UUID)]);
    // No placeholder for the type: NULL if allowed, else an error naming the column.
    assert_eq!(
        un(D::Int64, true, pg()).unwrap(),
        Avro::Union(0, Box::new(Avro::Null))
    );
    let err = un(D::Int64, false, pg()).unwrap_err().to_string();
    assert!(
        err.starts_with("public.t.c (x): value <unavailable> (unchanged TOAST)"),
        "{err}"
    );
}

/// pgvector's `vector` and `halfvec` as Debezium's `DoubleVector` / `FloatVector` (an array of
/// required numbers, named), with `VectorDatabaseIT`'s values.
#[test]
fn vectors_are_debeziums_double_and_float_vectors() {
    use crate::emitter::avro_schema::tests::column;
    let table = TableSchema {
        id: crate::event::TableId::new("public", "v"),
        version: 1,
        columns: vec![
            column("f_vector", D::DoubleVector, true),
            column("f_halfvec", D::FloatVector, false),
        ],
        primary_key: vec![],
    };
    let s = table_schemas("p.public.v", &table, &pg()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s.value_json).unwrap();
    let fields = &v["fields"][0]["type"][1]["fields"];
    assert_eq!(
        fields[0]["type"],
        serde_json::json!(["null", {"type": "array", "items": "double", "connect.version": 1,
            "connect.name": "io.debezium.data.DoubleVector"}])
    );
    assert_eq!(
        fields[1]["type"],
        serde_json::json!({"type": "array", "items": "float", "connect.version": 1,
            "connect.name": "io.debezium.data.FloatVector"})
    );
    assert_eq!(
        encode(
            D::DoubleVector,
            Value::Array(vec![
                Value::Float64(1.0),
                Value::Float64(2.0),
                Value::Float64(3.0)
            ]),
            pg()
        ),
        Avro::Array(vec![
            Avro::Double(1.0),
            Avro::Double(2.0),
            Avro::Double(3.0)
        ])
    );
    assert_eq!(
        encode(
            D::FloatVector,
            Value::Array(vec![Value::Float32(101.0), Value::Float32(102.0)]),
            pg()
        ),
        Avro::Array(vec![Avro::Float(101.0), Avro::Float(102.0)])
    );
}
