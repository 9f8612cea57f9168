//! The exactly-once issue's server faults, on private servers so no other test is disturbed:
//! PostgreSQL fast and immediate restarts mid-stream, and MariaDB `kill -9` in the middle of
//! a transaction, each restarted on the same port while a load keeps writing. What the
//! database committed (read back from its tables at the end) must reach the topic exactly
//! once.

mod common;
mod mysql;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, ops_by_key, settled_records, wait_committed};
use common::private::PrivateServers;
use common::process::{ApiSiphon, shared_kafka_config};
use common::{Server, server};
use mysql_async::prelude::Queryable;

/// The audit: every id in `ids` (what the table holds) in `topic` as exactly one insert.
async fn assert_inserted_once(topic: &str, ids: Vec<i64>) {
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let records = settled_records(
        &bootstrap,
        &registry,
        topic,
        ids.len(),
        Duration::from_secs(120),
    )
    .await;
    let expected: BTreeMap<i64, String> = ids.into_iter().map(|id| (id, "c".to_owned())).collect();
    assert_exactly(&ops_by_key(&records), &expected);
}

/// Inserts `txns` transactions of `rows` rows, reconnecting after the server went away (a
/// statement that failed is not retried: what counts is what the table holds at the end).
async fn pg_load(url: String, txns: i64, rows: i64) {
    let mut client: Option<tokio_postgres::Client> = None;
    for t in 0..txns {
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = loop {
                match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    Ok((c, conn)) => {
                        tokio::spawn(conn);
                        break Some(c);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            };
        }
        let from = t * rows + 1;
        let sql = format!(
            "INSERT INTO rows SELECT g, 0 FROM generate_series({from}, {}) g",
            from + rows - 1
        );
        let _ = client.as_ref().unwrap().batch_execute(&sql).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn postgres_fast_and_immediate_restarts_lose_and_repeat_nothing() {
    let servers = PrivateServers::start(&["pg"]);
    let db = pg::TestDb::create_at(servers.address("SIPHON_TEST_PG_URL")).await;
    db.client()
        .await
        .batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL)")
        .await
        .unwrap();
    let bootstrap = server(Server::Kafka);
    let dir = tempfile::tempdir().unwrap();
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 200"),
    );
    let siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.rows", db.name);

    let load = tokio::spawn(pg_load(db.url.clone(), 400, 20));
    wait_committed(&bootstrap, &topic, 1_000).await;
    servers.restart("pg", "INT").await; // fast shutdown
    wait_committed(&bootstrap, &topic, 3_000).await;
    servers.restart("pg", "QUIT").await; // immediate: crash recovery on start
    load.await.unwrap();

    let ids: Vec<i64> = db
        .client()
        .await
        .query("SELECT id FROM rows", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(ids.len() > 3_000, "the load wrote through the restarts");
    assert_inserted_once(&topic, ids).await;
    drop(siphon);
    db.drop().await;
}

/// MariaDB's load: like [`pg_load`], with a reconnect after the server was killed.
async fn mariadb_load(url: String, txns: i64, rows: i64) {
    let mut conn: Option<mysql_async::Conn> = None;
    for t in 0..txns {
        if conn.is_none() {
            conn = loop {
                match mysql_async::Conn::from_url(&url).await {
                    Ok(c) => break Some(c),
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            };
        }
        let from = t * rows + 1;
        let values: Vec<String> = (from..from + rows).map(|id| format!("({id}, 0)")).collect();
        let sql = format!("INSERT INTO items VALUES {}", values.join(","));
        if conn.as_mut().unwrap().query_drop(sql).await.is_err() {
            conn = None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn mariadb_kill_9_mid_transaction_loses_and_repeats_nothing() {
    let servers = PrivateServers::start(&["mariadb"]);
    let db = mysql::TestDb::create_at(servers.address("SIPHON_TEST_MYSQL_URL")).await;
    let mut conn = db.client().await;
    mysql::exec(
        &mut conn,
        "CREATE TABLE items (id bigint PRIMARY KEY, v bigint NOT NULL)",
    )
    .await;
    let bootstrap = server(Server::Kafka);
    let dir = tempfile::tempdir().unwrap();
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 200"),
    );
    let siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.{}.items", db.name, db.name);

    let load = tokio::spawn(mariadb_load(db.url.clone(), 400, 20));
    wait_committed(&bootstrap, &topic, 1_000).await;
    // A large transaction open on the server when it dies: it must never appear.
    let mut big = db.client().await;
    mysql::exec(&mut big, "BEGIN").await;
    mysql::exec(
        &mut big,
        "INSERT INTO items SELECT 1000000 + seq, 1 FROM seq_1_to_30000",
    )
    .await;
    servers.restart("mariadb", "KILL").await;
    drop(big);
    wait_committed(&bootstrap, &topic, 3_000).await;
    // And once more while the load's transactions stream.
    servers.restart("mariadb", "KILL").await;
    load.await.unwrap();

    let mut conn = db.client().await;
    let ids: Vec<i64> = conn.query("SELECT id FROM items").await.unwrap();
    assert!(ids.len() > 3_000, "the load wrote through the kills");
    assert!(
        ids.iter().all(|id| *id < 1_000_000),
        "the open transaction rolled back"
    );
    assert_inserted_once(&topic, ids).await;
    drop(siphon);
    drop(conn);
    db.drop().await;
}
