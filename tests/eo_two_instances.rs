//! Holes 3 and 4 of the exactly-once issue: two siphon processes of one deployment started
//! on the same connector under load. The second fences the first before it reads the
//! committed offset, so no batch is emitted twice; the first stops FAILED with a trace that
//! names the instance that took over.

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{assert_exactly, ops_by_key, settled_records};
use common::process::{ApiSiphon, shared_kafka_config};
use common::{Server, server};
use pg::TestDb;

const TXNS: i64 = 400;
const ROWS: i64 = 10;

#[tokio::test]
async fn a_second_instance_fences_the_first_without_duplicates() {
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL)")
        .await
        .unwrap();
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 50"),
    );
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = ApiSiphon::start(dir_a.path(), &config, &[]).await;
    first.wait_state(&db.name, "RUNNING").await;

    let load = {
        let sql = db.client().await;
        tokio::spawn(async move {
            for t in 0..TXNS {
                let from = t * ROWS + 1;
                sql.batch_execute(&format!(
                    "INSERT INTO rows SELECT g, 0 FROM generate_series({from}, {}) g",
                    from + ROWS - 1
                ))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = ApiSiphon::start(dir_b.path(), &config, &[]).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let trace = loop {
        if first.state(&db.name).await.as_deref() == Some("FAILED") {
            break first.trace(&db.name).await.unwrap_or_default();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first instance did not fail; first: {:?}, second: {:?}\nfirst log:\n{}\nsecond log:\n{}",
            first.state(&db.name).await,
            second.state(&db.name).await,
            first.process.log(),
            second.process.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let pid = second.process.pid();
    assert!(
        trace.contains("taken over by another siphon instance")
            && trace.contains(&format!("pid {pid}")),
        "the trace names the other instance (pid {pid}): {trace}"
    );
    load.await.unwrap();
    second.wait_state(&db.name, "RUNNING").await;

    let topic = format!("{}.public.rows", db.name);
    let total = (TXNS * ROWS) as usize;
    let records = settled_records(
        &bootstrap,
        &registry,
        &topic,
        total,
        Duration::from_secs(120),
    )
    .await;
    let expected: BTreeMap<i64, String> =
        (1..=TXNS * ROWS).map(|id| (id, "c".to_owned())).collect();
    let audit = std::panic::catch_unwind(|| assert_exactly(&ops_by_key(&records), &expected));
    if let Err(panic) = audit {
        eprintln!(
            "first log:\n{}\nsecond log:\n{}",
            first.process.log(),
            second.process.log()
        );
        std::panic::resume_unwind(panic);
    }
    assert_eq!(second.state(&db.name).await.as_deref(), Some("RUNNING"));
    drop((first, second));
    db.drop().await;
}
