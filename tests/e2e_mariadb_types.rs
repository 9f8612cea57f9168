//! End to end for MariaDB's UUID/INET6, a non-UTF-8 charset and TRUNCATE TABLE: `siphon run`
//! into the real broker and registry, read back by the Python consumer with the registry's
//! AvroDeserializer. The UUID schema is Debezium's `io.debezium.data.Uuid` string
//! (`UuidColumnIT`); the truncate record is Debezium's (`shouldEmitTruncateOperation`: op
//! `t`, before and after null; its key is null, as for PostgreSQL).

mod common;
mod mysql;

use common::consume::{python_consume, registered_row_fields};
use common::process::SiphonProcess;
use common::{Server, server};
use mysql::{TestDb, exec};
use serde_json::{Value as Json, json};

#[tokio::test]
async fn uuid_inet6_charsets_and_truncate_reach_the_avro_consumer() {
    let db = TestDb::create().await;
    let mut conn = db.client().await;
    exec(
        &mut conn,
        "CREATE TABLE t (id INT PRIMARY KEY, u UUID NOT NULL, ip INET6, \
         name VARCHAR(20) CHARACTER SET cp1251); \
         INSERT INTO t VALUES (1, '01020304-0506-0708-090a-0b0c0d0e0f10', '::ffff:1.2.3.4', 'Привет')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let config = db.connector_toml(&prefix, "\"skipped.operations\" = \"none\"");
    let (kafka, registry) = (server(Server::Kafka), server(Server::Registry));
    let _siphon = SiphonProcess::start(
        dir.path(),
        &config,
        &[
            ("SIPHON_KAFKA_BOOTSTRAP", kafka.as_str()),
            ("SIPHON_SCHEMA_REGISTRY_URL", registry.as_str()),
        ],
    );
    let topic = format!("{prefix}.{}.t", db.name);
    let read = python_consume(&topic, 1);
    assert_eq!(read[0]["value"]["op"], "r");
    exec(
        &mut conn,
        "INSERT INTO t VALUES (2, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::1', 'Мир'); \
         TRUNCATE TABLE t; \
         INSERT INTO t VALUES (3, '00000000-0000-0000-0000-000000000001', NULL, NULL)",
    )
    .await;
    let records = python_consume(&topic, 4);
    let ops: Vec<&str> = records
        .iter()
        .map(|r| r["value"]["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["r", "c", "t", "c"]);
    assert_eq!(
        records[0]["value"]["after"],
        json!({"id": 1, "u": "01020304-0506-0708-090a-0b0c0d0e0f10", "ip": "::ffff:1.2.3.4", "name": "Привет"})
    );
    assert_eq!(
        records[1]["value"]["after"],
        json!({"id": 2, "u": "ffffffff-ffff-ffff-ffff-ffffffffffff", "ip": "2001:db8::1", "name": "Мир"})
    );
    let truncate = &records[2];
    assert_eq!(truncate["key"], Json::Null);
    assert_eq!(truncate["value"]["before"], Json::Null);
    assert_eq!(truncate["value"]["after"], Json::Null);
    assert_eq!(truncate["value"]["source"]["table"], "t");
    assert_eq!(truncate["value"]["source"]["snapshot"], "false");
    assert_eq!(records[3]["value"]["after"]["id"], 3);

    // The value schema names the UUID as Debezium does.
    let fields = registered_row_fields(&registry, &topic).await;
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap().clone();
    let u = field("u")["type"].clone();
    assert_eq!(u["type"], "string", "{u}");
    assert_eq!(u["connect.name"], "io.debezium.data.Uuid", "{u}");
    assert_eq!(field("ip")["type"], json!(["null", "string"]));
    drop(_siphon);
    db.drop().await;
}
