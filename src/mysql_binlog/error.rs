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
    #[error("TLS with the MySQL server at {addr} failed (database.ssl.mode={mode}): {detail}")]
    Tls {
        addr: String,
        mode: &'static str,
        detail: String,
    },
    #[error(
        "the MySQL server at {addr} refuses connections without TLS ({message}), and database.ssl.mode is {mode}: set database.ssl.mode=verify_identity (or required, verify_ca)"
    )]
    PlaintextRefused {
        addr: String,
        mode: &'static str,
        message: String,
    },
    #[error("the MySQL server at {addr} refused the login ({message}): {hint}")]
    AccessDenied {
        addr: String,
        message: String,
        hint: String,
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
    #[error(
        "the server does not have the binlog position the connector must resume from ({0}): its binlog ends before it (the server lost the end of its binlog in a crash with sync_binlog != 1, was restored from a backup, or is a different server than before), so the changes after the server's end may never come: check the server, then reset the connector's offsets to take a new snapshot (snapshot.mode=when_needed does it when the committed file is too short)"
    )]
    BinlogTailLost(String),
    #[error(
        "another replica registered with this connector's database.server.id {server_id}, and the server disconnected this one ({message}): give every connector and replica of the server its own database.server.id"
    )]
    DuplicateServerId { server_id: u32, message: String },
    #[error(
        "the snapshot could not take FLUSH TABLES WITH READ LOCK within snapshot.lock.timeout.ms={timeout_ms}: {blockers}; writes waited at most that long and go on; the snapshot is retried: raise snapshot.lock.timeout.ms, end the blocking session, or set snapshot.locking.mode=none"
    )]
    SnapshotLockTimeout { timeout_ms: u128, blockers: String },
    #[error(
        "{table} was changed by a statement logged in binlog_format=STATEMENT (or MIXED) at {at}, whose rows the binlog does not carry: `{statement}`; make every session writing to captured tables use binlog_format=ROW (the session that ran it set it: SET SESSION binlog_format changes only that session), then reset the connector's offsets to take a new snapshot"
    )]
    StatementDml {
        table: String,
        at: String,
        statement: String,
    },
    #[error(
        "`{table}`: the binlog row image at {at} lacks column(s) {columns} (a session wrote it with binlog_row_image=MINIMAL), so the new row cannot be told: make every session writing to captured tables use binlog_row_image=FULL, then reset the connector's offsets to take a new snapshot"
    )]
    IncompleteRowImage {
        table: String,
        at: String,
        columns: String,
    },
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
    #[error(
        "{table}.{column}: type `{source_type}` is not supported: leave the column out with column.exclude.list, or set include.unknown.datatypes=true to get its raw bytes"
    )]
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

/// MySQL's "fatal error reading binlog" (1236): the requested file, position or GTID is
/// gone, or the server dropped this replica for another one.
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
/// MariaDB's own code for "a slave with the same server_uuid/server_id is already connected".
const ER_SLAVE_SAME_ID: u16 = 4052;

/// What a 1236 means, told apart by the server's message (MySQL and MariaDB spell them
/// differently; MySQL 8.0.26+ says "source"/"replica" where older ones say "master"/"slave").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatalBinlogError {
    /// The requested file or GTIDs were purged.
    Purged,
    /// The server's binlog ends before the requested position or GTIDs.
    TailLost,
    /// Another replica registered with the same server id.
    DuplicateServerId,
    Other,
}

/// Classifies a 1236 message.
pub fn classify_1236(message: &str) -> FatalBinlogError {
    let m = message.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if any(&["same server_uuid/server_id"]) {
        FatalBinlogError::DuplicateServerId
    } else if any(&[
        "position > file size",
        "impossible position",
        "binlog truncated",
        "more gtids than the",
        "which is not in the master's binlog",
        "missing the gtid",
    ]) {
        FatalBinlogError::TailLost
    } else if any(&[
        "could not find first log file name",
        "purged",
        "could not find gtid state",
    ]) {
        FatalBinlogError::Purged
    } else {
        FatalBinlogError::Other
    }
}

impl MySqlError {
    /// Lost connections, server restarts and lock waits are transient; settings, privileges,
    /// types, purged or lost binlogs and protocol violations are definite. A duplicate server
    /// id is definite: reconnecting would in turn disconnect the other replica, and the two
    /// would take turns forever. A snapshot lock timeout is transient: the blocking query or
    /// LOCK TABLES usually ends.
    pub fn is_transient(&self) -> bool {
        match self {
            MySqlError::SnapshotLockTimeout { .. } => true,
            MySqlError::Connect { source, .. }
            | MySqlError::Query { source, .. }
            | MySqlError::Stream(source) => is_transient_driver(source),
            MySqlError::DownstreamClosed => true,
            _ => false,
        }
    }

    /// Turns the server's 1236 (or MariaDB's 4052) on the binlog stream of replica
    /// `server_id` into the error of its cause.
    pub fn from_stream(source: mysql_async::Error, from: &str, server_id: u32) -> MySqlError {
        match &source {
            mysql_async::Error::Server(e) if e.code == ER_SLAVE_SAME_ID => {
                MySqlError::DuplicateServerId {
                    server_id,
                    message: e.message.clone(),
                }
            }
            mysql_async::Error::Server(e) if e.code == ER_MASTER_FATAL_ERROR_READING_BINLOG => {
                let at = format!("{from}: {}", e.message);
                match classify_1236(&e.message) {
                    FatalBinlogError::Purged => MySqlError::BinlogPurged(at),
                    FatalBinlogError::TailLost => MySqlError::BinlogTailLost(at),
                    FatalBinlogError::DuplicateServerId => MySqlError::DuplicateServerId {
                        server_id,
                        message: e.message.clone(),
                    },
                    FatalBinlogError::Other => MySqlError::Stream(source),
                }
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
        // deadlock (1213), server gone or lost (2006, 2013), query interrupted (1317), a
        // table altered or truncated under the snapshot transaction (1412, "please retry").
        E::Server(s) => matches!(
            s.code,
            1040 | 1053 | 1205 | 1213 | 1317 | 1412 | 2006 | 2013
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_binlog_errors_are_told_apart() {
        use FatalBinlogError::*;
        for (message, kind) in [
            // MariaDB 10.11, as the harness's server says them.
            (
                "A slave with the same server_uuid/server_id is already connected; the first event 'binlog.000003' at 4, the last event read from 'binlog.000003' at 299, the last byte read from 'binlog.000003' at 339.",
                DuplicateServerId,
            ),
            (
                "Client requested master to start replication from impossible position; the first event 'binlog.000003' at 100000, the last event read from 'binlog.000003' at 4, the last byte read from 'binlog.000003' at 4.",
                TailLost,
            ),
            (
                "Could not find first log file name in binary log index file",
                Purged,
            ),
            (
                "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.",
                Purged,
            ),
            (
                "Error: connecting slave requested to start from GTID 0-1-999, which is not in the master's binlog",
                TailLost,
            ),
            // MySQL 8.
            (
                "A replica with the same server_uuid/server_id as this replica has connected to the source; the first event '' at 4",
                DuplicateServerId,
            ),
            (
                "Client requested source to start replication from position > file size",
                TailLost,
            ),
            (
                "binlog truncated in the middle of event; consider out of disk space on master",
                TailLost,
            ),
            (
                "Cannot replicate because the source purged required binary logs.",
                Purged,
            ),
            (
                "Replica has more GTIDs than the source has, using the source's SERVER_UUID.",
                TailLost,
            ),
            ("log event entry exceeded max_allowed_packet", Other),
        ] {
            assert_eq!(classify_1236(message), kind, "{message}");
        }
    }

    #[test]
    fn duplicate_server_id_is_definite_and_a_lock_timeout_transient() {
        let dup = MySqlError::DuplicateServerId {
            server_id: 7,
            message: "x".into(),
        };
        assert!(!dup.is_transient());
        assert!(dup.to_string().contains("database.server.id 7"), "{dup}");
        let lock = MySqlError::SnapshotLockTimeout {
            timeout_ms: 2000,
            blockers: "y".into(),
        };
        assert!(lock.is_transient());
        assert!(!MySqlError::BinlogTailLost("f:9".into()).is_transient());
    }

    #[test]
    fn a_table_changed_under_the_snapshot_is_retried() {
        let server = |code| MySqlError::Query {
            context: "snapshot table check",
            source: mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: "Table definition has changed, please retry transaction".into(),
                state: "HY000".into(),
            }),
        };
        assert!(server(1412).is_transient());
        assert!(!server(1146).is_transient());
    }
}
