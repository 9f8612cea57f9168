//! Start-up cost of reading a connector's offsets (issue 16): a big offsets topic shared with
//! many connectors loads the connector's newest committed position, a topic that is not
//! compacted is refused with the fix, and a broker that cannot be read is an error, never
//! "no offsets". Against the real broker (Tansu): the shared one, or a private one to stall.

mod common;
mod pg;

use std::time::{Duration, Instant};

use common::private::PrivateServers;
use common::process::{ApiSiphon, shared_kafka_config};
use common::{Server, server, unique_name};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use siphon::offsets::committed_reader::{crc32, read_committed, read_latest};
use siphon::offsets::{KafkaOffsets, OffsetError, PgPosition, Position, TopicPresence, offset_key};

const IDLE: Duration = Duration::from_secs(30);

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32, policy: Option<&str>) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    if let Some(p) = policy {
        new = new.set("cleanup.policy", p);
    }
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
    let results = admin.create_topics([&new], &opts).await.unwrap();
    for r in results {
        r.unwrap();
    }
}

fn producer(bootstrap: &str, txn_id: Option<&str>) -> ThreadedProducer<DefaultProducerContext> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000");
    if let Some(id) = txn_id {
        cfg.set("transactional.id", id);
    }
    cfg.create().unwrap()
}

fn pg(lsn: u64) -> Vec<u8> {
    Position::Postgres(PgPosition::after_commit(lsn)).to_json()
}

/// `n` non-transactional offset records of other connectors (keys as Kafka Connect writes
/// them), `per_key` records each.
fn write_others(p: &ThreadedProducer<DefaultProducerContext>, topic: &str, n: usize, tag: &str) {
    for i in 0..n {
        let key = offset_key(&format!("other-{tag}-{}", i % 5_000), "srv");
        let value = pg(i as u64 + 1);
        let mut record = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match p.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    p.flush(Duration::from_secs(120)).unwrap();
}

/// One transaction holding our offset record at `lsn`, committed or aborted.
fn write_ours(
    p: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    key: &[u8],
    lsn: u64,
    commit: bool,
) {
    p.begin_transaction().unwrap();
    let value = pg(lsn);
    p.send(BaseRecord::to(topic).key(key).payload(&value))
        .map_err(|(e, _)| e)
        .unwrap();
    p.flush(Duration::from_secs(30)).unwrap();
    if commit {
        p.commit_transaction(Duration::from_secs(30)).unwrap();
    } else {
        p.abort_transaction(Duration::from_secs(30)).unwrap();
    }
}

fn offsets<'a>(bootstrap: &'a str, topic: &'a str, connector: &'a str) -> KafkaOffsets<'a> {
    KafkaOffsets {
        bootstrap,
        security: &siphon::config::KafkaSecurity::PLAINTEXT,
        topic,
        connector,
        topic_prefix: "srv",
    }
}

/// Builds an offsets topic of `partitions` partitions with `others` records of other
/// connectors around ours: committed at 100, then committed at 200 (the answer), then an
/// aborted 300; `after` of the others come after the 200. Returns (topic, connector).
async fn big_topic(
    bootstrap: &str,
    partitions: i32,
    others: usize,
    after: usize,
) -> (String, String) {
    let topic = unique_name("offsets_load");
    let connector = format!("{topic}_me");
    create_topic(bootstrap, &topic, partitions, Some("compact")).await;
    let (b, t, c) = (bootstrap.to_owned(), topic.clone(), connector.clone());
    tokio::task::spawn_blocking(move || {
        let key = offset_key(&c, "srv");
        let plain = producer(&b, None);
        let ours = producer(&b, Some(&format!("{t}-txn")));
        ours.init_transactions(Duration::from_secs(30)).unwrap();
        write_ours(&ours, &t, &key, 100, true);
        write_others(&plain, &t, others - after, "a");
        write_ours(&ours, &t, &key, 200, true);
        write_others(&plain, &t, after, "b");
        write_ours(&ours, &t, &key, 300, false);
    })
    .await
    .unwrap();
    (topic, connector)
}

/// Returns the topic.
async fn loads_the_newest_position(partitions: i32, others: usize, after: usize) -> String {
    let bootstrap = server(Server::Kafka);
    let started = Instant::now();
    let (topic, connector) = big_topic(&bootstrap, partitions, others, after).await;
    let built = started.elapsed();
    let o = offsets(&bootstrap, &topic, &connector);
    let t = Instant::now();
    let got = o.load(TopicPresence::Ensured, IDLE).await.unwrap();
    let load = t.elapsed();
    assert_eq!(got, Some(Position::Postgres(PgPosition::after_commit(200))));
    let unknown = o.load(TopicPresence::Unknown, IDLE).await.unwrap();
    assert_eq!(unknown, got);
    let t = Instant::now();
    // For the measurement: reading the whole topic, as the load did before.
    let whole = read_committed(&bootstrap, &topic, Duration::from_secs(600))
        .await
        .unwrap();
    let whole_time = t.elapsed();
    assert_eq!(whole.records().count(), others + 2);
    let key = offset_key(&connector, "srv");
    let latest = read_latest(&bootstrap, &topic, &key, IDLE).await.unwrap();
    // librdkafka's default partitioner put it where the reader looks first.
    let hashed = (crc32(&key) % partitions as u32) as i32;
    assert_eq!(latest.record.as_ref().map(|r| r.partition), Some(hashed));
    assert_eq!(
        latest.record.map(|r| r.value),
        whole
            .records()
            .filter(|r| r.key.as_deref() == Some(&key))
            .last()
            .map(|r| r.value.clone())
    );
    eprintln!(
        "{partitions} partition(s), {} records, {after} after ours: built in {built:?}; \
         load {load:?} ({} fetches, {} records decoded); whole-topic read {whole_time:?} \
         ({} fetches)",
        others + 3,
        latest.fetch_requests,
        latest.records_scanned,
        whole.fetch_requests
    );
    // A connector with nothing committed: every partition read to its start, and no offsets.
    let none = offsets(&bootstrap, &topic, "never-ran");
    assert_eq!(none.load(TopicPresence::Ensured, IDLE).await.unwrap(), None);
    topic
}

#[tokio::test]
async fn a_big_offsets_topic_loads_the_newest_committed_position() {
    loads_the_newest_position(1, 20_000, 10_000).await;
}

#[tokio::test]
async fn the_key_is_found_on_any_partition_of_a_partitioned_topic() {
    let topic = loads_the_newest_position(4, 4_000, 2_000).await;
    // Written by another partitioner: not where the key hashes to, found all the same.
    let (bootstrap, connector) = (server(Server::Kafka), format!("{topic}_elsewhere"));
    let key = offset_key(&connector, "srv");
    let elsewhere = ((crc32(&key) + 1) % 4) as i32;
    let (b, t, k) = (bootstrap.clone(), topic.clone(), key.clone());
    tokio::task::spawn_blocking(move || {
        let p = producer(&b, None);
        let value = pg(700);
        p.send(
            BaseRecord::to(&t)
                .key(&k)
                .payload(&value)
                .partition(elsewhere),
        )
        .map_err(|(e, _)| e)
        .unwrap();
        p.flush(Duration::from_secs(30)).unwrap();
    })
    .await
    .unwrap();
    let got = offsets(&bootstrap, &topic, &connector)
        .load(TopicPresence::Ensured, IDLE)
        .await
        .unwrap();
    assert_eq!(got, Some(Position::Postgres(PgPosition::after_commit(700))));
}

/// The figure for the issue: `cargo nextest run --test offsets_load --run-ignored only`.
#[tokio::test]
#[ignore = "a measurement (200k records), not a check CI needs"]
async fn measure_loading_200k_offset_records() {
    for after in [1_000, 100_000, 199_000] {
        loads_the_newest_position(1, 200_000, after).await;
    }
}

#[tokio::test]
async fn an_offsets_topic_that_is_not_compacted_is_refused() {
    let bootstrap = server(Server::Kafka);
    for policy in [Some("delete"), None, Some("compact,delete")] {
        let topic = unique_name("offsets_not_compact");
        create_topic(&bootstrap, &topic, 1, policy).await;
        for presence in [TopicPresence::Ensured, TopicPresence::Unknown] {
            let err = offsets(&bootstrap, &topic, "c")
                .load(presence, IDLE)
                .await
                .unwrap_err();
            let text = err.to_string();
            assert!(!err.is_transient(), "{text}");
            assert!(
                text.contains(&format!("`{topic}` is not compacted")),
                "{text}"
            );
            assert!(
                text.contains(&format!(
                    "--alter --entity-type topics --entity-name {topic} \
                     --add-config cleanup.policy=compact"
                )),
                "{text}"
            );
            match policy {
                Some(p) => assert!(text.contains(&format!("(cleanup.policy: {p})")), "{text}"),
                None => assert!(text.contains("broker default, delete"), "{text}"),
            }
        }
    }
}

#[tokio::test]
async fn a_broker_that_cannot_be_read_is_an_error_not_no_offsets() {
    let broker = PrivateServers::start(&["kafka"]);
    let bootstrap = broker.address("SIPHON_TEST_KAFKA");
    let (topic, connector) = big_topic(&bootstrap, 1, 2_000, 1_000).await;
    let o = offsets(&bootstrap, &topic, &connector);
    let idle = Duration::from_secs(2);
    let expected = Some(Position::Postgres(PgPosition::after_commit(200)));
    assert_eq!(
        o.load(TopicPresence::Unknown, idle).await.unwrap(),
        expected
    );

    // Stalled: connections are accepted by the kernel, nothing answers.
    broker.signal("kafka", "STOP");
    for presence in [TopicPresence::Unknown, TopicPresence::Ensured] {
        let t = Instant::now();
        let err = o.load(presence, idle).await.unwrap_err();
        assert!(t.elapsed() < idle * 5, "{:?}", t.elapsed());
        let text = err.to_string();
        assert!(err.is_transient(), "{text}");
        assert!(matches!(err, OffsetError::Kafka { .. }), "{text}");
        assert!(text.contains(&format!("`{topic}`")), "{text}");
        assert!(text.contains("did not answer within 2s"), "{text}");
    }
    broker.signal("kafka", "CONT");
    assert_eq!(
        o.load(TopicPresence::Ensured, idle).await.unwrap(),
        expected
    );

    // Gone: the connection is refused.
    broker.signal("kafka", "KILL");
    tokio::time::sleep(Duration::from_millis(500)).await;
    for presence in [TopicPresence::Unknown, TopicPresence::Ensured] {
        let err = o.load(presence, idle).await.unwrap_err();
        let text = err.to_string();
        assert!(err.is_transient(), "{text}");
        assert!(text.contains(&format!("`{topic}`")), "{text}");
        assert!(text.contains("connection failed"), "{text}");
    }
}

/// The whole service: a connector whose offsets topic exists uncompacted stops FAILED with the
/// fix, rather than running on offsets the broker will delete.
#[tokio::test]
async fn a_connector_on_an_uncompacted_offsets_topic_fails_with_the_fix() {
    let db = pg::TestDb::create().await;
    let bootstrap = server(Server::Kafka);
    let offsets_topic = format!("{}-offsets", db.name);
    create_topic(&bootstrap, &offsets_topic, 1, Some("delete")).await;
    let config = shared_kafka_config(&db.name, &db.connector_toml(&db.name, ""));
    let dir = tempfile::tempdir().unwrap();
    let siphon = ApiSiphon::start(dir.path(), &config, &[]).await;
    siphon.wait_state(&db.name, "FAILED").await;
    let trace = siphon.trace(&db.name).await.unwrap_or_default();
    eprintln!("FAILED trace: {trace}");
    assert!(
        trace.contains(&format!(
            "`{offsets_topic}` is not compacted (cleanup.policy: delete)"
        )),
        "{trace}"
    );
    assert!(
        trace.contains("--add-config cleanup.policy=compact"),
        "{trace}"
    );
}
