//! The exactly-once audit: every committed record of a topic, decoded through the schema
//! registry (Confluent framing, Avro), reduced per key to the string of its operations, so a
//! test compares what the workload did with what reached Kafka: a missing change, a repeated
//! one or one out of order shows as a different string.
//!
//! Records come from `read_committed`, Siphon's transaction-aware log reader: aborted
//! transactions are dropped by their ABORT markers (the local broker does not list them).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use siphon::config::KafkaSecurity;
use siphon::offsets::Position;
use siphon::offsets::committed_reader::{CommittedRecord, read_committed, read_committed_with};

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// The key's `id` field.
    pub id: i64,
    /// `r`, `c`, `u`, `d`, or `-` for a tombstone.
    pub op: char,
    /// The `v` column of `after` (or of `before` for a delete), if the table has one.
    pub v: Option<i64>,
}

/// Decodes Confluent-framed Avro with the writer schemas fetched from the registry.
pub struct Decoder {
    registry: String,
    http: reqwest::Client,
    schemas: HashMap<u32, Schema>,
}

impl Decoder {
    pub fn new(registry: &str) -> Decoder {
        Decoder {
            registry: registry.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            schemas: HashMap::new(),
        }
    }

    async fn schema(&mut self, id: u32) -> &Schema {
        if !self.schemas.contains_key(&id) {
            let url = format!("{}/schemas/ids/{id}", self.registry);
            let body: serde_json::Value = self
                .http
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"))
                .json()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let text = body["schema"]
                .as_str()
                .unwrap_or_else(|| panic!("GET {url}: no schema in {body}"));
            let schema = Schema::parse_str(text).unwrap_or_else(|e| panic!("schema {id}: {e}"));
            self.schemas.insert(id, schema);
        }
        &self.schemas[&id]
    }

    /// Decodes one framed datum.
    pub async fn decode(&mut self, bytes: &[u8]) -> Value {
        assert!(
            bytes.len() >= 5 && bytes[0] == 0,
            "not Confluent-framed: {bytes:?}"
        );
        let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
        let schema = self.schema(id).await.clone();
        let mut rest = &bytes[5..];
        GenericDatumReader::builder(&schema)
            .build()
            .and_then(|r| r.read_value(&mut rest))
            .unwrap_or_else(|e| panic!("decoding with schema {id}: {e}"))
    }

    /// Decodes a data record of a table keyed by `id`.
    pub async fn record(&mut self, r: &CommittedRecord) -> Rec {
        let key = self.decode(r.key.as_deref().expect("a keyed record")).await;
        let id = long(field(&key, "id").unwrap_or_else(|| panic!("no id in key {key:?}")))
            .unwrap_or_else(|| panic!("id is not an integer in {key:?}"));
        let Some(value) = r.value.as_deref() else {
            return Rec {
                id,
                op: '-',
                v: None,
            };
        };
        let value = self.decode(value).await;
        let op = match field(&value, "op") {
            Some(Value::String(s)) if s.len() == 1 => s.chars().next().unwrap(),
            other => panic!("op is {other:?} in {value:?}"),
        };
        let image = if op == 'd' { "before" } else { "after" };
        let v = field(&value, image)
            .and_then(|img| field(img, "v"))
            .and_then(long);
        Rec { id, op, v }
    }
}

/// A record field, looking through unions.
pub fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    match value {
        Value::Union(_, inner) => field(inner, name),
        Value::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| match v {
                Value::Union(_, inner) => inner.as_ref(),
                v => v,
            }),
        _ => None,
    }
}

fn long(value: &Value) -> Option<i64> {
    match value {
        Value::Long(n) => Some(*n),
        Value::Int(n) => Some(i64::from(*n)),
        Value::Union(_, inner) => long(inner),
        _ => None,
    }
}

/// Every committed record of `topic`, decoded, in log order (one partition).
pub async fn committed_records(bootstrap: &str, registry: &str, topic: &str) -> Vec<Rec> {
    committed_records_with(bootstrap, &KafkaSecurity::PLAINTEXT, registry, topic).await
}

/// `committed_records` from a broker reached with `security` (TLS, SASL).
pub async fn committed_records_with(
    bootstrap: &str,
    security: &KafkaSecurity,
    registry: &str,
    topic: &str,
) -> Vec<Rec> {
    let read = read_committed_with(bootstrap, security, topic, Duration::from_secs(60)).await;
    let result = match read {
        Ok(r) => r,
        Err(siphon::offsets::committed_reader::ReaderError::UnknownTopic(_)) => return Vec::new(),
        Err(e) => panic!("reading {topic}: {e}"),
    };
    let mut decoder = Decoder::new(registry);
    let mut out = Vec::new();
    for r in result.records() {
        out.push(decoder.record(r).await);
    }
    out
}

/// Per key, its operations in log order: `"rud-"` is a snapshot read, an update, a delete
/// and its tombstone.
pub fn ops_by_key(records: &[Rec]) -> BTreeMap<i64, String> {
    let mut out: BTreeMap<i64, String> = BTreeMap::new();
    for r in records {
        out.entry(r.id).or_default().push(r.op);
    }
    out
}

/// Compares what reached the topic with what the workload did, key by key; the message lists
/// the first keys that differ and how many changes are missing or repeated.
pub fn assert_exactly(actual: &BTreeMap<i64, String>, expected: &BTreeMap<i64, String>) {
    let mut wrong = Vec::new();
    let (mut missing, mut extra) = (0usize, 0usize);
    for id in expected.keys().chain(actual.keys()) {
        let (a, e) = (
            actual.get(id).map_or("", String::as_str),
            expected.get(id).map_or("", String::as_str),
        );
        if a != e && !wrong.iter().any(|(i, _, _)| i == id) {
            missing += e.len().saturating_sub(a.len());
            extra += a.len().saturating_sub(e.len());
            wrong.push((*id, a.to_owned(), e.to_owned()));
        }
    }
    let total_expected: usize = expected.values().map(String::len).sum();
    let total_actual: usize = actual.values().map(String::len).sum();
    assert!(
        wrong.is_empty(),
        "{} keys differ ({total_actual} records for {total_expected} expected; about {missing} \
         missing, {extra} repeated); first (id, got, expected): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(12)]
    );
}

/// The committed records of `topic` once there are at least `want` (then a little later, so a
/// late duplicate shows too), or whatever is there after `timeout`: the audit that follows
/// says what is missing, which a timeout alone would not.
pub async fn settled_records(
    bootstrap: &str,
    registry: &str,
    topic: &str,
    want: usize,
    timeout: Duration,
) -> Vec<Rec> {
    let security = KafkaSecurity::PLAINTEXT;
    settled_records_with(bootstrap, &security, registry, topic, want, timeout).await
}

/// `settled_records` from a broker reached with `security` (TLS, SASL).
pub async fn settled_records_with(
    bootstrap: &str,
    security: &KafkaSecurity,
    registry: &str,
    topic: &str,
    want: usize,
    timeout: Duration,
) -> Vec<Rec> {
    let read = || committed_records_with(bootstrap, security, registry, topic);
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let records = read().await;
        if records.len() >= want {
            tokio::time::sleep(Duration::from_secs(2)).await;
            return read().await;
        }
        if std::time::Instant::now() >= deadline {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How many changes are missing and how many repeated, as multisets of (key, op): the
/// figures of a chaos run.
pub fn lost_and_repeated(
    actual: &BTreeMap<i64, String>,
    expected: &BTreeMap<i64, String>,
) -> (usize, usize) {
    let mut counts: BTreeMap<(i64, char), (usize, usize)> = BTreeMap::new();
    for (id, ops) in actual {
        for op in ops.chars() {
            counts.entry((*id, op)).or_default().0 += 1;
        }
    }
    for (id, ops) in expected {
        for op in ops.chars() {
            counts.entry((*id, op)).or_default().1 += 1;
        }
    }
    counts
        .values()
        .fold((0, 0), |(lost, repeated), (got, want)| {
            (
                lost + want.saturating_sub(*got),
                repeated + got.saturating_sub(*want),
            )
        })
}

/// How many committed records `topic` holds now (0 while it does not exist).
pub async fn committed_count(bootstrap: &str, topic: &str) -> usize {
    match read_committed(bootstrap, topic, Duration::from_secs(30)).await {
        Ok(r) => r.records().count(),
        Err(_) => 0,
    }
}

/// Waits until `topic` holds at least `n` committed records.
pub async fn wait_committed(bootstrap: &str, topic: &str, n: usize) -> usize {
    super::wait_for(
        &format!("{n} committed records in {topic}"),
        Duration::from_secs(120),
        || async {
            let got = committed_count(bootstrap, topic).await;
            (got >= n).then_some(got)
        },
    )
    .await
}

/// The committed positions of an offsets topic, checked never to step back. A task that
/// starts re-commits the position it resumes from (its claim, a tombstone before anything was
/// committed), so equal neighbours are fine.
pub async fn offsets_never_step_back(bootstrap: &str, topic: &str) -> Vec<Position> {
    let offsets = read_committed(bootstrap, topic, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("reading {topic}: {e}"));
    let positions: Vec<Position> = offsets
        .records()
        .filter_map(|r| r.value.as_deref())
        .map(|v| Position::from_json(v).unwrap())
        .collect();
    for w in positions.windows(2) {
        assert!(
            w[0].try_cmp(&w[1]).unwrap().is_le(),
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
    positions
}
