//! The one dispatch from a connector's kind of source to its reader, behind a seam through
//! which the runtime's tests hand it a fake source.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, watch};

use super::connector::TaskError;
use crate::config::{ConnectorConfig, SourceOptions};
use crate::event::ChangeBatch;
use crate::mongo_oplog::MongoSource;
use crate::mysql_binlog::MySqlSource;
use crate::offsets::Position;
use crate::postgres_wal::PgSource;
use crate::source::{self, ReaderObserver, Source};

pub(crate) type ReadFuture<'a> = Pin<Box<dyn Future<Output = Result<(), TaskError>> + Send + 'a>>;

/// Runs a connector's reader, reconnecting on transient errors, until a definite error or
/// until the emitter side has gone.
pub(crate) trait Readers: Send + Sync {
    fn read<'a>(
        &'a self,
        config: &'a ConnectorConfig,
        resume: Option<Position>,
        out: mpsc::Sender<ChangeBatch>,
        committed: watch::Receiver<Option<Position>>,
        observer: &'a dyn ReaderObserver,
    ) -> ReadFuture<'a>;
}

/// The database readers of this build.
pub(crate) struct DatabaseReaders;

impl Readers for DatabaseReaders {
    fn read<'a>(
        &'a self,
        config: &'a ConnectorConfig,
        resume: Option<Position>,
        out: mpsc::Sender<ChangeBatch>,
        committed: watch::Receiver<Option<Position>>,
        observer: &'a dyn ReaderObserver,
    ) -> ReadFuture<'a> {
        match &config.source {
            SourceOptions::Postgres(options) => Box::pin(drive(
                PgSource { config, options },
                resume,
                out,
                committed,
                observer,
            )),
            SourceOptions::MySql(options) => Box::pin(drive(
                MySqlSource { config, options },
                resume,
                out,
                committed,
                observer,
            )),
            SourceOptions::MongoDb(options) => Box::pin(drive(
                MongoSource { config, options },
                resume,
                out,
                committed,
                observer,
            )),
        }
    }
}

/// Runs `source` under the reconnect loop; its definite error becomes the task's.
pub(crate) async fn drive<S: Source>(
    source: S,
    resume: Option<Position>,
    out: mpsc::Sender<ChangeBatch>,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
) -> Result<(), TaskError> {
    source::run(&source, resume, out, committed, observer)
        .await
        .map_err(|e| TaskError::Source(Box::new(e)))
}
