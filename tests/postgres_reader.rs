//! PostgreSQL reader against the real PostgreSQL of the harness: snapshot + streaming with no
//! gap and no duplicate, restart mid-stream, idle slot acknowledgement, privilege errors.

mod common;
mod pg;

use std::time::Duration;

use common::replay::replay_state;
use common::wait_for;
use pg::{Running, TIMEOUT, TestDb, table_state};
use siphon::event::{Op, SnapshotMarker};
use siphon::offsets::Position;

const SETUP: &str =
    "CREATE TABLE items (id bigint PRIMARY KEY, val bigint NOT NULL, note text NOT NULL)";

/// A fresh database whose `items` table holds ids 1 to 10,000.
async fn items_db() -> (TestDb, tokio_postgres::Client) {
    let db = TestDb::create().await;
    let client = db.client().await;
    client.batch_execute(SETUP).await.unwrap();
    client
        .batch_execute(
            "INSERT INTO items SELECT g, g, 'row ' || g FROM generate_series(1, 10000) g",
        )
        .await
        .unwrap();
    (db, client)
}

/// `mixed_changes` and one more update, each exactly once: 500 creates, 251 updates and 250
/// deletes (no snapshot reads).
fn assert_each_change_once(events: &[siphon::event::ChangeEvent]) {
    let count = |op| events.iter().filter(|e| e.op == op).count();
    assert_eq!(
        (count(Op::Create), count(Op::Update), count(Op::Delete)),
        (500, 251, 250)
    );
}

/// 1,000 mixed changes in 50 transactions: inserts of new ids, updates and deletes of
/// existing ones.
async fn mixed_changes(client: &tokio_postgres::Client, first_new_id: i64) {
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
        client.batch_execute(&sql).await.unwrap();
    }
}

#[tokio::test]
async fn snapshot_then_stream_has_no_gap_and_no_duplicate() {
    let (db, client) = items_db().await;

    // The stand-in emitter takes 3 chunks and stalls, holding the snapshot mid-way while the
    // changes are made; then it is released.
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let running = Running::start_limited(
        // Chunks of exactly the fetch size (no byte bound, which would start them small).
        db.config(&[
            ("snapshot.fetch.size", "500"),
            ("max.queue.size.in.bytes", "0"),
        ]),
        None,
        events,
        3,
    );
    wait_for("three snapshot chunks", TIMEOUT, || {
        let n = running.count();
        async move { (n >= 1500).then_some(()) }
    })
    .await;
    mixed_changes(&client, 20_000).await;
    running.release();
    client
        .batch_execute("UPDATE items SET note = 'last' WHERE id = 2")
        .await
        .unwrap();
    let expected = table_state(&client, "items").await;

    wait_for("the replay to match the table", TIMEOUT, || {
        running.assert_alive();
        let events = running.events.lock().unwrap().clone();
        let done = events
            .iter()
            .any(|e| e.op == Op::Update && format!("{:?}", e.after).contains("\"last\""));
        async move { done.then_some(()) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    assert_eq!(replay_state(&events), expected);

    let reads: Vec<_> = events.iter().filter(|e| e.op == Op::Read).collect();
    // The slot's snapshot was taken before the changes: exactly the 10,000 rows.
    let n = reads.len();
    assert_eq!(n, 10_000);
    assert_eq!(reads[0].source.snapshot, SnapshotMarker::First);
    assert_eq!(reads[n - 1].source.snapshot, SnapshotMarker::Last);
    assert!(
        events[..n].iter().all(|e| e.op == Op::Read),
        "snapshot events come first"
    );
    assert!(
        events[n..]
            .iter()
            .all(|e| e.source.snapshot == SnapshotMarker::False),
        "streamed events are not marked as snapshot"
    );
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn restart_mid_stream_loses_and_repeats_nothing() {
    let (db, client) = items_db().await;
    // Small batches, so one transaction of 20 changes spans batches and a restart can fall
    // inside a transaction.
    let config = db.config(&[("max.batch.size", "7"), ("snapshot.mode", "never")]);
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let first = Running::start_with(config.clone(), None, events.clone());
    // The slot exists once the reader streams: wait for it before changing data.
    db.wait_for_slot().await;
    // Changes go on while the reader is stopped and restarted.
    let writer = {
        let client = db.client().await;
        tokio::spawn(async move { mixed_changes(&client, 20_000).await })
    };
    wait_for("some committed batches", TIMEOUT, || {
        let n = first.count();
        async move { (n >= 300).then_some(()) }
    })
    .await;
    let position = first.stop().await.expect("a committed position");
    let Position::Postgres(p) = &position else {
        panic!("{position:?}")
    };
    eprintln!("restarting after {p:?}");

    writer.await.unwrap();
    client
        .batch_execute("UPDATE items SET note = 'after restart' WHERE id = 3")
        .await
        .unwrap();
    let second = Running::start_with(config, Some(position), events.clone());
    wait_for("the update after the restart", TIMEOUT, || {
        second.assert_alive();
        let done = events
            .lock()
            .unwrap()
            .iter()
            .any(|e| format!("{:?}", e.after).contains("after restart"));
        async move { done.then_some(()) }
    })
    .await;
    // The 1,000 changes and the last update, each exactly once: replay over the initial rows.
    assert_each_change_once(&events.lock().unwrap());
    second.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn idle_slot_confirmed_flush_advances() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE captured (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY)",
        )
        .await
        .unwrap();
    let running = Running::start(
        db.config(&[
            ("table.include.list", "public.captured"),
            ("publication.autocreate.mode", "filtered"),
        ]),
        None,
    );
    let start = db.wait_for_slot().await;
    // Changes only outside the publication: nothing is captured, yet the slot must move.
    for i in 0..20 {
        client
            .execute("INSERT INTO other VALUES ($1)", &[&i])
            .await
            .unwrap();
    }
    let after_inserts: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let target = siphon::postgres_wal::parse_lsn(&after_inserts).unwrap();
    let reached = wait_for(
        "confirmed_flush_lsn to pass the inserts",
        Duration::from_secs(60),
        || {
            running.assert_alive();
            let db = &db;
            async move { db.confirmed_flush().await.filter(|l| *l >= target) }
        },
    )
    .await;
    assert!(reached > start);
    assert_eq!(running.count(), 0);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn user_without_replication_privilege_gets_a_clear_error() {
    let db = TestDb::create().await;
    let role = format!("norepl_{}", db.name);
    pg::connect(&db.admin_url)
        .await
        .batch_execute(&format!("CREATE ROLE {role} LOGIN NOREPLICATION"))
        .await
        .unwrap();
    let mut config = db.config(&[]);
    config.source.database_mut().unwrap().user = role.clone();
    let running = Running::start(config, None);
    let result = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .unwrap()
        .unwrap();
    let err = result.unwrap_err();
    assert!(!err.is_transient());
    let text = err.to_string();
    assert!(text.contains("REPLICATION privilege"), "{text}");
    assert!(text.contains(&role), "{text}");
}

#[tokio::test]
async fn wal_level_and_missing_publication_errors_are_definite() {
    let db = TestDb::create().await;
    let running = Running::start(
        db.config(&[("publication.autocreate.mode", "disabled")]),
        None,
    );
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn lost_connection_reconnects_and_resumes_without_loss() {
    let (db, client) = items_db().await;
    let running = Running::start(
        db.config(&[("max.batch.size", "5"), ("snapshot.mode", "never")]),
        None,
    );
    db.wait_for_slot().await;
    let writer = {
        let client = db.client().await;
        tokio::spawn(async move { mixed_changes(&client, 20_000).await })
    };
    wait_for("events before the cut", TIMEOUT, || {
        let n = running.count();
        async move { (n >= 100).then_some(()) }
    })
    .await;
    // The walsender may be between sessions; keep cutting until one was cut.
    wait_for("a walsender to cut", TIMEOUT, || {
        let db = &db;
        async move { db.kill_walsender().await.then_some(()) }
    })
    .await;
    writer.await.unwrap();
    client
        .batch_execute("UPDATE items SET note = 'after the cut' WHERE id = 3")
        .await
        .unwrap();
    wait_for("the update after the cut", TIMEOUT, || {
        running.assert_alive();
        let done = running
            .events
            .lock()
            .unwrap()
            .iter()
            .any(|e| format!("{:?}", e.after).contains("after the cut"));
        async move { done.then_some(()) }
    })
    .await;
    assert_each_change_once(&running.events.lock().unwrap());
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn snapshot_end_is_committed_even_when_the_last_table_is_empty() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);")
        .await
        .unwrap();
    let running = Running::start(db.config(&[]), None);
    let mut committed = running.committed.clone();
    // Without the end of the snapshot committed, a restart would read `b` again in a new
    // snapshot and deliver rows inserted meanwhile twice.
    let position = wait_for("the snapshot's end to be committed", TIMEOUT, || {
        let p = committed.borrow_and_update().clone();
        async move { p.filter(|p| p.snapshot().is_none()) }
    })
    .await;
    assert_eq!(position.source_name(), "postgres");
    assert_eq!(running.count(), 2);
    // The second row is the snapshot's last, though an empty table follows it.
    let events = running.events.lock().unwrap().clone();
    assert_eq!(
        events[1].source.snapshot,
        siphon::event::SnapshotMarker::Last
    );
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn transaction_metadata_blocks_and_markers() {
    use siphon::event::TxMarker;
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);")
        .await
        .unwrap();
    let running = Running::start(
        db.config(&[
            ("provide.transaction.metadata", "true"),
            ("snapshot.mode", "never"),
        ]),
        None,
    );
    db.wait_for_slot().await;
    client
        .batch_execute("BEGIN; INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO a VALUES (2); COMMIT;")
        .await
        .unwrap();
    let markers = wait_for("BEGIN and END", TIMEOUT, || {
        running.assert_alive();
        let m = running.markers.lock().unwrap().clone();
        async move { (m.len() >= 2).then_some(m) }
    })
    .await;
    let events = running.events.lock().unwrap().clone();
    let TxMarker::Begin { id, .. } = &markers[0] else {
        panic!("{markers:?}")
    };
    let orders: Vec<(u64, u64)> = events
        .iter()
        .map(|e| {
            let t = e.transaction.as_ref().unwrap();
            assert_eq!(&t.id, id);
            (t.total_order, t.data_collection_order)
        })
        .collect();
    assert_eq!(orders, [(1, 1), (2, 1), (3, 2)]);
    assert!(id.contains(':'), "Debezium's <xid>:<lsn> form: {id}");
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
                &[("public.a".to_owned(), 2), ("public.b".to_owned(), 1)]
            );
        }
        other => panic!("{other:?}"),
    }
    running.stop().await;
    db.drop().await;
}
