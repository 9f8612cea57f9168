//! Debezium's records of PostgreSQL logical decoding messages (`pg_logical_emit_message`,
//! `op: m`), which are not the relational envelope: topic `<topic.prefix>.message`, key
//! `io.debezium.connector.postgresql.MessageKey` `{prefix}`, value `MessageValue` with `op`,
//! `ts_ms`, `source`, `transaction` and the `message` block `{prefix, content}` (content as
//! bytes, Debezium's default `binary.handling.mode`), as its `PostgresSchemaFactory` builds
//! them.

use apache_avro::types::Value as Avro;
use serde_json::{Value as Json, json};

use super::avro_convert::{opt, some};
use super::avro_schema::{
    AvroOptions, SchemaError, TableAvroSchemas, record, source_record, transaction_record,
};
use super::avro_value::{ConnectorMeta, EncodeError, event_error, source_value, transaction_value};
use crate::event::{ChangeEvent, Value};

const NAMESPACE: &str = "io.debezium.connector.postgresql";

/// `<topic.prefix>.message`.
pub fn message_topic(prefix: &str) -> String {
    format!("{prefix}.message")
}

fn versioned(name: &str, enclosing: &str, fields: Vec<Json>) -> Json {
    let full = format!("{NAMESPACE}.{name}");
    record(
        &full,
        enclosing,
        fields,
        vec![("connect.version", json!(1)), ("connect.name", json!(full))],
    )
}

fn nullable(name: &str, ty: &str) -> Json {
    json!({"name": name, "type": ["null", ty], "default": null})
}

/// The key and value schemas of the message topic.
pub fn message_schemas(opts: &AvroOptions) -> Result<TableAvroSchemas, SchemaError> {
    let key = versioned("MessageKey", "", vec![nullable("prefix", "string")]);
    let block = versioned(
        "Message",
        NAMESPACE,
        vec![nullable("prefix", "string"), nullable("content", "bytes")],
    );
    let value = versioned(
        "MessageValue",
        "",
        vec![
            json!({"name": "op", "type": "string"}),
            nullable("ts_ms", "long"),
            json!({"name": "source", "type": source_record(opts.source, NAMESPACE)}),
            json!({"name": "transaction", "type": ["null", transaction_record(NAMESPACE)], "default": null}),
            json!({"name": "message", "type": block}),
        ],
    );
    let id = crate::event::TableSchema::logical_message().id;
    TableAvroSchemas::parse(&id, Some(&key), &value, *opts)
}

fn parts(event: &ChangeEvent) -> Result<(Option<String>, Option<Vec<u8>>), EncodeError> {
    match event.after.as_ref().map(|r| r.0.as_slice()) {
        Some([prefix, content]) => {
            let prefix = match prefix {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            };
            let content = match content {
                Value::Bytes(b) => Some(b.clone()),
                _ => None,
            };
            Ok((prefix, content))
        }
        _ => Err(event_error(
            &event.table,
            "a logical decoding message must be one row of prefix and content",
        )),
    }
}

/// The key record: `{prefix}`.
pub fn message_key(event: &ChangeEvent) -> Result<Avro, EncodeError> {
    let (prefix, _) = parts(event)?;
    Ok(Avro::Record(vec![(
        "prefix".into(),
        opt(prefix, Avro::String),
    )]))
}

/// The value record. `processed_at_us` is its `ts_ms` (when Siphon handled it).
pub fn message_value(
    event: &ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
) -> Result<Avro, EncodeError> {
    let (prefix, content) = parts(event)?;
    Ok(Avro::Record(vec![
        ("op".into(), Avro::String(event.op.code().into())),
        (
            "ts_ms".into(),
            some(Avro::Long(processed_at_us.div_euclid(1000))),
        ),
        ("source".into(), source_value(event, meta, opts.source)?),
        ("transaction".into(), transaction_value(event)?),
        (
            "message".into(),
            Avro::Record(vec![
                ("prefix".into(), opt(prefix, Avro::String)),
                ("content".into(), opt(content, Avro::Bytes)),
            ]),
        ),
    ]))
}
