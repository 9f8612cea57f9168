//! Change event documents built as the server sends them for the operations of MongoDB's
//! change-streams specification tests (mongodb/specifications,
//! `source/change-streams/tests/unified/`), with every field the server's change events
//! reference lists for that operation type. They are not captures from a live server (none
//! can run on the development machines).

use mongodb::bson::{Binary, DateTime, doc, spec::BinarySubtype};

use super::*;

pub(crate) const TOKEN: &str = "8263F1A5B2000000012B022C0100296E5A1004B1E8F4C0A5B3";

pub(crate) fn session() -> Document {
    doc! {
        "id": Binary {
            subtype: BinarySubtype::Uuid,
            bytes: vec![0x8f, 0x1c, 0x3b, 0x2e, 0x55, 0x9a, 0x4d, 0x1e, 0x9c, 0x7a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06],
        },
        "uid": Binary { subtype: BinarySubtype::Generic, bytes: vec![0u8; 32] },
    }
}

// change-streams.yml, "Test insert, update, replace, and delete event types": insertOne.
pub(crate) fn insert() -> Document {
    doc! {
        "_id": { "_data": TOKEN },
        "operationType": "insert",
        "clusterTime": Timestamp { time: 1_676_781_490, increment: 1 },
        "wallTime": DateTime::from_millis(1_676_781_490_123),
        "fullDocument": { "_id": 1, "x": 1 },
        "ns": { "db": "database0", "coll": "collection0" },
        "documentKey": { "_id": 1 },
    }
}

#[test]
fn an_insert_carries_its_document_key_and_full_document() {
    let e = read_event(&insert()).unwrap();
    assert_eq!(e.resume_token, TOKEN);
    assert_eq!(e.operation, Operation::Insert);
    assert_eq!(
        (e.db.as_str(), e.collection.as_deref()),
        ("database0", Some("collection0"))
    );
    assert_eq!(e.document_id, Some(Bson::Int32(1)));
    assert_eq!(e.full_document, Some(doc! { "_id": 1, "x": 1 }));
    assert_eq!(
        e.cluster_time,
        Timestamp {
            time: 1_676_781_490,
            increment: 1
        }
    );
    assert_eq!(e.wall_time_ms, Some(1_676_781_490_123));
    assert!(e.txn.is_none() && e.split.is_none() && e.update_description.is_none());
}

// change-streams-disambiguatedPaths.yml: `$set: { 'a.1': 2 }` on `{ _id: 1, a: { '1': 1 } }`,
// with showExpandedEvents (so `disambiguatedPaths` is there too, and ignored).
#[test]
fn an_update_carries_its_update_description() {
    let d = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "update",
        "clusterTime": Timestamp { time: 1_676_781_491, increment: 3 },
        "wallTime": DateTime::from_millis(1_676_781_491_000),
        "ns": { "db": "database0", "coll": "collection0" },
        "documentKey": { "_id": 1 },
        "updateDescription": {
            "updatedFields": { "a.1": 2 },
            "removedFields": [],
            "truncatedArrays": [],
            "disambiguatedPaths": { "a.1": ["a", "1"] },
        },
    };
    let e = read_event(&d).unwrap();
    assert_eq!(e.operation, Operation::Update);
    assert!(
        e.full_document.is_none(),
        "no post-image without updateLookup"
    );
    let u = e.update_description.unwrap();
    assert_eq!(u.updated_fields, doc! { "a.1": 2 });
    assert!(u.removed_fields.is_empty() && u.truncated_arrays.is_empty());
}

// An update that unsets a field and shortens an array (`$unset` and `$push` with `$slice`),
// in a transaction (the server adds `lsid` and `txnNumber`), with the post-image
// (`fullDocument: updateLookup`) and the pre-image
// (change-streams-pre_and_post_images.yml, `fullDocumentBeforeChange: required`).
#[test]
fn an_update_in_a_transaction_with_images() {
    let d = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "update",
        "clusterTime": Timestamp { time: 1_676_781_492, increment: 7 },
        "wallTime": DateTime::from_millis(1_676_781_492_500),
        "txnNumber": 4_i64,
        "lsid": session(),
        "ns": { "db": "database0", "coll": "collection0" },
        "documentKey": { "_id": 1 },
        "updateDescription": {
            "updatedFields": {},
            "removedFields": ["b"],
            "truncatedArrays": [{ "field": "tags", "newSize": 2 }],
        },
        "fullDocument": { "_id": 1, "tags": ["x", "y"] },
        "fullDocumentBeforeChange": { "_id": 1, "b": true, "tags": ["x", "y", "z"] },
    };
    let e = read_event(&d).unwrap();
    let txn = e.txn.unwrap();
    assert_eq!(txn.lsid, "8f1c3b2e-559a-4d1e-9c7a-010203040506");
    assert_eq!(txn.txn_number, 4);
    let u = e.update_description.unwrap();
    assert_eq!(u.removed_fields, ["b"]);
    assert_eq!(u.truncated_arrays, [("tags".to_owned(), 2)]);
    assert_eq!(e.full_document.unwrap().get_array("tags").unwrap().len(), 2);
    assert_eq!(
        e.full_document_before_change.unwrap().get_bool("b"),
        Ok(true)
    );
}

// change-streams.yml: replaceOne and deleteOne; a delete without pre-images has
// `fullDocumentBeforeChange: null` when the stream asked for `whenAvailable`.
#[test]
fn replace_and_delete() {
    let mut replace = insert();
    replace.insert("operationType", "replace");
    replace.insert("fullDocument", doc! { "_id": 1, "x": 3 });
    assert_eq!(read_event(&replace).unwrap().operation, Operation::Replace);

    let delete = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "delete",
        "clusterTime": Timestamp { time: 1_676_781_493, increment: 1 },
        "ns": { "db": "database0", "coll": "collection0" },
        "documentKey": { "_id": 1 },
        "fullDocumentBeforeChange": Bson::Null,
    };
    let e = read_event(&delete).unwrap();
    assert_eq!(e.operation, Operation::Delete);
    assert!(e.full_document.is_none() && e.full_document_before_change.is_none());
    assert!(
        e.wall_time_ms.is_none(),
        "servers before 6.0 send no wallTime"
    );
}

// change-streams.yml "Test that comment is set on getMore" and the drop tests: `drop` on the
// collection, then `invalidate` (no `ns`), which ends a collection stream.
#[test]
fn drop_and_invalidate_are_positions_only() {
    let drop = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "drop",
        "clusterTime": Timestamp { time: 1_676_781_494, increment: 1 },
        "ns": { "db": "database0", "coll": "collection0" },
    };
    assert_eq!(
        read_event(&drop).unwrap().operation,
        Operation::Other("drop".into())
    );
    let invalidate = doc! {
        "_id": { "_data": TOKEN },
        "operationType": "invalidate",
        "clusterTime": Timestamp { time: 1_676_781_494, increment: 2 },
    };
    let e = read_event(&invalidate).unwrap();
    assert_eq!(e.operation, Operation::Invalidate);
    assert!(e.collection.is_none() && e.document_id.is_none());
}

// `$changeStreamSplitLargeEvent` (server 7.0+): each fragment carries `splitEvent`.
#[test]
fn a_fragment_of_a_split_event() {
    let mut d = insert();
    d.insert("splitEvent", doc! { "fragment": 2, "of": 3 });
    assert_eq!(
        read_event(&d).unwrap().split,
        Some(Split { fragment: 2, of: 3 })
    );
}

#[test]
fn malformed_documents_name_the_field() {
    let mut d = insert();
    d.remove("_id");
    assert_eq!(read_event(&d).unwrap_err().field, "_id");
    let mut d = insert();
    d.remove("documentKey");
    assert_eq!(read_event(&d).unwrap_err().field, "documentKey._id");
    let mut d = insert();
    d.insert("clusterTime", 5);
    let err = read_event(&d).unwrap_err();
    assert_eq!(err.field, "clusterTime");
    assert!(err.to_string().contains("`clusterTime`"), "{err}");
    let mut d = insert();
    d.insert("txnNumber", 1_i64);
    d.insert("lsid", doc! { "id": "not-a-uuid" });
    assert_eq!(read_event(&d).unwrap_err().field, "lsid.id");
}
