//! Every PostgreSQL type Siphon maps, with edge values, read back from the real server both
//! by the snapshot and by the stream; TOASTed values; schema changes mid-stream.

mod common;
mod pg;

use common::wait_for;
use num_bigint::BigInt;
use pg::{Running, TIMEOUT, TestDb};
use siphon::event::{ChangeEvent, Decimal, Interval, Op, Value};

const TABLE: &str = "
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE types_test (
  id int PRIMARY KEY,
  i2 int2, i4 int4, i8 int8,
  num numeric, num_fixed numeric(10,2),
  f4 float4, f8 float8, b bool,
  vc varchar(10), ch char(3), t text, by bytea,
  d date, d_max date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
  u uuid, j json, jb jsonb, e mood,
  arr int4[], tarr text[],
  ip inet, mac macaddr, m money, bt bit(4), vb varbit, x xml
)";

const ROW: &str = "(
  {id}, -32768, 2147483647, -9223372036854775808,
  'NaN', 12345678.90,
  'Infinity', '-Infinity', true,
  'héllo😀', 'ab', 'unicode ✓ ünïcödé', '\\x00ff',
  '0001-01-01', '9999-12-31', '23:59:59.999999', '12:00:00+05:30',
  '9999-12-31 23:59:59.999999', '2024-02-29 12:00:00+05:45', '1 year 2 mons 3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": null}', 'happy',
  '{1,NULL,3}', '{\"a b\",NULL}',
  '192.168.0.1/24', '08:00:2b:01:02:03', '$1,234.56', B'1010', B'101', '<a>1</a>'
)";

fn decimal(unscaled: i64, scale: u32) -> Value {
    Value::Decimal(Decimal::Finite {
        unscaled: BigInt::from(unscaled),
        scale,
    })
}

/// The values every test row must decode to, in column order after `id`.
fn expected() -> Vec<(&'static str, Value)> {
    vec![
        ("i2", Value::Int16(i16::MIN)),
        ("i4", Value::Int32(i32::MAX)),
        ("i8", Value::Int64(i64::MIN)),
        ("num", Value::Decimal(Decimal::NaN)),
        ("num_fixed", decimal(1_234_567_890, 2)),
        ("f4", Value::Float32(f32::INFINITY)),
        ("f8", Value::Float64(f64::NEG_INFINITY)),
        ("b", Value::Bool(true)),
        ("vc", Value::Text("héllo😀".into())),
        ("ch", Value::Text("ab ".into())),
        ("t", Value::Text("unicode ✓ ünïcödé".into())),
        ("by", Value::Bytes(vec![0x00, 0xff])),
        ("d", Value::Date(-719_162)),
        ("d_max", Value::Date(2_932_896)),
        ("tm", Value::Time(86_399_999_999)),
        (
            "ttz",
            Value::TimeTz {
                micros: 43_200_000_000,
                offset_seconds: 19_800,
            },
        ),
        ("ts", Value::Timestamp(253_402_300_799_999_999)),
        ("tstz", Value::TimestampTz(1_709_187_300_000_000)),
        (
            "iv",
            Value::Interval(Interval {
                months: 14,
                days: 3,
                micros: 14_706_789_000,
            }),
        ),
        (
            "u",
            Value::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap()),
        ),
        ("j", Value::Json("{\"a\": [1, 2]}".into())),
        ("jb", Value::Json("{\"b\": null}".into())),
        ("e", Value::Enum("happy".into())),
        (
            "arr",
            Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)]),
        ),
        (
            "tarr",
            Value::Array(vec![Value::Text("a b".into()), Value::Null]),
        ),
        ("ip", Value::Text("192.168.0.1/24".into())),
        ("mac", Value::Text("08:00:2b:01:02:03".into())),
        ("m", decimal(123_456, 2)),
        (
            "bt",
            Value::Bits {
                bytes: vec![0b1010_0000],
                length: 4,
            },
        ),
        (
            "vb",
            Value::Bits {
                bytes: vec![0b1010_0000],
                length: 3,
            },
        ),
        ("x", Value::Text("<a>1</a>".into())),
    ]
}

fn check_row(e: &ChangeEvent) {
    let after = e.after.as_ref().unwrap();
    for (name, want) in expected() {
        let i = e
            .table
            .column_index(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        assert_eq!(after.0[i], want, "column {name} of a {:?} event", e.op);
    }
}

#[tokio::test]
async fn every_type_round_trips_through_snapshot_and_stream() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client.batch_execute(TABLE).await.unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO types_test VALUES {}",
            ROW.replace("{id}", "1")
        ))
        .await
        .unwrap();
    let running = Running::start(db.config(&[]), None);
    wait_for("the snapshot row", TIMEOUT, || {
        running.assert_alive();
        let n = running.count();
        async move { (n >= 1).then_some(()) }
    })
    .await;
    client
        .batch_execute(&format!(
            "INSERT INTO types_test VALUES {}",
            ROW.replace("{id}", "2")
        ))
        .await
        .unwrap();
    wait_for("the streamed row", TIMEOUT, || {
        running.assert_alive();
        let n = running.count();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    assert_eq!(events[0].op, Op::Read);
    assert_eq!(events[1].op, Op::Create);
    check_row(&events[0]);
    check_row(&events[1]);
    // Column metadata as the catalog gives it.
    let schema = &events[1].table;
    let col = |n: &str| &schema.columns[schema.column_index(n).unwrap()];
    assert_eq!(col("vc").source_type, "character varying(10)");
    assert!(!col("id").nullable && col("vc").nullable);
    assert_eq!(schema.primary_key, [0]);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn unchanged_toast_is_unavailable_unless_replica_identity_full() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, n int, body text);
             ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;",
        )
        .await
        .unwrap();
    let running = Running::start(db.config(&[("snapshot.mode", "never")]), None);
    db.wait_for_slot().await;
    let long: String = (0..3000)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    client
        .execute("INSERT INTO docs VALUES (1, 0, $1)", &[&long])
        .await
        .unwrap();
    client
        .batch_execute("UPDATE docs SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    client
        .batch_execute("ALTER TABLE docs REPLICA IDENTITY FULL; UPDATE docs SET n = 2 WHERE id = 1")
        .await
        .unwrap();
    let events = wait_for("three events", TIMEOUT, || {
        running.assert_alive();
        let events = running.events.lock().unwrap().clone();
        async move { (events.len() >= 3).then_some(events) }
    })
    .await;
    let body = |e: &ChangeEvent| e.after.as_ref().unwrap().0[2].clone();
    assert_eq!(body(&events[0]), Value::Text(long.clone()));
    // REPLICA IDENTITY DEFAULT: the WAL does not carry the unchanged TOASTed value.
    assert_eq!(events[1].op, Op::Update);
    assert_eq!(body(&events[1]), Value::Unavailable);
    assert_eq!(events[1].before, None);
    // FULL: the old row carries it, and the whole old row is `before`.
    assert_eq!(body(&events[2]), Value::Text(long));
    let before = events[2].before.as_ref().unwrap();
    assert_eq!(before.0[1], Value::Int32(1));
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn added_column_mid_stream_makes_a_new_schema_version() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE evolving (id int PRIMARY KEY, a text)")
        .await
        .unwrap();
    let running = Running::start(db.config(&[("snapshot.mode", "never")]), None);
    db.wait_for_slot().await;
    client
        .batch_execute(
            "INSERT INTO evolving VALUES (1, 'x');
             ALTER TABLE evolving ADD COLUMN b bigint DEFAULT 7;
             INSERT INTO evolving VALUES (2, 'y', 8);
             ALTER TABLE evolving DROP COLUMN a;
             INSERT INTO evolving VALUES (3, 9);",
        )
        .await
        .unwrap();
    let events = wait_for("three inserts", TIMEOUT, || {
        running.assert_alive();
        let events = running.events.lock().unwrap().clone();
        async move { (events.len() >= 3).then_some(events) }
    })
    .await;
    let names = |e: &ChangeEvent| -> Vec<String> {
        e.table.columns.iter().map(|c| c.name.clone()).collect()
    };
    assert_eq!(names(&events[0]), ["id", "a"]);
    assert_eq!(names(&events[1]), ["id", "a", "b"]);
    assert_eq!(names(&events[2]), ["id", "b"]);
    let versions: Vec<u32> = events.iter().map(|e| e.table.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(events[1].after.as_ref().unwrap().0[2], Value::Int64(8));
    assert_eq!(events[2].after.as_ref().unwrap().0[1], Value::Int64(9));
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn snapshot_interrupted_by_a_restart_resumes_from_the_last_chunk() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE big (id int PRIMARY KEY, v text);
             INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 3000) g;",
        )
        .await
        .unwrap();
    // Chunks of exactly the fetch size (no byte bound, which would start them small).
    let config = db.config(&[
        ("snapshot.fetch.size", "100"),
        ("max.queue.size.in.bytes", "0"),
    ]);
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // The stand-in emitter takes 6 chunks, then stalls: the reader waits mid-snapshot.
    let first = Running::start_limited(config.clone(), None, events.clone(), 6);
    wait_for("part of the snapshot", TIMEOUT, || {
        let n = first.count();
        async move { (n >= 600).then_some(()) }
    })
    .await;
    let position = first.stop().await.unwrap();
    let progress = position
        .snapshot()
        .cloned()
        .expect("stopped inside the snapshot");
    assert!(progress.rows_done == 600, "{progress:?}");
    let second = Running::start_with(config, Some(position), events.clone());
    // A resumed snapshot reads the remaining rows in a new snapshot, so rows changed while the
    // reader was down could show up both as read and as streamed; keep the table still until
    // the snapshot is done to check that no row is read twice.
    wait_for("the rest of the snapshot", TIMEOUT, || {
        second.assert_alive();
        let n = events.lock().unwrap().len();
        async move { (n >= 3000).then_some(()) }
    })
    .await;
    client
        .batch_execute("INSERT INTO big VALUES (5000, 'streamed')")
        .await
        .unwrap();
    wait_for("the streamed insert", TIMEOUT, || {
        second.assert_alive();
        let done = events.lock().unwrap().iter().any(|e| e.op == Op::Create);
        async move { done.then_some(()) }
    })
    .await;
    let all = events.lock().unwrap().clone();
    let reads = all.iter().filter(|e| e.op == Op::Read).count();
    assert_eq!(reads, 3000, "every row read once across the restart");
    common::replay::replay(&all);
    second.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn table_without_primary_key_is_snapshotted_in_chunks() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE nokey (n int, v text);
             INSERT INTO nokey SELECT g, 'v' || g FROM generate_series(1, 2500) g;",
        )
        .await
        .unwrap();
    // Three chunks of at most 1000 rows; the emitter stalls after two to prove the reader
    // pages through a cursor rather than reading the table at once.
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let running = Running::start_limited(
        // Chunks of exactly the fetch size (no byte bound, which would start them small).
        db.config(&[
            ("snapshot.fetch.size", "1000"),
            ("max.queue.size.in.bytes", "0"),
        ]),
        None,
        events.clone(),
        2,
    );
    wait_for("two chunks", TIMEOUT, || {
        let n = running.count();
        async move { (n >= 2000).then_some(()) }
    })
    .await;
    assert_eq!(
        running.count(),
        2000,
        "the third chunk waits for the emitter"
    );
    running.release();
    wait_for("the whole table", TIMEOUT, || {
        let n = running.count();
        async move { (n >= 2500).then_some(()) }
    })
    .await;
    let all = events.lock().unwrap().clone();
    let mut ns: Vec<i32> = all
        .iter()
        .map(|e| match &e.after.as_ref().unwrap().0[0] {
            Value::Int32(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, (1..=2500).collect::<Vec<_>>(), "every row once");
    assert!(all.iter().all(|e| e.key().is_none()));
    assert_eq!(
        all.last().unwrap().source.snapshot,
        siphon::event::SnapshotMarker::Last
    );
    running.stop().await;
    db.drop().await;
}

/// A type Siphon cannot map (a composite type here): without `include.unknown.datatypes` the
/// connector fails naming table, column and type and saying both ways out; with it, the
/// column is the bytes of the value's text, as Debezium writes it, in snapshot and stream.
#[tokio::test]
async fn include_unknown_datatypes_writes_an_unmapped_type_as_the_bytes_of_its_text() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TYPE pair AS (a int, b text);
             CREATE TABLE odd (id int PRIMARY KEY, p pair);
             INSERT INTO odd VALUES (1, ROW(1, 'x'));",
        )
        .await
        .unwrap();
    let refused = Running::start(db.config(&[]), None);
    let err = tokio::time::timeout(TIMEOUT, refused.reader)
        .await
        .expect("the reader stops")
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("public.odd.p")
            && err.contains("pair")
            && err.contains("column.exclude.list")
            && err.contains("include.unknown.datatypes=true"),
        "{err}"
    );

    let running = Running::start(db.config(&[("include.unknown.datatypes", "true")]), None);
    running.wait_for_events("the snapshot row", 1).await;
    client
        .batch_execute("INSERT INTO odd VALUES (2, ROW(2, 'y z'))")
        .await
        .unwrap();
    let events = running.wait_for_events("the streamed row", 2).await;
    let p = |e: &ChangeEvent| e.after.as_ref().unwrap().0[1].clone();
    assert_eq!(p(&events[0]), Value::Bytes(b"(1,x)".to_vec()));
    assert_eq!(p(&events[1]), Value::Bytes(b"(2,\"y z\")".to_vec()));
    let schema = &events[1].table;
    assert_eq!(schema.columns[1].data_type, siphon::event::DataType::Bytes);
    running.stop().await;
    db.drop().await;
}
