//! The newest committed record of one key (a connector's offsets), read backwards from the end.
//!
//! Why backwards: only the newest record of the key matters, and the offsets topic holds the
//! records of every connector (compaction keeps one per key, but uncompacted segments and many
//! connectors still make it long). Windows of the log are read from the high watermark down,
//! growing ×4, until the key's newest delivered record is found or the log start is reached.
//!
//! Transactions work backwards too: a transactional record's fate is decided by its producer's
//! first COMMIT/ABORT marker after it, and everything after it has been read by then. No marker
//! up to the high watermark: the transaction is open.
//!
//! Which partition: the one librdkafka's default partitioner (`consistent_random`: CRC-32 of
//! the key modulo the partition count) sends the key to is read first; the others only when the
//! key is not found there (another partitioner, or a changed partition count).

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, DescribeConfigsRequest, FetchRequest};
use kafka_protocol::protocol::StrBytes;

use super::batch::{decode_batch, split_batches};
use super::{
    BatchKind, CommittedRecord, Conn, ControlType, DecodedBatch, FETCH_MAX_WAIT_MS, FETCH_VERSIONS,
    MAX_IDLE_FETCHES, PARTITION_MAX_BYTES, PARTITION_MAX_BYTES_CAP, ReaderError, Security,
    connect_bootstrap, leaders, log_starts, topic_name,
};
use crate::config::KafkaSecurity;

/// Offsets in the first window; each next window is 4 times larger, up to the last.
const FIRST_WINDOW: i64 = 4_096;
const LAST_WINDOW: i64 = 1 << 20;
const DESCRIBE_CONFIGS_VERSIONS: (i16, i16) = (1, 4);
const TOPIC_RESOURCE: i8 = 2;

/// What [`read_latest`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatestRead {
    /// The key's newest committed or non-transactional record.
    pub record: Option<CommittedRecord>,
    /// The key's records newer than `record` in transactions still open (no marker below the
    /// high watermark): their outcome may still change the answer.
    pub open_after: Vec<CommittedRecord>,
    /// Fetch requests sent and records decoded (diagnostics).
    pub fetch_requests: usize,
    pub records_scanned: usize,
}

/// The topic's `cleanup.policy` values; empty when the broker reports none (Tansu lists only
/// the configs set on the topic, so the broker default, `delete`, applies).
async fn cleanup_policy(conn: &mut Conn, topic: &str) -> Result<Vec<String>, ReaderError> {
    let version = conn.version(ApiKey::DescribeConfigs, DESCRIBE_CONFIGS_VERSIONS)?;
    let request = DescribeConfigsRequest::default().with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(TOPIC_RESOURCE)
            .with_resource_name(StrBytes::from_string(topic.to_owned()))
            // All configs: Tansu drops the connection when asked for named keys.
            .with_configuration_keys(None),
    ]);
    let response = conn
        .call(ApiKey::DescribeConfigs, &request, version)
        .await?;
    let mut out = Vec::new();
    for result in &response.results {
        if result.error_code != 0 {
            return Err(ReaderError::Broker {
                api: "DescribeConfigs",
                code: result.error_code,
            });
        }
        out.extend(
            result
                .configs
                .iter()
                .filter(|c| c.name.as_str() == "cleanup.policy")
                .filter_map(|c| c.value.as_ref())
                .flat_map(|v| v.split(',').map(|p| p.trim().to_owned()))
                .filter(|p| !p.is_empty()),
        );
    }
    Ok(out)
}

/// Whether a topic with these `cleanup.policy` values keeps each key's newest record forever,
/// as Kafka Connect requires of its offsets topic (exactly `compact`: `compact,delete` still
/// deletes old offsets).
pub fn is_compact_only(policy: &[String]) -> bool {
    !policy.is_empty() && policy.iter().all(|p| p == "compact")
}

/// CRC-32 (IEEE), as librdkafka's `consistent` partitioners hash keys.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// The newest committed record with `key` in `topic`. Each connect or request may go
/// unanswered for at most `idle` (then `Stalled`, transient); there is no limit on the whole
/// read as long as the broker answers. An offsets topic that is not compacted is refused
/// (`NotCompacted`) before anything is read.
pub async fn read_latest(
    bootstrap: &str,
    topic: &str,
    key: &[u8],
    idle: Duration,
) -> Result<LatestRead, ReaderError> {
    read_latest_with(bootstrap, &KafkaSecurity::PLAINTEXT, topic, key, idle).await
}

/// [`read_latest`] with TLS and SASL as `security` says.
pub async fn read_latest_with(
    bootstrap: &str,
    security: &KafkaSecurity,
    topic: &str,
    key: &[u8],
    idle: Duration,
) -> Result<LatestRead, ReaderError> {
    let security = Security::new(security)?;
    let mut conn = connect_bootstrap(bootstrap, idle, &security).await?;
    let leaders = leaders(&mut conn, topic).await?;
    let policy = cleanup_policy(&mut conn, topic).await?;
    if !is_compact_only(&policy) {
        return Err(ReaderError::NotCompacted {
            topic: topic.to_owned(),
            policy: if policy.is_empty() {
                "not set, so the broker default, delete".to_owned()
            } else {
                policy.join(",")
            },
        });
    }
    let mut order: Vec<i32> = leaders.keys().copied().collect();
    if let Ok(n) = u32::try_from(order.len())
        && n > 0
    {
        let first = usize::try_from(crc32(key) % n).unwrap_or(0);
        order.rotate_left(first);
    }
    let mut out = LatestRead::default();
    for partition in order {
        let leader = &leaders[&partition];
        if *leader != conn.addr {
            conn = Conn::connect(leader, idle, conn.security.clone()).await?;
        }
        let mut scan = Scan::new(partition, key);
        let found = scan.run(&mut conn, topic).await;
        out.fetch_requests += scan.fetches;
        out.records_scanned += scan.records;
        out.open_after.append(&mut scan.open_after);
        let progress = scan.progress();
        if found.map_err(|e| e.interrupted(progress))? {
            out.record = scan.found;
            break;
        }
    }
    out.open_after.sort_by_key(|r| (r.partition, r.offset));
    Ok(out)
}

impl ReaderError {
    fn interrupted(self, progress: String) -> ReaderError {
        ReaderError::Interrupted {
            progress,
            source: Box::new(self),
        }
    }
}

/// The backward scan of one partition.
struct Scan<'a> {
    partition: i32,
    key: &'a [u8],
    log_start: i64,
    /// Everything from `low` to `end` (the high watermark) has been read.
    low: i64,
    end: i64,
    /// Per producer, its first marker at or after `low`.
    markers: HashMap<i64, ControlType>,
    found: Option<CommittedRecord>,
    open_after: Vec<CommittedRecord>,
    fetches: usize,
    records: usize,
}

impl<'a> Scan<'a> {
    fn new(partition: i32, key: &'a [u8]) -> Self {
        Scan {
            partition,
            key,
            log_start: -1,
            low: -1,
            end: -1,
            markers: HashMap::new(),
            found: None,
            open_after: Vec::new(),
            fetches: 0,
            records: 0,
        }
    }

    fn progress(&self) -> String {
        if self.end < 0 {
            return format!("partition {}: nothing yet", self.partition);
        }
        format!(
            "partition {}: offsets {}..{} of {}..{} (read backwards), {} records in {} fetches",
            self.partition,
            self.low,
            self.end,
            self.log_start,
            self.end,
            self.records,
            self.fetches
        )
    }

    /// `true` once the key's newest delivered record is found.
    async fn run(&mut self, conn: &mut Conn, topic: &str) -> Result<bool, ReaderError> {
        let starts = log_starts(conn, topic, &[self.partition]).await?;
        self.log_start = starts.get(&self.partition).copied().unwrap_or(0).max(0);
        // The high watermark comes with a Fetch (Tansu's ListOffsets LATEST can fall short).
        let (hw, _) = self.fetch(conn, topic, self.log_start, 1).await?;
        self.end = hw.max(self.log_start);
        self.low = self.end;
        let mut window = FIRST_WINDOW;
        while self.low > self.log_start {
            let from = (self.low - window).max(self.log_start);
            let batches = self.read_range(conn, topic, from, self.low).await?;
            self.low = from;
            if self.apply_backwards(batches) {
                return Ok(true);
            }
            window = (window * 4).min(LAST_WINDOW);
        }
        Ok(false)
    }

    /// One Fetch of the partition at `offset`: the high watermark and the raw records.
    async fn fetch(
        &mut self,
        conn: &mut Conn,
        topic: &str,
        offset: i64,
        max_bytes: i32,
    ) -> Result<(i64, Bytes), ReaderError> {
        let version = conn.version(ApiKey::Fetch, FETCH_VERSIONS)?;
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(FETCH_MAX_WAIT_MS)
            .with_min_bytes(1)
            .with_max_bytes(max_bytes)
            .with_isolation_level(0)
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic_name(topic))
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_partition(self.partition)
                            .with_fetch_offset(offset)
                            .with_partition_max_bytes(max_bytes),
                    ]),
            ]);
        let response = conn.call(ApiKey::Fetch, &request, version).await?;
        self.fetches += 1;
        if response.error_code != 0 {
            return Err(ReaderError::Broker {
                api: "Fetch",
                code: response.error_code,
            });
        }
        let p = response
            .responses
            .into_iter()
            .flat_map(|t| t.partitions)
            .find(|p| p.partition_index == self.partition)
            .ok_or_else(|| {
                ReaderError::Protocol(format!(
                    "Fetch answered without partition {}",
                    self.partition
                ))
            })?;
        if p.error_code != 0 {
            return Err(ReaderError::Broker {
                api: "Fetch",
                code: p.error_code,
            });
        }
        Ok((p.high_watermark, p.records.unwrap_or_default()))
    }

    /// The batches holding offsets `from..to`, in log order, cut to that range.
    async fn read_range(
        &mut self,
        conn: &mut Conn,
        topic: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<DecodedBatch>, ReaderError> {
        let (mut next, mut max_bytes, mut idle) = (from, PARTITION_MAX_BYTES, 0);
        let mut out = Vec::new();
        while next < to {
            let (_, records) = self.fetch(conn, topic, next, max_bytes).await?;
            let (raw, truncated) = split_batches(records)?;
            let before = next;
            for raw in raw {
                let (after, batch) = decode_batch(raw, self.partition, from, to)?;
                out.extend(batch);
                next = next.max(after);
            }
            if next > before {
                idle = 0;
            } else if truncated && max_bytes < PARTITION_MAX_BYTES_CAP {
                max_bytes = max_bytes.saturating_mul(2);
            } else {
                idle += 1;
                if idle >= MAX_IDLE_FETCHES {
                    return Err(ReaderError::Protocol(format!(
                        "Fetch makes no progress at offset {next} below {to}"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Goes through `batches` (just below what was read before) from the newest record down;
    /// `true` when the key's newest delivered record is among them.
    fn apply_backwards(&mut self, batches: Vec<DecodedBatch>) -> bool {
        for batch in batches.into_iter().rev() {
            let fate = match batch.kind {
                BatchKind::Control(ControlType::Other(_)) => continue,
                BatchKind::Control(kind) => {
                    self.markers.insert(batch.producer_id, kind);
                    continue;
                }
                BatchKind::Data {
                    transactional: false,
                } => Some(ControlType::Commit),
                BatchKind::Data {
                    transactional: true,
                } => self.markers.get(&batch.producer_id).copied(),
            };
            self.records += batch.records.len();
            for record in batch.records.into_iter().rev() {
                if record.key.as_deref() != Some(self.key) {
                    continue;
                }
                match fate {
                    Some(ControlType::Commit) => {
                        self.found = Some(record);
                        return true;
                    }
                    None => self.open_after.push(record),
                    Some(_) => {}
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_checksum() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn only_compact_is_compact() {
        let p = |s: &str| -> Vec<String> { s.split(',').map(str::to_owned).collect() };
        assert!(is_compact_only(&p("compact")));
        assert!(!is_compact_only(&p("compact,delete")));
        assert!(!is_compact_only(&p("delete")));
        assert!(!is_compact_only(&[]));
    }

    fn rec(offset: i64, key: &str) -> CommittedRecord {
        CommittedRecord {
            partition: 0,
            offset,
            key: Some(Bytes::from(key.to_owned())),
            value: Some(Bytes::from(format!("v{offset}"))),
            headers: Vec::new(),
            timestamp: 0,
        }
    }

    fn data(pid: i64, transactional: bool, records: Vec<CommittedRecord>) -> DecodedBatch {
        DecodedBatch {
            producer_id: pid,
            kind: BatchKind::Data { transactional },
            records,
        }
    }

    fn marker(pid: i64, kind: ControlType) -> DecodedBatch {
        DecodedBatch {
            producer_id: pid,
            kind: BatchKind::Control(kind),
            records: Vec::new(),
        }
    }

    #[test]
    fn newest_committed_wins_over_newer_aborted_and_open() {
        let mut scan = Scan::new(0, b"me");
        let batches = vec![
            data(1, true, vec![rec(0, "me"), rec(1, "other")]),
            marker(1, ControlType::Commit),
            data(2, false, vec![rec(3, "other")]),
            data(1, true, vec![rec(4, "me")]),
            marker(1, ControlType::Abort),
            data(3, true, vec![rec(6, "me")]),
        ];
        assert!(scan.apply_backwards(batches));
        assert_eq!(scan.found.map(|r| r.offset), Some(0));
        assert_eq!(
            scan.open_after.iter().map(|r| r.offset).collect::<Vec<_>>(),
            [6]
        );
    }

    #[test]
    fn markers_from_a_later_window_decide_an_earlier_one() {
        let mut scan = Scan::new(0, b"me");
        // The newer window: only the commit marker of producer 5.
        assert!(!scan.apply_backwards(vec![marker(5, ControlType::Commit)]));
        // The older window: producer 5's record, and a non-transactional one before it.
        let older = vec![
            data(9, false, vec![rec(0, "me")]),
            data(5, true, vec![rec(1, "me")]),
        ];
        assert!(scan.apply_backwards(older));
        assert_eq!(scan.found.map(|r| r.offset), Some(1));
        assert!(scan.open_after.is_empty());
    }
}
