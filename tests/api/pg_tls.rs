//! PostgreSQL TLS keys through the API: files are checked when the config is submitted.

use serde_json::json;

use crate::{Api, assert_error, unreachable_pg};

#[tokio::test]
async fn an_unreadable_tls_file_is_refused_naming_key_and_path() {
    let api = Api::new();
    let missing = api.dir.path().join("no-such-ca.pem");
    let mut config = unreachable_pg();
    config["database.sslmode"] = json!("verify-full");
    config["database.sslrootcert"] = json!(missing.to_str().unwrap());
    let body = json!({"name": "tls", "config": config}).to_string();
    let r = api.call("POST", "/connectors", Some(&body)).await;
    assert_error(&r, 422);
    let message = r.json["message"].as_str().unwrap();
    assert!(
        message.contains("database.sslrootcert") && message.contains(missing.to_str().unwrap()),
        "{message}"
    );
    assert_eq!(api.get("/connectors").await.json, json!([]));

    // The validate endpoint puts the same problem on the key.
    let mut config = unreachable_pg();
    config["name"] = json!("tls");
    config["database.sslcert"] = json!(missing.to_str().unwrap());
    let r = api
        .call(
            "PUT",
            "/connector-plugins/postgres/config/validate",
            Some(&config.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let configs = r.json["configs"].as_array().unwrap();
    let errors = |key: &str| {
        configs
            .iter()
            .find(|c| c["definition"]["name"] == key)
            .map(|c| c["value"]["errors"].to_string())
            .unwrap_or_default()
    };
    // sslcert without sslkey, and the file itself.
    assert!(
        errors("database.sslkey").contains("database.sslcert"),
        "{}",
        r.text
    );
    assert!(
        errors("database.sslcert").contains("no-such-ca.pem"),
        "{}",
        r.text
    );
    assert_eq!(r.json["error_count"], 2, "{}", r.text);
}
