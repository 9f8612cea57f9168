//! End to end for MongoDB, as a user runs it, when `SIPHON_TEST_MONGO_URI` names a replica
//! set: `siphon run` with Debezium's MongoDB connector class snapshots and streams a
//! collection through the real emitter into the broker and the schema registry, and the Python
//! confluent-kafka consumer with the registry's AvroDeserializer decodes Debezium's MongoDB
//! shapes (key `{id}`, `after` as extended JSON, `updateDescription`, the `mongo` source block,
//! a tombstone after the delete).

mod common;
mod mongo;

use common::consume::python_consume;
use common::process::SiphonProcess;
use common::{Server, server};
use mongodb::bson::doc;
use serde_json::Value as Json;

#[tokio::test]
async fn python_avro_consumer_reads_mongodb_events() {
    let Some(uri) = mongo::uri() else { return };
    let db = mongo::TestDb::create(uri).await;
    let coll = db.coll("customers");
    coll.insert_one(doc! {"_id": 1, "name": "Sally", "phone": 123_i64})
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = format!(
        r#"
[[connectors]]
name = "{name}"
[connectors.config]
"connector.class" = "io.debezium.connector.mongodb.MongoDbConnector"
"mongodb.connection.string" = "{uri}"
"topic.prefix" = "{prefix}"
"database.include.list" = "{name}"
"poll.interval.ms" = 20
"#,
        name = db.name,
        uri = db.uri,
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
    let topic = format!("{prefix}.{}.customers", db.name);
    let read = python_consume(&topic, 1);
    assert_eq!(read[0]["value"]["op"], "r");
    coll.insert_one(doc! {"_id": 2, "name": "Anne"})
        .await
        .unwrap();
    coll.update_one(doc! {"_id": 1}, doc! {"$set": {"name": "Mary"}})
        .await
        .unwrap();
    coll.delete_one(doc! {"_id": 2}).await.unwrap();

    let records = python_consume(&topic, 5);
    let summary: Vec<String> = records
        .iter()
        .map(|r| match r["value"]["op"].as_str() {
            Some(op) => format!("{op}:{}", r["key"]["id"].as_str().unwrap()),
            None => format!("tombstone:{}", r["key"]["id"].as_str().unwrap()),
        })
        .collect();
    assert_eq!(summary, ["r:1", "c:2", "u:1", "d:2", "tombstone:2"]);
    let first = &records[0]["value"];
    assert_eq!(
        first["after"],
        r#"{"_id": 1,"name": "Sally","phone": {"$numberLong": "123"}}"#
    );
    assert_eq!(first["source"]["connector"], "mongodb");
    // Debezium's MongoDB snapshot marks its very last document `last` (the others `true`).
    assert_eq!(first["source"]["snapshot"], "last");
    assert_eq!(first["source"]["ord"], -1);
    let update = &records[2]["value"];
    assert_eq!(
        update["updateDescription"]["updatedFields"],
        r#"{"name": "Mary"}"#
    );
    assert_eq!(update["updateDescription"]["removedFields"], Json::Null);
    // change_streams_update_full, Debezium's default: the looked-up document.
    assert_eq!(
        update["after"],
        r#"{"_id": 1,"name": "Mary","phone": {"$numberLong": "123"}}"#
    );
    let source = &update["source"];
    assert_eq!(source["db"], db.name.as_str());
    assert_eq!(source["collection"], "customers");
    assert!(source["ord"].as_i64().unwrap() >= 1);
    assert_eq!(records[3]["value"]["after"], Json::Null);
    drop(_siphon);
    db.drop().await;
}
