//! MongoDB reader: change streams with resume tokens, a snapshot at one cluster time, and
//! documents in Debezium's MongoDB event format.
//!
//! A session checks the server (a replica set or sharded cluster), takes the snapshot when one
//! is needed (every captured collection read at the cluster time the stream then starts
//! after), then streams strictly after the committed position: an event's resume token, or the
//! snapshot's cluster time.
//!
//! Files: `change` (a change stream document read into typed fields), `ext_json` (Debezium's
//! extended-JSON renderings), `fields` (`field.exclude.list`), `convert` (documents → change
//! events), `setup` (client, server check, collections), `snapshot`, `stream`, `error`.

mod change;
mod convert;
mod error;
mod ext_json;
mod fields;
mod setup;
mod snapshot;
mod stream;

use tokio::sync::watch;
use tracing::{info, warn};

pub use error::MongoError;

use crate::config::{ConnectorConfig, MongoOptions, SnapshotMode};
use crate::event::SourceKind;
use crate::offsets::{MongoPosition, Position};
use crate::source::{BatchSender, ReaderObserver, Source, needs_snapshot};

/// The MongoDB reader of one connector.
#[derive(Clone, Copy)]
pub struct MongoSource<'a> {
    pub config: &'a ConnectorConfig,
    pub options: &'a MongoOptions,
}

impl Source for MongoSource<'_> {
    const KIND: SourceKind = SourceKind::MongoDb;
    type Position = MongoPosition;
    type Error = MongoError;

    fn max_queue_bytes(&self) -> u64 {
        self.config.max_queue_size_in_bytes
    }

    fn session<'s>(
        &'s self,
        from: Option<MongoPosition>,
        out: &'s mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
        observer: &'s dyn ReaderObserver,
    ) -> impl Future<Output = Result<(), MongoError>> + Send + 's {
        run(*self, from, out, committed, observer)
    }
}

/// The position at a cluster time, before any event.
fn at_time(t: mongodb::bson::Timestamp) -> MongoPosition {
    MongoPosition {
        resume_token: None,
        cluster_time: Some(snapshot::to_time(t)),
        snapshot: None,
        transaction: None,
    }
}

async fn run(
    source: MongoSource<'_>,
    mut resume: Option<MongoPosition>,
    out: &mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
) -> Result<(), MongoError> {
    let MongoSource { config, options } = source;
    let client = setup::connect(options).await?;
    let server = setup::check_server(&client).await?;
    info!(
        replica_set = server.replica_set.as_deref().unwrap_or("(sharded)"),
        "connected"
    );
    let mode = config.snapshot_mode;

    // A committed position whose history is gone: fail with the fix, or (when_needed) start
    // over with a new snapshot. Opening the stream is the check.
    let mut opened = None;
    if let Some(p) = resume.as_ref().filter(|p| p.snapshot.is_none())
        && mode != SnapshotMode::Always
    {
        match stream::open(&client, source, p).await {
            Ok(s) => opened = Some(s),
            Err(MongoError::HistoryLost(detail) | MongoError::CannotResume(detail))
                if mode == SnapshotMode::WhenNeeded =>
            {
                warn!(%detail, "the committed resume token is no longer in the oplog; taking a new snapshot");
                resume = None;
            }
            Err(e) => return Err(e),
        }
    }

    if needs_snapshot(mode, resume.as_ref().map(|p| p.snapshot.as_ref())) {
        observer.started();
        let (point, progress) = match resume.take() {
            // Resuming an interrupted snapshot: at its cluster time, the remaining documents.
            Some(p) if p.snapshot.is_some() && mode != SnapshotMode::Always => {
                let progress = p.snapshot.clone();
                (
                    MongoPosition {
                        snapshot: None,
                        ..p
                    },
                    progress,
                )
            }
            _ => (at_time(server.operation_time), None),
        };
        let tables =
            setup::captured_collections(&client, &options.capture_scope, &config.filters).await?;
        info!(collections = tables.len(), "snapshot");
        let done = snapshot::run(&client, source, &tables, progress, point, out).await?;
        info!("snapshot done");
        resume = Some(done);
        opened = None;
        if mode == SnapshotMode::InitialOnly {
            return Ok(());
        }
    }
    let from = resume.unwrap_or_else(|| at_time(server.operation_time));
    let mut stream = match opened {
        Some(s) => s,
        None => stream::open(&client, source, &from).await?,
    };
    observer.started();
    info!(
        token = from.resume_token.as_deref().unwrap_or("-"),
        after = ?from.cluster_time,
        "streaming"
    );
    observer.streaming();
    let mut streamer = stream::Streamer::new(source, out, committed, &from);
    match streamer.run(&mut stream).await {
        Err(MongoError::HistoryLost(detail) | MongoError::CannotResume(detail))
            if mode == SnapshotMode::WhenNeeded =>
        {
            Err(MongoError::HistoryLostResnapshot(detail))
        }
        other => other,
    }
}
