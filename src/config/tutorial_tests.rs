//! The connector configs of Debezium's tutorial (debezium-examples `tutorial/register-*.json`,
//! Debezium 2.x/3.x), as a Debezium user posts them: each is accepted unchanged, and what
//! Siphon does not need is reported as a notice instead of refused.

use std::collections::BTreeMap;

use super::*;

fn config(json: &str) -> Result<ConnectorConfig, ConfigErrors> {
    let body: serde_json::Value = serde_json::from_str(json).unwrap();
    let map: BTreeMap<String, String> = body["config"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    ConnectorConfig::from_map(body["name"].as_str().unwrap(), &map)
}

/// The keys every MySQL-family tutorial config has, for `class`.
fn binlog_tutorial(class: &str, extra: &str) -> String {
    format!(
        r#"{{"name": "inventory-connector", "config": {{
            "connector.class": "{class}", "tasks.max": "1",
            "database.hostname": "mysql", "database.port": "3306",
            "database.user": "debezium", "database.password": "dbz",
            "database.server.id": "184054", "topic.prefix": "dbserver1",
            "database.include.list": "inventory",
            "schema.history.internal.kafka.bootstrap.servers": "kafka:9092",
            "schema.history.internal.kafka.topic": "schema-changes.inventory"{extra}}}}}"#
    )
}

#[test]
fn the_mysql_and_mariadb_tutorials_are_accepted_with_notices_for_schema_history() {
    for class in [
        "io.debezium.connector.mysql.MySqlConnector",
        "io.debezium.connector.mariadb.MariaDbConnector",
    ] {
        let c = config(&binlog_tutorial(class, "")).unwrap_or_else(|e| panic!("{class}: {e}"));
        assert_eq!(c.topic_prefix, "dbserver1");
        let keys: Vec<_> = c.notices.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "schema.history.internal.kafka.bootstrap.servers",
                "schema.history.internal.kafka.topic"
            ]
        );
        assert!(
            c.notices[0].message.contains("keeps no schema history"),
            "{}",
            c.notices[0].message
        );
    }
}

#[test]
fn the_mysql_avro_tutorial_is_accepted() {
    let extra = r#",
        "key.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "key.converter.schema.registry.url": "http://schema-registry:8081",
        "value.converter.schema.registry.url": "http://schema-registry:8081""#;
    let c = config(&binlog_tutorial(
        "io.debezium.connector.mysql.MySqlConnector",
        extra,
    ))
    .unwrap();
    assert_eq!(c.notices.len(), 2);
}

#[test]
fn the_postgres_and_mongodb_tutorials_are_accepted_without_notices() {
    let pg = config(
        r#"{"name": "inventory-connector", "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1", "database.hostname": "postgres", "database.port": "5432",
            "database.user": "postgres", "database.password": "postgres",
            "database.dbname": "postgres", "topic.prefix": "dbserver1",
            "schema.include.list": "inventory"}}"#,
    )
    .unwrap();
    assert!(pg.notices.is_empty());
    let mongo = config(
        r#"{"name": "inventory-connector", "config": {
            "connector.class": "io.debezium.connector.mongodb.MongoDbConnector",
            "tasks.max": "1",
            "mongodb.connection.string": "mongodb://mongodb:27017/?replicaSet=rs0",
            "topic.prefix": "dbserver1", "mongodb.user": "debezium",
            "mongodb.password": "dbz", "database.include.list": "inventory"}}"#,
    )
    .unwrap();
    assert!(mongo.notices.is_empty());
}

#[test]
fn debezium_1_keys_are_refused_naming_their_new_names() {
    let e = config(
        r#"{"name": "inventory-connector", "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "postgres", "database.user": "postgres",
            "database.password": "postgres", "database.dbname": "postgres",
            "database.server.name": "dbserver1", "schema.whitelist": "inventory"}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("database.server.name: is Debezium 1.x's name, renamed `topic.prefix`"),
        "{e}"
    );
    assert!(e.contains("renamed `schema.include.list`"), "{e}");
    // topic.prefix itself is then missing, and said so.
    assert!(e.contains("topic.prefix"), "{e}");
}

#[test]
fn mysql_truncate_events_and_unknown_types_are_debeziums_keys() {
    let c = config(&binlog_tutorial(
        "io.debezium.connector.mysql.MySqlConnector",
        r#", "skipped.operations": "none", "include.unknown.datatypes": "true""#,
    ))
    .unwrap();
    assert!(!c.skipped_operations.skips(crate::event::Op::Truncate));
    assert!(matches!(&c.source, SourceOptions::MySql(my) if my.include_unknown_datatypes));
    let c = config(&binlog_tutorial(
        "io.debezium.connector.mysql.MySqlConnector",
        "",
    ))
    .unwrap();
    assert!(c.skipped_operations.skips(crate::event::Op::Truncate));
    assert!(matches!(&c.source, SourceOptions::MySql(my) if !my.include_unknown_datatypes));
    let e = config(&binlog_tutorial(
        "io.debezium.connector.mysql.MySqlConnector",
        r#", "include.unknown.datatypes": "maybe""#,
    ))
    .unwrap_err();
    assert_eq!(e.keys(), ["include.unknown.datatypes"]);
}
