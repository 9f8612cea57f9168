//! KIP-875 offsets: read any time, alter and reset only while STOPPED.

use serde_json::{Value, json};

use crate::{Api, assert_error, unreachable_pg};

fn patch(offset: Value) -> String {
    json!({"offsets": [{"partition": {"server": "pg"}, "offset": offset}]}).to_string()
}

#[tokio::test]
async fn offsets_are_read_any_time_and_changed_only_while_stopped() {
    let api = Api::new();
    api.create("p", unreachable_pg()).await;
    let r = api.get("/connectors/p/offsets").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"offsets": []}));

    let position = json!({"source": "postgres", "commit_lsn": 4096, "lsn": 4096});
    let r = api
        .call(
            "PATCH",
            "/connectors/p/offsets",
            Some(&patch(position.clone())),
        )
        .await;
    assert_error(&r, 409);
    assert!(r.json["message"].as_str().unwrap().contains("STOPPED"));
    assert_error(
        &api.call("DELETE", "/connectors/p/offsets", None).await,
        409,
    );
    api.call("PUT", "/connectors/p/pause", None).await;
    assert_error(
        &api.call("DELETE", "/connectors/p/offsets", None).await,
        409,
    );

    api.call("PUT", "/connectors/p/stop", None).await;
    let r = api
        .call(
            "PATCH",
            "/connectors/p/offsets",
            Some(&patch(position.clone())),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json["message"].as_str().unwrap().contains("altered"));
    let r = api.get("/connectors/p/offsets").await;
    assert_eq!(
        r.json,
        json!({"offsets": [{"partition": {"server": "pg"}, "offset": position}]})
    );
    let file = api.dir.path().join("offsets/p.json");
    assert!(std::fs::read_to_string(&file).unwrap().contains("4096"));

    // A null offset resets the partition; DELETE resets everything.
    let r = api
        .call("PATCH", "/connectors/p/offsets", Some(&patch(Value::Null)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        api.get("/connectors/p/offsets").await.json,
        json!({"offsets": []})
    );
    api.call("PATCH", "/connectors/p/offsets", Some(&patch(position)))
        .await;
    let r = api.call("DELETE", "/connectors/p/offsets", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json["message"].as_str().unwrap().contains("reset"));
    assert!(!file.exists());
}

#[tokio::test]
async fn bad_offsets_are_400() {
    let api = Api::new();
    api.create("p", unreachable_pg()).await;
    api.call("PUT", "/connectors/p/stop", None).await;
    let wrong_partition =
        json!({"offsets": [{"partition": {"server": "other"}, "offset": null}]}).to_string();
    let mysql = patch(json!({"source": "mysql", "file": "binlog.000001", "pos": 4}));
    let garbage = patch(json!({"lsn": "x"}));
    for body in [
        "not json",
        "{\"offsets\": 5}",
        "{\"offsets\": []}",
        wrong_partition.as_str(),
        mysql.as_str(),
        garbage.as_str(),
    ] {
        let r = api.call("PATCH", "/connectors/p/offsets", Some(body)).await;
        assert_error(&r, 400);
    }
}
