//! Server checks and the slot and publication Siphon streams from.

use tokio_postgres::{Client, NoTls};
use tracing::{info, warn};

use super::error::{PgError, parse_lsn};
use super::transport;
use super::version::ServerVersion;
use crate::config::{DatabaseConfig, Filters, PgTls, PublicationAutocreateMode};
use crate::event::TableId;

/// Opens the SQL connection (catalog queries, snapshot reads) on a stream from
/// `transport::open` (TLS as `database.sslmode` says) and drives it in the background.
pub async fn connect(db: &DatabaseConfig, tls: &PgTls, dbname: &str) -> Result<Client, PgError> {
    let opened = transport::open(db, tls).await?;
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&db.hostname)
        .port(db.port)
        .user(&db.user)
        .dbname(dbname)
        .application_name("siphon")
        // The stream is already negotiated: tokio-postgres sends no SSL request of its own.
        .ssl_mode(tokio_postgres::config::SslMode::Disable)
        // Pin the text formats the type parser reads.
        .options(super::SESSION_OPTIONS);
    if !db.password.expose().is_empty() {
        cfg.password(db.password.expose());
    }
    let addr = transport::address(db);
    let (client, conn) = cfg
        .connect_raw(opened.stream, NoTls)
        .await
        .map_err(|source| connect_error(&addr, dbname, tls, opened.encrypted, source))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

/// Names TLS when it is the cause: a plaintext connection the server's pg_hba.conf refuses
/// (SQLSTATE 28000), or a TLS alert during start-up (a refused client certificate).
fn connect_error(
    addr: &str,
    dbname: &str,
    tls: &PgTls,
    encrypted: bool,
    source: tokio_postgres::Error,
) -> PgError {
    let code = source.as_db_error().map(|db| db.code().code().to_owned());
    if !encrypted && code.as_deref() == Some("28000") {
        return PgError::PlaintextRefused {
            addr: addr.to_owned(),
            mode: tls.mode_name(),
            source,
        };
    }
    if encrypted && tls.cert.is_none() && code.as_deref() == Some("28000") {
        return PgError::NoClientCert {
            addr: addr.to_owned(),
            source,
        };
    }
    let io = std::error::Error::source(&source).and_then(|c| c.downcast_ref::<std::io::Error>());
    if let Some(cause) = io.and_then(transport::rustls_cause) {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        return PgError::TlsHandshake {
            addr: addr.to_owned(),
            detail: cause.to_string(),
            hint: transport::hint(cause, host),
        };
    }
    PgError::Connect {
        addr: format!("{addr}/{dbname}"),
        source,
    }
}

fn q(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> PgError {
    move |source| PgError::Query { context, source }
}

/// wal_level must be logical and the user must have REPLICATION (or be superuser).
pub async fn check_prerequisites(client: &Client) -> Result<(), PgError> {
    let wal_level: String = client
        .query_one("SHOW wal_level", &[])
        .await
        .map_err(q("SHOW wal_level"))?
        .get(0);
    if wal_level != "logical" {
        return Err(PgError::WalLevel(wal_level));
    }
    let row = client
        .query_one(
            "SELECT current_user::text, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(q("role check"))?;
    if !row.get::<_, bool>(1) {
        return Err(PgError::NoReplicationPrivilege { user: row.get(0) });
    }
    Ok(())
}

/// The server's version, refused if it is too old to stream from.
pub async fn server_version(client: &Client) -> Result<ServerVersion, PgError> {
    let num: String = client
        .query_one("SHOW server_version_num", &[])
        .await
        .map_err(q("SHOW server_version_num"))?
        .get(0);
    let version = ServerVersion::parse(&num)
        .ok_or_else(|| PgError::Protocol(format!("server_version_num `{num}` is not a number")))?;
    match version.unsupported() {
        Some(reason) => Err(PgError::UnsupportedVersion(reason)),
        None => Ok(version),
    }
}

/// A slot as `pg_replication_slots` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub plugin: String,
    pub confirmed_flush_lsn: Option<u64>,
    /// Why the server invalidated the slot, if it did: it can never stream again.
    pub invalidated: Option<String>,
}

pub async fn slot_info(client: &Client, slot: &str) -> Result<Option<SlotInfo>, PgError> {
    // Through to_jsonb, so the columns newer servers add (wal_status in 13,
    // invalidation_reason in 17) are read where they exist and NULL elsewhere.
    let row = client
        .query_opt(
            "SELECT coalesce(plugin::text, ''), confirmed_flush_lsn::text, \
                    to_jsonb(s) ->> 'wal_status', to_jsonb(s) ->> 'invalidation_reason' \
             FROM pg_replication_slots s WHERE slot_name = $1 AND database = current_database()",
            &[&slot],
        )
        .await
        .map_err(q("slot look-up"))?;
    Ok(row.map(|r| SlotInfo {
        plugin: r.get(0),
        confirmed_flush_lsn: r.get::<_, Option<String>>(1).as_deref().and_then(parse_lsn),
        invalidated: invalidation(r.get(2), r.get(3)),
    }))
}

/// A slot is invalidated when its WAL is gone (`wal_status = lost`, PostgreSQL 13+) or the
/// server names a reason (PostgreSQL 17+: wal_removed, rows_removed, idle_timeout, ...).
pub fn invalidation(wal_status: Option<String>, reason: Option<String>) -> Option<String> {
    match (wal_status.as_deref(), reason) {
        (_, Some(reason)) => Some(format!("invalidation_reason = {reason}")),
        (Some("lost"), None) => Some(
            "wal_status = lost: it fell further behind than max_slot_wal_keep_size allows".into(),
        ),
        _ => None,
    }
}

/// Drops an inactive slot (an invalidated one, or one nothing was committed from, before a
/// new snapshot). A walsender of an earlier run that is still going away holds it (55006):
/// transient, the next attempt finds it free.
pub async fn drop_slot(client: &Client, slot: &str) -> Result<(), PgError> {
    client
        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .map_err(q("dropping the replication slot"))?;
    Ok(())
}

/// Refuses early, with a clear message, when no slot can be created.
pub async fn check_slot_capacity(client: &Client) -> Result<(), PgError> {
    let row = client
        .query_one(
            "SELECT current_setting('max_replication_slots')::bigint, count(*) FROM pg_replication_slots",
            &[],
        )
        .await
        .map_err(q("slot count"))?;
    let (max, used): (i64, i64) = (row.get(0), row.get(1));
    if used >= max {
        return Err(PgError::SlotsExhausted { max });
    }
    Ok(())
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Captured tables that exist in the database, by the connector's filters.
pub async fn filtered_tables(client: &Client, filters: &Filters) -> Result<Vec<TableId>, PgError> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition \
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(q("table list"))?;
    Ok(rows
        .into_iter()
        .map(|r| TableId::new(r.get::<_, String>(0), r.get::<_, String>(1)))
        .filter(|t| filters.includes_table(t))
        .collect())
}

/// Creates the publication when missing, as Debezium's `publication.autocreate.mode` says;
/// in `filtered` mode an existing publication's table list is brought up to date.
pub async fn ensure_publication(
    client: &Client,
    name: &str,
    mode: PublicationAutocreateMode,
    filters: &Filters,
) -> Result<(), PgError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_publication WHERE pubname = $1", &[&name])
        .await
        .map_err(q("publication look-up"))?
        .is_some();
    let table_list = || async {
        let tables = filtered_tables(client, filters).await?;
        Ok::<_, PgError>(
            tables
                .iter()
                .map(|t| format!("{}.{}", quote_ident(&t.namespace), quote_ident(&t.name)))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let sql = match (exists, mode) {
        (true, PublicationAutocreateMode::Filtered) => {
            let list = table_list().await?;
            if list.is_empty() {
                return Ok(());
            }
            format!("ALTER PUBLICATION {} SET TABLE {list}", quote_ident(name))
        }
        (true, _) => return Ok(()),
        (false, PublicationAutocreateMode::Disabled) => {
            return Err(PgError::MissingPublication(name.to_owned()));
        }
        (false, PublicationAutocreateMode::AllTables) => {
            format!("CREATE PUBLICATION {} FOR ALL TABLES", quote_ident(name))
        }
        (false, PublicationAutocreateMode::NoTables) => {
            format!("CREATE PUBLICATION {}", quote_ident(name))
        }
        (false, PublicationAutocreateMode::Filtered) => {
            let list = table_list().await?;
            if list.is_empty() {
                format!("CREATE PUBLICATION {}", quote_ident(name))
            } else {
                format!("CREATE PUBLICATION {} FOR TABLE {list}", quote_ident(name))
            }
        }
    };
    info!(%sql, "updating publication");
    client
        .batch_execute(&sql)
        .await
        .map_err(q("publication set-up"))
}

/// Tables the publication publishes that the filters capture.
pub async fn published_tables(
    client: &Client,
    publication: &str,
    filters: &Filters,
) -> Result<Vec<TableId>, PgError> {
    let rows = client
        .query(
            "SELECT schemaname::text, tablename::text FROM pg_publication_tables \
             WHERE pubname = $1 ORDER BY 1, 2",
            &[&publication],
        )
        .await
        .map_err(q("publication tables"))?;
    Ok(rows
        .into_iter()
        .map(|r| TableId::new(r.get::<_, String>(0), r.get::<_, String>(1)))
        .filter(|t| filters.includes_table(t))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn invalidated_slots_are_recognised() {
        use super::invalidation;
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(invalidation(s("reserved"), None), None);
        assert_eq!(invalidation(s("extended"), None), None);
        assert_eq!(invalidation(None, None), None);
        assert!(
            invalidation(s("lost"), None)
                .unwrap()
                .contains("max_slot_wal_keep_size")
        );
        assert_eq!(
            invalidation(s("lost"), s("wal_removed")).as_deref(),
            Some("invalidation_reason = wal_removed")
        );
    }

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(super::quote_ident(r#"we"ird"#), r#""we""ird""#);
    }
}
