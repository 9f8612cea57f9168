//! PostgreSQL reader errors, each classified transient (retry with backoff) or definite (the
//! connector fails with the message as its trace).

use super::pgoutput::DecodeError;
use super::types::{TypeError, ValueError};

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot connect to PostgreSQL at {addr}: {source}")]
    Connect {
        addr: String,
        source: tokio_postgres::Error,
    },
    #[error("PostgreSQL {context} failed: {source}")]
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
    #[error("replication stream: {0}")]
    Replication(#[from] pgwire_replication::PgWireError),
    #[error("cannot decode pgoutput message at LSN {lsn}: {source}")]
    Decode { lsn: String, source: DecodeError },
    #[error("{table}.{column}: {source}")]
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
    #[error("the emitter stopped")]
    DownstreamClosed,
}

impl PgError {
    /// Network failures, server restarts and overload are transient; configuration,
    /// privileges, types and protocol violations are definite.
    pub fn is_transient(&self) -> bool {
        match self {
            PgError::Connect { source, .. } | PgError::Query { source, .. } => {
                is_transient_sql(source)
            }
            PgError::Replication(e) => {
                use pgwire_replication::PgWireError as W;
                match e {
                    W::Io(_) | W::Task(_) => true,
                    // Shutdown, cannot-connect-now, connection and resource errors, and a
                    // slot still held by a dying walsender (55006) clear up on their own.
                    W::Server(m) => ["57P0", "08", "53", "55006"].iter().any(|c| m.contains(c)),
                    _ => false,
                }
            }
            PgError::DownstreamClosed => true,
            _ => false,
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

/// SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown,
/// cannot connect now) and 40 (serialization) are worth retrying, and 55006 (a slot still
/// held by a walsender that is going away); an I/O error without a SQLSTATE is too.
pub(crate) fn is_transient_sql(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => {
            let c = code.code();
            c == "55006" || ["08", "53", "57", "40"].iter().any(|p| c.starts_with(p))
        }
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
