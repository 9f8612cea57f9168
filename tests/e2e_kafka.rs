//! End to end, as a user runs it: `siphon run` streams a PostgreSQL table into the real
//! broker and schema registry, and a Python confluent-kafka consumer with the schema
//! registry's AvroDeserializer decodes Debezium-shaped keys and values.

mod common;
mod pg;

use std::time::Duration;

use common::consume::{python_consume, registered_row_fields};
use common::process::SiphonProcess;
use common::{Server, server, wait_for};
use pg::{TIMEOUT, TestDb};
use serde_json::{Value as Json, json};
use siphon::offsets::committed_reader::read_committed;

/// Waits until `topic` holds `n` committed records.
async fn wait_records(what: &str, topic: &str, n: usize) {
    let bootstrap = server(Server::Kafka);
    wait_for(what, TIMEOUT, || {
        let (b, t) = (bootstrap.clone(), topic.to_owned());
        async move {
            let r = read_committed(&b, &t, Duration::from_secs(10)).await.ok()?;
            (r.records().count() >= n).then_some(())
        }
    })
    .await;
}

fn start_siphon(config: &str, dir: &std::path::Path) -> SiphonProcess {
    let (kafka, registry) = (server(Server::Kafka), server(Server::Registry));
    SiphonProcess::start(
        dir,
        config,
        &[
            ("SIPHON_KAFKA_BOOTSTRAP", kafka.as_str()),
            ("SIPHON_SCHEMA_REGISTRY_URL", registry.as_str()),
            ("SIPHON_LOG", "info,siphon=debug"),
        ],
    )
}

#[tokio::test]
async fn python_avro_consumer_reads_debezium_events() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email varchar(100) NOT NULL, score numeric(5,2), joined date);
             INSERT INTO customers VALUES (1, 'ada@example.com', 1.50, '2024-01-02'), (2, 'bob@example.com', NULL, NULL);",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(&prefix, "\"provide.transaction.metadata\" = true");
    let _siphon = start_siphon(&config, dir.path());
    let topic = format!("{prefix}.public.customers");

    // The snapshot's two rows are committed once they show in the topic.
    let bootstrap = server(Server::Kafka);
    wait_records("the snapshot in the topic", &topic, 2).await;
    client
        .batch_execute(
            "INSERT INTO customers VALUES (3, 'cy@example.com', 99.99, '1999-12-31');
             UPDATE customers SET score = 2.25 WHERE id = 1;
             DELETE FROM customers WHERE id = 2;
             UPDATE customers SET id = 30 WHERE id = 3;",
        )
        .await
        .unwrap();

    let records = python_consume(&topic, 9);
    let summary: Vec<String> = records
        .iter()
        .map(|r| {
            let id = &r["key"]["id"];
            match r["value"]["op"].as_str() {
                Some(op) => format!("{op}:{id}"),
                None => format!("tombstone:{id}"),
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            "r:1",
            "r:2",
            "c:3",
            "u:1",
            "d:2",
            "tombstone:2",
            "d:3",
            "tombstone:3",
            "c:30"
        ]
    );

    // The primary-key change's pair carries Debezium's headers, as Kafka Connect's default
    // header converter writes the key struct.
    for (i, header, key) in [
        (6, "__debezium.newkey", r#"{"id":30}"#),
        (7, "__debezium.newkey", r#"{"id":30}"#),
        (8, "__debezium.oldkey", r#"{"id":3}"#),
    ] {
        assert_eq!(records[i]["headers"], json!({ header: key }), "record {i}");
    }
    assert_eq!(records[3]["headers"], json!({}));

    let insert = &records[2]["value"];
    assert_eq!(insert["before"], Json::Null);
    assert_eq!(
        insert["after"],
        json!({"id": 3, "email": "cy@example.com", "score": {"decimal": "99.99"}, "joined": 10956})
    );
    let source = &insert["source"];
    assert_eq!(source["connector"], "postgresql");
    assert_eq!(source["name"], prefix.as_str());
    assert_eq!(source["db"], db.name.as_str());
    assert_eq!(source["schema"], "public");
    assert_eq!(source["table"], "customers");
    assert_eq!(source["snapshot"], "false");
    assert!(source["lsn"].as_i64().unwrap() > 0 && source["txId"].as_i64().is_some());
    assert!(insert["ts_ms"].as_i64().unwrap() >= source["ts_ms"].as_i64().unwrap());

    // Transaction metadata: the block in each streamed event, BEGIN/END in their topic.
    let tx = &insert["transaction"];
    let tx_id = tx["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            tx["total_order"].as_i64(),
            tx["data_collection_order"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        records[0]["value"]["transaction"],
        Json::Null,
        "snapshot reads have none"
    );
    let markers = python_consume(&format!("{prefix}.transaction"), 2);
    assert_eq!(markers[0]["key"], json!({ "id": tx_id }));
    assert_eq!(markers[0]["value"]["status"], "BEGIN");
    assert_eq!(markers[1]["value"]["status"], "END");
    // Source changes: insert, update, delete and the key change (one change, two events).
    assert_eq!(markers[1]["value"]["event_count"], 4);
    assert_eq!(
        markers[1]["value"]["data_collections"],
        json!([{ "data_collection": "public.customers", "event_count": 4 }])
    );

    let read = &records[0]["value"];
    assert_eq!(read["op"], "r");
    assert_eq!(read["source"]["snapshot"], "first");
    assert_eq!(records[1]["value"]["source"]["snapshot"], "last");
    assert_eq!(read["after"]["score"], json!({"decimal": "1.50"}));

    let update = &records[3]["value"];
    assert_eq!(update["after"]["score"], json!({"decimal": "2.25"}));
    let delete = &records[4]["value"];
    assert_eq!(delete["before"]["id"], 2);
    assert_eq!(delete["after"], Json::Null);
    assert_eq!(records[8]["value"]["after"]["id"], 30);

    // The offsets topic holds the connector's position, written in the same transactions.
    let offsets = read_committed(&bootstrap, "siphon-offsets", Duration::from_secs(10))
        .await
        .unwrap();
    let key = siphon::offsets::offset_key(&db.name, &prefix);
    let last = offsets
        .records()
        .filter(|r| r.key.as_deref() == Some(key.as_slice()))
        .last()
        .expect("an offset record for the connector");
    let position = siphon::offsets::Position::from_json(last.value.as_deref().unwrap()).unwrap();
    assert_eq!(position.source_name(), "postgres");
    drop(_siphon);
    db.drop().await;
}

#[tokio::test]
async fn heartbeats_flow_when_nothing_is_captured() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(&prefix, "\"heartbeat.interval.ms\" = 200");
    let _siphon = start_siphon(&config, dir.path());
    let topic = format!("__debezium-heartbeat.{prefix}");
    wait_records("three heartbeats", &topic, 3).await;
    let records = python_consume(&topic, 3);
    assert_eq!(records[0]["key"], json!({ "serverName": prefix }));
    let ts: Vec<i64> = records
        .iter()
        .map(|r| r["value"]["ts_ms"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
    drop(_siphon);
    db.drop().await;
}

/// `skipped.operations = "d"`: deletes (and their tombstones) are left out, taking no place in
/// their transaction's order, and truncates, which the default `t` skips, are written as
/// Debezium's truncate event: a null key, `op: t`, no rows.
#[tokio::test]
async fn skipped_operations_decide_which_changes_are_written() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(
        &prefix,
        "\"skipped.operations\" = \"d\"\n\"provide.transaction.metadata\" = true",
    );
    let _siphon = start_siphon(&config, dir.path());
    let topic = format!("{prefix}.public.a");
    wait_records("the snapshot in the topic", &topic, 1).await;
    client
        .batch_execute(
            "INSERT INTO a VALUES (2); DELETE FROM a WHERE id = 1; TRUNCATE a; INSERT INTO a VALUES (3);",
        )
        .await
        .unwrap();
    client
        .batch_execute("BEGIN; DELETE FROM a WHERE id = 3; INSERT INTO a VALUES (4); COMMIT;")
        .await
        .unwrap();
    let records = python_consume(&topic, 5);
    let summary: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["value"]["op"].as_str().unwrap_or("tombstone"),
                r["key"]
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "r:{\"id\":1}",
            "c:{\"id\":2}",
            "t:null",
            "c:{\"id\":3}",
            "c:{\"id\":4}"
        ]
    );
    // The skipped delete takes no place in its transaction's order (as in Debezium).
    let tx = &records[4]["value"]["transaction"];
    assert_eq!(
        (&tx["total_order"], &tx["data_collection_order"]),
        (&json!(1), &json!(1)),
        "{tx}"
    );
    let truncate = &records[2]["value"];
    assert_eq!(truncate["before"], Json::Null);
    assert_eq!(truncate["after"], Json::Null);
    assert_eq!(truncate["source"]["table"], "a");
    drop(_siphon);
    db.drop().await;
}

/// `pg_logical_emit_message`: each message, inside a transaction or not, is Debezium's
/// `op: m` record on `<prefix>.message`, keyed by its prefix, with the content as bytes;
/// `message.prefix.exclude.list` drops the matching ones (case-insensitively, as Debezium),
/// and a dropped one takes no place in its transaction's order.
#[tokio::test]
async fn logical_decoding_messages_go_to_the_message_topic() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY);")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(
        &prefix,
        "\"provide.transaction.metadata\" = true\n\"message.prefix.exclude.list\" = \"skip.*\"",
    );
    let _siphon = start_siphon(&config, dir.path());
    // Once a first change is in its topic, the stream is running.
    client
        .batch_execute("INSERT INTO t VALUES (1);")
        .await
        .unwrap();
    let table_topic = format!("{prefix}.public.t");
    wait_records("the first change", &table_topic, 1).await;
    client
        .batch_execute(
            "SELECT pg_logical_emit_message(false, 'skip_a', 'excluded');
             SELECT pg_logical_emit_message(false, 'plain', 'one');
             BEGIN; SELECT pg_logical_emit_message(true, 'SKIP_b', 'excluded');
             INSERT INTO t VALUES (2);
             SELECT pg_logical_emit_message(true, 'in_tx', 'two'); COMMIT;",
        )
        .await
        .unwrap();
    let records = python_consume(&format!("{prefix}.message"), 2);
    let plain = &records[0];
    assert_eq!(plain["key"], json!({"prefix": "plain"}));
    let v = &plain["value"];
    assert_eq!(v["op"], "m");
    assert_eq!(
        v["message"],
        json!({"prefix": "plain", "content": {"bytes": "b25l"}})
    );
    assert_eq!(v["source"]["table"], "");
    assert_eq!(v["source"]["schema"], "");
    assert_eq!(v["source"]["txId"], Json::Null);
    assert_eq!(v["transaction"], Json::Null);
    let in_tx = &records[1]["value"];
    assert_eq!(records[1]["key"], json!({"prefix": "in_tx"}));
    assert_eq!(in_tx["message"]["content"], json!({"bytes": "dHdv"}));
    assert!(in_tx["source"]["txId"].as_i64().is_some());
    // The transaction's second event, after the insert.
    assert_eq!(in_tx["transaction"]["total_order"], 2);
    drop(_siphon);
    db.drop().await;
}

/// `ADD COLUMN ... NOT NULL DEFAULT 7`: the new version's field carries the default as
/// Debezium writes it, so it is a BACKWARD-compatible change (the connector failed on it
/// before); a SERIAL key gets Debezium's placeholder default 0.
#[tokio::test]
async fn a_not_null_column_with_a_default_can_be_added() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (id serial PRIMARY KEY, a text); INSERT INTO t (a) VALUES ('x');",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(&prefix, "");
    let _siphon = start_siphon(&config, dir.path());
    let topic = format!("{prefix}.public.t");
    wait_records("the snapshot", &topic, 1).await;
    // The local registry (rivven-schema 0.0.22) refuses every new version of an envelope: its
    // checker does not resolve the named `Value` inside the `after` union ("Writer union
    // variant Ref ... not compatible with any reader variant"), even for a nullable column.
    // So the check is turned off for this subject here, and the compatibility itself is
    // proved with apache-avro's resolution rules in `avro_schema_tests`.
    let registry = server(Server::Registry);
    let put = reqwest::Client::new()
        .put(format!("{registry}/config/{topic}-value"))
        .json(&json!({"compatibility": "NONE"}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{put:?}");
    client
        .batch_execute(
            "ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 7, ADD COLUMN flag boolean NOT NULL DEFAULT true;
             INSERT INTO t (a) VALUES ('y');",
        )
        .await
        .unwrap();
    let records = python_consume(&topic, 2);
    assert_eq!(
        records[1]["value"]["after"],
        json!({"id": 2, "a": "y", "n": 7, "flag": true})
    );
    // The registered schema carries the defaults.
    let value_fields = registered_row_fields(&registry, &topic).await;
    let field = |name: &str| {
        value_fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("n")["default"], json!(7));
    assert_eq!(field("flag")["default"], json!(true));
    assert_eq!(field("id")["default"], json!(0));
    drop(_siphon);
    db.drop().await;
}
