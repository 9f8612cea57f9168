use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::offsets::{FileOffsetStore, PgPosition, Position};

fn map(class: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    if class == "mongodb" {
        return [
            ("connector.class", class),
            ("mongodb.connection.string", "mongodb://127.0.0.1:1"),
            ("topic.prefix", "p"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    }
    let mut map: BTreeMap<String, String> = [
        ("connector.class", class),
        ("database.hostname", "127.0.0.1"),
        ("database.user", "u"),
        ("database.password", "pw"),
        ("topic.prefix", "p"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if class == "postgres" {
        map.insert("database.dbname".into(), "d".into());
    } else {
        map.insert("database.server.id".into(), "5".into());
    }
    map
}

fn config(name: &str, class: &str, extra: &[(&str, &str)]) -> ConnectorConfig {
    ConnectorConfig::from_map(name, &map(class, extra)).unwrap()
}

/// Nothing listens on port 1: a PostgreSQL connector there retries forever (RESTARTING).
fn unreachable_pg() -> BTreeMap<String, String> {
    map("postgres", &[("database.port", "1")])
}

fn embedded(dir: &tempfile::TempDir) -> ServiceConfig {
    ServiceConfig {
        data_dir: dir.path().to_owned(),
        ..ServiceConfig::default()
    }
}

async fn wait_for_state(rt: &Runtime, name: &str, state: ConnectorState) -> ConnectorStatus {
    for _ in 0..500 {
        let s = rt.statuses()[name].clone();
        if s.state == state {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name} never reached {state}: {:?}", rt.statuses()[name]);
}

/// Every class has a reader now: an unreachable MongoDB server is transient, with a trace.
#[tokio::test]
async fn an_unreachable_mongodb_server_restarts_with_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    rt.start(config(
        "m",
        "mongodb",
        &[("mongodb.server.selection.timeout.ms", "100")],
    ))
    .unwrap();
    let s = wait_for_state(&rt, "m", ConnectorState::Restarting).await;
    assert!(s.trace.as_deref().unwrap().contains("MongoDB"), "{s:?}");
    rt.run_until(async {}).await;
}

#[tokio::test]
async fn unreachable_database_is_transient_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    rt.start(config("pg", "postgres", &[("database.port", "1")]))
        .unwrap();
    wait_for_state(&rt, "pg", ConnectorState::Restarting).await;
    assert!(rt.metrics()[0].2.errors >= 1);
    // While degraded, the status says what failed and for how long it has been retrying.
    let trace = rt.status("pg").unwrap().connector.trace.unwrap();
    assert!(trace.contains("127.0.0.1:1"), "{trace}");
    assert!(trace.contains("\nretrying for "), "{trace}");
    assert!(trace.contains("reconnecting"), "{trace}");
    rt.run_until(async {}).await;
}

#[tokio::test]
async fn names_are_unique() {
    let rt = Runtime::new(ServiceConfig::default());
    rt.start(config("a", "mysql", &[])).unwrap();
    assert!(
        matches!(rt.start(config("a", "mysql", &[])), Err(RuntimeError::AlreadyExists(n)) if n == "a")
    );
}

#[tokio::test]
async fn run_until_returns_on_shutdown() {
    let rt = Runtime::new(ServiceConfig::default());
    rt.run_until(async {}).await;
    assert!(rt.statuses().is_empty());
    assert!(matches!(
        rt.create("x", unreachable_pg()).await,
        Err(RuntimeError::ShuttingDown)
    ));
}

#[tokio::test]
async fn create_refuses_duplicates_and_invalid_configs_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    let info = rt.create("a", unreachable_pg()).await.unwrap();
    assert_eq!(info.config["database.password"], HIDDEN);
    assert_eq!(info.config["name"], "a");
    assert!(matches!(
        rt.create("a", unreachable_pg()).await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    let mut bad = unreachable_pg();
    bad.insert("database.port".into(), "99999".into());
    bad.insert("slot.nmae".into(), "x".into());
    bad.remove("topic.prefix");
    let Err(RuntimeError::Invalid(problems)) = rt.create("b", bad).await else {
        panic!("expected Invalid");
    };
    let mut keys = problems.keys();
    keys.sort();
    assert_eq!(keys, ["database.port", "slot.nmae", "topic.prefix"]);
    assert_eq!(rt.names(), ["a"]);
    let stored = ConfigStore::for_service(rt.service()).load().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].config["database.password"], "pw");
}

#[tokio::test]
async fn pause_resume_stop_report_their_states() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    rt.create("a", unreachable_pg()).await.unwrap();
    wait_for_state(&rt, "a", ConnectorState::Restarting).await;
    rt.pause("a").await.unwrap();
    assert_eq!(
        rt.status("a").unwrap().connector.state,
        ConnectorState::Paused
    );
    assert_eq!(rt.status("a").unwrap().tasks.len(), 1);
    rt.resume("a").await.unwrap();
    wait_for_state(&rt, "a", ConnectorState::Restarting).await;
    rt.stop("a").await.unwrap();
    let s = rt.status("a").unwrap();
    assert_eq!(s.connector.state, ConnectorState::Stopped);
    assert!(s.tasks.is_empty());
    assert!(rt.info("a").unwrap().tasks.is_empty());
    assert!(matches!(
        rt.pause("zz").await,
        Err(RuntimeError::NotFound(_))
    ));
    let stored = ConfigStore::for_service(rt.service()).load().await.unwrap();
    assert_eq!(stored[0].state, TargetState::Stopped);
}

#[tokio::test]
async fn put_config_creates_then_updates_keeping_hidden_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    let (created, _) = rt.put_config("a", unreachable_pg()).await.unwrap();
    assert!(created);
    let mut shown = rt.config("a").unwrap();
    assert_eq!(shown["database.password"], HIDDEN);
    shown.insert("snapshot.mode".into(), "never".into());
    let (created, info) = rt.put_config("a", shown).await.unwrap();
    assert!(!created);
    assert_eq!(info.config["snapshot.mode"], "never");
    let stored = ConfigStore::for_service(rt.service()).load().await.unwrap();
    assert_eq!(stored[0].config["database.password"], "pw");
    let mut bad = unreachable_pg();
    bad.insert("snapshot.mode".into(), "sometimes".into());
    assert!(matches!(
        rt.put_config("a", bad).await,
        Err(RuntimeError::Invalid(_))
    ));
    assert_eq!(rt.config("a").unwrap()["snapshot.mode"], "never");
}

#[tokio::test]
async fn offsets_change_only_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    rt.create("a", unreachable_pg()).await.unwrap();
    assert!(rt.offsets("a").await.unwrap().offsets.is_empty());
    let body = |offset: serde_json::Value| OffsetsView {
        offsets: vec![PartitionOffset {
            partition: serde_json::json!({"server": "p"}),
            offset: Some(offset),
        }],
    };
    let pos = serde_json::json!({"source": "postgres", "commit_lsn": 42, "lsn": 42});
    assert!(matches!(
        rt.alter_offsets("a", body(pos.clone())).await,
        Err(RuntimeError::NotStopped { .. })
    ));
    assert!(matches!(
        rt.reset_offsets("a").await,
        Err(RuntimeError::NotStopped { .. })
    ));
    rt.stop("a").await.unwrap();
    rt.alter_offsets("a", body(pos.clone())).await.unwrap();
    let got = rt.offsets("a").await.unwrap();
    assert_eq!(got.offsets[0].offset.as_ref(), Some(&pos));
    assert_eq!(
        FileOffsetStore::new(dir.path()).load("a").unwrap(),
        Some(Position::Postgres(PgPosition::after_commit(42)))
    );
    let mysql = serde_json::json!({"source": "mysql", "file": "f", "pos": 4});
    assert!(matches!(
        rt.alter_offsets("a", body(mysql)).await,
        Err(RuntimeError::BadRequest(m)) if m.contains("postgres")
    ));
    let mut wrong = body(pos);
    wrong.offsets[0].partition = serde_json::json!({"server": "q"});
    assert!(matches!(
        rt.alter_offsets("a", wrong).await,
        Err(RuntimeError::BadRequest(_))
    ));
    rt.reset_offsets("a").await.unwrap();
    assert!(rt.offsets("a").await.unwrap().offsets.is_empty());
}

#[tokio::test]
async fn delete_forgets_config_and_file_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(embedded(&dir));
    rt.create("a", unreachable_pg()).await.unwrap();
    let store = FileOffsetStore::new(dir.path());
    store
        .store("a", &Position::Postgres(PgPosition::after_commit(1)))
        .unwrap();
    rt.delete("a").await.unwrap();
    assert!(rt.names().is_empty());
    assert_eq!(store.load("a").unwrap(), None);
    assert!(
        ConfigStore::for_service(rt.service())
            .load()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        rt.delete("a").await,
        Err(RuntimeError::NotFound(_))
    ));
}

#[tokio::test]
async fn boot_restores_api_connectors_and_the_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    {
        let rt = Runtime::new(embedded(&dir));
        rt.create("api", unreachable_pg()).await.unwrap();
        rt.stop("api").await.unwrap();
        rt.create("both", unreachable_pg()).await.unwrap();
        rt.run_until(async {}).await;
    }
    let from_file = vec![config("both", "mysql", &[])];
    let rt = Runtime::boot(embedded(&dir), from_file).await.unwrap();
    assert_eq!(rt.names(), ["api", "both"]);
    assert_eq!(rt.statuses()["api"].state, ConnectorState::Stopped);
    assert_eq!(rt.config("both").unwrap()["connector.class"], "mysql");
    // Nothing listens on MySQL's default port here: the file's connector runs and retries.
    wait_for_state(&rt, "both", ConnectorState::Restarting).await;
    rt.run_until(async {}).await;
}
