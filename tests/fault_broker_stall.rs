//! Faults issue: a broker that stops answering (SIGSTOP) for 45 s, and for 120 s, while
//! changes keep being written. The connector must recover by itself once the broker answers
//! again, with every row exactly once, and while it cannot write, its status must say why
//! and for how long it has been retrying (not sit silently in RUNNING).

mod common;
mod pg;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use common::audit::{assert_exactly, ops_by_key, settled_records};
use common::private::PrivateServers;
use common::process::ApiSiphon;
use common::{Server, server};
use pg::TestDb;

/// Writes one small transaction every 100 ms until `stop`, counting the rows in `written`.
fn writer(
    sql: tokio_postgres::Client,
    stop: Arc<AtomicBool>,
    written: Arc<AtomicI64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            let from = written.load(Ordering::SeqCst) + 1;
            sql.batch_execute(&format!(
                "INSERT INTO rows SELECT g, 0 FROM generate_series({from}, {}) g",
                from + 4
            ))
            .await
            .unwrap();
            written.fetch_add(5, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

async fn stall_and_recover(stall: Duration) {
    let broker = PrivateServers::start(&["kafka"]);
    let bootstrap = broker.address("SIPHON_TEST_KAFKA");
    let registry = server(Server::Registry);
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL)")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = db.kafka_toml(&bootstrap, &registry, "\"max.batch.size\" = 100");
    let siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.rows", db.name);

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(0));
    let writing = writer(db.client().await, Arc::clone(&stop), Arc::clone(&written));
    tokio::time::sleep(Duration::from_secs(2)).await;

    broker.signal("kafka", "STOP");
    let stalled = Instant::now();
    // While the broker is stalled the status must, at some point, say the connector is
    // retrying, with the error and for how long.
    let mut degraded: Option<String> = None;
    while stalled.elapsed() < stall {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if siphon.state(&db.name).await.as_deref() == Some("RESTARTING")
            && let Some(trace) = siphon.trace(&db.name).await
            && trace.contains("retrying for")
        {
            degraded = Some(trace);
        }
    }
    broker.signal("kafka", "CONT");
    let resumed = Instant::now();
    let trace = degraded.unwrap_or_else(|| {
        panic!(
            "the status never showed RESTARTING with a retrying trace during a {} s stall",
            stall.as_secs()
        )
    });
    eprintln!("status during the stall:\n{trace}");

    // Writes go on a little after the broker is back, then stop.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    writing.await.unwrap();
    let total = written.load(Ordering::SeqCst);
    siphon.wait_state(&db.name, "RUNNING").await;
    let records = settled_records(
        &bootstrap,
        &registry,
        &topic,
        total as usize,
        Duration::from_secs(180),
    )
    .await;
    eprintln!(
        "stall {} s: {} rows, all committed {} s after the broker resumed",
        stall.as_secs(),
        total,
        resumed.elapsed().as_secs()
    );
    let expected: BTreeMap<i64, String> = (1..=total).map(|id| (id, "c".to_owned())).collect();
    assert_exactly(&ops_by_key(&records), &expected);
    drop(siphon);
    db.drop().await;
}

#[tokio::test]
async fn a_45_second_broker_stall_is_survived_with_a_status() {
    stall_and_recover(Duration::from_secs(45)).await;
}

#[tokio::test]
async fn a_120_second_broker_stall_is_survived_with_a_status() {
    stall_and_recover(Duration::from_secs(120)).await;
}
