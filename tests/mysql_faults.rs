//! MySQL/MariaDB reader faults and bad input against the harness's real MariaDB: sessions
//! writing with `binlog_row_image=MINIMAL`/`NOBLOB` or `binlog_format=STATEMENT`, the server's
//! 1236 errors (a binlog that ends before the committed position, another replica with the
//! same server id), and the snapshot's global read lock behind a long-running statement.

mod common;
mod mysql;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::wait_for;
use mysql::{Running, TIMEOUT, TestDb, exec};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStreamRequest, Conn};
use siphon::event::{Op, Value};
use siphon::mysql_binlog::{MySqlError, MySqlSource};
use siphon::offsets::{MySqlPosition, Position};
use siphon::source::ReaderObserver;

/// The reader's definite error, within the test timeout.
async fn definite_error(running: Running) -> MySqlError {
    let err = tokio::time::timeout(TIMEOUT, running.reader)
        .await
        .expect("the reader gives up in time")
        .expect("the reader does not panic")
        .expect_err("the reader fails");
    eprintln!("the reader failed with: {err}");
    assert!(!err.is_transient(), "a definite error: {err}");
    err
}

fn values(row: &Option<siphon::event::Row>) -> Vec<Value> {
    row.as_ref().expect("a row image").0.clone()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Values land on their own columns whatever the session's row image: MINIMAL's before image
/// (the key only) leaves the other columns NULL or unavailable, NOBLOB's unchanged TEXT is
/// unavailable, and an after image without every column is a definite error naming the table
/// and the columns.
#[tokio::test]
async fn minimal_and_noblob_row_images_never_shift_values() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 7, \
         b VARCHAR(10) NOT NULL, doc TEXT); \
         INSERT INTO t VALUES (1, 1, 'one', 'd1'), (2, 2, 'two', 'd2'), (3, 3, 'three', 'd3');",
    )
    .await;
    let running = Running::start(db.config(&[]), None);
    running.wait_for_events("the snapshot", 3).await;

    exec(
        &mut conn,
        "SET SESSION binlog_row_image = 'MINIMAL'; DELETE FROM t WHERE id = 1; \
         SET SESSION binlog_row_image = 'NOBLOB'; UPDATE t SET a = 20 WHERE id = 2; \
         SET SESSION binlog_row_image = 'MINIMAL'; INSERT INTO t VALUES (4, 4, 'four', 'd4');",
    )
    .await;
    let events = running.wait_for_events("three changes", 6).await;
    let (delete, update, insert) = (&events[3], &events[4], &events[5]);
    assert_eq!(delete.op, Op::Delete);
    assert_eq!(
        values(&delete.before),
        [
            Value::Int32(1),
            Value::Null,
            Value::Null,
            Value::Unavailable
        ]
    );
    assert_eq!(update.op, Op::Update);
    assert_eq!(
        values(&update.before),
        [
            Value::Int32(2),
            Value::Int32(2),
            text("two"),
            Value::Unavailable
        ]
    );
    assert_eq!(
        values(&update.after),
        [
            Value::Int32(2),
            Value::Int32(20),
            text("two"),
            Value::Unavailable
        ]
    );
    assert_eq!(insert.op, Op::Create);
    assert_eq!(
        values(&insert.after),
        [Value::Int32(4), Value::Int32(4), text("four"), text("d4")]
    );

    // MINIMAL logs only the changed column `b` of the new row.
    exec(
        &mut conn,
        "SET SESSION binlog_row_image = 'MINIMAL'; UPDATE t SET b = 'x' WHERE id = 3;",
    )
    .await;
    let err = definite_error(running).await;
    assert!(
        matches!(err, MySqlError::IncompleteRowImage { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    for needle in [
        &format!("`{}.t`", db.name),
        "`a`",
        "binlog_row_image=MINIMAL",
        "binlog_row_image=FULL",
    ] {
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
    db.drop().await;
}

/// DML that a session logged as a statement has no rows to deliver: on an uncaptured table it
/// is passed over, on a captured one it is a definite error naming the table and statement.
#[tokio::test]
async fn statement_format_dml_on_a_captured_table_is_a_definite_error() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY, v INT); CREATE TABLE other (id INT PRIMARY KEY);",
    )
    .await;
    let excluded = format!("{}.other", db.name);
    let running = Running::start(db.config(&[("table.exclude.list", &excluded)]), None);
    // Read in the snapshot or the stream: either way the reader's start point is fixed.
    exec(&mut conn, "INSERT INTO t VALUES (10, 1)").await;
    running.wait_for_events("the first row", 1).await;
    exec(
        &mut conn,
        "SET SESSION binlog_format = 'STATEMENT'; INSERT INTO other VALUES (1); \
         SET SESSION binlog_format = 'ROW'; INSERT INTO t VALUES (11, 1);",
    )
    .await;
    let events = running.wait_for_events("the row-logged insert", 2).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].op, Op::Create);
    assert_eq!(events[1].table.id.name, "t");

    exec(
        &mut conn,
        "SET SESSION binlog_format = 'STATEMENT'; UPDATE t SET v = 2 WHERE id = 10;",
    )
    .await;
    let err = definite_error(running).await;
    assert!(matches!(err, MySqlError::StatementDml { .. }), "{err:?}");
    let message = err.to_string();
    for needle in [
        &format!("`{}.t`", db.name),
        "UPDATE t SET v = 2 WHERE id = 10",
        "binlog_format=ROW",
    ] {
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
    db.drop().await;
}

/// LOAD DATA logged as a statement refers to a file, not rows: a definite error too.
#[tokio::test]
async fn statement_format_load_data_is_a_definite_error() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    let file = format!("/tmp/{}.tsv", db.name);
    exec(
        &mut conn,
        &format!(
            "CREATE TABLE t (id INT PRIMARY KEY); \
             SELECT 1 UNION SELECT 2 INTO OUTFILE '{file}';"
        ),
    )
    .await;
    let running = Running::start(db.config(&[]), None);
    // Read in the snapshot or the stream: either way the reader's start point is fixed.
    exec(&mut conn, "INSERT INTO t VALUES (100)").await;
    running.wait_for_events("the first row", 1).await;
    exec(
        &mut conn,
        &format!(
            "SET SESSION binlog_format = 'STATEMENT'; LOAD DATA INFILE '{file}' INTO TABLE t;"
        ),
    )
    .await;
    let err = definite_error(running).await;
    let _ = std::fs::remove_file(&file);
    assert!(matches!(err, MySqlError::StatementDml { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("`{}.t`", db.name)) && message.contains("LOAD DATA"),
        "{message}"
    );
    db.drop().await;
}

/// A committed position past the end of its binlog file, or GTIDs the server never wrote: the
/// server lost its binlog tail (or is another server), told apart from a purged binlog; with
/// `snapshot.mode=when_needed` the short file leads to a new snapshot instead.
#[tokio::test]
async fn a_binlog_that_ends_before_the_committed_position_is_not_called_purged() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);",
    )
    .await;
    let (file, pos): (String, u64) = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .map(|row: mysql_async::Row| (row.get(0).unwrap(), row.get(1).unwrap()))
        .unwrap();
    let at = |pos: u64, gtids: Option<&str>| {
        Position::Mysql(MySqlPosition {
            file: file.clone(),
            pos,
            skip_events: 0,
            skip_rows: 0,
            gtids: None,
            mariadb_gtids: gtids.map(|g| g.parse().unwrap()),
            snapshot: None,
        })
    };

    let beyond = pos + 1_000_000;
    let running = Running::start(db.config(&[]), Some(at(beyond, None)));
    let err = definite_error(running).await;
    assert!(matches!(err, MySqlError::BinlogTailLost(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{file}:{beyond}")) && message.contains("bytes"),
        "{message}"
    );

    // GTIDs ahead of every one the server has: the server's own 1236.
    let current: String = conn
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .unwrap()
        .unwrap();
    let ahead: Vec<String> = current
        .split(',')
        .map(|g| {
            let (prefix, seq) = g.rsplit_once('-').unwrap();
            format!("{prefix}-{}", seq.parse::<u64>().unwrap() + 1_000_000)
        })
        .collect();
    let running = Running::start(db.config(&[]), Some(at(pos, Some(&ahead.join(",")))));
    let err = definite_error(running).await;
    assert!(matches!(err, MySqlError::BinlogTailLost(_)), "{err:?}");
    assert!(
        err.to_string().contains("not in the master's binlog"),
        "{err}"
    );

    let running = Running::start(
        db.config(&[("snapshot.mode", "when_needed")]),
        Some(at(beyond, None)),
    );
    let events = running.wait_for_events("a new snapshot", 1).await;
    assert_eq!(events[0].op, Op::Read);
    running.stop().await;
    db.drop().await;
}

/// Another replica registering with the connector's server id makes the server drop the
/// connector's stream: a definite error naming `database.server.id`, not a reconnect that
/// would drop the other one in turn.
#[tokio::test]
async fn another_replica_with_the_same_server_id_is_a_definite_error() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(&mut conn, "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let running = Running::start(db.config(&[]), None);
    exec(&mut conn, "INSERT INTO t VALUES (1)").await;
    running.wait_for_events("the first row", 1).await;
    // A streamed row: the connector's replica connection is registered.
    exec(&mut conn, "INSERT INTO t VALUES (2)").await;
    let events = running.wait_for_events("the stream", 2).await;
    assert_eq!(events[1].op, Op::Create);

    let (file, pos): (String, u64) = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .map(|row: mysql_async::Row| (row.get(0).unwrap(), row.get(1).unwrap()))
        .unwrap();
    let other: Conn = db.client().await;
    let _other_stream = other
        .get_binlog_stream(
            BinlogStreamRequest::new(db.server_id)
                .with_filename(file.as_bytes())
                .with_pos(pos),
        )
        .await
        .unwrap();
    let err = definite_error(running).await;
    assert!(
        matches!(err, MySqlError::DuplicateServerId { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("database.server.id {}", db.server_id)),
        "{err}"
    );
    db.drop().await;
}

/// Records the reader's transient errors.
#[derive(Default, Clone)]
struct Retries(Arc<Mutex<Vec<String>>>);

impl ReaderObserver for Retries {
    fn retrying(&self, error: &dyn std::fmt::Display) {
        self.0.lock().unwrap().push(error.to_string());
    }
}

/// Runs the reader of `config` under the reconnect loop, recording its retries.
fn start_observed(config: siphon::config::ConnectorConfig, retries: Retries) -> Running {
    Running::spawn(
        None,
        Arc::default(),
        usize::MAX,
        move |tx, committed| async move {
            let siphon::config::SourceOptions::MySql(options) = &config.source else {
                panic!("not a MySql connector")
            };
            let source = MySqlSource {
                config: &config,
                options,
            };
            siphon::source::run(&source, None, tx, committed, &retries).await
        },
    )
}

/// How long an insert into `table` takes.
async fn timed_insert(conn: &mut Conn, table: &str, id: i64) -> Duration {
    let start = Instant::now();
    exec(conn, &format!("INSERT INTO {table} VALUES ({id})")).await;
    start.elapsed()
}

/// `extended` takes the global read lock on MariaDB too: behind a long-running UPDATE it
/// gives up after `snapshot.lock.timeout.ms`, naming the blocking statement and the key, so
/// writes wait no longer than that; the snapshot is retried and succeeds once the statement
/// ends. With the default `minimal`, MariaDB takes no lock at all.
#[tokio::test]
async fn the_snapshot_lock_waits_no_longer_than_its_limit() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 1); \
         CREATE TABLE w (id INT PRIMARY KEY);",
    )
    .await;
    let mut blocker = db.client().await;
    let long_update = tokio::spawn(async move {
        exec(&mut blocker, "UPDATE t SET v = v + SLEEP(8)").await;
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let retries = Retries::default();
    let config = db.config(&[
        ("snapshot.locking.mode", "extended"),
        ("snapshot.lock.timeout.ms", "2000"),
        ("table.include.list", &format!("{}.w", db.name)),
    ]);
    let running = start_observed(config, retries.clone());
    let mut admin = db.client().await;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        running.assert_alive();
        let waiting: Option<u64> = admin
            .query_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE INFO = 'FLUSH TABLES WITH READ LOCK'",
            )
            .await
            .unwrap();
        if waiting == Some(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the snapshot never asked for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let blocked = timed_insert(&mut conn, "w", 1).await;
    eprintln!("an insert waited {blocked:?} for the snapshot's lock");
    assert!(
        blocked < Duration::from_millis(2000 + 700),
        "writes waited {blocked:?}, longer than snapshot.lock.timeout.ms"
    );
    let message = wait_for("a lock timeout", TIMEOUT, || {
        let first = retries.0.lock().unwrap().first().cloned();
        async move { first }
    })
    .await;
    eprintln!("the snapshot gave up with: {message}");
    for needle in [
        "snapshot.lock.timeout.ms=2000",
        "UPDATE t SET v = v + SLEEP(8)",
        "snapshot.locking.mode=none",
    ] {
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
    assert!(
        !message.contains("INSERT INTO w"),
        "the write the lock blocked is not what blocked the lock: {message}"
    );

    // The statement ends, a retry takes the lock and reads `w`, then releases the lock.
    long_update.await.unwrap();
    let events = running.wait_for_events("the snapshot of w", 1).await;
    assert_eq!(events[0].op, Op::Read);
    let after = timed_insert(&mut conn, "w", 2).await;
    assert!(
        after < Duration::from_secs(2),
        "the lock was released: {after:?}"
    );
    running.wait_for_events("the streamed insert", 2).await;
    running.stop().await;

    // minimal on MariaDB: no lock, so the long statement is no obstacle.
    let mut blocker = db.client().await;
    let long_update = tokio::spawn(async move {
        exec(&mut blocker, "UPDATE t SET v = v + SLEEP(5)").await;
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let retries = Retries::default();
    let running = start_observed(
        db.config(&[("table.include.list", &format!("{}.w", db.name))]),
        retries.clone(),
    );
    running
        .wait_for_events("the snapshot without a lock", 2)
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the snapshot did not wait for the running statement: {:?}",
        start.elapsed()
    );
    assert!(retries.0.lock().unwrap().is_empty());
    assert!(!long_update.is_finished());
    long_update.await.unwrap();
    running.stop().await;
    db.drop().await;
}
