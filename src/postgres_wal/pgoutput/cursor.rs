//! Bounds-checked cursor over one message, and the Relation/TupleData/OID-list reads built on it.

use bytes::Bytes;

use super::{
    DecodeContext, DecodeError, Relation, RelationColumn, ReplicaIdentity, TupleData, TupleValue,
};

/// Smallest encoding of one Relation column: flags, empty name's NUL, type
/// OID, type modifier.
const MIN_RELATION_COLUMN_LEN: usize = 1 + 1 + 4 + 4;

/// A bounds-checked cursor over the message.
pub(super) struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a Bytes) -> Self {
        Reader { buf, pos: 0 }
    }

    /// The unread bytes.
    fn rest(&self) -> &'a [u8] {
        let all: &'a [u8] = self.buf.as_ref();
        all.get(self.pos..).unwrap_or_default()
    }

    pub(super) fn remaining(&self) -> usize {
        self.rest().len()
    }

    /// Consumes `n` bytes.
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let rest = self.rest();
        let taken = rest.get(..n).ok_or(DecodeError::Truncated {
            what,
            needed: n,
            have: rest.len(),
        })?;
        // Cannot saturate: pos + n <= buf.len().
        self.pos = self.pos.saturating_add(n);
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let have = self.remaining();
        let taken = self.take(N, what)?;
        <[u8; N]>::try_from(taken).map_err(|_| DecodeError::Truncated {
            what,
            needed: N,
            have,
        })
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }

    fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(super) fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(super) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A zero-copy slice of the next `n` bytes.
    pub(super) fn bytes(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        let taken = self.take(n, what)?;
        // `taken` is a subslice of `self.buf`, which is what slice_ref needs.
        Ok(self.buf.slice_ref(taken))
    }

    /// A NUL-terminated UTF-8 string.
    pub(super) fn cstring(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let rest = self.rest();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::MissingNul { what })?;
        let raw = self.take(len, what)?;
        let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { what })?;
        self.take(1, what)?; // the NUL
        Ok(s.to_owned())
    }

    /// An Int32 length, which must not be negative.
    pub(super) fn length(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let len = self.i32(what)?;
        usize::try_from(len).map_err(|_| DecodeError::NegativeLength { what, len })
    }

    /// An Int16 count, which must not be negative.
    fn count16(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let count = self.i16(what)?;
        usize::try_from(count).map_err(|_| DecodeError::NegativeCount {
            what,
            count: count.into(),
        })
    }

    /// The xid that messages inside a stream block start with.
    pub(super) fn stream_xid(&mut self, ctx: DecodeContext) -> Result<Option<u32>, DecodeError> {
        if ctx.in_stream {
            self.u32("streamed transaction xid").map(Some)
        } else {
            Ok(None)
        }
    }

    pub(super) fn expect_marker(
        &mut self,
        want: u8,
        what: &'static str,
        expected: &'static str,
    ) -> Result<(), DecodeError> {
        match self.u8(what)? {
            found if found == want => Ok(()),
            found => Err(DecodeError::UnexpectedTupleMarker {
                what,
                found,
                expected,
            }),
        }
    }

    pub(super) fn relation(&mut self, ctx: DecodeContext) -> Result<Relation, DecodeError> {
        let xid = self.stream_xid(ctx)?;
        let rel_id = self.u32("relation OID")?;
        let namespace = self.cstring("relation namespace")?;
        let name = self.cstring("relation name")?;
        let ri = self.u8("relation replica identity")?;
        let replica_identity =
            ReplicaIdentity::from_byte(ri).ok_or(DecodeError::UnknownReplicaIdentity(ri))?;
        let count = self.count16("relation column count")?;
        let mut columns = Vec::with_capacity(count.min(self.remaining() / MIN_RELATION_COLUMN_LEN));
        for _ in 0..count {
            let flags = self.u8("relation column flags")?;
            columns.push(RelationColumn {
                is_key: flags & 1 != 0,
                name: self.cstring("relation column name")?,
                type_oid: self.u32("relation column type OID")?,
                type_modifier: self.i32("relation column type modifier")?,
            });
        }
        Ok(Relation {
            xid,
            rel_id,
            namespace,
            name,
            replica_identity,
            columns,
        })
    }

    /// TupleData: Int16 column count, then one value per column.
    pub(super) fn tuple(&mut self) -> Result<TupleData, DecodeError> {
        let count = self.count16("tuple column count")?;
        // Every column takes at least its kind byte.
        let mut values = Vec::with_capacity(count.min(self.remaining()));
        for _ in 0..count {
            let value = match self.u8("tuple column kind")? {
                b'n' => TupleValue::Null,
                b'u' => TupleValue::UnchangedToast,
                b't' => {
                    let len = self.length("text column value length")?;
                    TupleValue::Text(self.bytes(len, "text column value")?)
                }
                b'b' => {
                    let len = self.length("binary column value length")?;
                    TupleValue::Binary(self.bytes(len, "binary column value")?)
                }
                other => return Err(DecodeError::UnknownTupleKind(other)),
            };
            values.push(value);
        }
        Ok(values)
    }

    /// `count` relation OIDs of a Truncate message.
    pub(super) fn oid_list(&mut self, count: i32) -> Result<Vec<u32>, DecodeError> {
        let what = "truncate relation OIDs";
        let count = usize::try_from(count).map_err(|_| DecodeError::NegativeCount {
            what: "truncate relation count",
            count,
        })?;
        let needed = count.saturating_mul(4);
        let have = self.remaining();
        if needed > have {
            return Err(DecodeError::Truncated { what, needed, have });
        }
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            ids.push(self.u32(what)?);
        }
        Ok(ids)
    }
}
