//! Connector runtime: one supervised task per connector (reader → bounded channel → emitter →
//! ack), with Kafka Connect's states. Transient errors restart a connector from its committed
//! position with capped exponential backoff; definite ones set FAILED with a trace. The
//! operations of the REST API (create, reconfigure, pause, resume, stop, restart, delete,
//! offsets) live in `ops` and `offsets_ops`; API-managed configs persist through `store`.

mod connector;
mod data_dir_lock;
mod health;
mod meter;
pub mod metrics;
mod offsets_ops;
mod ops;
mod readers;
mod secret_guard;
mod status;
mod store;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

pub use connector::{TaskError, committed_position};
pub use data_dir_lock::{DataDirLock, LockError};
pub use metrics::{ConnectorMetrics, MetricsSnapshot};
pub use offsets_ops::{OffsetsView, PartitionOffset};
pub use status::{
    ConnectorInfo, ConnectorState, ConnectorStatus, HIDDEN, StateInfo, StatusInfo, TargetState,
    TaskId, TaskStateInfo, hide_secrets,
};
pub use store::{ConfigStore, StoreError, StoredConnector};
// The reader contract lives in `source`; re-exported for callers that knew it here.
pub use crate::source::{BatchSender, Closed, NoObserver, ReaderObserver, backoff_delay};

use crate::config::{ConfigErrors, ConnectorConfig, ServiceConfig, resolve_env_refs};
use crate::offsets::OffsetError;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("Connector {0} already exists")]
    AlreadyExists(String),
    #[error("Connector {0} not found")]
    NotFound(String),
    #[error("Connector {name} has no task {task}; it has one task, 0")]
    UnknownTask { name: String, task: u32 },
    /// Kafka Connect's wording, so scripts matching it keep working.
    #[error(
        "Connector configuration is invalid and contains the following {} error(s):\n{}",
        .0.0.len(),
        .0
    )]
    Invalid(ConfigErrors),
    #[error(
        "Connector {name} is {state}: its offsets can only be changed while it is STOPPED \
         (PUT /connectors/{name}/stop)"
    )]
    NotStopped { name: String, state: ConnectorState },
    #[error("{0}")]
    BadRequest(String),
    #[error("siphon is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Offsets(#[from] OffsetError),
    #[error("writing the offsets: {0}")]
    OffsetsWrite(String),
    #[error(transparent)]
    DataDir(#[from] LockError),
}

/// Validates a connector map as the REST API receives it: `${env:NAME}` references resolved
/// (only the variables `service` allows), then Debezium's keys checked, and the converters
/// against `service`'s sink. Every problem is reported, each naming its key; a resolved
/// value or a secret is never quoted in them.
pub fn validate_config(
    service: &ServiceConfig,
    name: &str,
    raw: &BTreeMap<String, String>,
) -> Result<ConnectorConfig, ConfigErrors> {
    let access = service.env_access();
    let (map, mut hidden, mut problems) = resolve_env_refs(raw, &access, |k| std::env::var(k).ok());
    hidden.hide_secrets_of(raw);
    hidden.hide_secrets_of(&map);
    match ConnectorConfig::from_map(name, &map) {
        Ok(c) if let Err(e) = c.sink_converters(service) => {
            problems.extend(e);
            Err(hidden.scrub_errors(problems))
        }
        Ok(mut c) if problems.is_empty() => {
            c.hidden.extend(hidden);
            Ok(c)
        }
        Ok(_) => Err(hidden.scrub_errors(problems)),
        Err(e) => {
            problems.extend(e);
            Err(hidden.scrub_errors(problems))
        }
    }
}

struct Task {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

struct Entry {
    /// The map as given (unresolved `${env:}` references, secrets included).
    raw: BTreeMap<String, String>,
    config: Arc<ConnectorConfig>,
    target: TargetState,
    /// Kept in the config store (created or changed over the API); `connectors.toml`
    /// entries are not, the file declares them.
    persisted: bool,
    status: Arc<Mutex<ConnectorStatus>>,
    metrics: Arc<ConnectorMetrics>,
    task: Option<Task>,
}

impl Entry {
    fn new(
        raw: BTreeMap<String, String>,
        config: ConnectorConfig,
        target: TargetState,
        persisted: bool,
    ) -> Self {
        Entry {
            raw,
            config: Arc::new(config),
            target,
            persisted,
            status: Arc::new(Mutex::new(ConnectorStatus::new(ConnectorState::Unassigned))),
            metrics: Arc::new(ConnectorMetrics::new()),
            task: None,
        }
    }

    /// The state to report: the task's, unless the user paused or stopped the connector.
    fn reported(&self) -> ConnectorStatus {
        match self.target {
            TargetState::Paused => ConnectorStatus::new(ConnectorState::Paused),
            TargetState::Stopped => ConnectorStatus::new(ConnectorState::Stopped),
            TargetState::Running => lock(&self.status).clone(),
        }
    }

    fn stored(&self) -> StoredConnector {
        StoredConnector {
            name: self.config.name.clone(),
            config: self.raw.clone(),
            state: self.target,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Attempts at reading the stored connectors at start (about a minute in all).
const BOOT_RETRIES: u32 = 8;

/// How long a stopping task may take to commit what it has in flight.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Holds every connector of this process and its status.
pub struct Runtime {
    service: Arc<ServiceConfig>,
    store: ConfigStore,
    worker_id: String,
    /// Serializes the operations that change connectors (each may wait for a task to stop).
    ops: tokio::sync::Mutex<()>,
    entries: Mutex<BTreeMap<String, Entry>>,
    closing: AtomicBool,
    /// Embedded mode: this process owns the data directory (see `data_dir_lock`).
    data_dir_lock: Option<DataDirLock>,
    readers: Arc<dyn readers::Readers>,
}

impl Runtime {
    pub fn new(service: ServiceConfig) -> Self {
        Self::with_readers(service, Arc::new(readers::DatabaseReaders))
    }

    /// A runtime whose connectors read through `readers` (tests give it a fake source).
    pub(crate) fn with_readers(service: ServiceConfig, readers: Arc<dyn readers::Readers>) -> Self {
        Runtime {
            readers,
            store: ConfigStore::for_service(&service),
            worker_id: worker_id(&service.api_bind),
            service: Arc::new(service),
            ops: tokio::sync::Mutex::new(()),
            entries: Mutex::new(BTreeMap::new()),
            closing: AtomicBool::new(false),
            data_dir_lock: None,
        }
    }

    /// Loads the connectors persisted by the API, then applies `from_file` (the connectors of
    /// `connectors.toml`, which win over a stored connector of the same name), and starts
    /// every connector whose target state is RUNNING.
    pub async fn boot(
        service: ServiceConfig,
        from_file: Vec<ConnectorConfig>,
    ) -> Result<Self, RuntimeError> {
        let mut rt = Runtime::new(service);
        if rt.service.kafka.is_none() {
            rt.data_dir_lock = Some(DataDirLock::acquire(&rt.service.data_dir)?);
        }
        let mut attempt = 0;
        let stored = loop {
            match rt.store.load().await {
                Ok(s) => break s,
                // A broker that is still starting: wait a little rather than exit at once.
                Err(e) if e.is_transient() && attempt < BOOT_RETRIES => {
                    let delay =
                        backoff_delay(attempt, Duration::from_millis(500), Duration::from_secs(10));
                    warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot read the stored connectors yet");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        for stored in stored {
            if from_file.iter().any(|c| c.name == stored.name) {
                warn!(connector = %stored.name, "connectors.toml declares this connector: its file config replaces the one stored over the API");
                continue;
            }
            match validate_config(&rt.service, &stored.name, &stored.config) {
                Ok(config) => {
                    let mut entry = Entry::new(stored.config, config, stored.state, true);
                    if entry.target == TargetState::Running {
                        rt.spawn(&mut entry, ConnectorState::Unassigned);
                    }
                    info!(connector = %stored.name, state = ?stored.state, "connector restored");
                    lock(&rt.entries).insert(stored.name, entry);
                }
                // E.g. an `${env:}` variable that is no longer set: keep it stored, report it.
                Err(problems) => {
                    error!(connector = %stored.name, %problems, "stored connector config is invalid; not started")
                }
            }
        }
        for config in from_file {
            rt.start(config)?;
        }
        Ok(rt)
    }

    pub fn service(&self) -> &ServiceConfig {
        &self.service
    }

    /// How this process names itself in statuses (Kafka Connect's `worker_id`).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Registers and starts a connector without persisting it (a `connectors.toml` entry).
    pub fn start(&self, config: ConnectorConfig) -> Result<(), RuntimeError> {
        let mut entries = lock(&self.entries);
        if entries.contains_key(&config.name) {
            return Err(RuntimeError::AlreadyExists(config.name));
        }
        let name = config.name.clone();
        let mut entry = Entry::new(config.raw.0.clone(), config, TargetState::Running, false);
        self.spawn(&mut entry, ConnectorState::Unassigned);
        entries.insert(name, entry);
        Ok(())
    }

    /// Starts the entry's task (must be called inside a Tokio runtime).
    fn spawn(&self, entry: &mut Entry, initial: ConnectorState) {
        *lock(&entry.status) = ConnectorStatus::new(initial);
        let (stop, stop_rx) = watch::channel(false);
        let join = tokio::spawn(connector::supervise(
            Arc::clone(&self.readers),
            Arc::clone(&entry.config),
            Arc::clone(&self.service),
            Arc::clone(&entry.status),
            Arc::clone(&entry.metrics),
            stop_rx,
        ));
        entry.task = Some(Task { stop, join });
    }

    /// The status of every connector, by name.
    pub fn statuses(&self) -> BTreeMap<String, ConnectorStatus> {
        lock(&self.entries)
            .iter()
            .map(|(name, e)| (name.clone(), e.reported()))
            .collect()
    }

    /// Runs until `shutdown` resolves, then stops every connector, letting each commit what
    /// it has in flight (bounded by a timeout). Operations in progress finish first; later
    /// ones are refused.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        info!("shutting down");
        self.closing.store(true, Ordering::SeqCst);
        let _ops = self.ops.lock().await;
        let tasks: Vec<(String, Task)> = lock(&self.entries)
            .iter_mut()
            .filter_map(|(name, e)| Some((name.clone(), e.task.take()?)))
            .collect();
        for (_, t) in &tasks {
            let _ = t.stop.send(true);
        }
        for (name, t) in tasks {
            match tokio::time::timeout(STOP_TIMEOUT, t.join).await {
                Ok(_) => info!(connector = %name, "connector stopped"),
                Err(_) => warn!(connector = %name, "connector did not stop within 30 s"),
            }
        }
    }
}

/// Stops a task, waiting (bounded) for it to commit what it has in flight.
async fn halt(task: Task) {
    let _ = task.stop.send(true);
    let abort = task.join.abort_handle();
    if tokio::time::timeout(STOP_TIMEOUT, task.join).await.is_err() {
        warn!("connector task did not stop within 30 s; aborting it");
        abort.abort();
    }
}

/// `host:port` of the API, with the machine's name for a wildcard address.
fn worker_id(api_bind: &str) -> String {
    let (host, port) = api_bind.rsplit_once(':').unwrap_or((api_bind, "8083"));
    let wildcard = matches!(host, "0.0.0.0" | "[::]" | "::" | "");
    if !wildcard {
        return api_bind.to_owned();
    }
    format!("{}:{port}", crate::emitter::hostname())
}

#[cfg(test)]
mod fake_source_tests;
#[cfg(test)]
mod tests;
