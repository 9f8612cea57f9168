//! What every reader's error must say: whether retrying can help, whether it only means the
//! emitter side went away (a normal end), and what the user should do about it.

pub trait SourceError: std::error::Error + Send + Sync + 'static {
    /// A lost connection, a server restart, overload: reconnect with backoff.
    fn is_transient(&self) -> bool;
    /// The emitter side closed the channel: the reader stops without an error.
    fn is_downstream_closed(&self) -> bool;
    /// The error that says so.
    fn downstream_closed() -> Self
    where
        Self: Sized;
    /// A definite error with this message (a stored offset of another kind of source).
    fn definite(message: String) -> Self
    where
        Self: Sized;
    /// What the user can do, for the connector's status trace.
    fn hint(&self) -> &'static str {
        "fix the database setting named above, then restart the connector"
    }
}
