//! Faults issue: rows of megabytes. A row over the producer's message limit fails the
//! connector naming topic, key, size and the fix, and loses nothing: with the limit raised it
//! arrives. Rows of 2 MB and 50 MB are snapshotted and streamed with the default queue
//! settings while siphon runs in a memory cgroup limited to 800 MiB and its peak RSS stays
//! under that (max.queue.size.in.bytes, chunks sized by bytes). `SIPHON_TEST_BIG_ROWS=1` runs the long variant (many more 50 MB rows).

mod common;
mod pg;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::audit::{assert_exactly, ops_by_key, settled_records, wait_committed};
use common::private::PrivateServers;
use common::process::{ApiSiphon, kafka_service};
use common::{Server, server};
use pg::TestDb;

/// SQL for a text of about `mb` megabytes that compresses poorly (hex digests).
fn big_text(mb: usize) -> String {
    format!(
        "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, {}) g)",
        mb * (1 << 20) / 32
    )
}

/// The service TOML on `bootstrap`, with the producer's message limit raised to 64 MiB, or
/// as is.
fn service(bootstrap: &str, db: &TestDb, raised: bool) -> String {
    let mut s = kafka_service(bootstrap, &server(Server::Registry), &db.name);
    if raised {
        s.push_str("[service.kafka.producer]\n\"message.max.bytes\" = \"67108864\"\n");
    }
    s
}

/// The memory limit siphon runs under in the big-rows test, and its peak-RSS bound.
const LIMIT_MIB: u64 = 800;

/// A memory cgroup (v1, as this machine has) holding one process under a hard limit: going
/// over it gets the process OOM-killed, which the test sees as siphon dying. `None` where
/// cgroups cannot be made (the peak-RSS check still runs).
struct MemoryLimit(std::path::PathBuf);

impl MemoryLimit {
    fn apply(pid: u32, mib: u64) -> Option<MemoryLimit> {
        let dir = std::path::PathBuf::from(format!("/sys/fs/cgroup/memory/siphon-test-{pid}"));
        std::fs::create_dir(&dir).ok()?;
        let limit = MemoryLimit(dir);
        let bytes = (mib << 20).to_string();
        std::fs::write(limit.0.join("memory.limit_in_bytes"), &bytes).ok()?;
        // No swap either, where the kernel accounts it.
        let _ = std::fs::write(limit.0.join("memory.memsw.limit_in_bytes"), &bytes);
        std::fs::write(limit.0.join("cgroup.procs"), pid.to_string()).ok()?;
        Some(limit)
    }

    /// The cgroup's OOM kills so far.
    fn oom_kills(&self) -> u64 {
        std::fs::read_to_string(self.0.join("memory.oom_control"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MemoryLimit {
    fn drop(&mut self) {
        // Empty once siphon is gone (it is killed before this is dropped).
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Peak resident set of a process, in MiB (VmHWM).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb / 1024
}

#[tokio::test]
async fn a_row_over_the_message_limit_fails_naming_it_and_arrives_once_the_limit_is_raised() {
    let broker = PrivateServers::start(&["kafka"]);
    let bootstrap = broker.address("SIPHON_TEST_KAFKA");
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute("CREATE TABLE docs (id bigint PRIMARY KEY, body text NOT NULL)")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let connector = db.connector_toml(&db.name, "");
    let mut siphon = ApiSiphon::start(
        dir.path(),
        &format!("{}{connector}", service(&bootstrap, &db, false)),
        &[],
    )
    .await;
    siphon.wait_state(&db.name, "RUNNING").await;
    sql.batch_execute(&format!(
        "INSERT INTO docs VALUES (1, 'small'); INSERT INTO docs VALUES (2, {}); \
         INSERT INTO docs VALUES (3, 'small');",
        big_text(2)
    ))
    .await
    .unwrap();
    siphon.wait_state(&db.name, "FAILED").await;
    let trace = siphon.trace(&db.name).await.unwrap();
    eprintln!("status of a 2 MB row with the default limit:\n{trace}");
    let topic = format!("{}.public.docs", db.name);
    for part in [
        "`public.docs` with key {id=2}",
        topic.as_str(),
        "2097",
        "restart the connector",
        "message.max.bytes",
        "column.exclude.list",
    ] {
        assert!(trace.contains(part), "the trace names {part}: {trace}");
    }
    // The slot kept the changes: with the limit raised, each arrives once.
    siphon.process.kill();
    let siphon = ApiSiphon::start(
        dir.path(),
        &format!("{}{connector}", service(&bootstrap, &db, true)),
        &[],
    )
    .await;
    let records = settled_records(
        &bootstrap,
        &server(Server::Registry),
        &topic,
        3,
        Duration::from_secs(90),
    )
    .await;
    let expected: BTreeMap<i64, String> = (1..=3).map(|id| (id, "c".to_owned())).collect();
    assert_exactly(&ops_by_key(&records), &expected);
    drop(siphon);
    db.drop().await;
}

/// Inserts `n` rows of `mb` MB from id `first`, `per_tx` rows per transaction.
async fn insert_big(sql: &tokio_postgres::Client, first: i64, n: i64, mb: usize, per_tx: i64) {
    let mut id = first;
    while id < first + n {
        let mut tx = String::from("BEGIN;");
        for _ in 0..per_tx.min(first + n - id) {
            tx.push_str(&format!(
                "INSERT INTO docs VALUES ({id}, {});",
                big_text(mb)
            ));
            id += 1;
        }
        tx.push_str("COMMIT;");
        sql.batch_execute(&tx).await.unwrap();
    }
}

#[tokio::test]
async fn rows_of_2_and_50_mb_snapshot_and_stream_with_bounded_memory() {
    let long = std::env::var("SIPHON_TEST_BIG_ROWS").is_ok_and(|v| v == "1");
    let fifties: i64 = if long { 20 } else { 8 };
    // A broker of its own: the local broker keeps everything in memory, and a gigabyte of
    // big records would stay in the shared one for every later test.
    let broker = PrivateServers::start(&["kafka"]);
    let bootstrap = broker.address("SIPHON_TEST_KAFKA");
    let db = TestDb::create().await;
    let sql = db.client().await;
    sql.batch_execute(
        "CREATE TABLE docs (id bigint PRIMARY KEY, body text NOT NULL);
         ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;",
    )
    .await
    .unwrap();
    // Snapshot: 2 MB rows, then 50 MB rows.
    insert_big(&sql, 1, 5, 2, 5).await;
    insert_big(&sql, 100, fifties, 50, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}{}",
        service(&bootstrap, &db, true),
        db.connector_toml(&db.name, "")
    );
    let started = Instant::now();
    let siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    let limit = MemoryLimit::apply(siphon.process.pid(), LIMIT_MIB);
    if limit.is_none() {
        eprintln!("no memory cgroup here: checking the peak RSS only");
    }
    siphon.wait_state(&db.name, "RUNNING").await;
    let topic = format!("{}.public.docs", db.name);
    wait_committed(&bootstrap, &topic, 5 + fifties as usize).await;
    let snapshot_peak = peak_rss_mib(siphon.process.pid());
    // Stream: 50 MB rows two per transaction (a transaction bigger than a batch's share of
    // the byte bound), and 2 MB rows.
    insert_big(&sql, 1000, fifties, 50, 2).await;
    insert_big(&sql, 2000, 5, 2, 5).await;
    let ids: Vec<i64> = (1..=5)
        .chain(100..100 + fifties)
        .chain(1000..1000 + fifties)
        .chain(2000..2005)
        .collect();
    let records = settled_records(
        &bootstrap,
        &server(Server::Registry),
        &topic,
        ids.len(),
        Duration::from_secs(if long { 900 } else { 300 }),
    )
    .await;
    let peak = peak_rss_mib(siphon.process.pid());
    eprintln!(
        "{} rows ({} of 50 MB, 10 of 2 MB) in {} s; siphon peak RSS {snapshot_peak} MiB \
         after the snapshot, {peak} MiB in all",
        ids.len(),
        2 * fifties,
        started.elapsed().as_secs()
    );
    if let Some(limit) = &limit {
        assert_eq!(limit.oom_kills(), 0, "siphon went over {LIMIT_MIB} MiB");
    }
    let expected: BTreeMap<i64, String> = ids
        .iter()
        .map(|&id| (id, if id < 1000 { "r" } else { "c" }.to_owned()))
        .collect();
    assert_exactly(&ops_by_key(&records), &expected);
    // What 50 MB rows cost when bounded: the queue's 128 MiB, one oversized batch going
    // alone, and its copies on the way (decoded text, Avro, the producer's buffer). Without
    // the bound a snapshot chunk or a batch holds every row at once.
    assert!(
        peak < LIMIT_MIB,
        "peak RSS {peak} MiB for {} rows of 50 MB",
        2 * fifties
    );
    drop(siphon);
    drop(limit);
    db.drop().await;
}
