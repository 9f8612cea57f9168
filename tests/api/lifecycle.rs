//! Status, tasks, pause / resume / stop, restart and delete.

use serde_json::json;

use crate::{Api, assert_error, mongodb, mysql, unreachable_pg};

#[tokio::test]
async fn status_has_kafka_connects_shape() {
    let api = Api::new();
    api.create_failing("m").await;
    let s = api.wait_state("m", "FAILED").await;
    assert_eq!(s["name"], "m");
    assert_eq!(s["type"], "source");
    assert_eq!(s["connector"]["worker_id"], "127.0.0.1:8083");
    let task = &s["tasks"][0];
    assert_eq!(
        (task["id"].as_u64(), task["state"].as_str()),
        (Some(0), Some("FAILED"))
    );
    assert!(
        task["trace"].as_str().unwrap().contains("embedded sink"),
        "{s}"
    );
    let t = api.get("/connectors/m/tasks/0/status").await;
    assert_eq!(t.status, 200);
    assert_eq!(t.json, *task);
    assert_error(&api.get("/connectors/m/tasks/1/status").await, 404);
    assert_error(&api.get("/connectors/m/tasks/x/status").await, 404);
}

#[tokio::test]
async fn tasks_list_the_one_task_with_its_config() {
    let api = Api::new();
    api.create("m", mysql()).await;
    let r = api.get("/connectors/m/tasks").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json[0]["id"], json!({"connector": "m", "task": 0}));
    assert_eq!(r.json[0]["config"]["database.password"], "[hidden]");
    assert_eq!(r.json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pause_resume_stop_are_202_and_reported() {
    let api = Api::new();
    api.create("p", unreachable_pg()).await;
    api.wait_state("p", "RESTARTING").await;
    let r = api.call("PUT", "/connectors/p/pause", None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let s = api.wait_state("p", "PAUSED").await;
    assert_eq!(s["tasks"][0]["state"], "PAUSED");
    assert_eq!(
        api.call("PUT", "/connectors/p/resume", None).await.status,
        202
    );
    api.wait_state("p", "RESTARTING").await;
    assert_eq!(
        api.call("PUT", "/connectors/p/stop", None).await.status,
        202
    );
    let s = api.wait_state("p", "STOPPED").await;
    assert_eq!(s["tasks"], json!([]));
    assert_eq!(api.get("/connectors/p/tasks").await.json, json!([]));
    assert_eq!(api.get("/connectors/p").await.json["tasks"], json!([]));
    // KIP-875: resume takes a STOPPED connector back to running.
    assert_eq!(
        api.call("PUT", "/connectors/p/resume", None).await.status,
        202
    );
    api.wait_state("p", "RESTARTING").await;
}

#[tokio::test]
async fn restart_answers_as_kafka_connect_3() {
    let api = Api::new();
    api.create_failing("m").await;
    api.create("p", unreachable_pg()).await;
    api.wait_state("m", "FAILED").await;
    api.wait_state("p", "RESTARTING").await;
    // No flags (kafka-connect-py sends them as False): 204, no body.
    let r = api
        .call(
            "POST",
            "/connectors/m/restart?includeTasks=False&onlyFailed=False",
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let r = api.call("POST", "/connectors/m/restart", None).await;
    assert_eq!(r.status, 204);
    // With a flag: 202 and the status, restarted parts RESTARTING.
    api.wait_state("m", "FAILED").await;
    let r = api
        .call(
            "POST",
            "/connectors/m/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json["connector"]["state"], "RESTARTING");
    assert_eq!(r.json["tasks"][0]["state"], "RESTARTING");
    api.wait_state("m", "FAILED").await;
    // onlyFailed leaves a connector that has not failed alone.
    api.call("PUT", "/connectors/p/pause", None).await;
    let r = api
        .call("POST", "/connectors/p/restart?onlyFailed=true", None)
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json["connector"]["state"], "PAUSED");
    let r = api
        .call("POST", "/connectors/m/tasks/0/restart", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_error(
        &api.call("POST", "/connectors/m/tasks/3/restart", None)
            .await,
        404,
    );
    assert_error(
        &api.call("POST", "/connectors/m/tasks/x/restart", None)
            .await,
        404,
    );
}

#[tokio::test]
async fn delete_is_204_and_forgets_the_connector() {
    let api = Api::new();
    api.create("a", unreachable_pg()).await;
    api.create("b", mysql()).await;
    let r = api.call("DELETE", "/connectors/a", None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(api.get("/connectors").await.json, json!(["b"]));
    assert_error(&api.get("/connectors/a").await, 404);
    let stored = std::fs::read_to_string(api.dir.path().join("connectors.json")).unwrap();
    assert!(!stored.contains("\"a\"") && stored.contains("\"b\""));
    // The name is free again.
    api.create("a", mysql()).await;
}

/// A MongoDB connector created with Debezium's JSON runs its reader: with no server it
/// retries (RESTARTING) with the driver's error as its trace, and its connection string (which
/// holds a password) is never shown.
#[tokio::test]
async fn a_mongodb_connector_retries_an_unreachable_server_with_a_trace() {
    let api = Api::new();
    api.create("mo", mongodb()).await;
    let s = api.wait_state("mo", "RESTARTING").await;
    let trace = s["connector"]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        + s["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(trace.contains("MongoDB"), "{s}");
    assert!(!trace.contains("secret-pw"), "{s}");
    let config = api.get("/connectors/mo/config").await.json;
    assert!(!config.to_string().contains("secret-pw"), "{config}");
}
