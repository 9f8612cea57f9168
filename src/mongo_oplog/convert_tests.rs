//! Change stream documents (shaped as in `change_tests`) → Debezium's MongoDB change events:
//! ops, images, `updateDescription`, keys, source fields, field exclusion, split events.

use std::collections::BTreeMap;

use mongodb::bson::{DateTime, doc, oid::ObjectId};

use super::*;
use crate::config::{ConnectorConfig, SourceOptions};
use crate::event::Value;
use crate::mongo_oplog::change::read_event;
use crate::mongo_oplog::change::tests::{TOKEN, insert, session};

fn options(extra: &[(&str, &str)]) -> MongoOptions {
    let map: BTreeMap<String, String> = [
        ("connector.class", "mongodb"),
        ("topic.prefix", "p"),
        ("mongodb.connection.string", "mongodb://h/?replicaSet=rs0"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    match ConnectorConfig::from_map("c", &map).unwrap().source {
        SourceOptions::MongoDb(m) => m,
        other => panic!("{other:?}"),
    }
}

fn json_of(row: &Option<crate::event::Row>) -> Option<&str> {
    row.as_ref().map(|r| match r.0.as_slice() {
        [Value::Json(j)] => j.as_str(),
        other => panic!("not an image: {other:?}"),
    })
}

fn convert(opts: &MongoOptions, d: &Document) -> Option<ChangeEvent> {
    Converter::new(opts)
        .stream_event(read_event(d).unwrap())
        .unwrap()
}

#[test]
fn insert_is_c_with_after_key_and_source() {
    let opts = options(&[]);
    let e = convert(&opts, &insert()).unwrap();
    assert_eq!(e.op, Op::Create);
    assert_eq!(json_of(&e.after), Some(r#"{"_id": 1,"x": 1}"#));
    assert!(e.before.is_none());
    let doc = e.document.as_ref().unwrap();
    assert_eq!(doc.id_json, "1");
    assert!(doc.update.is_none());
    assert_eq!(e.table.id, TableId::new("database0", "collection0"));
    assert_eq!(e.source.db, "database0");
    // wallTime wins over the cluster time's seconds.
    assert_eq!(e.source.ts_us, 1_676_781_490_123_000);
    assert_eq!(
        e.source.details,
        SourceDetails::Mongo {
            ord: 1,
            lsid: None,
            txn_number: None,
            wall_time: Some(1_676_781_490_123),
        }
    );
}

fn update_in_txn() -> Document {
    doc! {
        "_id": { "_data": TOKEN },
        "operationType": "update",
        "clusterTime": Timestamp { time: 1_676_781_492, increment: 7 },
        "txnNumber": 4_i64,
        "lsid": session(),
        "ns": { "db": "inventory", "coll": "customers" },
        "documentKey": { "_id": ObjectId::parse_str("596e275826f08b2730779e1f").unwrap() },
        "updateDescription": {
            "updatedFields": { "name": "Mary", "email": "m@x", "address.0.card": "4111" },
            "removedFields": ["b", "email"],
            "truncatedArrays": [{ "field": "tags", "newSize": 2 }],
        },
        "fullDocument": { "_id": 1, "name": "Mary", "email": "m@x", "tags": ["x", "y"] },
        "fullDocumentBeforeChange": { "_id": 1, "b": true, "email": "o@x" },
    }
}

#[test]
fn update_is_u_with_description_images_by_capture_mode_and_transaction_source() {
    let opts = options(&[("capture.mode", "change_streams_update_full_with_pre_image")]);
    let e = convert(&opts, &update_in_txn()).unwrap();
    assert_eq!(e.op, Op::Update);
    assert_eq!(
        json_of(&e.after),
        Some(r#"{"_id": 1,"name": "Mary","email": "m@x","tags": ["x","y"]}"#)
    );
    assert_eq!(
        json_of(&e.before),
        Some(r#"{"_id": 1,"b": true,"email": "o@x"}"#)
    );
    let doc = e.document.as_ref().unwrap();
    assert_eq!(doc.id_json, r#"{"$oid": "596e275826f08b2730779e1f"}"#);
    let u = doc.update.as_ref().unwrap();
    assert_eq!(
        u.updated_fields.as_deref(),
        Some(r#"{"name": "Mary", "email": "m@x", "address.0.card": "4111"}"#)
    );
    assert_eq!(u.removed_fields, Some(vec!["b".into(), "email".into()]));
    assert_eq!(u.truncated_arrays, Some(vec![("tags".into(), 2)]));
    // No wallTime (before 6.0): the cluster time's seconds.
    assert_eq!(e.source.ts_us, 1_676_781_492_000_000);
    let SourceDetails::Mongo {
        ord,
        lsid,
        txn_number,
        wall_time,
    } = &e.source.details
    else {
        panic!()
    };
    assert_eq!((*ord, *txn_number, *wall_time), (7, Some(4), None));
    assert_eq!(
        lsid.as_deref(),
        Some(
            r#"{"id": {"$binary": "jxw7LlWaTR6cegECAwQFBg==","$type": "04"},"uid": {"$binary": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","$type": "00"}}"#
        )
    );
    assert_eq!(
        transaction_id(lsid.as_deref().unwrap(), 4),
        format!("{}:4", lsid.as_deref().unwrap())
    );

    // change_streams: neither image, the description only.
    let e = convert(&options(&[("capture.mode", "change_streams")]), &{
        let mut d = update_in_txn();
        d.remove("fullDocument");
        d
    })
    .unwrap();
    assert!(e.before.is_none() && e.after.is_none());
    assert!(e.document.unwrap().update.is_some());
    // Without a pre-image mode, a pre-image the server sent is not written.
    let e = convert(&options(&[]), &update_in_txn()).unwrap();
    assert!(e.before.is_none() && e.after.is_some());
}

#[test]
fn excluded_fields_leave_images_and_description() {
    let opts = options(&[
        ("capture.mode", "change_streams_update_full_with_pre_image"),
        (
            "field.exclude.list",
            "inventory.customers.email,*.*.address.card",
        ),
    ]);
    let e = convert(&opts, &update_in_txn()).unwrap();
    assert_eq!(
        json_of(&e.after),
        Some(r#"{"_id": 1,"name": "Mary","tags": ["x","y"]}"#)
    );
    assert_eq!(json_of(&e.before), Some(r#"{"_id": 1,"b": true}"#));
    let u = e.document.unwrap().update.unwrap();
    assert_eq!(u.updated_fields.as_deref(), Some(r#"{"name": "Mary"}"#));
    assert_eq!(u.removed_fields, Some(vec!["b".into()]));
}

#[test]
fn replace_is_u_without_description_and_delete_is_d() {
    let opts = options(&[("capture.mode", "change_streams_with_pre_image")]);
    let mut d = insert();
    d.insert("operationType", "replace");
    d.insert("fullDocument", doc! {"_id": 1, "x": 2});
    let e = convert(&opts, &d).unwrap();
    assert_eq!(e.op, Op::Update);
    assert_eq!(json_of(&e.after), Some(r#"{"_id": 1,"x": 2}"#));
    assert!(e.document.unwrap().update.is_none());

    let mut d = insert();
    d.insert("operationType", "delete");
    d.remove("fullDocument");
    d.insert("fullDocumentBeforeChange", doc! {"_id": 1, "x": 2});
    let e = convert(&opts, &d).unwrap();
    assert_eq!(e.op, Op::Delete);
    assert!(e.after.is_none());
    assert_eq!(json_of(&e.before), Some(r#"{"_id": 1,"x": 2}"#));
    // Without pre-images the key alone identifies the deleted document.
    d.remove("fullDocumentBeforeChange");
    let e = convert(&options(&[]), &d).unwrap();
    assert!(e.before.is_none() && e.after.is_none());
    assert_eq!(e.key().unwrap().0, [Value::Text("1".into())]);
}

#[test]
fn ddl_and_invalidate_are_not_records() {
    let opts = options(&[]);
    let mut d = insert();
    d.insert("operationType", "drop");
    d.remove("documentKey");
    d.remove("fullDocument");
    assert!(convert(&opts, &d).is_none());
    let d = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "invalidate",
        "clusterTime": Timestamp { time: 1, increment: 1 },
    };
    assert!(convert(&opts, &d).is_none());
}

#[test]
fn snapshot_reads_are_r_at_the_snapshot_time() {
    let opts = options(&[("field.exclude.list", "inventory.customers.email")]);
    let mut c = Converter::new(&opts);
    let (schema, filter) = c.collection(TableId::new("inventory", "customers"));
    let filter = filter.clone();
    let at = 1_700_000_000_123_456;
    let e = snapshot_event(
        &schema,
        &filter,
        doc! {"_id": "k1", "email": "x", "at": DateTime::from_millis(0)},
        SnapshotMarker::First,
        at,
    )
    .unwrap();
    assert_eq!(e.op, Op::Read);
    assert_eq!(
        json_of(&e.after),
        Some(r#"{"_id": "k1","at": {"$date": 0}}"#)
    );
    assert_eq!(e.document.as_ref().unwrap().id_json, r#""k1""#);
    assert_eq!(e.source.snapshot, SnapshotMarker::First);
    assert_eq!(e.source.ts_us, at);
    assert!(matches!(
        e.source.details,
        SourceDetails::Mongo { ord: -1, .. }
    ));
    // The collection's schema is shared between its events.
    let (again, _) = c.collection(TableId::new("inventory", "customers"));
    assert!(Arc::ptr_eq(&e.table, &again));
    assert!(snapshot_event(&schema, &filter, doc! {"x": 1}, SnapshotMarker::True, at).is_err());
}

// $changeStreamSplitLargeEvent: fragment 1 holds the event's first fields, fragment 2 the rest
// (the server's documented shape: every fragment has `_id` and `splitEvent`).
#[test]
fn split_fragments_join_into_one_event_with_the_last_token() {
    let first = doc! {
        "_id": { "_data": "8201" },
        "splitEvent": { "fragment": 1, "of": 2 },
        "operationType": "update",
        "clusterTime": Timestamp { time: 5, increment: 1 },
        "ns": { "db": "d", "coll": "c" },
        "documentKey": { "_id": 1 },
        "fullDocumentBeforeChange": { "_id": 1, "big": "a" },
    };
    let second = doc! {
        "_id": { "_data": "8202" },
        "splitEvent": { "fragment": 2, "of": 2 },
        "fullDocument": { "_id": 1, "big": "b" },
    };
    let whole = join_fragments(vec![first, second]);
    let e = read_event(&whole).unwrap();
    assert_eq!(e.resume_token, "8202");
    assert!(e.split.is_none());
    assert!(e.full_document.is_some() && e.full_document_before_change.is_some());
}
