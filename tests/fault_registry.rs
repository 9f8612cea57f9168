//! Faults issue: a schema registry that stalls (SIGSTOP: accepts connections, never answers)
//! or answers 500 for a while. Either way the connector must show RESTARTING with a trace that
//! names the registry problem (not sit silently in RUNNING), then recover by itself with every
//! row exactly once. The 500s come from a forwarding proxy in front of the real registry.

mod common;
mod pg;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use common::audit::{ops_by_key, settled_records};
use common::private::PrivateServers;
use common::process::{ApiSiphon, kafka_service};
use common::{Server, server};
use pg::TestDb;

/// Forwards every request to `upstream`, or answers 500 while `failing` is set.
async fn start_proxy(upstream: String, failing: Arc<AtomicBool>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (client, upstream, failing) = (client.clone(), upstream.clone(), failing.clone());
            async move {
                if failing.load(Ordering::SeqCst) {
                    let body = r#"{"error_code":50001,"message":"injected: store unavailable"}"#;
                    return (StatusCode::INTERNAL_SERVER_ERROR, body.to_owned()).into_response();
                }
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                let mut req = client.request(
                    reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
                    format!("{upstream}{path}"),
                );
                if let Some(ct) = headers.get("content-type") {
                    req = req.header("content-type", ct.as_bytes());
                }
                match req.body(body).send().await {
                    Ok(r) => {
                        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                        let ct = r
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("application/json")
                            .to_owned();
                        let body = r.bytes().await.unwrap_or_default();
                        (status, [("content-type", ct)], body).into_response()
                    }
                    Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                }
            }
        },
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A database with tables `first` (one row, in the snapshot) and `second` (written during
/// the fault), and a siphon whose registry is `registry_url`.
async fn connector(
    dir: &std::path::Path,
    registry_url: &str,
) -> (TestDb, tokio_postgres::Client, ApiSiphon) {
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute(
        "CREATE TABLE first (id bigint PRIMARY KEY, v bigint NOT NULL);
         CREATE TABLE second (id bigint PRIMARY KEY, v text NOT NULL);
         INSERT INTO first VALUES (1, 1);",
    )
    .await
    .unwrap();
    let config = format!(
        "{}{}",
        kafka_service(&server(Server::Kafka), registry_url, &db.name),
        db.connector_toml(&db.name, "")
    );
    let siphon = ApiSiphon::start(dir, &config, &[]).await;
    (db, sql, siphon)
}

/// Polls the status for `window`, returning the last RESTARTING trace seen.
async fn restarting_trace(siphon: &ApiSiphon, name: &str, window: Duration) -> Option<String> {
    let start = Instant::now();
    let mut seen = None;
    while start.elapsed() < window {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if siphon.state(name).await.as_deref() == Some("RESTARTING") {
            seen = siphon.trace(name).await.or(seen);
        }
    }
    seen
}

/// Every row of `table` arrives once, as one of `ops` (a read of the snapshot or a create
/// of the stream).
async fn exactly_once(db: &TestDb, registry: &str, table: &str, n: i64, ops: &[&str]) {
    let records = settled_records(
        &server(Server::Kafka),
        registry,
        &format!("{}.public.{table}", db.name),
        n as usize,
        Duration::from_secs(120),
    )
    .await;
    let got = ops_by_key(&records);
    let keys: Vec<i64> = got.keys().copied().collect();
    assert_eq!(keys, (1..=n).collect::<Vec<_>>(), "{table}: {got:?}");
    // One record per key: `rc` would be a row both snapshotted and streamed.
    for (id, op) in &got {
        assert!(
            ops.contains(&op.as_str()),
            "{table} id {id}: {op:?} (want one of {ops:?})"
        );
    }
}

#[tokio::test]
async fn a_stalled_registry_is_a_restart_with_a_trace_then_recovers() {
    let registry = PrivateServers::start(&["registry"]);
    let url = registry.address("SIPHON_TEST_REGISTRY");
    let dir = tempfile::tempdir().unwrap();
    let (db, sql, siphon) = connector(dir.path(), &url).await;
    // The snapshot is committed: the registry knows `first`'s schemas.
    exactly_once(&db, &url, "first", 1, &["r"]).await;

    registry.signal("registry", "STOP");
    // A new table: its schema must be registered, and the registry does not answer.
    sql.batch_execute("INSERT INTO second SELECT g, 'x' FROM generate_series(1, 50) g")
        .await
        .unwrap();
    let trace = restarting_trace(&siphon, &db.name, Duration::from_secs(25)).await;
    registry.signal("registry", "CONT");
    let trace = trace.expect("a stalled registry never showed RESTARTING");
    eprintln!("status while the registry was stalled:\n{trace}");
    assert!(trace.contains("registry"), "{trace}");
    assert!(trace.contains("retrying for"), "{trace}");

    let resumed = Instant::now();
    exactly_once(&db, &url, "second", 50, &["c"]).await;
    eprintln!(
        "recovered {} s after the registry resumed",
        resumed.elapsed().as_secs()
    );
    drop(siphon);
    db.drop().await;
}

/// The registry fails from the start, so the connector restarts before its snapshot is ever
/// committed, while rows are written beside its slot: each must still arrive once (the
/// restarted snapshot must not also stream them).
#[tokio::test]
async fn registry_500s_for_10_seconds_are_retried_then_recover() {
    let real = server(Server::Registry);
    let failing = Arc::new(AtomicBool::new(true));
    let proxy = start_proxy(real.clone(), Arc::clone(&failing)).await;
    let dir = tempfile::tempdir().unwrap();
    let (db, sql, siphon) = connector(dir.path(), &proxy).await;
    let failing_since = Instant::now();
    db.wait_for_slot().await;
    sql.batch_execute("INSERT INTO second SELECT g, 'x' FROM generate_series(1, 50) g")
        .await
        .unwrap();
    let window = Duration::from_secs(10).saturating_sub(failing_since.elapsed());
    let trace = restarting_trace(&siphon, &db.name, window).await;
    failing.store(false, Ordering::SeqCst);
    let trace = trace.expect("registry 500s never showed RESTARTING");
    eprintln!("status while the registry answered 500:\n{trace}");
    assert!(trace.contains("500"), "{trace}");
    assert!(trace.contains("retrying for"), "{trace}");

    let resumed = Instant::now();
    exactly_once(&db, &real, "first", 1, &["r"]).await;
    exactly_once(&db, &real, "second", 50, &["r", "c"]).await;
    eprintln!(
        "recovered {} s after the registry answered again",
        resumed.elapsed().as_secs()
    );
    siphon.wait_state(&db.name, "RUNNING").await;
    drop(siphon);
    db.drop().await;
}
