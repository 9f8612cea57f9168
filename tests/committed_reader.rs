//! The committed reader against the real Kafka-protocol broker of this machine (Tansu).
//!
//! Test data comes from librdkafka (tests/produce_txns.py, confluent_kafka): committed, aborted,
//! non-transactional, interleaved and open transactions over 2 partitions. The broker must be
//! reachable: the test fails, never skips, when it is not.

mod common;

use common::{Server, server, unique_name};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value as Json;
use siphon::offsets::committed_reader::{CommittedRecord, ReadResult, ReaderError, read_committed};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const READ_TIMEOUT: Duration = Duration::from_secs(30);
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn kafka() -> String {
    server(Server::Kafka)
}

fn unique(prefix: &str) -> String {
    unique_name(prefix)
}

/// (partition, key, value, headers) of a written record, as the script reports it.
type Expected = (i32, String, Option<String>, Vec<(String, Option<String>)>);

fn as_expected(r: &CommittedRecord) -> Expected {
    let text = |b: &bytes::Bytes| String::from_utf8(b.to_vec()).expect("utf-8");
    (
        r.partition,
        r.key.as_ref().map(text).expect("key"),
        r.value.as_ref().map(text),
        r.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map(text)))
            .collect(),
    )
}

fn arr(v: &Json) -> &Vec<Json> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn text(v: &Json) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn written(report: &Json, fate: &[&str]) -> Vec<Expected> {
    arr(&report["written"])
        .iter()
        .filter(|w| fate.contains(&text(&w["fate"])))
        .map(|w| {
            (
                w["partition"].as_i64().expect("partition") as i32,
                text(&w["key"]).to_owned(),
                w["value"].as_str().map(str::to_owned),
                arr(&w["headers"])
                    .iter()
                    .map(|h| (text(&h[0]).to_owned(), h[1].as_str().map(str::to_owned)))
                    .collect(),
            )
        })
        .collect()
}

/// Per partition, in append order.
fn by_partition(records: Vec<Expected>) -> BTreeMap<i32, Vec<Expected>> {
    let mut out: BTreeMap<i32, Vec<Expected>> = BTreeMap::new();
    for r in records {
        out.entry(r.0).or_default().push(r);
    }
    out
}

fn got(result: &ReadResult) -> BTreeMap<i32, Vec<Expected>> {
    result
        .partitions
        .iter()
        .map(|p| (p.partition, p.records.iter().map(as_expected).collect()))
        .filter(|(_, v): &(i32, Vec<Expected>)| !v.is_empty())
        .collect()
}

fn keys_seen(report: &Json, isolation: &str) -> Vec<String> {
    let section = &report[isolation];
    assert!(
        section["reached_end"] == Json::Bool(true),
        "{isolation} consumer did not reach the end"
    );
    arr(&section["records"])
        .iter()
        .map(|r| text(&r["key"]).to_owned())
        .collect()
}

#[tokio::test]
async fn reads_exactly_the_committed_records_written_by_librdkafka() {
    let bootstrap = kafka();
    let topic = unique("committed_reader");
    let empty_topic = format!("{topic}_empty");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/produce_txns.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["scenario", &bootstrap, &topic, &empty_topic])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn python3 produce_txns.py");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let next_line = async |lines: &mut tokio::io::Lines<_>| {
        let line = tokio::time::timeout(SCRIPT_TIMEOUT, lines.next_line())
            .await
            .expect("produce_txns.py timed out")
            .expect("read produce_txns.py output")
            .expect("produce_txns.py exited early");
        let json: Json = serde_json::from_str(&line).expect("JSON from produce_txns.py");
        assert!(json["error"].is_null(), "produce_txns.py: {line}");
        json
    };
    let report = next_line(&mut lines).await;

    // The defect this reader works around: librdkafka's read_committed on Tansu returns the
    // records of ABORTED transactions (it hides only the open one).
    let aborted_keys: Vec<String> = written(&report, &["abort"])
        .into_iter()
        .map(|r| r.1)
        .collect();
    let open_keys: Vec<String> = written(&report, &["open"])
        .into_iter()
        .map(|r| r.1)
        .collect();
    let rc = keys_seen(&report, "read_committed");
    let ru = keys_seen(&report, "read_uncommitted");
    eprintln!(
        "librdkafka read_committed saw {} records ({} of {} aborted, {} of {} open); \
         read_uncommitted saw {}",
        rc.len(),
        aborted_keys.iter().filter(|k| rc.contains(k)).count(),
        aborted_keys.len(),
        open_keys.iter().filter(|k| rc.contains(k)).count(),
        open_keys.len(),
        ru.len()
    );
    assert_eq!(aborted_keys.len(), 6);
    assert!(
        aborted_keys.iter().all(|k| rc.contains(k)),
        "librdkafka read_committed no longer sees aborted records: Tansu's defect is fixed?"
    );
    assert!(
        open_keys.iter().all(|k| !rc.contains(k)),
        "open records visible to read_committed"
    );

    // Our reader, while o1 is still open.
    let expected = by_partition(written(&report, &["commit", "plain"]));
    assert_eq!(expected.values().map(Vec::len).sum::<usize>(), 17);
    let result = read_committed(&bootstrap, &topic, READ_TIMEOUT)
        .await
        .expect("read_committed");
    assert_eq!(result.partitions.len(), 2);
    assert_eq!(got(&result), expected);
    assert_eq!(
        result.open_transactions(),
        2,
        "o1 is open on both partitions"
    );
    for p in &result.partitions {
        assert!(p.records.windows(2).all(|w| w[0].offset < w[1].offset));
        assert_eq!(
            p.aborted_transactions, 2,
            "a1 and a2 on partition {}",
            p.partition
        );
        assert_eq!(p.log_start_offset, 0);
        assert!(p.high_watermark > p.records.last().map_or(0, |r| r.offset));
    }
    let tombstone = result
        .records()
        .find(|r| r.key.as_deref() == Some(b"n1-1"))
        .expect("n1-1");
    assert_eq!(tombstone.value, None);
    assert!(result.records().all(|r| r.timestamp > 0));

    // Abort the open transaction: it is gone, nothing else changes.
    stdin.write_all(b"abort\n").await.expect("write to script");
    stdin.flush().await.expect("flush script stdin");
    assert_eq!(
        next_line(&mut lines).await["aborted_open"],
        Json::Bool(true)
    );
    let after = read_committed(&bootstrap, &topic, READ_TIMEOUT)
        .await
        .expect("read_committed after abort");
    assert_eq!(got(&after), expected);
    assert_eq!(after.open_transactions(), 0);
    assert!(after.partitions.iter().all(|p| p.aborted_transactions == 3));
    let status = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait())
        .await
        .expect("script exit")
        .expect("script status");
    assert!(status.success());

    // Partitions without records.
    let empty = read_committed(&bootstrap, &empty_topic, READ_TIMEOUT)
        .await
        .expect("read empty topic");
    assert_eq!(
        empty
            .partitions
            .iter()
            .map(|p| (p.partition, p.high_watermark))
            .collect::<Vec<_>>(),
        vec![(0, 0), (1, 0), (2, 0)]
    );
    assert_eq!(empty.records().count(), 0);
    assert_eq!(empty.open_transactions(), 0);
}

/// Several MiB in one partition: more than one Fetch (the reader asks for at most 4 MiB per
/// request; Tansu honours that limit, though not the per-partition one).
#[tokio::test]
async fn reads_a_large_partition_across_several_fetches() {
    let bootstrap = kafka();
    let topic = unique("committed_reader_bulk");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/produce_txns.py");
    let output = tokio::time::timeout(
        SCRIPT_TIMEOUT,
        Command::new("python3")
            .arg(&script)
            .args(["bulk", &bootstrap, &topic])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("produce_txns.py bulk timed out")
    .expect("run produce_txns.py bulk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "produce_txns.py bulk: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counts: Json = serde_json::from_str(stdout.trim()).expect("JSON from produce_txns.py");
    let count = |k: &str| counts[k].as_u64().expect("count") as usize;
    let result = read_committed(&bootstrap, &topic, READ_TIMEOUT)
        .await
        .expect("read_committed");
    let keys: Vec<String> = result
        .records()
        .map(|r| String::from_utf8(r.key.clone().expect("key").to_vec()).expect("utf-8"))
        .collect();
    let expected: Vec<String> = (0..count("commit"))
        .map(|i| format!("commit-{i}"))
        .chain((0..count("plain")).map(|i| format!("plain-{i}")))
        .collect();
    assert_eq!(keys.len(), expected.len());
    assert!(keys == expected, "keys out of order or wrong");
    let bytes: usize = result
        .records()
        .filter_map(|r| r.value.as_ref())
        .map(|v| v.len())
        .sum();
    eprintln!(
        "{} records, {bytes} value bytes, {} Fetch requests",
        keys.len(),
        result.fetch_requests
    );
    assert!(
        bytes > 4 << 20,
        "{bytes} bytes: too few to need several fetches"
    );
    assert!(result.fetch_requests >= 2, "{}", result.fetch_requests);
    let p = &result.partitions[0];
    assert_eq!((p.open_transactions, p.aborted_transactions), (0, 1));
    let min_value = count("value_bytes") - 4;
    assert!(
        result
            .records()
            .all(|r| r.value.as_ref().is_some_and(|v| v.len() >= min_value))
    );
}

#[tokio::test]
async fn unknown_topic_and_unreachable_broker_are_errors() {
    let bootstrap = kafka();
    let missing = unique("no_such_topic");
    match read_committed(&bootstrap, &missing, READ_TIMEOUT).await {
        Err(ReaderError::UnknownTopic(t)) => assert_eq!(t, missing),
        other => panic!("expected UnknownTopic, got {other:?}"),
    }

    // A port nothing listens on: refused at once, transient.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let err = read_committed(&format!("127.0.0.1:{port}"), "t", READ_TIMEOUT)
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, ReaderError::Io(_)), "{err:?}");
    assert!(err.is_transient());
}

/// Hole 5 of the exactly-once issue: an offsets topic the broker does not list is "nothing
/// committed" only for a read-only look. After the emitter made sure it exists, it is a broker
/// that has not caught up: a transient error, never `None` (which would re-snapshot all).
#[tokio::test]
async fn an_unlisted_offsets_topic_is_no_offsets_only_when_nothing_ensured_it() {
    use siphon::offsets::{KafkaOffsets, OffsetError, TopicPresence};
    let bootstrap = kafka();
    let topic = unique("never_created");
    let offsets = KafkaOffsets {
        bootstrap: &bootstrap,
        security: &siphon::config::KafkaSecurity::PLAINTEXT,
        topic: &topic,
        connector: "c",
        topic_prefix: "p",
    };
    let look = offsets
        .load(TopicPresence::Unknown, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(look, None);
    let started = std::time::Instant::now();
    let err = offsets
        .load(TopicPresence::Ensured, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OffsetError::TopicNotVisible { .. }) && err.is_transient(),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1), "it retried");
    assert!(err.to_string().contains(&topic), "{err}");
}
