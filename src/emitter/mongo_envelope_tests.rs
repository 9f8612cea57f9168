//! Debezium's MongoDB key and envelope: field order and types as `MongoDbSchema` builds them,
//! values as `MongoDbCollectionSchema` fills them, through the real Avro encoding.

use std::sync::Arc;

use serde_json::Value as Json;

use super::*;
use crate::emitter::avro_schema::table_schemas;
use crate::emitter::avro_value::tests::{envelope_value, field, meta, roundtrip, s as text};
use crate::emitter::avro_value::{ConnectorMeta, key_value};
use crate::event::{
    Op, SnapshotMarker, SourceDetails, SourceInfo, SourceKind, TableSchema, TxInfo,
};

fn mongo() -> AvroOptions {
    AvroOptions::debezium_defaults(SourceKind::MongoDb)
}

fn mongo_meta() -> ConnectorMeta {
    ConnectorMeta {
        connector: "mongodb",
        ..meta()
    }
}

fn schemas() -> TableAvroSchemas {
    let table = TableSchema::document(TableId::new("inventory", "customers"));
    table_schemas("dbserver1.inventory.customers", &table, &mongo()).unwrap()
}

fn doc_event(op: Op, before: Option<&str>, after: Option<&str>) -> ChangeEvent {
    ChangeEvent {
        op,
        table: Arc::new(TableSchema::document(TableId::new(
            "inventory",
            "customers",
        ))),
        before: before.map(|j| DocumentChange::image(j.into())),
        after: after.map(|j| DocumentChange::image(j.into())),
        source: SourceInfo {
            ts_us: 1_558_965_508_000_000,
            snapshot: SnapshotMarker::False,
            db: "inventory".into(),
            details: SourceDetails::Mongo {
                ord: 31,
                lsid: None,
                txn_number: None,
                wall_time: Some(1_558_965_508_000),
            },
        },
        transaction: None,
        document: Some(Box::new(DocumentChange {
            id_json: r#"{"$oid": "596e275826f08b2730779e1f"}"#.into(),
            update: None,
        })),
    }
}

fn field_names(schema: &Json) -> Vec<String> {
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn key_is_one_string_id_named_after_the_topic() {
    let s = schemas();
    let key: Json = serde_json::from_str(s.key_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        key,
        serde_json::json!({
            "type": "record",
            "name": "Key",
            "namespace": "dbserver1.inventory.customers",
            "fields": [{"name": "id", "type": "string"}],
            "connect.name": "dbserver1.inventory.customers.Key",
        })
    );
}

#[test]
fn envelope_fields_are_debeziums_mongodb_ones_in_order() {
    let s = schemas();
    let value: Json = serde_json::from_str(&s.value_json).unwrap();
    assert_eq!(
        field_names(&value),
        [
            "before",
            "after",
            "updateDescription",
            "source",
            "op",
            "ts_ms",
            "transaction"
        ]
    );
    assert_eq!(
        value["connect.name"],
        "dbserver1.inventory.customers.Envelope"
    );
    assert!(value.get("connect.version").is_none());
    let json = serde_json::json!({
        "type": "string", "connect.version": 1, "connect.name": "io.debezium.data.Json"
    });
    assert_eq!(value["fields"][0]["type"][1], json);
    assert_eq!(value["fields"][1]["type"][1], json);
    let update = &value["fields"][2]["type"][1];
    assert_eq!(
        update["connect.name"],
        "io.debezium.connector.mongodb.changestream.updatedescription"
    );
    assert_eq!(
        field_names(update),
        ["removedFields", "updatedFields", "truncatedArrays"]
    );
    let truncated = &update["fields"][2]["type"][1]["items"];
    assert_eq!(field_names(truncated), ["field", "size"]);
    assert_eq!(truncated["fields"][1]["type"], "int");
    let source = &value["fields"][3]["type"];
    assert_eq!(source["connect.name"], "io.debezium.connector.mongo.Source");
    assert_eq!(
        field_names(source),
        [
            "version",
            "connector",
            "name",
            "ts_ms",
            "snapshot",
            "db",
            "sequence",
            "ts_us",
            "ts_ns",
            "collection",
            "ord",
            "lsid",
            "txnNumber",
            "wallTime"
        ]
    );
    assert_eq!(
        value["fields"][4]["type"],
        serde_json::json!(["null", "string"])
    );
    assert_eq!(value["fields"][6]["type"][1]["connect.name"], "event.block");
}

#[test]
fn insert_carries_after_and_the_key_its_id() {
    let s = schemas();
    let after = r#"{"_id": {"$oid": "596e275826f08b2730779e1f"},"name": "Sally"}"#;
    let e = doc_event(Op::Create, None, Some(after));
    let key = key_value(&e, &s).unwrap().unwrap();
    assert_eq!(
        key,
        Avro::Record(vec![(
            "id".into(),
            text(r#"{"$oid": "596e275826f08b2730779e1f"}"#)
        )])
    );
    let v = envelope_value(&e, &mongo_meta(), 1_558_965_515_240_000, &mongo(), &s).unwrap();
    assert_eq!(roundtrip(&s.value, &v), v);
    assert_eq!(field(&v, "before"), &Avro::Union(0, Box::new(Avro::Null)));
    assert_eq!(field(&v, "after"), &some(text(after)));
    assert_eq!(
        field(&v, "updateDescription"),
        &Avro::Union(0, Box::new(Avro::Null))
    );
    assert_eq!(field(&v, "op"), &some(text("c")));
    assert_eq!(field(&v, "ts_ms"), &some(Avro::Long(1_558_965_515_240)));
    let src = field(&v, "source");
    assert_eq!(field(src, "connector"), &text("mongodb"));
    assert_eq!(field(src, "db"), &text("inventory"));
    assert_eq!(field(src, "collection"), &text("customers"));
    assert_eq!(field(src, "ord"), &Avro::Int(31));
    assert_eq!(field(src, "ts_ms"), &Avro::Long(1_558_965_508_000));
    assert_eq!(field(src, "wallTime"), &some(Avro::Long(1_558_965_508_000)));
    assert_eq!(field(src, "lsid"), &Avro::Union(0, Box::new(Avro::Null)));
}

#[test]
fn update_carries_its_description_with_empty_lists_as_null() {
    let s = schemas();
    let mut e = doc_event(Op::Update, None, None);
    e.document.as_mut().unwrap().update = Some(DocumentUpdate {
        removed_fields: None,
        updated_fields: Some(r#"{"first_name": "Anne Marie"}"#.into()),
        truncated_arrays: Some(vec![("tags".into(), 2)]),
    });
    let v = envelope_value(&e, &mongo_meta(), 0, &mongo(), &s).unwrap();
    assert_eq!(roundtrip(&s.value, &v), v);
    assert_eq!(field(&v, "after"), &Avro::Union(0, Box::new(Avro::Null)));
    let Avro::Union(1, update) = field(&v, "updateDescription") else {
        panic!("no updateDescription")
    };
    assert_eq!(
        field(update, "removedFields"),
        &Avro::Union(0, Box::new(Avro::Null))
    );
    assert_eq!(
        field(update, "updatedFields"),
        &some(text(r#"{"first_name": "Anne Marie"}"#))
    );
    assert_eq!(
        field(update, "truncatedArrays"),
        &some(Avro::Array(vec![Avro::Record(vec![
            ("field".into(), text("tags")),
            ("size".into(), Avro::Int(2)),
        ])]))
    );
}

#[test]
fn delete_with_a_pre_image_and_transaction_metadata() {
    let s = schemas();
    let before = r#"{"_id": {"$oid": "596e275826f08b2730779e1f"}}"#;
    let mut e = doc_event(Op::Delete, Some(before), None);
    e.source.details = SourceDetails::Mongo {
        ord: 2,
        lsid: Some(r#"{"id": {"$binary": "FA7Y6d8qT3aE7Rvz1q7xEg==","$type": "04"}}"#.into()),
        txn_number: Some(1),
        wall_time: None,
    };
    e.transaction = Some(TxInfo {
        id: "x:1".into(),
        total_order: 2,
        data_collection_order: 1,
    });
    let v = envelope_value(&e, &mongo_meta(), 0, &mongo(), &s).unwrap();
    assert_eq!(roundtrip(&s.value, &v), v);
    assert_eq!(field(&v, "before"), &some(text(before)));
    assert_eq!(field(&v, "op"), &some(text("d")));
    let src = field(&v, "source");
    assert_eq!(field(src, "txnNumber"), &some(Avro::Long(1)));
    assert!(matches!(field(src, "lsid"), Avro::Union(1, _)));
    let Avro::Union(1, tx) = field(&v, "transaction") else {
        panic!("no transaction")
    };
    assert_eq!(field(tx, "total_order"), &Avro::Long(2));
    // The key of a delete without images is still the document's id.
    let e = doc_event(Op::Delete, None, None);
    assert!(key_value(&e, &s).unwrap().is_some());
}

#[test]
fn a_row_event_under_mongodb_schemas_is_refused() {
    let s = schemas();
    let mut e = doc_event(Op::Create, None, Some("{}"));
    e.document = None;
    let err = envelope_value(&e, &mongo_meta(), 0, &mongo(), &s).unwrap_err();
    assert!(err.to_string().contains("not a document change"), "{err}");
    let mut e = doc_event(Op::Create, None, None);
    e.after = Some(crate::event::Row(vec![
        crate::event::Value::Int32(1),
        crate::event::Value::Null,
    ]));
    let err = envelope_value(&e, &mongo_meta(), 0, &mongo(), &s).unwrap_err();
    assert!(err.to_string().contains("one JSON value"), "{err}");
}
