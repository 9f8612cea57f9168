//! Where committed positions live: a local file (embedded mode, written atomically after the
//! sink flushed) or the compacted Kafka offsets topic (written inside each produce
//! transaction by the emitter, read back here with the transaction-aware reader).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::committed_reader::{CommittedRecord, LatestRead, ReaderError, read_latest_with};
use super::position::Position;
use crate::config::KafkaSecurity;

#[derive(Debug, thiserror::Error)]
pub enum OffsetError {
    #[error("offset file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("offset record of `{connector}` is not a position: {source}")]
    Corrupt {
        connector: String,
        source: serde_json::Error,
    },
    #[error("reading the offsets topic `{topic}`: {source}")]
    Kafka { topic: String, source: ReaderError },
    #[error(
        "the offsets topic `{topic}` exists but the broker did not list it within {waited:?}; \
         retrying (starting without its offsets would re-snapshot everything)"
    )]
    TopicNotVisible { topic: String, waited: Duration },
    #[error(
        "a transaction of connector `{connector}` in the offsets topic `{topic}` was still open \
         after {waited:?} (a fenced producer's, its outcome not written by the broker yet); retrying"
    )]
    Unsettled {
        topic: String,
        connector: String,
        waited: Duration,
    },
}

impl OffsetError {
    pub fn is_transient(&self) -> bool {
        match self {
            OffsetError::Kafka { source, .. } => source.is_transient(),
            OffsetError::TopicNotVisible { .. } | OffsetError::Unsettled { .. } => true,
            _ => false,
        }
    }
}

/// The record key of a connector's offsets, as Kafka Connect writes it:
/// `["<connector>",{"server":"<topic.prefix>"}]`.
pub fn offset_key(connector: &str, topic_prefix: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([connector, { "server": topic_prefix }]))
        .unwrap_or_default()
}

/// Offsets in local files, one per connector, replaced atomically.
#[derive(Debug, Clone)]
pub struct FileOffsetStore {
    dir: PathBuf,
}

impl FileOffsetStore {
    pub fn new(data_dir: &Path) -> Self {
        FileOffsetStore {
            dir: data_dir.join("offsets"),
        }
    }

    fn path(&self, connector: &str) -> PathBuf {
        // Connector names have no `/` (config validation); keep the name readable.
        self.dir.join(format!("{connector}.json"))
    }

    pub fn load(&self, connector: &str) -> Result<Option<Position>, OffsetError> {
        let path = self.path(connector);
        match std::fs::read(&path) {
            Ok(bytes) => {
                Position::from_json(&bytes)
                    .map(Some)
                    .map_err(|source| OffsetError::Corrupt {
                        connector: connector.to_owned(),
                        source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(OffsetError::Io { path, source }),
        }
    }

    /// Writes to a temporary file, fsyncs it, renames it over the old one and fsyncs the
    /// directory: a crash leaves the old or the new position, never a torn one.
    pub fn store(&self, connector: &str, position: &Position) -> Result<(), OffsetError> {
        use std::io::Write;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| OffsetError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.path(connector);
        let tmp = self.dir.join(format!(".{connector}.json.tmp"));
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&position.to_json()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))
    }

    pub fn delete(&self, connector: &str) -> Result<(), OffsetError> {
        let path = self.path(connector);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(OffsetError::Io { path, source: e })
            }
            _ => Ok(()),
        }
    }
}

/// What an offsets topic that the broker does not know means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicPresence {
    /// Siphon just made sure the topic exists (the emitter creates it before reading): "unknown
    /// topic" is metadata that has not caught up yet, retried until the timeout, then a transient
    /// error. Never "no offsets": that would silently re-snapshot everything.
    Ensured,
    /// Nothing guarantees the topic exists (a read-only look, such as `GET …/offsets`): an unknown
    /// topic reads as "nothing committed".
    Unknown,
}

/// Where one connector's offsets live in Kafka: the offsets topic and the connector's key.
#[derive(Debug, Clone, Copy)]
pub struct KafkaOffsets<'a> {
    pub bootstrap: &'a str,
    /// `[service.kafka.security]`.
    pub security: &'a KafkaSecurity,
    pub topic: &'a str,
    pub connector: &'a str,
    pub topic_prefix: &'a str,
}

impl KafkaOffsets<'_> {
    /// The last committed position of the connector. Only records of committed transactions
    /// count: on a broker whose read_committed shows aborted records, an aborted offset record
    /// must never become the resume point.
    pub async fn load(
        &self,
        presence: TopicPresence,
        timeout: Duration,
    ) -> Result<Option<Position>, OffsetError> {
        let last = self.latest_record(presence, timeout).await?;
        match last.and_then(|r| r.value) {
            // A null value (tombstone) is a reset.
            None => Ok(None),
            Some(value) => {
                Position::from_json(&value)
                    .map(Some)
                    .map_err(|source| OffsetError::Corrupt {
                        connector: self.connector.to_owned(),
                        source,
                    })
            }
        }
    }

    /// The connector's newest committed offset record (its value and headers), if any.
    ///
    /// `timeout` bounds each wait, not the read: a connect or request unanswered that long
    /// fails the read (transient, naming the topic and how far it got), a big topic that keeps
    /// answering is read to the end. The topic must be compacted (a definite error otherwise).
    ///
    /// With [`TopicPresence::Ensured`] (a task about to resume, after fencing) it also waits
    /// up to `timeout` until no transaction holding an offset record of this connector newer
    /// than its newest committed one is still open: such a transaction is one of a fenced
    /// producer whose outcome the broker has not written yet, and resuming before it settles
    /// would emit its batch again if it commits.
    pub async fn latest_record(
        &self,
        presence: TopicPresence,
        timeout: Duration,
    ) -> Result<Option<CommittedRecord>, OffsetError> {
        let key = offset_key(self.connector, self.topic_prefix);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some(result) = self.read(&key, presence, deadline, timeout).await? else {
                return Ok(None);
            };
            if result.open_after.is_empty() || presence == TopicPresence::Unknown {
                return Ok(result.record);
            }
            if tokio::time::Instant::now() + Duration::from_millis(100) >= deadline {
                return Err(OffsetError::Unsettled {
                    topic: self.topic.to_owned(),
                    connector: self.connector.to_owned(),
                    waited: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The connector's newest record, or `None` for an unknown topic that may be absent.
    async fn read(
        &self,
        key: &[u8],
        presence: TopicPresence,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<Option<LatestRead>, OffsetError> {
        let topic = self.topic;
        let mut pause = Duration::from_millis(50);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match read_latest_with(self.bootstrap, self.security, topic, key, timeout).await {
                Ok(r) => return Ok(Some(r)),
                Err(ReaderError::UnknownTopic(_)) if presence == TopicPresence::Unknown => {
                    return Ok(None);
                }
                Err(ReaderError::UnknownTopic(_)) if left > pause => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(ReaderError::UnknownTopic(_)) => {
                    return Err(OffsetError::TopicNotVisible {
                        topic: topic.to_owned(),
                        waited: timeout,
                    });
                }
                Err(source) => {
                    return Err(OffsetError::Kafka {
                        topic: topic.to_owned(),
                        source,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offsets::PgPosition;

    #[test]
    fn key_is_kafka_connects() {
        assert_eq!(
            String::from_utf8(offset_key("inv", "dbserver1")).unwrap(),
            r#"["inv",{"server":"dbserver1"}]"#
        );
    }

    #[test]
    fn file_store_round_trips_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileOffsetStore::new(dir.path());
        assert_eq!(store.load("c").unwrap(), None);
        let a = Position::Postgres(PgPosition::after_commit(1));
        let b = Position::Postgres(PgPosition::after_commit(2));
        store.store("c", &a).unwrap();
        store.store("c", &b).unwrap();
        assert_eq!(store.load("c").unwrap(), Some(b));
        store.delete("c").unwrap();
        store.delete("c").unwrap();
        assert_eq!(store.load("c").unwrap(), None);
    }

    #[test]
    fn corrupt_file_is_an_error_naming_the_connector() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileOffsetStore::new(dir.path());
        std::fs::create_dir_all(dir.path().join("offsets")).unwrap();
        std::fs::write(dir.path().join("offsets/c.json"), b"{nope").unwrap();
        let err = store.load("c").unwrap_err();
        assert!(err.to_string().contains("`c`"), "{err}");
    }
}
