//! Every MySQL/MariaDB type Siphon maps, with edge values, read back from the real server both
//! by the snapshot (`Op::Read`) and by the binlog stream (`Op::Create`): the two must give the
//! same values, which are Debezium's.

mod common;
mod mysql;

use chrono::{NaiveDate, NaiveDateTime};
use mysql::{Running, TestDb, exec};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use num_bigint::BigInt;
use siphon::event::{ChangeEvent, DataType, Decimal, Op, TimePrecision, Value};

const TABLE: &str = "
CREATE TABLE types_test (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d65 DECIMAL(65,30), d10 DECIMAL(10,2),
  f FLOAT, db DOUBLE,
  b1 BIT(1), b10 BIT(10),
  ch CHAR(4), vc VARCHAR(20), t TEXT, lat VARCHAR(10) CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), bl BLOB,
  dt DATE, dt_max DATE, tm TIME(6), tm2 TIME(6), dtm DATETIME(6), dtm0 DATETIME,
  ts3 TIMESTAMP(3) NULL DEFAULT NULL, yr YEAR,
  en ENUM('a','b','c'), st SET('x','y','z'),
  js JSON, geo GEOMETRY, pt POINT
) ENGINE=InnoDB";

/// The edge-value row, `{id}` to fill in. Inserted with `time_zone = '+00:00'`.
const ROW: &str = "INSERT INTO types_test VALUES (
  {id},
  -128, 255, -32768, 65535,
  -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  -12345678901234567890123456789012345.123456789012345678901234567890, 0.5,
  3.40282e38, 1.7976931348623157e308,
  b'1', b'1000000001',
  'a😀', '😀 héllo', 'four-byte 😀 ✓', 'café',
  X'00FF0000', X'00FF00', X'DEADBEEF',
  '1000-01-01', '9999-12-31', '-838:59:59.000000', '12:34:56.789012',
  '2024-02-29 23:59:59.999999', '9999-12-31 23:59:59',
  '2038-01-19 03:14:07.499', 2155,
  'b', 'x,z',
  '{\"a\": [1, 2.5, \"😀\"], \"b\": null, \"c\": {\"d\": true}}',
  ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(3 4)', 4326)
)";

const JSON: &str = r#"{"a": [1, 2.5, "😀"], "b": null, "c": {"d": true}}"#;

/// A row with NULL in every nullable column.
const NULL_ROW: &str = "INSERT INTO types_test (id) VALUES ({id})";

fn decimal(unscaled: &str, scale: u32) -> Value {
    Value::Decimal(Decimal::Finite {
        unscaled: unscaled.parse::<BigInt>().unwrap(),
        scale,
    })
}

fn days(y: i32, m: u32, d: u32) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days() as i32
}

fn micros(text: &str) -> i64 {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

/// The WKB of the two geometry columns as the server renders it (`ST_AsWKB`).
async fn server_wkb(conn: &mut Conn, id: i32) -> (Vec<u8>, Vec<u8>) {
    conn.exec_first(
        "SELECT ST_AsWKB(geo), ST_AsWKB(pt) FROM types_test WHERE id = ?",
        (id,),
    )
    .await
    .unwrap()
    .unwrap()
}

/// The values the edge-value row must decode to (`js` is compared as parsed JSON).
fn expected(geo_wkb: Vec<u8>, pt_wkb: Vec<u8>) -> Vec<(&'static str, Value)> {
    vec![
        ("ti", Value::Int16(-128)),
        ("tiu", Value::Int16(255)),
        ("si", Value::Int16(i16::MIN)),
        ("siu", Value::Int32(65_535)),
        ("mi", Value::Int32(-8_388_608)),
        ("miu", Value::Int32(16_777_215)),
        ("i", Value::Int32(i32::MIN)),
        ("iu", Value::Int64(4_294_967_295)),
        ("bi", Value::Int64(i64::MIN)),
        // bigint.unsigned.handling.mode=long (the default): wraps, as Debezium's does.
        ("biu", Value::Int64(-1)),
        (
            "d65",
            decimal(
                "-12345678901234567890123456789012345123456789012345678901234567890",
                30,
            ),
        ),
        ("d10", decimal("50", 2)),
        ("f", Value::Float32(3.40282e38)),
        ("db", Value::Float64(f64::MAX)),
        ("b1", Value::Bool(true)),
        (
            "b10",
            Value::Bits {
                // b'1000000001': the model packs bits first-bit-high, left-aligned.
                bytes: vec![0x80, 0x40],
                length: 10,
            },
        ),
        ("ch", Value::Text("a😀".into())),
        ("vc", Value::Text("😀 héllo".into())),
        ("t", Value::Text("four-byte 😀 ✓".into())),
        ("lat", Value::Text("café".into())),
        ("bn", Value::Bytes(vec![0x00, 0xff, 0x00, 0x00])),
        ("vb", Value::Bytes(vec![0x00, 0xff, 0x00])),
        ("bl", Value::Bytes(vec![0xde, 0xad, 0xbe, 0xef])),
        ("dt", Value::Date(days(1000, 1, 1))),
        ("dt_max", Value::Date(days(9999, 12, 31))),
        ("tm", Value::Time(-3_020_399_000_000)),
        ("tm2", Value::Time(45_296_789_012)),
        (
            "dtm",
            Value::Timestamp(micros("2024-02-29 23:59:59.999999")),
        ),
        ("dtm0", Value::Timestamp(micros("9999-12-31 23:59:59"))),
        ("ts3", Value::TimestampTz(2_147_483_647_499_000)),
        ("yr", Value::Year(2155)),
        ("en", Value::Enum("b".into())),
        ("st", Value::EnumSet(vec!["x".into(), "z".into()])),
        (
            "geo",
            Value::Geometry {
                wkb: geo_wkb,
                srid: Some(0),
            },
        ),
        // Debezium's `Point`: x and y read from the WKB, which is kept, and the SRID.
        (
            "pt",
            Value::Point {
                x: 3.0,
                y: 4.0,
                wkb: pt_wkb,
                srid: Some(4326),
            },
        ),
    ]
}

fn column<'a>(e: &'a ChangeEvent, name: &str) -> &'a Value {
    let i = e
        .table
        .column_index(name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", e.table.columns));
    &e.after.as_ref().expect("an after image").0[i]
}

/// The `id` of an event's row.
fn id(e: &ChangeEvent) -> i32 {
    match column(e, "id") {
        Value::Int32(n) => *n,
        other => panic!("id is {other:?}"),
    }
}

/// Whether a value is of the variant the column's type promises (what the emitter relies on).
fn fits(value: &Value, data_type: &DataType) -> bool {
    match (value, data_type) {
        (Value::Null, _) => true,
        (Value::Bool(_), DataType::Boolean)
        | (Value::Int16(_), DataType::Int16)
        | (Value::Int32(_), DataType::Int32)
        | (Value::Int64(_), DataType::Int64)
        | (Value::Float32(_), DataType::Float32)
        | (Value::Float64(_), DataType::Float64)
        | (Value::Decimal(_), DataType::Decimal { .. })
        | (Value::Text(_), DataType::Text)
        | (Value::Bytes(_), DataType::Bytes)
        | (Value::Date(_), DataType::Date)
        | (Value::Time(_), DataType::Time(_))
        | (Value::Timestamp(_), DataType::Timestamp(_))
        | (Value::TimestampTz(_), DataType::TimestampTz)
        | (Value::Year(_), DataType::Year)
        | (Value::Json(_), DataType::Json)
        | (Value::Enum(_), DataType::Enum { .. })
        | (Value::EnumSet(_), DataType::EnumSet { .. })
        | (Value::Geometry { .. }, DataType::Geometry)
        | (Value::Point { .. }, DataType::Point) => true,
        (Value::Bits { length, .. }, DataType::Bits { length: l }) => length == l,
        _ => false,
    }
}

fn check_fits(e: &ChangeEvent) {
    let after = e.after.as_ref().expect("an after image");
    assert_eq!(after.0.len(), e.table.columns.len());
    for (v, c) in after.0.iter().zip(&e.table.columns) {
        assert!(
            fits(v, &c.data_type),
            "column {} of type {:?} holds {v:?} ({:?} event)",
            c.name,
            c.data_type,
            e.op
        );
    }
}

fn check_edge_row(e: &ChangeEvent, want: &[(&str, Value)]) {
    check_fits(e);
    for (name, want) in want {
        assert_eq!(column(e, name), want, "column {name} of a {:?} event", e.op);
    }
    match column(e, "js") {
        Value::Json(text) => {
            let got: serde_json::Value = serde_json::from_str(text)
                .unwrap_or_else(|err| panic!("js is not JSON: {text}: {err}"));
            let want: serde_json::Value = serde_json::from_str(JSON).unwrap();
            assert_eq!(got, want, "column js of a {:?} event", e.op);
        }
        other => panic!("column js of a {:?} event is {other:?}", e.op),
    }
}

fn check_null_row(e: &ChangeEvent) {
    check_fits(e);
    for (c, v) in e.table.columns.iter().zip(&e.after.as_ref().unwrap().0) {
        if c.name != "id" {
            assert_eq!(v, &Value::Null, "column {} of a {:?} event", c.name, e.op);
            assert!(c.nullable, "column {} is nullable", c.name);
        }
    }
}

/// Inserts rows with `insert` (ids 1.., `{id}` filled in) before the reader starts and
/// the same rows with ids 101.. once it streams; returns the reader's events, snapshot
/// reads first.
async fn snapshot_and_stream(
    db: &TestDb,
    conn: &mut Conn,
    extra: &[(&str, &str)],
    inserts: &[&str],
) -> (Running, Vec<ChangeEvent>) {
    let n = inserts.len();
    for (i, sql) in inserts.iter().enumerate() {
        exec(conn, &sql.replace("{id}", &(i + 1).to_string())).await;
    }
    let running = Running::start(db.config(extra), None);
    running.wait_for_events("the snapshot rows", n).await;
    for (i, sql) in inserts.iter().enumerate() {
        exec(conn, &sql.replace("{id}", &(i + 101).to_string())).await;
    }
    let events = running.wait_for_events("the streamed rows", 2 * n).await;
    let ops: Vec<Op> = events.iter().map(|e| e.op).collect();
    let mut want = vec![Op::Read; n];
    want.extend(vec![Op::Create; n]);
    assert_eq!(ops, want);
    let mut ids: Vec<i32> = events.iter().map(id).collect();
    ids[..n].sort();
    let want_ids: Vec<i32> = (1..=n as i32).chain(101..101 + n as i32).collect();
    assert_eq!(ids, want_ids);
    (running, events)
}

fn by_id(events: &[ChangeEvent], wanted: i32) -> &ChangeEvent {
    events
        .iter()
        .find(|e| id(e) == wanted)
        .unwrap_or_else(|| panic!("no event for id {wanted}"))
}

/// The row without its `id`, to compare a snapshot read with a streamed insert.
fn without_id(e: &ChangeEvent) -> Vec<Value> {
    let i = e.table.column_index("id").unwrap();
    let mut values = e.after.as_ref().unwrap().0.clone();
    values.remove(i);
    values
}

#[tokio::test]
async fn every_type_round_trips_through_snapshot_and_stream() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(&mut conn, TABLE).await;
    // TIMESTAMP is read and streamed as UTC; write it as UTC.
    exec(&mut conn, "SET time_zone = '+00:00'").await;
    let (running, events) = snapshot_and_stream(&db, &mut conn, &[], &[ROW, NULL_ROW]).await;
    let (geo, pt) = server_wkb(&mut conn, 1).await;
    assert_eq!(server_wkb(&mut conn, 101).await, (geo.clone(), pt.clone()));
    let want = expected(geo, pt);
    for wanted in [1, 101] {
        check_edge_row(by_id(&events, wanted), &want);
    }
    for wanted in [2, 102] {
        check_null_row(by_id(&events, wanted));
    }
    // Snapshot and stream agree on everything, JSON text included.
    assert_eq!(
        without_id(by_id(&events, 1)),
        without_id(by_id(&events, 101))
    );
    assert_eq!(
        without_id(by_id(&events, 2)),
        without_id(by_id(&events, 102))
    );
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn column_types_follow_debezium() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(&mut conn, TABLE).await;
    exec(&mut conn, "SET time_zone = '+00:00'").await;
    let (running, events) = snapshot_and_stream(&db, &mut conn, &[], &[NULL_ROW]).await;
    for e in &events {
        let col = |n: &str| {
            let i = e
                .table
                .column_index(n)
                .unwrap_or_else(|| panic!("no column {n}"));
            &e.table.columns[i]
        };
        let ty = |n: &str| col(n).data_type.clone();
        let op = e.op;
        assert_eq!(e.table.primary_key, [0], "{op:?}");
        assert!(!col("id").nullable, "{op:?}");
        for (name, want) in [
            ("ti", DataType::Int16),
            ("tiu", DataType::Int16),
            ("si", DataType::Int16),
            ("siu", DataType::Int32),
            ("mi", DataType::Int32),
            ("miu", DataType::Int32),
            ("i", DataType::Int32),
            ("iu", DataType::Int64),
            ("bi", DataType::Int64),
            ("biu", DataType::Int64),
            (
                "d65",
                DataType::Decimal {
                    precision: Some(65),
                    scale: Some(30),
                },
            ),
            (
                "d10",
                DataType::Decimal {
                    precision: Some(10),
                    scale: Some(2),
                },
            ),
            ("f", DataType::Float32),
            ("db", DataType::Float64),
            ("b1", DataType::Boolean),
            ("b10", DataType::Bits { length: 10 }),
            ("ch", DataType::Text),
            ("lat", DataType::Text),
            ("bn", DataType::Bytes),
            ("bl", DataType::Bytes),
            ("dt", DataType::Date),
            ("tm", DataType::Time(TimePrecision::Micros)),
            ("dtm", DataType::Timestamp(TimePrecision::Micros)),
            ("dtm0", DataType::Timestamp(TimePrecision::Millis)),
            ("ts3", DataType::TimestampTz),
            ("yr", DataType::Year),
            (
                "en",
                DataType::Enum {
                    allowed: vec!["a".into(), "b".into(), "c".into()],
                },
            ),
            (
                "st",
                DataType::EnumSet {
                    allowed: vec!["x".into(), "y".into(), "z".into()],
                },
            ),
            ("js", DataType::Json),
            ("geo", DataType::Geometry),
            ("pt", DataType::Point),
        ] {
            assert_eq!(ty(name), want, "type of {name} in a {op:?} event");
        }
    }
    // The snapshot and the stream describe the table the same way.
    assert_eq!(events[0].table.columns, events[1].table.columns);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn bigint_unsigned_precise_mode_gives_exact_decimals() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE big (id INT PRIMARY KEY, u BIGINT UNSIGNED NOT NULL, s BIGINT)",
    )
    .await;
    let (running, events) = snapshot_and_stream(
        &db,
        &mut conn,
        &[("bigint.unsigned.handling.mode", "precise")],
        &["INSERT INTO big VALUES ({id}, 18446744073709551615, -9223372036854775808)"],
    )
    .await;
    for e in &events {
        let i = e.table.column_index("u").unwrap();
        assert_eq!(
            e.table.columns[i].data_type,
            DataType::Decimal {
                precision: Some(20),
                scale: Some(0)
            },
            "{:?}",
            e.op
        );
        assert_eq!(
            column(e, "u"),
            &decimal("18446744073709551615", 0),
            "{:?}",
            e.op
        );
        // Only unsigned BIGINT changes.
        assert_eq!(column(e, "s"), &Value::Int64(i64::MIN), "{:?}", e.op);
        check_fits(e);
    }
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn zero_dates_are_null_or_epoch_as_in_debezium() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE zero_dates (id INT PRIMARY KEY, dtm_null DATETIME NULL, \
         dtm_nn DATETIME NOT NULL, d_null DATE NULL)",
    )
    .await;
    // Zero dates can only be written without the strict modes.
    exec(&mut conn, "SET sql_mode = ''").await;
    let (running, events) = snapshot_and_stream(
        &db,
        &mut conn,
        &[],
        &[
            "INSERT INTO zero_dates VALUES ({id}, '0000-00-00 00:00:00', \
           '0000-00-00 00:00:00', '0000-00-00')",
        ],
    )
    .await;
    for e in &events {
        assert_eq!(column(e, "dtm_null"), &Value::Null, "{:?}", e.op);
        assert_eq!(column(e, "dtm_nn"), &Value::Timestamp(0), "{:?}", e.op);
        assert_eq!(column(e, "d_null"), &Value::Null, "{:?}", e.op);
        check_fits(e);
    }
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn one_mib_longblob_round_trips() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE blobs (id INT PRIMARY KEY, lb LONGBLOB NOT NULL)",
    )
    .await;
    // Deterministic bytes that are neither text nor runs.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let blob: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    conn.exec_drop("INSERT INTO blobs VALUES (?, ?)", (1, blob.clone()))
        .await
        .unwrap();
    let running = Running::start(db.config(&[]), None);
    running.wait_for_events("the snapshot row", 1).await;
    conn.exec_drop("INSERT INTO blobs VALUES (?, ?)", (2, blob.clone()))
        .await
        .unwrap();
    let events = running.wait_for_events("the streamed row", 2).await;
    assert_eq!(events[0].op, Op::Read);
    assert_eq!(events[1].op, Op::Create);
    for e in &events {
        match column(e, "lb") {
            Value::Bytes(b) => assert!(
                *b == blob,
                "{:?}: {} bytes, not the 1 MiB written",
                e.op,
                b.len()
            ),
            other => panic!("{:?}: lb is not bytes: {:?}", e.op, short(other)),
        }
    }
    running.stop().await;
    db.drop().await;
}

/// A value's debug form, cut short (a 1 MiB value would flood the output).
fn short(v: &Value) -> String {
    let mut s = format!("{v:?}");
    s.truncate(200);
    s
}
