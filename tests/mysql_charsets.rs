//! Text in every character set MariaDB ships, MariaDB's INET4/INET6/UUID, and TRUNCATE TABLE,
//! read from the real server by the snapshot (`Op::Read`, text converted by the server) and
//! by the binlog stream (`Op::Create`, the column's own bytes, decoded by Siphon). The
//! expected text is the server's own conversion (`CONVERT(col USING utf8mb4)`); the UUIDs and
//! their schema are Debezium's (`UuidColumnIT`, `uuid_column_test.sql`); the truncate event is
//! Debezium's `shouldEmitTruncateOperation` (before and after null, op `t`).

mod common;
mod mysql;

use mysql::{Running, TestDb, exec};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use siphon::event::{ChangeEvent, DataType, Op, Value};

/// MariaDB 10.11's single-byte charsets (but `binary`).
const SINGLE_BYTE: &[&str] = &[
    "armscii8", "ascii", "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866", "dec8",
    "geostd8", "greek", "hebrew", "hp8", "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5",
    "latin7", "macce", "macroman", "swe7", "tis620",
];

/// Multi-byte charsets, each with text it can hold (the server converts it on insert).
const MULTI_BYTE: &[(&str, &str)] = &[
    // JIS mappings (a wave dash, a double vertical line), not Microsoft's.
    ("sjis", "日本語のテキスト ｶﾀｶﾅ 〜‖"),
    ("cp932", "日本語のテキスト ｶﾀｶﾅ ①"),
    ("ujis", "日本語のテキスト ｶﾀｶﾅ 〜‖"),
    ("eucjpms", "日本語のテキスト ｶﾀｶﾅ"),
    ("gbk", "中文文本 繁體"),
    ("gb2312", "中文文本 ・―"),
    ("big5", "繁體中文 Жぁ"),
    ("euckr", "한국어 텍스트"),
    ("ucs2", "Grüße ✓"),
    ("utf16", "four-byte 😀 ✓"),
    ("utf16le", "four-byte 😀 ✓"),
    ("utf32", "four-byte 😀 ✓"),
    ("utf8mb3", "Grüße ✓"),
];

/// The bytes 0x20–0xFF the server defines in `cs` (it converts the others to `?`).
async fn defined_bytes(conn: &mut Conn, cs: &str) -> Vec<u8> {
    let cols: Vec<String> = (0x20..=0xffu8)
        .map(|b| format!("HEX(CONVERT(CONVERT(UNHEX('{b:02X}') USING {cs}) USING utf8mb4))"))
        .collect();
    let row: mysql_async::Row = conn
        .query_first(format!("SELECT {}", cols.join(", ")))
        .await
        .unwrap()
        .unwrap();
    (0x20..=0xffu8)
        .zip(row.unwrap())
        .filter(|(b, v)| *b == b'?' || *v != mysql_async::Value::Bytes(b"3F".to_vec()))
        .map(|(b, _)| b)
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn value<'a>(e: &'a ChangeEvent, name: &str) -> &'a Value {
    let i = e
        .table
        .column_index(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &e.after.as_ref().expect("an after image").0[i]
}

fn id(e: &ChangeEvent) -> i32 {
    match value(e, "id") {
        Value::Int32(n) => *n,
        other => panic!("id is {other:?}"),
    }
}

/// Inserts the rows of `insert` (`{id}` filled in) with ids 1..=n before the reader starts
/// and 101.. once it streams; returns the reader and its events, snapshot reads first.
async fn snapshot_and_stream(
    db: &TestDb,
    conn: &mut Conn,
    extra: &[(&str, &str)],
    inserts: &[String],
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
    (running, events)
}

#[tokio::test]
async fn text_in_every_charset_decodes_as_the_server_converts_it() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    let mut columns = vec!["id INT PRIMARY KEY".to_owned()];
    let mut values = vec!["{id}".to_owned()];
    for cs in SINGLE_BYTE {
        columns.push(format!("`{cs}` VARCHAR(255) CHARACTER SET {cs}"));
        let bytes = defined_bytes(&mut conn, cs).await;
        values.push(format!("_{cs} X'{}'", hex(&bytes)));
    }
    for (cs, text) in MULTI_BYTE {
        columns.push(format!("`{cs}` TEXT CHARACTER SET {cs}"));
        values.push(format!("'{text}'"));
    }
    // MariaDB's UCA 14.0 collations have ids of their own (no id in information_schema).
    for (name, spec, text) in [
        ("uca_mb4", "utf8mb4 COLLATE utf8mb4_uca1400_ai_ci", "😀 é"),
        ("uca_ucs2", "ucs2 COLLATE ucs2_uca1400_ai_ci", "é ✓"),
        ("uca_utf16", "utf16 COLLATE utf16_uca1400_as_cs", "😀 é"),
        ("nopad", "latin1 COLLATE latin1_nopad_bin", "café €"),
    ] {
        columns.push(format!("`{name}` VARCHAR(20) CHARACTER SET {spec}"));
        values.push(format!("'{text}'"));
    }
    // ENUM and SET labels in their column's charset.
    columns.push("en ENUM('カナ','日本') CHARACTER SET sjis".into());
    columns.push("st SET('Да','Нет') CHARACTER SET cp1251".into());
    columns.push("en1 ENUM('é','ü') CHARACTER SET latin1".into());
    values.extend(["'日本'".into(), "'Да,Нет'".into(), "'ü'".into()]);
    exec(
        &mut conn,
        &format!("CREATE TABLE texts ({})", columns.join(", ")),
    )
    .await;
    let insert = format!("INSERT INTO texts VALUES ({})", values.join(", "));
    let (running, events) = snapshot_and_stream(&db, &mut conn, &[], &[insert]).await;
    let names: Vec<String> = columns[1..]
        .iter()
        .map(|c| {
            c.split('`')
                .nth(1)
                .unwrap_or_else(|| c.split(' ').next().unwrap())
                .to_owned()
        })
        .collect();
    for e in &events {
        for name in &names {
            let want: Option<String> = conn
                .query_first(format!(
                    "SELECT CONVERT(`{name}` USING utf8mb4) FROM texts WHERE id = {}",
                    id(e)
                ))
                .await
                .unwrap()
                .unwrap();
            let want = want.unwrap();
            let got = match value(e, name) {
                Value::Text(t) | Value::Enum(t) => t.clone(),
                Value::EnumSet(s) => s.join(","),
                other => panic!("{name}: {other:?} in a {:?} event", e.op),
            };
            assert_eq!(got, want, "column {name} of a {:?} event", e.op);
            assert!(!want.is_empty(), "{name}");
            // The server kept the multi-byte texts whole.
            if let Some((_, text)) = MULTI_BYTE.iter().find(|(cs, _)| cs == name) {
                assert_eq!(&want, text, "{name}");
            }
        }
    }
    let streamed = &events[1];
    assert_eq!(value(streamed, "en"), &Value::Enum("日本".into()));
    assert_eq!(
        value(streamed, "st"),
        &Value::EnumSet(vec!["Да".into(), "Нет".into()])
    );
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn bytes_not_valid_in_the_column_charset_fail_naming_table_column_and_charset() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE bad (id INT PRIMARY KEY, s VARCHAR(10) CHARACTER SET greek)",
    )
    .await;
    exec(&mut conn, "INSERT INTO bad VALUES (1, 'fine')").await;
    let running = Running::start(db.config(&[]), None);
    running.wait_for_events("the snapshot", 1).await;
    // 0xA4 is no character of MariaDB's greek (its conversion shows `?`), but a single-byte
    // column stores any byte given with the charset introducer.
    exec(&mut conn, "INSERT INTO bad VALUES (2, _greek X'41A4')").await;
    let ended = tokio::time::timeout(mysql::TIMEOUT, running.reader)
        .await
        .expect("the reader fails")
        .unwrap();
    let e = ended.unwrap_err().to_string();
    let table = format!("{}.bad", db.name);
    for needle in [
        table.as_str(),
        ".s:",
        "2 bytes are not valid greek",
        "<2 bytes>",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    db.drop().await;
}

/// Debezium's `uuid_column_test.sql` rows, and a time-based UUID of MariaDB's `UUID()` kind.
const UUIDS: &[&str] = &[
    "01020304-0506-0708-090a-0b0c0d0e0f10",
    "00000000-0000-0000-0000-000000000000",
    "00000000-0000-0000-0000-000000000001",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "6ccd780c-baba-1026-9564-5b8c656024db",
];

const INET6: &[&str] = &[
    "2001:db8::1",
    "::",
    "::1",
    "::ffff:192.0.2.128",
    "::192.0.2.128",
    "fe80::1:0:0:0",
    "1:0:0:2:0:0:0:3",
    "2001:db8:85a3:8d3:1319:8a2e:370:7348",
];

const INET4: &[&str] = &[
    "192.0.2.1",
    "0.0.0.0",
    "10.0.0.0",
    "255.255.255.255",
    "1.2.3.4",
];

#[tokio::test]
async fn inet4_inet6_and_uuid_follow_debezium() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE nets (id INT PRIMARY KEY, u UUID, i6 INET6, i4 INET4, \
         u_nn UUID NOT NULL, expected CHAR(36))",
    )
    .await;
    let inserts: Vec<String> = (0..UUIDS.len().max(INET6.len()))
        .map(|i| {
            let u = UUIDS[i % UUIDS.len()];
            format!(
                "INSERT INTO nets VALUES ({{id}}, '{u}', '{}', '{}', '{u}', '{u}')",
                INET6[i % INET6.len()],
                INET4[i % INET4.len()]
            )
        })
        .collect();
    let (running, events) = snapshot_and_stream(&db, &mut conn, &[], &inserts).await;
    for e in &events {
        let ty = |n: &str| e.table.columns[e.table.column_index(n).unwrap()].clone();
        // Debezium's io.debezium.data.Uuid (a string); the addresses as strings.
        assert_eq!(ty("u").data_type, DataType::Uuid);
        assert!(ty("u").nullable && !ty("u_nn").nullable);
        assert_eq!(ty("i6").data_type, DataType::Text);
        assert_eq!(ty("i4").data_type, DataType::Text);
        let (i6, i4): (String, String) = conn
            .query_first(format!(
                "SELECT CAST(i6 AS CHAR), CAST(i4 AS CHAR) FROM nets WHERE id = {}",
                id(e)
            ))
            .await
            .unwrap()
            .unwrap();
        let Value::Text(expected) = value(e, "expected") else {
            panic!("expected is not text")
        };
        let want = Value::Uuid(expected.parse().unwrap());
        assert_eq!(value(e, "u"), &want, "{:?}", e.op);
        assert_eq!(value(e, "u_nn"), &want, "{:?}", e.op);
        assert_eq!(value(e, "i6"), &Value::Text(i6), "{:?}", e.op);
        assert_eq!(value(e, "i4"), &Value::Text(i4), "{:?}", e.op);
    }
    running.stop().await;
    db.drop().await;
}

/// Debezium's `shouldEmitTruncateOperation`: with `skipped.operations=none` a TRUNCATE TABLE
/// of a captured table is an event with op `t` and no rows; the default (`t`) skips it.
#[tokio::test]
async fn truncate_table_is_an_op_t_event_unless_skipped() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE orders (id INT PRIMARY KEY, v INT); CREATE TABLE fresh (id INT PRIMARY KEY); \
         CREATE TABLE other (id INT PRIMARY KEY)",
    )
    .await;
    exec(&mut conn, "INSERT INTO orders VALUES (1, 10)").await;
    let include = format!("{0}.orders,{0}.fresh", db.name);
    let running = Running::start(
        db.config(&[
            ("skipped.operations", "none"),
            ("table.include.list", &include),
        ]),
        None,
    );
    // The snapshot's position is fixed once its first row arrives.
    running.wait_for_events("the snapshot", 1).await;
    // `fresh` has not been in the binlog since the reader started: its schema comes from
    // information_schema.
    exec(&mut conn, "TRUNCATE TABLE fresh").await;
    exec(&mut conn, "TRUNCATE other").await;
    exec(&mut conn, "TRUNCATE orders").await;
    exec(&mut conn, "INSERT INTO orders VALUES (2, 20)").await;
    let events = running.wait_for_events("the changes", 4).await;
    let ops: Vec<Op> = events.iter().map(|e| e.op).collect();
    assert_eq!(ops, [Op::Read, Op::Truncate, Op::Truncate, Op::Create]);
    for (t, name, columns) in [(&events[1], "fresh", 1), (&events[2], "orders", 2)] {
        assert!(t.before.is_none() && t.after.is_none());
        assert_eq!(t.table.id.name, name);
        assert_eq!(t.table.columns.len(), columns);
    }
    running.stop().await;

    // The default skips truncates.
    let running = Running::start(db.config(&[]), None);
    running.wait_for_events("the snapshot", 1).await;
    exec(&mut conn, "TRUNCATE TABLE orders").await;
    exec(&mut conn, "INSERT INTO orders VALUES (3, 30)").await;
    let events = running.wait_for_events("the insert", 2).await;
    let ops: Vec<Op> = events.iter().map(|e| e.op).collect();
    assert_eq!(ops, [Op::Read, Op::Create]);
    running.stop().await;
    db.drop().await;
}

/// Every collation the server has (1,200 on MariaDB 10.11, its UCA 14.0 ones included): a
/// column in each, holding text of many scripts as the server converted it, decodes from the
/// binlog to what the server's own conversion shows, so each collation id names the right
/// charset.
#[tokio::test]
async fn every_collation_id_names_its_charset() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    let collations: Vec<(String, String)> = conn
        .query(
            "SELECT FULL_COLLATION_NAME, CHARACTER_SET_NAME \
             FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY \
             WHERE CHARACTER_SET_NAME <> 'binary' ORDER BY ID",
        )
        .await
        .unwrap();
    assert!(collations.len() > 1000, "{}", collations.len());
    // Tables of 100 columns, within InnoDB's row size limit.
    let tables: Vec<&[(String, String)]> = collations.chunks(100).collect();
    for (t, chunk) in tables.iter().enumerate() {
        let columns: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (co, cs))| format!("c{i} VARCHAR(12) CHARACTER SET {cs} COLLATE {co}"))
            .collect();
        exec(
            &mut conn,
            &format!(
                "CREATE TABLE every{t} (id INT PRIMARY KEY, {})",
                columns.join(", ")
            ),
        )
        .await;
    }
    let running = Running::start(db.config(&[("snapshot.mode", "no_data")]), None);
    // Characters a charset cannot hold become `?` (non-strict mode), as in the server's
    // conversion the test compares with.
    exec(&mut conn, "SET sql_mode = ''").await;
    let sample = "aé€ЖΩש日한中ıĞ";
    // Inserted until the reader streams (no snapshot: it starts at the binlog's end).
    let deadline = std::time::Instant::now() + mysql::TIMEOUT;
    let mut id_now = 0;
    let events = loop {
        id_now += 1;
        for (t, chunk) in tables.iter().enumerate() {
            let values = vec![format!("'{sample}'"); chunk.len()].join(", ");
            exec(
                &mut conn,
                &format!("INSERT INTO every{t} VALUES ({id_now}, {values})"),
            )
            .await;
        }
        let got = running.events.lock().unwrap().clone();
        if got.len() >= tables.len() {
            break got;
        }
        running.assert_alive();
        assert!(std::time::Instant::now() < deadline, "no streamed rows");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let mut checked = 0;
    for e in &events[..tables.len()] {
        let t: usize = e.table.id.name["every".len()..].parse().unwrap();
        let select: Vec<String> = (0..tables[t].len())
            .map(|i| format!("CONVERT(c{i} USING utf8mb4)"))
            .collect();
        let row: mysql_async::Row = conn
            .query_first(format!(
                "SELECT {} FROM every{t} WHERE id = {}",
                select.join(", "),
                id(e)
            ))
            .await
            .unwrap()
            .unwrap();
        let want: Vec<String> = row
            .unwrap()
            .into_iter()
            .map(mysql_async::from_value)
            .collect();
        for (i, (co, _)) in tables[t].iter().enumerate() {
            let got = value(e, &format!("c{i}"));
            assert_eq!(got, &Value::Text(want[i].clone()), "{co}");
            checked += 1;
        }
    }
    assert_eq!(checked, collations.len());
    running.stop().await;
    db.drop().await;
}
