use super::*;
use crate::config::SnapshotLocking;
use crate::config::keys::{AVRO_CONVERTER, edit_distance, is_secret_key};
use crate::event::TableId;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pg_base() -> BTreeMap<String, String> {
    map(&[
        (
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector",
        ),
        ("database.hostname", "db"),
        ("database.user", "postgres"),
        ("database.password", "s3cret"),
        ("database.dbname", "inventory"),
        ("topic.prefix", "dbserver1"),
    ])
}

fn errors(name: &str, m: &BTreeMap<String, String>) -> ConfigErrors {
    ConnectorConfig::from_map(name, m).unwrap_err()
}

#[test]
fn debezium_postgres_json_is_accepted_with_debezium_defaults() {
    let mut m = pg_base();
    m.insert("plugin.name".into(), "pgoutput".into());
    m.insert("tasks.max".into(), "1".into());
    m.insert("key.converter".into(), AVRO_CONVERTER.into());
    m.insert(
        "key.converter.schema.registry.url".into(),
        "http://registry:8081".into(),
    );
    let c = ConnectorConfig::from_map("inventory", &m).unwrap();
    assert_eq!(c.class, ConnectorClass::Postgres);
    let SourceOptions::Postgres(pg) = &c.source else {
        panic!("{:?}", c.source)
    };
    let db = &pg.database;
    assert_eq!((db.hostname.as_str(), db.port), ("db", 5432));
    assert_eq!(pg.dbname, "inventory");
    assert_eq!(pg.slot_name, "debezium");
    assert_eq!(pg.publication_name, "dbz_publication");
    assert_eq!(
        pg.publication_autocreate_mode,
        PublicationAutocreateMode::AllTables
    );
    assert_eq!(c.snapshot_mode, SnapshotMode::Initial);
    assert!(c.tombstones_on_delete && !c.provide_transaction_metadata);
    assert_eq!(c.decimal_handling_mode, DecimalHandlingMode::Precise);
}

#[test]
fn the_three_mistakes_are_all_reported_with_their_keys() {
    let mut m = pg_base();
    m.remove("database.hostname");
    m.insert("database.port".into(), "70000".into());
    m.insert("slot.nmae".into(), "x".into());
    let err = errors("c", &m);
    let mut keys = err.keys();
    keys.sort();
    assert_eq!(keys, ["database.hostname", "database.port", "slot.nmae"]);
    let text = err.to_string();
    assert!(
        text.contains("database.port: `70000` is out of range 1–65535"),
        "{text}"
    );
    assert!(text.contains("did you mean `slot.name`"), "{text}");
    assert!(text.contains("database.hostname: is required"), "{text}");
}

#[test]
fn keys_of_another_family_are_refused_saying_so() {
    let mut m = pg_base();
    m.insert("database.server.id".into(), "5".into());
    let err = errors("c", &m);
    assert_eq!(err.keys(), ["database.server.id"]);
    assert!(err.to_string().contains("not a postgres connector setting"));
}

#[test]
fn unknown_class_is_refused_and_stops_there() {
    let err = errors("c", &map(&[("connector.class", "oracle")]));
    assert_eq!(err.keys(), ["connector.class"]);
    let err = errors("c", &map(&[]));
    assert_eq!(err.keys(), ["connector.class"]);
}

#[test]
fn mysql_requires_server_id_in_range() {
    let base = map(&[
        ("connector.class", "mysql"),
        ("database.hostname", "h"),
        ("database.user", "root"),
        ("topic.prefix", "p"),
    ]);
    assert_eq!(errors("c", &base).keys(), ["database.server.id"]);
    let mut m = base.clone();
    m.insert("database.server.id".into(), "0".into());
    assert_eq!(errors("c", &m).keys(), ["database.server.id"]);
    m.insert("database.server.id".into(), "184054".into());
    m.insert("snapshot.locking.mode".into(), "none".into());
    m.insert("snapshot.mode".into(), "schema_only".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    let SourceOptions::MySql(my) = &c.source else {
        panic!("{:?}", c.source)
    };
    assert_eq!(my.server_id, 184054);
    assert_eq!(my.snapshot_locking, SnapshotLocking::None);
    assert_eq!(my.snapshot_lock_timeout, std::time::Duration::from_secs(10));
    assert_eq!(c.snapshot_mode, SnapshotMode::NoData);
    assert_eq!(my.database.port, 3306);
    for (bad, why) in [("999", "out of range"), ("10s", "not a whole number")] {
        m.insert("snapshot.lock.timeout.ms".into(), bad.into());
        let e = errors("c", &m);
        assert_eq!(e.keys(), ["snapshot.lock.timeout.ms"]);
        assert!(e.to_string().contains(why), "{e}");
    }
    m.insert("snapshot.lock.timeout.ms".into(), "2500".into());
    m.insert("snapshot.locking.mode".into(), "extended".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    let SourceOptions::MySql(my) = &c.source else {
        panic!("{:?}", c.source)
    };
    assert_eq!(
        my.snapshot_lock_timeout,
        std::time::Duration::from_millis(2500)
    );
    assert_eq!(my.snapshot_locking, SnapshotLocking::Extended);
}

#[test]
fn mariadb_class_uses_the_mysql_family() {
    let m = map(&[
        (
            "connector.class",
            "io.debezium.connector.mariadb.MariaDbConnector",
        ),
        ("database.hostname", "h"),
        ("database.user", "root"),
        ("database.server.id", "7"),
        ("topic.prefix", "p"),
        ("include.query", "true"),
    ]);
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    assert_eq!(c.class, ConnectorClass::MariaDb);
    assert!(matches!(&c.source, SourceOptions::MySql(my) if my.include_query));
}

#[test]
fn mongodb_needs_a_connection_string() {
    let base = map(&[("connector.class", "mongodb"), ("topic.prefix", "p")]);
    assert_eq!(errors("c", &base).keys(), ["mongodb.connection.string"]);
    let mut m = base.clone();
    m.insert("mongodb.connection.string".into(), "http://x".into());
    assert_eq!(errors("c", &m).keys(), ["mongodb.connection.string"]);
    m.insert(
        "mongodb.connection.string".into(),
        "mongodb://a:27017/?replicaSet=rs0".into(),
    );
    m.insert("database.hostname".into(), "h".into());
    assert_eq!(errors("c", &m).keys(), ["database.hostname"]);
    m.remove("database.hostname");
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    assert!(c.source.database().is_none());
    let SourceOptions::MongoDb(mongo) = &c.source else {
        panic!("{:?}", c.source)
    };
    assert_eq!(format!("{:?}", mongo.connection_string), "[hidden]");
}

#[test]
fn bad_values_name_key_and_value() {
    let mut m = pg_base();
    for (k, v) in [
        ("snapshot.mode", "sometimes"),
        ("tombstones.on.delete", "yes"),
        ("snapshot.fetch.size", "ten"),
        ("table.include.list", "public.(unclosed"),
        ("topic.prefix", "bad prefix"),
        ("plugin.name", "wal2json"),
        ("slot.name", "Bad-Slot"),
        ("value.converter", "com.example.Converter"),
        ("value.converter.basic.auth", "x"),
        ("key.converter.schema.registry.url", "registry:8081"),
        ("value.converter.basic.auth.user.info", "u:p"),
    ] {
        m.insert(k.into(), v.into());
    }
    let err = errors("c", &m);
    let text = err.to_string();
    for needle in [
        "snapshot.mode: `sometimes` is not one of: always, initial",
        "tombstones.on.delete: `yes` is not true or false",
        "snapshot.fetch.size: `ten` is not a whole number",
        "table.include.list: `public.(unclosed` is not a regular expression",
        "topic.prefix: `bad prefix` has ` `",
        "plugin.name: `wal2json` is not supported",
        "slot.name: `Bad-Slot` must be",
        "value.converter: `com.example.Converter` is not supported",
        "value.converter.basic.auth: is not a supported converter setting",
        "key.converter.schema.registry.url: `registry:8081` is not an http",
        "value.converter.basic.auth.user.info: is not a connector setting in Siphon",
        "set [service.schema_registry] basic_auth_user_info",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert_eq!(err.0.len(), 11, "{text}");
}

#[test]
fn include_and_exclude_lists_are_exclusive() {
    let mut m = pg_base();
    m.insert("table.include.list".into(), "public.a".into());
    m.insert("table.exclude.list".into(), "public.b".into());
    assert_eq!(errors("c", &m).keys(), ["table.exclude.list"]);
}

#[test]
fn message_prefix_lists_filter_postgres_messages_only() {
    let mut m = pg_base();
    m.insert("message.prefix.include.list".into(), "audit.*, cdc".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    assert!(c.filters.includes_message_prefix("audit_log"));
    assert!(c.filters.includes_message_prefix("CDC"));
    assert!(!c.filters.includes_message_prefix("cdc2"));
    assert!(
        ConnectorConfig::from_map("c", &pg_base())
            .unwrap()
            .filters
            .includes_message_prefix("anything")
    );
    m.insert("message.prefix.exclude.list".into(), "x".into());
    assert_eq!(errors("c", &m).keys(), ["message.prefix.exclude.list"]);
}

#[test]
fn queue_must_exceed_batch() {
    let mut m = pg_base();
    m.insert("max.batch.size".into(), "100".into());
    m.insert("max.queue.size".into(), "100".into());
    assert_eq!(errors("c", &m).keys(), ["max.queue.size"]);
}

#[test]
fn inner_name_must_match() {
    let mut m = pg_base();
    m.insert("name".into(), "other".into());
    assert_eq!(errors("c", &m).keys(), ["name"]);
    assert_eq!(errors("", &pg_base()).keys(), ["name"]);
    assert_eq!(errors("a/b", &pg_base()).keys(), ["name"]);
}

#[test]
fn filters_match_whole_names_case_insensitively() {
    let mut m = pg_base();
    m.insert(
        "table.include.list".into(),
        "public.orders, inv\\..*".into(),
    );
    m.insert("column.exclude.list".into(), "public.orders.secret".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    let f = &c.filters;
    assert!(f.includes_table(&TableId::new("public", "orders")));
    assert!(f.includes_table(&TableId::new("PUBLIC", "Orders")));
    assert!(!f.includes_table(&TableId::new("public", "orders_archive")));
    assert!(f.includes_table(&TableId::new("inv", "anything")));
    let orders = TableId::new("public", "orders");
    assert!(!f.includes_column(&orders, "secret"));
    assert!(f.includes_column(&orders, "secret2"));

    let mut m = pg_base();
    m.insert("schema.exclude.list".into(), "audit".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    assert!(!c.filters.includes_table(&TableId::new("audit", "log")));
    assert!(c.filters.includes_table(&TableId::new("public", "log")));
}

#[test]
fn secret_keys_are_recognized() {
    for k in [
        "database.password",
        "ssl.truststore.password",
        "client.secret",
        "mongodb.connection.string",
        "value.converter.basic.auth.user.info",
        "key.converter.bearer.auth.token",
    ] {
        assert!(is_secret_key(k), "{k}");
    }
    assert!(!is_secret_key("database.user"));
    assert_eq!(format!("{:?}", Secret::new("x")), "[hidden]");
}

#[test]
fn edit_distance_counts_edits() {
    assert_eq!(edit_distance("slot.nmae", "slot.name"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("same", "same"), 0);
}

#[test]
fn debug_output_of_a_config_hides_its_secrets() {
    let mut m = pg_base();
    m.insert("database.password".into(), "pw-canary-7731".into());
    let c = ConnectorConfig::from_map("c", &m).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("pw-canary-7731"), "{shown}");
    assert!(shown.contains("[hidden]"), "{shown}");
    let mongo = map(&[
        ("connector.class", "mongodb"),
        ("topic.prefix", "p"),
        (
            "mongodb.connection.string",
            "mongodb://u:mongo-canary-9@h/?replicaSet=rs0",
        ),
    ]);
    let c = ConnectorConfig::from_map("m", &mongo).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("mongo-canary-9"), "{shown}");
}

#[test]
fn slot_drop_on_stop_true_is_refused_with_the_way_out() {
    let mut m = pg_base();
    m.insert("slot.drop.on.stop".into(), "false".into());
    ConnectorConfig::from_map("c", &m).unwrap();
    m.insert("slot.drop.on.stop".into(), "true".into());
    let e = errors("c", &m);
    assert_eq!(e.keys(), ["slot.drop.on.stop"]);
    assert!(e.to_string().contains("pg_drop_replication_slot"), "{e}");
}
