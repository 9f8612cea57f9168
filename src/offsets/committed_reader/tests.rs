//! Unit tests of the pure part: the transaction filter, control keys, batch splitting and
//! decoding (with batches made by `kafka-protocol`'s encoder), error classification.

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, Record,
    RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use proptest::prelude::*;
use std::collections::{BTreeSet, VecDeque};

use super::*;

// ---------------------------------------------------------------- the filter

fn record(offset: i64) -> CommittedRecord {
    CommittedRecord {
        partition: 0,
        offset,
        key: Some(Bytes::from(format!("k{offset}"))),
        value: Some(Bytes::from(format!("v{offset}"))),
        headers: Vec::new(),
        timestamp: 1_000 + offset,
    }
}

fn data(producer_id: i64, transactional: bool, offsets: &[i64]) -> DecodedBatch {
    DecodedBatch {
        producer_id,
        kind: BatchKind::Data { transactional },
        records: offsets.iter().map(|&o| record(o)).collect(),
    }
}

fn txn(producer_id: i64, offsets: &[i64]) -> DecodedBatch {
    data(producer_id, true, offsets)
}

fn control(producer_id: i64, kind: ControlType) -> DecodedBatch {
    DecodedBatch {
        producer_id,
        kind: BatchKind::Control(kind),
        records: Vec::new(),
    }
}

fn offsets(f: &Filtered) -> Vec<i64> {
    f.records.iter().map(|r| r.offset).collect()
}

#[test]
fn commit_delivers_the_held_records() {
    let f = filter_committed([
        txn(7, &[0, 1]),
        txn(7, &[2]),
        control(7, ControlType::Commit),
    ]);
    assert_eq!(offsets(&f), [0, 1, 2]);
    assert_eq!(f.records[1], record(1));
    assert_eq!((f.open_transactions, f.aborted_transactions), (0, 0));
}

#[test]
fn abort_drops_the_held_records() {
    let f = filter_committed([
        txn(7, &[0, 1]),
        control(7, ControlType::Abort),
        txn(7, &[3]),
        control(7, ControlType::Commit),
    ]);
    assert_eq!(offsets(&f), [3]);
    assert_eq!((f.open_transactions, f.aborted_transactions), (0, 1));
}

#[test]
fn non_transactional_records_are_delivered_at_once() {
    // An idempotent producer has a producer id too; only the transactional flag matters.
    let f = filter_committed([data(-1, false, &[0]), data(9, false, &[1, 2])]);
    assert_eq!(offsets(&f), [0, 1, 2]);
    assert_eq!(f.open_transactions, 0);
}

#[test]
fn interleaved_producers_are_resolved_separately_and_delivered_in_offset_order() {
    let f = filter_committed([
        txn(1, &[0]),
        txn(2, &[1]),
        data(-1, false, &[2]),
        txn(1, &[3]),
        txn(3, &[4]),
        control(2, ControlType::Abort),
        data(-1, false, &[6]),
        control(1, ControlType::Commit),
        txn(2, &[8]),
        control(3, ControlType::Commit),
        control(2, ControlType::Commit),
    ]);
    assert_eq!(offsets(&f), [0, 2, 3, 4, 6, 8]);
    assert_eq!((f.open_transactions, f.aborted_transactions), (0, 1));
}

#[test]
fn a_transaction_open_at_the_end_is_counted_not_delivered() {
    let f = filter_committed([
        txn(1, &[0]),
        control(1, ControlType::Commit),
        txn(2, &[2, 3]),
        data(-1, false, &[4]),
        txn(1, &[5]),
    ]);
    assert_eq!(offsets(&f), [0, 4]);
    assert_eq!((f.open_transactions, f.aborted_transactions), (2, 0));
}

#[test]
fn markers_without_records_and_other_control_types_change_nothing() {
    let f = filter_committed([
        control(5, ControlType::Abort),
        control(5, ControlType::Commit),
        txn(5, &[2]),
        control(5, ControlType::Other(2)),
        txn(6, &[]), // emptied by compaction: opens nothing
    ]);
    assert!(f.records.is_empty());
    assert_eq!((f.open_transactions, f.aborted_transactions), (1, 0));
}

#[test]
fn incremental_filter_matches_the_batch_function() {
    let batches = vec![
        txn(1, &[0]),
        data(-1, false, &[1]),
        control(1, ControlType::Commit),
    ];
    let mut filter = TxnFilter::default();
    for b in batches.clone() {
        filter.push(b);
    }
    assert_eq!(filter.finish(), filter_committed(batches));
}

/// One transaction of the property test: its producer, its fate, its number of records.
#[derive(Debug, Clone)]
struct Txn {
    producer: i64,
    fate: u8, // 0 commit, 1 abort, 2 left open, 3 non-transactional
    len: usize,
}

fn txns() -> impl Strategy<Value = Vec<Txn>> {
    prop::collection::vec(
        (0i64..4, 0u8..4, 1usize..4).prop_map(|(producer, fate, len)| Txn {
            producer,
            fate,
            len,
        }),
        0..12,
    )
}

/// A log of `txns`, each producer's in order, producers interleaved by `seed`. Returns the log,
/// the offsets read_committed must deliver, and the open and aborted transaction counts.
fn interleaved_log(txns: &[Txn], seed: u64) -> (Vec<DecodedBatch>, Vec<i64>, usize, usize) {
    let mut streams: BTreeMap<i64, VecDeque<DecodedBatch>> = BTreeMap::new();
    let mut fates = Vec::new(); // by provisional offset
    let (mut open, mut aborted) = (BTreeSet::new(), 0);
    for t in txns {
        // A producer that left a transaction open writes nothing transactional after it.
        if open.contains(&t.producer) && t.fate != 3 {
            continue;
        }
        // Non-transactional records get a stream of their own (no producer id semantics).
        let stream = streams
            .entry(if t.fate == 3 {
                100 + t.producer
            } else {
                t.producer
            })
            .or_default();
        for _ in 0..t.len {
            let offset = fates.len() as i64;
            stream.push_back(data(t.producer, t.fate != 3, &[offset]));
            fates.push(t.fate);
        }
        match t.fate {
            0 => stream.push_back(control(t.producer, ControlType::Commit)),
            1 => {
                stream.push_back(control(t.producer, ControlType::Abort));
                aborted += 1;
            }
            2 => {
                open.insert(t.producer);
            }
            _ => {}
        }
    }
    let mut streams: Vec<VecDeque<DecodedBatch>> = streams.into_values().collect();
    let (mut log, mut rng) = (Vec::new(), seed);
    while streams.iter().any(|s| !s.is_empty()) {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let live: Vec<usize> = (0..streams.len())
            .filter(|&i| !streams[i].is_empty())
            .collect();
        if let Some(b) = streams[live[(rng >> 33) as usize % live.len()]].pop_front() {
            log.push(b);
        }
    }
    // The log assigns offsets in append order (a control record takes one too): relabel.
    let (mut expected, mut next) = (Vec::new(), 0i64);
    for b in &mut log {
        for r in &mut b.records {
            if matches!(fates[r.offset as usize], 0 | 3) {
                expected.push(next);
            }
            r.offset = next;
            next += 1;
        }
        if b.records.is_empty() {
            next += 1;
        }
    }
    (log, expected, open.len(), aborted)
}

proptest! {
    /// Whatever the interleaving of the producers' transactions, exactly the committed and
    /// non-transactional records come out, in offset order.
    #[test]
    fn delivers_exactly_committed_and_plain_records(txns in txns(), seed in any::<u64>()) {
        let (log, expected, open, aborted) = interleaved_log(&txns, seed);
        let f = filter_committed(log);
        prop_assert_eq!(offsets(&f), expected);
        prop_assert_eq!(f.open_transactions, open);
        prop_assert_eq!(f.aborted_transactions, aborted);
    }

    /// Arbitrary bytes as a Fetch `records` field: an error or a result, never a panic.
    #[test]
    fn arbitrary_fetch_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut c = cursor(0, 100);
        let _ = c.apply(0, Bytes::from(bytes));
    }

    /// A valid log with a few bytes changed (the batch header before the CRC is not covered by
    /// it) or cut short: an error or a result, never a panic.
    #[test]
    fn damaged_fetch_bytes_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut log = concat(&[
            encode(&[wire_record(0, 3, true), wire_record(1, 3, true)], Compression::None),
            encode(&[marker(2, 3, true)], Compression::None),
        ]).to_vec();
        for (at, byte) in flips {
            let i = at.index(log.len());
            log[i] = byte;
        }
        log.truncate(cut.index(log.len() + 1));
        let mut c = cursor(0, 100);
        let _ = c.apply(0, Bytes::from(log));
    }
}

// ---------------------------------------------------------------- control keys

#[test]
fn control_keys() {
    let key = |v: [u8; 4]| Some(Bytes::copy_from_slice(&v));
    assert_eq!(
        ControlType::from_key(key([0, 0, 0, 0]).as_ref()).ok(),
        Some(ControlType::Abort)
    );
    assert_eq!(
        ControlType::from_key(key([0, 0, 0, 1]).as_ref()).ok(),
        Some(ControlType::Commit)
    );
    assert_eq!(
        ControlType::from_key(key([0, 0, 0, 2]).as_ref()).ok(),
        Some(ControlType::Other(2))
    );
    assert!(ControlType::from_key(None).is_err());
    assert!(ControlType::from_key(Some(&Bytes::from_static(&[0, 0, 1]))).is_err());
}

// ---------------------------------------------------------------- batches on the wire

fn wire_record(offset: i64, producer_id: i64, transactional: bool) -> Record {
    Record {
        transactional,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
        producer_id,
        producer_epoch: if producer_id < 0 {
            NO_PRODUCER_EPOCH
        } else {
            0
        },
        timestamp_type: TimestampType::Creation,
        offset,
        sequence: offset as i32,
        timestamp: 1_700_000_000_000 + offset,
        key: Some(Bytes::from(format!("k{offset}"))),
        value: Some(Bytes::from(format!("v{offset}"))),
        headers: Default::default(),
    }
}

fn marker(offset: i64, producer_id: i64, commit: bool) -> Record {
    Record {
        control: true,
        key: Some(Bytes::from_static(if commit {
            &[0, 0, 0, 1]
        } else {
            &[0, 0, 0, 0]
        })),
        value: Some(Bytes::from_static(&[0, 0, 0, 0, 0, 0])),
        ..wire_record(offset, producer_id, true)
    }
}

fn encode(records: &[Record], compression: Compression) -> Bytes {
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .expect("encode batch");
    buf.freeze()
}

fn concat(parts: &[Bytes]) -> Bytes {
    parts.concat().into()
}

fn cursor(start: i64, end: i64) -> Cursor {
    Cursor {
        end,
        ..Cursor::new(start)
    }
}

fn cursor_offsets(c: Cursor) -> (Vec<i64>, usize) {
    let p = c.finish(0);
    (
        p.records.iter().map(|r| r.offset).collect(),
        p.open_transactions,
    )
}

#[test]
fn fetch_bytes_with_commit_abort_plain_and_headers() {
    let mut with_headers = wire_record(0, 4, true);
    with_headers.headers.insert(
        StrBytes::from_static_str("source"),
        Some(Bytes::from_static(b"pg")),
    );
    with_headers
        .headers
        .insert(StrBytes::from_static_str("empty"), None);
    let log = concat(&[
        encode(&[with_headers, wire_record(1, 4, true)], Compression::None),
        encode(&[wire_record(2, NO_PRODUCER_ID, false)], Compression::None),
        encode(&[marker(3, 4, true)], Compression::None),
        encode(&[wire_record(4, 4, true)], Compression::None),
        encode(&[marker(5, 4, false)], Compression::None),
    ]);
    let mut c = cursor(0, 6);
    assert!(!c.apply(3, log).expect("apply"));
    assert_eq!(c.next, 6);
    let p = c.finish(3);
    assert_eq!(
        p.records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!((p.open_transactions, p.aborted_transactions), (0, 1));
    let first = &p.records[0];
    assert_eq!(first.partition, 3);
    assert_eq!(first.key.as_deref(), Some(&b"k0"[..]));
    assert_eq!(first.value.as_deref(), Some(&b"v0"[..]));
    assert_eq!(first.timestamp, 1_700_000_000_000);
    assert_eq!(
        first.headers,
        [
            ("source".to_owned(), Some(Bytes::from_static(b"pg"))),
            ("empty".to_owned(), None)
        ]
    );
}

#[test]
fn compressed_batches_are_decoded() {
    for compression in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let txn: Vec<Record> = (0..5).map(|o| wire_record(o, 9, true)).collect();
        let log = concat(&[
            encode(&txn, compression),
            encode(&[marker(5, 9, true)], compression),
        ]);
        let mut c = cursor(0, 6);
        c.apply(0, log).expect("apply");
        assert_eq!(
            cursor_offsets(c),
            (vec![0, 1, 2, 3, 4], 0),
            "{compression:?}"
        );
    }
}

#[test]
fn records_outside_the_read_range_are_skipped() {
    let log = concat(&[
        encode(
            &(0..4)
                .map(|o| wire_record(o, -1, false))
                .collect::<Vec<_>>(),
            Compression::None,
        ),
        encode(&[wire_record(4, 2, true)], Compression::None),
        encode(&[marker(5, 2, true)], Compression::None), // at the high watermark: not read
    ]);
    // The batch starts below the requested offset (log start inside a batch).
    let mut c = cursor(2, 5);
    c.apply(0, log.clone()).expect("apply");
    assert!(c.done());
    assert_eq!(cursor_offsets(c), (vec![2, 3], 1));
    // Batches wholly below the range deliver nothing and never move the cursor back.
    let mut c = cursor(5, 6);
    c.apply(0, log).expect("apply");
    assert_eq!(c.next, 6);
    assert_eq!(cursor_offsets(c), (vec![], 0));
}

#[test]
fn a_partial_trailing_batch_is_reported_and_read_on_the_next_fetch() {
    let first = encode(&[wire_record(0, -1, false)], Compression::None);
    let second = encode(&[wire_record(1, -1, false)], Compression::None);
    let whole = concat(&[first.clone(), second.clone()]);
    let mut c = cursor(0, 2);
    assert!(c.apply(0, whole.slice(..whole.len() - 3)).expect("apply"));
    assert_eq!(c.next, 1);
    assert!(c.apply(0, concat(&[second.slice(..5)])).expect("apply"));
    assert_eq!(c.next, 1);
    assert!(!c.apply(0, second).expect("apply"));
    assert_eq!(cursor_offsets(c), (vec![0, 1], 0));
    assert!(split_batches(Bytes::new()).expect("empty").0.is_empty());
}

#[test]
fn malformed_batches_are_errors() {
    let good = encode(&[wire_record(0, -1, false)], Compression::None);
    let mut negative = good.to_vec();
    negative[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    let mut crc = good.to_vec();
    let last = crc.len() - 1;
    crc[last] ^= 0xff;
    let mut magic = good.to_vec();
    magic[16] = 1;
    let mut short = good[..40].to_vec();
    short[8..12].copy_from_slice(&28i32.to_be_bytes());
    for (what, bytes) in [
        ("negative length", negative),
        ("bad crc", crc),
        ("message format v1", magic),
        ("shorter than a header", short),
    ] {
        let err = cursor(0, 10).apply(0, Bytes::from(bytes)).expect_err(what);
        assert!(matches!(err, ReaderError::Protocol(_)), "{what}: {err:?}");
        assert!(!err.is_transient());
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn error_classification_and_messages() {
    let broker = |code| ReaderError::Broker { api: "Fetch", code };
    assert!(broker(6).is_transient()); // NOT_LEADER_OR_FOLLOWER
    assert!(broker(7).is_transient()); // REQUEST_TIMED_OUT
    assert!(!broker(1).is_transient()); // OFFSET_OUT_OF_RANGE
    assert!(!broker(29).is_transient()); // TOPIC_AUTHORIZATION_FAILED
    assert!(!broker(9999).is_transient());
    assert!(ReaderError::Timeout(Duration::from_secs(1)).is_transient());
    assert!(ReaderError::Io(std::io::ErrorKind::ConnectionReset.into()).is_transient());
    assert!(!ReaderError::UnknownTopic("t".into()).is_transient());
    assert_eq!(
        broker(6).to_string(),
        "Kafka Fetch returned error 6 (NotLeaderOrFollower)"
    );
}
