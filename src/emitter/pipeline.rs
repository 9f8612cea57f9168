//! The emitter loop: batches from the reader → records → one Kafka transaction with the
//! offset record (or the embedded sink + file offsets) → the committed position, published
//! for the reader's acknowledgement.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, debug};

use super::encoder::{Encoder, EncoderError};
use super::heartbeat::Heartbeat;
use super::kafka::{KafkaSink, KafkaSinkError, OutRecord};
use super::owner::{OWNER_HEADER, instance_id};
use super::records::{Planned, plan};
use super::registry::Registry;
use super::txmeta::TxTopic;
use crate::config::{ConnectorConfig, Converters, KafkaConfig, ServiceConfig};
use crate::event::{ChangeBatch, TxMarker};
use crate::offsets::{KafkaOffsets, OffsetError, Position, TopicPresence, offset_key};
use crate::task::AbortOnDrop;

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
    /// The converter settings do not resolve (e.g. Avro without a registry).
    #[error("{0}")]
    Converters(crate::config::ConfigErrors),
    #[error("the Kafka producing task ended abnormally: {0}")]
    Task(String),
}

impl EmitError {
    pub fn is_transient(&self) -> bool {
        match self {
            EmitError::Encoder(e) => e.is_transient(),
            EmitError::Kafka(e) => e.is_transient(),
            EmitError::Offsets(e) => e.is_transient(),
            EmitError::Sink(_) | EmitError::Converters(_) | EmitError::Task(_) => false,
        }
    }
}

pub(super) fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

pub(super) fn planned(
    batch: ChangeBatch,
    config: &ConnectorConfig,
) -> (Vec<Planned>, Vec<TxMarker>, Position) {
    let mut out = Vec::with_capacity(batch.events.len());
    for e in batch.events {
        if !config.skipped_operations.skips(e.op) {
            plan(e, config.tombstones_on_delete, &mut out);
        }
    }
    (out, batch.markers, batch.position)
}

/// What the encoding stage hands the producing stage: one transaction's worth.
enum Job {
    /// A batch's records, the topics they go to, and the position they bring the reader to.
    Batch {
        records: Vec<OutRecord>,
        topics: Vec<(String, bool)>,
        position: Position,
    },
    /// A heartbeat record, written with the latest committed offset (as Debezium's is).
    Heartbeat(OutRecord),
}

/// The Kafka emitter of one connector, opened: its transactional producer has fenced every
/// earlier producer of the connector (a zombie task, a second process) and resolved the
/// transaction that one left open or whose commit outcome was unknown. Only now is the
/// committed offset final, so the runtime reads it from here.
pub struct KafkaEmitter {
    sink: KafkaSink,
    /// `None` when both converters are JSON.
    registry: Option<Arc<Registry>>,
    converters: Converters,
    heartbeat: Option<Heartbeat>,
    tx_topic: Option<TxTopic>,
    bootstrap: String,
    security: crate::config::KafkaSecurity,
    offsets_topic: String,
    /// This instance, in the header of every offset record it writes (see `owner`).
    instance: String,
}

impl KafkaEmitter {
    /// Creates the producer (`init_transactions` fences), then the offsets, heartbeat and
    /// transaction topics and their schemas.
    pub async fn open(
        config: &ConnectorConfig,
        service: &ServiceConfig,
        kafka: &KafkaConfig,
    ) -> Result<Self, EmitError> {
        let converters = config.converters(service).map_err(EmitError::Converters)?;
        let registry = match &converters.registry_url {
            Some(url) => Some(Arc::new(
                Registry::new(url, &service.schema_registry)
                    .map_err(|e| EmitError::Encoder(e.into()))?,
            )),
            None => None,
        };
        let mut sink = KafkaSink::connect(kafka, &service.transactional_id(&config.name)).await?;
        sink.ensure_topics(&[(kafka.offsets_topic.clone(), true)])
            .await?;
        let heartbeat = if config.heartbeat_interval_ms > 0 {
            let hb = Heartbeat::new(registry.as_deref(), &converters, &config.topic_prefix).await?;
            sink.ensure_topics(&[(hb.topic().to_owned(), false)])
                .await?;
            Some(hb)
        } else {
            None
        };
        let tx_topic = if config.provide_transaction_metadata {
            let t = TxTopic::new(registry.as_deref(), &converters, &config.topic_prefix).await?;
            sink.ensure_topics(&[(t.topic().to_owned(), false)]).await?;
            Some(t)
        } else {
            None
        };
        Ok(KafkaEmitter {
            sink,
            registry,
            converters,
            heartbeat,
            tx_topic,
            bootstrap: kafka.bootstrap_servers.clone(),
            security: kafka.security.clone(),
            offsets_topic: kafka.offsets_topic.clone(),
            instance: instance_id(service),
        })
    }

    /// The connector's committed position, read after the fence. The offsets topic exists
    /// (`open` made sure), so a broker that does not list it yet is retried, never read as
    /// "nothing committed".
    pub async fn committed_position(
        &self,
        config: &ConnectorConfig,
    ) -> Result<Option<Position>, OffsetError> {
        let offsets = KafkaOffsets {
            bootstrap: &self.bootstrap,
            security: &self.security,
            topic: &self.offsets_topic,
            connector: &config.name,
            topic_prefix: &config.topic_prefix,
        };
        offsets
            .load(TopicPresence::Ensured, Duration::from_secs(30))
            .await
    }

    /// Re-commits the committed position under this instance's name (a tombstone, which reads
    /// as "no position", when nothing was committed yet), so an instance this one fenced can
    /// tell who took over.
    pub async fn claim(
        &self,
        config: &ConnectorConfig,
        position: Option<&Position>,
    ) -> Result<(), EmitError> {
        let key = offset_key(&config.name, &config.topic_prefix);
        let record = offset_record(&self.offsets_topic, &key, &self.instance, position);
        self.sink.write_transaction(&[], Some(&record)).await?;
        Ok(())
    }

    /// Writes batches to Kafka, each in one transaction with its offset record, until the
    /// reader side closes the channel.
    ///
    /// Two stages, so that encoding the next batch overlaps the broker round trips of the
    /// current transaction: the encoding stage turns batches into records, the producing stage
    /// writes one transaction at a time, in order, and publishes each committed position.
    pub async fn run(
        self,
        config: &ConnectorConfig,
        rx: mpsc::Receiver<ChangeBatch>,
        committed: watch::Sender<Option<Position>>,
    ) -> Result<(), EmitError> {
        let encoder = Encoder::new(config, self.converters, self.registry)
            .with_record_limit(self.sink.max_message_bytes());
        // One job in flight between the stages: the encoder runs at most one batch ahead. The
        // producing stage is a task of its own so that it runs while the encoder computes (on
        // the other core), not only when the encoder awaits.
        let (jobs_tx, jobs_rx) = mpsc::channel(1);
        let mut produce = AbortOnDrop(tokio::spawn(
            produce_stage(
                self.offsets_topic,
                offset_key(&config.name, &config.topic_prefix),
                self.instance,
                self.sink,
                jobs_rx,
                committed,
            )
            .in_current_span(),
        ));
        let encode = encode_stage(config, encoder, self.heartbeat, self.tx_topic, rx, jobs_tx);
        let joined = |r: Result<Result<(), EmitError>, tokio::task::JoinError>| {
            r.unwrap_or_else(|e| Err(EmitError::Task(e.to_string())))
        };
        tokio::select! {
            // The encoding stage ends when the reader closes its channel (or on an error); its
            // end closes the jobs channel, and the producing stage finishes the job it has.
            done = encode => {
                let produced = joined((&mut produce.0).await);
                done.and(produced)
            }
            // The producing stage ends early only on an error.
            produced = &mut produce.0 => joined(produced),
        }
    }
}

async fn encode_stage(
    config: &ConnectorConfig,
    mut encoder: Encoder,
    heartbeat: Option<Heartbeat>,
    tx_topic: Option<TxTopic>,
    mut rx: mpsc::Receiver<ChangeBatch>,
    jobs: mpsc::Sender<Job>,
) -> Result<(), EmitError> {
    let mut ticker =
        tokio::time::interval(Duration::from_millis(config.heartbeat_interval_ms.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let batch = tokio::select! {
            batch = rx.recv() => match batch {
                Some(b) => b,
                None => return Ok(()),
            },
            _ = ticker.tick(), if heartbeat.is_some() => {
                if let Some(hb) = &heartbeat {
                    let record = hb.record(now_us() / 1000)?;
                    if jobs.send(Job::Heartbeat(record)).await.is_err() {
                        return Ok(());
                    }
                }
                continue;
            }
        };
        let (planned, markers, position) = planned(batch, config);
        let now = now_us();
        let mut records = Vec::with_capacity(planned.len() + markers.len());
        if let Some(t) = &tx_topic {
            for m in &markers {
                records.push(t.record(m)?);
            }
        }
        records.extend(encoder.encode_batch(planned, now).await?);
        let topics = encoder.topics().map(|t| (t.to_owned(), false)).collect();
        let job = Job::Batch {
            records,
            topics,
            position,
        };
        // A closed channel means the producing stage stopped on an error, which it returns.
        if jobs.send(job).await.is_err() {
            return Ok(());
        }
    }
}

/// The offset record of a position, naming the instance that writes it.
fn offset_record(
    topic: &str,
    key: &[u8],
    instance: &str,
    position: Option<&Position>,
) -> OutRecord {
    OutRecord {
        topic: topic.to_owned(),
        key: Some(key.to_vec()),
        value: position.map(Position::to_json),
        headers: vec![(OWNER_HEADER.to_owned(), instance.as_bytes().to_vec())],
    }
}

async fn produce_stage(
    offsets_topic: String,
    key: Vec<u8>,
    instance: String,
    mut sink: KafkaSink,
    mut jobs: mpsc::Receiver<Job>,
    committed: watch::Sender<Option<Position>>,
) -> Result<(), EmitError> {
    let offset_record =
        |position: &Position| offset_record(&offsets_topic, &key, &instance, Some(position));
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Heartbeat(record) => {
                let current = committed.borrow().clone();
                sink.write_transaction(&[record], current.as_ref().map(offset_record).as_ref())
                    .await?;
            }
            Job::Batch {
                records,
                topics,
                position,
            } => {
                sink.ensure_topics(&topics).await?;
                sink.write_transaction(&records, Some(&offset_record(&position)))
                    .await?;
                super::fault::check("after_commit").await;
                debug!(records = records.len(), "batch committed");
                committed.send_replace(Some(position));
            }
        }
    }
    Ok(())
}
