//! Unit tests of the decoder, split by concern; this file holds the shared message helpers.

use super::*;

mod captured;
mod encode;
mod errors;
mod handwritten;
mod props;

use encode::encode;

// ------------------------------------------------------------------
// Helpers for hand-written messages.
// ------------------------------------------------------------------

/// Concatenates byte groups into one message buffer.
fn cat(parts: &[&[u8]]) -> Bytes {
    Bytes::from(parts.concat())
}

fn hex(s: &str) -> Bytes {
    assert!(s.len().is_multiple_of(2));
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    Bytes::from(v)
}

const V1: DecodeContext = DecodeContext::new(1);
const V2_STREAM: DecodeContext = DecodeContext {
    protocol_version: 2,
    in_stream: true,
};

fn text(s: &str) -> TupleValue {
    TupleValue::Text(Bytes::copy_from_slice(s.as_bytes()))
}

fn col(is_key: bool, name: &str, type_oid: u32, type_modifier: i32) -> RelationColumn {
    RelationColumn {
        is_key,
        name: name.to_owned(),
        type_oid,
        type_modifier,
    }
}

/// Checks a hand-written message decodes to `want` and that the test
/// encoder produces exactly the same bytes back.
fn check(ctx: DecodeContext, buf: &Bytes, want: PgOutputMessage) {
    assert_eq!(decode(ctx, buf), Ok(want.clone()));
    assert_eq!(encode(&want), buf.to_vec(), "encoder disagrees");
}
