//! Helpers for the live MongoDB reader tests: they run only when `SIPHON_TEST_MONGO_URI`
//! names a replica set (no mongod can be installed on the development machines; the
//! docker-compose demo provides one: `mongodb://127.0.0.1:27017/?replicaSet=rs0`). Each test
//! gets a fresh database, a connector config capturing it, and the change stream reader under
//! the stand-in emitter of `common::standin`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use mongodb::Client;
use mongodb::bson::{Document, doc};
use siphon::config::ConnectorConfig;
use siphon::event::{ChangeEvent, Value};
use siphon::offsets::Position;

use crate::common::unique_name;

pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The replica set to test against, or `None` (the test prints why it did nothing).
pub fn uri() -> Option<String> {
    match std::env::var("SIPHON_TEST_MONGO_URI") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "SIPHON_TEST_MONGO_URI is not set: this live MongoDB test did not run (docker compose up mongodb, then SIPHON_TEST_MONGO_URI=mongodb://127.0.0.1:27017/?replicaSet=rs0)"
            );
            None
        }
    }
}

pub struct TestDb {
    pub uri: String,
    pub name: String,
    pub client: Client,
}

impl TestDb {
    pub async fn create(uri: String) -> TestDb {
        let client = Client::with_uri_str(&uri)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {uri}: {e}"));
        TestDb {
            uri,
            name: unique_name("mg"),
            client,
        }
    }

    pub fn coll(&self, name: &str) -> mongodb::Collection<Document> {
        self.client.database(&self.name).collection(name)
    }

    /// A connector capturing this database, with `extra` settings.
    pub fn config(&self, extra: &[(&str, &str)]) -> ConnectorConfig {
        let map: BTreeMap<String, String> = [
            (
                "connector.class",
                "io.debezium.connector.mongodb.MongoDbConnector",
            ),
            ("mongodb.connection.string", self.uri.as_str()),
            ("topic.prefix", "t"),
            ("capture.scope", "database"),
            ("capture.target", self.name.as_str()),
            ("poll.interval.ms", "20"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        ConnectorConfig::from_map(&self.name, &map).unwrap()
    }

    pub async fn drop(self) {
        self.client.database(&self.name).drop().await.unwrap();
    }
}

/// A running MongoDB reader and what its stand-in emitter committed.
pub type Running = crate::common::standin::Running<siphon::mongo_oplog::MongoError>;

impl crate::common::standin::ReaderUnderTest for siphon::mongo_oplog::MongoError {
    async fn read(
        config: ConnectorConfig,
        from: Option<Position>,
        out: tokio::sync::mpsc::Sender<siphon::event::ChangeBatch>,
        committed: tokio::sync::watch::Receiver<Option<Position>>,
    ) -> Result<(), Self> {
        let siphon::config::SourceOptions::MongoDb(options) = &config.source else {
            panic!("not a MongoDB connector: {:?}", config.source)
        };
        let source = siphon::mongo_oplog::MongoSource {
            config: &config,
            options,
        };
        siphon::source::run(&source, from, out, committed, &siphon::source::NoObserver).await
    }
}

/// An image (`before`/`after`) as JSON.
pub fn image(row: &Option<siphon::event::Row>) -> Option<serde_json::Value> {
    row.as_ref().map(|r| match r.0.as_slice() {
        [Value::Json(j)] => serde_json::from_str(j).unwrap_or_else(|e| panic!("{j}: {e}")),
        other => panic!("not a document image: {other:?}"),
    })
}

/// The key (`_id` as extended JSON) of an event.
pub fn key(e: &ChangeEvent) -> String {
    e.document
        .as_ref()
        .expect("a document change")
        .id_json
        .clone()
}

/// The collection's state after replaying `events` (`_id` JSON → `n`), as a sink applying
/// Debezium's events would hold it.
pub fn replay(events: &[ChangeEvent]) -> BTreeMap<String, i64> {
    let mut state = BTreeMap::new();
    for e in events {
        match e.op {
            siphon::event::Op::Delete => {
                state.remove(&key(e));
            }
            // An update looked up after a later delete has no `after` (as in Debezium): the
            // delete that follows settles the document.
            _ => {
                if let Some(after) = image(&e.after) {
                    state.insert(key(e), after["n"].as_i64().unwrap());
                }
            }
        }
    }
    state
}

/// The collection's documents as `_id` JSON (integer ids) → `n`.
pub async fn contents(coll: &mongodb::Collection<Document>) -> BTreeMap<String, i64> {
    use futures::TryStreamExt;
    let docs: Vec<Document> = coll
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    docs.into_iter()
        .map(|d| {
            let id = d.get_i32("_id").expect("an int32 _id");
            (id.to_string(), i64::from(d.get_i32("n").unwrap()))
        })
        .collect()
}
