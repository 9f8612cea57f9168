//! A side topic with fixed Avro key and value schemas (heartbeats, transaction metadata):
//! the schemas are registered once, then records are framed with their ids.

use apache_avro::Schema;
use apache_avro::types::Value as Avro;

use super::avro_write::AvroWriter;
use super::encoder::EncoderError;
use super::kafka::OutRecord;
use super::registry::Registry;

pub struct FixedTopic {
    topic: String,
    key: (AvroWriter, u32),
    value: (AvroWriter, u32),
}

impl FixedTopic {
    /// Parses and registers the schemas under `<topic>-key` / `<topic>-value`.
    pub async fn new(
        registry: &Registry,
        topic: String,
        key_json: &str,
        value_json: &str,
    ) -> Result<Self, EncoderError> {
        let parse = |json: &str| {
            let schema = Schema::parse_str(json).map_err(|e| EncoderError::Avro {
                topic: topic.clone(),
                message: e.to_string(),
            })?;
            AvroWriter::new(&schema).map_err(|e| EncoderError::Avro {
                topic: topic.clone(),
                message: e.to_string(),
            })
        };
        let (key_schema, value_schema) = (parse(key_json)?, parse(value_json)?);
        let key_id = registry.id(&format!("{topic}-key"), key_json).await?;
        let value_id = registry.id(&format!("{topic}-value"), value_json).await?;
        Ok(FixedTopic {
            topic,
            key: (key_schema, key_id),
            value: (value_schema, value_id),
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    fn encode(
        &self,
        (writer, id): &(AvroWriter, u32),
        value: Avro,
    ) -> Result<Vec<u8>, EncoderError> {
        writer.framed(*id, &value).map_err(|e| EncoderError::Avro {
            topic: self.topic.clone(),
            message: e.to_string(),
        })
    }

    pub fn record(&self, key: Avro, value: Avro) -> Result<OutRecord, EncoderError> {
        Ok(OutRecord {
            topic: self.topic.clone(),
            key: Some(self.encode(&self.key, key)?),
            value: Some(self.encode(&self.value, value)?),
            headers: Vec::new(),
        })
    }
}
