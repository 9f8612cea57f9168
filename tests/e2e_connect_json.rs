//! End to end with Kafka Connect's JsonConverter (`key.converter` / `value.converter`, or the
//! service's `converter = "json"`): the topics are read raw from the real broker and every
//! record is the JSON a Kafka Connect worker's JsonConverter writes, with or without the
//! schema, and nothing is registered in the schema registry.

mod common;
mod pg;

use std::time::Duration;

use common::process::SiphonProcess;
use common::{Server, server, wait_for};
use pg::{TIMEOUT, TestDb};
use serde_json::{Value as Json, json};
use siphon::offsets::committed_reader::read_committed;

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// The table's changes: a snapshot read, then an insert, an update and a delete.
async fn capture(db: &TestDb, config: &str, topic: &str) -> Vec<(Option<Json>, Option<Json>)> {
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(5,2));
             INSERT INTO items VALUES (1, 'pen', 1.50);",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let siphon = SiphonProcess::start(dir.path(), config, &[]);
    let bootstrap = server(Server::Kafka);
    let read = |min: usize| {
        let (b, t) = (bootstrap.clone(), topic.to_owned());
        async move {
            let r = read_committed(&b, &t, Duration::from_secs(10)).await.ok()?;
            let records: Vec<_> = r
                .records()
                .map(|r| {
                    let parse = |b: &Option<bytes::Bytes>| {
                        b.as_ref()
                            .map(|b| serde_json::from_slice::<Json>(b).unwrap())
                    };
                    (parse(&r.key), parse(&r.value))
                })
                .collect();
            (records.len() >= min).then_some(records)
        }
    };
    wait_for("the snapshot in the topic", TIMEOUT, || read(1)).await;
    client
        .batch_execute(
            "INSERT INTO items VALUES (2, 'ink', NULL);
             UPDATE items SET price = 2.25 WHERE id = 1;
             DELETE FROM items WHERE id = 2;",
        )
        .await
        .unwrap();
    // r, c, u, d and the delete's tombstone.
    let records = wait_for("the changes in the topic", TIMEOUT, || read(5)).await;
    drop(siphon);
    records
}

/// No subject of the connector's topics exists in the registry.
async fn assert_no_subjects(prefix: &str) {
    let subjects: Vec<String> = reqwest::get(format!("{}/subjects", server(Server::Registry)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours: Vec<&String> = subjects.iter().filter(|s| s.contains(prefix)).collect();
    assert!(ours.is_empty(), "registered: {ours:?}");
}

#[tokio::test]
async fn connector_json_converters_write_schema_and_payload() {
    let db = TestDb::create().await;
    let prefix = db.name.clone();
    // The service converter is Avro (with a registry); the connector's keys override it.
    let config = db.kafka_toml(
        &server(Server::Kafka),
        &server(Server::Registry),
        &format!(
            "\"key.converter\" = \"{JSON_CONVERTER}\"\n\"value.converter\" = \"{JSON_CONVERTER}\"\n\
             \"heartbeat.interval.ms\" = 200"
        ),
    );
    let topic = format!("{prefix}.public.items");
    let records = capture(&db, &config, &topic).await;

    let key_schema = json!({"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],
        "optional":false,"name":format!("{topic}.Key")});
    let row_schema = |field: &str| {
        json!({"type":"struct","fields":[
            {"type":"int32","optional":false,"field":"id"},
            {"type":"string","optional":false,"field":"name"},
            {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
             "version":1,"parameters":{"scale":"2","connect.decimal.precision":"5"},"field":"price"}],
            "optional":true,"name":format!("{topic}.Value"),"field":field})
    };
    let mut ops = Vec::new();
    for (key, value) in &records {
        let key = key.as_ref().expect("a key");
        assert_eq!(key["schema"].to_string(), key_schema.to_string());
        let Some(value) = value else {
            ops.push(format!("tombstone:{}", key["payload"]["id"]));
            continue;
        };
        let schema = &value["schema"];
        assert_eq!(schema["name"], format!("{topic}.Envelope"));
        assert_eq!(
            schema["fields"][0].to_string(),
            row_schema("before").to_string()
        );
        assert_eq!(
            schema["fields"][1].to_string(),
            row_schema("after").to_string()
        );
        let payload = &value["payload"];
        ops.push(format!(
            "{}:{}",
            payload["op"].as_str().unwrap(),
            key["payload"]["id"]
        ));
    }
    assert_eq!(ops, ["r:1", "c:2", "u:1", "d:2", "tombstone:2"]);
    let payload = |i: usize| &records[i].1.as_ref().unwrap()["payload"];
    // numeric(5,2) 1.50: the unscaled 150 as big-endian two's complement, base64.
    assert_eq!(
        payload(0)["after"],
        json!({"id":1,"name":"pen","price":"AJY="})
    );
    assert_eq!(
        payload(1)["after"],
        json!({"id":2,"name":"ink","price":null})
    );
    assert_eq!(payload(2)["after"]["price"], "AOE=");
    assert_eq!(payload(3)["before"]["id"], 2);
    assert_eq!(payload(3)["after"], Json::Null);
    assert_eq!(payload(1)["source"]["table"], "items");

    // Heartbeats follow the connector's converters too.
    let hb = read_committed(
        &server(Server::Kafka),
        &format!("__debezium-heartbeat.{prefix}"),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let first = hb.records().next().expect("a heartbeat");
    let key: Json = serde_json::from_slice(first.key.as_deref().unwrap()).unwrap();
    assert_eq!(
        key,
        json!({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],
            "optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},
            "payload":{"serverName":prefix}})
    );
    assert_no_subjects(&prefix).await;
    db.drop().await;
}

#[tokio::test]
async fn service_json_converter_without_schemas_needs_no_registry() {
    let db = TestDb::create().await;
    let prefix = db.name.clone();
    // No registry anywhere: JSON needs none.
    let config = format!(
        "[service]\nconverter = \"json\"\n[service.kafka]\nbootstrap_servers = \"{}\"\n\
         offsets_topic = \"{prefix}-offsets\"\nconfigs_topic = \"{prefix}-configs\"\n{}",
        server(Server::Kafka),
        db.connector_toml(
            &prefix,
            "\"key.converter.schemas.enable\" = \"false\"\n\
             \"value.converter.schemas.enable\" = \"false\""
        )
    );
    let topic = format!("{prefix}.public.items");
    let records = capture(&db, &config, &topic).await;
    let ops: Vec<String> = records
        .iter()
        .map(|(k, v)| {
            let k = k.as_ref().unwrap();
            assert_eq!(
                k.as_object().unwrap().keys().collect::<Vec<_>>(),
                ["id"],
                "{k}"
            );
            match v {
                Some(v) => {
                    assert!(v.get("schema").is_none(), "{v}");
                    format!("{}:{}", v["op"].as_str().unwrap(), k["id"])
                }
                None => format!("tombstone:{}", k["id"]),
            }
        })
        .collect();
    assert_eq!(ops, ["r:1", "c:2", "u:1", "d:2", "tombstone:2"]);
    let update = records[2].1.as_ref().unwrap();
    assert_eq!(update["before"], Json::Null);
    assert_eq!(update["after"], json!({"id":1,"name":"pen","price":"AOE="}));
    assert_no_subjects(&prefix).await;
    db.drop().await;
}
