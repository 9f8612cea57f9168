//! Decoder for the messages of PostgreSQL's `pgoutput` logical replication
//! output plugin (the "Logical Replication Message Formats" of the protocol
//! documentation), protocol versions 1 and 2 (and the version 4 extension of
//! Stream Abort).
//!
//! [`decode`] takes exactly one message: the payload of one XLogData (`w`)
//! message on a replication connection, or one row's `data` of
//! `pg_logical_slot_{get,peek}_binary_changes`. It is pure (no I/O, no global
//! state) and panic-free on any input: every read is bounds-checked, lengths
//! and counts are validated before they size an allocation, and a message
//! followed by extra bytes is rejected.
//!
//! The caller carries the only state the format needs, in [`DecodeContext`]:
//! the negotiated `proto_version`, and whether the current message lies inside
//! a Stream Start ... Stream Stop block (`in_stream`: set it after decoding a
//! [`PgOutputMessage::StreamStart`], clear it after a
//! [`PgOutputMessage::StreamStop`]). Inside such a block, Relation, Type,
//! Insert, Update, Delete, Truncate and Message carry the xid of the streamed
//! transaction, which nothing in the message itself announces.
//!
//! Tuple values and Message contents are zero-copy slices ([`Bytes::slice`])
//! of the input buffer.
//!
//! Not decoded: the two-phase-commit messages of protocol version 3 (Begin
//! Prepare `b`, Prepare `P`, Commit Prepared `K`, Rollback Prepared `r`,
//! Stream Prepare `p`), which the server sends only when the `two_phase`
//! option is enabled; they yield [`DecodeError::UnsupportedMessage`].

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::fmt;

use bytes::Bytes;

mod cursor;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod tests;

use cursor::Reader;

/// A WAL location (`XLogRecPtr`), as sent: 64 bits, big-endian.
pub type Lsn = u64;

/// Microseconds between the Unix epoch (1970-01-01) and the PostgreSQL epoch
/// (2000-01-01), both UTC.
pub const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// Truncate option bit: `TRUNCATE ... CASCADE`.
pub const TRUNCATE_CASCADE: u8 = 1;
/// Truncate option bit: `TRUNCATE ... RESTART IDENTITY`.
pub const TRUNCATE_RESTART_IDENTITY: u8 = 2;

/// Converts a `TimestampTz` as sent by the server (microseconds since
/// 2000-01-01 UTC) to microseconds since the Unix epoch, saturating at the
/// bounds of `i64`.
pub fn pg_epoch_micros_to_unix_micros(ts: i64) -> i64 {
    ts.saturating_add(PG_EPOCH_OFFSET_MICROS)
}

/// One decoded `pgoutput` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgOutputMessage {
    /// `B`: start of a (non-streamed) transaction.
    Begin {
        /// The final LSN of the transaction (the LSN of its commit record).
        final_lsn: Lsn,
        /// Commit timestamp, microseconds since 2000-01-01 UTC as sent; see
        /// [`pg_epoch_micros_to_unix_micros`].
        commit_ts: i64,
        xid: u32,
    },
    /// `C`: end of a (non-streamed) transaction.
    Commit {
        /// Currently unused by the server (always 0).
        flags: u8,
        commit_lsn: Lsn,
        /// The end LSN of the transaction: where to resume from.
        end_lsn: Lsn,
        commit_ts: i64,
    },
    /// `O`: the replication origin the transaction came from (sent after
    /// Begin when the transaction was replayed from an origin).
    Origin { commit_lsn: Lsn, name: String },
    /// `R`: the definition of a relation, sent before the first change to it
    /// in a session and again whenever it changed.
    Relation(Relation),
    /// `Y`: a (non built-in) data type used by a following Relation. An
    /// empty `namespace` means `pg_catalog`.
    Type {
        xid: Option<u32>,
        type_oid: u32,
        namespace: String,
        name: String,
    },
    /// `I`
    Insert {
        xid: Option<u32>,
        rel_id: u32,
        new: TupleData,
    },
    /// `U`: `old` is present when the replica identity key changed (`K`) or
    /// the table has `REPLICA IDENTITY FULL` (`O`).
    Update {
        xid: Option<u32>,
        rel_id: u32,
        old: Option<OldTuple>,
        new: TupleData,
    },
    /// `D`
    Delete {
        xid: Option<u32>,
        rel_id: u32,
        old: OldTuple,
    },
    /// `T`
    Truncate {
        xid: Option<u32>,
        /// Bit set of [`TRUNCATE_CASCADE`] and [`TRUNCATE_RESTART_IDENTITY`].
        options: u8,
        rel_ids: Vec<u32>,
    },
    /// `M`: a logical decoding message (`pg_logical_emit_message`), sent only
    /// with the `messages` option.
    Message {
        xid: Option<u32>,
        transactional: bool,
        lsn: Lsn,
        prefix: String,
        content: Bytes,
    },
    /// `S` (protocol 2+): start of a block of changes of an in-progress
    /// transaction.
    StreamStart { xid: u32, first_segment: bool },
    /// `E` (protocol 2+): end of a block started by `StreamStart`.
    StreamStop,
    /// `c` (protocol 2+): commit of a streamed transaction.
    StreamCommit {
        xid: u32,
        flags: u8,
        commit_lsn: Lsn,
        end_lsn: Lsn,
        commit_ts: i64,
    },
    /// `A` (protocol 2+): abort of a streamed (sub)transaction; `subxid ==
    /// xid` for the top-level transaction. The abort LSN and timestamp that
    /// protocol 4 adds with `streaming = parallel` are validated and skipped.
    StreamAbort { xid: u32, subxid: u32 },
}

/// The body of a Relation (`R`) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Present only inside a stream block.
    pub xid: Option<u32>,
    /// The relation's OID; the `rel_id` of later changes refers to it.
    pub rel_id: u32,
    /// Empty means `pg_catalog`.
    pub namespace: String,
    pub name: String,
    pub replica_identity: ReplicaIdentity,
    /// The published columns, in the order tuples carry them.
    pub columns: Vec<RelationColumn>,
}

/// A relation's `REPLICA IDENTITY` setting (`pg_class.relreplident`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaIdentity {
    /// `d`: the primary key.
    Default,
    /// `n`: nothing.
    Nothing,
    /// `f`: all columns.
    Full,
    /// `i`: a chosen unique index.
    Index,
}

impl ReplicaIdentity {
    /// The byte the protocol uses for this setting.
    pub fn as_byte(self) -> u8 {
        match self {
            ReplicaIdentity::Default => b'd',
            ReplicaIdentity::Nothing => b'n',
            ReplicaIdentity::Full => b'f',
            ReplicaIdentity::Index => b'i',
        }
    }

    /// The setting for a protocol byte, if it is one.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'd' => Some(ReplicaIdentity::Default),
            b'n' => Some(ReplicaIdentity::Nothing),
            b'f' => Some(ReplicaIdentity::Full),
            b'i' => Some(ReplicaIdentity::Index),
            _ => None,
        }
    }
}

/// One column of a [`Relation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Part of the replica identity key (flag bit 1). With `REPLICA IDENTITY
    /// FULL` every column is marked.
    pub is_key: bool,
    pub name: String,
    pub type_oid: u32,
    /// `atttypmod`; -1 when the type has none.
    pub type_modifier: i32,
}

/// The old row sent with an Update or Delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldTuple {
    /// `K`: only the replica identity key columns are meaningful; the server
    /// sends the other columns as [`TupleValue::Null`].
    Key(TupleData),
    /// `O`: the whole old row (`REPLICA IDENTITY FULL`).
    Full(TupleData),
}

impl OldTuple {
    /// The tuple, whichever kind it is.
    pub fn tuple(&self) -> &TupleData {
        match self {
            OldTuple::Key(t) | OldTuple::Full(t) => t,
        }
    }
}

/// The column values of one row, in the order of the relation's columns.
pub type TupleData = Vec<TupleValue>;

/// One column value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TupleValue {
    /// `n`
    Null,
    /// `u`: a TOASTed value that did not change; the server does not send it.
    UnchangedToast,
    /// `t`: the value in the type's text output format.
    Text(Bytes),
    /// `b`: the value in the type's binary send format (`binary` option).
    Binary(Bytes),
}

/// What [`decode`] needs to know besides the bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeContext {
    /// The `proto_version` the stream was started with (0 is treated like 1).
    /// It matters only for Stream Abort, which may carry two more fields from
    /// version 4 on.
    pub protocol_version: u32,
    /// True between a Stream Start and the next Stream Stop: the messages
    /// there carry the xid of the streamed transaction.
    pub in_stream: bool,
}

impl DecodeContext {
    /// A context for `proto_version` `protocol_version`, outside any stream
    /// block.
    pub const fn new(protocol_version: u32) -> Self {
        DecodeContext {
            protocol_version,
            in_stream: false,
        }
    }

    /// The same context, inside (`true`) or outside a stream block.
    pub const fn with_in_stream(self, in_stream: bool) -> Self {
        DecodeContext {
            protocol_version: self.protocol_version,
            in_stream,
        }
    }
}

/// Why a message could not be decoded. Every variant names what was being
/// read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("pgoutput message truncated while reading {what}: needed {needed} bytes, {have} left")]
    Truncated {
        what: &'static str,
        needed: usize,
        have: usize,
    },
    #[error("unknown pgoutput message tag {}", ByteLit(*.0))]
    UnknownTag(u8),
    #[error("unsupported pgoutput message {tag:?} ({what}): the two_phase option is not supported")]
    UnsupportedMessage { tag: char, what: &'static str },
    #[error("unknown tuple column kind {} (expected 'n', 'u', 't' or 'b')", ByteLit(*.0))]
    UnknownTupleKind(u8),
    #[error("unexpected byte {} while reading {what} (expected {expected})", ByteLit(*.found))]
    UnexpectedTupleMarker {
        what: &'static str,
        found: u8,
        expected: &'static str,
    },
    #[error("unknown replica identity {} in relation message (expected 'd', 'n', 'f' or 'i')", ByteLit(*.0))]
    UnknownReplicaIdentity(u8),
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 { what: &'static str },
    #[error("{what} has no terminating NUL byte")]
    MissingNul { what: &'static str },
    #[error("negative {what}: {len}")]
    NegativeLength { what: &'static str, len: i32 },
    #[error("negative {what}: {count}")]
    NegativeCount { what: &'static str, count: i32 },
    #[error("{extra} unexpected trailing bytes after a complete {tag:?} message")]
    TrailingBytes { tag: char, extra: usize },
}

/// Shows a protocol byte as `'B' (0x42)`, or `0x00` when not printable.
struct ByteLit(u8);

impl fmt::Display for ByteLit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}' (0x{:02x})", char::from(self.0), self.0)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}

/// Decodes one `pgoutput` message.
///
/// Fails, without panicking, on any input that is not exactly one well-formed
/// message for `ctx` (including a well-formed message followed by more
/// bytes).
pub fn decode(ctx: DecodeContext, buf: &Bytes) -> Result<PgOutputMessage, DecodeError> {
    let mut r = Reader::new(buf);
    let tag = r.u8("message tag")?;
    let msg = match tag {
        b'B' => PgOutputMessage::Begin {
            final_lsn: r.u64("begin final LSN")?,
            commit_ts: r.i64("begin commit timestamp")?,
            xid: r.u32("begin xid")?,
        },
        b'C' => PgOutputMessage::Commit {
            flags: r.u8("commit flags")?,
            commit_lsn: r.u64("commit LSN")?,
            end_lsn: r.u64("commit end LSN")?,
            commit_ts: r.i64("commit timestamp")?,
        },
        b'O' => PgOutputMessage::Origin {
            commit_lsn: r.u64("origin commit LSN")?,
            name: r.cstring("origin name")?,
        },
        b'R' => PgOutputMessage::Relation(r.relation(ctx)?),
        b'Y' => PgOutputMessage::Type {
            xid: r.stream_xid(ctx)?,
            type_oid: r.u32("type OID")?,
            namespace: r.cstring("type namespace")?,
            name: r.cstring("type name")?,
        },
        b'I' => {
            let xid = r.stream_xid(ctx)?;
            let rel_id = r.u32("insert relation OID")?;
            r.expect_marker(b'N', "insert new-tuple marker", "'N'")?;
            PgOutputMessage::Insert {
                xid,
                rel_id,
                new: r.tuple()?,
            }
        }
        b'U' => {
            let xid = r.stream_xid(ctx)?;
            let rel_id = r.u32("update relation OID")?;
            let old = match r.u8("update tuple marker")? {
                b'K' => Some(OldTuple::Key(r.tuple()?)),
                b'O' => Some(OldTuple::Full(r.tuple()?)),
                b'N' => None,
                found => {
                    return Err(DecodeError::UnexpectedTupleMarker {
                        what: "update tuple marker",
                        found,
                        expected: "'K', 'O' or 'N'",
                    });
                }
            };
            if old.is_some() {
                r.expect_marker(b'N', "update new-tuple marker", "'N'")?;
            }
            PgOutputMessage::Update {
                xid,
                rel_id,
                old,
                new: r.tuple()?,
            }
        }
        b'D' => {
            let xid = r.stream_xid(ctx)?;
            let rel_id = r.u32("delete relation OID")?;
            let old = match r.u8("delete old-tuple marker")? {
                b'K' => OldTuple::Key(r.tuple()?),
                b'O' => OldTuple::Full(r.tuple()?),
                found => {
                    return Err(DecodeError::UnexpectedTupleMarker {
                        what: "delete old-tuple marker",
                        found,
                        expected: "'K' or 'O'",
                    });
                }
            };
            PgOutputMessage::Delete { xid, rel_id, old }
        }
        b'T' => {
            let xid = r.stream_xid(ctx)?;
            let count = r.i32("truncate relation count")?;
            let options = r.u8("truncate options")?;
            let rel_ids = r.oid_list(count)?;
            PgOutputMessage::Truncate {
                xid,
                options,
                rel_ids,
            }
        }
        b'M' => {
            let xid = r.stream_xid(ctx)?;
            let flags = r.u8("message flags")?;
            let lsn = r.u64("message LSN")?;
            let prefix = r.cstring("message prefix")?;
            let len = r.length("message content length")?;
            PgOutputMessage::Message {
                xid,
                transactional: flags & 1 != 0,
                lsn,
                prefix,
                content: r.bytes(len, "message content")?,
            }
        }
        b'S' => PgOutputMessage::StreamStart {
            xid: r.u32("stream start xid")?,
            first_segment: r.u8("stream start first-segment flag")? != 0,
        },
        b'E' => PgOutputMessage::StreamStop,
        b'c' => PgOutputMessage::StreamCommit {
            xid: r.u32("stream commit xid")?,
            flags: r.u8("stream commit flags")?,
            commit_lsn: r.u64("stream commit LSN")?,
            end_lsn: r.u64("stream commit end LSN")?,
            commit_ts: r.i64("stream commit timestamp")?,
        },
        b'A' => {
            let xid = r.u32("stream abort xid")?;
            let subxid = r.u32("stream abort subtransaction xid")?;
            // Protocol 4 adds the abort LSN and timestamp, but only when
            // streaming = parallel: accept the message with or without them.
            if ctx.protocol_version >= 4 && r.remaining() > 0 {
                r.u64("stream abort LSN")?;
                r.i64("stream abort timestamp")?;
            }
            PgOutputMessage::StreamAbort { xid, subxid }
        }
        b'b' | b'P' | b'K' | b'r' | b'p' => {
            return Err(DecodeError::UnsupportedMessage {
                tag: char::from(tag),
                what: match tag {
                    b'b' => "begin prepare",
                    b'P' => "prepare",
                    b'K' => "commit prepared",
                    b'r' => "rollback prepared",
                    _ => "stream prepare",
                },
            });
        }
        other => return Err(DecodeError::UnknownTag(other)),
    };
    match r.remaining() {
        0 => Ok(msg),
        extra => Err(DecodeError::TrailingBytes {
            tag: char::from(tag),
            extra,
        }),
    }
}
