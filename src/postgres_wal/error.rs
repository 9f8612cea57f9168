//! PostgreSQL reader errors, each classified transient (retry with backoff) or definite (the
//! connector fails with the message as its trace).

use super::pgoutput::DecodeError;
use super::sqlstate;
use super::types::{TypeError, ValueError};

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot connect to PostgreSQL at {addr}: {}", describe(.source))]
    Connect {
        addr: String,
        source: tokio_postgres::Error,
    },
    #[error(
        "PostgreSQL at {addr} refused the unencrypted connection: {}. The connection was plaintext \
         (database.sslmode={mode}); a server that accepts only TLS (hostssl in pg_hba.conf) needs \
         database.sslmode=require, verify-ca or verify-full",
        describe(.source)
    )]
    PlaintextRefused {
        addr: String,
        mode: &'static str,
        source: tokio_postgres::Error,
    },
    #[error(
        "PostgreSQL at {addr} refused the login over TLS: {}. No client certificate was sent: if \
         pg_hba.conf has `cert` authentication for this user, set database.sslcert and database.sslkey",
        describe(.source)
    )]
    NoClientCert {
        addr: String,
        source: tokio_postgres::Error,
    },
    #[error("cannot connect to PostgreSQL at {addr}: {source}")]
    Io {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "TLS set-up for PostgreSQL at {addr} failed: {detail} (database.sslrootcert, database.sslcert, database.sslkey, database.sslpassword)"
    )]
    TlsConfig { addr: String, detail: String },
    #[error(
        "PostgreSQL at {addr} does not accept TLS (it answered the SSL request with no), and database.sslmode={mode} requires it: \
         enable ssl on the server, or set database.sslmode=prefer to allow plaintext"
    )]
    TlsRefused { addr: String, mode: &'static str },
    #[error("TLS handshake with PostgreSQL at {addr} failed: {detail}: {hint}")]
    TlsHandshake {
        addr: String,
        detail: String,
        hint: String,
    },
    #[error("cannot hand the replication connection over a local socket in `{}`: {source}", dir.display())]
    Relay {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("PostgreSQL {context} failed: {}", describe(.source))]
    Query {
        context: &'static str,
        source: tokio_postgres::Error,
    },
    #[error(
        "wal_level is `{0}`, but logical replication needs `logical`: set wal_level = logical in postgresql.conf and restart PostgreSQL"
    )]
    WalLevel(String),
    #[error(
        "user `{user}` lacks the REPLICATION privilege needed for logical replication: run ALTER ROLE \"{user}\" WITH REPLICATION (on RDS: GRANT rds_replication TO \"{user}\")"
    )]
    NoReplicationPrivilege { user: String },
    #[error(
        "all {max} replication slots are in use (max_replication_slots = {max}): drop an unused slot (pg_drop_replication_slot) or raise max_replication_slots"
    )]
    SlotsExhausted { max: i64 },
    #[error(
        "replication slot `{slot}` uses plugin `{plugin}`, not pgoutput: drop it or choose another slot.name"
    )]
    WrongSlotPlugin { slot: String, plugin: String },
    #[error(
        "publication `{0}` does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION ... FOR TABLE ...) or change the mode"
    )]
    MissingPublication(String),
    #[error(
        "replication slot `{slot}` no longer exists, so changes since the committed offset are lost: \
         set snapshot.mode=when_needed to take a new snapshot, or reset the connector's offsets"
    )]
    SlotMissing { slot: String },
    #[error(
        "replication slot `{slot}` was invalidated by the server ({reason}): the WAL it needed is gone, \
         so changes since the committed offset are lost. Drop it (SELECT pg_drop_replication_slot('{slot}')) \
         and set snapshot.mode=when_needed to take a new snapshot (or reset the connector's offsets); \
         raise max_slot_wal_keep_size (or -1) so a lagging connector keeps its WAL"
    )]
    SlotInvalidated { slot: String, reason: String },
    #[error("replication stream: {}", describe_wire(.0))]
    Replication(#[from] pgwire_replication::PgWireError),
    #[error("cannot decode pgoutput message at LSN {lsn}: {source}")]
    Decode { lsn: String, source: DecodeError },
    #[error(
        "{table}.{column}: {source}: leave the column out with column.exclude.list, or set \
         include.unknown.datatypes=true to get the bytes of its text"
    )]
    Type {
        table: String,
        column: String,
        source: TypeError,
    },
    #[error("{table}.{column}: {source}")]
    Value {
        table: String,
        column: String,
        source: ValueError,
    },
    #[error("replication protocol: {0}")]
    Protocol(String),
    #[error("{0}")]
    UnsupportedVersion(String),
    #[error("the emitter stopped")]
    DownstreamClosed,
}

impl PgError {
    /// Network failures, server restarts and overload are transient; configuration,
    /// privileges, types and protocol violations are definite. Server errors are told apart
    /// by SQLSTATE (`sqlstate::is_transient`).
    pub fn is_transient(&self) -> bool {
        match self {
            PgError::Connect { source, .. } | PgError::Query { source, .. } => {
                is_transient_sql(source)
            }
            PgError::Replication(e) => is_transient_wire(e),
            // The TCP connection could not be made or broke: the server may come back.
            PgError::Io { .. } => true,
            PgError::DownstreamClosed => true,
            _ => false,
        }
    }

    /// The SQLSTATE of a server error on the replication connection.
    pub fn wire_sqlstate(&self) -> Option<&str> {
        match self {
            PgError::Replication(pgwire_replication::PgWireError::Server(m)) => {
                sqlstate::of_wire_text(m)
            }
            _ => None,
        }
    }
}

impl crate::source::SourceError for PgError {
    fn is_transient(&self) -> bool {
        PgError::is_transient(self)
    }
    fn is_downstream_closed(&self) -> bool {
        matches!(self, PgError::DownstreamClosed)
    }
    fn downstream_closed() -> Self {
        PgError::DownstreamClosed
    }
    fn definite(message: String) -> Self {
        PgError::Protocol(message)
    }
}

/// A server error is transient by its SQLSTATE; without one, a broken or closed connection
/// (an I/O error underneath) is, while bad configuration, authentication set-up and protocol
/// surprises are not.
pub(crate) fn is_transient_sql(e: &tokio_postgres::Error) -> bool {
    if let Some(db) = e.as_db_error() {
        return sqlstate::is_transient(db.code().code());
    }
    e.is_closed() || has_io_source(e)
}

fn has_io_source(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = e.source();
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            // A TLS alert after the handshake (a refused client certificate, in TLS 1.3)
            // arrives as an I/O error too, but does not clear up on its own.
            return super::transport::rustls_cause(io).is_none();
        }
        next = cause.source();
    }
    false
}

fn is_transient_wire(e: &pgwire_replication::PgWireError) -> bool {
    use pgwire_replication::PgWireError as W;
    match e {
        W::Io(_) | W::Task(_) => true,
        W::Server(m) => sqlstate::of_wire_text(m).is_some_and(sqlstate::is_transient),
        _ => false,
    }
}

/// tokio-postgres shows only its error kind ("db error"): show the server's message, detail,
/// hint and SQLSTATE, or the cause, and the advice the SQLSTATE calls for.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let mut text = format!("{db} (SQLSTATE {code})");
            if let Some(advice) = sqlstate::advice(code) {
                text.push_str(": ");
                text.push_str(advice);
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn describe_wire(e: &pgwire_replication::PgWireError) -> String {
    let advice = match e {
        pgwire_replication::PgWireError::Server(m) => {
            sqlstate::of_wire_text(m).and_then(sqlstate::advice)
        }
        _ => None,
    };
    match advice {
        Some(a) => format!("{e}: {a}"),
        None => e.to_string(),
    }
}

/// Formats an LSN as PostgreSQL does (`16/B374D848`).
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// Parses PostgreSQL's `X/Y` LSN text.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    (hi <= 0xFFFF_FFFF && lo <= 0xFFFF_FFFF).then_some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgwire_replication::PgWireError as W;

    #[test]
    fn replication_errors_are_classified_by_sqlstate() {
        let server = |m: &str| PgError::Replication(W::Server(m.to_owned()));
        // PostgreSQL 15's START_REPLICATION on a slot max_slot_wal_keep_size invalidated.
        let lost = server("can no longer get changes from replication slot \"s\" (SQLSTATE 55000)");
        assert!(!lost.is_transient());
        assert_eq!(lost.wire_sqlstate(), Some("55000"));
        assert!(!server("replication slot \"s\" does not exist (SQLSTATE 42704)").is_transient());
        assert!(
            server("terminating connection due to administrator command (SQLSTATE 57P01)")
                .is_transient()
        );
        assert!(
            server("replication slot \"s\" is active for PID 7 (SQLSTATE 55006)").is_transient()
        );
        // The old substring test took "08" inside an LSN for a connection error.
        assert!(!server("invalid record at 0/1508A0 (SQLSTATE XX000)").is_transient());
        assert!(!server("no code at 0/0853").is_transient());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(PgError::Replication(W::from(io)).is_transient());
        assert!(!PgError::Replication(W::Auth("bad".into())).is_transient());
        assert!(!PgError::SlotMissing { slot: "s".into() }.is_transient());
    }

    #[test]
    fn slot_errors_name_the_slot_and_the_fix() {
        let text = PgError::SlotInvalidated {
            slot: "s1".into(),
            reason: "wal_status = lost".into(),
        }
        .to_string();
        for part in [
            "`s1`",
            "pg_drop_replication_slot('s1')",
            "snapshot.mode=when_needed",
            "max_slot_wal_keep_size",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let text = PgError::SlotMissing { slot: "s2".into() }.to_string();
        assert!(
            text.contains("`s2`") && text.contains("snapshot.mode=when_needed"),
            "{text}"
        );
        let wire = PgError::Replication(W::Server(
            "password authentication failed for user \"u\" (SQLSTATE 28P01)".into(),
        ));
        assert!(wire.to_string().contains("database.password"), "{wire}");
    }

    #[test]
    fn lsn_text_round_trips() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(format_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("0/0"), Some(0));
        for bad in ["", "1", "x/1", "1/ffffffffff"] {
            assert_eq!(parse_lsn(bad), None, "{bad}");
        }
    }
}
