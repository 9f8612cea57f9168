//! Debezium's heartbeat records: `__debezium-heartbeat.<topic.prefix>`, key
//! `io.debezium.connector.common.ServerNameKey {serverName}`, value
//! `io.debezium.connector.common.Heartbeat {ts_ms}`, written every `heartbeat.interval.ms`
//! even when nothing is captured, so consumers can tell an idle connector from a dead one.

use apache_avro::types::Value as Avro;

use super::encoder::EncoderError;
use super::fixed_topic::FixedTopic;
use super::kafka::OutRecord;
use super::registry::Registry;
use crate::config::Converters;

const KEY_SCHEMA: &str = r#"{"type":"record","name":"ServerNameKey","namespace":"io.debezium.connector.common","fields":[{"name":"serverName","type":"string"}],"connect.version":1,"connect.name":"io.debezium.connector.common.ServerNameKey"}"#;
const VALUE_SCHEMA: &str = r#"{"type":"record","name":"Heartbeat","namespace":"io.debezium.connector.common","fields":[{"name":"ts_ms","type":"long"}],"connect.version":1,"connect.name":"io.debezium.connector.common.Heartbeat"}"#;

pub fn heartbeat_topic(prefix: &str) -> String {
    format!("__debezium-heartbeat.{prefix}")
}

pub struct Heartbeat {
    topic: FixedTopic,
    server_name: String,
}

impl Heartbeat {
    /// Registers the heartbeat schemas (once; the registry returns existing ids).
    pub async fn new(
        registry: Option<&Registry>,
        converters: &Converters,
        prefix: &str,
    ) -> Result<Self, EncoderError> {
        let topic = FixedTopic::new(
            registry,
            converters,
            heartbeat_topic(prefix),
            KEY_SCHEMA,
            VALUE_SCHEMA,
        )
        .await?;
        Ok(Heartbeat {
            topic,
            server_name: prefix.to_owned(),
        })
    }

    pub fn topic(&self) -> &str {
        self.topic.topic()
    }

    pub fn record(&self, now_ms: i64) -> Result<OutRecord, EncoderError> {
        self.topic.record(
            Avro::Record(vec![(
                "serverName".into(),
                Avro::String(self.server_name.clone()),
            )]),
            Avro::Record(vec![("ts_ms".into(), Avro::Long(now_ms))]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::Schema;

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
