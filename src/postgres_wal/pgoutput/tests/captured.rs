//! Real messages captured from PostgreSQL 15 (protocol versions 1 and 2).

use super::*;

// ------------------------------------------------------------------
// Real bytes captured from PostgreSQL 15.18 with
//   SELECT lsn, xid, encode(data, 'hex')
//   FROM pg_logical_slot_peek_binary_changes('s1', NULL, NULL,
//        'proto_version', '1', 'publication_names', 'pub', 'messages', 'true')
// after:
//   CREATE TYPE mood AS ENUM ('sad','happy');
//   CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, bio text,
//                       score numeric(10,2), m mood);
//   CREATE TABLE audit (id bigint, note varchar(20)); -- REPLICA IDENTITY FULL
//   CREATE TABLE docs (id int PRIMARY KEY, body text, n int); -- body STORAGE EXTERNAL
//   CREATE PUBLICATION pub FOR ALL TABLES;
// ------------------------------------------------------------------

/// `INSERT INTO users VALUES (1,'alice',NULL,12.50,'happy')`: the whole
/// transaction, xid 733.
#[test]
fn real_pg15_v1_insert_transaction() {
    let begin = hex("42000000000153b6b0000303d900e719d2000002dd");
    let ty = hex("59000040017075626c6963006d6f6f6400");
    let rel = hex(
        "52000040057075626c6963007573657273006400050169640000000017ffffffff006e616d6500\
         00000019ffffffff0062696f0000000019ffffffff0073636f726500000006a4000a0006006d00\
         00004001ffffffff",
    );
    let insert = hex(
        "49000040054e00057400000001317400000005616c6963656e740000000531322e353074000000\
         056861707079",
    );
    let commit = hex("4300000000000153b6b0000000000153b6e0000303d900e719d2");

    let ts = 0x0003_03d9_00e7_19d2;
    assert_eq!(
        decode(V1, &begin),
        Ok(PgOutputMessage::Begin {
            final_lsn: 0x153_B6B0,
            commit_ts: ts,
            xid: 733
        })
    );
    // 2026-11-22T09:38:08.063954Z: the (fake) clock of the capturing machine.
    assert_eq!(pg_epoch_micros_to_unix_micros(ts), 1_795_340_288_063_954);
    assert_eq!(
        decode(V1, &ty),
        Ok(PgOutputMessage::Type {
            xid: None,
            type_oid: 16385,
            namespace: "public".into(),
            name: "mood".into()
        })
    );
    assert_eq!(
        decode(V1, &rel),
        Ok(PgOutputMessage::Relation(Relation {
            xid: None,
            rel_id: 16389,
            namespace: "public".into(),
            name: "users".into(),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![
                col(true, "id", 23, -1),
                col(false, "name", 25, -1),
                col(false, "bio", 25, -1),
                col(false, "score", 1700, (10 << 16 | 2) + 4),
                col(false, "m", 16385, -1),
            ],
        }))
    );
    assert_eq!(
        decode(V1, &insert),
        Ok(PgOutputMessage::Insert {
            xid: None,
            rel_id: 16389,
            new: vec![
                text("1"),
                text("alice"),
                TupleValue::Null,
                text("12.50"),
                text("happy")
            ],
        })
    );
    assert_eq!(
        decode(V1, &commit),
        Ok(PgOutputMessage::Commit {
            flags: 0,
            commit_lsn: 0x153_B6B0,
            end_lsn: 0x153_B6E0,
            commit_ts: ts
        })
    );
    // The test encoder reproduces the server's bytes exactly.
    for buf in [&begin, &ty, &rel, &insert, &commit] {
        assert_eq!(&encode(&decode(V1, buf).unwrap()), buf);
    }
}

/// The same insert with the `binary` option: 'b' values in send format.
#[test]
fn real_pg15_v1_binary_insert() {
    let insert = hex(
        "49000040054e00056200000004000000016200000005616c6963656e620000000c000200000000\
         0002000c138862000000056861707079",
    );
    let want_numeric: &[u8] = &[0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88]; // 12.50
    assert_eq!(
        decode(V1, &insert),
        Ok(PgOutputMessage::Insert {
            xid: None,
            rel_id: 16389,
            new: vec![
                TupleValue::Binary(Bytes::from_static(&[0, 0, 0, 1])),
                TupleValue::Binary(Bytes::from_static(b"alice")),
                TupleValue::Null,
                TupleValue::Binary(Bytes::copy_from_slice(want_numeric)),
                TupleValue::Binary(Bytes::from_static(b"happy")),
            ],
        })
    );
}

/// `UPDATE users SET name='alicia'` (no old tuple), `UPDATE users SET
/// id=2` (old key: non-key columns sent as NULL), `DELETE ... id=2`.
#[test]
fn real_pg15_v1_update_and_delete_with_key() {
    let upd = hex(
        "55000040054e00057400000001317400000006616c696369616e740000000531322e353074000000\
         056861707079",
    );
    assert_eq!(
        decode(V1, &upd),
        Ok(PgOutputMessage::Update {
            xid: None,
            rel_id: 16389,
            old: None,
            new: vec![
                text("1"),
                text("alicia"),
                TupleValue::Null,
                text("12.50"),
                text("happy")
            ],
        })
    );
    let upd_key = hex(
        "55000040054b00057400000001316e6e6e6e4e00057400000001327400000006616c696369616e74\
         0000000531322e353074000000056861707079",
    );
    assert_eq!(
        decode(V1, &upd_key),
        Ok(PgOutputMessage::Update {
            xid: None,
            rel_id: 16389,
            old: Some(OldTuple::Key(vec![
                text("1"),
                TupleValue::Null,
                TupleValue::Null,
                TupleValue::Null,
                TupleValue::Null
            ])),
            new: vec![
                text("2"),
                text("alicia"),
                TupleValue::Null,
                text("12.50"),
                text("happy")
            ],
        })
    );
    let del = hex("44000040054b00057400000001326e6e6e6e");
    assert_eq!(
        decode(V1, &del),
        Ok(PgOutputMessage::Delete {
            xid: None,
            rel_id: 16389,
            old: OldTuple::Key(vec![
                text("2"),
                TupleValue::Null,
                TupleValue::Null,
                TupleValue::Null,
                TupleValue::Null
            ]),
        })
    );
}

/// Table `audit` with REPLICA IDENTITY FULL: relation 'f' with every
/// column flagged as key, and 'O' old rows.
#[test]
fn real_pg15_v1_replica_identity_full() {
    let rel = hex(
        "520000400c7075626c6963006175646974006600020169640000000014ffffffff016e6f746500\
         0000041300000018",
    );
    assert_eq!(
        decode(V1, &rel),
        Ok(PgOutputMessage::Relation(Relation {
            xid: None,
            rel_id: 16396,
            namespace: "public".into(),
            name: "audit".into(),
            replica_identity: ReplicaIdentity::Full,
            columns: vec![col(true, "id", 20, -1), col(true, "note", 1043, 24)],
        }))
    );
    let upd = hex("550000400c4f00027400000001377400000001784e0002740000000137740000000179");
    assert_eq!(
        decode(V1, &upd),
        Ok(PgOutputMessage::Update {
            xid: None,
            rel_id: 16396,
            old: Some(OldTuple::Full(vec![text("7"), text("x")])),
            new: vec![text("7"), text("y")],
        })
    );
    let del = hex("440000400c4f0002740000000137740000000179");
    assert_eq!(
        decode(V1, &del),
        Ok(PgOutputMessage::Delete {
            xid: None,
            rel_id: 16396,
            old: OldTuple::Full(vec![text("7"), text("y")]),
        })
    );
}

/// `UPDATE docs SET n = 1` where `body` is a stored-out-of-line TOAST
/// value: the server sends it as 'u'.
#[test]
fn real_pg15_v1_unchanged_toast() {
    let upd = hex("550000400f4e000374000000013175740000000131");
    assert_eq!(
        decode(V1, &upd),
        Ok(PgOutputMessage::Update {
            xid: None,
            rel_id: 16399,
            old: None,
            new: vec![text("1"), TupleValue::UnchangedToast, text("1")],
        })
    );
}

/// `TRUNCATE users, audit CASCADE`.
#[test]
fn real_pg15_v1_truncate() {
    let t = hex("540000000201000040050000400c");
    assert_eq!(
        decode(V1, &t),
        Ok(PgOutputMessage::Truncate {
            xid: None,
            options: TRUNCATE_CASCADE,
            rel_ids: vec![16389, 16396],
        })
    );
}

/// `pg_logical_emit_message(true, 'siphon', 'hello')` and
/// `pg_logical_emit_message(false, 'siphon-nt', 'nontx')`.
#[test]
fn real_pg15_v1_logical_messages() {
    let tx = hex("4d01000000000153ee18736970686f6e000000000568656c6c6f");
    assert_eq!(
        decode(V1, &tx),
        Ok(PgOutputMessage::Message {
            xid: None,
            transactional: true,
            lsn: 0x153_EE18,
            prefix: "siphon".into(),
            content: Bytes::from_static(b"hello"),
        })
    );
    let nontx = hex("4d00000000000153ef78736970686f6e2d6e7400000000056e6f6e7478");
    assert_eq!(
        decode(V1, &nontx),
        Ok(PgOutputMessage::Message {
            xid: None,
            transactional: false,
            lsn: 0x153_EF78,
            prefix: "siphon-nt".into(),
            content: Bytes::from_static(b"nontx"),
        })
    );
}

/// A transaction replayed under replication origin 'upstream' with
/// `pg_replication_origin_xact_setup('0/ABCDEF', now())`.
#[test]
fn real_pg15_v1_origin() {
    let o = hex("4f0000000000abcdef757073747265616d00");
    assert_eq!(
        decode(V1, &o),
        Ok(PgOutputMessage::Origin {
            commit_lsn: 0xAB_CDEF,
            name: "upstream".into()
        })
    );
}

/// Protocol 2 with `streaming 'on'` and `logical_decoding_work_mem =
/// 64kB`: a 3000-row insert into `big (id int primary key, pad text)`
/// (xid 743) streamed in blocks and committed; a 3000-row insert rolled
/// back (xid 744); and a transaction (xid 745) whose subtransaction 746
/// was rolled back to a savepoint. Decoded as a consumer would, tracking
/// `in_stream`.
#[test]
fn real_pg15_v2_streamed_transactions() {
    let msgs = [
        "53000002e701",
        "52000002e7000040167075626c696300626967006400020169640000000017ffffffff0070616400\
         00000019ffffffff",
        "49000002e7000040164e00027400000001317400000032707070707070707070707070707070707070\
         7070707070707070707070707070707070707070707070707070707070707070",
        "45",
        "53000002e700",
        "45",
        "63000002e70000000000015c1d3800000000015c1d68000303d900e75ab6",
        "41000002e8000002e8",
        "41000002e9000002ea",
    ];
    let mut ctx = DecodeContext::new(2);
    let mut got = Vec::new();
    for m in msgs {
        let msg = decode(ctx, &hex(m)).unwrap();
        match msg {
            PgOutputMessage::StreamStart { .. } => ctx.in_stream = true,
            PgOutputMessage::StreamStop => ctx.in_stream = false,
            _ => {}
        }
        got.push(msg);
    }
    let pad = TupleValue::Text(Bytes::from(vec![b'p'; 50]));
    assert_eq!(
        got,
        vec![
            PgOutputMessage::StreamStart {
                xid: 743,
                first_segment: true
            },
            PgOutputMessage::Relation(Relation {
                xid: Some(743),
                rel_id: 16406,
                namespace: "public".into(),
                name: "big".into(),
                replica_identity: ReplicaIdentity::Default,
                columns: vec![col(true, "id", 23, -1), col(false, "pad", 25, -1)],
            }),
            PgOutputMessage::Insert {
                xid: Some(743),
                rel_id: 16406,
                new: vec![text("1"), pad]
            },
            PgOutputMessage::StreamStop,
            PgOutputMessage::StreamStart {
                xid: 743,
                first_segment: false
            },
            PgOutputMessage::StreamStop,
            PgOutputMessage::StreamCommit {
                xid: 743,
                flags: 0,
                commit_lsn: 0x15C_1D38,
                end_lsn: 0x15C_1D68,
                commit_ts: 0x0003_03d9_00e7_5ab6
            },
            PgOutputMessage::StreamAbort {
                xid: 744,
                subxid: 744
            },
            PgOutputMessage::StreamAbort {
                xid: 745,
                subxid: 746
            },
        ]
    );
}
