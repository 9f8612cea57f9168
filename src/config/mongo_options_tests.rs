//! MongoDB settings: Debezium's defaults, every value of each key, and refusals naming the key.

use std::collections::BTreeMap;

use crate::config::{
    CaptureMode, CaptureScope, ConnectorConfig, FullUpdateType, OversizeMode, SourceOptions,
};

use super::MongoOptions;

fn map(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    [
        (
            "connector.class",
            "io.debezium.connector.mongodb.MongoDbConnector",
        ),
        ("topic.prefix", "p"),
        (
            "mongodb.connection.string",
            "mongodb://h:27017/?replicaSet=rs0",
        ),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn options(extra: &[(&str, &str)]) -> MongoOptions {
    let c = ConnectorConfig::from_map("c", &map(extra)).unwrap();
    match c.source {
        SourceOptions::MongoDb(m) => m,
        other => panic!("{other:?}"),
    }
}

fn problems(extra: &[(&str, &str)]) -> Vec<String> {
    let e = ConnectorConfig::from_map("c", &map(extra)).unwrap_err();
    e.keys().iter().map(|k| k.to_string()).collect()
}

#[test]
fn defaults_are_debeziums() {
    let m = options(&[]);
    assert_eq!(
        m.capture_mode,
        CaptureMode {
            update_full: true,
            pre_image: false
        }
    );
    assert_eq!(m.full_update_type, FullUpdateType::Lookup);
    assert_eq!(m.capture_scope, CaptureScope::Deployment);
    assert_eq!(m.oversize, OversizeMode::Fail);
    assert_eq!(m.auth_source, "admin");
    assert!(!m.ssl_enabled);
    assert!(m.user.is_none());
    assert!(m.field_exclusions.is_empty());
}

#[test]
fn every_capture_mode() {
    for (value, update_full, pre_image) in [
        ("change_streams", false, false),
        ("change_streams_update_full", true, false),
        ("change_streams_with_pre_image", false, true),
        ("change_streams_update_full_with_pre_image", true, true),
    ] {
        assert_eq!(
            options(&[("capture.mode", value)]).capture_mode,
            CaptureMode {
                update_full,
                pre_image
            },
            "{value}"
        );
    }
    assert_eq!(problems(&[("capture.mode", "oplog")]), ["capture.mode"]);
    assert_eq!(
        options(&[("capture.mode.full.update.type", "post_image")]).full_update_type,
        FullUpdateType::PostImage
    );
}

#[test]
fn capture_scope_needs_a_matching_target() {
    assert_eq!(
        options(&[
            ("capture.scope", "database"),
            ("capture.target", "inventory")
        ])
        .capture_scope,
        CaptureScope::Database("inventory".into())
    );
    assert_eq!(
        options(&[
            ("capture.scope", "collection"),
            ("capture.target", "inventory.orders")
        ])
        .capture_scope,
        CaptureScope::Collection {
            database: "inventory".into(),
            collection: "orders".into()
        }
    );
    for bad in [
        &[("capture.scope", "database")][..],
        &[("capture.scope", "database"), ("capture.target", "a.b")],
        &[
            ("capture.scope", "collection"),
            ("capture.target", "orders"),
        ],
    ] {
        assert_eq!(problems(bad), ["capture.target"], "{bad:?}");
    }
    assert_eq!(problems(&[("capture.scope", "cluster")]), ["capture.scope"]);
    // As Debezium, a target without a scope that reads it is ignored (with a warning).
    assert_eq!(
        options(&[("capture.target", "inventory")]).capture_scope,
        CaptureScope::Deployment
    );
}

#[test]
fn field_exclusions_match_database_collection_and_path() {
    let m = options(&[(
        "field.exclude.list",
        "inventory.customers.email, *.orders.card.number,inventory.*.secret",
    )]);
    assert!(m.excludes("inventory", "customers", &["email"]));
    assert!(!m.excludes("inventory", "customers", &["name"]));
    assert!(!m.excludes("other", "customers", &["email"]));
    assert!(m.excludes("shop", "orders", &["card", "number"]));
    assert!(!m.excludes("shop", "orders", &["card"]));
    assert!(m.excludes("inventory", "anything", &["secret"]));
    // As Debezium's field selector: namespaces case-insensitively, `*` inside a name.
    assert!(m.excludes("Inventory", "customers", &["email"]));
    let p = options(&[("field.exclude.list", "shop_*.orders.card")]);
    assert!(p.excludes("shop_eu", "orders", &["card"]));
    assert!(!p.excludes("shops", "orders", &["card"]));
    assert_eq!(
        problems(&[("field.exclude.list", "inventory.customers")]),
        ["field.exclude.list"]
    );
    assert_eq!(
        problems(&[("field.exclude.list", "a..b")]),
        ["field.exclude.list"]
    );
}

#[test]
fn oversize_modes() {
    assert_eq!(
        options(&[("cursor.oversize.handling.mode", "split")]).oversize,
        OversizeMode::Split
    );
    assert_eq!(
        options(&[
            ("cursor.oversize.handling.mode", "skip"),
            ("cursor.oversize.skip.threshold", "1048576")
        ])
        .oversize,
        OversizeMode::Skip {
            threshold: 1_048_576
        }
    );
    // As Debezium: skipping needs a threshold.
    assert_eq!(
        problems(&[("cursor.oversize.handling.mode", "skip")]),
        ["cursor.oversize.skip.threshold"]
    );
}

#[test]
fn credentials_and_tls() {
    let m = options(&[
        ("mongodb.user", "debezium"),
        ("mongodb.password", "dbz"),
        ("mongodb.authsource", "users"),
        ("mongodb.ssl.enabled", "true"),
    ]);
    assert_eq!(m.user.as_deref(), Some("debezium"));
    assert_eq!(m.password.expose(), "dbz");
    assert_eq!(format!("{:?}", m.password), "[hidden]");
    assert_eq!(m.auth_source, "users");
    assert!(m.ssl_enabled);
    assert_eq!(problems(&[("mongodb.password", "x")]), ["mongodb.password"]);
    assert_eq!(
        problems(&[("mongodb.ssl.enabled", "maybe")]),
        ["mongodb.ssl.enabled"]
    );
}

#[test]
fn relational_keys_are_refused_by_name() {
    assert_eq!(
        problems(&[("table.include.list", "a.b")]),
        ["table.include.list"]
    );
    assert_eq!(problems(&[("field.renames", "a.b.c:d")]), ["field.renames"]);
}

#[test]
fn a_connection_string_the_driver_cannot_read_is_refused_without_its_password() {
    let mut m = map(&[]);
    m.insert(
        "mongodb.connection.string".into(),
        "mongodb://admin:s3cr3t@h:99999/?replicaSet=rs0".into(),
    );
    let e = ConnectorConfig::from_map("c", &m).unwrap_err();
    assert_eq!(e.keys(), ["mongodb.connection.string"]);
    let text = e.to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(
        super::redact_userinfo("bad admin:s3cr3t x", "mongodb://admin:s3cr3t@h"),
        "bad *** x"
    );
}
