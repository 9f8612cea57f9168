//! cargo-fuzz target for the pgoutput decoder (`cargo +nightly fuzz run pgoutput_decode`).
//!
//! Any input must decode to `Ok` or `Err` without panicking, hanging or
//! allocating out of proportion to the input, in every context.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siphon::postgres_wal::pgoutput::{DecodeContext, PgOutputMessage, decode};

fuzz_target!(|data: &[u8]| {
    let buf = Bytes::copy_from_slice(data);
    for ctx in [
        // Protocol 1: no stream blocks.
        DecodeContext {
            protocol_version: 1,
            in_stream: false,
        },
        // Protocol 2, inside a Stream Start .. Stream Stop block.
        DecodeContext {
            protocol_version: 2,
            in_stream: true,
        },
        // Protocol 4, inside a stream block (Stream Abort may carry 16 more bytes).
        DecodeContext {
            protocol_version: 4,
            in_stream: true,
        },
    ] {
        let first = decode(ctx, &buf);
        // Pure: the same input gives the same answer.
        assert_eq!(first, decode(ctx, &buf));
        if let Ok(msg) = first {
            // The stream xid is there exactly when the context says so.
            let xid = match &msg {
                PgOutputMessage::Relation(r) => Some(r.xid),
                PgOutputMessage::Type { xid, .. }
                | PgOutputMessage::Insert { xid, .. }
                | PgOutputMessage::Update { xid, .. }
                | PgOutputMessage::Delete { xid, .. }
                | PgOutputMessage::Truncate { xid, .. }
                | PgOutputMessage::Message { xid, .. } => Some(*xid),
                _ => None,
            };
            if let Some(xid) = xid {
                assert_eq!(xid.is_some(), ctx.in_stream);
            }
        }
    }
});
