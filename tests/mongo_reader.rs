//! The MongoDB reader against a real replica set, when `SIPHON_TEST_MONGO_URI` is set: a
//! snapshot under concurrent writes then the stream with no gap and no duplicate, restarts
//! after every batch (inside transactions too), pre-images, a transaction of many documents
//! with Debezium's metadata, and a resume token that fell off the oplog.

mod common;
mod mongo;

use std::sync::{Arc, Mutex};

use mongodb::bson::{Document, doc};
use siphon::event::{Op, TxMarker};
use siphon::offsets::{MongoPosition, Position};

use mongo::{Running, TestDb, contents, image, key, replay, uri};

async fn insert_many(coll: &mongodb::Collection<Document>, ids: std::ops::Range<i32>, n: i32) {
    let docs: Vec<Document> = ids.map(|i| doc! {"_id": i, "n": n}).collect();
    coll.insert_many(docs).await.unwrap();
}

/// Waits until the (empty) snapshot of a fresh database is committed: its cluster time is the
/// start point, so everything written from now on is streamed.
async fn started(r: &Running) {
    common::wait_for("the start point", mongo::TIMEOUT, || {
        r.assert_alive();
        let done = r.committed.borrow().is_some();
        async move { done.then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn snapshot_under_writes_then_stream_has_no_gap_and_no_duplicate() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    let coll = db.coll("items");
    insert_many(&coll, 0..200, 0).await;
    let config = db.config(&[("snapshot.fetch.size", "10"), ("max.batch.size", "5")]);
    // The stand-in emitter takes one chunk, then holds the reader (backpressure) while the
    // writes below happen: the rest of the snapshot is read after them, at its cluster time.
    let r = Running::start_limited(config, None, Arc::new(Mutex::new(Vec::new())), 1);
    r.wait_for_events("the first snapshot chunk", 1).await;
    coll.update_many(doc! {}, doc! {"$set": {"n": 1}})
        .await
        .unwrap();
    insert_many(&coll, 200..250, 1).await;
    coll.delete_many(doc! {"_id": {"$lt": 20}}).await.unwrap();
    let expected = contents(&coll).await;
    r.release();
    let events = common::wait_for("the replay to match the collection", mongo::TIMEOUT, || {
        r.assert_alive();
        let events = r.events.lock().unwrap().clone();
        let done = replay(&events) == expected;
        async move { done.then_some(events) }
    })
    .await;
    let count = |op: Op| events.iter().filter(|e| e.op == op).count();
    // Read at one cluster time: each document once in the snapshot, each later change once
    // (an update of a document deleted by the time it is looked up has no `after`).
    assert_eq!(
        (
            count(Op::Read),
            count(Op::Create),
            count(Op::Update),
            count(Op::Delete)
        ),
        (200, 50, 200, 20)
    );
    assert_eq!(events.len(), 470);
    let reads: Vec<_> = events.iter().take(200).map(key).collect();
    let mut sorted = reads.clone();
    sorted.sort_by_key(|k| k.parse::<i32>().unwrap());
    assert_eq!(reads, sorted, "the snapshot reads in _id order");
    r.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn a_restart_after_every_batch_loses_and_repeats_nothing() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    let coll = db.coll("items");
    let config = db.config(&[
        ("max.batch.size", "2"),
        ("provide.transaction.metadata", "true"),
    ]);
    // Fix the start point first (an empty snapshot), then write 8 transactions of 5.
    let first = Running::start(config.clone(), None);
    started(&first).await;
    let mut resume = first.stop().await;
    let mut session = db.client.start_session().await.unwrap();
    for t in 0..8 {
        session.start_transaction().await.unwrap();
        let docs: Vec<Document> = (t * 5..t * 5 + 5)
            .map(|i| doc! {"_id": i, "n": t})
            .collect();
        coll.insert_many(docs).session(&mut session).await.unwrap();
        session.commit_transaction().await.unwrap();
    }
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut markers = Vec::new();
    for attempt in 0..200 {
        if events.lock().unwrap().len() >= 40 && markers.len() >= 16 {
            break;
        }
        // One batch, then a crash: the next run starts from what was committed.
        let r = Running::start_limited(config.clone(), resume.clone(), Arc::clone(&events), 1);
        common::wait_for("a batch", mongo::TIMEOUT, || {
            r.assert_alive();
            let n = r.batch_count();
            async move { (n >= 1).then_some(()) }
        })
        .await;
        markers.extend(r.markers.lock().unwrap().clone());
        resume = r.stop().await;
        assert!(attempt < 199, "never got all 40 events and 16 markers");
    }
    let events = events.lock().unwrap().clone();
    let ids: Vec<String> = events.iter().map(key).collect();
    let expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    // Transactions split over batches and restarts keep their metadata: one BEGIN and one
    // END each, and orders 1..=5 within each.
    let orders: Vec<u64> = events
        .iter()
        .map(|e| {
            e.transaction
                .as_ref()
                .expect("in a transaction")
                .total_order
        })
        .collect();
    assert_eq!(orders, (0..40).map(|i| i % 5 + 1).collect::<Vec<u64>>());
    let begins = markers
        .iter()
        .filter(|m| matches!(m, TxMarker::Begin { .. }))
        .count();
    let ends: Vec<u64> = markers
        .iter()
        .filter_map(|m| match m {
            TxMarker::End { event_count, .. } => Some(*event_count),
            _ => None,
        })
        .collect();
    assert_eq!((begins, ends), (8, vec![5; 8]));
    db.drop().await;
}

#[tokio::test]
async fn pre_images_fill_before_of_updates_and_deletes() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    db.client
        .database(&db.name)
        .run_command(doc! {"create": "items", "changeStreamPreAndPostImages": {"enabled": true}})
        .await
        .unwrap();
    let coll = db.coll("items");
    // The stored post-image, not a lookup (which could find the document already deleted).
    let config = db.config(&[
        ("capture.mode", "change_streams_update_full_with_pre_image"),
        ("capture.mode.full.update.type", "post_image"),
    ]);
    let r = Running::start(config, None);
    started(&r).await;
    coll.insert_one(doc! {"_id": 1, "n": 1}).await.unwrap();
    coll.update_one(
        doc! {"_id": 1},
        doc! {"$set": {"n": 2}, "$unset": {"gone": ""}},
    )
    .await
    .unwrap();
    coll.delete_one(doc! {"_id": 1}).await.unwrap();
    let events = r.wait_for_events("c, u, d", 3).await;
    let ops: Vec<Op> = events.iter().map(|e| e.op).collect();
    assert_eq!(ops, [Op::Create, Op::Update, Op::Delete]);
    assert_eq!(image(&events[1].before).unwrap()["n"], 1);
    assert_eq!(image(&events[1].after).unwrap()["n"], 2);
    let update = events[1]
        .document
        .as_ref()
        .unwrap()
        .update
        .as_ref()
        .unwrap();
    assert_eq!(update.updated_fields.as_deref(), Some(r#"{"n": 2}"#));
    assert_eq!(image(&events[2].before).unwrap()["n"], 2);
    assert!(events[2].after.is_none());
    r.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn a_transaction_of_many_documents_carries_its_metadata() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    let coll = db.coll("items");
    let config = db.config(&[
        ("provide.transaction.metadata", "true"),
        ("max.batch.size", "64"),
    ]);
    let r = Running::start(config, None);
    started(&r).await;
    let mut session = db.client.start_session().await.unwrap();
    session.start_transaction().await.unwrap();
    let docs: Vec<Document> = (0..300).map(|i| doc! {"_id": i, "n": i}).collect();
    coll.insert_many(docs).session(&mut session).await.unwrap();
    session.commit_transaction().await.unwrap();
    // One more, outside any transaction, so the transaction's END is written.
    coll.insert_one(doc! {"_id": 1000, "n": 0}).await.unwrap();
    let events = r.wait_for_events("301 events", 301).await;
    let ids: Vec<&str> = events[..300]
        .iter()
        .map(|e| e.transaction.as_ref().unwrap().id.as_str())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one transaction id");
    assert!(ids[0].starts_with(r#"{"id": {"$binary": "#), "{}", ids[0]);
    let orders: Vec<u64> = events[..300]
        .iter()
        .map(|e| e.transaction.as_ref().unwrap().total_order)
        .collect();
    assert_eq!(orders, (1..=300).collect::<Vec<u64>>());
    assert!(events[300].transaction.is_none());
    let markers = r.markers.lock().unwrap().clone();
    assert!(matches!(&markers[0], TxMarker::Begin { id, .. } if id == ids[0]));
    let TxMarker::End {
        event_count,
        data_collections,
        ..
    } = &markers[1]
    else {
        panic!("{markers:?}")
    };
    assert_eq!(*event_count, 300);
    assert_eq!(data_collections, &[(format!("{}.items", db.name), 300)]);
    r.stop().await;
    db.drop().await;
}

/// `skipped.operations=d`: a skipped delete takes no place in its transaction's order.
#[tokio::test]
async fn a_skipped_operation_takes_no_place_in_the_transaction_order() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    let coll = db.coll("items");
    coll.insert_one(doc! {"_id": -1, "n": 0}).await.unwrap();
    let config = db.config(&[
        ("provide.transaction.metadata", "true"),
        ("skipped.operations", "d"),
        ("snapshot.mode", "no_data"),
    ]);
    let r = Running::start(config, None);
    started(&r).await;
    let mut session = db.client.start_session().await.unwrap();
    session.start_transaction().await.unwrap();
    coll.delete_one(doc! {"_id": -1})
        .session(&mut session)
        .await
        .unwrap();
    coll.insert_one(doc! {"_id": 1, "n": 1})
        .session(&mut session)
        .await
        .unwrap();
    session.commit_transaction().await.unwrap();
    coll.insert_one(doc! {"_id": 2, "n": 0}).await.unwrap();
    let events = r.wait_for_events("the insert after the delete", 3).await;
    let insert = events
        .iter()
        .find(|e| e.op == siphon::event::Op::Create && e.transaction.is_some())
        .expect("the insert of the transaction");
    assert_eq!(insert.transaction.as_ref().unwrap().total_order, 1);
    r.stop().await;
    db.drop().await;
}

/// A real token with its cluster time moved to 1970: older than any oplog.
fn lost(position: &Position) -> Position {
    let Position::Mongodb(p) = position else {
        panic!("{position:?}")
    };
    let token = p.resume_token.as_deref().expect("a token");
    Position::Mongodb(MongoPosition {
        resume_token: Some(format!("82{}{}", "0000000100000001", &token[18..])),
        cluster_time: None,
        snapshot: None,
        transaction: None,
    })
}

#[tokio::test]
async fn a_token_off_the_oplog_fails_with_the_fix_or_resnapshots_when_needed() {
    let Some(uri) = uri() else { return };
    let db = TestDb::create(uri).await;
    let coll = db.coll("items");
    let r = Running::start(db.config(&[]), None);
    started(&r).await;
    coll.insert_one(doc! {"_id": 1, "n": 1}).await.unwrap();
    r.wait_for_events("the insert", 1).await;
    let committed = r.stop().await.unwrap();
    let old = lost(&committed);

    let r = Running::start(db.config(&[]), Some(old.clone()));
    let err = match tokio::time::timeout(mongo::TIMEOUT, r.reader).await {
        Ok(Ok(Err(e))) => e.to_string(),
        other => panic!("the reader did not fail: {other:?}"),
    };
    assert!(err.contains("no longer in the oplog"), "{err}");
    assert!(err.contains("snapshot.mode=when_needed"), "{err}");

    let r = Running::start(db.config(&[("snapshot.mode", "when_needed")]), Some(old));
    let events = r.wait_for_events("a new snapshot", 1).await;
    assert_eq!(events[0].op, Op::Read);
    assert_eq!(key(&events[0]), "1");
    r.stop().await;
    db.drop().await;
}
