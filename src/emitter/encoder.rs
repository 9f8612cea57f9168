//! Encodes planned records with the connector's key and value converters: Confluent-framed
//! Avro (schemas derived per table version, registered once under `<topic>-key` /
//! `<topic>-value`, ids cached for the hot path) or Kafka Connect's JSON (`connect_json`).

use std::collections::HashMap;
use std::sync::Arc;

use super::avro_schema::{
    AvroOptions, DecimalMode, SchemaError, TableAvroSchemas, TimeMode, table_schemas,
};
use super::avro_value::{ConnectorMeta, EncodeError, envelope_value, key_value, write_envelope};
use super::avro_write::AvroWriter;
use super::connect_json;
use super::json::to_json;
use super::kafka::OutRecord;
use super::records::Planned;
use super::registry::{Registry, RegistryError};
use crate::config::{
    ConnectorConfig, Converters, DecimalHandlingMode, RecordFormat, SourceOptions,
    TimePrecisionMode,
};
use crate::event::{ChangeEvent, TableId, TableSchema};

#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("Avro serialization of {topic}: {message}")]
    Avro { topic: String, message: String },
    #[error("JsonConverter serialization of {topic}: {message}")]
    Json { topic: String, message: String },
    /// A record over the producer's `message.max.bytes`: no retry can send it.
    #[error(
        "the change of `{table}` with key {key} is a Kafka record of {bytes} bytes for topic \
         `{topic}`, over the producer's message.max.bytes ({limit}): raise the broker's \
         message.max.bytes (or the topic's max.message.bytes) and the producer's \
         message.max.bytes (service.kafka.producer), or leave the large column out with \
         column.exclude.list; the change waits in the source's log until then"
    )]
    TooLarge {
        table: String,
        key: String,
        topic: String,
        bytes: usize,
        limit: usize,
    },
}

impl EncoderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, EncoderError::Registry(e) if e.is_transient())
    }
}

/// Avro options from the connector's Debezium settings.
pub fn avro_options(config: &ConnectorConfig) -> AvroOptions {
    let mut opts = AvroOptions::debezium_defaults(config.class.kind());
    opts.decimal = match config.decimal_handling_mode {
        DecimalHandlingMode::Precise => DecimalMode::Precise,
        DecimalHandlingMode::Double => DecimalMode::Double,
        DecimalHandlingMode::String => DecimalMode::String,
    };
    opts.time = match config.time_precision_mode {
        TimePrecisionMode::Adaptive => TimeMode::Adaptive,
        TimePrecisionMode::AdaptiveTimeMicroseconds => TimeMode::AdaptiveTimeMicroseconds,
        TimePrecisionMode::Connect => TimeMode::Connect,
    };
    if let SourceOptions::Postgres(pg) = &config.source {
        opts.hstore_as_map = pg.hstore_as_map;
        opts.interval_as_string = pg.interval_as_string;
    }
    opts
}

/// How one side (key or value) of a topic's records is written.
pub(super) enum Side {
    /// The writer and the schema's registry id.
    Avro(AvroWriter, u32),
    /// The Connect JSON schema, serialized, with `schemas.enable=true`.
    Json(Option<String>),
}

impl Side {
    /// Registers the schema (`<topic>-<which>`) for Avro, derives the Connect schema for JSON.
    pub(super) async fn prepare(
        format: RecordFormat,
        registry: Option<&Registry>,
        topic: &str,
        which: &str,
        schema: &apache_avro::Schema,
        json: &str,
    ) -> Result<Side, EncoderError> {
        match format {
            RecordFormat::Avro => {
                let writer = AvroWriter::new(schema).map_err(writer_err(topic))?;
                let registry = registry.ok_or_else(|| EncoderError::Avro {
                    topic: topic.to_owned(),
                    message: "no schema registry is configured".into(),
                })?;
                let id = registry.id(&format!("{topic}-{which}"), json).await?;
                Ok(Side::Avro(writer, id))
            }
            RecordFormat::Json { schemas } => {
                let schema = match schemas {
                    false => None,
                    true => Some(
                        connect_json::connect_schema(json)
                            .map_err(|message| EncoderError::Json {
                                topic: topic.to_owned(),
                                message,
                            })?
                            .to_string(),
                    ),
                };
                Ok(Side::Json(schema))
            }
        }
    }

    /// One value as this side's bytes.
    pub(super) fn encode(
        &self,
        topic: &str,
        value: &apache_avro::types::Value,
    ) -> Result<Vec<u8>, EncoderError> {
        match self {
            Side::Avro(writer, id) => writer.framed(*id, value).map_err(writer_err(topic)),
            Side::Json(schema) => Ok(connect_json::record(schema.as_deref(), &to_json(value))),
        }
    }
}

/// The schemas and registry ids of one table version.
struct Entry {
    /// The table version the schemas were derived from. Versions are numbered per reader
    /// session (a snapshot and the stream may both call different columns "version 1"), so a
    /// cache hit is confirmed by comparing the columns, pointer first.
    table: Arc<TableSchema>,
    topic: String,
    schemas: TableAvroSchemas,
    /// The key's encoding, for a table with a key.
    key: Option<Side>,
    value: Side,
}

pub struct Encoder {
    /// `None` when both converters are JSON.
    registry: Option<Arc<Registry>>,
    converters: Converters,
    opts: AvroOptions,
    meta: ConnectorMeta,
    prefix: String,
    tables: HashMap<(TableId, u32), Arc<Entry>>,
    /// The producer's `message.max.bytes` (0: not checked here).
    max_record_bytes: usize,
}

fn writer_err(topic: &str) -> impl Fn(super::avro_write::WriteError) -> EncoderError + '_ {
    move |e| EncoderError::Avro {
        topic: topic.to_owned(),
        message: e.to_string(),
    }
}

impl Encoder {
    pub fn new(
        config: &ConnectorConfig,
        converters: Converters,
        registry: Option<Arc<Registry>>,
    ) -> Self {
        Encoder {
            registry,
            converters,
            opts: avro_options(config),
            meta: ConnectorMeta {
                name: config.topic_prefix.clone(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                connector: config.class.name(),
            },
            prefix: config.topic_prefix.clone(),
            tables: HashMap::new(),
            max_record_bytes: 0,
        }
    }

    /// Refuses records over `bytes` (the producer's `message.max.bytes`) as they are encoded,
    /// naming their table and key, which the producer's own refusal cannot.
    pub fn with_record_limit(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes;
        self
    }

    async fn entry(&mut self, table: &Arc<TableSchema>) -> Result<Arc<Entry>, EncoderError> {
        let cache_key = (table.id.clone(), table.version);
        if let Some(e) = self.tables.get(&cache_key)
            && (Arc::ptr_eq(&e.table, table) || e.table == *table)
        {
            return Ok(Arc::clone(e));
        }
        let topic = super::avro_schema::table_topic(&self.prefix, table);
        let schemas = table_schemas(&topic, table, &self.opts)?;
        let registry = self.registry.as_deref();
        let key = match (&schemas.key, &schemas.key_json) {
            (Some(schema), Some(json)) => Some(
                Side::prepare(self.converters.key, registry, &topic, "key", schema, json).await?,
            ),
            _ => None,
        };
        let value = Side::prepare(
            self.converters.value,
            registry,
            &topic,
            "value",
            &schemas.value,
            &schemas.value_json,
        )
        .await?;
        let entry = Arc::new(Entry {
            table: Arc::clone(table),
            topic,
            schemas,
            key,
            value,
        });
        self.tables.insert(cache_key, Arc::clone(&entry));
        Ok(entry)
    }

    /// The topics of the tables the encoder has seen.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.tables.values().map(|e| e.topic.as_str())
    }

    /// Planned records → Kafka records, in order; `now_us` is Debezium's envelope `ts_*`.
    ///
    /// Encoding is most of the emitter's CPU, so a large batch is split into one part per
    /// core, encoded on the blocking pool in parallel (each record's encoding is a pure
    /// function of the record and its table's schemas, looked up here first).
    pub async fn encode_batch(
        &mut self,
        planned: Vec<Planned>,
        now_us: i64,
    ) -> Result<Vec<OutRecord>, EncoderError> {
        let mut work: Vec<(Arc<Entry>, Planned)> = Vec::with_capacity(planned.len());
        for p in planned {
            let entry = match work.last() {
                // Records come in runs of one table version.
                Some((e, _)) if Arc::ptr_eq(&e.table, &p.event().table) => Arc::clone(e),
                _ => self.entry(&p.event().table).await?,
            };
            work.push((entry, p));
        }
        let parts = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(work.len() / MIN_RECORDS_PER_PART)
            .max(1);
        if parts == 1 {
            return work
                .iter()
                .map(|(entry, p)| {
                    encode_one(
                        entry,
                        p,
                        &self.meta,
                        &self.opts,
                        now_us,
                        self.max_record_bytes,
                    )
                })
                .collect();
        }
        let per_part = work.len().div_ceil(parts);
        let mut handles = Vec::with_capacity(parts);
        let mut rest = work;
        while !rest.is_empty() {
            let tail = rest.split_off(per_part.min(rest.len()));
            let part = std::mem::replace(&mut rest, tail);
            let (meta, opts, limit) = (self.meta.clone(), self.opts, self.max_record_bytes);
            handles.push(tokio::task::spawn_blocking(move || {
                part.iter()
                    .map(|(entry, p)| encode_one(entry, p, &meta, &opts, now_us, limit))
                    .collect::<Result<Vec<_>, _>>()
            }));
        }
        let mut out = Vec::new();
        for handle in handles {
            let records = handle.await.map_err(|e| EncoderError::Avro {
                topic: String::new(),
                message: format!("encoding task failed: {e}"),
            })??;
            out.extend(records);
        }
        Ok(out)
    }
}

/// Below this many records per part, splitting a batch costs more than it saves.
const MIN_RECORDS_PER_PART: usize = 256;

/// One planned record → one Kafka record.
fn encode_one(
    entry: &Entry,
    planned: &Planned,
    meta: &ConnectorMeta,
    opts: &AvroOptions,
    now_us: i64,
    limit: usize,
) -> Result<OutRecord, EncoderError> {
    let (event, tombstone) = (&planned.event, planned.tombstone);
    let key = match (key_value(event, &entry.schemas)?, &entry.key) {
        (Some(v), Some(side)) => Some(side.encode(&entry.topic, &v)?),
        _ => None,
    };
    let value = match (&entry.value, tombstone) {
        (_, true) => None,
        // Avro straight from the event, without the intermediate value (the hot path).
        (Side::Avro(writer, id), false) => {
            let mut out = Vec::with_capacity(512);
            AvroWriter::frame_header(*id, &mut out);
            write_envelope(event, meta, now_us, opts, &entry.schemas, writer, &mut out)?;
            Some(out)
        }
        (side, false) => {
            let value = envelope_value(event, meta, now_us, opts, &entry.schemas)?;
            Some(side.encode(&entry.topic, &value)?)
        }
    };
    let bytes = key.as_ref().map_or(0, Vec::len) + value.as_ref().map_or(0, Vec::len);
    if limit > 0 && bytes > limit {
        return Err(EncoderError::TooLarge {
            table: event.table.id.to_string(),
            key: describe_key(event),
            topic: entry.topic.clone(),
            bytes,
            limit,
        });
    }
    let headers = match &planned.key_header {
        Some(h) => vec![(h.name.to_owned(), key_header_text(event, &h.row, entry)?)],
        None => Vec::new(),
    };
    Ok(OutRecord {
        topic: entry.topic.clone(),
        key,
        value,
        headers,
    })
}

/// The `__debezium.*key` header's value: the key of `row`, as Kafka Connect's default header
/// converter writes a key `Struct`.
fn key_header_text(
    event: &ChangeEvent,
    row: &crate::event::Row,
    entry: &Entry,
) -> Result<Vec<u8>, EncoderError> {
    let other = ChangeEvent {
        before: None,
        after: Some(row.clone()),
        ..event.clone()
    };
    let (Some(value), Some(schema)) = (key_value(&other, &entry.schemas)?, &entry.schemas.key)
    else {
        return Ok(Vec::new());
    };
    Ok(super::key_header::connect_text(&value, schema).into_bytes())
}

/// An event's key for a message: `{id=2, region="eu"}`, a document's `_id`, or `(none)`.
fn describe_key(event: &ChangeEvent) -> String {
    use crate::event::Value;
    if let Some(doc) = &event.document {
        return doc.id_json.chars().take(80).collect();
    }
    let Some(key) = event.key() else {
        return "(none: the table has no primary key)".to_owned();
    };
    let parts: Vec<String> = event
        .table
        .primary_key
        .iter()
        .zip(&key.0)
        .map(|(&i, v)| {
            let name = event.table.columns.get(i).map_or("?", |c| c.name.as_str());
            let shown = match v {
                Value::Int16(n) => n.to_string(),
                Value::Int32(n) => n.to_string(),
                Value::Int64(n) => n.to_string(),
                Value::Text(t) | Value::Enum(t) => {
                    format!("{:?}", t.chars().take(48).collect::<String>())
                }
                Value::Uuid(u) => u.to_string(),
                other => format!("{other:?}").chars().take(48).collect(),
            };
            format!("{name}={shown}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}
