//! The REST API of a real `siphon run` process, with real PostgreSQL, broker and schema
//! registry: a third-party Kafka Connect client (PyPI kafka-connect-py) drives a connector
//! through its whole life, and connectors created over the API come back after a restart of
//! siphon and resume from their committed offsets (no second snapshot, nothing lost).

mod common;
mod pg;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Server, server, unique_name, wait_for};
use pg::{TIMEOUT, TestDb};
use serde_json::{Value, json};
use siphon::offsets::committed_reader::read_committed;

struct Siphon {
    child: Child,
    url: String,
}

impl Drop for Siphon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Siphon {
    /// SIGTERM, then waits for a clean exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "siphon exited with {status:?}");
    }
}

/// Starts `siphon run` with Kafka, the registry, a config topic of this test's own (so no
/// other test's siphon loads these connectors) and the API on a free port; waits for the API.
async fn start_siphon(dir: &std::path::Path, configs_topic: &str) -> Siphon {
    let port = common::process::free_port();
    let config = format!(
        r#"
        [service]
        api_bind = "127.0.0.1:{port}"
        data_dir = "{data}"
        schema_registry_url = "{registry}"
        [service.kafka]
        bootstrap_servers = "{bootstrap}"
        configs_topic = "{configs_topic}"
        "#,
        data = dir.display(),
        registry = server(Server::Registry),
        bootstrap = server(Server::Kafka),
    );
    let path = dir.join("siphon.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("siphon.log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_siphon"))
        .args(["run", "--config"])
        .arg(&path)
        .env_remove("SIPHON_KAFKA_BOOTSTRAP")
        .env_remove("SIPHON_SCHEMA_REGISTRY_URL")
        .env_remove("SIPHON_API_BIND")
        .env_remove("SIPHON_API_TOKEN")
        .env("SIPHON_LOG", "info,siphon=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let siphon = Siphon { child, url };
    let root = siphon.url.clone();
    wait_for("the REST API", TIMEOUT, || {
        let root = root.clone();
        async move { reqwest::get(&root).await.ok().filter(|r| r.status() == 200) }
    })
    .await;
    siphon
}

fn connector_config(db: &TestDb, prefix: &str) -> Value {
    json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": db.host,
        "database.port": db.port,
        "database.user": "postgres",
        "database.password": "not-needed-locally",
        "database.dbname": db.name,
        "topic.prefix": prefix,
        "slot.name": db.name,
        "publication.name": db.name,
        "poll.interval.ms": "20",
    })
}

async fn topic_count(topic: &str) -> usize {
    match read_committed(&server(Server::Kafka), topic, Duration::from_secs(20)).await {
        Ok(r) => r.records().count(),
        Err(_) => 0,
    }
}

async fn status(url: &str, name: &str) -> Option<String> {
    let r = reqwest::get(format!("{url}/connectors/{name}/status"))
        .await
        .ok()?;
    let v: Value = r.json().await.ok()?;
    v["connector"]["state"].as_str().map(str::to_owned)
}

async fn wait_state(url: &str, name: &str, state: &str) {
    wait_for(&format!("{name} {state}"), TIMEOUT, || async {
        (status(url, name).await.as_deref() == Some(state)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_kafka_connect_client_drives_a_connector_through_its_life() {
    let db = TestDb::create().await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let siphon = start_siphon(dir.path(), &unique_name("siphon_configs")).await;
    let prefix = db.name.clone();
    let topic = format!("{prefix}.public.t");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/connect_client.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(&siphon.url)
        .arg(&db.name)
        .arg(connector_config(&db, &prefix).to_string())
        .arg(&topic)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the client script failed:\n{}\n{}\nsiphon log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.path().join("siphon.log")).unwrap_or_default()
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The snapshot reached the topic, and the offset the client wrote while the connector
    // was STOPPED is the committed offset of the connector (a transactional record that
    // Siphon's own offsets loading reads back).
    assert_eq!(topic_count(&topic).await, 2);
    let position = siphon::offsets::KafkaOffsets {
        bootstrap: &server(Server::Kafka),
        security: &siphon::config::KafkaSecurity::PLAINTEXT,
        topic: "siphon-offsets",
        connector: &db.name,
        topic_prefix: &prefix,
    }
    .load(
        siphon::offsets::TopicPresence::Ensured,
        Duration::from_secs(20),
    )
    .await
    .unwrap()
    .expect("the altered offset");
    assert_eq!(serde_json::to_value(&position).unwrap(), result["offset"]);
    siphon.terminate();
    db.drop().await;
}

#[tokio::test]
async fn api_connectors_come_back_after_a_restart_and_resume_from_their_offsets() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let configs_topic = unique_name("siphon_configs");
    let siphon = start_siphon(dir.path(), &configs_topic).await;
    let name = db.name.clone();
    let topic = format!("{name}.public.t");
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/connectors", siphon.url))
        .json(&json!({"name": name, "config": connector_config(&db, &name)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    wait_state(&siphon.url, &name, "RUNNING").await;
    wait_for("the snapshot in the topic", TIMEOUT, || async {
        (topic_count(&topic).await >= 2).then_some(())
    })
    .await;
    siphon.terminate();

    // Changes while siphon is down.
    client
        .batch_execute("INSERT INTO t VALUES (3, 'c')")
        .await
        .unwrap();
    // Only the second insert's commit can be at or after this point of the WAL.
    let lsn: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let end = siphon::postgres_wal::parse_lsn(&lsn).unwrap();
    client
        .batch_execute("INSERT INTO t VALUES (4, 'd')")
        .await
        .unwrap();

    let siphon = start_siphon(dir.path(), &configs_topic).await;
    let names: Value = reqwest::get(format!("{}/connectors", siphon.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names, json!([name]));
    wait_state(&siphon.url, &name, "RUNNING").await;
    let url = format!("{}/connectors/{name}/offsets", siphon.url);
    wait_for("the offsets past the inserts", TIMEOUT, || async {
        let v: Value = reqwest::get(&url).await.ok()?.json().await.ok()?;
        let committed = v["offsets"][0]["offset"]["commit_lsn"].as_u64()?;
        (committed >= end).then_some(())
    })
    .await;
    // Two snapshot rows, then the two inserts: no second snapshot, nothing lost.
    assert_eq!(topic_count(&topic).await, 4);
    let metrics = reqwest::get(format!("{}/metrics", siphon.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!("siphon_connector_events_total{{connector=\"{name}\"}} 2");
    assert!(
        metrics.lines().any(|l| l == line),
        "{line} not in\n{metrics}"
    );
    let topics: Value = reqwest::get(format!("{}/connectors/{name}/topics", siphon.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(topics, json!({ name.clone(): {"topics": [topic]} }));

    // A reset while STOPPED is a tombstone in the offsets topic: no position any more.
    let r = http
        .put(format!("{}/connectors/{name}/stop", siphon.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = http.delete(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let position = siphon::offsets::KafkaOffsets {
        bootstrap: &server(Server::Kafka),
        security: &siphon::config::KafkaSecurity::PLAINTEXT,
        topic: "siphon-offsets",
        connector: &name,
        topic_prefix: &name,
    }
    .load(
        siphon::offsets::TopicPresence::Ensured,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    assert_eq!(position, None);

    let r = http
        .delete(format!("{}/connectors/{name}", siphon.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    siphon.terminate();
    db.drop().await;
}

/// Issue 17's canary: secrets set over the API, in a connection string and through
/// `${env:}` (file and API connectors) never show in any response or any log line (at trace
/// level) of a whole lifecycle with failing connectors.
#[tokio::test]
async fn secrets_never_appear_in_responses_or_logs() {
    let canary = format!("cAnArY-{}", unique_name("pw"));
    let env_canary = format!("eNvCaNaRy-{}", unique_name("pw"));
    let file_canary = format!("fIlEcAnArY-{}", unique_name("pw"));
    let canaries = [&canary, &env_canary, &file_canary];
    let pg = reqwest::Url::parse(&server(Server::Postgres)).unwrap();
    let (pg_host, pg_port) = (pg.host_str().unwrap().to_owned(), pg.port().unwrap());
    let my = reqwest::Url::parse(&server(Server::MariaDb)).unwrap();
    let tag = unique_name("canary");
    // A MariaDB connector from connectors.toml whose password comes from the environment:
    // the server refuses the unknown user, so it fails with a trace.
    let file_connector = format!(
        r#"
        [[connectors]]
        name = "canary-file"
        [connectors.config]
        "connector.class" = "mysql"
        "database.hostname" = "{host}"
        "database.port" = "{port}"
        "database.user" = "canary_nobody"
        "database.password" = "${{env:SIPHON_CANARY_FILE}}"
        "database.server.id" = "4711"
        "topic.prefix" = "{tag}f"
        "#,
        host = my.host_str().unwrap(),
        port = my.port().unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let bind = format!("127.0.0.1:{}", common::process::free_port());
    let mut process = common::process::SiphonProcess::start(
        dir.path(),
        &common::process::shared_kafka_config(&tag, &file_connector),
        &[
            ("SIPHON_API_BIND", &bind),
            ("SIPHON_LOG", "trace"),
            ("SIPHON_CANARY_FILE", &file_canary),
            ("SIPHON_CANARY_ENV", &env_canary),
            ("SIPHON_CONFIG_PROVIDERS_ENV_ALLOWLIST", "SIPHON_CANARY_ENV"),
        ],
    );
    let url = format!("http://{bind}");
    wait_for("the REST API", TIMEOUT, || async {
        reqwest::get(&url).await.ok().filter(|r| r.status() == 200)
    })
    .await;

    let http = reqwest::Client::new();
    // Every response body, and every trace seen.
    let bodies = std::cell::RefCell::new(Vec::<String>::new());
    let call = async |method: &str, path: &str, body: Option<Value>| -> (u16, String) {
        let mut request = http.request(method.parse().unwrap(), format!("{url}{path}"));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        bodies
            .borrow_mut()
            .push(format!("{method} {path} -> {status}: {text}"));
        (status, text)
    };
    // A PostgreSQL role that does not exist on the real server, the password the canary.
    let pg_config = json!({
        "connector.class": "postgres",
        "database.hostname": pg_host,
        "database.port": pg_port.to_string(),
        "database.user": "canary_no_such_role",
        "database.password": canary,
        "database.dbname": "canary_no_such_db",
        "topic.prefix": format!("{tag}p"),
    });
    let mongo_config = json!({
        "connector.class": "mongodb",
        "mongodb.connection.string": format!("mongodb://u:{canary}@127.0.0.1:1/"),
        "mongodb.server.selection.timeout.ms": "200",
        "topic.prefix": format!("{tag}m"),
    });
    let mut env_config = pg_config.clone();
    env_config["database.port"] = json!("1");
    env_config["database.password"] = json!("${env:SIPHON_CANARY_ENV}");
    for (name, config) in [
        ("canary-pg", &pg_config),
        ("canary-mongo", &mongo_config),
        ("canary-env", &env_config),
    ] {
        let (status, text) = call(
            "POST",
            "/connectors",
            Some(json!({"name": name, "config": config})),
        )
        .await;
        assert_eq!(status, 201, "{text}");
    }
    // Every connector fails: wait until each status has a trace.
    for name in ["canary-pg", "canary-mongo", "canary-env", "canary-file"] {
        let path = format!("{url}/connectors/{name}/status");
        let trace = wait_for(&format!("a trace for {name}"), TIMEOUT, || async {
            let v: Value = reqwest::get(&path).await.ok()?.json().await.ok()?;
            v["connector"]["trace"].as_str().map(str::to_owned)
        })
        .await;
        bodies
            .borrow_mut()
            .push(format!("trace of {name}: {trace}"));
    }
    // Problems that would quote a value: an unclosed reference after a literal canary, a
    // bad port next to the secret, a redirect of the kept secret.
    let mut unclosed = pg_config.clone();
    unclosed["database.password"] = json!(format!("{canary}${{env:"));
    let mut bad_port = pg_config.clone();
    bad_port["database.port"] = json!(canary.clone());
    for bad in [unclosed.clone(), bad_port] {
        let (status, _) = call("PUT", "/connectors/canary-bad/config", Some(bad)).await;
        assert_eq!(status, 422);
    }
    // (Validation echoes each non-secret value as given, so only the secret's own key here.)
    let path = "/connector-plugins/postgres/config/validate";
    let (status, _) = call("PUT", path, Some(unclosed)).await;
    assert_eq!(status, 200);
    let (_, shown) = call("GET", "/connectors/canary-pg/config", None).await;
    let mut shown: Value = serde_json::from_str(&shown).unwrap();
    shown["topic.prefix"] = json!(format!("{tag}q"));
    let (status, _) = call("PUT", "/connectors/canary-pg/config", Some(shown.clone())).await;
    assert_eq!(status, 200);
    shown["database.hostname"] = json!("localhost");
    let (status, _) = call("PUT", "/connectors/canary-pg/config", Some(shown)).await;
    assert_eq!(status, 400);
    let get = |p: &str| ("GET", p.to_owned());
    let mut requests = vec![
        get("/"),
        get("/connectors?expand=status&expand=info"),
        get("/metrics"),
    ];
    for name in ["canary-pg", "canary-mongo", "canary-env", "canary-file"] {
        for tail in [
            "",
            "/config",
            "/status",
            "/tasks",
            "/tasks/0/status",
            "/topics",
            "/offsets",
        ] {
            requests.push(get(&format!("/connectors/{name}{tail}")));
        }
        for (method, tail) in [
            ("PUT", "/pause"),
            ("PUT", "/resume"),
            ("POST", "/restart?includeTasks=true"),
            ("POST", "/tasks/0/restart"),
            ("PUT", "/stop"),
            ("PUT", "/resume"),
        ] {
            requests.push((method, format!("/connectors/{name}{tail}")));
        }
    }
    for (method, path) in requests {
        call(method, &path, None).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    call("GET", "/metrics", None).await;
    call("GET", "/connectors?expand=status&expand=info", None).await;
    for name in ["canary-pg", "canary-mongo", "canary-env"] {
        let (status, _) = call("DELETE", &format!("/connectors/{name}"), None).await;
        assert_eq!(status, 204);
    }
    assert!(process.terminate(), "siphon did not exit cleanly");

    let log = process.log();
    assert!(log.lines().count() > 100, "too little logged:\n{log}");
    assert!(
        log.contains("canary-pg") && log.contains("canary-file"),
        "{log}"
    );
    for secret in canaries {
        for body in bodies.borrow().iter() {
            assert!(
                !body.contains(secret.as_str()),
                "a response shows a secret: {body}"
            );
        }
        for line in log.lines() {
            assert!(
                !line.contains(secret.as_str()),
                "a log line shows a secret: {line}"
            );
        }
    }
}

/// Listening beyond loopback without authentication is allowed but warned about at start;
/// with a token, or on loopback, there is no warning.
#[tokio::test]
async fn an_open_non_loopback_bind_is_warned_about() {
    const WARNING: &str = "listens beyond this machine without authentication";
    for (host, token, warned) in [
        ("0.0.0.0", "", true),
        ("0.0.0.0", "t0k-warn-test", false),
        ("127.0.0.1", "", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let port = common::process::free_port();
        let bind = format!("{host}:{port}");
        let mut process = common::process::SiphonProcess::start(
            dir.path(),
            "",
            &[("SIPHON_API_BIND", &bind), ("SIPHON_API_TOKEN", token)],
        );
        let url = format!("http://127.0.0.1:{port}");
        wait_for("the REST API", TIMEOUT, || async {
            reqwest::get(&url).await.ok().filter(|r| r.status() == 200)
        })
        .await;
        assert!(process.terminate());
        let log = process.log();
        assert!(log.contains("REST API listening"), "{log}");
        assert_eq!(
            log.contains(WARNING),
            warned,
            "{bind} token={token:?}:\n{log}"
        );
    }
}
