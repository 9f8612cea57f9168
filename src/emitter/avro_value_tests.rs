//! Tests of the envelope, `source` blocks and keys; the fixtures the conversion tests share.

use std::sync::Arc;

use apache_avro::Decimal as AvroDecimal;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use num_bigint::BigInt;

use super::*;
use crate::emitter::avro_schema::tests::{column, everything_table};
use crate::emitter::avro_schema::{DecimalMode, TimeMode, table_schemas, topic_name};
use crate::emitter::avro_write::AvroWriter;
use crate::event::{
    DataType, DataType as D, Decimal, Interval, SourceInfo, TableId, TimePrecision as P, TxInfo,
    Value,
};

pub(crate) fn pg() -> AvroOptions {
    AvroOptions::debezium_defaults(SourceKind::Postgres)
}

pub(crate) fn meta() -> ConnectorMeta {
    ConnectorMeta {
        name: "server1".into(),
        version: "0.1.0".into(),
        connector: "postgresql",
    }
}

fn pg_source(snapshot: SnapshotMarker) -> SourceInfo {
    SourceInfo {
        ts_us: 1_559_033_904_863_123,
        snapshot,
        db: "postgres".into(),
        details: SourceDetails::Postgres {
            tx_id: Some(555),
            lsn: Some(24_023_128),
            xmin: None,
            last_commit_lsn: Some(24_023_119),
        },
    }
}

pub(crate) fn event(
    table: TableSchema,
    op: Op,
    before: Option<Row>,
    after: Option<Row>,
) -> ChangeEvent {
    ChangeEvent {
        op,
        table: Arc::new(table),
        before,
        after,
        source: pg_source(SnapshotMarker::False),
        transaction: None,
        document: None,
    }
}

fn details_for(kind: SourceKind) -> SourceDetails {
    match kind {
        SourceKind::Postgres => pg_source(SnapshotMarker::False).details,
        SourceKind::MySql => SourceDetails::MySql {
            server_id: 1,
            gtid: None,
            file: "binlog.000001".into(),
            pos: 4,
            row: 0,
            thread: Some(7),
            query: None,
        },
        SourceKind::MongoDb => SourceDetails::Mongo {
            ord: 1,
            lsid: None,
            txn_number: None,
            wall_time: None,
        },
    }
}

/// [`super::envelope_value`], checked against [`write_envelope`]: both fail with the same
/// error, or the bytes written directly are those `apache_avro` writes for the value. Every
/// test here goes through this, so each type and case checks the hot path too.
pub(crate) fn envelope_value(
    e: &ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
    schemas: &TableAvroSchemas,
) -> Result<Avro, EncodeError> {
    let value = super::envelope_value(e, meta, processed_at_us, opts, schemas);
    let writer = AvroWriter::new(&schemas.value).unwrap();
    let mut direct = Vec::new();
    let written = write_envelope(
        e,
        meta,
        processed_at_us,
        opts,
        schemas,
        &writer,
        &mut direct,
    );
    match (&value, written) {
        (Ok(v), Ok(())) => assert_eq!(direct, same_bytes(&schemas.value, v)),
        (Err(a), Err(b)) => assert_eq!(*a, b),
        (a, b) => panic!("envelope_value gave {a:?}, write_envelope {b:?}"),
    }
    value
}

/// `value` written by Siphon's [`AvroWriter`], after checking that `apache_avro`'s writer
/// gives the same bytes.
fn same_bytes(schema: &Schema, value: &Avro) -> Vec<u8> {
    let mut reference = Vec::new();
    GenericDatumWriter::builder(schema)
        .build()
        .unwrap()
        .write_value_ref(&mut reference, value)
        .unwrap();
    let ours = AvroWriter::new(schema).unwrap().to_vec(value).unwrap();
    assert_eq!(
        ours, reference,
        "AvroWriter and apache_avro disagree on {value:?}"
    );
    ours
}

/// Writes `value` as Avro binary with `schema` and reads it back.
pub(crate) fn roundtrip(schema: &Schema, value: &Avro) -> Avro {
    let bytes = same_bytes(schema, value);
    GenericDatumReader::builder(schema)
        .build()
        .unwrap()
        .read_value(&mut bytes.as_slice())
        .unwrap()
}

/// Writes `value` as Avro binary with `writer` and reads it back with `reader` (Avro's schema
/// resolution).
pub(crate) fn field<'a>(record: &'a Avro, name: &str) -> &'a Avro {
    let Avro::Record(fields) = record else {
        panic!("not a record: {record:?}")
    };
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

pub(crate) fn unwrap_union(v: &Avro) -> &Avro {
    match v {
        Avro::Union(1, inner) => inner,
        other => panic!("not a non-null union: {other:?}"),
    }
}

pub(crate) fn table_of(dt: DataType, nullable: bool, source_type: &str) -> TableSchema {
    let mut c = column("c", dt, nullable);
    c.source_type = source_type.into();
    TableSchema {
        id: TableId::new("public", "t"),
        version: 1,
        columns: vec![column("id", D::Int32, false), c],
        primary_key: vec![0],
    }
}

/// Encodes `value` in column `c` of a created row, round-trips the envelope through Avro
/// binary, and returns the decoded `after.c`.
pub(crate) fn try_encode(
    dt: DataType,
    nullable: bool,
    source_type: &str,
    value: Value,
    opts: AvroOptions,
) -> Result<Avro, EncodeError> {
    let table = table_of(dt, nullable, source_type);
    let schemas = table_schemas("server1.public.t", &table, &opts).unwrap();
    let mut e = event(
        table,
        Op::Create,
        None,
        Some(Row(vec![Value::Int32(1), value])),
    );
    e.source.details = details_for(opts.source);
    let v = envelope_value(&e, &meta(), 1_700_000_000_000_000, &opts, &schemas)?;
    let decoded = roundtrip(&schemas.value, &v);
    // Debug output too, as NaN is not equal to itself.
    assert!(
        decoded == v || format!("{decoded:?}") == format!("{v:?}"),
        "{decoded:?}"
    );
    Ok(field(unwrap_union(field(&decoded, "after")), "c").clone())
}

pub(crate) fn dec(s: &str) -> Value {
    Value::Decimal(Decimal::parse(s).unwrap())
}

pub(crate) fn avro_dec(unscaled: i64) -> Avro {
    Avro::Decimal(AvroDecimal::from(
        BigInt::from(unscaled).to_signed_bytes_be(),
    ))
}

pub(crate) fn s(text: &str) -> Avro {
    Avro::String(text.into())
}

pub(crate) fn bits(bytes: &[u8], length: u32) -> Value {
    Value::Bits {
        bytes: bytes.to_vec(),
        length,
    }
}

#[test]
fn every_column_of_the_golden_tables_encodes() {
    let table = everything_table();
    let uuid = uuid::Uuid::nil();
    let sample = |dt: &DataType| match dt {
        D::Boolean => Value::Bool(false),
        D::Int16 => Value::Int16(1),
        D::Int32 => Value::Int32(2),
        D::Int64 => Value::Int64(3),
        D::Float32 => Value::Float32(0.5),
        D::Float64 => Value::Float64(0.25),
        D::Decimal { .. } => dec("7.5"),
        D::Text | D::Xml => Value::Text("t".into()),
        D::Bytes => Value::Bytes(vec![9]),
        D::Date => Value::Date(-1),
        D::Time(_) => Value::Time(1_000),
        D::TimeTz => Value::TimeTz {
            micros: 0,
            offset_seconds: -3600,
        },
        D::Timestamp(_) => Value::Timestamp(-1),
        D::TimestampTz => Value::TimestampTz(0),
        D::Interval => Value::Interval(Interval {
            months: 1,
            days: 1,
            micros: 1,
        }),
        D::Year => Value::Year(1999),
        D::Uuid => Value::Uuid(uuid),
        D::Json => Value::Json("{}".into()),
        D::Enum { .. } => Value::Enum("happy".into()),
        D::EnumSet { .. } => Value::EnumSet(vec!["b".into()]),
        D::Bits { length } => bits(&[0xff, 0xc0], *length),
        D::Map => Value::Map(vec![("k".into(), None)]),
        D::Geometry | D::Geography => Value::Geometry {
            wkb: vec![0],
            srid: None,
        },
        D::Shape(_) => Value::Shape {
            wkb: vec![0],
            extensions: vec![("type".into(), "box".into())],
        },
        D::Point => Value::point(1.0, 2.0),
        D::Circle => Value::Circle {
            x: 1.0,
            y: 2.0,
            radius: 3.0,
        },
        D::Line => Value::Line {
            a: 1.0,
            b: 2.0,
            c: 3.0,
        },
        D::TsVector | D::Ltree => Value::Text("a".into()),
        D::DoubleVector => Value::Array(vec![Value::Float64(1.5)]),
        D::FloatVector => Value::Array(vec![Value::Float32(1.5)]),
        D::Array(_) => Value::Array(vec![Value::Null]),
    };
    for source in [SourceKind::Postgres, SourceKind::MySql] {
        for decimal in [
            DecimalMode::Precise,
            DecimalMode::Double,
            DecimalMode::String,
        ] {
            for time in [
                TimeMode::Adaptive,
                TimeMode::AdaptiveTimeMicroseconds,
                TimeMode::Connect,
            ] {
                let opts = AvroOptions {
                    source,
                    decimal,
                    time,
                    hstore_as_map: time == TimeMode::Connect,
                    interval_as_string: decimal == DecimalMode::String,
                };
                let schemas = table_schemas(&topic_name("p", &table.id), &table, &opts).unwrap();
                let after = Row(table
                    .columns
                    .iter()
                    .map(|c| {
                        if c.nullable {
                            Value::Null
                        } else {
                            sample(&c.data_type)
                        }
                    })
                    .collect());
                let before = Row(table.columns.iter().map(|c| sample(&c.data_type)).collect());
                let mut e = event(table.clone(), Op::Update, Some(before), Some(after));
                e.source.details = details_for(source);
                let meta = ConnectorMeta {
                    connector: "mysql",
                    ..meta()
                };
                let v = envelope_value(&e, &meta, 0, &opts, &schemas).unwrap();
                assert_eq!(roundtrip(&schemas.value, &v), v);
                let k = key_value(&e, &schemas).unwrap().unwrap();
                assert_eq!(roundtrip(schemas.key.as_ref().unwrap(), &k), k);
                assert_eq!(
                    k,
                    Avro::Record(vec![
                        ("code".into(), s("t")),
                        ("tenant".into(), Avro::Int(2))
                    ])
                );
            }
        }
    }
}

#[test]
fn nulls_in_not_null_columns() {
    let table = table_of(D::Text, false, "varchar(10)");
    let schemas = table_schemas("s.public.t", &table, &pg()).unwrap();
    // A new row cannot have it.
    let e = event(
        table.clone(),
        Op::Create,
        None,
        Some(Row(vec![Value::Int32(1), Value::Null])),
    );
    assert_eq!(
        envelope_value(&e, &meta(), 0, &pg(), &schemas)
            .unwrap_err()
            .to_string(),
        "public.t.c (varchar(10)): value NULL is not allowed: the column is NOT NULL"
    );
    let e = event(
        table.clone(),
        Op::Create,
        None,
        Some(Row(vec![Value::Null, Value::Text("x".into())])),
    );
    assert!(
        key_value(&e, &schemas)
            .unwrap_err()
            .to_string()
            .starts_with("public.t.id (id): value NULL")
    );
    // A key-only `before` (REPLICA IDENTITY DEFAULT delete) gets Debezium's fallbacks.
    let e = event(
        table,
        Op::Delete,
        Some(Row(vec![Value::Int32(1), Value::Null])),
        None,
    );
    let v = envelope_value(&e, &meta(), 0, &pg(), &schemas).unwrap();
    assert_eq!(field(unwrap_union(field(&v, "before")), "c"), &s(""));
    assert_eq!(field(&v, "after"), &Avro::Union(0, Box::new(Avro::Null)));
    let before = |dt: DataType| {
        let table = table_of(dt, false, "x");
        let schemas = table_schemas("s.public.t", &table, &pg()).unwrap();
        let e = event(
            table,
            Op::Delete,
            Some(Row(vec![Value::Int32(1), Value::Null])),
            None,
        );
        let v = envelope_value(&e, &meta(), 0, &pg(), &schemas).unwrap();
        assert_eq!(roundtrip(&schemas.value, &v), v);
        field(unwrap_union(field(&v, "before")), "c").clone()
    };
    assert_eq!(before(D::TimestampTz), s("1970-01-01T00:00:00Z"));
    assert_eq!(
        before(D::Decimal {
            precision: Some(4),
            scale: Some(2)
        }),
        avro_dec(0)
    );
    assert_eq!(before(D::Array(Box::new(D::Text))), Avro::Array(vec![]));
    assert_eq!(before(D::Bits { length: 8 }), Avro::Bytes(vec![]));
    assert_eq!(before(D::Timestamp(P::Micros)), Avro::Long(0));
}

#[test]
fn postgres_envelope_and_source_block() {
    let table = table_of(D::Text, true, "text");
    let schemas = table_schemas("server1.public.t", &table, &pg()).unwrap();
    let mut e = event(
        table,
        Op::Update,
        None,
        Some(Row(vec![Value::Int32(1), Value::Null])),
    );
    e.transaction = Some(TxInfo {
        id: "555:24023128".into(),
        total_order: 3,
        data_collection_order: 2,
    });
    let v = envelope_value(&e, &meta(), 1_700_000_000_123_456, &pg(), &schemas).unwrap();
    assert_eq!(roundtrip(&schemas.value, &v), v);
    let Avro::Record(fields) = &v else { panic!() };
    assert_eq!(
        fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ENVELOPE_FIELDS
    );
    assert_eq!(field(&v, "op"), &s("u"));
    assert_eq!(field(&v, "ts_ms"), &some(Avro::Long(1_700_000_000_123)));
    assert_eq!(field(&v, "ts_us"), &some(Avro::Long(1_700_000_000_123_456)));
    assert_eq!(
        field(&v, "ts_ns"),
        &some(Avro::Long(1_700_000_000_123_456_000))
    );
    assert_eq!(
        unwrap_union(field(&v, "transaction")),
        &Avro::Record(vec![
            ("id".into(), s("555:24023128")),
            ("total_order".into(), Avro::Long(3)),
            ("data_collection_order".into(), Avro::Long(2)),
        ])
    );
    let src = field(&v, "source");
    let expected = Avro::Record(vec![
        ("version".into(), s("0.1.0")),
        ("connector".into(), s("postgresql")),
        ("name".into(), s("server1")),
        ("ts_ms".into(), Avro::Long(1_559_033_904_863)),
        ("snapshot".into(), Avro::Union(0, Box::new(s("false")))),
        ("db".into(), s("postgres")),
        ("sequence".into(), some(s(r#"["24023119","24023128"]"#))),
        ("ts_us".into(), some(Avro::Long(1_559_033_904_863_123))),
        ("ts_ns".into(), some(Avro::Long(1_559_033_904_863_123_000))),
        ("schema".into(), s("public")),
        ("table".into(), s("t")),
        ("txId".into(), some(Avro::Long(555))),
        ("lsn".into(), some(Avro::Long(24_023_128))),
        ("xmin".into(), Avro::Union(0, Box::new(Avro::Null))),
    ]);
    assert_eq!(src, &expected);
    // Incremental snapshots leave txId / lsn / xmin out; unknown LSNs are JSON nulls.
    e.source = pg_source(SnapshotMarker::Incremental);
    if let SourceDetails::Postgres {
        last_commit_lsn, ..
    } = &mut e.source.details
    {
        *last_commit_lsn = None;
    }
    let v = envelope_value(&e, &meta(), 0, &pg(), &schemas).unwrap();
    let src = field(&v, "source");
    assert_eq!(
        field(src, "snapshot"),
        &Avro::Union(0, Box::new(s("incremental")))
    );
    assert_eq!(field(src, "sequence"), &some(s(r#"[null,"24023128"]"#)));
    assert_eq!(field(src, "lsn"), &Avro::Union(0, Box::new(Avro::Null)));
    assert_eq!(field(src, "txId"), &Avro::Union(0, Box::new(Avro::Null)));
}

#[test]
fn mysql_source_block() {
    let mysql = AvroOptions::debezium_defaults(SourceKind::MySql);
    let table = table_of(D::Text, true, "text");
    let schemas = table_schemas("s.db.t", &table, &mysql).unwrap();
    let mut e = event(
        table.clone(),
        Op::Create,
        None,
        Some(Row(vec![Value::Int32(1), Value::Null])),
    );
    e.source.details = SourceDetails::MySql {
        server_id: 223_344,
        gtid: Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:23".into()),
        file: "mysql-bin.000003".into(),
        pos: 154,
        row: 1,
        thread: None,
        query: None,
    };
    let m = ConnectorMeta {
        connector: "mysql",
        ..meta()
    };
    let v = envelope_value(&e, &m, 0, &mysql, &schemas).unwrap();
    assert_eq!(roundtrip(&schemas.value, &v), v);
    let src = field(&v, "source");
    assert_eq!(
        field(src, "sequence"),
        &Avro::Union(0, Box::new(Avro::Null))
    );
    assert_eq!(field(src, "table"), &some(s("t")));
    assert_eq!(field(src, "server_id"), &Avro::Long(223_344));
    assert_eq!(field(src, "pos"), &Avro::Long(154));
    assert_eq!(field(src, "row"), &Avro::Int(1));
    assert_eq!(field(src, "thread"), &Avro::Union(0, Box::new(Avro::Null)));
    // PostgreSQL details under a MySQL schema are refused.
    e.source = pg_source(SnapshotMarker::False);
    assert!(
        envelope_value(&e, &m, 0, &mysql, &schemas)
            .unwrap_err()
            .to_string()
            .contains("do not belong")
    );
}

#[test]
fn keys() {
    let table = everything_table();
    let opts = pg();
    let schemas = table_schemas("p.public.everything", &table, &opts).unwrap();
    let mut row = vec![Value::Null; table.columns.len()];
    row[0] = Value::Int32(7);
    row[1] = Value::Text("a".into());
    let e = event(table.clone(), Op::Delete, Some(Row(row)), None);
    assert_eq!(
        key_value(&e, &schemas).unwrap(),
        Some(Avro::Record(vec![
            ("code".into(), s("a")),
            ("tenant".into(), Avro::Int(7))
        ]))
    );
    let truncate = event(table.clone(), Op::Truncate, None, None);
    assert_eq!(key_value(&truncate, &schemas).unwrap(), None);
    let mut keyless = table.clone();
    keyless.primary_key.clear();
    let schemas = table_schemas("p.public.everything", &keyless, &opts).unwrap();
    assert_eq!(
        key_value(&event(keyless, Op::Truncate, None, None), &schemas).unwrap(),
        None
    );
    // A truncate envelope has neither row.
    let schemas = table_schemas("p.public.everything", &table, &opts).unwrap();
    let v = envelope_value(&truncate, &meta(), 0, &opts, &schemas).unwrap();
    assert_eq!(field(&v, "op"), &s("t"));
    assert_eq!(roundtrip(&schemas.value, &v), v);
}

#[test]
fn mismatched_inputs_are_refused() {
    let table = table_of(D::Int32, false, "int4");
    let schemas = table_schemas("s.public.t", &table, &pg()).unwrap();
    let row = Some(Row(vec![Value::Int32(1), Value::Int32(2)]));
    let e = event(table.clone(), Op::Create, None, row.clone());
    let other_opts = AvroOptions {
        decimal: DecimalMode::String,
        ..pg()
    };
    assert!(
        envelope_value(&e, &meta(), 0, &other_opts, &schemas)
            .unwrap_err()
            .to_string()
            .contains("options differ")
    );
    let newer = table.next_version(vec![column("id", D::Int32, false)], vec![0]);
    let e2 = event(newer, Op::Create, None, Some(Row(vec![Value::Int32(1)])));
    assert!(
        envelope_value(&e2, &meta(), 0, &pg(), &schemas)
            .unwrap_err()
            .to_string()
            .contains("another table version")
    );
    let short = event(
        table.clone(),
        Op::Create,
        None,
        Some(Row(vec![Value::Int32(1)])),
    );
    assert!(
        envelope_value(&short, &meta(), 0, &pg(), &schemas)
            .unwrap_err()
            .to_string()
            .contains("row has 1 values")
    );
    let wrong = event(
        table.clone(),
        Op::Create,
        None,
        Some(Row(vec![Value::Int32(1), Value::Text("2".into())])),
    );
    assert_eq!(
        envelope_value(&wrong, &meta(), 0, &pg(), &schemas)
            .unwrap_err()
            .to_string(),
        "public.t.c (int4): value \"2\" does not match the column type Int32"
    );
    let message = event(table, Op::Message, None, None);
    assert!(envelope_value(&message, &meta(), 0, &pg(), &schemas).is_err());
    let long = Value::Text("x".repeat(100));
    let err = try_encode(D::Int32, false, "int4", long, pg())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("value \"{}…", "x".repeat(63))),
        "{err}"
    );
    let nested = Value::Array(vec![Value::Array(vec![])]);
    assert!(try_encode(D::Array(Box::new(D::Int32)), false, "int4[]", nested, pg()).is_err());
}
