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
