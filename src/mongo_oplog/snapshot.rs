//! The initial snapshot: every captured collection in `_id` order, chunk by chunk, as op "r"
//! events, all read at the one cluster time the stream then starts strictly after
//! (`readConcern: snapshot` with `atClusterTime`, MongoDB 5.0+), so a change is either in the
//! snapshot or in the stream, never both and never neither. Each chunk is a batch whose
//! position records the last `_id` read, so a restart resumes after the last committed chunk.
//!
//! A snapshot read needs the server to still hold that time's history
//! (`minSnapshotHistoryWindowInSeconds`, 300 s by default). When it no longer does, or the
//! server cannot read at a cluster time, the remaining chunks are read at the latest
//! majority-committed data instead, with a warning: documents changed meanwhile may then be
//! read by the snapshot and streamed as well (what Debezium always does).

use std::sync::Arc;

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, Timestamp, doc};
use mongodb::{Client, Database};
use tracing::{info, warn};

use super::MongoSource;
use super::convert::{Converter, snapshot_event};
use super::error::MongoError;
use super::fields::FieldFilter;
use crate::event::{ChangeEvent, SnapshotMarker, TableId, TableSchema};
use crate::offsets::{MongoPosition, MongoTime, Position, SnapshotProgress};
use crate::source::{
    BatchSender, SnapshotRun, TableChunks, TableProbe, finish_snapshot, read_table, tables_to_read,
};

/// Server codes meaning "cannot read at that cluster time": SnapshotTooOld (239),
/// InvalidOptions (72, no snapshot reads outside transactions before 5.0), NotImplemented
/// (238).
const NO_SNAPSHOT_READ: &[i32] = &[72, 238, 239];
/// SnapshotUnavailable: the collection was created (or recreated) after the snapshot's
/// cluster time, so at that time it had no documents.
const SNAPSHOT_UNAVAILABLE: i32 = 246;

pub fn to_timestamp(t: MongoTime) -> Timestamp {
    Timestamp {
        time: t.t,
        increment: t.i,
    }
}

pub fn to_time(t: Timestamp) -> MongoTime {
    MongoTime {
        t: t.time,
        i: t.increment,
    }
}

/// Probes collections for documents at the snapshot's cluster time (at the latest data when
/// the server cannot read there).
struct Probe<'a> {
    client: &'a Client,
    at: Timestamp,
}

impl TableProbe for Probe<'_> {
    type Error = MongoError;
    async fn has_rows(&mut self, t: &TableId) -> Result<bool, MongoError> {
        let db = self.client.database(&t.namespace);
        let find = |read_at| find(&db, &t.name, None, 1, read_at);
        match find(Some(self.at)).await {
            Ok(docs) => Ok(!docs.is_empty()),
            Err(e) if code_of(&e) == Some(SNAPSHOT_UNAVAILABLE) => Ok(false),
            Err(e) if cannot_read_at_time(&e) => Ok(!find(None)
                .await
                .map_err(|e| MongoError::driver("snapshot collection check", e))?
                .is_empty()),
            Err(e) => Err(MongoError::driver("snapshot collection check", e)),
        }
    }
}

/// The documents of one chunk.
async fn find(
    db: &Database,
    collection: &str,
    after: Option<&Bson>,
    limit: usize,
    read_at: Option<Timestamp>,
) -> Result<Vec<Document>, mongodb::error::Error> {
    let cmd = chunk_command(collection, after, limit, read_at);
    db.run_cursor_command(cmd).await?.try_collect().await
}

fn code_of(e: &mongodb::error::Error) -> Option<i32> {
    match &*e.kind {
        mongodb::error::ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}

/// Reads every collection of `tables` not yet done in `progress`; returns the position the
/// stream continues from (`point`, the snapshot's cluster time).
pub async fn run(
    client: &Client,
    source: MongoSource<'_>,
    tables: &[TableId],
    progress: Option<SnapshotProgress>,
    point: MongoPosition,
    out: &mut BatchSender,
) -> Result<MongoPosition, MongoError> {
    let at = point
        .cluster_time
        .map(to_timestamp)
        .ok_or_else(|| MongoError::Protocol("the snapshot has no cluster time".into()))?;
    let mut progress = progress.unwrap_or_default();
    let mut probe = Probe { client, at };
    let (todo, last_with_rows) = tables_to_read(&mut probe, tables, &progress).await?;
    let mut run = SnapshotRun {
        first_overall: progress.rows_done == 0,
        progress: &mut progress,
    };
    let position = |p: &SnapshotProgress| {
        Position::Mongodb(MongoPosition {
            snapshot: Some(p.clone()),
            ..point.clone()
        })
    };
    let mut converter = Converter::new(source.options);
    let mut read_at = Some(at);
    for (index, table) in todo.iter().enumerate() {
        let resume_key = match &run.progress.current_table {
            Some(t) if *t == table.to_string() => run
                .progress
                .last_key
                .as_ref()
                .and_then(|k| k.first())
                .map(|k| Bson::try_from(k.clone()))
                .transpose()
                .map_err(|e| {
                    MongoError::Protocol(format!("the snapshot's stored _id of {table}: {e}"))
                })?,
            _ => None,
        };
        info!(collection = %table, resumed = resume_key.is_some(), "snapshot of collection");
        let (schema, filter) = converter.collection((*table).clone());
        let mut reader = CollectionReader {
            db: client.database(&table.namespace),
            table,
            schema,
            filter: filter.clone(),
            chunk: source.config.snapshot_fetch_size.max(1) as usize,
            read_us: 0,
            read_at: &mut read_at,
        };
        let last_table = last_with_rows.is_some_and(|l| l == index);
        read_table(
            &mut reader,
            table,
            resume_key,
            last_table,
            &mut run,
            &position,
            out,
        )
        .await?;
    }
    finish_snapshot::<MongoError>(out, Position::Mongodb(point.clone())).await?;
    Ok(point)
}

/// One collection, `_id` after `_id`.
struct CollectionReader<'a> {
    db: Database,
    table: &'a TableId,
    schema: Arc<TableSchema>,
    filter: FieldFilter,
    chunk: usize,
    /// When the current chunk was read: its events' `source.ts_ms`, as Debezium's.
    read_us: i64,
    /// The cluster time reads happen at; `None` once the server could not read there.
    read_at: &'a mut Option<Timestamp>,
}

/// The `find` of one chunk: in `_id` index order from `after` (inclusive: `min` bounds the
/// index scan across BSON types, where `$gt` would only compare within one type).
fn chunk_command(
    collection: &str,
    after: Option<&Bson>,
    limit: usize,
    read_at: Option<Timestamp>,
) -> Document {
    let mut cmd = doc! {
        "find": collection,
        "filter": {},
        "sort": { "_id": 1 },
        "hint": { "_id": 1 },
        "limit": limit as i64,
        "batchSize": limit as i64,
    };
    if let Some(after) = after {
        cmd.insert("min", doc! { "_id": after.clone() });
    }
    cmd.insert(
        "readConcern",
        match read_at {
            Some(t) => doc! { "level": "snapshot", "atClusterTime": t },
            None => doc! { "level": "majority" },
        },
    );
    cmd
}

impl CollectionReader<'_> {
    async fn find(
        &self,
        after: Option<&Bson>,
        limit: usize,
    ) -> Result<Vec<Document>, mongodb::error::Error> {
        find(&self.db, &self.table.name, after, limit, *self.read_at).await
    }
}

impl TableChunks for CollectionReader<'_> {
    type Item = Document;
    type Key = Bson;
    type Error = MongoError;

    fn chunk_rows(&self) -> usize {
        self.chunk
    }

    // A chunk is read whole: the byte limit is for readers that stream a chunk's rows.
    fn set_chunk_limits(&mut self, rows: usize, _bytes: u64) {
        self.chunk = rows;
    }

    async fn chunk(
        &mut self,
        after: Option<&Bson>,
    ) -> Result<(Vec<(Document, Option<Bson>)>, bool), MongoError> {
        // One more than a chunk tells whether more follow; one more again for `after` itself.
        let limit = self.chunk + 1 + usize::from(after.is_some());
        self.read_us = now_us();
        let docs = match self.find(after, limit).await {
            Ok(d) => d,
            Err(e) if self.read_at.is_some() && code_of(&e) == Some(SNAPSHOT_UNAVAILABLE) => {
                info!(collection = %self.table, "created after the snapshot's cluster time: nothing to read");
                Vec::new()
            }
            Err(e) if self.read_at.is_some() && cannot_read_at_time(&e) => {
                warn!(collection = %self.table, error = %e, "the server cannot read at the snapshot's cluster time any more: reading the rest at the latest data, so documents changed meanwhile may appear in the snapshot and in the stream");
                *self.read_at = None;
                self.find(after, limit)
                    .await
                    .map_err(|e| MongoError::driver("snapshot find", e))?
            }
            Err(e) => return Err(MongoError::driver("snapshot find", e)),
        };
        Ok(page(docs, after, self.chunk))
    }

    fn event(&self, doc: Document, marker: SnapshotMarker) -> Result<ChangeEvent, MongoError> {
        snapshot_event(&self.schema, &self.filter, doc, marker, self.read_us)
    }

    /// Debezium's MongoDB snapshot: `true` for every document, `last` for the very last.
    fn marker(
        _first: bool,
        last_table: bool,
        _first_in_table: bool,
        last_in_table: bool,
    ) -> SnapshotMarker {
        if last_table && last_in_table {
            SnapshotMarker::Last
        } else {
            SnapshotMarker::True
        }
    }

    fn key_to_json(key: &Bson) -> Vec<serde_json::Value> {
        // Canonical extended JSON keeps the BSON type, so the key binds back exactly.
        vec![key.clone().into_canonical_extjson()]
    }
}

/// A chunk from what `find` returned: without `after` itself, at most `chunk` documents with
/// their `_id`, and whether more follow.
fn page(
    docs: Vec<Document>,
    after: Option<&Bson>,
    chunk: usize,
) -> (Vec<(Document, Option<Bson>)>, bool) {
    let mut docs: Vec<(Document, Option<Bson>)> = docs
        .into_iter()
        .map(|d| {
            let id = d.get("_id").cloned();
            (d, id)
        })
        .collect();
    if let (Some(after), Some((_, Some(first)))) = (after, docs.first())
        && first == after
    {
        docs.remove(0);
    }
    let more = docs.len() > chunk;
    docs.truncate(chunk);
    (docs, more)
}

fn cannot_read_at_time(e: &mongodb::error::Error) -> bool {
    code_of(e).is_some_and(|c| NO_SNAPSHOT_READ.contains(&c))
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use mongodb::bson::oid::ObjectId;

    use super::*;

    #[test]
    fn chunks_read_at_the_cluster_time_in_id_order_from_the_last_key() {
        let t = Timestamp {
            time: 1_700_000_000,
            increment: 2,
        };
        let cmd = chunk_command("orders", Some(&Bson::Int32(7)), 3, Some(t));
        assert_eq!(cmd.get_str("find"), Ok("orders"));
        assert_eq!(cmd.get_document("sort").unwrap(), &doc! {"_id": 1});
        assert_eq!(cmd.get_document("hint").unwrap(), &doc! {"_id": 1});
        assert_eq!(cmd.get_document("min").unwrap(), &doc! {"_id": 7});
        assert_eq!(cmd.get_i64("limit"), Ok(3));
        assert_eq!(
            cmd.get_document("readConcern").unwrap(),
            &doc! {"level": "snapshot", "atClusterTime": t}
        );
        let first = chunk_command("orders", None, 3, None);
        assert!(first.get("min").is_none());
        assert_eq!(
            first.get_document("readConcern").unwrap(),
            &doc! {"level": "majority"}
        );
    }

    #[test]
    fn a_page_drops_the_key_it_started_at_and_tells_whether_more_follow() {
        let docs = |ids: &[i32]| ids.iter().map(|i| doc! {"_id": *i}).collect::<Vec<_>>();
        let (page1, more) = page(docs(&[1, 2, 3]), None, 2);
        assert!(more);
        assert_eq!(
            page1
                .iter()
                .map(|(_, k)| k.clone().unwrap())
                .collect::<Vec<_>>(),
            [Bson::Int32(1), Bson::Int32(2)]
        );
        let (page2, more) = page(docs(&[2, 3]), Some(&Bson::Int32(2)), 2);
        assert!(!more);
        assert_eq!(page2.len(), 1);
        // A first document after a deleted `after` is kept.
        let (page3, _) = page(docs(&[4]), Some(&Bson::Int32(3)), 2);
        assert_eq!(page3.len(), 1);
    }

    #[test]
    fn snapshot_markers_are_debeziums_for_mongodb() {
        let m = <CollectionReader<'_> as TableChunks>::marker;
        assert_eq!(m(true, false, true, false), SnapshotMarker::True);
        assert_eq!(m(false, false, false, true), SnapshotMarker::True);
        assert_eq!(m(false, true, false, true), SnapshotMarker::Last);
        assert_eq!(m(true, true, true, true), SnapshotMarker::Last);
    }

    #[test]
    fn stored_keys_bind_back_as_the_same_bson_value() {
        for key in [
            Bson::Int32(5),
            Bson::Int64(5),
            Bson::Double(5.5),
            Bson::String("k".into()),
            Bson::ObjectId(ObjectId::parse_str("596e275826f08b2730779e1f").unwrap()),
            Bson::Document(doc! {"company": 32, "dept": "home"}),
        ] {
            let json = CollectionReader::key_to_json(&key);
            assert_eq!(Bson::try_from(json[0].clone()).unwrap(), key);
        }
    }
}
