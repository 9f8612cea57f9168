//! Hand-written messages, one per message type, checked both ways.

use super::*;

// ------------------------------------------------------------------
// Hand-written messages, one per type.
// ------------------------------------------------------------------

#[test]
fn begin() {
    let buf = cat(&[
        b"B",                                    // Byte1('B')
        &0x0000_0001_0000_0028u64.to_be_bytes(), // Int64 final LSN 1/28
        &700_000_000_000_000i64.to_be_bytes(),   // Int64 commit timestamp
        &4242u32.to_be_bytes(),                  // Int32 xid
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Begin {
            final_lsn: 0x1_0000_0028,
            commit_ts: 700_000_000_000_000,
            xid: 4242,
        },
    );
}

#[test]
fn commit() {
    let buf = cat(&[
        b"C",                     // Byte1('C')
        &[0],                     // Int8 flags (unused)
        &0x1000u64.to_be_bytes(), // Int64 commit LSN
        &0x1030u64.to_be_bytes(), // Int64 end LSN
        &(-5i64).to_be_bytes(),   // Int64 commit timestamp (before 2000)
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Commit {
            flags: 0,
            commit_lsn: 0x1000,
            end_lsn: 0x1030,
            commit_ts: -5,
        },
    );
}

#[test]
fn origin() {
    let buf = cat(&[
        b"O",                       // Byte1('O')
        &0xABCDEFu64.to_be_bytes(), // Int64 commit LSN on the origin
        b"upstream\0",              // String origin name
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Origin {
            commit_lsn: 0xABCDEF,
            name: "upstream".into(),
        },
    );
}

#[test]
fn relation_three_columns() {
    let buf = cat(&[
        b"R",                                   // Byte1('R')
        &16389u32.to_be_bytes(),                // Int32 relation OID
        b"public\0",                            // String namespace
        b"users\0",                             // String relation name
        b"d",                                   // Int8 replica identity: default
        &3i16.to_be_bytes(),                    // Int16 number of columns
        &[1],                                   // col 1: Int8 flags: key
        b"id\0",                                //        String name
        &23u32.to_be_bytes(),                   //        Int32 type OID (int4)
        &(-1i32).to_be_bytes(),                 //        Int32 typmod: none
        &[0],                                   // col 2: flags: not key
        b"name\0",                              //        name
        &1043u32.to_be_bytes(),                 //        varchar
        &68i32.to_be_bytes(),                   //        varchar(64): 64 + 4
        &[0],                                   // col 3: flags
        b"score\0",                             //        name
        &1700u32.to_be_bytes(),                 //        numeric
        &((10 << 16 | 2) + 4i32).to_be_bytes(), // numeric(10,2)
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Relation(Relation {
            xid: None,
            rel_id: 16389,
            namespace: "public".into(),
            name: "users".into(),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![
                col(true, "id", 23, -1),
                col(false, "name", 1043, 68),
                col(false, "score", 1700, 655_366),
            ],
        }),
    );
}

#[test]
fn relation_in_stream_has_xid_and_each_replica_identity_decodes() {
    for (b, ri) in [
        (b'd', ReplicaIdentity::Default),
        (b'n', ReplicaIdentity::Nothing),
        (b'f', ReplicaIdentity::Full),
        (b'i', ReplicaIdentity::Index),
    ] {
        let buf = cat(&[
            b"R",                 // Byte1('R')
            &77u32.to_be_bytes(), // Int32 xid (inside a stream block)
            &9u32.to_be_bytes(),  // Int32 relation OID
            b"\0",                // String namespace: "" = pg_catalog
            b"t\0",               // String name
            &[b],                 // Int8 replica identity
            &0i16.to_be_bytes(),  // Int16 no columns
        ]);
        check(
            V2_STREAM,
            &buf,
            PgOutputMessage::Relation(Relation {
                xid: Some(77),
                rel_id: 9,
                namespace: String::new(),
                name: "t".into(),
                replica_identity: ri,
                columns: vec![],
            }),
        );
    }
}

#[test]
fn type_message() {
    let buf = cat(&[
        b"Y",                    // Byte1('Y')
        &16385u32.to_be_bytes(), // Int32 type OID
        b"public\0",             // String namespace
        b"mood\0",               // String type name
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Type {
            xid: None,
            type_oid: 16385,
            namespace: "public".into(),
            name: "mood".into(),
        },
    );
}

#[test]
fn insert_with_null_toast_and_text() {
    let buf = cat(&[
        b"I",                    // Byte1('I')
        &16389u32.to_be_bytes(), // Int32 relation OID
        b"N",                    // Byte1('N') new tuple follows
        &4i16.to_be_bytes(),     // Int16 number of columns
        b"t",                    // col 1: text
        &2i32.to_be_bytes(),     //        Int32 length
        b"42",                   //        value
        b"n",                    // col 2: NULL
        b"u",                    // col 3: unchanged TOAST
        b"t",                    // col 4: text
        &0i32.to_be_bytes(),     //        length 0 (empty string, not NULL)
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Insert {
            xid: None,
            rel_id: 16389,
            new: vec![
                text("42"),
                TupleValue::Null,
                TupleValue::UnchangedToast,
                text(""),
            ],
        },
    );
}

#[test]
fn insert_text_values_are_zero_copy_slices() {
    let buf = cat(&[
        b"I",                // Byte1('I')
        &1u32.to_be_bytes(), // Int32 relation OID
        b"N",                // Byte1('N')
        &1i16.to_be_bytes(), // Int16 one column
        b"b",                // binary value
        &3i32.to_be_bytes(), // Int32 length
        &[1, 2, 3],          // value
    ]);
    let Ok(PgOutputMessage::Insert { new, .. }) = decode(V1, &buf) else {
        panic!("not an insert");
    };
    let [TupleValue::Binary(v)] = new.as_slice() else {
        panic!("not one binary value: {new:?}");
    };
    assert_eq!(v.as_ref(), &[1, 2, 3]);
    // The value points into the input buffer.
    let start = buf.as_ptr() as usize;
    let p = v.as_ptr() as usize;
    assert!(p >= start && p + 3 <= start + buf.len());
}

#[test]
fn update_with_old_key() {
    let buf = cat(&[
        b"U",                    // Byte1('U')
        &16389u32.to_be_bytes(), // Int32 relation OID
        b"K",                    // Byte1('K') old key tuple follows
        &2i16.to_be_bytes(),     // Int16 columns
        b"t",                    //   key column
        &1i32.to_be_bytes(),     //   length
        b"1",                    //   value
        b"n",                    //   non-key column: sent as NULL
        b"N",                    // Byte1('N') new tuple follows
        &2i16.to_be_bytes(),     // Int16 columns
        b"t",                    //   text
        &1i32.to_be_bytes(),     //   length
        b"2",                    //   value
        b"t",                    //   text
        &3i32.to_be_bytes(),     //   length
        b"bob",                  //   value
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Update {
            xid: None,
            rel_id: 16389,
            old: Some(OldTuple::Key(vec![text("1"), TupleValue::Null])),
            new: vec![text("2"), text("bob")],
        },
    );
}

#[test]
fn update_with_old_full_row() {
    let buf = cat(&[
        b"U",                    // Byte1('U')
        &16396u32.to_be_bytes(), // Int32 relation OID
        b"O",                    // Byte1('O') old full tuple follows
        &1i16.to_be_bytes(),     // Int16 columns
        b"t",                    //   text
        &1i32.to_be_bytes(),     //   length
        b"x",                    //   value
        b"N",                    // Byte1('N') new tuple
        &1i16.to_be_bytes(),     // Int16 columns
        b"t",                    //   text
        &1i32.to_be_bytes(),     //   length
        b"y",                    //   value
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Update {
            xid: None,
            rel_id: 16396,
            old: Some(OldTuple::Full(vec![text("x")])),
            new: vec![text("y")],
        },
    );
}

#[test]
fn update_without_old() {
    let buf = cat(&[
        b"U",                // Byte1('U')
        &7u32.to_be_bytes(), // Int32 relation OID
        b"N",                // Byte1('N') new tuple, no old one
        &1i16.to_be_bytes(), // Int16 columns
        b"u",                //   unchanged TOAST
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Update {
            xid: None,
            rel_id: 7,
            old: None,
            new: vec![TupleValue::UnchangedToast],
        },
    );
}

#[test]
fn delete_with_old_key() {
    let buf = cat(&[
        b"D",                    // Byte1('D')
        &16389u32.to_be_bytes(), // Int32 relation OID
        b"K",                    // Byte1('K') old key tuple
        &2i16.to_be_bytes(),     // Int16 columns
        b"t",                    //   text
        &2i32.to_be_bytes(),     //   length
        b"17",                   //   value
        b"n",                    //   non-key column as NULL
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Delete {
            xid: None,
            rel_id: 16389,
            old: OldTuple::Key(vec![text("17"), TupleValue::Null]),
        },
    );
}

#[test]
fn truncate_two_relations_cascade() {
    let buf = cat(&[
        b"T",                    // Byte1('T')
        &2i32.to_be_bytes(),     // Int32 number of relations
        &[TRUNCATE_CASCADE],     // Int8 options: CASCADE
        &16389u32.to_be_bytes(), // Int32 relation OID
        &16396u32.to_be_bytes(), // Int32 relation OID
    ]);
    check(
        V1,
        &buf,
        PgOutputMessage::Truncate {
            xid: None,
            options: TRUNCATE_CASCADE,
            rel_ids: vec![16389, 16396],
        },
    );
}

#[test]
fn message_transactional_and_not() {
    for (flags, transactional) in [(1u8, true), (0u8, false)] {
        let buf = cat(&[
            b"M",                        // Byte1('M')
            &[flags],                    // Int8 flags: 1 = transactional
            &0x153EE18u64.to_be_bytes(), // Int64 message LSN
            b"siphon\0",                 // String prefix
            &5i32.to_be_bytes(),         // Int32 content length
            b"hello",                    // Byten content
        ]);
        check(
            V1,
            &buf,
            PgOutputMessage::Message {
                xid: None,
                transactional,
                lsn: 0x153EE18,
                prefix: "siphon".into(),
                content: Bytes::from_static(b"hello"),
            },
        );
    }
}

#[test]
fn message_in_stream_has_xid() {
    let buf = cat(&[
        b"M",                 // Byte1('M')
        &99u32.to_be_bytes(), // Int32 xid (streamed)
        &[1],                 // Int8 flags
        &1u64.to_be_bytes(),  // Int64 LSN
        b"p\0",               // String prefix
        &0i32.to_be_bytes(),  // Int32 content length
    ]);
    check(
        V2_STREAM,
        &buf,
        PgOutputMessage::Message {
            xid: Some(99),
            transactional: true,
            lsn: 1,
            prefix: "p".into(),
            content: Bytes::new(),
        },
    );
}

#[test]
fn stream_start_stop_commit_abort() {
    let start = cat(&[
        b"S",                  // Byte1('S')
        &743u32.to_be_bytes(), // Int32 xid
        &[1],                  // Int8 first segment
    ]);
    check(
        V2_STREAM.with_in_stream(false),
        &start,
        PgOutputMessage::StreamStart {
            xid: 743,
            first_segment: true,
        },
    );
    // Stop is a bare tag.
    check(V2_STREAM, &cat(&[b"E"]), PgOutputMessage::StreamStop);
    let commit = cat(&[
        b"c",                     // Byte1('c')
        &743u32.to_be_bytes(),    // Int32 xid
        &[0],                     // Int8 flags (unused)
        &0x2000u64.to_be_bytes(), // Int64 commit LSN
        &0x2030u64.to_be_bytes(), // Int64 end LSN
        &123i64.to_be_bytes(),    // Int64 commit timestamp
    ]);
    check(
        DecodeContext::new(2),
        &commit,
        PgOutputMessage::StreamCommit {
            xid: 743,
            flags: 0,
            commit_lsn: 0x2000,
            end_lsn: 0x2030,
            commit_ts: 123,
        },
    );
    let abort = cat(&[
        b"A",                  // Byte1('A')
        &745u32.to_be_bytes(), // Int32 xid
        &746u32.to_be_bytes(), // Int32 subtransaction xid
    ]);
    check(
        DecodeContext::new(2),
        &abort,
        PgOutputMessage::StreamAbort {
            xid: 745,
            subxid: 746,
        },
    );
}

#[test]
fn stream_abort_v4_parallel_fields_are_accepted_only_from_v4() {
    let abort = cat(&[
        b"A",                     // Byte1('A')
        &745u32.to_be_bytes(),    // Int32 xid
        &745u32.to_be_bytes(),    // Int32 subtransaction xid
        &0x3000u64.to_be_bytes(), // Int64 abort LSN (v4, streaming = parallel)
        &456i64.to_be_bytes(),    // Int64 abort timestamp (v4, parallel)
    ]);
    let want = PgOutputMessage::StreamAbort {
        xid: 745,
        subxid: 745,
    };
    assert_eq!(decode(DecodeContext::new(4), &abort), Ok(want.clone()));
    assert_eq!(decode(DecodeContext::new(5), &abort), Ok(want.clone()));
    // v4 without them (streaming = on) is fine too.
    assert_eq!(decode(DecodeContext::new(4), &abort.slice(..9)), Ok(want));
    // Before v4 they are trailing garbage.
    assert_eq!(
        decode(DecodeContext::new(2), &abort),
        Err(DecodeError::TrailingBytes {
            tag: 'A',
            extra: 16
        })
    );
    // v4 with half of them is truncated.
    assert_eq!(
        decode(DecodeContext::new(4), &abort.slice(..20)),
        Err(DecodeError::Truncated {
            what: "stream abort timestamp",
            needed: 8,
            have: 3
        })
    );
}

#[test]
fn epoch_conversion() {
    assert_eq!(pg_epoch_micros_to_unix_micros(0), 946_684_800_000_000);
    assert_eq!(pg_epoch_micros_to_unix_micros(-946_684_800_000_000), 0);
    assert_eq!(pg_epoch_micros_to_unix_micros(i64::MAX), i64::MAX);
    assert_eq!(
        pg_epoch_micros_to_unix_micros(i64::MIN),
        i64::MIN + 946_684_800_000_000
    );
}
