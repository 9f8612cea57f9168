//! PostgreSQL faults that must end in a clear definite error or heal by themselves (issue 16):
//! a slot dropped while the connector was stopped, a slot the server invalidated for falling
//! behind `max_slot_wal_keep_size` (on a private server: the setting is server-wide), and
//! tables dropped or renamed after their changes were written but before they were decoded.

mod common;
mod pg;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::private::PrivateServers;
use common::replay::replay_state;
use common::wait_for;
use pg::{Running, TIMEOUT, TestDb, table_state};
use siphon::event::{ChangeEvent, Op, Value};
use siphon::offsets::Position;

const ITEMS: &str =
    "CREATE TABLE items (id bigint PRIMARY KEY, val bigint NOT NULL, note text NOT NULL)";

fn insert(from: i64, to: i64) -> String {
    format!("INSERT INTO items SELECT g, g, 'row ' || g FROM generate_series({from}, {to}) g")
}

/// Streams `items` from a new slot until the insert of id 1 is committed, then stops the
/// reader as a crash would: the committed position.
async fn stream_then_stop(db: &TestDb, client: &tokio_postgres::Client) -> Position {
    let running = Running::start(db.config(&[("snapshot.mode", "never")]), None);
    db.wait_for_slot().await;
    client.batch_execute(&insert(1, 1)).await.unwrap();
    running.wait_for_events("the first insert", 1).await;
    let position = running.stop().await.expect("a committed position");
    assert!(matches!(position, Position::Postgres(_)), "{position:?}");
    position
}

/// Drops the test's slot once its walsender has let go of it.
async fn drop_slot(db: &TestDb) {
    let admin = pg::connect(&db.admin_url).await;
    wait_for("the slot to be dropped", TIMEOUT, || {
        let admin = &admin;
        async move {
            admin
                .execute("SELECT pg_drop_replication_slot($1)", &[&db.name])
                .await
                .ok()
                .map(|_| ())
        }
    })
    .await;
}

/// Runs the reader from `from` until it fails; its error.
async fn definite_error(config: siphon::config::ConnectorConfig, from: Position) -> String {
    let running = Running::start(config, Some(from));
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .expect("the reader fails within the timeout")
        .unwrap()
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    eprintln!("observed: {err}");
    err.to_string()
}

/// With `when_needed`, a new snapshot of `items` and the stream after it hold every row:
/// the replay matches the table, with the rows written while no slot kept them.
async fn resnapshot_loses_nothing(db: &TestDb, client: &tokio_postgres::Client, from: Position) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let config = db.config(&[("snapshot.mode", "when_needed")]);
    let running = Running::start_with(config, Some(from), events.clone());
    // The new slot, not the invalidated one the reader is about to drop: the update must
    // come after the new slot's snapshot to be streamed.
    let admin = pg::connect(&db.admin_url).await;
    wait_for("a new usable slot", TIMEOUT, || {
        running.assert_alive();
        let admin = &admin;
        async move {
            let row = admin
                .query_opt(
                    "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 \
                     AND confirmed_flush_lsn IS NOT NULL AND wal_status <> 'lost'",
                    &[&db.name],
                )
                .await
                .unwrap();
            row.map(|_| ())
        }
    })
    .await;
    client
        .batch_execute("UPDATE items SET note = 'after the snapshot' WHERE id = 1")
        .await
        .unwrap();
    wait_for("the update after the new snapshot", TIMEOUT, || {
        running.assert_alive();
        let done =
            events.lock().unwrap().iter().any(|e| {
                e.op == Op::Update && format!("{:?}", e.after).contains("after the snapshot")
            });
        async move { done.then_some(()) }
    })
    .await;
    let events = events.lock().unwrap().clone();
    let expected = table_state(client, "items").await;
    assert!(events.iter().any(|e| e.op == Op::Read), "a new snapshot");
    assert_eq!(replay_state(&events), expected);
    running.stop().await;
}

#[tokio::test]
async fn a_slot_dropped_while_stopped_fails_clearly_or_resnapshots() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client.batch_execute(ITEMS).await.unwrap();
    let position = stream_then_stop(&db, &client).await;
    drop_slot(&db).await;
    // Changes no slot kept: a new slot streaming from "now" would lose them.
    client.batch_execute(&insert(2, 50)).await.unwrap();

    let text = definite_error(db.config(&[]), position.clone()).await;
    assert!(
        text.contains(&format!("replication slot `{}`", db.name)),
        "{text}"
    );
    assert!(text.contains("snapshot.mode=when_needed"), "{text}");
    // The default mode did not recreate the slot behind the connector's back.
    assert_eq!(db.confirmed_flush().await, None);

    resnapshot_loses_nothing(&db, &client, position).await;
    db.drop().await;
}

#[tokio::test]
async fn a_slot_invalidated_by_max_slot_wal_keep_size_fails_clearly_or_resnapshots() {
    let servers = PrivateServers::start(&["pg"]);
    let db = TestDb::create_at(servers.address("SIPHON_TEST_PG_URL")).await;
    let admin = pg::connect(&db.admin_url).await;
    // A private server: the setting would invalidate other tests' slots on the shared one.
    admin
        .batch_execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
        .await
        .unwrap();
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    let client = db.client().await;
    client.batch_execute(ITEMS).await.unwrap();
    let position = stream_then_stop(&db, &client).await;

    // WAL the stopped connector does not read, past the 1 MB the slot may keep; the
    // checkpoint invalidates the slot.
    let mut next = 2;
    wait_for("the slot to be invalidated", TIMEOUT, || {
        let (client, admin, db) = (&client, &admin, &db);
        let from = next;
        next += 2000;
        async move {
            client
                .batch_execute(&insert(from, from + 1999))
                .await
                .unwrap();
            admin
                .batch_execute("SELECT pg_switch_wal(); CHECKPOINT")
                .await
                .unwrap();
            let status: Option<String> = admin
                .query_one(
                    "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1",
                    &[&db.name],
                )
                .await
                .unwrap()
                .get(0);
            (status.as_deref() == Some("lost")).then_some(())
        }
    })
    .await;

    let text = definite_error(db.config(&[]), position.clone()).await;
    for part in [
        format!("replication slot `{}` was invalidated", db.name),
        "wal_status = lost".into(),
        format!("pg_drop_replication_slot('{}')", db.name),
        "snapshot.mode=when_needed".into(),
        "max_slot_wal_keep_size".into(),
    ] {
        assert!(text.contains(&part), "{part}: {text}");
    }

    resnapshot_loses_nothing(&db, &client, position).await;
    let status: Option<String> = admin
        .query_one(
            "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1",
            &[&db.name],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(
        status.as_deref(),
        Some("lost"),
        "a new slot replaced the lost one"
    );
    db.drop().await;
}

fn int(row: &siphon::event::Row, i: usize) -> i64 {
    match &row.0[i] {
        Value::Int64(n) => *n,
        Value::Int32(n) => i64::from(*n),
        other => panic!("not an int: {other:?}"),
    }
}

#[tokio::test]
async fn tables_dropped_or_renamed_before_decoding_are_delivered_by_their_relation_message() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(&format!(
            "{ITEMS}; CREATE TABLE doomed (id int PRIMARY KEY, label text NOT NULL); \
             CREATE TABLE old_name (id int PRIMARY KEY, n bigint)"
        ))
        .await
        .unwrap();
    let position = stream_then_stop(&db, &client).await;

    // Written while the connector is stopped, then dropped or renamed before it decodes them.
    client
        .batch_execute(
            "INSERT INTO doomed VALUES (1, 'a'), (2, 'b'); UPDATE doomed SET label = 'c' WHERE id = 2; \
             DELETE FROM doomed WHERE id = 1; INSERT INTO old_name VALUES (7, 70); \
             DROP TABLE doomed; ALTER TABLE old_name RENAME TO new_name; \
             INSERT INTO new_name VALUES (8, 80); INSERT INTO items VALUES (2, 2, 'last')",
        )
        .await
        .unwrap();

    let running = Running::start(db.config(&[("snapshot.mode", "never")]), Some(position));
    let events: Vec<ChangeEvent> = running.wait_for_events("the changes", 7).await;
    let summary: Vec<(String, Op, i64)> = events
        .iter()
        .map(|e| {
            let row = e.after.as_ref().or(e.before.as_ref()).unwrap();
            (e.table.id.to_string(), e.op, int(row, 0))
        })
        .collect();
    let expected: Vec<(String, Op, i64)> = [
        ("public.doomed", Op::Create, 1),
        ("public.doomed", Op::Create, 2),
        ("public.doomed", Op::Update, 2),
        ("public.doomed", Op::Delete, 1),
        ("public.old_name", Op::Create, 7),
        ("public.new_name", Op::Create, 8),
        ("public.items", Op::Create, 2),
    ]
    .into_iter()
    .map(|(t, op, id)| (t.to_owned(), op, id))
    .collect();
    assert_eq!(summary, expected);
    // The dropped table's columns and key come from the relation message.
    let doomed = &events[2];
    let names: Vec<_> = doomed
        .table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["id", "label"]);
    assert_eq!(doomed.table.primary_key, [0]);
    assert_eq!(
        doomed.after.as_ref().unwrap().0[1],
        Value::Text("c".into()),
        "{doomed:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.assert_alive();
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn server_errors_show_the_servers_message_sqlstate_and_fix() {
    let db = TestDb::create().await;
    let missing = format!("{}_missing", db.name);
    let running = Running::start(db.config(&[("database.dbname", missing.as_str())]), None);
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    // 3D000 (invalid catalog name) is definite: retrying cannot create the database.
    assert!(!err.is_transient(), "{err}");
    let text = err.to_string();
    eprintln!("observed: {text}");
    for part in [missing.as_str(), "SQLSTATE 3D000", "check database.dbname"] {
        assert!(text.contains(part), "{part}: {text}");
    }
    db.drop().await;
}

#[tokio::test]
async fn a_slot_name_taken_in_another_database_is_definite_with_the_fix() {
    let db = TestDb::create().await;
    // Slot names are server-wide: this one lives in the `postgres` database.
    pg::connect(&db.admin_url)
        .await
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&db.name],
        )
        .await
        .unwrap();
    let running = Running::start(db.config(&[]), None);
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(!err.is_transient(), "{err}");
    let text = err.to_string();
    eprintln!("observed: {text}");
    for part in [
        db.name.as_str(),
        "SQLSTATE 42710",
        "choose another slot.name",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    db.drop().await;
}
