//! Listing, creating, reading and reconfiguring connectors.

use serde_json::json;

use crate::{Api, assert_error, mysql, unreachable_pg};

#[tokio::test]
async fn root_lists_the_version() {
    let api = Api::new();
    let r = api.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["version"], env!("CARGO_PKG_VERSION"));
    assert!(r.json.get("commit").is_some() && r.json.get("kafka_cluster_id").is_some());
}

#[tokio::test]
async fn create_then_read_with_secrets_hidden() {
    let api = Api::new();
    assert_eq!(api.get("/connectors").await.json, json!([]));
    let r = api.create("inv", mysql()).await;
    assert_eq!(r.headers["location"], "/connectors/inv");
    assert_eq!(r.json["name"], "inv");
    assert_eq!(r.json["type"], "source");
    assert_eq!(r.json["tasks"], json!([{"connector": "inv", "task": 0}]));
    assert_eq!(r.json["config"]["database.password"], "[hidden]");
    assert_eq!(r.json["config"]["database.server.id"], "7");
    assert_eq!(api.get("/connectors").await.json, json!(["inv"]));
    let info = api.get("/connectors/inv").await;
    assert_eq!(info.json, r.json);
    let config = api.get("/connectors/inv/config").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.json["database.password"], "[hidden]");
    assert_eq!(config.json["name"], "inv");
    assert!(!config.text.contains("secret-pw"));
    // The store keeps the real value, so the connector can start after a restart.
    let stored = std::fs::read_to_string(api.dir.path().join("connectors.json")).unwrap();
    assert!(stored.contains("secret-pw"));
}

#[tokio::test]
async fn list_expands_status_and_info() {
    let api = Api::new();
    api.create_failing("a").await;
    api.wait_state("a", "FAILED").await;
    let status = api.get("/connectors?expand=status").await.json;
    assert_eq!(status["a"]["status"]["connector"]["state"], "FAILED");
    assert!(status["a"].get("info").is_none());
    let info = api.get("/connectors?expand=info").await.json;
    assert_eq!(info["a"]["info"]["name"], "a");
    let both = api.get("/connectors?expand=status&expand=info").await.json;
    assert!(both["a"].get("status").is_some() && both["a"].get("info").is_some());
}

#[tokio::test]
async fn create_refuses_duplicates_with_409() {
    let api = Api::new();
    api.create("a", mysql()).await;
    let body = json!({"name": "a", "config": unreachable_pg()}).to_string();
    let r = api.call("POST", "/connectors", Some(&body)).await;
    assert_error(&r, 409);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    assert_eq!(
        api.get("/connectors/a/config").await.json["connector.class"],
        mysql()["connector.class"]
    );
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let api = Api::new();
    for body in [
        "{\"name\":",
        "[1,2]",
        "{\"name\": \"a\"}",
        "{\"config\": {}}",
    ] {
        let r = api.call("POST", "/connectors", Some(body)).await;
        assert_error(&r, 400);
    }
    let r = api.call("PUT", "/connectors/a/config", Some("nope")).await;
    assert_error(&r, 400);
    assert!(
        api.get("/connectors")
            .await
            .json
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_config_is_422_with_every_problem_and_leaves_nothing() {
    let api = Api::new();
    api.create("good", unreachable_pg()).await;
    api.wait_state("good", "RESTARTING").await;
    let body = json!({"name": "bad", "config": {
        "connector.class": "postgres",
        "database.port": "70000",
        "slot.nmae": "x",
        "snapshot.mode": "sometimes",
        "tombstones.on.delete": null,
    }})
    .to_string();
    let r = api.call("POST", "/connectors", Some(&body)).await;
    assert_error(&r, 422);
    let message = r.json["message"].as_str().unwrap();
    for needle in [
        "database.port",
        "slot.nmae",
        "snapshot.mode",
        "tombstones.on.delete",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }
    let r = api
        .call(
            "POST",
            "/connectors",
            Some(&body.replace("null", "\"yes\"")),
        )
        .await;
    let message = r.json["message"].as_str().unwrap();
    for needle in [
        "database.port: `70000` is out of range",
        "slot.nmae: is not a known setting (did you mean `slot.name`?)",
        "snapshot.mode: `sometimes` is not one of",
        "tombstones.on.delete: `yes` is not true or false",
        "database.hostname: is required",
        "database.user: is required",
        "database.dbname: is required",
        "topic.prefix: is required",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }
    assert!(
        message.starts_with(
            "Connector configuration is invalid and contains the following 8 error(s)"
        ),
        "{message}"
    );
    // Nothing half-made, and the other connector is untouched.
    assert_eq!(api.get("/connectors").await.json, json!(["good"]));
    assert_error(&api.get("/connectors/bad/status").await, 404);
    let stored = std::fs::read_to_string(api.dir.path().join("connectors.json")).unwrap();
    assert!(!stored.contains("\"bad\""));
    assert_eq!(
        api.get("/connectors/good/status").await.json["connector"]["state"],
        "RESTARTING"
    );
}

#[tokio::test]
async fn put_config_creates_then_updates() {
    let api = Api::new();
    let r = api
        .call(
            "PUT",
            "/connectors/p/config",
            Some(&unreachable_pg().to_string()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["name"], "p");
    // Sending back what GET shows keeps the hidden password.
    let mut shown = api.get("/connectors/p/config").await.json;
    shown["snapshot.mode"] = json!("never");
    let r = api
        .call("PUT", "/connectors/p/config", Some(&shown.to_string()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["config"]["snapshot.mode"], "never");
    let stored = std::fs::read_to_string(api.dir.path().join("connectors.json")).unwrap();
    assert!(stored.contains("secret-pw") && !stored.contains("[hidden]"));
    shown["snapshot.mode"] = json!("sometimes");
    let r = api
        .call("PUT", "/connectors/p/config", Some(&shown.to_string()))
        .await;
    assert_error(&r, 422);
    assert_eq!(
        api.get("/connectors/p/config").await.json["snapshot.mode"],
        "never"
    );
}

#[tokio::test]
async fn unknown_connectors_are_404_everywhere() {
    let api = Api::new();
    for (method, path) in [
        ("GET", "/connectors/x"),
        ("GET", "/connectors/x/config"),
        ("GET", "/connectors/x/status"),
        ("GET", "/connectors/x/tasks"),
        ("GET", "/connectors/x/tasks/0/status"),
        ("POST", "/connectors/x/tasks/0/restart"),
        ("PUT", "/connectors/x/pause"),
        ("PUT", "/connectors/x/resume"),
        ("PUT", "/connectors/x/stop"),
        ("POST", "/connectors/x/restart"),
        ("DELETE", "/connectors/x"),
        ("GET", "/connectors/x/topics"),
        ("PUT", "/connectors/x/topics/reset"),
        ("GET", "/connectors/x/offsets"),
        ("DELETE", "/connectors/x/offsets"),
    ] {
        let r = api.call(method, path, None).await;
        assert_error(&r, 404);
    }
    let body = json!({"offsets": []}).to_string();
    assert_error(
        &api.call("PATCH", "/connectors/x/offsets", Some(&body))
            .await,
        404,
    );
    assert_error(&api.get("/no/such/path").await, 404);
    assert_error(&api.call("DELETE", "/connectors", None).await, 405);
}

#[tokio::test]
async fn topics_start_empty_and_reset() {
    let api = Api::new();
    api.create("a", mysql()).await;
    let r = api.get("/connectors/a/topics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"a": {"topics": []}}));
    assert_eq!(
        api.call("PUT", "/connectors/a/topics/reset", None)
            .await
            .status,
        200
    );
}
