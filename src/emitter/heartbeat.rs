//! Debezium's heartbeat records: `__debezium-heartbeat.<topic.prefix>`, key
//! `io.debezium.connector.common.ServerNameKey {serverName}`, value
//! `io.debezium.connector.common.Heartbeat {ts_ms}`, written every `heartbeat.interval.ms`
//! even when nothing is captured, so consumers can tell an idle connector from a dead one.

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;

use super::encoder::EncoderError;
use super::kafka::OutRecord;
use super::registry::{Registry, frame};

const KEY_SCHEMA: &str = r#"{"type":"record","name":"ServerNameKey","namespace":"io.debezium.connector.common","fields":[{"name":"serverName","type":"string"}],"connect.name":"io.debezium.connector.common.ServerNameKey"}"#;
const VALUE_SCHEMA: &str = r#"{"type":"record","name":"Heartbeat","namespace":"io.debezium.connector.common","fields":[{"name":"ts_ms","type":"long"}],"connect.name":"io.debezium.connector.common.Heartbeat"}"#;

pub fn heartbeat_topic(prefix: &str) -> String {
    format!("__debezium-heartbeat.{prefix}")
}

pub struct Heartbeat {
    topic: String,
    server_name: String,
    key: (Schema, u32),
    value: (Schema, u32),
}

fn encode(topic: &str, schema: &Schema, value: Avro) -> Result<Vec<u8>, EncoderError> {
    let err = |e: apache_avro::Error| EncoderError::Avro {
        topic: topic.to_owned(),
        message: e.to_string(),
    };
    GenericDatumWriter::builder(schema)
        .build()
        .map_err(err)?
        .write_value_to_vec(value)
        .map_err(err)
}

impl Heartbeat {
    /// Registers the heartbeat schemas (once; the registry returns existing ids).
    pub async fn new(registry: &Registry, prefix: &str) -> Result<Self, EncoderError> {
        let topic = heartbeat_topic(prefix);
        let parse = |json: &str| {
            Schema::parse_str(json).map_err(|e| EncoderError::Avro {
                topic: topic.clone(),
                message: e.to_string(),
            })
        };
        let key_schema = parse(KEY_SCHEMA)?;
        let value_schema = parse(VALUE_SCHEMA)?;
        let key_id = registry.id(&format!("{topic}-key"), KEY_SCHEMA).await?;
        let value_id = registry.id(&format!("{topic}-value"), VALUE_SCHEMA).await?;
        Ok(Heartbeat {
            topic,
            server_name: prefix.to_owned(),
            key: (key_schema, key_id),
            value: (value_schema, value_id),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn record(&self, now_ms: i64) -> Result<OutRecord, EncoderError> {
        let key = Avro::Record(vec![(
            "serverName".into(),
            Avro::String(self.server_name.clone()),
        )]);
        let value = Avro::Record(vec![("ts_ms".into(), Avro::Long(now_ms))]);
        Ok(OutRecord {
            topic: self.topic.clone(),
            key: Some(frame(self.key.1, &encode(&self.topic, &self.key.0, key)?)),
            value: Some(frame(
                self.value.1,
                &encode(&self.topic, &self.value.0, value)?,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_parse_and_topic_is_debeziums() {
        Schema::parse_str(KEY_SCHEMA).unwrap();
        Schema::parse_str(VALUE_SCHEMA).unwrap();
        assert_eq!(
            heartbeat_topic("dbserver1"),
            "__debezium-heartbeat.dbserver1"
        );
    }
}
