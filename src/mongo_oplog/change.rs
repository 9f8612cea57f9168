//! A change stream event document, as the server sends it, read into typed fields: pure, so
//! every shape the server can send is tested on documents without a server.
//!
//! Field names and meanings follow the server's change events reference: `_id` (the resume
//! token), `operationType`, `ns`, `documentKey`, `fullDocument`, `fullDocumentBeforeChange`,
//! `updateDescription`, `clusterTime`, `wallTime`, `txnNumber`, `lsid`, `splitEvent`.

use mongodb::bson::{Bson, Document, Timestamp};

/// What happened, as far as a Debezium consumer is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Insert,
    Update,
    Replace,
    Delete,
    /// The stream can no longer continue (the collection or database was dropped or
    /// renamed): the change stream must be reopened after this event's token.
    Invalidate,
    /// A DDL or other event Debezium does not emit as a record (`drop`, `rename`,
    /// `dropDatabase`, `create`, `createIndexes`, …): only its position counts.
    Other(String),
}

/// `updateDescription` of an update event.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDescription {
    /// The fields set, with their new values.
    pub updated_fields: Document,
    pub removed_fields: Vec<String>,
    /// Arrays shortened by the update: the field path and its new size.
    pub truncated_arrays: Vec<(String, i32)>,
}

/// A fragment of an event larger than 16 MB split by `$changeStreamSplitLargeEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// From 1.
    pub fragment: i32,
    pub of: i32,
}

/// The session and transaction number of a change made inside a multi-document transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnId {
    /// The session id (`lsid.id`, a UUID), as a canonical hyphenated string.
    pub lsid: String,
    /// The whole `lsid` document (`id`, and `uid` for an authenticated user), which Debezium
    /// writes as `source.lsid`.
    pub session: Document,
    pub txn_number: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeStreamEvent {
    /// The resume token's `_data` (a hex string): the stream resumes strictly after it.
    pub resume_token: String,
    pub operation: Operation,
    /// `ns.db`, `ns.coll` (`coll` is absent for database-wide events).
    pub db: String,
    pub collection: Option<String>,
    /// `documentKey._id`.
    pub document_id: Option<Bson>,
    pub full_document: Option<Document>,
    pub full_document_before_change: Option<Document>,
    pub update_description: Option<UpdateDescription>,
    pub cluster_time: Timestamp,
    /// `wallTime` in milliseconds since the epoch (servers from 6.0).
    pub wall_time_ms: Option<i64>,
    pub txn: Option<TxnId>,
    pub split: Option<Split>,
}

/// A document that is not a change event the way the server documents them: names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change stream event field `{field}`: {problem}")]
pub struct ShapeError {
    pub field: &'static str,
    pub problem: String,
}

fn shape(field: &'static str, problem: impl Into<String>) -> ShapeError {
    ShapeError {
        field,
        problem: problem.into(),
    }
}

/// Reads a change stream event document.
pub fn read_event(doc: &Document) -> Result<ChangeStreamEvent, ShapeError> {
    let resume_token = match doc.get("_id") {
        Some(Bson::Document(id)) => match id.get("_data") {
            Some(Bson::String(data)) => data.clone(),
            Some(other) => {
                return Err(shape("_id._data", format!("is {:?}", other.element_type())));
            }
            None => return Err(shape("_id._data", "is missing")),
        },
        Some(other) => return Err(shape("_id", format!("is {:?}", other.element_type()))),
        None => return Err(shape("_id", "is missing")),
    };
    let operation = match doc.get_str("operationType") {
        Ok("insert") => Operation::Insert,
        Ok("update") => Operation::Update,
        Ok("replace") => Operation::Replace,
        Ok("delete") => Operation::Delete,
        Ok("invalidate") => Operation::Invalidate,
        Ok(other) => Operation::Other(other.to_owned()),
        Err(_) => return Err(shape("operationType", "is missing or not a string")),
    };
    let (db, collection) = match doc.get_document("ns") {
        Ok(ns) => (
            ns.get_str("db").unwrap_or_default().to_owned(),
            ns.get_str("coll").ok().map(str::to_owned),
        ),
        // `invalidate` events carry no namespace.
        Err(_) if operation == Operation::Invalidate => (String::new(), None),
        Err(_) => return Err(shape("ns", "is missing")),
    };
    let document_id = doc
        .get_document("documentKey")
        .ok()
        .and_then(|k| k.get("_id").cloned());
    if document_id.is_none()
        && matches!(
            operation,
            Operation::Insert | Operation::Update | Operation::Replace | Operation::Delete
        )
    {
        return Err(shape("documentKey._id", "is missing"));
    }
    let cluster_time = match doc.get("clusterTime") {
        Some(Bson::Timestamp(t)) => *t,
        _ => return Err(shape("clusterTime", "is missing or not a timestamp")),
    };
    let wall_time_ms = match doc.get("wallTime") {
        Some(Bson::DateTime(d)) => Some(d.timestamp_millis()),
        _ => None,
    };
    let txn = match (doc.get("txnNumber"), doc.get_document("lsid")) {
        (Some(n), Ok(lsid)) => {
            let txn_number = match n {
                Bson::Int64(v) => *v,
                Bson::Int32(v) => i64::from(*v),
                other => return Err(shape("txnNumber", format!("is {:?}", other.element_type()))),
            };
            Some(TxnId {
                lsid: session_id(lsid)?,
                session: lsid.clone(),
                txn_number,
            })
        }
        _ => None,
    };
    let split = match doc.get_document("splitEvent") {
        Ok(s) => Some(Split {
            fragment: s
                .get_i32("fragment")
                .map_err(|_| shape("splitEvent.fragment", "is not an int"))?,
            of: s
                .get_i32("of")
                .map_err(|_| shape("splitEvent.of", "is not an int"))?,
        }),
        Err(_) => None,
    };
    Ok(ChangeStreamEvent {
        resume_token,
        operation,
        db,
        collection,
        document_id,
        full_document: optional_document(doc, "fullDocument")?,
        full_document_before_change: optional_document(doc, "fullDocumentBeforeChange")?,
        update_description: match doc.get_document("updateDescription") {
            Ok(u) => Some(update_description(u)?),
            Err(_) => None,
        },
        cluster_time,
        wall_time_ms,
        txn,
        split,
    })
}

/// `fullDocument` and the pre-image are absent, null (no post-image: the document is gone,
/// or pre-images are off), or a document.
fn optional_document(doc: &Document, field: &'static str) -> Result<Option<Document>, ShapeError> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Document(d)) => Ok(Some(d.clone())),
        Some(other) => Err(shape(field, format!("is {:?}", other.element_type()))),
    }
}

fn update_description(u: &Document) -> Result<UpdateDescription, ShapeError> {
    let updated_fields = u.get_document("updatedFields").cloned().unwrap_or_default();
    let removed_fields = match u.get_array("removedFields") {
        Ok(a) => a
            .iter()
            .map(|f| match f {
                Bson::String(s) => Ok(s.clone()),
                other => Err(shape(
                    "updateDescription.removedFields",
                    format!("holds {:?}", other.element_type()),
                )),
            })
            .collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    let truncated_arrays = match u.get_array("truncatedArrays") {
        Ok(a) => a
            .iter()
            .map(|t| {
                let bad = || {
                    shape(
                        "updateDescription.truncatedArrays",
                        "holds a malformed entry",
                    )
                };
                let t = t.as_document().ok_or_else(bad)?;
                let field = t.get_str("field").map_err(|_| bad())?.to_owned();
                let size = match t.get("newSize") {
                    Some(Bson::Int32(n)) => *n,
                    Some(Bson::Int64(n)) => i32::try_from(*n).map_err(|_| bad())?,
                    _ => return Err(bad()),
                };
                Ok((field, size))
            })
            .collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    Ok(UpdateDescription {
        updated_fields,
        removed_fields,
        truncated_arrays,
    })
}

/// `lsid.id` (a UUID, binary subtype 4) as a hyphenated string.
fn session_id(lsid: &Document) -> Result<String, ShapeError> {
    match lsid.get("id") {
        Some(Bson::Binary(b)) if b.bytes.len() == 16 => {
            let bytes: [u8; 16] = b.bytes.as_slice().try_into().unwrap_or_default();
            Ok(uuid::Uuid::from_bytes(bytes).hyphenated().to_string())
        }
        _ => Err(shape("lsid.id", "is not a 16-byte UUID")),
    }
}

#[cfg(test)]
#[path = "change_tests.rs"]
pub(super) mod tests;
