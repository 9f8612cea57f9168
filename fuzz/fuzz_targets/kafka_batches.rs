//! cargo-fuzz target for the committed reader's raw record-batch parser (the `records` of a
//! partition in a Fetch response): splitting into batches, decoding each v2 batch and the
//! read_committed filter never panic nor allocate far beyond the input, and what comes out is
//! consistent: the batches tile the input, delivered and open records lie in the requested
//! range, in offset order, and every open transaction holds at least one record.
//!
//! Input: flags byte (bit 0: fix each batch's CRC so mutations reach the records; bit 1: read
//! to the end rather than to a small high watermark), start offset byte, then the records.

#![no_main]

#[path = "common/alloc.rs"]
mod alloc;

use libfuzzer_sys::fuzz_target;
use siphon::fuzzing::kafka_records;

/// Rewrites the CRC-32C of every whole batch (over the bytes after the CRC field), as a broker
/// would have written it, so the fuzzer is not stopped at the checksum.
fn fix_crcs(records: &mut [u8]) {
    let mut at = 0;
    while records.len() >= at + 12 {
        let len = i32::from_be_bytes(records[at + 8..at + 12].try_into().unwrap());
        let Ok(len) = usize::try_from(len) else {
            return;
        };
        let end = at + 12 + len;
        if end > records.len() || len < 9 {
            return;
        }
        let crc = crc32c::crc32c(&records[at + 21..end]);
        records[at + 17..at + 21].copy_from_slice(&crc.to_be_bytes());
        at = end;
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, start, rest @ ..] = data else {
        return;
    };
    let mut records = rest.to_vec();
    if flags & 1 != 0 {
        fix_crcs(&mut records);
    }
    let from = i64::from(*start);
    let to = if flags & 2 != 0 {
        i64::MAX
    } else {
        from + i64::from(flags >> 2)
    };
    let result = alloc::bounded(data.len(), || kafka_records(&records, from, to));
    let read = match result {
        Ok(read) => read,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let whole: usize = read.batch_lengths.iter().sum();
    assert!(read.batch_lengths.iter().all(|&n| n >= 12));
    assert_eq!(
        read.truncated,
        whole != records.len(),
        "batches tile the input"
    );
    assert!(read.next >= from);
    let f = &read.filtered;
    for list in [&f.records, &f.open_records] {
        assert!(
            list.windows(2).all(|w| w[0].offset <= w[1].offset),
            "in offset order"
        );
        for r in list {
            assert!(
                r.offset >= from && r.offset < to && r.offset < read.next,
                "{}",
                r.offset
            );
            assert_eq!(r.partition, 0);
        }
    }
    assert!(f.open_records.len() >= f.open_transactions);
});
