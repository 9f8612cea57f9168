//! Debezium's transaction metadata topic, `<topic.prefix>.transaction`: a BEGIN record when a
//! transaction's first captured change is written and an END record with its event counts
//! per table, keyed by the transaction id.

use apache_avro::types::Value as Avro;

use super::encoder::EncoderError;
use super::fixed_topic::FixedTopic;
use super::kafka::OutRecord;
use super::registry::Registry;
use crate::config::Converters;
use crate::event::TxMarker;

// As Debezium's `SchemaFactory` names and versions them (version 1 each; the per-collection
// item is the named `event.collection`), through Confluent's AvroData.
const KEY_SCHEMA: &str = r#"{"type":"record","name":"TransactionMetadataKey","namespace":"io.debezium.connector.common","fields":[{"name":"id","type":"string"}],"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataKey"}"#;
const VALUE_SCHEMA: &str = r#"{"type":"record","name":"TransactionMetadataValue","namespace":"io.debezium.connector.common","fields":[{"name":"status","type":"string"},{"name":"id","type":"string"},{"name":"event_count","type":["null","long"],"default":null},{"name":"data_collections","type":["null",{"type":"array","items":{"type":"record","name":"collection","namespace":"event","fields":[{"name":"data_collection","type":"string"},{"name":"event_count","type":"long"}],"connect.version":1,"connect.name":"event.collection"}}],"default":null},{"name":"ts_ms","type":"long"}],"connect.version":1,"connect.name":"io.debezium.connector.common.TransactionMetadataValue"}"#;

pub fn transaction_topic(prefix: &str) -> String {
    format!("{prefix}.transaction")
}

/// The fields a marker record carries.
struct Fields<'a> {
    status: &'static str,
    id: &'a str,
    ts_us: i64,
    event_count: Option<u64>,
    data_collections: Option<&'a [(String, u64)]>,
}

fn fields(marker: &TxMarker) -> Fields<'_> {
    match marker {
        TxMarker::Begin { id, ts_us } => Fields {
            status: "BEGIN",
            id,
            ts_us: *ts_us,
            event_count: None,
            data_collections: None,
        },
        TxMarker::End {
            id,
            ts_us,
            event_count,
            data_collections,
        } => Fields {
            status: "END",
            id,
            ts_us: *ts_us,
            event_count: Some(*event_count),
            data_collections: Some(data_collections),
        },
    }
}

pub struct TxTopic(FixedTopic);

impl TxTopic {
    pub async fn new(
        registry: Option<&Registry>,
        converters: &Converters,
        prefix: &str,
    ) -> Result<Self, EncoderError> {
        FixedTopic::new(
            registry,
            converters,
            transaction_topic(prefix),
            KEY_SCHEMA,
            VALUE_SCHEMA,
        )
        .await
        .map(TxTopic)
    }

    pub fn topic(&self) -> &str {
        self.0.topic()
    }

    pub fn record(&self, marker: &TxMarker) -> Result<OutRecord, EncoderError> {
        let Fields {
            status,
            id,
            ts_us,
            event_count: count,
            data_collections: collections,
        } = fields(marker);
        let key = Avro::Record(vec![("id".into(), Avro::String(id.to_owned()))]);
        let count = match count {
            Some(n) => Avro::Union(
                1,
                Box::new(Avro::Long(i64::try_from(n).unwrap_or(i64::MAX))),
            ),
            None => Avro::Union(0, Box::new(Avro::Null)),
        };
        let collections = match collections {
            Some(c) => Avro::Union(
                1,
                Box::new(Avro::Array(
                    c.iter()
                        .map(|(t, n)| {
                            Avro::Record(vec![
                                ("data_collection".into(), Avro::String(t.clone())),
                                (
                                    "event_count".into(),
                                    Avro::Long(i64::try_from(*n).unwrap_or(i64::MAX)),
                                ),
                            ])
                        })
                        .collect(),
                )),
            ),
            None => Avro::Union(0, Box::new(Avro::Null)),
        };
        let value = Avro::Record(vec![
            ("status".into(), Avro::String(status.into())),
            ("id".into(), Avro::String(id.to_owned())),
            ("event_count".into(), count),
            ("data_collections".into(), collections),
            ("ts_ms".into(), Avro::Long(ts_us.div_euclid(1000))),
        ]);
        self.0.record(key, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::Schema;
    use serde_json::{Value as Json, json};

    fn payload(bytes: Option<Vec<u8>>) -> Json {
        serde_json::from_slice(&bytes.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn end_marker_json_has_counts_per_table() {
        use crate::config::RecordFormat;
        let json = Converters {
            key: RecordFormat::Json { schemas: false },
            value: RecordFormat::Json { schemas: false },
            registry_url: None,
        };
        let topic = TxTopic::new(None, &json, "p").await.unwrap();
        let end = topic
            .record(&TxMarker::End {
                id: "571:53195832".into(),
                ts_us: 1_500_000,
                event_count: 3,
                data_collections: vec![("public.a".into(), 2), ("public.b".into(), 1)],
            })
            .unwrap();
        assert_eq!(end.topic, "p.transaction");
        assert_eq!(payload(end.key), json!({"id": "571:53195832"}));
        let value = payload(end.value);
        assert_eq!(value["status"], "END");
        assert_eq!(value["ts_ms"], 1500);
        assert_eq!(
            value["data_collections"][1],
            json!({"data_collection": "public.b", "event_count": 1})
        );
        let begin = topic
            .record(&TxMarker::Begin {
                id: "1:2".into(),
                ts_us: 0,
            })
            .unwrap();
        let begin = payload(begin.value);
        assert_eq!(
            (begin["status"].as_str(), &begin["event_count"]),
            (Some("BEGIN"), &Json::Null)
        );
        // With schemas.enable, the Connect schema of Debezium's value schema wraps it.
        let with_schema = Converters {
            value: RecordFormat::Json { schemas: true },
            ..json
        };
        let topic = TxTopic::new(None, &with_schema, "p").await.unwrap();
        let begin = payload(
            topic
                .record(&TxMarker::Begin {
                    id: "1:2".into(),
                    ts_us: 0,
                })
                .unwrap()
                .value,
        );
        assert_eq!(
            begin["schema"]["name"],
            "io.debezium.connector.common.TransactionMetadataValue"
        );
        assert_eq!(begin["payload"]["status"], "BEGIN");
    }

    #[test]
    fn schemas_parse() {
        Schema::parse_str(KEY_SCHEMA).unwrap();
        Schema::parse_str(VALUE_SCHEMA).unwrap();
    }
}
