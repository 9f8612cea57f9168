//! How many bytes a change event holds in memory, roughly: what `max.queue.size.in.bytes`
//! counts. The variable-length values dominate (a 50 MB jsonb is 50 MB here); fixed-size
//! parts are counted at their in-memory size, so many small events weigh what they cost too.

use crate::event::{ChangeBatch, ChangeEvent, Decimal, Row, Value};

/// The bookkeeping of an event beyond its values (schema pointer, source block, options).
const EVENT_OVERHEAD: u64 = 256;

fn value_bytes(v: &Value) -> u64 {
    let heap = match v {
        Value::Text(s) | Value::Json(s) | Value::Enum(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Bits { bytes, .. } => bytes.len(),
        Value::Geometry { wkb, .. } => wkb.len(),
        Value::Decimal(Decimal::Finite { unscaled, .. }) => unscaled.bits().div_ceil(8) as usize,
        Value::EnumSet(items) => items.iter().map(|s| s.len() + 24).sum(),
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, String::len) + 48)
            .sum(),
        Value::Array(items) => return items.iter().map(value_bytes).sum::<u64>() + 24,
        _ => 0,
    };
    heap as u64 + size_of::<Value>() as u64
}

fn row_bytes(row: Option<&Row>) -> u64 {
    row.map_or(0, |r| r.0.iter().map(value_bytes).sum())
}

/// An event's approximate size in memory.
pub fn event_bytes(e: &ChangeEvent) -> u64 {
    let document = e.document.as_ref().map_or(0, |d| {
        let update = d.update.as_ref().map_or(0, |u| {
            u.updated_fields.as_ref().map_or(0, String::len)
                + u.removed_fields
                    .as_ref()
                    .map_or(0, |f| f.iter().map(String::len).sum())
                + u.truncated_arrays
                    .as_ref()
                    .map_or(0, |t| t.iter().map(|(p, _)| p.len() + 8).sum())
        });
        (d.id_json.len() + update) as u64
    });
    EVENT_OVERHEAD + row_bytes(e.before.as_ref()) + row_bytes(e.after.as_ref()) + document
}

/// A batch's approximate size in memory.
pub fn batch_bytes(b: &ChangeBatch) -> u64 {
    b.events.iter().map(event_bytes).sum::<u64>() + 64 * b.markers.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_values_count_at_their_length_and_small_events_still_weigh() {
        assert_eq!(
            value_bytes(&Value::Text("x".repeat(50 << 20))),
            (50 << 20) + size_of::<Value>() as u64
        );
        assert_eq!(value_bytes(&Value::Int64(7)), size_of::<Value>() as u64);
        let nested = Value::Array(vec![Value::Bytes(vec![0; 1000]), Value::Null]);
        assert!(value_bytes(&nested) > 1000);
        assert!(value_bytes(&Value::Null) > 0);
    }
}
