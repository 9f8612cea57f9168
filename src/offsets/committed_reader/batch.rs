//! Record batches (v2) as they come in a Fetch response: splitting, decoding, and the read
//! progress of one partition.

use bytes::{Buf, Bytes};
use kafka_protocol::records::RecordBatchDecoder;

use super::{
    BatchKind, CommittedRecord, ControlType, DecodedBatch, PartitionRecords, ReaderError, TxnFilter,
};

/// Bytes of a v2 batch header, from the base offset to the record count.
pub(super) const BATCH_HEADER_LEN: usize = 61;
pub(super) const ATTR_TRANSACTIONAL: i16 = 1 << 4;
pub(super) const ATTR_CONTROL: i16 = 1 << 5;

/// Splits a partition's `records` into whole batches. `true` if a trailing partial batch was
/// cut off (the broker truncates at the byte limit).
pub(crate) fn split_batches(mut buf: Bytes) -> Result<(Vec<Bytes>, bool), ReaderError> {
    let mut batches = Vec::new();
    while buf.len() >= 12 {
        let len = (&buf[8..12]).get_i32();
        let len = usize::try_from(len)
            .map_err(|_| ReaderError::Protocol(format!("negative record batch length {len}")))?;
        let total = 12 + len;
        if buf.len() < total {
            return Ok((batches, true));
        }
        batches.push(buf.split_to(total));
    }
    Ok((batches, !buf.is_empty()))
}

/// Records a compressed batch may claim: far more than a broker's largest batch holds.
const MAX_COMPRESSED_RECORDS: usize = 1 << 20;

/// Refuses a batch that claims more records than it can hold before kafka-protocol reserves
/// room for them all (a corrupt count asked it for hundreds of gigabytes: the `kafka_batches`
/// fuzz target). Uncompressed, every record takes at least one byte.
fn check_record_count(raw: &[u8], base_offset: i64, attributes: i16) -> Result<(), ReaderError> {
    let count = i32::from_be_bytes([raw[57], raw[58], raw[59], raw[60]]);
    let body = raw.len() - BATCH_HEADER_LEN;
    let compressed = attributes & 0x7 != 0;
    let limit = if compressed {
        MAX_COMPRESSED_RECORDS
    } else {
        body
    };
    match usize::try_from(count) {
        Ok(n) if n <= limit => Ok(()),
        _ => Err(ReaderError::Protocol(format!(
            "record batch at offset {base_offset} claims {count} records in {body} bytes"
        ))),
    }
}

/// Decodes one whole batch of `partition`, keeping records with `from <= offset < to`.
/// Returns the offset after the batch, and the batch unless no part of it is in range.
pub(crate) fn decode_batch(
    raw: Bytes,
    partition: i32,
    from: i64,
    to: i64,
) -> Result<(i64, Option<DecodedBatch>), ReaderError> {
    if raw.len() < BATCH_HEADER_LEN {
        return Err(ReaderError::Protocol(format!(
            "record batch of {} bytes is shorter than its header",
            raw.len()
        )));
    }
    let base_offset = (&raw[0..8]).get_i64();
    let magic = raw[16];
    if magic != 2 {
        return Err(ReaderError::Protocol(format!(
            "record batch at offset {base_offset} has message format v{magic}; only v2 is supported"
        )));
    }
    let attributes = (&raw[21..23]).get_i16();
    let last_offset_delta = (&raw[23..27]).get_i32();
    let producer_id = (&raw[43..51]).get_i64();
    if last_offset_delta < 0 {
        return Err(ReaderError::Protocol(format!(
            "record batch at offset {base_offset} has last offset delta {last_offset_delta}"
        )));
    }
    let after = base_offset.saturating_add(i64::from(last_offset_delta) + 1);
    if after <= from || base_offset >= to {
        return Ok((after, None));
    }
    check_record_count(&raw, base_offset, attributes)?;
    let set = RecordBatchDecoder::decode(&mut raw.clone())
        .map_err(|e| ReaderError::Protocol(format!("record batch at {base_offset}: {e:#}")))?;
    // Never beyond the batch's own end: the cursor moves there, so nothing is read twice.
    let in_range = |offset: i64| offset >= from && offset < to.min(after);
    let batch = if attributes & ATTR_CONTROL != 0 {
        let Some(record) = set.records.iter().find(|r| in_range(r.offset)) else {
            return Ok((after, None));
        };
        DecodedBatch {
            producer_id,
            kind: BatchKind::Control(ControlType::from_key(record.key.as_ref())?),
            records: Vec::new(),
        }
    } else {
        let records = set
            .records
            .into_iter()
            .filter(|r| in_range(r.offset))
            .map(|r| CommittedRecord {
                partition,
                offset: r.offset,
                key: r.key,
                value: r.value,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v))
                    .collect(),
                timestamp: r.timestamp,
            })
            .collect();
        DecodedBatch {
            producer_id,
            kind: BatchKind::Data {
                transactional: attributes & ATTR_TRANSACTIONAL != 0,
            },
            records,
        }
    };
    Ok((after, Some(batch)))
}

/// Read progress of one partition.
#[derive(Debug)]
pub(super) struct Cursor {
    pub(super) log_start: i64,
    pub(super) next: i64,
    /// The high watermark of the first Fetch response (`i64::MAX` until then).
    pub(super) end: i64,
    pub(super) filter: TxnFilter,
}

impl Cursor {
    pub(super) fn new(log_start: i64) -> Self {
        Cursor {
            log_start,
            next: log_start,
            end: i64::MAX,
            filter: TxnFilter::default(),
        }
    }

    pub(super) fn done(&self) -> bool {
        self.next >= self.end
    }

    /// Applies a Fetch response's `records`; `true` if a partial batch was cut off.
    pub(super) fn apply(&mut self, partition: i32, records: Bytes) -> Result<bool, ReaderError> {
        let (batches, truncated) = split_batches(records)?;
        for raw in batches {
            let (after, batch) = decode_batch(raw, partition, self.next, self.end)?;
            if let Some(batch) = batch {
                self.filter.push(batch);
            }
            self.next = self.next.max(after);
        }
        Ok(truncated)
    }

    pub(super) fn finish(self, partition: i32) -> PartitionRecords {
        let f = self.filter.finish();
        PartitionRecords {
            partition,
            log_start_offset: self.log_start,
            high_watermark: self.end,
            records: f.records,
            open_transactions: f.open_transactions,
            open_records: f.open_records,
            aborted_transactions: f.aborted_transactions,
        }
    }
}

#[cfg(test)]
mod count_tests {
    use super::*;

    fn header(count: i32, body: usize) -> Vec<u8> {
        let mut raw = vec![0u8; BATCH_HEADER_LEN + body];
        raw[57..61].copy_from_slice(&count.to_be_bytes());
        raw
    }

    #[test]
    fn a_batch_cannot_claim_more_records_than_it_can_hold() {
        assert!(check_record_count(&header(10, 10), 0, 0).is_ok());
        let e = check_record_count(&header(11, 10), 7, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("offset 7 claims 11 records in 10 bytes"), "{e}");
        assert!(check_record_count(&header(-1, 10), 0, 0).is_err());
        // Compressed (zstd): many records per byte are fine, billions are not.
        assert!(check_record_count(&header(1000, 10), 0, 4).is_ok());
        assert!(check_record_count(&header(i32::MAX, 10), 0, 4).is_err());
    }
}
