//! MySQL/MariaDB binlog reader against the real MariaDB of the harness: snapshot + streaming
//! with no gap and no duplicate, restart from a GTID or a file+pos position, a column added
//! mid-stream, the `source` block, transaction metadata, table filters, and a server whose
//! binlog settings a CDC reader cannot use.

mod common;
mod mysql;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::replay::replay_state;
use common::{Server, wait_for};
use mysql::{Running, TIMEOUT, TestDb, exec, table_state};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use siphon::event::{ChangeEvent, Op, SnapshotMarker, SourceDetails, TxMarker, Value};
use siphon::offsets::Position;

const SETUP: &str = "CREATE TABLE items (id BIGINT PRIMARY KEY, val BIGINT NOT NULL, \
                     note VARCHAR(100) NOT NULL) ENGINE=InnoDB";

/// A fresh database whose `items` table holds ids 1 to 10,000.
async fn items_db() -> (TestDb, Conn) {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(&mut conn, SETUP).await;
    exec(
        &mut conn,
        "INSERT INTO items SELECT seq, seq, CONCAT('row ', seq) FROM seq_1_to_10000",
    )
    .await;
    (db, conn)
}

/// 1,000 mixed changes in 50 transactions: inserts of new ids, updates and deletes of
/// existing ones (500 creates, 250 updates, 250 deletes).
async fn mixed_changes(conn: &mut Conn, first_new_id: i64) {
    for tx in 0..50i64 {
        let mut sql = String::from("BEGIN;");
        for j in 0..20i64 {
            let n = tx * 20 + j;
            match n % 4 {
                0 | 1 => sql.push_str(&format!(
                    "INSERT INTO items VALUES ({}, {n}, 'new {n}');",
                    first_new_id + n
                )),
                2 => sql.push_str(&format!(
                    "UPDATE items SET val = val + 1000000, note = 'upd {n}' WHERE id = {};",
                    n * 7 % 9000 + 1
                )),
                _ => sql.push_str(&format!("DELETE FROM items WHERE id = {};", 9001 + n)),
            }
        }
        sql.push_str("COMMIT;");
        exec(conn, &sql).await;
    }
}

fn count(events: &[ChangeEvent], op: Op) -> usize {
    events.iter().filter(|e| e.op == op).count()
}

/// Whether some event's `after` holds the text `marker`.
fn has_after_text(events: &[ChangeEvent], marker: &str) -> bool {
    events.iter().any(|e| {
        e.after
            .as_ref()
            .is_some_and(|r| r.0.iter().any(|v| *v == Value::Text(marker.into())))
    })
}

#[tokio::test]
async fn snapshot_then_stream_has_no_gap_and_no_duplicate() {
    let (db, mut conn) = items_db().await;

    // The stand-in emitter takes 3 batches and stalls, holding the snapshot mid-way while
    // the changes are made; then it is released.
    let events = Arc::new(Mutex::new(Vec::new()));
    let running = Running::start_limited(
        db.config(&[("snapshot.fetch.size", "500")]),
        None,
        events,
        3,
    );
    wait_for("three committed snapshot batches", TIMEOUT, || {
        running.assert_alive();
        let n = running.batch_count();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    let held = running.count();
    assert!(
        held > 0 && held < 10_000,
        "the snapshot is held mid-way after 3 batches: {held} rows committed"
    );
    mixed_changes(&mut conn, 20_000).await;
    running.release();
    exec(&mut conn, "UPDATE items SET note = 'last' WHERE id = 2").await;
    let expected = table_state(&mut conn, "items").await;

    wait_for("the last update", TIMEOUT, || {
        running.assert_alive();
        let done = has_after_text(&running.events.lock().unwrap(), "last");
        async move { done.then_some(()) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    assert_eq!(replay_state(&events), expected);

    // The snapshot is consistent as of its start, before the changes: exactly the 10,000
    // rows, first, then the stream.
    let n = count(&events, Op::Read);
    assert_eq!(n, 10_000);
    assert!(
        events[..n].iter().all(|e| e.op == Op::Read),
        "snapshot events come first"
    );
    assert_eq!(events[0].source.snapshot, SnapshotMarker::First);
    assert_eq!(events[n - 1].source.snapshot, SnapshotMarker::Last);
    assert!(
        events[1..n - 1]
            .iter()
            .all(|e| e.source.snapshot == SnapshotMarker::True),
        "rows between the first and the last are marked `true`"
    );
    assert!(
        events[n..]
            .iter()
            .all(|e| e.source.snapshot == SnapshotMarker::False),
        "streamed events are not marked as snapshot"
    );
    assert_eq!(
        (
            count(&events, Op::Create),
            count(&events, Op::Update),
            count(&events, Op::Delete)
        ),
        (500, 251, 250)
    );
    running.stop().await;
    db.drop().await;
}

/// Stops the reader after part of 1,000 changes is committed, restarts it from the committed
/// position (its GTID state, or only its binlog file and position), and checks each change
/// arrived exactly once and the snapshot was not repeated.
async fn restart_mid_stream(from_file_pos: bool) {
    let (db, _conn) = items_db().await;
    // Small batches, so one transaction of 20 changes spans batches and a restart can fall
    // inside a transaction.
    let config = db.config(&[("max.batch.size", "7")]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let first = Running::start_with(config.clone(), None, events.clone());
    // Once a snapshot row is committed, the snapshot's binlog position is fixed: later changes
    // can only come from the stream.
    first.wait_for_events("the first snapshot row", 1).await;
    let writer = {
        let mut conn = db.client().await;
        tokio::spawn(async move { mixed_changes(&mut conn, 20_000).await })
    };
    wait_for("some committed streamed changes", TIMEOUT, || {
        first.assert_alive();
        let n = first
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.op != Op::Read)
            .count();
        async move { (n >= 300).then_some(()) }
    })
    .await;
    let position = first.stop().await.expect("a committed position");
    let Position::Mysql(mut p) = position else {
        panic!("not a MySQL position: {position:?}")
    };
    eprintln!("restarting after {p:?}");
    assert!(p.snapshot.is_none(), "the snapshot is over: {p:?}");
    assert!(!p.file.is_empty() && p.pos > 0, "binlog coordinates: {p:?}");
    if from_file_pos {
        p.mariadb_gtids = None;
        p.gtids = None;
    } else {
        assert!(
            p.mariadb_gtids.is_some(),
            "a MariaDB position carries its GTID state: {p:?}"
        );
    }

    writer.await.unwrap();
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "UPDATE items SET note = 'after restart' WHERE id = 3",
    )
    .await;
    let second = Running::start_with(config, Some(Position::Mysql(p)), events.clone());
    wait_for("the update after the restart", TIMEOUT, || {
        second.assert_alive();
        let done = has_after_text(&events.lock().unwrap(), "after restart");
        async move { done.then_some(()) }
    })
    .await;
    let events = events.lock().unwrap().clone();
    // The 1,000 changes and the last update, each exactly once; the snapshot once.
    assert_eq!(
        (
            count(&events, Op::Read),
            count(&events, Op::Create),
            count(&events, Op::Update),
            count(&events, Op::Delete)
        ),
        (10_000, 500, 251, 250)
    );
    assert_eq!(replay_state(&events), table_state(&mut conn, "items").await);
    second.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn restart_mid_stream_from_gtid_loses_and_repeats_nothing() {
    restart_mid_stream(false).await;
}

#[tokio::test]
async fn restart_mid_stream_from_file_and_pos_loses_and_repeats_nothing() {
    restart_mid_stream(true).await;
}

fn column_names(e: &ChangeEvent) -> Vec<&str> {
    e.table.columns.iter().map(|c| c.name.as_str()).collect()
}

/// Constant defaults of integer and character columns reach the schema (from
/// `information_schema`), in the snapshot and after an `ADD COLUMN` mid-stream.
#[tokio::test]
async fn column_defaults_reach_the_schema() {
    use siphon::event::ColumnDefault;
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE d (id INT PRIMARY KEY, n INT NOT NULL DEFAULT 5, \
         s VARCHAR(9) NOT NULL DEFAULT 'it''s', t TIMESTAMP DEFAULT CURRENT_TIMESTAMP, o INT); \
         INSERT INTO d (id) VALUES (1);",
    )
    .await;
    let running = Running::start(db.config(&[]), None);
    let snap = running.wait_for_events("the snapshot row", 1).await;
    let defaults = |e: &ChangeEvent| -> Vec<Option<ColumnDefault>> {
        e.table.columns.iter().map(|c| c.default.clone()).collect()
    };
    assert_eq!(
        defaults(&snap[0]),
        [
            None,
            Some(ColumnDefault::Int(5)),
            Some(ColumnDefault::Text("it's".into())),
            None,
            None
        ]
    );
    exec(
        &mut conn,
        "ALTER TABLE d ADD COLUMN m SMALLINT NOT NULL DEFAULT -2; INSERT INTO d (id) VALUES (2);",
    )
    .await;
    let events = running
        .wait_for_events("the insert after ADD COLUMN", 2)
        .await;
    assert_eq!(
        defaults(&events[1]).last().unwrap(),
        &Some(ColumnDefault::Int(-2))
    );
}

#[tokio::test]
async fn added_column_mid_stream_makes_a_new_schema_version() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE evolving (id INT PRIMARY KEY, a VARCHAR(10)); \
         INSERT INTO evolving VALUES (1, 'x');",
    )
    .await;
    let running = Running::start(db.config(&[]), None);
    running.wait_for_events("the snapshot row", 1).await;
    exec(
        &mut conn,
        "INSERT INTO evolving VALUES (2, 'y'); \
         ALTER TABLE evolving ADD COLUMN b BIGINT DEFAULT 7; \
         INSERT INTO evolving VALUES (3, 'z', 8); \
         UPDATE evolving SET a = 'w' WHERE id = 2; \
         ALTER TABLE evolving DROP COLUMN a; \
         INSERT INTO evolving VALUES (4, 9);",
    )
    .await;
    let events = running.wait_for_events("five events", 5).await;
    let ops: Vec<Op> = events.iter().map(|e| e.op).collect();
    assert_eq!(
        ops,
        [Op::Read, Op::Create, Op::Create, Op::Update, Op::Create]
    );
    let text = |s: &str| Value::Text(s.into());

    // Before the ALTER: the original columns.
    for e in &events[..2] {
        assert_eq!(column_names(e), ["id", "a"], "{:?} before the ALTER", e.op);
    }
    assert_eq!(
        events[1].after.as_ref().unwrap().0,
        [Value::Int32(2), text("y")]
    );
    // After ADD COLUMN: the new column, in a higher version.
    for e in &events[2..4] {
        assert_eq!(column_names(e), ["id", "a", "b"], "{:?} after ADD", e.op);
        assert!(
            e.table.version > events[1].table.version,
            "version {} after ADD COLUMN, {} before",
            e.table.version,
            events[1].table.version
        );
    }
    assert_eq!(
        events[2].after.as_ref().unwrap().0,
        [Value::Int32(3), text("z"), Value::Int64(8)]
    );
    // The row that existed before the ALTER has the default in both images.
    assert_eq!(
        events[3].before.as_ref().unwrap().0,
        [Value::Int32(2), text("y"), Value::Int64(7)]
    );
    assert_eq!(
        events[3].after.as_ref().unwrap().0,
        [Value::Int32(2), text("w"), Value::Int64(7)]
    );
    // After DROP COLUMN: yet another version.
    assert_eq!(column_names(&events[4]), ["id", "b"]);
    assert!(events[4].table.version > events[3].table.version);
    assert_eq!(
        events[4].after.as_ref().unwrap().0,
        [Value::Int32(4), Value::Int64(9)]
    );
    running.stop().await;
    db.drop().await;
}

/// The GTID of this session's last transaction (MariaDB's `@@last_gtid`).
async fn last_gtid(conn: &mut Conn) -> String {
    conn.query_first("SELECT @@last_gtid")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn source_block_names_gtid_binlog_coordinates_row_and_query() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE src (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO src VALUES (0, 'seed');",
    )
    .await;
    let running = Running::start(db.config(&[("include.query", "true")]), None);
    running.wait_for_events("the snapshot row", 1).await;

    let insert = "INSERT INTO src VALUES (1, 'a'), (2, 'b'), (3, 'c')";
    exec(&mut conn, insert).await;
    let insert_gtid = last_gtid(&mut conn).await;
    let update = "UPDATE src SET v = 'x' WHERE id = 1";
    exec(&mut conn, update).await;
    let update_gtid = last_gtid(&mut conn).await;
    let thread: u64 = conn
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap();
    let binlogs: Vec<String> = conn
        .query_map("SHOW BINARY LOGS", |(name, _size): (String, u64)| name)
        .await
        .unwrap();

    let events = running.wait_for_events("four streamed events", 5).await;
    let streamed = &events[1..];
    let gtid_form = regex::Regex::new(r"^0-1-[0-9]+$").unwrap();
    assert!(gtid_form.is_match(&insert_gtid), "{insert_gtid}");
    let mut coordinates = Vec::new();
    for (i, e) in streamed.iter().enumerate() {
        let (want_op, want_gtid, want_query, want_row) = if i < 3 {
            (Op::Create, &insert_gtid, insert, i as u32)
        } else {
            (Op::Update, &update_gtid, update, 0)
        };
        assert_eq!(e.op, want_op, "event {i}");
        assert_eq!(e.source.snapshot, SnapshotMarker::False);
        assert_eq!(e.source.db, db.name);
        assert_eq!(e.table.id.namespace, db.name);
        assert_eq!(e.table.id.name, "src");
        assert!(e.source.ts_us > 0, "ts_us {}", e.source.ts_us);
        let SourceDetails::MySql {
            server_id,
            gtid,
            file,
            pos,
            row,
            thread: event_thread,
            query,
        } = &e.source.details
        else {
            panic!("not a MySQL source block: {:?}", e.source.details)
        };
        assert_eq!(*server_id, 1, "event {i}");
        assert_eq!(gtid.as_deref(), Some(want_gtid.as_str()), "event {i}");
        assert!(binlogs.contains(file), "{file} is not one of {binlogs:?}");
        assert!(*pos > 0, "event {i}: pos {pos}");
        assert_eq!(*row, want_row, "event {i}");
        // MariaDB's binlog names the session only in query events (DDL; its transactions
        // open with a GTID event, not a `BEGIN` query), so a DML row may not have it.
        if let Some(t) = event_thread {
            assert_eq!(*t, thread, "event {i}: the thread of the writing session");
        }
        // MariaDB sends the statement in an ANNOTATE_ROWS event.
        assert_eq!(query.as_deref(), Some(want_query), "event {i}");
        coordinates.push((file.clone(), *pos));
    }
    // The three rows of one insert come from one rows event.
    assert_eq!(coordinates[0], coordinates[1]);
    assert_eq!(coordinates[1], coordinates[2]);
    if coordinates[2].0 == coordinates[3].0 {
        assert!(coordinates[3].1 > coordinates[2].1, "{coordinates:?}");
    }
    // The snapshot row names the binlog position it stands for; as in Debezium, its
    // server_id is 0 (it comes from no binlog event).
    assert_eq!(events[0].op, Op::Read);
    assert!(matches!(
        &events[0].source.details,
        SourceDetails::MySql { server_id: 0, file, pos, gtid: None, .. } if binlogs.contains(file) && *pos > 0
    ));
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn transaction_metadata_blocks_and_markers() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY); \
         INSERT INTO a VALUES (0);",
    )
    .await;
    let running = Running::start(db.config(&[("provide.transaction.metadata", "true")]), None);
    let snapshot = running.wait_for_events("the snapshot row", 1).await;
    assert_eq!(
        snapshot[0].transaction, None,
        "snapshot rows have no transaction"
    );
    exec(
        &mut conn,
        "BEGIN; INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO a VALUES (2); \
         COMMIT;",
    )
    .await;
    let gtid = last_gtid(&mut conn).await;
    let markers = wait_for("BEGIN and END", TIMEOUT, || {
        running.assert_alive();
        let m = running.markers.lock().unwrap().clone();
        let ended = m.iter().any(|m| matches!(m, TxMarker::End { .. }));
        async move { ended.then_some(m) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    assert_eq!(markers.len(), 2, "one BEGIN and one END: {markers:?}");
    let TxMarker::Begin { id, ts_us } = &markers[0] else {
        panic!("{markers:?}")
    };
    // With GTIDs on, Debezium's transaction id is the GTID.
    assert_eq!(id, &gtid);
    assert!(*ts_us > 0);
    let streamed = &events[1..];
    let orders: Vec<(u64, u64)> = streamed
        .iter()
        .map(|e| {
            let t = e.transaction.as_ref().expect("a transaction block");
            assert_eq!(&t.id, id);
            (t.total_order, t.data_collection_order)
        })
        .collect();
    assert_eq!(orders, [(1, 1), (2, 1), (3, 2)]);
    for e in streamed {
        let SourceDetails::MySql { gtid: g, query, .. } = &e.source.details else {
            panic!("{:?}", e.source.details)
        };
        assert_eq!(g.as_ref(), Some(&gtid));
        assert_eq!(query, &None, "no query without include.query");
    }
    match &markers[1] {
        TxMarker::End {
            id: end_id,
            event_count,
            data_collections,
            ..
        } => {
            assert_eq!(end_id, id);
            assert_eq!(*event_count, 3);
            assert_eq!(
                data_collections,
                &[(format!("{}.a", db.name), 2), (format!("{}.b", db.name), 1)]
            );
        }
        other => panic!("{other:?}"),
    }
    running.stop().await;
    db.drop().await;
}

/// `skipped.operations=d`: a skipped delete takes no place in its transaction's order or in
/// the END marker's counts, as in Debezium.
#[tokio::test]
async fn a_skipped_operation_takes_no_place_in_the_transaction_order() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE a (id INT PRIMARY KEY); INSERT INTO a VALUES (0);",
    )
    .await;
    let config = db.config(&[
        ("provide.transaction.metadata", "true"),
        ("skipped.operations", "d"),
    ]);
    let running = Running::start(config, None);
    running.wait_for_events("the snapshot row", 1).await;
    exec(
        &mut conn,
        "BEGIN; DELETE FROM a WHERE id = 0; INSERT INTO a VALUES (1); COMMIT;",
    )
    .await;
    let markers = wait_for("BEGIN and END", TIMEOUT, || {
        running.assert_alive();
        let m = running.markers.lock().unwrap().clone();
        let ended = m.iter().any(|m| matches!(m, TxMarker::End { .. }));
        async move { ended.then_some(m) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    let insert = events.iter().find(|e| e.op == Op::Create).unwrap();
    let t = insert.transaction.as_ref().unwrap();
    assert_eq!((t.total_order, t.data_collection_order), (1, 1));
    let Some(TxMarker::End { event_count, .. }) = markers.last() else {
        panic!("{markers:?}")
    };
    assert_eq!(*event_count, 1);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn tables_outside_the_include_list_produce_no_events() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE captured (id INT PRIMARY KEY); CREATE TABLE other (id INT PRIMARY KEY); \
         INSERT INTO other VALUES (1); INSERT INTO captured VALUES (1);",
    )
    .await;
    let include = format!("{}.captured", db.name);
    let running = Running::start(db.config(&[("table.include.list", &include)]), None);
    running.wait_for_events("the snapshot row", 1).await;
    exec(
        &mut conn,
        "INSERT INTO other VALUES (2); INSERT INTO captured VALUES (2); \
         BEGIN; INSERT INTO other VALUES (3); INSERT INTO captured VALUES (3); COMMIT; \
         UPDATE other SET id = 4 WHERE id = 3; DELETE FROM other WHERE id = 1; \
         INSERT INTO captured VALUES (4);",
    )
    .await;
    let events = running.wait_for_events("four events", 4).await;
    let seen: Vec<(Op, &str, Value)> = events
        .iter()
        .map(|e| {
            (
                e.op,
                e.table.id.name.as_str(),
                e.after.as_ref().unwrap().0[0].clone(),
            )
        })
        .collect();
    // The last captured insert follows every change of `other` in the binlog: had any of
    // them been emitted, it would be here.
    assert_eq!(
        seen,
        [
            (Op::Read, "captured", Value::Int32(1)),
            (Op::Create, "captured", Value::Int32(2)),
            (Op::Create, "captured", Value::Int32(3)),
            (Op::Create, "captured", Value::Int32(4)),
        ]
    );
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn server_without_row_binlog_is_refused_with_a_definite_error() {
    let db = TestDb::create_on(Server::MariaDbBad).await;
    let running = Running::start(db.config(&[]), None);
    let result = tokio::time::timeout(Duration::from_secs(30), running.reader)
        .await
        .expect("the reader gives up within 30 s")
        .expect("the reader task does not panic");
    let err = result.expect_err("a server with binlog_format=MIXED is refused");
    assert!(!err.is_transient(), "a definite error: {err}");
    let text = err.to_string();
    eprintln!("refused with: {text}");
    for setting in ["binlog_format", "binlog_row_image", "binlog_row_metadata"] {
        assert!(text.contains(setting), "`{setting}` not named in: {text}");
    }
    db.drop().await;
}

/// A committed position in a binlog file the server no longer has (purged, or from another
/// server): a definite error telling the user to re-snapshot, and with
/// `snapshot.mode=when_needed` a new snapshot instead.
#[tokio::test]
async fn purged_binlog_is_a_definite_error_unless_when_needed() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE p (id INT PRIMARY KEY); INSERT INTO p VALUES (1), (2);",
    )
    .await;
    let first: String = conn
        .query_map("SHOW BINARY LOGS", |(name, _size): (String, u64)| name)
        .await
        .unwrap()
        .remove(0);
    let (base, _) = first.rsplit_once('.').unwrap();
    let gone = Position::Mysql(siphon::offsets::MySqlPosition {
        file: format!("{base}.000000"),
        pos: 4,
        skip_events: 0,
        skip_rows: 0,
        gtids: None,
        mariadb_gtids: None,
        snapshot: None,
    });

    let running = Running::start(db.config(&[]), Some(gone.clone()));
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .expect("the reader gives up")
        .unwrap()
        .expect_err("a purged binlog is an error");
    assert!(!err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(".000000") && text.contains("snapshot.mode=when_needed"),
        "{text}"
    );

    let running = Running::start(db.config(&[("snapshot.mode", "when_needed")]), Some(gone));
    let events = running.wait_for_events("a new snapshot", 2).await;
    assert!(events.iter().all(|e| e.op == Op::Read), "{events:?}");
    running.stop().await;
    db.drop().await;
}

/// A snapshot stopped after some committed chunks resumes after the last one (composite key,
/// so the resume condition spans two columns) and reads every row exactly once; a table
/// without a primary key is read whole, by offset; then streaming follows.
#[tokio::test]
async fn snapshot_interrupted_by_a_restart_resumes_from_the_last_chunk() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE big (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b)); \
         INSERT INTO big SELECT seq DIV 10, CONCAT('k', seq MOD 10), seq FROM seq_0_to_2999; \
         CREATE TABLE nokey (n INT); INSERT INTO nokey SELECT seq FROM seq_1_to_250;",
    )
    .await;
    // Chunks of exactly the fetch size (no byte bound, which would start them small).
    let config = db.config(&[
        ("snapshot.fetch.size", "100"),
        ("max.queue.size.in.bytes", "0"),
    ]);
    let events = Arc::new(Mutex::new(Vec::new()));
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
    assert_eq!(progress.rows_done, 600, "{progress:?}");
    assert!(progress.last_key.is_some(), "{progress:?}");
    let second = Running::start_with(config, Some(position), events.clone());
    wait_for("the rest of the snapshot", TIMEOUT, || {
        second.assert_alive();
        let n = events.lock().unwrap().len();
        async move { (n >= 3250).then_some(()) }
    })
    .await;
    exec(&mut conn, "INSERT INTO big VALUES (9999, 'streamed', 0)").await;
    wait_for("the streamed insert", TIMEOUT, || {
        second.assert_alive();
        let done = events.lock().unwrap().iter().any(|e| e.op == Op::Create);
        async move { done.then_some(()) }
    })
    .await;
    let all = events.lock().unwrap().clone();
    let mut keys: Vec<String> = all
        .iter()
        .filter(|e| e.op == Op::Read && e.table.id.name == "big")
        .map(|e| format!("{:?}", e.key()))
        .collect();
    assert_eq!(
        keys.len(),
        3000,
        "every keyed row read once across the restart"
    );
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3000, "no keyed row read twice");
    let nokey = all
        .iter()
        .filter(|e| e.op == Op::Read && e.table.id.name == "nokey")
        .count();
    assert_eq!(nokey, 250);
    second.stop().await;
    db.drop().await;
}
