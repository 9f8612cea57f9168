//! End to end for MariaDB, as a user runs it: `siphon run` with a `mariadb` connector
//! snapshots and streams a table into the real broker and schema registry, and the Python
//! confluent-kafka consumer with the registry's AvroDeserializer decodes Debezium's MySQL
//! shapes (key, envelope, `io.debezium.connector.mysql.Source`, semantic types).

mod common;
mod mysql;

use common::consume::python_consume;
use common::process::SiphonProcess;
use common::{Server, server};
use mysql::{TestDb, exec};
use serde_json::json;

#[tokio::test]
async fn python_avro_consumer_reads_mariadb_events() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE orders (id INT UNSIGNED PRIMARY KEY, note VARCHAR(40) NOT NULL, \
         amount DECIMAL(10,2), placed DATETIME(3), at TIMESTAMP(6) NULL, kind ENUM('a','b'), \
         doc JSON); \
         SET time_zone = '+00:00'; \
         INSERT INTO orders VALUES (1, 'first', 1.50, '2024-01-02 03:04:05.678', \
         '2024-01-02 03:04:05.123456', 'a', '{\"k\": 1}')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = format!(
        r#"
[[connectors]]
name = "{name}"
[connectors.config]
"connector.class" = "io.debezium.connector.mariadb.MariaDbConnector"
"database.hostname" = "{host}"
"database.port" = {port}
"database.user" = "root"
"database.server.id" = {server_id}
"database.include.list" = "{name}"
"topic.prefix" = "{prefix}"
"poll.interval.ms" = 20
"#,
        name = db.name,
        host = db.host,
        port = db.port,
        server_id = db.server_id,
    );
    let (kafka, registry) = (server(Server::Kafka), server(Server::Registry));
    let _siphon = SiphonProcess::start(
        dir.path(),
        &config,
        &[
            ("SIPHON_KAFKA_BOOTSTRAP", kafka.as_str()),
            ("SIPHON_SCHEMA_REGISTRY_URL", registry.as_str()),
            ("SIPHON_LOG", "info,siphon=debug"),
        ],
    );
    let topic = format!("{prefix}.{}.orders", db.name);
    // The snapshot row first, so the changes below are streamed.
    let read = python_consume(&topic, 1);
    assert_eq!(read[0]["value"]["op"], "r");
    exec(
        &mut conn,
        "INSERT INTO orders VALUES (2, 'second', NULL, NULL, NULL, 'b', NULL); \
         UPDATE orders SET amount = 2.25 WHERE id = 1; \
         DELETE FROM orders WHERE id = 2;",
    )
    .await;

    let records = python_consume(&topic, 5);
    let summary: Vec<String> = records
        .iter()
        .map(|r| match r["value"]["op"].as_str() {
            Some(op) => format!("{op}:{}", r["key"]["id"]),
            None => format!("tombstone:{}", r["key"]["id"]),
        })
        .collect();
    assert_eq!(summary, ["r:1", "c:2", "u:1", "d:2", "tombstone:2"]);

    let first = &records[0]["value"];
    assert_eq!(
        first["after"],
        json!({
            "id": 1,
            "note": "first",
            "amount": {"decimal": "1.50"},
            "placed": 1_704_164_645_678i64,
            "at": "2024-01-02T03:04:05.123456Z",
            "kind": "a",
            "doc": "{\"k\": 1}",
        })
    );
    // The only snapshot row is also its first.
    assert_eq!(first["source"]["snapshot"], "first");
    assert_eq!(first["source"]["server_id"], 0);

    let insert = &records[1]["value"];
    let source = &insert["source"];
    assert_eq!(source["connector"], "mariadb");
    assert_eq!(source["name"], prefix.as_str());
    assert_eq!(source["db"], db.name.as_str());
    assert_eq!(source["table"], "orders");
    assert_eq!(source["snapshot"], "false");
    assert_eq!(source["server_id"], 1);
    assert!(
        source["gtid"].as_str().unwrap().starts_with("0-1-"),
        "{source}"
    );
    assert!(source["file"].as_str().unwrap().contains("bin"), "{source}");
    assert!(source["pos"].as_i64().unwrap() > 0);
    assert_eq!(
        insert["after"],
        json!({"id": 2, "note": "second", "amount": null, "placed": null, "at": null, "kind": "b", "doc": null})
    );
    assert_eq!(
        records[2]["value"]["after"]["amount"],
        json!({"decimal": "2.25"})
    );
    assert_eq!(records[3]["value"]["before"]["id"], 2);
    drop(_siphon);
    db.drop().await;
}
