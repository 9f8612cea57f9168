//! Connector plugins, config validation, metrics and the OpenAPI document.

use std::collections::BTreeSet;

use serde_json::json;
use siphon::api::routes;

use crate::{Api, assert_error, mysql};

#[tokio::test]
async fn plugins_are_debeziums_source_classes() {
    let api = Api::new();
    let r = api.get("/connector-plugins").await;
    assert_eq!(r.status, 200);
    let classes: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "source");
            assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
            p["class"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        classes,
        [
            "io.debezium.connector.postgresql.PostgresConnector",
            "io.debezium.connector.mysql.MySqlConnector",
            "io.debezium.connector.mariadb.MariaDbConnector",
            "io.debezium.connector.mongodb.MongoDbConnector",
        ]
    );
}

#[tokio::test]
async fn validate_reports_every_error_in_kafka_connects_shape() {
    let api = Api::new();
    let body = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "name": "v",
        "database.port": "70000",
        "slot.nmae": "x",
        "database.password": "pw",
    })
    .to_string();
    let r = api
        .call(
            "PUT",
            "/connector-plugins/PostgresConnector/config/validate",
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["name"],
        "io.debezium.connector.postgresql.PostgresConnector"
    );
    // database.port, slot.nmae, hostname, user, dbname, topic.prefix.
    assert_eq!(r.json["error_count"], 6, "{}", r.text);
    assert!(
        r.json["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("Connection"))
    );
    let configs = r.json["configs"].as_array().unwrap();
    let errors: usize = configs
        .iter()
        .map(|c| c["value"]["errors"].as_array().unwrap().len())
        .sum();
    assert_eq!(errors, 6);
    let port = configs
        .iter()
        .find(|c| c["definition"]["name"] == "database.port")
        .unwrap();
    assert_eq!(port["value"]["value"], "70000");
    assert_eq!(port["value"]["visible"], true);
    assert_eq!(port["value"]["recommended_values"], json!([]));
    assert!(
        port["value"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("out of range")
    );
    for key in [
        "type",
        "required",
        "default_value",
        "importance",
        "documentation",
        "group",
        "width",
        "display_name",
        "dependents",
        "order",
    ] {
        assert!(
            port["definition"].get(key).is_some(),
            "definition lacks {key}"
        );
    }
    assert!(!r.text.contains("\"pw\""));

    // A valid config: no errors. The class may be left out (taken from the path).
    let good = json!({"name": "g", "database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "t"}).to_string();
    let r = api
        .call(
            "PUT",
            "/connector-plugins/postgres/config/validate",
            Some(&good),
        )
        .await;
    assert_eq!(r.json["error_count"], 0, "{}", r.text);
}

#[tokio::test]
async fn validate_errors() {
    let api = Api::new();
    let r = api
        .call(
            "PUT",
            "/connector-plugins/FileStreamSource/config/validate",
            Some("{}"),
        )
        .await;
    assert_error(&r, 404);
    let r = api
        .call(
            "PUT",
            "/connector-plugins/PostgresConnector/config/validate",
            Some("{"),
        )
        .await;
    assert_error(&r, 400);
    let r = api
        .call(
            "PUT",
            "/connector-plugins/PostgresConnector/config/validate",
            Some(&mysql().to_string()),
        )
        .await;
    assert_error(&r, 400);
}

#[tokio::test]
async fn metrics_are_prometheus_text_per_connector() {
    let api = Api::new();
    api.create_failing("m").await;
    api.wait_state("m", "FAILED").await;
    let r = api.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    for line in [
        "siphon_connector_state{connector=\"m\",state=\"FAILED\"} 1",
        "siphon_connector_errors_total{connector=\"m\"} 1",
        "siphon_connector_events_total{connector=\"m\"} 0",
        "siphon_connector_commit_latency_seconds_count{connector=\"m\"} 0",
    ] {
        assert!(
            r.text.lines().any(|l| l == line),
            "missing {line}:\n{}",
            r.text
        );
    }
}

/// The OpenAPI document lists exactly the routes the router serves, and each route answers
/// its documented method (not 404/405 from the router).
#[tokio::test]
async fn openapi_is_in_step_with_the_routes() {
    let api = Api::new();
    let doc = api.get("/openapi.json").await.json;
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|(r, _)| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, served);
    for (method, path) in &served {
        let concrete = path
            .replace("{name}", "nobody")
            .replace("{task}", "0")
            .replace("{plugin}", "postgres");
        let r = api.call(method, &concrete, Some("{}")).await;
        assert_ne!(r.status, 405, "{method} {path}");
        // 404 only as the API's own "unknown connector", never the router's fallback.
        if r.status == 404 {
            assert!(
                !r.text.contains("no such endpoint"),
                "{method} {path}: {}",
                r.text
            );
        }
        let op = &doc["paths"][path][method.to_ascii_lowercase()];
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
        let code = r.status.as_u16().to_string();
        assert!(
            op["responses"].get(&code).is_some(),
            "{method} {path} answered {code}, undocumented"
        );
    }
}
