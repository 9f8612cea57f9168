//! Where connectors created or changed over the REST API persist, so they come back after a
//! restart of siphon: the compacted Kafka topic `siphon-configs` (key = connector name, value =
//! `{"name","config","state"}`, null = deleted) when Kafka is configured, otherwise
//! `<data_dir>/connectors.json`, replaced atomically. Values hold secrets as given (like Kafka
//! Connect's config topic); `${env:NAME}` references are stored unresolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::emitter::client::{SecurityWatch, client_config};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use serde::{Deserialize, Serialize};

use super::status::TargetState;
use crate::config::{KafkaConfig, ServiceConfig};
use crate::offsets::committed_reader::{ReaderError, read_committed_with};

/// One persisted connector.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConnector {
    pub name: String,
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub state: TargetState,
}

// Hand-written so a stray `{:?}` never prints a password.
impl std::fmt::Debug for StoredConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredConnector")
            .field("name", &self.name)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("connector config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("connector config file {path} is not valid: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("reading the config topic `{topic}`: {source}")]
    Read { topic: String, source: ReaderError },
    #[error("writing the config topic `{topic}`: {message}")]
    Write { topic: String, message: String },
    /// The broker refused TLS or SASL: retrying cannot help until the settings change.
    #[error("the config topic `{topic}`: {message}")]
    Refused { topic: String, message: String },
}

impl StoreError {
    /// Worth retrying: the broker may come back; a bad file will not fix itself.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Read { source, .. } => source.is_transient(),
            StoreError::Write { .. } => true,
            StoreError::Io { .. } | StoreError::Corrupt { .. } | StoreError::Refused { .. } => {
                false
            }
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct ConfigFile {
    connectors: Vec<StoredConnector>,
}

/// The persistence of API-managed connector configs.
#[derive(Debug, Clone)]
pub enum ConfigStore {
    File { path: PathBuf },
    Kafka { kafka: Box<KafkaConfig> },
}

const TIMEOUT: Duration = Duration::from_secs(30);

impl ConfigStore {
    pub fn for_service(service: &ServiceConfig) -> Self {
        match &service.kafka {
            Some(kafka) => ConfigStore::Kafka {
                kafka: Box::new(kafka.clone()),
            },
            None => ConfigStore::File {
                path: service.data_dir.join("connectors.json"),
            },
        }
    }

    /// Every stored connector, by name.
    pub async fn load(&self) -> Result<Vec<StoredConnector>, StoreError> {
        match self {
            ConfigStore::File { path } => Ok(read_file(path)?.connectors),
            ConfigStore::Kafka { kafka } => {
                let topic = &kafka.configs_topic;
                // Created first, so "unknown topic" can only be a broker that has not caught
                // up: retried (as transient), never read as "no connectors", which would
                // silently leave the stored connectors stopped.
                ensure_topic(kafka).await?;
                let result = match read_committed_with(
                    &kafka.bootstrap_servers,
                    &kafka.security,
                    topic,
                    TIMEOUT,
                )
                .await
                {
                    Ok(r) => r,
                    Err(ReaderError::UnknownTopic(_)) => {
                        return Err(StoreError::Write {
                            topic: topic.clone(),
                            message: "created, but the broker does not list it yet".into(),
                        });
                    }
                    Err(source) => {
                        return Err(StoreError::Read {
                            topic: topic.clone(),
                            source,
                        });
                    }
                };
                // The last record of a key wins; a null value deletes.
                let mut latest: BTreeMap<String, Option<StoredConnector>> = BTreeMap::new();
                for r in result.records() {
                    let Some(key) = r.key.as_deref() else {
                        continue;
                    };
                    let name = String::from_utf8_lossy(key).into_owned();
                    let value = match r.value.as_deref() {
                        None => None,
                        Some(v) => match serde_json::from_slice::<StoredConnector>(v) {
                            Ok(c) => Some(c),
                            Err(e) => {
                                tracing::error!(connector = %name, error = %e, "unreadable record in the config topic; ignored");
                                continue;
                            }
                        },
                    };
                    latest.insert(name, value);
                }
                Ok(latest.into_values().flatten().collect())
            }
        }
    }

    /// Adds or replaces a connector.
    pub async fn put(&self, connector: &StoredConnector) -> Result<(), StoreError> {
        match self {
            ConfigStore::File { path } => {
                let mut file = read_file(path)?;
                file.connectors.retain(|c| c.name != connector.name);
                file.connectors.push(connector.clone());
                file.connectors.sort_by(|a, b| a.name.cmp(&b.name));
                write_file(path, &file)
            }
            ConfigStore::Kafka { kafka } => {
                let value = serde_json::to_vec(connector).map_err(|e| StoreError::Write {
                    topic: kafka.configs_topic.clone(),
                    message: e.to_string(),
                })?;
                produce(kafka, &connector.name, Some(&value)).await
            }
        }
    }

    /// Forgets a connector (absent is fine).
    pub async fn remove(&self, name: &str) -> Result<(), StoreError> {
        match self {
            ConfigStore::File { path } => {
                let mut file = read_file(path)?;
                let before = file.connectors.len();
                file.connectors.retain(|c| c.name != name);
                if file.connectors.len() == before {
                    return Ok(());
                }
                write_file(path, &file)
            }
            ConfigStore::Kafka { kafka } => produce(kafka, name, None).await,
        }
    }
}

fn read_file(path: &Path) -> Result<ConfigFile, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(source) => Err(StoreError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Temp file, fsync, rename, fsync the directory: a crash leaves the old or the new file.
/// Owner-only permissions, since the file holds database passwords.
fn write_file(path: &Path, file: &ConfigFile) -> Result<(), StoreError> {
    use std::io::Write;
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = dir.join(".connectors.json.tmp");
    let bytes = serde_json::to_vec_pretty(file).map_err(|source| StoreError::Corrupt {
        path: path.to_owned(),
        source,
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(io(&tmp))?;
    f.write_all(&bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// The config topic's producer, with the context that catches TLS and SASL refusals.
struct Watched {
    producer: FutureProducer<SecurityWatch>,
    watch: SecurityWatch,
}

/// Connects a producer for the config topic and creates the topic, compacted, unless it
/// exists. librdkafka's admin client never polls its main queue, so a refused handshake or
/// login reaches no callback there: the producer's metadata request, whose poll thread does
/// serve them, goes first and stops at once on a refusal.
async fn ensure_topic(kafka: &KafkaConfig) -> Result<Watched, StoreError> {
    let topic = &kafka.configs_topic;
    let err = |message: String| StoreError::Write {
        topic: topic.clone(),
        message,
    };
    let refused = |message| StoreError::Refused {
        topic: topic.clone(),
        message,
    };
    let mut cfg = client_config(kafka);
    cfg.set("enable.idempotence", "true")
        .set("message.timeout.ms", "30000");
    for (k, v) in &kafka.producer {
        // The producer settings of the data path (compression, ...) apply here too,
        // except transactions, which config records do not use.
        if k != "transactional.id" {
            cfg.set(k, v);
        }
    }
    let watch = SecurityWatch::default();
    let producer: FutureProducer<SecurityWatch> = cfg
        .create_with_context(watch.clone())
        .map_err(|e| err(e.to_string()))?;
    let (p, w) = (producer.clone(), watch.clone());
    // In one-second slices, so the thread ends soon after a refusal: a runtime shutting
    // down waits for its blocking threads.
    let metadata = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            match p.client().fetch_metadata(None, Duration::from_secs(1)) {
                Ok(_) => return Ok(()),
                Err(e) if w.failure().is_some() || std::time::Instant::now() >= deadline => {
                    return Err(e);
                }
                Err(_) => {}
            }
        }
    })
    .await
    .map_err(|e| err(e.to_string()))?;
    if let Err(e) = metadata {
        return Err(match watch.failure() {
            Some(_) => refused(watch.explain(e.to_string())),
            None => err(e.to_string()),
        });
    }

    let admin: AdminClient<SecurityWatch> = client_config(kafka)
        .create_with_context(watch.clone())
        .map_err(|e| err(e.to_string()))?;
    let new = NewTopic::new(
        topic,
        1,
        TopicReplication::Fixed(kafka.topic_replication_factor),
    )
    .set("cleanup.policy", "compact");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
    let created = admin.create_topics([&new], &opts).await;
    for result in created.map_err(|e| err(watch.explain(e.to_string())))? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(err(format!("cannot create the topic: {code}"))),
        }
    }
    Ok(Watched { producer, watch })
}

/// Writes one record (`None`: a tombstone) to the config topic, creating it compacted if
/// needed, and waits until the broker has it.
async fn produce(kafka: &KafkaConfig, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
    let topic = &kafka.configs_topic;
    let Watched { producer, watch } = ensure_topic(kafka).await?;
    let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).key(key.as_bytes());
    if let Some(v) = value {
        record = record.payload(v);
    }
    watch
        .guard(producer.send(record, TIMEOUT))
        .await
        .map_err(|message| StoreError::Refused {
            topic: topic.clone(),
            message,
        })?
        .map(|_| ())
        .map_err(|(e, _)| StoreError::Write {
            topic: topic.clone(),
            message: watch.explain(e.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(name: &str) -> StoredConnector {
        StoredConnector {
            name: name.into(),
            config: [("database.password".to_string(), "pw".to_string())].into(),
            state: TargetState::Paused,
        }
    }

    #[tokio::test]
    async fn file_store_round_trips_replaces_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfigStore::File {
            path: dir.path().join("sub/connectors.json"),
        };
        assert!(store.load().await.unwrap().is_empty());
        store.put(&stored("b")).await.unwrap();
        store.put(&stored("a")).await.unwrap();
        let mut a = stored("a");
        a.state = TargetState::Stopped;
        store.put(&a).await.unwrap();
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded, vec![a, stored("b")]);
        store.remove("b").await.unwrap();
        store.remove("nope").await.unwrap();
        assert_eq!(store.load().await.unwrap().len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir.path().join("sub/connectors.json")).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        assert!(!format!("{:?}", stored("x")).contains("pw"));
    }

    #[tokio::test]
    async fn corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connectors.json");
        std::fs::write(&path, b"{nope").unwrap();
        let err = ConfigStore::File { path }.load().await.unwrap_err();
        assert!(err.to_string().contains("connectors.json"), "{err}");
    }
}
