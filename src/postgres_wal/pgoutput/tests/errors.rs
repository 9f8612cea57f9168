//! Malformed input: each kind of decode error, and fast failure on hostile counts.

use super::*;

// ------------------------------------------------------------------
// Errors.
// ------------------------------------------------------------------

#[test]
fn error_empty_buffer() {
    let err = decode(V1, &Bytes::new()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            what: "message tag",
            needed: 1,
            have: 0
        }
    );
    assert!(err.to_string().contains("message tag"), "{err}");
}

#[test]
fn error_unknown_tag() {
    let err = decode(V1, &cat(&[b"Z", &[0; 8]])).unwrap_err();
    assert_eq!(err, DecodeError::UnknownTag(b'Z'));
    assert_eq!(err.to_string(), "unknown pgoutput message tag 'Z' (0x5a)");
    assert_eq!(
        decode(V1, &cat(&[&[0]])).unwrap_err().to_string(),
        "unknown pgoutput message tag 0x00"
    );
}

#[test]
fn error_two_phase_messages_are_unsupported() {
    for (tag, what) in [
        (b'b', "begin prepare"),
        (b'P', "prepare"),
        (b'K', "commit prepared"),
        (b'r', "rollback prepared"),
        (b'p', "stream prepare"),
    ] {
        assert_eq!(
            decode(DecodeContext::new(3), &cat(&[&[tag], &[0; 30]])),
            Err(DecodeError::UnsupportedMessage {
                tag: char::from(tag),
                what
            })
        );
    }
}

#[test]
fn error_truncated_in_the_middle_of_a_string() {
    let buf = cat(&[
        b"R",                // Byte1('R')
        &1u32.to_be_bytes(), // Int32 relation OID
        b"public\0",         // String namespace
        b"use",              // String name, cut before its NUL
    ]);
    let err = decode(V1, &buf).unwrap_err();
    assert_eq!(
        err,
        DecodeError::MissingNul {
            what: "relation name"
        }
    );
    assert_eq!(err.to_string(), "relation name has no terminating NUL byte");
}

#[test]
fn error_truncated_fixed_field() {
    let buf = cat(&[
        b"B",                // Byte1('B')
        &1u64.to_be_bytes(), // Int64 final LSN
        &[0, 0, 0],          // 3 of the 8 timestamp bytes
    ]);
    let err = decode(V1, &buf).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            what: "begin commit timestamp",
            needed: 8,
            have: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "pgoutput message truncated while reading begin commit timestamp: needed 8 bytes, 3 left"
    );
}

#[test]
fn error_invalid_utf8() {
    let buf = cat(&[
        b"O",                // Byte1('O')
        &1u64.to_be_bytes(), // Int64 LSN
        &[0xff, 0xfe, 0],    // String name: not UTF-8
    ]);
    assert_eq!(
        decode(V1, &buf),
        Err(DecodeError::InvalidUtf8 {
            what: "origin name"
        })
    );
}

#[test]
fn error_bad_tuple_kind() {
    let buf = cat(&[
        b"I",                // Byte1('I')
        &1u32.to_be_bytes(), // Int32 relation OID
        b"N",                // Byte1('N')
        &1i16.to_be_bytes(), // Int16 one column
        b"x",                // bad column kind
    ]);
    let err = decode(V1, &buf).unwrap_err();
    assert_eq!(err, DecodeError::UnknownTupleKind(b'x'));
    assert!(err.to_string().contains("tuple column kind 'x'"), "{err}");
}

#[test]
fn error_bad_tuple_markers() {
    let insert = cat(&[b"I", &1u32.to_be_bytes(), b"K", &0i16.to_be_bytes()]);
    assert_eq!(
        decode(V1, &insert),
        Err(DecodeError::UnexpectedTupleMarker {
            what: "insert new-tuple marker",
            found: b'K',
            expected: "'N'"
        })
    );
    let update = cat(&[b"U", &1u32.to_be_bytes(), b"X"]);
    assert!(matches!(
        decode(V1, &update),
        Err(DecodeError::UnexpectedTupleMarker { found: b'X', .. })
    ));
    // After an old tuple the new one must follow.
    let update = cat(&[
        b"U",
        &1u32.to_be_bytes(),
        b"K",
        &0i16.to_be_bytes(),
        b"K",
        &0i16.to_be_bytes(),
    ]);
    assert_eq!(
        decode(V1, &update),
        Err(DecodeError::UnexpectedTupleMarker {
            what: "update new-tuple marker",
            found: b'K',
            expected: "'N'"
        })
    );
    let delete = cat(&[b"D", &1u32.to_be_bytes(), b"N", &0i16.to_be_bytes()]);
    assert!(matches!(
        decode(V1, &delete),
        Err(DecodeError::UnexpectedTupleMarker { found: b'N', .. })
    ));
}

#[test]
fn error_unknown_replica_identity() {
    let buf = cat(&[
        b"R",
        &1u32.to_be_bytes(),
        b"\0",
        b"t\0",
        b"x",
        &0i16.to_be_bytes(),
    ]);
    assert_eq!(
        decode(V1, &buf),
        Err(DecodeError::UnknownReplicaIdentity(b'x'))
    );
}

#[test]
fn error_negative_length() {
    let buf = cat(&[
        b"I",                   // Byte1('I')
        &1u32.to_be_bytes(),    // Int32 relation OID
        b"N",                   // Byte1('N')
        &1i16.to_be_bytes(),    // Int16 one column
        b"t",                   // text
        &(-2i32).to_be_bytes(), // Int32 length: negative
    ]);
    let err = decode(V1, &buf).unwrap_err();
    assert_eq!(
        err,
        DecodeError::NegativeLength {
            what: "text column value length",
            len: -2
        }
    );
    assert_eq!(err.to_string(), "negative text column value length: -2");

    let msg = cat(&[
        b"M",
        &[0],
        &1u64.to_be_bytes(),
        b"p\0",
        &(-1i32).to_be_bytes(),
    ]);
    assert_eq!(
        decode(V1, &msg),
        Err(DecodeError::NegativeLength {
            what: "message content length",
            len: -1
        })
    );
}

#[test]
fn error_negative_counts() {
    let tuple = cat(&[b"I", &1u32.to_be_bytes(), b"N", &(-1i16).to_be_bytes()]);
    assert_eq!(
        decode(V1, &tuple),
        Err(DecodeError::NegativeCount {
            what: "tuple column count",
            count: -1
        })
    );
    let trunc = cat(&[b"T", &(-3i32).to_be_bytes(), &[0]]);
    assert_eq!(
        decode(V1, &trunc),
        Err(DecodeError::NegativeCount {
            what: "truncate relation count",
            count: -3
        })
    );
    let rel = cat(&[
        b"R",
        &1u32.to_be_bytes(),
        b"\0",
        b"t\0",
        b"d",
        &(-7i16).to_be_bytes(),
    ]);
    assert_eq!(
        decode(V1, &rel),
        Err(DecodeError::NegativeCount {
            what: "relation column count",
            count: -7
        })
    );
}

#[test]
fn error_huge_counts_fail_fast() {
    // 32767 tuple columns announced, a few bytes present.
    let buf = cat(&[
        b"I",
        &1u32.to_be_bytes(),
        b"N",
        &i16::MAX.to_be_bytes(),
        b"nn",
    ]);
    assert_eq!(
        decode(V1, &buf),
        Err(DecodeError::Truncated {
            what: "tuple column kind",
            needed: 1,
            have: 0
        })
    );
    let buf = cat(&[
        b"R",
        &1u32.to_be_bytes(),
        b"\0",
        b"t\0",
        b"d",
        &i16::MAX.to_be_bytes(),
    ]);
    assert!(matches!(
        decode(V1, &buf),
        Err(DecodeError::Truncated {
            what: "relation column flags",
            ..
        })
    ));
    let buf = cat(&[b"T", &i32::MAX.to_be_bytes(), &[0], &1u32.to_be_bytes()]);
    assert_eq!(
        decode(V1, &buf),
        Err(DecodeError::Truncated {
            what: "truncate relation OIDs",
            needed: i32::MAX as usize * 4,
            have: 4
        })
    );
    // A huge value length with a short buffer.
    let buf = cat(&[
        b"I",
        &1u32.to_be_bytes(),
        b"N",
        &1i16.to_be_bytes(),
        b"b",
        &i32::MAX.to_be_bytes(),
        b"abc",
    ]);
    assert_eq!(
        decode(V1, &buf),
        Err(DecodeError::Truncated {
            what: "binary column value",
            needed: i32::MAX as usize,
            have: 3
        })
    );
}

#[test]
fn error_trailing_bytes() {
    let buf = cat(&[
        b"C",                // Byte1('C')
        &[0],                // Int8 flags
        &1u64.to_be_bytes(), // Int64 commit LSN
        &2u64.to_be_bytes(), // Int64 end LSN
        &3i64.to_be_bytes(), // Int64 commit timestamp
        b"xy",               // garbage
    ]);
    let err = decode(V1, &buf).unwrap_err();
    assert_eq!(err, DecodeError::TrailingBytes { tag: 'C', extra: 2 });
    assert_eq!(
        err.to_string(),
        "2 unexpected trailing bytes after a complete 'C' message"
    );
    assert_eq!(
        decode(V2_STREAM, &cat(&[b"E", b"\0"])),
        Err(DecodeError::TrailingBytes { tag: 'E', extra: 1 })
    );
}

#[test]
fn streamed_change_without_stream_context_is_misread_not_panicking() {
    // The same Insert, decoded with and without the stream xid expected.
    let buf = cat(&[
        b"I",
        &5u32.to_be_bytes(),
        &6u32.to_be_bytes(),
        b"N",
        &0i16.to_be_bytes(),
    ]);
    assert_eq!(
        decode(V2_STREAM, &buf),
        Ok(PgOutputMessage::Insert {
            xid: Some(5),
            rel_id: 6,
            new: vec![]
        })
    );
    assert!(decode(V1, &buf).is_err());
}
