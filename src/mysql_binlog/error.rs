//! MySQL/MariaDB reader errors, each classified transient (retry with backoff) or definite
//! (the connector fails with the message as its trace).

use super::table_map::TableMapError;
use super::value::ValueError;

#[derive(Debug, thiserror::Error)]
pub enum MySqlError {
    #[error("cannot connect to MySQL at {addr}: {source}")]
    Connect {
        addr: String,
        source: mysql_async::Error,
    },
    #[error("MySQL {context} failed: {source}")]
    Query {
        context: &'static str,
        source: mysql_async::Error,
    },
    #[error("the server is not set up for row-based change capture: {}", .0.join("; "))]
    Settings(Vec<String>),
    #[error(
        "the binlog position the connector must resume from ({0}) has been purged from the server, so changes since the committed offset are lost: set snapshot.mode=when_needed to take a new snapshot, or reset the connector's offsets"
    )]
    BinlogPurged(String),
    #[error("binlog stream: {0}")]
    Stream(mysql_async::Error),
    #[error("cannot decode binlog event at {at}: {reason}")]
    Decode { at: String, reason: String },
    #[error(transparent)]
    TableMap(#[from] TableMapError),
    #[error("{table}.{column}: {source}")]
    Value {
        table: String,
        column: String,
        source: ValueError,
    },
    #[error("{table}.{column}: type `{source_type}` is not supported")]
    Type {
        table: String,
        column: String,
        source_type: String,
    },
    #[error("{0}")]
    Protocol(String),
    #[error("the emitter stopped")]
    DownstreamClosed,
}

/// MySQL's "fatal error reading binlog" (1236): the requested file, position or GTID is gone.
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

impl MySqlError {
    /// Lost connections, server restarts and lock waits are transient; settings, privileges,
    /// types, purged binlogs and protocol violations are definite.
    pub fn is_transient(&self) -> bool {
        match self {
            MySqlError::Connect { source, .. }
            | MySqlError::Query { source, .. }
            | MySqlError::Stream(source) => is_transient_driver(source),
            MySqlError::DownstreamClosed => true,
            _ => false,
        }
    }

    /// Turns the server's 1236 on a binlog request into [`MySqlError::BinlogPurged`].
    pub fn from_stream(source: mysql_async::Error, from: &str) -> MySqlError {
        match &source {
            mysql_async::Error::Server(e) if e.code == ER_MASTER_FATAL_ERROR_READING_BINLOG => {
                MySqlError::BinlogPurged(format!("{from}: {}", e.message))
            }
            _ => MySqlError::Stream(source),
        }
    }
}

impl crate::source::SourceError for MySqlError {
    fn is_transient(&self) -> bool {
        MySqlError::is_transient(self)
    }
    fn is_downstream_closed(&self) -> bool {
        matches!(self, MySqlError::DownstreamClosed)
    }
    fn downstream_closed() -> Self {
        MySqlError::DownstreamClosed
    }
    fn definite(message: String) -> Self {
        MySqlError::Protocol(message)
    }
}

fn is_transient_driver(e: &mysql_async::Error) -> bool {
    use mysql_async::Error as E;
    match e {
        E::Io(_) => true,
        E::Driver(d) => matches!(
            d,
            mysql_async::DriverError::ConnectionClosed
                | mysql_async::DriverError::PoolDisconnected
                | mysql_async::DriverError::UnexpectedPacket { .. }
        ),
        // Server shutdown (1053), too many connections (1040), lock wait timeout (1205),
        // deadlock (1213), server gone or lost (2006, 2013), query interrupted (1317).
        E::Server(s) => matches!(s.code, 1040 | 1053 | 1205 | 1213 | 1317 | 2006 | 2013),
        _ => false,
    }
}
