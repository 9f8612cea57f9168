//! Change stream events and snapshot documents → change events in Debezium's MongoDB shape
//! (pure): ops as Debezium maps them (insert → c, update and replace → u, delete → d, a read
//! → r), images and `updateDescription` after `field.exclude.list`, rendered as the extended
//! JSON Debezium writes, and the `source` block's `ord`, `lsid`, `txnNumber` and `wallTime`.

use std::collections::HashMap;
use std::sync::Arc;

use mongodb::bson::{Bson, Document, Timestamp};

use super::change::{ChangeStreamEvent, Operation, UpdateDescription};
use super::error::MongoError;
use super::ext_json::{relaxed_fields, relaxed_id, strict_document};
use super::fields::FieldFilter;
use crate::config::MongoOptions;
use crate::event::{
    ChangeEvent, DocumentChange, DocumentUpdate, Op, SnapshotMarker, SourceDetails, SourceInfo,
    TableId, TableSchema,
};

/// Debezium's transaction id for a MongoDB transaction: `<lsid JSON>:<txnNumber>`.
pub fn transaction_id(lsid_json: &str, txn_number: i64) -> String {
    format!("{lsid_json}:{txn_number}")
}

/// Microseconds since the epoch of an event: its `wallTime` (MongoDB 6.0+), else its
/// cluster time's seconds, as Debezium's `ts_ms`.
fn event_ts_us(wall_time_ms: Option<i64>, cluster_time: Timestamp) -> i64 {
    wall_time_ms.unwrap_or(i64::from(cluster_time.time) * 1000) * 1000
}

/// Converts documents of the captured collections, keeping one shared table schema and one
/// field filter per collection.
pub struct Converter<'a> {
    options: &'a MongoOptions,
    collections: HashMap<TableId, (Arc<TableSchema>, FieldFilter)>,
}

impl<'a> Converter<'a> {
    pub fn new(options: &'a MongoOptions) -> Self {
        Converter {
            options,
            collections: HashMap::new(),
        }
    }

    /// The shared schema and the field filter of a collection.
    pub fn collection(&mut self, id: TableId) -> (Arc<TableSchema>, &FieldFilter) {
        let options = self.options;
        let (schema, filter) = self.collections.entry(id).or_insert_with_key(|id| {
            (
                Arc::new(TableSchema::document(id.clone())),
                FieldFilter::for_collection(options, &id.namespace, &id.name),
            )
        });
        (Arc::clone(schema), filter)
    }

    /// The change event of a stream event, or `None` for an event Debezium does not emit
    /// (DDL, `invalidate`).
    pub fn stream_event(
        &mut self,
        event: ChangeStreamEvent,
    ) -> Result<Option<ChangeEvent>, MongoError> {
        let op = match event.operation {
            Operation::Insert => Op::Create,
            Operation::Update | Operation::Replace => Op::Update,
            Operation::Delete => Op::Delete,
            Operation::Invalidate | Operation::Other(_) => return Ok(None),
        };
        let Some(collection) = event.collection else {
            return Ok(None);
        };
        let table = TableId::new(event.db.clone(), collection);
        let id = event.document_id.as_ref().unwrap_or(&Bson::Null);
        let id_json = relaxed_id(id);
        let capture = self.options.capture_mode;
        let (schema, filter) = self.collection(table);
        let image = |doc: Option<Document>| {
            doc.map(|mut d| {
                filter.apply(&mut d);
                DocumentChange::image(strict_document(&d))
            })
        };
        let before = if capture.pre_image {
            image(event.full_document_before_change)
        } else {
            None
        };
        let after = match event.operation {
            // An update's full document is there only with `*_update_full*`; Debezium writes
            // it whenever the server sent one.
            Operation::Insert | Operation::Replace | Operation::Update => {
                image(event.full_document)
            }
            _ => None,
        };
        let update = match (&event.operation, event.update_description) {
            (Operation::Update, Some(u)) => Some(update_of(u, filter)),
            _ => None,
        };
        let txn = event.txn.as_ref();
        Ok(Some(ChangeEvent {
            op,
            table: schema,
            before,
            after,
            source: SourceInfo {
                ts_us: event_ts_us(event.wall_time_ms, event.cluster_time),
                snapshot: SnapshotMarker::False,
                db: event.db,
                details: SourceDetails::Mongo {
                    // Increments count operations within a second: far below i32::MAX.
                    ord: i32::try_from(event.cluster_time.increment).unwrap_or(i32::MAX),
                    lsid: txn.map(|t| strict_document(&t.session)),
                    txn_number: txn.map(|t| t.txn_number),
                    wall_time: event.wall_time_ms,
                },
            },
            transaction: None,
            document: Some(Box::new(DocumentChange { id_json, update })),
        }))
    }
}

/// Debezium's `updateDescription`: empty lists are null, `updatedFields` is always there.
fn update_of(u: UpdateDescription, filter: &FieldFilter) -> DocumentUpdate {
    let mut updated = u.updated_fields;
    filter.apply_to_updates(&mut updated);
    let removed: Vec<String> = u
        .removed_fields
        .into_iter()
        .filter(|f| !filter.excludes(f))
        .collect();
    let truncated: Vec<(String, i32)> = u
        .truncated_arrays
        .into_iter()
        .filter(|(f, _)| !filter.excludes(f))
        .collect();
    DocumentUpdate {
        removed_fields: (!removed.is_empty()).then_some(removed),
        updated_fields: Some(relaxed_fields(&updated)),
        truncated_arrays: (!truncated.is_empty()).then_some(truncated),
    }
}

/// A snapshot's read event of `doc` of the collection `schema` is of, read at `read_at_us`
/// (microseconds since the epoch). As Debezium's: `ts_ms` is the read time and `ord` -1.
pub fn snapshot_event(
    schema: &Arc<TableSchema>,
    filter: &FieldFilter,
    mut doc: Document,
    marker: SnapshotMarker,
    read_at_us: i64,
) -> Result<ChangeEvent, MongoError> {
    let table = &schema.id;
    let id = doc
        .get("_id")
        .cloned()
        .ok_or_else(|| MongoError::Protocol(format!("a document of {table} has no `_id`")))?;
    filter.apply(&mut doc);
    Ok(ChangeEvent {
        op: Op::Read,
        table: Arc::clone(schema),
        before: None,
        after: Some(DocumentChange::image(strict_document(&doc))),
        source: SourceInfo {
            ts_us: read_at_us,
            snapshot: marker,
            db: table.namespace.clone(),
            details: SourceDetails::Mongo {
                ord: -1,
                lsid: None,
                txn_number: None,
                wall_time: None,
            },
        },
        transaction: None,
        document: Some(Box::new(DocumentChange {
            id_json: relaxed_id(&id),
            update: None,
        })),
    })
}

/// Joins the fragments of an event split by `$changeStreamSplitLargeEvent`: each fragment
/// carries some of the event's top-level fields (and its own `_id` and `splitEvent`); the
/// whole event has them all, with the last fragment's resume token.
pub fn join_fragments(fragments: Vec<Document>) -> Document {
    let mut whole = Document::new();
    for fragment in fragments {
        for (key, value) in fragment {
            if key != "splitEvent" {
                whole.insert(key, value);
            }
        }
    }
    whole
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
