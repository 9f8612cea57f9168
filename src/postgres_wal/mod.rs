//! PostgreSQL reader: logical replication with pgoutput.
//!
//! [`run`] checks the server, sets up the publication and slot, takes the consistent initial
//! snapshot when one is needed, then streams changes from the slot, resuming strictly after
//! the committed position and confirming committed positions back to the server.
//!
//! Files: `pgoutput` (pure decoder), `types` (type mapping and text parsing), `catalog`
//! (catalog look-ups), `relations` (table schemas and versions), `convert` (tuples → events),
//! `setup` (server checks, slot, publication), `snapshot`, `stream`, `ack` (what to confirm),
//! `error` and `sqlstate` (transient or definite, by SQLSTATE).

mod ack;
mod catalog;
mod convert;
mod defaults;
mod error;
pub mod pgoutput;
mod relations;
mod relay;
mod setup;
mod snapshot;
mod sqlstate;
mod stream;
mod transport;
pub mod types;
mod version;

use pgwire_replication::{Lsn, ReplicationClient, ReplicationConfig};

use tokio::sync::watch;
use tracing::{info, warn};

pub use ack::{AckInputs, choose_ack};
pub use error::{PgError, format_lsn, parse_lsn};

use crate::config::{ConnectorConfig, PostgresOptions, SnapshotMode};
use crate::event::SourceKind;
use crate::offsets::{PgPosition, Position};
use crate::source::{BatchSender, ReaderObserver, Source};

/// Startup options pinning the text formats `types` parses.
const SESSION_OPTIONS: &str = "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres \
     -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C";

/// Replication messages (one per row change) buffered ahead of the reader.
const REPLICATION_READ_AHEAD: usize = 32;

/// Whether to snapshot before streaming, given the mode and the committed position.
fn needs_snapshot(mode: SnapshotMode, resume: Option<&PgPosition>) -> bool {
    crate::source::needs_snapshot(mode, resume.map(|p| p.snapshot.as_ref()))
}

/// The PostgreSQL reader of one connector.
pub struct PgSource<'a> {
    pub config: &'a ConnectorConfig,
    pub options: &'a PostgresOptions,
}

impl Source for PgSource<'_> {
    const KIND: SourceKind = SourceKind::Postgres;
    type Position = PgPosition;
    type Error = PgError;

    fn max_queue_bytes(&self) -> u64 {
        self.config.max_queue_size_in_bytes
    }

    fn session<'s>(
        &'s self,
        from: Option<PgPosition>,
        out: &'s mut BatchSender,
        committed: watch::Receiver<Option<Position>>,
        observer: &'s dyn ReaderObserver,
    ) -> impl Future<Output = Result<(), PgError>> + Send + 's {
        run(self.config, self.options, from, out, committed, observer)
    }
}

/// One session: reads the connector's database until an error or until the emitter side goes
/// away. `resume` is where to continue; `committed` carries positions the emitter commits.
async fn run(
    config: &ConnectorConfig,
    pg: &PostgresOptions,
    mut resume: Option<PgPosition>,
    out: &mut BatchSender,
    committed: watch::Receiver<Option<Position>>,
    observer: &dyn ReaderObserver,
) -> Result<(), PgError> {
    let db = &pg.database;
    let dbname = pg.dbname.clone();

    let sql = setup::connect(db, &pg.tls, &dbname).await?;
    setup::check_prerequisites(&sql).await?;
    let version = setup::server_version(&sql).await?;
    setup::ensure_publication(
        &sql,
        &pg.publication_name,
        pg.publication_autocreate_mode,
        &config.filters,
    )
    .await?;

    let mut slot = setup::slot_info(&sql, &pg.slot_name).await?;
    if let Some(s) = &slot
        && s.plugin != "pgoutput"
    {
        return Err(PgError::WrongSlotPlugin {
            slot: pg.slot_name.clone(),
            plugin: s.plugin.clone(),
        });
    }
    // Without its slot (dropped, or invalidated for falling behind) the changes after the
    // committed offset are gone: only a mode that allows a new snapshot may go on; streaming
    // from a new slot's "now" would lose them silently.
    let may_resnapshot = matches!(
        config.snapshot_mode,
        SnapshotMode::WhenNeeded | SnapshotMode::Always
    );
    if let Some(reason) = slot.as_ref().and_then(|s| s.invalidated.clone()) {
        if !may_resnapshot {
            return Err(PgError::SlotInvalidated {
                slot: pg.slot_name.clone(),
                reason,
            });
        }
        warn!(slot = %pg.slot_name, %reason, "slot was invalidated; dropping it and taking a new snapshot");
        setup::drop_slot(&sql, &pg.slot_name).await?;
        slot = None;
        resume = None;
    }
    if slot.is_none() && resume.is_some() {
        if !may_resnapshot {
            return Err(PgError::SlotMissing {
                slot: pg.slot_name.clone(),
            });
        }
        warn!(slot = %pg.slot_name, "slot is gone; taking a new snapshot");
        resume = None;
    }

    // A slot nothing was ever committed from, with a snapshot to take from scratch: an
    // earlier run created it and failed before its first commit. Recreate it, so the snapshot
    // is the one the new slot exports: a snapshot taken beside the old slot would deliver each
    // change committed between the two twice, as a read and as a create.
    let slot = match slot {
        Some(_) if resume.is_none() && needs_snapshot(config.snapshot_mode, None) => {
            info!(slot = %pg.slot_name, "nothing was committed from the existing slot: recreating it for the snapshot");
            setup::drop_slot(&sql, &pg.slot_name).await?;
            None
        }
        slot => slot,
    };

    let repl_config = ReplicationConfig::new(
        db.hostname.clone(),
        db.user.clone(),
        db.password.expose().to_owned(),
        dbname.clone(),
        pg.slot_name.clone(),
        pg.publication_name.as_str(),
    )
    .with_port(db.port)
    .with_options(SESSION_OPTIONS)
    .with_application_name(format!("siphon-{}", config.name))
    .with_start_lsn(Lsn(resume.as_ref().map_or(0, |p| p.commit_lsn)))
    // `resume` can be handed over but not committed (a reconnect): report only what the
    // emitter committed as flushed, or the server would never resend the rest.
    .with_ack_lsn(Lsn(committed_commit_lsn(&committed)))
    .with_status_interval(std::time::Duration::from_secs(1))
    // Messages read ahead of the reader. The crate's default (8192) could hold gigabytes of
    // big rows while the reader waits on max.queue.size.in.bytes; a few dozen keep the
    // socket busy without that.
    .with_buffer_size(REPLICATION_READ_AHEAD);

    let snapshot_needed = needs_snapshot(config.snapshot_mode, resume.as_ref());
    // A new slot is created on a gated replication session, which keeps the exported
    // snapshot alive until the snapshot transaction has imported it.
    let mut gated = None;
    let mut exported = None;
    let stream_point;
    if slot.is_none() {
        setup::check_slot_capacity(&sql).await?;
        let mut session = replication_client(pg, repl_config.clone(), true).await?;
        let (consistent_point, snapshot_name) =
            create_slot(&mut session, &pg.slot_name, snapshot_needed, version).await?;
        info!(slot = %pg.slot_name, consistent_point = %format_lsn(consistent_point), "created replication slot");
        exported = snapshot_name;
        stream_point = consistent_point.saturating_sub(1);
        gated = Some(session);
    } else {
        let flushed = slot.and_then(|s| s.confirmed_flush_lsn).unwrap_or(0);
        stream_point = flushed.saturating_sub(1);
        if snapshot_needed && resume.as_ref().is_none_or(|p| p.snapshot.is_none()) {
            warn!(slot = %pg.slot_name, "snapshot on an existing slot: changes committed while it runs may be delivered twice");
        }
    }

    observer.started();

    if snapshot_needed {
        let snap_sql = setup::connect(db, &pg.tls, &dbname).await?;
        snapshot::begin(&snap_sql, exported.as_deref()).await?;
        let tables = setup::published_tables(&sql, &pg.publication_name, &config.filters).await?;
        let progress = resume.as_ref().and_then(|p| p.snapshot.clone());
        let point = resume.as_ref().map_or(stream_point, |p| p.commit_lsn);
        let done = snapshot::run(&snap_sql, config, &dbname, &tables, progress, point, out).await?;
        info!(tables = tables.len(), "snapshot done");
        resume = Some(done);
        if config.snapshot_mode == SnapshotMode::InitialOnly {
            return Ok(());
        }
    }

    let started = async {
        let mut client = match gated {
            Some(mut session) => {
                session.start().await?;
                session
            }
            None => replication_client(pg, repl_config, false).await?,
        };
        client.wait_started().await?;
        Ok::<_, PgError>(client)
    };
    let mut client = match started.await {
        Ok(client) => client,
        Err(e) => return Err(explain_start_error(&sql, &pg.slot_name, e).await),
    };
    info!(slot = %pg.slot_name, "streaming");
    observer.streaming();
    let mut streamer = stream::Streamer::new(config, dbname, &sql, resume, out, committed);
    let result = streamer.run(&mut client).await;
    client.stop();
    result
}

/// The replication connection. With TLS, `transport::open` negotiates it as it does the SQL
/// connections and `relay` hands the stream to pgwire-replication (see there why); with
/// `disable`, pgwire-replication connects itself, in plaintext.
async fn replication_client(
    pg: &PostgresOptions,
    mut config: ReplicationConfig,
    gated: bool,
) -> Result<ReplicationClient, PgError> {
    if pg.tls.client_tls().is_some() {
        let opened = transport::open(&pg.database, &pg.tls).await?;
        config.host = relay::serve(opened.stream, pg.database.port).await?;
    }
    Ok(if gated {
        ReplicationClient::connect_gated(config).await?
    } else {
        ReplicationClient::connect(config).await?
    })
}

/// Commit LSN of the emitter's newest committed position; 0 (confirms nothing) if none.
pub(super) fn committed_commit_lsn(committed: &watch::Receiver<Option<Position>>) -> u64 {
    match &*committed.borrow() {
        Some(Position::Postgres(p)) => p.commit_lsn,
        _ => 0,
    }
}

/// START_REPLICATION refused with 55000 (object not in prerequisite state: invalidated) or
/// 42704 (undefined object: dropped) once the slot was checked: say which, with the fix.
async fn explain_start_error(sql: &tokio_postgres::Client, slot: &str, e: PgError) -> PgError {
    if !matches!(e.wire_sqlstate(), Some("55000" | "42704")) {
        return e;
    }
    match setup::slot_info(sql, slot).await {
        Ok(None) => PgError::SlotMissing { slot: slot.into() },
        Ok(Some(info)) => match info.invalidated {
            Some(reason) => PgError::SlotInvalidated {
                slot: slot.into(),
                reason,
            },
            None => e,
        },
        Err(_) => e,
    }
}

/// Creates the slot, exporting its snapshot or not: the consistent point and the exported
/// snapshot's name.
async fn create_slot(
    session: &mut ReplicationClient,
    slot: &str,
    export: bool,
    version: version::ServerVersion,
) -> Result<(u64, Option<String>), PgError> {
    let rows = session
        .simple_query(&version::create_slot_command(slot, export, version))
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| PgError::Protocol("CREATE_REPLICATION_SLOT returned no row".into()))?;
    let text = |i: usize| {
        row.get(i)
            .and_then(|v| v.as_ref())
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let consistent_point = text(1).as_deref().and_then(parse_lsn).ok_or_else(|| {
        PgError::Protocol("CREATE_REPLICATION_SLOT returned no consistent point".into())
    })?;
    Ok((consistent_point, text(2).filter(|_| export)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_decision_follows_the_mode() {
        let done = PgPosition::after_commit(5);
        let mut midway = done.clone();
        midway.snapshot = Some(Default::default());
        use SnapshotMode::*;
        assert!(needs_snapshot(Initial, None));
        assert!(!needs_snapshot(Initial, Some(&done)));
        assert!(needs_snapshot(Initial, Some(&midway)));
        assert!(needs_snapshot(Always, Some(&done)));
        assert!(!needs_snapshot(Never, None));
        assert!(!needs_snapshot(NoData, None));
        assert!(needs_snapshot(InitialOnly, None));
    }
}
