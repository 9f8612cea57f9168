//! Exactly once across crashes: `siphon run` is SIGKILLed at each step of a Kafka
//! transaction, restarted, and the transaction-aware audit reader checks that every change is
//! in the topic exactly once and the offsets topic only moves forward.
//!
//! What the test broker's defect (its Fetch never lists aborted transactions, so librdkafka's
//! read_committed consumers see aborted records) would have hidden at each kill point:
//! - before_produce: nothing; the transaction has no records yet.
//! - after_data (data produced, no offset record): the aborted data records. A librdkafka
//!   read_committed consumer sees them *and* their re-sent copies: duplicates. Proven below by
//!   counting what librdkafka delivers against what the audit reader delivers.
//! - before_commit (data and offset record produced, not committed): also the aborted offset
//!   record. Offset recovery through librdkafka would resume after it and skip the aborted
//!   batch for good: loss. Proven below by finding an offset record in the log that the audit
//!   reader drops (librdkafka sees more offset records than were committed).
//! - after_commit: nothing; the batch is committed, and the source, not yet acknowledged,
//!   sends it again, which the reader skips by position.

mod common;
mod pg;

use std::collections::HashMap;
use std::time::Duration;

use common::process::SiphonProcess;
use common::{Server, server, unique_name, wait_for};
use pg::TestDb;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use siphon::offsets::committed_reader::read_committed;

const PRELOADED: i64 = 10_000;
const STREAMED: i64 = 10_000;

/// Every record librdkafka's read_committed consumer returns for `topic` (one partition).
fn librdkafka_count(bootstrap: &str, topic: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("audit"))
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut n = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let _ = m.offset();
                n += 1;
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => break,
            _ => {}
        }
    }
    n
}

#[tokio::test]
async fn sigkill_at_every_transaction_step_loses_and_duplicates_nothing() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client
        .batch_execute(&format!(
            "CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
             INSERT INTO events SELECT g, 'preloaded ' || g FROM generate_series(1, {PRELOADED}) g;"
        ))
        .await
        .unwrap();
    let bootstrap = server(Server::Kafka);
    let offsets_topic = format!("{}-offsets", db.name);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[service]\nschema_registry_url = \"{}\"\n[service.kafka]\nbootstrap_servers = \"{bootstrap}\"\noffsets_topic = \"{offsets_topic}\"\n{}",
        server(Server::Registry),
        db.connector_toml(
            &db.name,
            "\"snapshot.fetch.size\" = 500\n\"max.batch.size\" = 500"
        ),
    );
    let log = dir.path().join("siphon.log");
    let spawn = |fault: Option<&str>| {
        SiphonProcess::start(
            dir.path(),
            &config,
            &[("SIPHON_FAULT", fault.unwrap_or(""))],
        )
    };
    let topic = format!("{}.public.events", db.name);

    // The snapshot first, then a plain SIGKILL. (A snapshot interrupted mid-way resumes in a
    // new snapshot, which is at-least-once for rows changed meanwhile; see the README.)
    let mut child = spawn(None);
    wait_for(
        "the snapshot in the topic",
        Duration::from_secs(120),
        || {
            let (b, t) = (bootstrap.clone(), topic.clone());
            async move {
                let r = read_committed(&b, &t, Duration::from_secs(30)).await.ok()?;
                (r.records().count() >= PRELOADED as usize).then_some(())
            }
        },
    )
    .await;
    child.kill();
    client
        .batch_execute(&format!(
            "DO $$ BEGIN FOR i IN 0..49 LOOP \
               INSERT INTO events SELECT g, 'streamed ' || g \
               FROM generate_series({PRELOADED} + i * 200 + 1, {PRELOADED} + i * 200 + 200) g; \
               COMMIT; END LOOP; END $$"
        ))
        .await
        .unwrap();
    // Then a kill at each step of a transaction, while streaming.
    for fault in [
        "after_data:3",
        "before_commit:3",
        "before_produce:3",
        "after_commit:3",
    ] {
        let mut child = spawn(Some(fault));
        let point = fault.split(':').next().unwrap();
        wait_for(&format!("fault {fault}"), Duration::from_secs(120), || {
            let reached = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(&format!("SIPHON_FAULT_REACHED {point}"));
            async move { reached.then_some(()) }
        })
        .await;
        child.kill();
        // Clear the marker so the next run's wait is not fooled by this one.
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::write(&log, text.replace("SIPHON_FAULT_REACHED", "(killed at)")).unwrap();
    }

    // A last run without faults finishes the job.
    let mut child = spawn(None);
    let total = (PRELOADED + STREAMED) as usize;
    let result = wait_for(
        "every change in the topic",
        Duration::from_secs(180),
        || {
            let (b, t) = (bootstrap.clone(), topic.clone());
            async move {
                let r = read_committed(&b, &t, Duration::from_secs(30)).await.ok()?;
                (r.records().count() >= total).then_some(r)
            }
        },
    )
    .await;
    child.kill();

    // Exactly once: every id once, no more.
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for r in result.records() {
        let value = r
            .value
            .as_ref()
            .expect("no tombstones in an insert-only workload");
        // Confluent framing: magic byte, 4-byte schema id, then the Avro envelope. The key
        // holds the id: magic, id, then a zig-zag varint long.
        assert_eq!(value[0], 0);
        let key = r.key.as_ref().unwrap();
        let id = zigzag_long(&key[5..]);
        *seen.entry(id).or_default() += 1;
    }
    let dups: Vec<_> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        dups.is_empty(),
        "duplicated ids: {:?}",
        &dups[..dups.len().min(10)]
    );
    assert_eq!(seen.len(), total, "every id exactly once");
    assert!((1..=PRELOADED + STREAMED).all(|id| seen.contains_key(&id)));

    // The offsets topic only moves forward.
    let positions = common::audit::offsets_never_step_back(&bootstrap, &offsets_topic).await;
    let offsets = read_committed(&bootstrap, &offsets_topic, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(positions.len() >= 30, "{} offset records", positions.len());

    // What the defect would have hidden: aborted transactions are in both logs, and
    // librdkafka's read_committed returns their records.
    let aborted_data: usize = result
        .partitions
        .iter()
        .map(|p| p.aborted_transactions)
        .sum();
    let aborted_offsets: usize = offsets
        .partitions
        .iter()
        .map(|p| p.aborted_transactions)
        .sum();
    assert!(
        aborted_data >= 2,
        "after_data and before_commit leave aborted data: {aborted_data}"
    );
    assert!(
        aborted_offsets >= 1,
        "before_commit leaves an aborted offset record: {aborted_offsets}"
    );
    let librdkafka_data = librdkafka_count(&bootstrap, &topic);
    let librdkafka_offsets = librdkafka_count(&bootstrap, &offsets_topic);
    assert!(
        librdkafka_data > total,
        "librdkafka read_committed would see {librdkafka_data} records (duplicates) for {total} changes"
    );
    assert!(
        librdkafka_offsets > positions.len(),
        "librdkafka read_committed would see aborted offset records ({librdkafka_offsets} vs {})",
        positions.len()
    );
    db.drop().await;
}

/// Avro's zig-zag varint long.
fn zigzag_long(bytes: &[u8]) -> i64 {
    let mut n: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}
