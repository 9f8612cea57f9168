//! Hole 2 of the exactly-once issue: a reader reconnect must not confirm to the slot what the
//! emitter has not committed. The broker is stalled (SIGSTOP) while transactions keep coming,
//! so batches are handed over and never committed; the walsender is killed so the reader
//! reconnects from the last batch it handed over; siphon is SIGKILLed; the broker resumes and
//! siphon restarts. The slot's `confirmed_flush_lsn` must never reach the first transaction
//! after the stall (nothing after it was committed), and every row must arrive exactly once.

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, ops_by_key, settled_records};
use common::private::PrivateServers;
use common::process::ApiSiphon;
use common::{Server, server};
use pg::TestDb;

async fn insert_transactions(sql: &tokio_postgres::Client, first: i64, txns: i64, rows: i64) {
    for t in 0..txns {
        let from = first + t * rows;
        sql.batch_execute(&format!(
            "INSERT INTO rows SELECT g, 0 FROM generate_series({from}, {}) g",
            from + rows - 1
        ))
        .await
        .unwrap();
    }
}

async fn current_wal_lsn(sql: &tokio_postgres::Client) -> u64 {
    let row = sql
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap();
    siphon::postgres_wal::parse_lsn(&row.get::<_, String>(0)).unwrap()
}

#[tokio::test]
async fn reconnect_during_a_broker_stall_confirms_nothing_uncommitted() {
    let broker = PrivateServers::start(&["kafka"]);
    let bootstrap = broker.address("SIPHON_TEST_KAFKA");
    let registry = server(Server::Registry);
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL)")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = db.kafka_toml(&bootstrap, &registry, "\"max.batch.size\" = 100");
    let mut siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.rows", db.name);

    // Committed before the stall.
    insert_transactions(&sql, 1, 50, 10).await;
    let before = settled_records(&bootstrap, &registry, &topic, 500, Duration::from_secs(60)).await;
    assert_eq!(before.len(), 500);

    broker.signal("kafka", "STOP");
    // Nothing from here on is committed to Kafka. The slot may still move while the reader
    // is idle (other databases' WAL), but never to or past the commit of the first
    // transaction after the stall: its commit record ends before `bound`.
    insert_transactions(&sql, 501, 1, 10).await;
    let bound = current_wal_lsn(&sql).await;
    insert_transactions(&sql, 511, 99, 10).await;
    // Batches are handed over (and stuck in the producer) ...
    tokio::time::sleep(Duration::from_secs(2)).await;
    // ... the reader reconnects from the last one it handed over, and idles for a few
    // status intervals, as a quiet database would.
    assert!(db.kill_walsender().await, "no walsender to kill");
    let mut highest = 0;
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        highest = highest.max(db.confirmed_flush().await.unwrap_or(0));
    }
    siphon.process.kill();
    assert!(
        highest < bound,
        "confirmed_flush_lsn {} passed the first uncommitted transaction (its commit ends before {})",
        siphon::postgres_wal::format_lsn(highest),
        siphon::postgres_wal::format_lsn(bound)
    );

    broker.signal("kafka", "CONT");
    siphon.kill_and_restart().await;
    let records = settled_records(
        &bootstrap,
        &registry,
        &topic,
        1500,
        Duration::from_secs(120),
    )
    .await;
    let expected: BTreeMap<i64, String> = (1..=1500).map(|id| (id, "c".to_owned())).collect();
    assert_exactly(&ops_by_key(&records), &expected);
    drop(siphon);
    db.drop().await;
}
