//! Exact `read_committed` of a whole topic, rebuilt from the raw log.
//!
//! Why: the test broker (Tansu, design §9) never lists aborted transactions in its Fetch
//! responses, so a librdkafka `read_committed` consumer also returns records of ABORTED
//! transactions. Tansu does write real COMMIT/ABORT control batches into the log, so this module
//! fetches with `READ_UNCOMMITTED` (every batch, control batches included) and filters itself:
//! per producer id, transactional records are held until that producer's next control record,
//! delivered on COMMIT, dropped on ABORT; non-transactional records are delivered at once; a
//! transaction without a marker below the high watermark (of the first Fetch) is *open*: its
//! records are not delivered, only counted.
//!
//! The client is a minimal one over `tokio::net::TcpStream` and `kafka-protocol` messages:
//! ApiVersions → Metadata (partition leaders) → ListOffsets (log start) → Fetch (its first
//! response fixes the high watermark to read up to).
//! TLS and SASL (PLAIN, SCRAM) follow `[service.kafka.security]` (`conn.rs`, `sasl.rs`).
//! No fetch sessions, no retries (the caller classifies with
//! [`ReaderError::is_transient`] and retries the whole read).
//!
//! [`read_latest`] (the offsets load) reads only what it needs: the newest committed record of
//! one key, backwards from the end (see `latest.rs`), after checking the topic is compacted.
//! Its requests are bounded one by one (`Stalled`), not the whole read.
//!
//! Differences from Kafka's own `read_committed`: a consumer stops at the last stable offset
//! (the first open transaction); this reader reads to the high watermark, so committed and
//! non-transactional records *after* an open transaction are delivered too. Record headers come
//! through `kafka-protocol`'s decoder, which keeps one entry per header key (the last value).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, ListOffsetsRequest, MetadataRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::config::KafkaSecurity;

mod batch;
mod conn;
mod latest;
mod sasl;
pub mod scram;

use batch::Cursor;
use conn::{Conn, Security, connect_bootstrap};
// The fuzz targets decode raw batches as the reader does (see `crate::fuzzing`).
pub(crate) use batch::{decode_batch, split_batches};
pub use latest::{LatestRead, crc32, read_latest, read_latest_with};

/// One delivered record: committed-transactional or non-transactional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// In record order; one entry per header key (see the module docs).
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Milliseconds since the epoch, as written in the batch.
    pub timestamp: i64,
}

/// What was read from one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRecords {
    pub partition: i32,
    /// The first offset that was read (the log start at the time of the call).
    pub log_start_offset: i64,
    /// The high watermark in the first Fetch response: everything below it was read.
    pub high_watermark: i64,
    /// Committed and non-transactional records, in offset order.
    pub records: Vec<CommittedRecord>,
    /// Producers with transactional records but no COMMIT/ABORT marker below the high watermark.
    pub open_transactions: usize,
    /// The records of those open transactions, in offset order: not delivered, but an offsets
    /// reader must know whether one of its own is among them (its outcome is not settled).
    pub open_records: Vec<CommittedRecord>,
    /// Transactions whose ABORT marker was read (their records were dropped).
    pub aborted_transactions: usize,
}

/// Every partition of the topic, in partition order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadResult {
    pub partitions: Vec<PartitionRecords>,
    /// Fetch requests sent (diagnostics).
    pub fetch_requests: usize,
}

impl ReadResult {
    /// All delivered records, partition by partition, in offset order within each.
    pub fn records(&self) -> impl Iterator<Item = &CommittedRecord> {
        self.partitions.iter().flat_map(|p| p.records.iter())
    }

    /// Open transactions over all partitions (one transaction spanning two partitions counts
    /// twice: the log has no transaction ids, only producer ids per partition).
    pub fn open_transactions(&self) -> usize {
        self.partitions.iter().map(|p| p.open_transactions).sum()
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("Kafka connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("Kafka protocol error: {0}")]
    Protocol(String),
    #[error("Kafka {api} returned error {code} ({})", error_name(*.code))]
    Broker { api: &'static str, code: i16 },
    /// `[service.kafka.security]` cannot be used (a file, a combination).
    #[error("Kafka security settings: {0}")]
    Config(String),
    #[error(
        "TLS with broker {addr} failed: {detail}; check service.kafka.security \
         (ssl.ca.location, ssl.endpoint.identification.algorithm, security.protocol, \
         ssl.certificate.location, ssl.key.location)"
    )]
    Tls { addr: String, detail: String },
    #[error(
        "SASL authentication ({mechanism}) with broker {addr} failed: {detail}; check \
         service.kafka.security sasl.username and sasl.password (or SIPHON_KAFKA_SASL_PASSWORD)"
    )]
    Auth {
        addr: String,
        mechanism: &'static str,
        detail: String,
    },
    #[error(
        "broker {addr} answered with TLS: its listener expects TLS; set \
         service.kafka.security \"security.protocol\" = \"SSL\" (or \"SASL_SSL\")"
    )]
    NotPlaintext { addr: String },
    /// Retried (a restarting broker also closes), but the message names the likely cause.
    #[error(
        "broker {addr} closed the connection at the first request ({detail}); if its listener \
         uses TLS, set service.kafka.security \"security.protocol\" = \"SSL\" (or \"SASL_SSL\")"
    )]
    ClosedAtStart { addr: String, detail: String },
    #[error("Kafka topic {0:?} does not exist")]
    UnknownTopic(String),
    #[error("reading the topic did not finish within {0:?}")]
    Timeout(Duration),
    /// A connect or request that got no answer: the read stalls, it is not merely long.
    #[error("broker {addr} did not answer within {waited:?}")]
    Stalled { addr: String, waited: Duration },
    /// Kafka Connect's rule for offset.storage.topic: with `delete`, old offsets disappear and
    /// a connector would silently start over.
    #[error(
        "the offsets topic `{topic}` is not compacted (cleanup.policy: {policy}); it must have \
         cleanup.policy=compact, or its offsets are deleted with old segments; fix it with `kafka-configs \
         --bootstrap-server <broker> --alter --entity-type topics --entity-name {topic} \
         --add-config cleanup.policy=compact` (or use another service.kafka.offsets_topic, \
         which siphon creates compacted)"
    )]
    NotCompacted { topic: String, policy: String },
    /// A read that failed part way, with what it had read (for the message).
    #[error("{source}; read so far: {progress}")]
    Interrupted {
        progress: String,
        source: Box<ReaderError>,
    },
}

impl ReaderError {
    /// Whether retrying the whole read may succeed (network, timeouts, retriable broker codes).
    /// `UnknownTopic` is definite here: an absent topic is for the caller to interpret.
    pub fn is_transient(&self) -> bool {
        match self {
            ReaderError::Io(_)
            | ReaderError::Timeout(_)
            | ReaderError::Stalled { .. }
            | ReaderError::ClosedAtStart { .. } => true,
            ReaderError::Interrupted { source, .. } => source.is_transient(),
            ReaderError::Broker { code, .. } => {
                ResponseError::try_from_code(*code).is_some_and(|e| e.is_retriable())
            }
            ReaderError::Protocol(_)
            | ReaderError::Config(_)
            | ReaderError::Tls { .. }
            | ReaderError::Auth { .. }
            | ReaderError::NotPlaintext { .. }
            | ReaderError::UnknownTopic(_)
            | ReaderError::NotCompacted { .. } => false,
        }
    }
}

fn error_name(code: i16) -> String {
    ResponseError::try_from_code(code).map_or_else(|| "none".to_owned(), |e| e.to_string())
}

// ------------------------------------------------------------------------------------------
// The pure part: from decoded batches to committed records.

/// The type of a control record (its key: `version: i16, type: i16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    Abort,
    Commit,
    /// Not a transaction marker (e.g. a KRaft leader-change record): ignored.
    Other(i16),
}

impl ControlType {
    /// Parses a control record key.
    pub fn from_key(key: Option<&Bytes>) -> Result<Self, ReaderError> {
        match key {
            Some(k) if k.len() >= 4 => Ok(match i16::from_be_bytes([k[2], k[3]]) {
                0 => ControlType::Abort,
                1 => ControlType::Commit,
                other => ControlType::Other(other),
            }),
            _ => Err(ReaderError::Protocol(
                "control record without a 4-byte key".to_owned(),
            )),
        }
    }
}

/// What a batch is, from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    Data { transactional: bool },
    Control(ControlType),
}

/// One record batch of one partition, decoded (records already limited to the read range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBatch {
    pub producer_id: i64,
    pub kind: BatchKind,
    /// Data records; empty for control batches.
    pub records: Vec<CommittedRecord>,
}

/// The outcome of filtering one partition's batches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filtered {
    /// In offset order.
    pub records: Vec<CommittedRecord>,
    pub open_transactions: usize,
    pub open_records: Vec<CommittedRecord>,
    pub aborted_transactions: usize,
}

/// Incremental read_committed filter for one partition; feed batches in log order.
#[derive(Debug, Default)]
pub struct TxnFilter {
    pending: HashMap<i64, Vec<CommittedRecord>>,
    delivered: Vec<CommittedRecord>,
    aborted_transactions: usize,
}

impl TxnFilter {
    pub fn push(&mut self, batch: DecodedBatch) {
        match batch.kind {
            BatchKind::Data {
                transactional: false,
            } => self.delivered.extend(batch.records),
            // A transactional batch with no records left (compaction) opens nothing.
            BatchKind::Data {
                transactional: true,
            } if batch.records.is_empty() => {}
            BatchKind::Data {
                transactional: true,
            } => self
                .pending
                .entry(batch.producer_id)
                .or_default()
                .extend(batch.records),
            BatchKind::Control(ControlType::Commit) => {
                if let Some(records) = self.pending.remove(&batch.producer_id) {
                    self.delivered.extend(records);
                }
            }
            BatchKind::Control(ControlType::Abort) => {
                if self.pending.remove(&batch.producer_id).is_some() {
                    self.aborted_transactions += 1;
                }
            }
            BatchKind::Control(ControlType::Other(_)) => {}
        }
    }

    pub fn finish(self) -> Filtered {
        let mut records = self.delivered;
        // A commit delivers records older than non-transactional ones already delivered.
        records.sort_by_key(|r| r.offset);
        let open_transactions = self.pending.len();
        let mut open_records: Vec<CommittedRecord> = self.pending.into_values().flatten().collect();
        open_records.sort_by_key(|r| r.offset);
        Filtered {
            records,
            open_transactions,
            open_records,
            aborted_transactions: self.aborted_transactions,
        }
    }
}

/// Filters a partition's batches (in log order) down to what read_committed delivers.
pub fn filter_committed(batches: impl IntoIterator<Item = DecodedBatch>) -> Filtered {
    let mut filter = TxnFilter::default();
    batches.into_iter().for_each(|b| filter.push(b));
    filter.finish()
}

// ------------------------------------------------------------------------------------------
// A minimal Kafka connection.

const FETCH_MAX_BYTES: i32 = 4 << 20;
const PARTITION_MAX_BYTES: i32 = 1 << 20;
/// A partial first batch makes the partition limit double up to this.
const PARTITION_MAX_BYTES_CAP: i32 = 128 << 20;
const FETCH_MAX_WAIT_MS: i32 = 100;
/// Consecutive Fetch responses without progress before giving up.
const MAX_IDLE_FETCHES: u32 = 50;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const LEADER_NOT_AVAILABLE: i16 = 5;
const EARLIEST_TIMESTAMP: i64 = -2;

/// Version ranges this reader speaks. Fetch ≥ 4 returns RecordBatch v2 and takes an isolation
/// level; Fetch ≤ 12, Metadata ≤ 12 name topics (13+ use topic ids only).
const METADATA_VERSIONS: (i16, i16) = (1, 12);
const LIST_OFFSETS_VERSIONS: (i16, i16) = (1, 7);
const FETCH_VERSIONS: (i16, i16) = (4, 12);

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_owned()))
}

/// Partition leaders of `topic`: partition → leader address.
async fn leaders(conn: &mut Conn, topic: &str) -> Result<BTreeMap<i32, String>, ReaderError> {
    let version = conn.version(ApiKey::Metadata, METADATA_VERSIONS)?;
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name(topic))),
        ]))
        .with_allow_auto_topic_creation(false);
    let response = conn.call(ApiKey::Metadata, &request, version).await?;
    let brokers: HashMap<i32, String> = response
        .brokers
        .iter()
        .map(|b| {
            let host = b.host.as_str();
            let addr = if host.contains(':') {
                format!("[{host}]:{}", b.port)
            } else {
                format!("{host}:{}", b.port)
            };
            (b.node_id.0, addr)
        })
        .collect();
    let t = response
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.as_str() == topic))
        .ok_or_else(|| ReaderError::UnknownTopic(topic.to_owned()))?;
    match t.error_code {
        0 => {}
        UNKNOWN_TOPIC_OR_PARTITION => return Err(ReaderError::UnknownTopic(topic.to_owned())),
        code => {
            return Err(ReaderError::Broker {
                api: "Metadata",
                code,
            });
        }
    }
    let mut out = BTreeMap::new();
    for p in &t.partitions {
        if p.error_code != 0 && p.error_code != LEADER_NOT_AVAILABLE {
            return Err(ReaderError::Broker {
                api: "Metadata",
                code: p.error_code,
            });
        }
        let addr = brokers.get(&p.leader_id.0).ok_or(ReaderError::Broker {
            api: "Metadata",
            code: LEADER_NOT_AVAILABLE,
        })?;
        out.insert(p.partition_index, addr.clone());
    }
    Ok(out)
}

/// The log start offset of each partition.
async fn log_starts(
    conn: &mut Conn,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, i64>, ReaderError> {
    let version = conn.version(ApiKey::ListOffsets, LIST_OFFSETS_VERSIONS)?;
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(0)
        .with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(topic_name(topic))
                .with_partitions(
                    partitions
                        .iter()
                        .map(|&p| {
                            ListOffsetsPartition::default()
                                .with_partition_index(p)
                                .with_timestamp(EARLIEST_TIMESTAMP)
                        })
                        .collect(),
                ),
        ]);
    let response = conn.call(ApiKey::ListOffsets, &request, version).await?;
    let mut out = HashMap::new();
    for p in response.topics.iter().flat_map(|t| t.partitions.iter()) {
        if p.error_code != 0 {
            return Err(ReaderError::Broker {
                api: "ListOffsets",
                code: p.error_code,
            });
        }
        out.insert(p.partition_index, p.offset);
    }
    match partitions.iter().find(|p| !out.contains_key(p)) {
        Some(p) => Err(ReaderError::Protocol(format!(
            "ListOffsets answered without partition {p}"
        ))),
        None => Ok(out),
    }
}

/// Reads `partitions` (all led by `conn`'s broker) from the log start to the high watermark of
/// the first Fetch response. (Not ListOffsets LATEST: Tansu answers it with the base offset of
/// the last batch + 1, short of the end when that batch holds several records.)
async fn read_partitions(
    conn: &mut Conn,
    topic: &str,
    partitions: &[i32],
    fetch_requests: &mut usize,
) -> Result<Vec<PartitionRecords>, ReaderError> {
    let starts = log_starts(conn, topic, partitions).await?;
    let mut cursors: BTreeMap<i32, Cursor> = partitions
        .iter()
        .map(|&p| (p, Cursor::new(starts.get(&p).copied().unwrap_or(0).max(0))))
        .collect();
    let version = conn.version(ApiKey::Fetch, FETCH_VERSIONS)?;
    let mut partition_max_bytes = PARTITION_MAX_BYTES;
    let mut idle = 0;
    loop {
        let wanted: Vec<FetchPartition> = cursors
            .iter()
            .filter(|(_, c)| !c.done())
            .map(|(&p, c)| {
                FetchPartition::default()
                    .with_partition(p)
                    .with_fetch_offset(c.next)
                    .with_partition_max_bytes(partition_max_bytes)
            })
            .collect();
        if wanted.is_empty() {
            break;
        }
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(FETCH_MAX_WAIT_MS)
            .with_min_bytes(1)
            .with_max_bytes(FETCH_MAX_BYTES.max(partition_max_bytes))
            .with_isolation_level(0)
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic_name(topic))
                    .with_partitions(wanted),
            ]);
        let response = conn.call(ApiKey::Fetch, &request, version).await?;
        *fetch_requests += 1;
        if response.error_code != 0 {
            return Err(ReaderError::Broker {
                api: "Fetch",
                code: response.error_code,
            });
        }
        let (mut progressed, mut truncated) = (false, false);
        for p in response.responses.into_iter().flat_map(|t| t.partitions) {
            let Some(cursor) = cursors.get_mut(&p.partition_index) else {
                continue;
            };
            if p.error_code != 0 {
                return Err(ReaderError::Broker {
                    api: "Fetch",
                    code: p.error_code,
                });
            }
            if cursor.end == i64::MAX {
                cursor.end = p.high_watermark.max(cursor.log_start);
                progressed = true;
            }
            let before = cursor.next;
            truncated |= cursor.apply(p.partition_index, p.records.unwrap_or_default())?;
            progressed |= cursor.next > before;
        }
        if progressed {
            idle = 0;
        } else if truncated && partition_max_bytes < PARTITION_MAX_BYTES_CAP {
            partition_max_bytes = partition_max_bytes.saturating_mul(2);
        } else {
            idle += 1;
            if idle >= MAX_IDLE_FETCHES {
                let stuck: Vec<String> = cursors
                    .iter()
                    .filter(|(_, c)| !c.done())
                    .map(|(p, c)| format!("partition {p} at {} of {}", c.next, c.end))
                    .collect();
                return Err(ReaderError::Protocol(format!(
                    "Fetch makes no progress below the high watermark: {}",
                    stuck.join(", ")
                )));
            }
        }
    }
    Ok(cursors.into_iter().map(|(p, c)| c.finish(p)).collect())
}

/// Reads every record of every partition of `topic` from the log start up to the high watermark
/// at the time of the call (its first Fetch), over raw Kafka protocol requests, and returns only
/// the records of committed transactions and non-transactional records, in offset order per
/// partition. `timeout` bounds the whole read.
///
/// Plaintext, unauthenticated; [`read_committed_with`] takes `[service.kafka.security]`.
pub async fn read_committed(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<ReadResult, ReaderError> {
    read_committed_with(bootstrap, &KafkaSecurity::PLAINTEXT, topic, timeout).await
}

/// [`read_committed`] with TLS and SASL as `security` says.
pub async fn read_committed_with(
    bootstrap: &str,
    security: &KafkaSecurity,
    topic: &str,
    timeout: Duration,
) -> Result<ReadResult, ReaderError> {
    let security = Security::new(security)?;
    tokio::time::timeout(timeout, read_all(bootstrap, &security, topic, timeout))
        .await
        .map_err(|_| ReaderError::Timeout(timeout))?
}

async fn read_all(
    bootstrap: &str,
    security: &std::sync::Arc<Security>,
    topic: &str,
    idle: Duration,
) -> Result<ReadResult, ReaderError> {
    let mut conn = connect_bootstrap(bootstrap, idle, security).await?;
    let mut by_leader: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (partition, leader) in leaders(&mut conn, topic).await? {
        by_leader.entry(leader).or_default().push(partition);
    }
    let (mut partitions, mut fetch_requests) = (Vec::new(), 0);
    for (leader, ps) in by_leader {
        if leader != conn.addr {
            conn = Conn::connect(&leader, idle, conn.security.clone()).await?;
        }
        partitions.extend(read_partitions(&mut conn, topic, &ps, &mut fetch_requests).await?);
    }
    partitions.sort_by_key(|p| p.partition);
    Ok(ReadResult {
        partitions,
        fetch_requests,
    })
}

#[cfg(test)]
mod tests;
