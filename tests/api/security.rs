//! Issue 17's REST API rules: `${env:}` allowlist, no redirect of a kept secret, body limit,
//! connector names.

use serde_json::{Value, json};

use crate::{Api, assert_error, unreachable_pg};

fn with(mut config: Value, key: &str, value: &str) -> Value {
    config[key] = json!(value);
    config
}

/// `HOME` is set for every test process, so no test needs to change the environment.
fn home() -> String {
    std::env::var("HOME").expect("HOME is set")
}

#[tokio::test]
async fn env_refs_need_the_allowlist_and_values_are_never_quoted() {
    let body = |config: Value| json!({ "name": "e", "config": config }).to_string();
    let by_ref = with(unreachable_pg(), "database.password", "${env:HOME}");
    // No allowlist: nothing may be read, and the problem names the reference.
    let api = Api::new();
    let r = api
        .call("POST", "/connectors", Some(&body(by_ref.clone())))
        .await;
    assert_error(&r, 422);
    assert!(
        r.text.contains("`${env:HOME}` is not allowed"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("config_providers_env_allowlist"),
        "{}",
        r.text
    );
    assert_eq!(api.get("/connectors").await.json, json!([]));

    let api = Api::with(|s| s.config_providers_env_allowlist = Some("HOME|USER".into()));
    // A bad value read from the environment is reported by its reference.
    let bad_port = with(unreachable_pg(), "database.port", "${env:HOME}");
    let r = api
        .call("POST", "/connectors", Some(&body(bad_port.clone())))
        .await;
    assert_error(&r, 422);
    assert!(r.text.contains("the value of `${env:HOME}`"), "{}", r.text);
    assert!(!r.text.contains(&home()), "{}", r.text);
    let path = "/connector-plugins/postgres/config/validate";
    let v = api.call("PUT", path, Some(&bad_port.to_string())).await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert!(v.text.contains("the value of `${env:HOME}`"), "{}", v.text);
    assert!(!v.text.contains(&home()), "{}", v.text);
    // An allowed reference works and is stored, and shown, as the reference.
    let mut ok = with(unreachable_pg(), "database.user", "${env:HOME}");
    ok["database.password"] = json!("${env:HOME}");
    let r = api.create("e", ok).await;
    assert_eq!(
        r.json["config"]["database.user"], "${env:HOME}",
        "{}",
        r.text
    );
    assert!(!r.text.contains(&home()), "{}", r.text);
    // Anchored: `HOMEX` does not match `HOME|USER`.
    let other = with(unreachable_pg(), "database.password", "${env:HOMEX}");
    let r = api
        .call("PUT", "/connectors/f/config", Some(&other.to_string()))
        .await;
    assert_error(&r, 422);
    assert!(
        r.text.contains("`${env:HOMEX}` is not allowed"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_kept_secret_cannot_be_sent_somewhere_else() {
    let api = Api::new();
    api.create("r", unreachable_pg()).await;
    let shown = api.get("/connectors/r/config").await.json;
    assert_eq!(shown["database.password"], "[hidden]");
    for (key, value) in [
        ("database.hostname", "attacker.example"),
        ("database.port", "2"),
        ("database.user", "other"),
        ("database.sslmode", "disable"),
    ] {
        let moved = with(shown.clone(), key, value);
        let r = api
            .call("PUT", "/connectors/r/config", Some(&moved.to_string()))
            .await;
        assert_error(&r, 400);
        let expected = format!("re-enter database.password: the update changes {key}");
        assert!(
            r.json["message"].as_str().unwrap().starts_with(&expected),
            "{}",
            r.text
        );
    }
    // Nothing changed; the stored secret is still the original.
    let now = api.get("/connectors/r/config").await.json;
    assert_eq!(now["database.hostname"], "127.0.0.1");
    let stored = std::fs::read_to_string(api.dir.path().join("connectors.json")).unwrap();
    assert!(stored.contains("secret-pw"));
    // Same destination with the placeholder, or a new destination with the secret re-entered.
    let same = with(shown.clone(), "topic.prefix", "pg2");
    let r = api
        .call("PUT", "/connectors/r/config", Some(&same.to_string()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut moved = with(shown, "database.hostname", "localhost");
    moved["database.password"] = json!("new-pw");
    let r = api
        .call("PUT", "/connectors/r/config", Some(&moved.to_string()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let api = Api::new();
    // 1.5 MiB: over siphon's 1 MiB limit, under axum's default 2 MB.
    let padding = "x".repeat(3 * 512 * 1024);
    let big = json!({ "name": "big", "config": { "connector.class": "postgres", "p": padding } });
    for (method, path) in [
        ("POST", "/connectors"),
        ("PUT", "/connectors/big/config"),
        ("PUT", "/connector-plugins/postgres/config/validate"),
    ] {
        let r = api.call(method, path, Some(&big.to_string())).await;
        assert_eq!(r.status, 413, "{method} {path}: {}", r.text);
    }
    assert_eq!(api.get("/connectors").await.json, json!([]));
}

#[tokio::test]
async fn connector_names_are_checked_before_use() {
    let api = Api::new();
    for name in [
        "../../etc/x",
        "a b",
        ".hidden",
        "-x",
        "a\"b",
        &"n".repeat(201),
    ] {
        let body = json!({ "name": name, "config": unreachable_pg() }).to_string();
        let r = api.call("POST", "/connectors", Some(&body)).await;
        assert_error(&r, 422);
        assert!(
            r.json["message"].as_str().unwrap().contains("name: "),
            "{name}: {}",
            r.text
        );
    }
    let r = api
        .call(
            "PUT",
            "/connectors/a%20b/config",
            Some(&unreachable_pg().to_string()),
        )
        .await;
    assert_error(&r, 422);
    assert_eq!(api.get("/connectors").await.json, json!([]));
    assert!(!api.dir.path().join("events").exists());
    api.create(&"n".repeat(200), unreachable_pg()).await;
}
