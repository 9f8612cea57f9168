//! One connector's task: load the committed position, run the reader and the emitter joined
//! by a bounded channel, and supervise them: transient errors restart both from the committed
//! position after a capped backoff, definite ones fail the connector with a trace.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, error, info, info_span, warn};

use super::meter::meter;
use super::metrics::ConnectorMetrics;
use super::readers::Readers;
use super::status::{ConnectorState, ConnectorStatus};
use crate::config::{ConnectorConfig, ServiceConfig};
use crate::emitter::kafka::KafkaSinkError;
use crate::emitter::{EmitError, KafkaEmitter, current_owner, offsets_of, run_embedded};
use crate::offsets::{FileOffsetStore, OffsetError, Position, TopicPresence};
use crate::source::{SourceError, backoff_delay};
use crate::task::AbortOnDrop;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The reader's error: its source says whether it is transient and what to do.
    #[error("{0}")]
    Source(Box<dyn SourceError>),
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Offsets(#[from] OffsetError),
    /// Another instance opened a producer with this connector's transactional id.
    #[error(
        "connector `{connector}` was taken over by another siphon instance ({owner}): its producer \
         with transactional id `{id}` fenced this one, which stopped without writing anything more"
    )]
    FencedBy {
        connector: String,
        id: String,
        owner: String,
    },
}

impl TaskError {
    pub fn is_transient(&self) -> bool {
        match self {
            TaskError::Source(e) => e.is_transient(),
            TaskError::Emit(e) => e.is_transient(),
            TaskError::Offsets(e) => e.is_transient(),
            TaskError::FencedBy { .. } => false,
        }
    }

    /// What the user can do about it, for the status trace.
    pub fn hint(&self) -> &'static str {
        match self {
            TaskError::Source(e) => e.hint(),
            TaskError::Emit(EmitError::Kafka(crate::emitter::kafka::KafkaSinkError::Fenced {
                ..
            }))
            | TaskError::FencedBy { .. } => {
                "another siphon instance runs this connector: stop one of them, or give each \
                 deployment its own service.group_id; if that instance is gone, restart this \
                 connector (POST /connectors/{name}/restart) to take it back"
            }
            TaskError::Emit(
                EmitError::Kafka(KafkaSinkError::Poison { .. })
                | EmitError::Encoder(crate::emitter::EncoderError::TooLarge { .. }),
            ) => {
                "no retry can deliver this record: fix it as the message says, then restart the \
                 connector (POST /connectors/{name}/restart); nothing after it was committed, \
                 so nothing is lost"
            }
            TaskError::Emit(_) => {
                "check the broker, the schema registry and the connector's topics"
            }
            TaskError::Offsets(OffsetError::Kafka {
                source: crate::offsets::committed_reader::ReaderError::NotCompacted { .. },
                ..
            }) => {
                "make the offsets topic compacted as the message says, then restart the connector"
            }
            TaskError::Offsets(e) if e.is_transient() => {
                "check that the broker answers; the connector retries by itself"
            }
            TaskError::Offsets(_) => "the stored offset is unusable: reset the connector's offsets",
        }
    }
}

/// The last committed position of the connector, from wherever the service keeps offsets: a
/// look for the REST API. A task reads its resume point through its opened emitter instead,
/// after fencing (see [`run_once`]).
pub async fn committed_position(
    config: &ConnectorConfig,
    service: &ServiceConfig,
) -> Result<Option<Position>, OffsetError> {
    match &service.kafka {
        Some(k) => {
            offsets_of(k, config)
                .load(TopicPresence::Unknown, Duration::from_secs(30))
                .await
        }
        None => FileOffsetStore::new(&service.data_dir).load(&config.name),
    }
}

/// Reports the reader's reconnects in the connector's status and error count.
struct StatusObserver(
    Arc<Mutex<ConnectorStatus>>,
    Arc<ConnectorMetrics>,
    Arc<ConnectorConfig>,
);

impl crate::source::ReaderObserver for StatusObserver {
    // RUNNING only from here: a user who writes once the status says RUNNING must see the
    // write as a change event, so the slot (or binlog position) must exist by then.
    fn started(&self) {
        self.streaming();
    }
    fn streaming(&self) {
        let mut status = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        status.state = ConnectorState::Running;
        status.trace = None;
        status.health.running(Instant::now());
    }
    fn scrub(&self, text: &str) -> String {
        self.2.scrub(text)
    }
    fn retrying(&self, error: &dyn std::fmt::Display) {
        self.1.error();
        let mut status = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        status.state = ConnectorState::Restarting;
        let error = self.scrub(&error.to_string());
        status.trace = Some(format!("{error}\nthe reader reconnects by itself"));
        status.health.error(Instant::now(), SystemTime::now());
    }
}

/// One run of reader + emitter, until an error, the reader's end, or `stop`.
async fn run_once(
    readers: &Arc<dyn Readers>,
    config: &Arc<ConnectorConfig>,
    service: &Arc<ServiceConfig>,
    status: &Arc<Mutex<ConnectorStatus>>,
    metrics: &Arc<ConnectorMetrics>,
    stop: &mut watch::Receiver<bool>,
    claimed: &mut bool,
) -> Result<(), TaskError> {
    // A restart of a task that owned the connector: if another instance claimed it since, this
    // one was fenced (however the fence surfaced: the broker may just drop the connection).
    // Taking it back would fence the new owner in turn, and the two would take turns forever.
    if *claimed
        && let Some(kafka) = &service.kafka
        && let Some(owner) = current_owner(config, service, kafka, Duration::ZERO).await
    {
        return Err(TaskError::FencedBy {
            connector: config.name.clone(),
            id: service.transactional_id(&config.name),
            owner,
        });
    }
    // Fence first, then read: a zombie producer of this connector (a halted task that did not
    // stop, a second process) could otherwise commit after the offset is read, and its batch
    // would be emitted twice. Opening the producer also settles a commit of unknown outcome.
    let kafka = match &service.kafka {
        Some(k) => Some(KafkaEmitter::open(config, service, k).await?),
        None => None,
    };
    let resume = match &kafka {
        Some(emitter) => {
            let resume = emitter.committed_position(config).await?;
            emitter.claim(config, resume.as_ref()).await?;
            *claimed = true;
            resume
        }
        None => FileOffsetStore::new(&service.data_dir).load(&config.name)?,
    };
    info!(position = ?resume, "starting from the committed position");
    // The queue bound, in batches, is the backpressure between reader and emitter.
    let (tx, metered_rx) = mpsc::channel(config.queue_depth());
    // The meter holds one batch of its own, so its hand-off to the emitter is unbuffered.
    let (metered_tx, rx) = mpsc::channel(1);
    let (commit_tx, commit_rx) = watch::channel(resume.clone());
    let meter = tokio::spawn(meter(
        config.topic_prefix.clone(),
        Arc::clone(metrics),
        metered_rx,
        metered_tx,
        commit_tx.subscribe(),
    ));
    let _meter = AbortOnDrop(meter);
    let reader_config = Arc::clone(config);
    let observer = StatusObserver(Arc::clone(status), Arc::clone(metrics), Arc::clone(config));
    let readers = Arc::clone(readers);
    let mut reader = tokio::spawn(
        async move {
            readers
                .read(&reader_config, resume, tx, commit_rx, &observer)
                .await
        }
        .in_current_span(),
    );
    let emitter = async {
        match kafka {
            Some(emitter) => emitter.run(config, rx, commit_tx).await,
            None => run_embedded(config, service, rx, commit_tx).await,
        }
    };
    tokio::pin!(emitter);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = &mut emitter => {
                // The emitter ends when the reader's side closed (after committing what was
                // in flight) or on its own error.
                if let Err(e) = result {
                    reader.abort();
                    return Err(fenced_by(config, service, e).await);
                }
                return match (&mut reader).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Ok(()),
                };
            }
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    // Stop reading; the emitter drains and commits what is in flight.
                    stopping = true;
                    reader.abort();
                }
            }
        }
    }
}

/// A fenced emitter's error, naming the instance that took the connector over when the
/// offsets topic says (see `emitter::owner`).
async fn fenced_by(config: &ConnectorConfig, service: &ServiceConfig, e: EmitError) -> TaskError {
    let (EmitError::Kafka(KafkaSinkError::Fenced { id, .. }), Some(kafka)) = (&e, &service.kafka)
    else {
        return e.into();
    };
    match current_owner(config, service, kafka, Duration::from_secs(5)).await {
        Some(owner) => TaskError::FencedBy {
            connector: config.name.clone(),
            id: id.clone(),
            owner,
        },
        None => e.into(),
    }
}

/// Runs a connector until `stop` says so or it fails definitively, keeping `status` current.
pub(crate) async fn supervise(
    readers: Arc<dyn Readers>,
    config: Arc<ConnectorConfig>,
    service: Arc<ServiceConfig>,
    status: Arc<Mutex<ConnectorStatus>>,
    metrics: Arc<ConnectorMetrics>,
    mut stop: watch::Receiver<bool>,
) {
    let span = info_span!("connector", name = %config.name, class = config.class.name());
    async move {
        for notice in &config.notices {
            warn!(key = %notice.key, "{}", notice.message);
        }
        let set = |s: ConnectorStatus| *status.lock().unwrap_or_else(PoisonError::into_inner) = s;
        // The backoff's step within the current degraded period (see `health`).
        let mut attempt = 0u32;
        // Whether an earlier attempt of this task owned the connector (see `run_once`).
        let mut claimed = false;
        loop {
            // The status stays UNASSIGNED (or RESTARTING) until the reader reports `started`.
            let result = run_once(&readers, &config, &service, &status, &metrics, &mut stop, &mut claimed).await;
            if *stop.borrow() {
                set(ConnectorStatus::new(ConnectorState::Stopped));
                info!("connector stopped");
                return;
            }
            match result {
                Ok(()) => {
                    set(ConnectorStatus::new(ConnectorState::Stopped));
                    info!("connector finished");
                    return;
                }
                Err(e) if e.is_transient() => {
                    metrics.error();
                    let delay = {
                        let mut s = status.lock().unwrap_or_else(PoisonError::into_inner);
                        let now = Instant::now();
                        if s.health.error(now, SystemTime::now()) {
                            // Healthy for long enough since the last period: start short again.
                            attempt = 0;
                        }
                        let delay = backoff_delay(attempt, Duration::from_millis(500), Duration::from_secs(60));
                        s.health.next_attempt_in(now, delay);
                        s.state = ConnectorState::Restarting;
                        s.trace = Some(config.scrub(&format!("{e}\nhint: {}", e.hint())));
                        delay
                    };
                    let e = config.scrub(&e.to_string());
                    warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "transient error; restarting from the committed position");
                    attempt = attempt.saturating_add(1);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(e) => {
                    metrics.error();
                    let mut failed = ConnectorStatus::failed(&e, e.hint());
                    failed.trace = failed.trace.map(|t| config.scrub(&t));
                    error!(error = %config.scrub(&e.to_string()), "connector failed");
                    set(failed);
                    return;
                }
            }
        }
    }
    .instrument(span)
    .await
}
