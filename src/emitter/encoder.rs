//! Encodes planned records as Confluent-framed Avro: schemas derived per table version,
//! registered once under `<topic>-key` / `<topic>-value`, ids cached for the hot path.

use std::collections::HashMap;
use std::sync::Arc;

use super::avro_schema::{
    AvroOptions, DecimalMode, SchemaError, SourceKind, TableAvroSchemas, TimeMode, table_schemas,
    topic_name,
};
use super::avro_value::{ConnectorMeta, EncodeError, key_value, write_envelope};
use super::avro_write::AvroWriter;
use super::kafka::OutRecord;
use super::records::Planned;
use super::registry::{Registry, RegistryError};
use crate::config::{ConnectorClass, ConnectorConfig, DecimalHandlingMode, TimePrecisionMode};
use crate::event::{TableId, TableSchema};

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
}

impl EncoderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, EncoderError::Registry(e) if e.is_transient())
    }
}

/// Avro options from the connector's Debezium settings.
pub fn avro_options(config: &ConnectorConfig) -> AvroOptions {
    let source = match config.class {
        ConnectorClass::Postgres => SourceKind::Postgres,
        ConnectorClass::MySql | ConnectorClass::MariaDb => SourceKind::MySql,
        ConnectorClass::MongoDb => SourceKind::MongoDb,
    };
    let mut opts = AvroOptions::debezium_defaults(source);
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
    if let Some(pg) = &config.postgres {
        opts.hstore_as_map = pg.hstore_as_map;
        opts.interval_as_string = pg.interval_as_string;
    }
    opts
}

/// The schemas and registry ids of one table version.
struct Entry {
    /// The table version the schemas were derived from. Versions are numbered per reader
    /// session (a snapshot and the stream may both call different columns "version 1"), so a
    /// cache hit is confirmed by comparing the columns, pointer first.
    table: Arc<TableSchema>,
    topic: String,
    schemas: TableAvroSchemas,
    /// The key writer and its registry id, for a table with a key.
    key: Option<(AvroWriter, u32)>,
    value: (AvroWriter, u32),
}

pub struct Encoder {
    registry: Arc<Registry>,
    opts: AvroOptions,
    meta: ConnectorMeta,
    prefix: String,
    tables: HashMap<(TableId, u32), Arc<Entry>>,
}

fn writer_err(topic: &str) -> impl Fn(super::avro_write::WriteError) -> EncoderError + '_ {
    move |e| EncoderError::Avro {
        topic: topic.to_owned(),
        message: e.to_string(),
    }
}

impl Encoder {
    pub fn new(config: &ConnectorConfig, registry: Arc<Registry>) -> Self {
        Encoder {
            registry,
            opts: avro_options(config),
            meta: ConnectorMeta {
                name: config.topic_prefix.clone(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                connector: config.class.name(),
            },
            prefix: config.topic_prefix.clone(),
            tables: HashMap::new(),
        }
    }

    /// The topic of a table.
    pub fn topic(&self, table: &TableId) -> String {
        topic_name(&self.prefix, table)
    }

    async fn entry(&mut self, table: &Arc<TableSchema>) -> Result<Arc<Entry>, EncoderError> {
        let cache_key = (table.id.clone(), table.version);
        if let Some(e) = self.tables.get(&cache_key)
            && (Arc::ptr_eq(&e.table, table) || e.table == *table)
        {
            return Ok(Arc::clone(e));
        }
        let topic = self.topic(&table.id);
        let schemas = table_schemas(&topic, table, &self.opts)?;
        let key = match (&schemas.key, &schemas.key_json) {
            (Some(schema), Some(json)) => {
                let writer = AvroWriter::new(schema).map_err(writer_err(&topic))?;
                Some((
                    writer,
                    self.registry.id(&format!("{topic}-key"), json).await?,
                ))
            }
            _ => None,
        };
        let value_writer = AvroWriter::new(&schemas.value).map_err(writer_err(&topic))?;
        let value_id = self
            .registry
            .id(&format!("{topic}-value"), &schemas.value_json)
            .await?;
        let entry = Arc::new(Entry {
            table: Arc::clone(table),
            topic,
            schemas,
            key,
            value: (value_writer, value_id),
        });
        self.tables.insert(cache_key, Arc::clone(&entry));
        Ok(entry)
    }

    /// The topics of the tables the encoder has seen.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.tables.values().map(|e| e.topic.as_str())
    }

    /// One planned record → one Kafka record; `now_us` is Debezium's envelope `ts_*`.
    pub async fn encode(
        &mut self,
        planned: &Planned,
        now_us: i64,
    ) -> Result<OutRecord, EncoderError> {
        let (event, tombstone) = match planned {
            Planned::Event(e) => (e, false),
            Planned::Tombstone(e) => (e, true),
        };
        let entry = self.entry(&event.table).await?;
        let key = match (key_value(event, &entry.schemas)?, &entry.key) {
            (Some(v), Some((writer, id))) => {
                Some(writer.framed(*id, &v).map_err(writer_err(&entry.topic))?)
            }
            _ => None,
        };
        let value = if tombstone {
            None
        } else {
            let (writer, id) = &entry.value;
            let mut out = Vec::with_capacity(512);
            AvroWriter::frame_header(*id, &mut out);
            write_envelope(
                event,
                &self.meta,
                now_us,
                &self.opts,
                &entry.schemas,
                writer,
                &mut out,
            )?;
            Some(out)
        };
        Ok(OutRecord {
            topic: entry.topic.clone(),
            key,
            value,
        })
    }
}
