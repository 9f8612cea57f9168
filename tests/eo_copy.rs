//! Hole 1 of the exactly-once issue: PostgreSQL decodes one multi-insert WAL record (what
//! `COPY` writes, one per heap page) into many changes with the same LSN, so a resume inside
//! such a group must know how many of them were emitted. A COPY of 20,000 rows in one
//! transaction, split into batches of 333, is resumed inside the transaction by a
//! pause/resume, a walsender kill and a SIGKILL; then a second COPY with the resumes at
//! other points. Every row must reach the topic exactly once. And a SIGTERM inside a
//! 50,000-row transaction.
//!
//! Commits are slowed (`SIPHON_FAULT_SLOW`) so that each resume lands while the transaction
//! is partly committed; the test asserts it did.

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::Duration;

use common::audit::{
    assert_exactly, committed_count, offsets_never_step_back, ops_by_key, settled_records,
};
use common::process::{ApiSiphon, shared_kafka_config};
use common::{Server, server, wait_for};
use pg::TestDb;
use siphon::offsets::Position;

const ROWS: i64 = 20_000;

#[derive(Debug, Clone, Copy)]
enum Cut {
    Pause,
    KillWalsender,
    SigKill,
}

#[tokio::test]
async fn copy_resumed_inside_its_transaction_loses_and_repeats_nothing() {
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL DEFAULT 0)")
        .await
        .unwrap();
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let dir = tempfile::tempdir().unwrap();
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(
            &db.name,
            "\"max.batch.size\" = 333\n\"max.queue.size\" = 1000",
        ),
    );
    let mut siphon = ApiSiphon::start(
        dir.path(),
        &config,
        &[("SIPHON_FAULT_SLOW", "before_commit:120")],
    )
    .await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.rows", db.name);

    let rounds: [[(i64, Cut); 3]; 2] = [
        [
            (3_000, Cut::Pause),
            (9_000, Cut::KillWalsender),
            (15_000, Cut::SigKill),
        ],
        [
            (1_000, Cut::SigKill),
            (6_000, Cut::Pause),
            (17_000, Cut::KillWalsender),
        ],
    ];
    let mut expected = BTreeMap::new();
    for (round, resumes) in rounds.iter().enumerate() {
        let first = round as i64 * ROWS + 1;
        let base = (round as i64 * ROWS) as usize;
        // Server-side COPY: one transaction of multi-insert records.
        sql.batch_execute(&format!(
            "COPY rows (id) FROM PROGRAM 'seq {first} {}'",
            first + ROWS - 1
        ))
        .await
        .unwrap();
        for id in first..first + ROWS {
            expected.insert(id, "c".to_owned());
        }
        for (at, resume) in resumes {
            let target = base + *at as usize;
            let seen = wait_for(
                &format!("{target} records before {resume:?}"),
                Duration::from_secs(120),
                || async {
                    let n = committed_count(&bootstrap, &topic).await;
                    (n >= target).then_some(n)
                },
            )
            .await;
            assert!(
                seen < base + ROWS as usize,
                "{resume:?} must land inside the COPY's transaction: {seen} of {} committed",
                base + ROWS as usize
            );
            match resume {
                Cut::Pause => {
                    siphon.put(&db.name, "pause").await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    siphon.put(&db.name, "resume").await;
                }
                Cut::KillWalsender => assert!(db.kill_walsender().await, "no walsender"),
                Cut::SigKill => siphon.kill_and_restart().await,
            }
        }
        let want = base + ROWS as usize;
        let records = settled_records(
            &bootstrap,
            &registry,
            &topic,
            want,
            Duration::from_secs(180),
        )
        .await;
        assert_exactly(&ops_by_key(&records), &expected);
    }

    // The offsets only moved forward, and some of them are inside a multi-insert group.
    let positions = offsets_never_step_back(&bootstrap, &format!("{}-offsets", db.name)).await;
    let inside_a_group = positions
        .iter()
        .filter(|p| matches!(p, Position::Postgres(p) if p.lsn_index.is_some_and(|i| i > 1)))
        .count();
    assert!(
        inside_a_group > 10,
        "batch boundaries fall inside multi-insert groups: {inside_a_group}"
    );
    drop(siphon);
    db.drop().await;
}

/// SIGTERM while a 50,000-row transaction is partly committed: siphon commits what is in
/// flight and exits cleanly; after a restart the rest arrives, nothing twice.
#[tokio::test]
async fn sigterm_inside_a_large_transaction_loses_and_repeats_nothing() {
    const BIG: i64 = 50_000;
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE rows (id bigint PRIMARY KEY, v bigint NOT NULL DEFAULT 0)")
        .await
        .unwrap();
    let (bootstrap, registry) = (server(Server::Kafka), server(Server::Registry));
    let dir = tempfile::tempdir().unwrap();
    let config = shared_kafka_config(
        &db.name,
        &db.connector_toml(&db.name, "\"max.batch.size\" = 1000"),
    );
    let slow = [("SIPHON_FAULT_SLOW", "before_commit:100")];
    let mut siphon = ApiSiphon::start(dir.path(), &config, &slow).await;
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.rows", db.name);
    sql.batch_execute(&format!(
        "INSERT INTO rows (id) SELECT g FROM generate_series(1, {BIG}) g"
    ))
    .await
    .unwrap();
    let seen = wait_for(
        "a part of the transaction",
        Duration::from_secs(120),
        || async {
            let n = committed_count(&bootstrap, &topic).await;
            (n >= 5_000).then_some(n)
        },
    )
    .await;
    assert!(
        seen < BIG as usize,
        "SIGTERM lands inside: {seen} committed"
    );
    assert!(
        siphon.process.terminate(),
        "siphon exits cleanly on SIGTERM"
    );
    let at_exit = committed_count(&bootstrap, &topic).await;
    assert!(
        at_exit < BIG as usize,
        "stopped inside the transaction: {at_exit}"
    );
    siphon.kill_and_restart().await;
    let records = settled_records(
        &bootstrap,
        &registry,
        &topic,
        BIG as usize,
        Duration::from_secs(180),
    )
    .await;
    let expected: BTreeMap<i64, String> = (1..=BIG).map(|id| (id, "c".to_owned())).collect();
    assert_exactly(&ops_by_key(&records), &expected);
    drop(siphon);
    db.drop().await;
}
