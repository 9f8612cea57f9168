//! The embedded sink, for running without Kafka: JSON lines (`{"topic", "key", "value"}`) to
//! stdout or a file, flushed, then the offset stored in a local file. At-least-once: a crash
//! between the two repeats a batch. Key and value are rendered by the connector's converters
//! as the embedded sink resolves them (JsonConverter, with or without its schema).

use std::collections::HashMap;
use std::io::Write;

use apache_avro::types::Value as Avro;
use serde_json::Value as Json;
use tokio::sync::{mpsc, watch};

use super::avro_schema::{TableAvroSchemas, table_schemas};
use super::avro_value::{ConnectorMeta, envelope_value, key_value};
use super::encoder::{EncoderError, Side, avro_options};
use super::pipeline::{EmitError, now_us, planned};
use super::txmeta::TxTopic;
use crate::config::{ConnectorConfig, Converters, EmbeddedSink, ServiceConfig};
use crate::event::{ChangeBatch, TableSchema};
use crate::offsets::{FileOffsetStore, Position};

/// One table version's schemas and the key and value sides derived from them.
struct TableSides {
    schemas: TableAvroSchemas,
    key: Option<Side>,
    value: Side,
}

impl TableSides {
    async fn new(
        topic: &str,
        table: &TableSchema,
        config: &ConnectorConfig,
        converters: &Converters,
    ) -> Result<Self, EncoderError> {
        let schemas = table_schemas(topic, table, &avro_options(config))?;
        let key = match (&schemas.key, &schemas.key_json) {
            (Some(schema), Some(json)) => {
                Some(Side::prepare(converters.key, None, topic, "key", schema, json).await?)
            }
            _ => None,
        };
        let value = Side::prepare(
            converters.value,
            None,
            topic,
            "value",
            &schemas.value,
            &schemas.value_json,
        )
        .await?;
        Ok(TableSides {
            schemas,
            key,
            value,
        })
    }
}

/// A side's bytes (JSON text) back as a JSON value, for the line that holds it.
fn rendered(side: &Side, topic: &str, value: &Avro) -> Result<Json, EncoderError> {
    let bytes = side.encode(topic, value)?;
    serde_json::from_slice(&bytes).map_err(|e| EncoderError::Json {
        topic: topic.to_owned(),
        message: e.to_string(),
    })
}

fn line(topic: &str, key: Json, value: Json) -> String {
    serde_json::json!({ "topic": topic, "key": key, "value": value }).to_string()
}

pub async fn run_embedded(
    config: &ConnectorConfig,
    service: &ServiceConfig,
    mut rx: mpsc::Receiver<ChangeBatch>,
    committed: watch::Sender<Option<Position>>,
) -> Result<(), EmitError> {
    let store = FileOffsetStore::new(&service.data_dir);
    let converters = config
        .converter_settings
        .embedded()
        .map_err(EmitError::Converters)?;
    let opts = avro_options(config);
    let meta = ConnectorMeta {
        name: config.topic_prefix.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        connector: config.class.name(),
    };
    let tx_topic = TxTopic::new(None, &converters, &config.topic_prefix).await?;
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
    // Keyed by the columns themselves: version numbers are per reader session.
    let mut tables: HashMap<TableSchema, TableSides> = HashMap::new();
    while let Some(batch) = rx.recv().await {
        let (planned, markers, position) = planned(batch, config);
        let now = now_us();
        for m in &markers {
            let record = tx_topic.record(m)?;
            let json = |bytes: Option<Vec<u8>>| -> Result<Json, EmitError> {
                Ok(match bytes {
                    None => Json::Null,
                    Some(b) => serde_json::from_slice(&b).map_err(|e| EncoderError::Json {
                        topic: record.topic.clone(),
                        message: e.to_string(),
                    })?,
                })
            };
            let text = line(
                &record.topic,
                json(record.key.clone())?,
                json(record.value)?,
            );
            writeln!(out, "{text}").map_err(EmitError::Sink)?;
        }
        for p in &planned {
            let (event, tombstone) = (&p.event, p.tombstone);
            let topic = super::avro_schema::table_topic(&config.topic_prefix, &event.table);
            if !tables.contains_key(&*event.table) {
                let sides = TableSides::new(&topic, &event.table, config, &converters).await?;
                tables.insert((*event.table).clone(), sides);
            }
            let s = &tables[&*event.table];
            let key = match (
                key_value(event, &s.schemas).map_err(EncoderError::from)?,
                &s.key,
            ) {
                (Some(k), Some(side)) => rendered(side, &topic, &k)?,
                _ => Json::Null,
            };
            // A tombstone is null whatever the converter, as JsonConverter writes it.
            let value = if tombstone {
                Json::Null
            } else {
                let v = envelope_value(event, &meta, now, &opts, &s.schemas)
                    .map_err(EncoderError::from)?;
                rendered(&s.value, &topic, &v)?
            };
            writeln!(out, "{}", line(&topic, key, value)).map_err(EmitError::Sink)?;
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
