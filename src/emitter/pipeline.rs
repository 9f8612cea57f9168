//! The emitter loop: batches from the reader → records → one Kafka transaction with the
//! offset record (or the embedded sink + file offsets) → the committed position, published
//! for the reader's acknowledgement.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::debug;

use super::avro_schema::table_schemas;
use super::avro_value::{ConnectorMeta, envelope_value, key_value};
use super::encoder::{Encoder, EncoderError, avro_options};
use super::heartbeat::Heartbeat;
use super::json::to_json;
use super::kafka::{KafkaSink, KafkaSinkError, OutRecord};
use super::records::{Planned, plan};
use super::registry::Registry;
use super::txmeta::{TxTopic, marker_json, transaction_topic};
use crate::config::{ConnectorConfig, EmbeddedSink, KafkaConfig, ServiceConfig};
use crate::event::{ChangeBatch, TxMarker};
use crate::offsets::{FileOffsetStore, OffsetError, Position, offset_key};

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    #[error(transparent)]
    Kafka(#[from] KafkaSinkError),
    #[error(transparent)]
    Offsets(#[from] OffsetError),
    #[error("embedded sink: {0}")]
    Sink(std::io::Error),
    #[error("no schema registry is configured (service.schema_registry_url)")]
    NoRegistry,
}

impl EmitError {
    pub fn is_transient(&self) -> bool {
        match self {
            EmitError::Encoder(e) => e.is_transient(),
            EmitError::Kafka(e) => e.is_transient(),
            EmitError::Offsets(e) => e.is_transient(),
            EmitError::Sink(_) | EmitError::NoRegistry => false,
        }
    }
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn planned(batch: ChangeBatch, tombstones: bool) -> (Vec<Planned>, Vec<TxMarker>, Position) {
    let mut out = Vec::with_capacity(batch.events.len());
    for e in batch.events {
        plan(e, tombstones, &mut out);
    }
    (out, batch.markers, batch.position)
}

/// Writes batches to Kafka, each in one transaction with its offset record, until the
/// reader side closes the channel.
pub async fn run_kafka(
    config: &ConnectorConfig,
    service: &ServiceConfig,
    kafka: &KafkaConfig,
    mut rx: mpsc::Receiver<ChangeBatch>,
    committed: watch::Sender<Option<Position>>,
) -> Result<(), EmitError> {
    let url = service
        .schema_registry_url
        .as_deref()
        .ok_or(EmitError::NoRegistry)?;
    let registry = Arc::new(Registry::new(url));
    let mut encoder = Encoder::new(config, Arc::clone(&registry));
    let mut sink = KafkaSink::connect(
        &kafka.bootstrap_servers,
        &format!("siphon-{}", config.name),
        &kafka.producer,
        kafka.topic_partitions,
        kafka.topic_replication_factor,
    )
    .await?;
    sink.ensure_topics(&[(kafka.offsets_topic.clone(), true)])
        .await?;
    let heartbeat = if config.heartbeat_interval_ms > 0 {
        let hb = Heartbeat::new(&registry, &config.topic_prefix).await?;
        sink.ensure_topics(&[(hb.topic().to_owned(), false)])
            .await?;
        Some(hb)
    } else {
        None
    };
    let tx_topic = if config.provide_transaction_metadata {
        let t = TxTopic::new(&registry, &config.topic_prefix).await?;
        sink.ensure_topics(&[(t.topic().to_owned(), false)]).await?;
        Some(t)
    } else {
        None
    };
    let mut ticker =
        tokio::time::interval(Duration::from_millis(config.heartbeat_interval_ms.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let key = offset_key(&config.name, &config.topic_prefix);
    let offset_record = |position: &Position| OutRecord {
        topic: kafka.offsets_topic.clone(),
        key: Some(key.clone()),
        value: Some(position.to_json()),
    };
    loop {
        let batch = tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => b,
                None => return Ok(()),
            },
            _ = ticker.tick(), if heartbeat.is_some() => {
                if let Some(hb) = &heartbeat {
                    // The heartbeat travels with the current offset, as Debezium's does.
                    let record = hb.record(now_us() / 1000)?;
                    let current = committed.borrow().clone();
                    sink.write_transaction(&[record], current.as_ref().map(offset_record).as_ref()).await?;
                }
                continue;
            }
        };
        let (planned, markers, position) = planned(batch, config.tombstones_on_delete);
        let now = now_us();
        let mut records = Vec::with_capacity(planned.len() + markers.len());
        if let Some(t) = &tx_topic {
            for m in &markers {
                records.push(t.record(m)?);
            }
        }
        for p in &planned {
            records.push(encoder.encode(p, now).await?);
        }
        let topics: Vec<(String, bool)> = encoder.topics().map(|t| (t.to_owned(), false)).collect();
        sink.ensure_topics(&topics).await?;
        sink.write_transaction(&records, Some(&offset_record(&position)))
            .await?;
        super::fault::check("after_commit").await;
        debug!(records = records.len(), "batch committed");
        committed.send_replace(Some(position));
    }
}

/// Without Kafka: JSON lines (`{"topic", "key", "value"}`) to stdout or a file, flushed, then
/// the offset stored in a local file. At-least-once: a crash between the two repeats a batch.
pub async fn run_embedded(
    config: &ConnectorConfig,
    service: &ServiceConfig,
    mut rx: mpsc::Receiver<ChangeBatch>,
    committed: watch::Sender<Option<Position>>,
) -> Result<(), EmitError> {
    let store = FileOffsetStore::new(&service.data_dir);
    let opts = avro_options(config);
    let meta = ConnectorMeta {
        name: config.topic_prefix.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        connector: config.class.name(),
    };
    // The file is kept apart from the writer so it can be fsynced before the offset moves.
    let file = match service.embedded_sink {
        EmbeddedSink::Stdout => None,
        EmbeddedSink::File => {
            let dir = service.data_dir.join("events");
            std::fs::create_dir_all(&dir).map_err(EmitError::Sink)?;
            Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(format!("{}.jsonl", config.name)))
                    .map_err(EmitError::Sink)?,
            )
        }
    };
    let mut out: Box<dyn Write + Send> = match &file {
        None => Box::new(std::io::stdout()),
        Some(f) => Box::new(std::io::BufWriter::new(
            f.try_clone().map_err(EmitError::Sink)?,
        )),
    };
    let mut schemas = std::collections::HashMap::new();
    while let Some(batch) = rx.recv().await {
        let (planned, markers, position) = planned(batch, config.tombstones_on_delete);
        let now = now_us();
        for m in &markers {
            let (key, value) = marker_json(m);
            let topic = transaction_topic(&config.topic_prefix);
            let line = serde_json::json!({ "topic": topic, "key": key, "value": value });
            writeln!(out, "{line}").map_err(EmitError::Sink)?;
        }
        for p in &planned {
            let (event, tombstone) = match p {
                Planned::Event(e) => (e, false),
                Planned::Tombstone(e) => (e, true),
            };
            let topic = super::avro_schema::topic_name(&config.topic_prefix, &event.table.id);
            // Keyed by the columns themselves: version numbers are per reader session.
            let s = match schemas.get(&*event.table) {
                Some(s) => s,
                None => {
                    let s = table_schemas(&topic, &event.table, &opts)
                        .map_err(|e| EmitError::Encoder(e.into()))?;
                    schemas.entry((*event.table).clone()).or_insert(s)
                }
            };
            let key = key_value(event, s)
                .map_err(|e| EmitError::Encoder(e.into()))?
                .map(|k| to_json(&k));
            let value = if tombstone {
                serde_json::Value::Null
            } else {
                to_json(
                    &envelope_value(event, &meta, now, &opts, s)
                        .map_err(|e| EmitError::Encoder(e.into()))?,
                )
            };
            let line = serde_json::json!({ "topic": topic, "key": key, "value": value });
            writeln!(out, "{line}").map_err(EmitError::Sink)?;
        }
        out.flush().map_err(EmitError::Sink)?;
        if let Some(f) = &file {
            f.sync_data().map_err(EmitError::Sink)?;
        }
        store.store(&config.name, &position)?;
        committed.send_replace(Some(position));
    }
    Ok(())
}
