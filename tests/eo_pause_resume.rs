//! The exactly-once issue's reproduction, as a new user would try it: a connector created over
//! the REST API on a 1,000-row table; as soon as its status says RUNNING, 200 inserts, 100
//! single-row updates and a delete of 50 rows; then pause and, two seconds later, resume.
//! Every one of the 1,400 records (snapshot reads, changes, tombstones) must be committed to
//! the topic exactly once, in per-key order.
//!
//! It failed before the status waited for the slot: RUNNING was set before the slot existed,
//! so writes made "once RUNNING" landed before the slot's consistent point and were folded
//! into the snapshot (inserts read as `r`, updates and deletes lost as events).

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, ops_by_key, settled_records};
use common::process::{ApiSiphon, kafka_service};
use common::{Server, server, unique_name};
use pg::TestDb;
use serde_json::json;

#[tokio::test]
async fn writes_made_once_running_survive_pause_and_resume_exactly_once() {
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, v bigint NOT NULL);
         INSERT INTO items SELECT g, 0 FROM generate_series(1, 1000) g;",
    )
    .await
    .unwrap();
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let dir = tempfile::tempdir().unwrap();
    let service = kafka_service(&bootstrap, &registry, &db.name);
    let siphon = ApiSiphon::start(dir.path(), &service, &[]).await;

    let name = unique_name("pause");
    siphon
        .create(&json!({
            "name": name,
            "config": {
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "database.hostname": db.host,
                "database.port": db.port.to_string(),
                "database.user": "postgres",
                "database.dbname": db.name,
                "topic.prefix": db.name,
                "slot.name": db.name,
                "publication.name": db.name,
                "table.include.list": "public.items",
            }
        }))
        .await;
    siphon.wait_state(&name, "RUNNING").await;

    // At once: inserts, single-row updates, a delete, each its own transaction.
    for id in 1001..=1200 {
        sql.execute("INSERT INTO items VALUES ($1, 1)", &[&(id as i64)])
            .await
            .unwrap();
    }
    for id in 1..=100i64 {
        sql.execute("UPDATE items SET v = 2 WHERE id = $1", &[&id])
            .await
            .unwrap();
    }
    sql.execute("DELETE FROM items WHERE id BETWEEN 101 AND 150", &[])
        .await
        .unwrap();
    siphon.put(&name, "pause").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    siphon.put(&name, "resume").await;

    let mut expected = BTreeMap::new();
    for id in 1..=1000i64 {
        let ops = match id {
            1..=100 => "ru",
            101..=150 => "rd-",
            _ => "r",
        };
        expected.insert(id, ops.to_owned());
    }
    for id in 1001..=1200i64 {
        expected.insert(id, "c".to_owned());
    }
    let topic = format!("{}.public.items", db.name);
    let records =
        settled_records(&bootstrap, &registry, &topic, 1400, Duration::from_secs(90)).await;
    assert_exactly(&ops_by_key(&records), &expected);
    let updated: Vec<_> = records.iter().filter(|r| r.op == 'u').collect();
    assert!(
        updated.iter().all(|r| r.v == Some(2)),
        "updates carry v = 2"
    );
    drop(siphon);
    db.drop().await;
}
