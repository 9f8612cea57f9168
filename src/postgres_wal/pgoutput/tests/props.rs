//! Property tests: encode/decode round trips, and no panic on any input.

use super::*;
use proptest::prelude::*;

// ------------------------------------------------------------------
// Property tests.
// ------------------------------------------------------------------

fn arb_string() -> impl Strategy<Value = String> {
    // Any Unicode but NUL, which the protocol cannot carry in a String.
    proptest::string::string_regex("[^\\x00]{0,12}").expect("valid regex")
}

fn arb_bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn arb_value() -> impl Strategy<Value = TupleValue> {
    prop_oneof![
        Just(TupleValue::Null),
        Just(TupleValue::UnchangedToast),
        arb_bytes().prop_map(TupleValue::Text),
        arb_bytes().prop_map(TupleValue::Binary),
    ]
}

fn arb_tuple() -> impl Strategy<Value = TupleData> {
    proptest::collection::vec(arb_value(), 0..8)
}

fn arb_old() -> impl Strategy<Value = OldTuple> {
    prop_oneof![
        arb_tuple().prop_map(OldTuple::Key),
        arb_tuple().prop_map(OldTuple::Full),
    ]
}

fn arb_replica_identity() -> impl Strategy<Value = ReplicaIdentity> {
    prop_oneof![
        Just(ReplicaIdentity::Default),
        Just(ReplicaIdentity::Nothing),
        Just(ReplicaIdentity::Full),
        Just(ReplicaIdentity::Index),
    ]
}

fn arb_column() -> impl Strategy<Value = RelationColumn> {
    (any::<bool>(), arb_string(), any::<u32>(), any::<i32>()).prop_map(
        |(is_key, name, type_oid, type_modifier)| RelationColumn {
            is_key,
            name,
            type_oid,
            type_modifier,
        },
    )
}

/// A context and a message valid in it: the xid of streamable messages
/// is present exactly when the context is inside a stream block.
fn arb_message() -> impl Strategy<Value = (DecodeContext, PgOutputMessage)> {
    (any::<bool>(), 0u32..=5).prop_flat_map(|(in_stream, protocol_version)| {
        let ctx = DecodeContext {
            protocol_version,
            in_stream,
        };
        let xid = any::<u32>().prop_map(move |x| in_stream.then_some(x));
        use PgOutputMessage as M;
        let variants: Vec<BoxedStrategy<PgOutputMessage>> = vec![
            (any::<u64>(), any::<i64>(), any::<u32>())
                .prop_map(|(final_lsn, commit_ts, xid)| M::Begin {
                    final_lsn,
                    commit_ts,
                    xid,
                })
                .boxed(),
            (any::<u8>(), any::<u64>(), any::<u64>(), any::<i64>())
                .prop_map(|(flags, commit_lsn, end_lsn, commit_ts)| M::Commit {
                    flags,
                    commit_lsn,
                    end_lsn,
                    commit_ts,
                })
                .boxed(),
            (any::<u64>(), arb_string())
                .prop_map(|(commit_lsn, name)| M::Origin { commit_lsn, name })
                .boxed(),
            (
                xid.clone(),
                any::<u32>(),
                arb_string(),
                arb_string(),
                arb_replica_identity(),
                proptest::collection::vec(arb_column(), 0..6),
            )
                .prop_map(
                    |(xid, rel_id, namespace, name, replica_identity, columns)| {
                        M::Relation(Relation {
                            xid,
                            rel_id,
                            namespace,
                            name,
                            replica_identity,
                            columns,
                        })
                    },
                )
                .boxed(),
            (xid.clone(), any::<u32>(), arb_string(), arb_string())
                .prop_map(|(xid, type_oid, namespace, name)| M::Type {
                    xid,
                    type_oid,
                    namespace,
                    name,
                })
                .boxed(),
            (xid.clone(), any::<u32>(), arb_tuple())
                .prop_map(|(xid, rel_id, new)| M::Insert { xid, rel_id, new })
                .boxed(),
            (
                xid.clone(),
                any::<u32>(),
                proptest::option::of(arb_old()),
                arb_tuple(),
            )
                .prop_map(|(xid, rel_id, old, new)| M::Update {
                    xid,
                    rel_id,
                    old,
                    new,
                })
                .boxed(),
            (xid.clone(), any::<u32>(), arb_old())
                .prop_map(|(xid, rel_id, old)| M::Delete { xid, rel_id, old })
                .boxed(),
            (
                xid.clone(),
                any::<u8>(),
                proptest::collection::vec(any::<u32>(), 0..6),
            )
                .prop_map(|(xid, options, rel_ids)| M::Truncate {
                    xid,
                    options,
                    rel_ids,
                })
                .boxed(),
            (xid, any::<bool>(), any::<u64>(), arb_string(), arb_bytes())
                .prop_map(|(xid, transactional, lsn, prefix, content)| M::Message {
                    xid,
                    transactional,
                    lsn,
                    prefix,
                    content,
                })
                .boxed(),
            (any::<u32>(), any::<bool>())
                .prop_map(|(xid, first_segment)| M::StreamStart { xid, first_segment })
                .boxed(),
            Just(M::StreamStop).boxed(),
            (
                any::<u32>(),
                any::<u8>(),
                any::<u64>(),
                any::<u64>(),
                any::<i64>(),
            )
                .prop_map(
                    |(xid, flags, commit_lsn, end_lsn, commit_ts)| M::StreamCommit {
                        xid,
                        flags,
                        commit_lsn,
                        end_lsn,
                        commit_ts,
                    },
                )
                .boxed(),
            (any::<u32>(), any::<u32>())
                .prop_map(|(xid, subxid)| M::StreamAbort { xid, subxid })
                .boxed(),
        ];
        proptest::strategy::Union::new(variants).prop_map(move |m| (ctx, m))
    })
}

fn arb_ctx() -> impl Strategy<Value = DecodeContext> {
    (0u32..=5, any::<bool>()).prop_map(|(protocol_version, in_stream)| DecodeContext {
        protocol_version,
        in_stream,
    })
}

/// The message tags, so random bodies get past the first byte.
const TAGS: &[u8] = b"BCORYIUDTMSEcAbPKrp";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roundtrip((ctx, msg) in arb_message()) {
        let buf = Bytes::from(encode(&msg));
        prop_assert_eq!(decode(ctx, &buf), Ok(msg));
    }

    #[test]
    fn every_strict_prefix_is_rejected((ctx, msg) in arb_message()) {
        let buf = Bytes::from(encode(&msg));
        for cut in 0..buf.len() {
            prop_assert!(decode(ctx, &buf.slice(..cut)).is_err(), "prefix {} of {:?}", cut, msg);
        }
    }

    #[test]
    fn any_extra_byte_is_rejected((ctx, msg) in arb_message(), extra in 1usize..20) {
        let mut v = encode(&msg);
        v.extend(std::iter::repeat_n(0xA5, extra));
        let got = decode(ctx, &Bytes::from(v));
        let abort_v4 = matches!(msg, PgOutputMessage::StreamAbort { .. }) && ctx.protocol_version >= 4;
        if abort_v4 {
            if extra == 16 {
                prop_assert_eq!(got, Ok(msg));
            } else {
                prop_assert!(got.is_err());
            }
        } else {
            let tag = char::from(encode(&msg)[0]);
            prop_assert_eq!(got, Err(DecodeError::TrailingBytes { tag, extra }));
        }
    }

    #[test]
    fn random_bytes_never_panic(ctx in arb_ctx(), data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(ctx, &Bytes::from(data));
    }

    #[test]
    fn random_bodies_after_a_valid_tag_never_panic(
        ctx in arb_ctx(),
        tag in proptest::sample::select(TAGS),
        body in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut v = vec![tag];
        v.extend(body);
        let _ = decode(ctx, &Bytes::from(v));
    }

    #[test]
    fn mutated_and_truncated_encodings_never_panic(
        (ctx, msg) in arb_message(),
        other_ctx in arb_ctx(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut v = encode(&msg);
        for (at, byte, op) in edits {
            let i = at.index(v.len() + 1);
            match op {
                0 if i < v.len() => v[i] = byte,
                1 => v.insert(i, byte),
                _ if i < v.len() => { v.remove(i); }
                _ => v.push(byte),
            }
        }
        let buf = Bytes::from(v);
        let _ = decode(ctx, &buf);
        let _ = decode(other_ctx, &buf);
        let _ = decode(ctx, &buf.slice(..cut.index(buf.len() + 1)));
    }
}
