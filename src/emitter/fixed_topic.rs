//! A side topic with fixed Avro key and value schemas (heartbeats, transaction metadata),
//! written with the connector's converters: Avro schemas are registered once, then records
//! are framed with their ids; JSON records carry the Connect schema derived from them.

use apache_avro::Schema;
use apache_avro::types::Value as Avro;

use super::encoder::{EncoderError, Side};
use super::kafka::OutRecord;
use super::registry::Registry;
use crate::config::Converters;

pub struct FixedTopic {
    topic: String,
    key: Side,
    value: Side,
}

impl FixedTopic {
    /// Parses the schemas and prepares each side (registered under `<topic>-key` /
    /// `<topic>-value` when it is Avro).
    pub async fn new(
        registry: Option<&Registry>,
        converters: &Converters,
        topic: String,
        key_json: &str,
        value_json: &str,
    ) -> Result<Self, EncoderError> {
        let parse = |json: &str| {
            Schema::parse_str(json).map_err(|e| EncoderError::Avro {
                topic: topic.clone(),
                message: e.to_string(),
            })
        };
        let (key_schema, value_schema) = (parse(key_json)?, parse(value_json)?);
        let key = Side::prepare(
            converters.key,
            registry,
            &topic,
            "key",
            &key_schema,
            key_json,
        )
        .await?;
        let value = Side::prepare(
            converters.value,
            registry,
            &topic,
            "value",
            &value_schema,
            value_json,
        )
        .await?;
        Ok(FixedTopic { topic, key, value })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn record(&self, key: Avro, value: Avro) -> Result<OutRecord, EncoderError> {
        Ok(OutRecord {
            topic: self.topic.clone(),
            key: Some(self.key.encode(&self.topic, &key)?),
            value: Some(self.value.encode(&self.topic, &value)?),
            headers: Vec::new(),
        })
    }
}
