//! Debezium's MongoDB records, which are not the relational envelope: the key is a record with
//! one string `id` (the document's `_id` as extended JSON); the value holds the document
//! images as `io.debezium.data.Json` strings, the update's `updateDescription`, the `source`
//! block, `op`, `ts_ms` and `transaction`, in that order (Debezium's `MongoDbSchema`), and has
//! no `ts_us`/`ts_ns`. The reader renders the JSON; this module only places it.

use apache_avro::types::Value as Avro;
use serde_json::{Value as Json, json};

use super::avro_convert::{opt, some};
use super::avro_schema::{
    AvroOptions, SchemaError, TableAvroSchemas, avro_full_name, record, semantic, source_record,
    split_name, transaction_record,
};
use super::avro_value::{ConnectorMeta, EncodeError, event_error, source_value, transaction_value};
use crate::event::{ChangeEvent, DocumentChange, DocumentUpdate, TableId, Value};

const JSON: &str = "io.debezium.data.Json";
const UPDATE_DESCRIPTION: &str = "io.debezium.connector.mongodb.changestream.updatedescription";
const TRUNCATED_ARRAY: &str = "io.debezium.connector.mongodb.changestream.truncatedarray";

/// The value's fields, in Debezium's order.
pub const DOCUMENT_ENVELOPE_FIELDS: [&str; 7] = [
    "before",
    "after",
    "updateDescription",
    "source",
    "op",
    "ts_ms",
    "transaction",
];

fn versioned(full: &str, enclosing: &str, fields: Vec<Json>) -> Json {
    record(
        full,
        enclosing,
        fields,
        vec![("connect.version", json!(1)), ("connect.name", json!(full))],
    )
}

fn nullable(name: &str, ty: Json) -> Json {
    json!({"name": name, "type": ["null", ty], "default": null})
}

/// The key and value schemas of a collection's topic.
pub fn document_schemas(
    topic: &str,
    collection: &TableId,
    opts: &AvroOptions,
) -> Result<TableAvroSchemas, SchemaError> {
    let base = avro_full_name(topic);
    let key_name = format!("{base}.Key");
    let key = record(
        &key_name,
        "",
        vec![json!({"name": "id", "type": "string"})],
        vec![("connect.name", json!(key_name))],
    );
    let envelope_name = format!("{base}.Envelope");
    let (space, _) = split_name(&envelope_name);
    let json_type = || semantic("string", JSON, None);
    let update_space = split_name(UPDATE_DESCRIPTION).0;
    let truncated = versioned(
        TRUNCATED_ARRAY,
        update_space,
        vec![
            json!({"name": "field", "type": "string"}),
            json!({"name": "size", "type": "int"}),
        ],
    );
    let update = versioned(
        UPDATE_DESCRIPTION,
        space,
        vec![
            nullable("removedFields", json!({"type": "array", "items": "string"})),
            nullable("updatedFields", json_type()),
            nullable(
                "truncatedArrays",
                json!({"type": "array", "items": truncated}),
            ),
        ],
    );
    let fields = DOCUMENT_ENVELOPE_FIELDS
        .iter()
        .map(|&f| match f {
            "before" | "after" => nullable(f, json_type()),
            "updateDescription" => nullable(f, update.clone()),
            "source" => json!({"name": f, "type": source_record(opts.source, space)}),
            "op" => nullable(f, json!("string")),
            "ts_ms" => nullable(f, json!("long")),
            _ => nullable(f, transaction_record(space)),
        })
        .collect();
    let envelope = record(
        &envelope_name,
        "",
        fields,
        vec![("connect.name", json!(envelope_name))],
    );
    TableAvroSchemas::parse(collection, Some(&key), &envelope, *opts)
}

fn document(event: &ChangeEvent) -> Result<&DocumentChange, EncodeError> {
    event.document.as_deref().ok_or_else(|| {
        event_error(
            &event.table,
            "a MongoDB connector's event is not a document change",
        )
    })
}

/// The key record: `{id: <_id as extended JSON>}`.
pub fn document_key(event: &ChangeEvent) -> Result<Avro, EncodeError> {
    let doc = document(event)?;
    Ok(Avro::Record(vec![(
        "id".into(),
        Avro::String(doc.id_json.clone()),
    )]))
}

/// One image (`before` or `after`): the row's one JSON value, or null.
fn image(event: &ChangeEvent, row: Option<&crate::event::Row>) -> Result<Avro, EncodeError> {
    match row.map(|r| r.0.as_slice()) {
        None => Ok(opt(None::<String>, Avro::String)),
        Some([Value::Json(text)]) => Ok(some(Avro::String(text.clone()))),
        Some(_) => Err(event_error(
            &event.table,
            "a document image must be one JSON value",
        )),
    }
}

fn update_value(update: &DocumentUpdate) -> Avro {
    let truncated = update.truncated_arrays.as_ref().map(|list| {
        list.iter()
            .map(|(field, size)| {
                Avro::Record(vec![
                    ("field".into(), Avro::String(field.clone())),
                    ("size".into(), Avro::Int(*size)),
                ])
            })
            .collect()
    });
    Avro::Record(vec![
        (
            "removedFields".into(),
            opt(update.removed_fields.clone(), |fields| {
                Avro::Array(fields.into_iter().map(Avro::String).collect())
            }),
        ),
        (
            "updatedFields".into(),
            opt(update.updated_fields.clone(), Avro::String),
        ),
        ("truncatedArrays".into(), opt(truncated, Avro::Array)),
    ])
}

/// The value record. `processed_at_us` is the envelope's `ts_ms` (when Siphon handled it).
pub fn document_envelope(
    event: &ChangeEvent,
    meta: &ConnectorMeta,
    processed_at_us: i64,
    opts: &AvroOptions,
) -> Result<Avro, EncodeError> {
    let doc = document(event)?;
    let update = opt(doc.update.as_ref(), update_value);
    Ok(Avro::Record(vec![
        ("before".into(), image(event, event.before.as_ref())?),
        ("after".into(), image(event, event.after.as_ref())?),
        ("updateDescription".into(), update),
        ("source".into(), source_value(event, meta, opts.source)?),
        ("op".into(), some(Avro::String(event.op.code().into()))),
        (
            "ts_ms".into(),
            some(Avro::Long(processed_at_us.div_euclid(1000))),
        ),
        ("transaction".into(), transaction_value(event)?),
    ]))
}

#[cfg(test)]
#[path = "mongo_envelope_tests.rs"]
mod tests;
