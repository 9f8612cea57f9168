//! MongoDB reader errors, each classified transient (reconnect and resume after the committed
//! token) or definite (the connector fails with the message and what to do as its trace).

use mongodb::error::{Error as DriverError, ErrorKind};

use super::change::ShapeError;

/// `ChangeStreamHistoryLost`: the resume point is no longer in the oplog.
pub const CHANGE_STREAM_HISTORY_LOST: i32 = 286;
/// `CappedPositionLost`: the oplog rolled over under the cursor.
const CAPPED_POSITION_LOST: i32 = 136;
/// `ChangeStreamFatalError`: the stream cannot resume from the token (e.g. it is not found).
const CHANGE_STREAM_FATAL: i32 = 280;
/// `BSONObjectTooLarge`: an event over 16 MB.
const BSON_OBJECT_TOO_LARGE: i32 = 10334;
/// `$changeStream` outside a replica set or sharded cluster.
const NOT_A_REPLICA_SET: i32 = 40573;

/// Server codes the drivers' change stream spec calls resumable, plus shutdowns and
/// elections: reconnecting helps.
const TRANSIENT_CODES: &[i32] = &[
    6, 7, 43, 63, 89, 91, 133, 150, 189, 234, 237, 262, 9001, 10107, 11600, 11602, 13388, 13435,
    13436,
];

#[derive(Debug, thiserror::Error)]
pub enum MongoError {
    #[error("MongoDB {context}: {source}")]
    Driver {
        context: &'static str,
        source: DriverError,
    },
    #[error(
        "the MongoDB server is not a replica set member or sharded cluster ({0}); change streams need one: start mongod with --replSet and run rs.initiate()"
    )]
    NotReplicaSet(String),
    #[error(
        "the resume token the connector must continue from is no longer in the oplog ({0}), so changes since the committed offset are lost: set snapshot.mode=when_needed to take a new snapshot, or reset the connector's offsets (and consider a larger oplog: replSetResizeOplog)"
    )]
    HistoryLost(String),
    #[error(
        "a change event in {namespace} is larger than MongoDB's 16 MB limit ({detail}): set cursor.oversize.handling.mode=split (MongoDB 6.0.9+) or skip with cursor.oversize.skip.threshold"
    )]
    Oversize { namespace: String, detail: String },
    #[error(
        "the change stream cannot continue from the committed position ({0}): if the resume token is no longer found or the capture settings changed, reset the connector's offsets (snapshot.mode=when_needed takes a new snapshot then)"
    )]
    CannotResume(String),
    #[error("the server closed the change stream: reopening it after the last position")]
    StreamClosed,
    /// With `snapshot.mode=when_needed`: the session starts again with a new snapshot.
    #[error(
        "the resume token is no longer in the oplog ({0}): taking a new snapshot (snapshot.mode=when_needed)"
    )]
    HistoryLostResnapshot(String),
    #[error(
        "the change stream was invalidated (the watched collection or database was dropped or renamed): reopening it after the invalidate event"
    )]
    Invalidated,
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error("{0}")]
    Protocol(String),
    #[error("the emitter stopped")]
    DownstreamClosed,
}

impl MongoError {
    /// Wraps a driver error, recognising the definite cases that have their own advice.
    pub fn driver(context: &'static str, source: DriverError) -> MongoError {
        if let ErrorKind::Command(c) = &*source.kind {
            match c.code {
                CHANGE_STREAM_HISTORY_LOST | CAPPED_POSITION_LOST => {
                    return MongoError::HistoryLost(format!("{}: {}", c.code_name, c.message));
                }
                CHANGE_STREAM_FATAL => return MongoError::CannotResume(c.message.clone()),
                NOT_A_REPLICA_SET => return MongoError::NotReplicaSet(c.message.clone()),
                BSON_OBJECT_TOO_LARGE => {
                    return MongoError::Oversize {
                        namespace: context.to_owned(),
                        detail: c.message.clone(),
                    };
                }
                _ => {}
            }
        }
        MongoError::Driver { context, source }
    }
}

/// Whether retrying a driver error can help.
pub fn is_transient_driver(e: &DriverError) -> bool {
    if e.contains_label(mongodb::error::RESUMABLE_CHANGE_STREAM_ERROR)
        || e.contains_label(mongodb::error::RETRYABLE_ERROR)
        || e.contains_label(mongodb::error::SYSTEM_OVERLOADED_ERROR)
    {
        return true;
    }
    match &*e.kind {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => true,
        ErrorKind::Command(c) => TRANSIENT_CODES.contains(&c.code),
        _ => false,
    }
}

impl crate::source::SourceError for MongoError {
    fn is_transient(&self) -> bool {
        match self {
            MongoError::Driver { source, .. } => is_transient_driver(source),
            MongoError::DownstreamClosed
            | MongoError::Invalidated
            | MongoError::StreamClosed
            | MongoError::HistoryLostResnapshot(_) => true,
            _ => false,
        }
    }
    fn is_downstream_closed(&self) -> bool {
        matches!(self, MongoError::DownstreamClosed)
    }
    fn downstream_closed() -> Self {
        MongoError::DownstreamClosed
    }
    fn definite(message: String) -> Self {
        MongoError::Protocol(message)
    }
    fn hint(&self) -> &'static str {
        match self {
            MongoError::Driver { source, .. } => match &*source.kind {
                ErrorKind::Authentication { .. } => {
                    "check mongodb.user, mongodb.password and mongodb.authsource (or the credentials in mongodb.connection.string), then restart the connector"
                }
                ErrorKind::Command(c) if c.code == 13 => {
                    "grant the user the read and changeStream privileges on the captured databases (Debezium's docs list the roles), then restart the connector"
                }
                _ => "check mongodb.connection.string and the server, then restart the connector",
            },
            MongoError::NotReplicaSet(_) => {
                "run MongoDB as a replica set (a single-node one is enough), then restart the connector"
            }
            MongoError::HistoryLost(_) | MongoError::CannotResume(_) => {
                "set snapshot.mode=when_needed or reset the connector's offsets, then restart the connector"
            }
            MongoError::Oversize { .. } => {
                "set cursor.oversize.handling.mode to split or skip, then restart the connector"
            }
            _ => "fix the setting named above, then restart the connector",
        }
    }
}
