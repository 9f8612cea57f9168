//! MySQL/MariaDB reader: ROW binlog streaming with GTIDs.
//!
//! [`run`] checks the server's binlog settings, takes the consistent initial snapshot when one
//! is needed, then registers as a replica and streams the binlog from the snapshot's position
//! or strictly after the committed one: by GTID set (MySQL), GTID state (MariaDB) or file and
//! position, skipping the rows of a transaction that were already delivered.
//!
//! Files: `column` (kinds and Debezium's type mapping), `charset` (+ `charset_tables`, `cjk`: text
//! in every charset), `table_map` (columns from TABLE_MAP metadata), `value` (values →
//! model), `mariadb` (MariaDB-only events from raw bytes), `mariadb_types` (INET4, INET6, UUID),
//! `schema` (schemas and versions), `setup` (connections, checks, information_schema),
//! `image` (row images without every column), `statement` (DML logged as statements),
//! `lock` (the snapshot's global read lock), `snapshot`, `stream`, `error`.

mod charset;
mod charset_tables;
mod cjk;
pub(crate) mod column;
mod defaults;
mod error;
mod image;
mod lock;
mod mariadb;
mod mariadb_types;
mod schema;
mod setup;
mod snapshot;
mod statement;
mod stream;
pub(crate) mod table_map;
mod tls;
mod tls_probe;
pub(crate) mod value;

use mysql_async::BinlogStreamRequest;
use mysql_async::prelude::Queryable;
use tokio::sync::watch;
use tracing::{info, warn};

pub use error::MySqlError;
pub(crate) use stream::bounded_rows;

use crate::config::{ConnectorConfig, MySqlOptions, SnapshotMode};
use crate::event::SourceKind;
use crate::offsets::{MySqlPosition, Position};
use crate::source::{BatchSender, ReaderObserver, Source};
use setup::ServerInfo;

/// Heartbeats the server sends on an idle binlog connection, so a dead one is noticed.
const HEARTBEAT_NANOS: u64 = 2_000_000_000;

/// Whether to snapshot before streaming, given the mode and the committed position.
fn needs_snapshot(mode: SnapshotMode, resume: Option<&MySqlPosition>) -> bool {
    crate::source::needs_snapshot(mode, resume.map(|p| p.snapshot.as_ref()))
}

/// A position from the server's binlog coordinates and GTID text.
fn position_at(
    server: &ServerInfo,
    file: String,
    pos: u64,
    gtids: Option<String>,
) -> Result<MySqlPosition, MySqlError> {
    let bad = |e: crate::offsets::GtidParseError| MySqlError::Protocol(e.to_string());
    let (mysql, maria) = match gtids {
        Some(text) if server.mariadb => (None, Some(text.parse().map_err(bad)?)),
        Some(text) if server.mysql_gtids => (Some(text.parse().map_err(bad)?), None),
        _ => (None, None),
    };
    Ok(MySqlPosition {
        file,
        pos,
        skip_events: 0,
        skip_rows: 0,
        gtids: mysql,
        mariadb_gtids: maria,
        snapshot: None,
    })
}

/// The MySQL/MariaDB reader of one connector.
#[derive(Clone, Copy)]
pub struct MySqlSource<'a> {
    pub config: &'a ConnectorConfig,
    pub options: &'a MySqlOptions,
}

impl Source for MySqlSource<'_> {
    const KIND: SourceKind = SourceKind::MySql;
    type Position = MySqlPosition;
    type Error = MySqlError;

    fn max_queue_bytes(&self) -> u64 {
        self.config.max_queue_size_in_bytes
    }

    fn session<'s>(
        &'s self,
        from: Option<MySqlPosition>,
        out: &'s mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
        observer: &'s dyn ReaderObserver,
    ) -> impl Future<Output = Result<(), MySqlError>> + Send + 's {
        run(*self, from, out, committed, observer)
    }
}

/// One session: reads the connector's databases until an error or until the emitter side
/// goes away.
async fn run(
    source: MySqlSource<'_>,
    mut resume: Option<MySqlPosition>,
    out: &mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
) -> Result<(), MySqlError> {
    let MySqlSource {
        config,
        options: my,
    } = source;
    let mut conn = setup::connect(my).await?;
    let server = setup::check_server(&mut conn).await?;

    if let Some(p) = &resume {
        let files = setup::binlog_files(&mut conn).await?;
        let at = format!("{}:{}", p.file, p.pos);
        let problem = match files.iter().find(|(name, _)| *name == p.file) {
            None => Some(MySqlError::BinlogPurged(at)),
            // A file shorter than the committed position lost its end (or is another
            // server's): streaming from there would miss or misread events.
            Some((_, size)) if p.pos > *size => Some(MySqlError::BinlogTailLost(format!(
                "{at}, but the file has {size} bytes"
            ))),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            if config.snapshot_mode == SnapshotMode::WhenNeeded {
                warn!(error = %problem, "taking a new snapshot (snapshot.mode=when_needed)");
                resume = None;
            } else {
                return Err(problem);
            }
        }
    }

    if needs_snapshot(config.snapshot_mode, resume.as_ref()) {
        let mut snap = setup::connect(my).await?;
        let ((file, pos, gtids), locked) = snapshot::begin(&mut snap, &server, my).await?;
        observer.started();
        let (point, progress) = match resume.take() {
            // Resuming an interrupted snapshot: streaming still starts from the first one's
            // position; the new snapshot transaction only reads the remaining rows.
            Some(p) if p.snapshot.is_some() && config.snapshot_mode != SnapshotMode::Always => {
                let progress = p.snapshot.clone();
                (
                    MySqlPosition {
                        snapshot: None,
                        ..p
                    },
                    progress,
                )
            }
            _ => (position_at(&server, file, pos, gtids)?, None),
        };
        let tables = setup::captured_tables(&mut conn, &config.filters).await?;
        info!(tables = tables.len(), file = %point.file, pos = point.pos, "snapshot");
        let done = snapshot::run(
            &mut snap, source, &server, &tables, progress, point, locked, out,
        )
        .await?;
        info!("snapshot done");
        resume = Some(done);
        if config.snapshot_mode == SnapshotMode::InitialOnly {
            return Ok(());
        }
    }
    let resume = match resume {
        Some(p) => p,
        None if config.snapshot_mode == SnapshotMode::Never => {
            // Debezium's `never`: the whole binlog the server still has.
            let files = setup::binlog_files(&mut conn).await?;
            let first = files
                .into_iter()
                .next()
                .map(|(name, _)| name)
                .ok_or_else(|| {
                    MySqlError::Settings(vec!["the server has no binlog files".into()])
                })?;
            position_at(&server, first, 4, None)?
        }
        None => {
            let (file, pos, gtids) = setup::binlog_end(&mut conn, &server).await?;
            position_at(&server, file, pos, gtids)?
        }
    };
    drop(conn);
    observer.started();

    let mut stream = open_stream(my, &server, &resume).await?;
    info!(file = %resume.file, pos = resume.pos, gtids = resume.mariadb_gtids.as_ref().map(|g| g.to_string()).or(resume.gtids.as_ref().map(|g| g.to_string())), "streaming");
    observer.streaming();
    let sql = setup::connect(my).await?;
    let mut streamer = stream::Streamer::new(source, server, sql, &resume, out, committed);
    streamer.run(&mut stream).await
}

/// Registers as a replica and requests the binlog from `from`: by GTIDs when the position has
/// them, else by file and position.
async fn open_stream(
    my: &MySqlOptions,
    server: &ServerInfo,
    from: &MySqlPosition,
) -> Result<mysql_async::BinlogStream, MySqlError> {
    let server_id = my.server_id;
    let mut conn = setup::connect(my).await?;
    let q = |context| move |source| MySqlError::Query { context, source };
    conn.query_drop(format!("SET @master_heartbeat_period = {HEARTBEAT_NANOS}"))
        .await
        .map_err(q("heartbeat period"))?;
    let described = format!("{}:{}", from.file, from.pos);
    let mut request = BinlogStreamRequest::new(server_id);
    let sids: Vec<mysql_async::Sid<'static>>;
    if server.mariadb {
        // Capability 4: send GTID events instead of rewriting them as BEGIN.
        conn.query_drop("SET @mariadb_slave_capability = 4")
            .await
            .map_err(q("replica capability"))?;
        if let Some(state) = &from.mariadb_gtids {
            conn.exec_drop("SET @slave_connect_state = ?", (state.to_string(),))
                .await
                .map_err(q("GTID connect state"))?;
            conn.query_drop("SET @slave_gtid_strict_mode = 1")
                .await
                .map_err(q("GTID strict mode"))?;
        } else {
            request = request
                .with_filename(from.file.as_bytes())
                .with_pos(from.pos);
        }
    } else if let Some(set) = from.gtids.as_ref().filter(|s| !s.is_empty()) {
        sids = set
            .to_string()
            .split(',')
            .map(|part| part.parse())
            .collect::<Result<_, _>>()
            .map_err(|e: std::io::Error| MySqlError::Protocol(format!("GTID set `{set}`: {e}")))?;
        request = request.with_gtid().with_gtid_set(sids);
    } else {
        request = request
            .with_filename(from.file.as_bytes())
            .with_pos(from.pos);
    }
    conn.get_binlog_stream(request)
        .await
        .map_err(|e| MySqlError::from_stream(e, &described, server_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_decision_follows_the_mode() {
        let done = MySqlPosition {
            file: "bin.000001".into(),
            pos: 4,
            skip_events: 0,
            skip_rows: 0,
            gtids: None,
            mariadb_gtids: None,
            snapshot: None,
        };
        let mut midway = done.clone();
        midway.snapshot = Some(Default::default());
        use SnapshotMode::*;
        assert!(needs_snapshot(Initial, None));
        assert!(!needs_snapshot(Initial, Some(&done)));
        assert!(needs_snapshot(Initial, Some(&midway)));
        assert!(needs_snapshot(WhenNeeded, None));
        assert!(needs_snapshot(Always, Some(&done)));
        assert!(!needs_snapshot(NoData, None));
        assert!(!needs_snapshot(Never, None));
        assert!(!needs_snapshot(Recovery, None));
    }
}
