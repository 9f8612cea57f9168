//! Tests of the change-event model.

use super::*;

fn schema() -> TableSchema {
    let col = |name: &str, data_type| Column {
        name: name.into(),
        data_type,
        nullable: false,
        source_type: "x".into(),
        default: None,
    };
    TableSchema {
        id: TableId::new("public", "orders"),
        version: 1,
        columns: vec![
            col("tenant", DataType::Int32),
            col("note", DataType::Text),
            col("id", DataType::Int64),
        ],
        primary_key: vec![0, 2],
    }
}

#[test]
fn key_follows_primary_key_order() {
    let row = Row(vec![
        Value::Int32(7),
        Value::Text("hi".into()),
        Value::Int64(42),
    ]);
    assert_eq!(
        row.key(&schema()),
        Some(Row(vec![Value::Int32(7), Value::Int64(42)]))
    );
}

#[test]
fn table_without_key_has_no_key() {
    let mut s = schema();
    s.primary_key.clear();
    assert_eq!(Row(vec![Value::Null; 3]).key(&s), None);
}

#[test]
fn schema_check_rejects_bad_keys() {
    let mut s = schema();
    assert!(s.check().is_ok());
    s.primary_key = vec![0, 0];
    assert!(s.check().unwrap_err().contains("repeated"));
    s.primary_key = vec![3];
    assert!(s.check().unwrap_err().contains("out of range"));
}

#[test]
fn next_version_bumps_version_and_keeps_id() {
    let s = schema();
    let n = s.next_version(s.columns[..2].to_vec(), vec![0]);
    assert_eq!((n.id.clone(), n.version, n.columns.len()), (s.id, 2, 2));
}

#[test]
fn decimal_parse_keeps_scale_and_sign() {
    let d = Decimal::parse("-12.340").unwrap();
    assert_eq!(
        d,
        Decimal::Finite {
            unscaled: BigInt::from(-12340),
            scale: 3
        }
    );
    assert_eq!(d.to_string(), "-12.340");
    assert_eq!(Decimal::parse(".5").unwrap().to_string(), "0.5");
    assert_eq!(Decimal::parse("-0.001").unwrap().to_string(), "-0.001");
    assert_eq!(Decimal::parse("NaN"), Some(Decimal::NaN));
    assert_eq!(Decimal::parse("-Infinity"), Some(Decimal::NegativeInfinity));
    for bad in ["", "-", ".", "1.2.3", "1e5", "abc", "--1"] {
        assert_eq!(Decimal::parse(bad), None, "{bad}");
    }
}

#[test]
fn decimal_parse_keeps_huge_values_exact() {
    let text = "123456789012345678901234567890123456.123456789012345678901234567890";
    assert_eq!(Decimal::parse(text).unwrap().to_string(), text);
}

proptest::proptest! {
    #[test]
    fn decimal_display_parse_round_trip(unscaled in proptest::num::i128::ANY, scale in 0u32..40) {
        let d = Decimal::Finite { unscaled: BigInt::from(unscaled), scale };
        proptest::prop_assert_eq!(Decimal::parse(&d.to_string()), Some(d));
    }
}

#[test]
fn op_codes_are_debeziums() {
    let codes: Vec<_> = [
        Op::Create,
        Op::Update,
        Op::Delete,
        Op::Read,
        Op::Truncate,
        Op::Message,
    ]
    .iter()
    .map(|o| o.code())
    .collect();
    assert_eq!(codes, ["c", "u", "d", "r", "t", "m"]);
}
