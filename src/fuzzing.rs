//! Entry points for the cargo-fuzz targets in `fuzz/`, not an API: each runs crate-private
//! decoders on raw bytes exactly as the readers do, so the targets fuzz the real code paths
//! without the decoders becoming public.

use bytes::Bytes;
use mysql_async::binlog::events::{Event, EventData, FormatDescriptionEvent, RowsEventData};
use mysql_async::binlog::{BinlogVersion, EventType};

use crate::event::Value;
use crate::mysql_binlog::column::{MyColumn, kind_from_info};
use crate::mysql_binlog::table_map::columns_of;
use crate::mysql_binlog::value::{Origin, ValueError, convert, from_binlog};
use crate::offsets::committed_reader::{Filtered, ReaderError, TxnFilter};
use crate::offsets::committed_reader::{decode_batch, split_batches};

pub use crate::api::error::string_map;
pub use crate::mysql_binlog::column::{ColumnInfo, Kind};
pub use mysql_async::Value as MyValue;

/// A column as a TABLE_MAP event describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MyColumnView {
    pub name: String,
    pub source_type: String,
    pub nullable: bool,
}

/// One row image: a model value per column; `None` when the event has no such image.
pub type Image = Option<Vec<Value>>;

/// What a TABLE_MAP event and a rows event of that table decode to.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRows {
    pub columns: Vec<MyColumnView>,
    pub primary_key: Vec<usize>,
    /// Per row: the before and after images, as model values, one per column.
    pub rows: Vec<(Image, Image)>,
}

/// The rows event types a reader sees, chosen by `selector`.
const ROWS_EVENTS: [EventType; 7] = [
    EventType::WRITE_ROWS_EVENT,
    EventType::UPDATE_ROWS_EVENT,
    EventType::DELETE_ROWS_EVENT,
    EventType::WRITE_ROWS_EVENT_V1,
    EventType::UPDATE_ROWS_EVENT_V1,
    EventType::DELETE_ROWS_EVENT_V1,
    EventType::PARTIAL_UPDATE_ROWS_EVENT,
];

/// One binlog event (v4 header, no checksum) with the given body, as the stream delivers it.
fn binlog_event(fde: &FormatDescriptionEvent<'_>, ty: EventType, body: &[u8]) -> Option<Event> {
    let size = u32::try_from(19 + body.len()).ok()?;
    let mut raw = Vec::with_capacity(19 + body.len());
    raw.extend_from_slice(&0u32.to_le_bytes()); // timestamp
    raw.push(ty as u8);
    raw.extend_from_slice(&1u32.to_le_bytes()); // server id
    raw.extend_from_slice(&size.to_le_bytes());
    raw.extend_from_slice(&0u32.to_le_bytes()); // next position
    raw.extend_from_slice(&0u16.to_le_bytes()); // flags
    raw.extend_from_slice(body);
    Event::read(fde, raw.as_slice()).ok()
}

/// Decodes the body of a TABLE_MAP event, then the body of a rows event (type picked by
/// `selector`) of that table, the way the MySQL reader's stream does: columns from the
/// table map, every row of the event decoded, then each value mapped to the model.
pub fn mysql_rows(
    table_map: &[u8],
    rows: &[u8],
    selector: u8,
    bigint_precise: bool,
) -> Result<DecodedRows, String> {
    let fde = FormatDescriptionEvent::new(BinlogVersion::Version4);
    let tm_event =
        binlog_event(&fde, EventType::TABLE_MAP_EVENT, table_map).ok_or("not a table map event")?;
    let Some(EventData::TableMapEvent(tme)) = tm_event.read_data().map_err(|e| e.to_string())?
    else {
        return Err("not a table map event".into());
    };
    let (columns, primary_key) = columns_of(&tme).map_err(|e| e.to_string())?;
    let ty = ROWS_EVENTS[usize::from(selector) % ROWS_EVENTS.len()];
    let rows_event = binlog_event(&fde, ty, rows).ok_or("not a rows event")?;
    let Some(EventData::RowsEvent(data)) = rows_event.read_data().map_err(|e| e.to_string())?
    else {
        return Err("not a rows event".into());
    };
    if let RowsEventData::PartialUpdateRowsEvent(_) = data {
        // The reader refuses these before decoding any row.
        return Err("partial JSON update".into());
    }
    // As `stream.rs` does: up to the first error, and no more rows than bytes (the driver's
    // iterator may not end on a malformed event).
    let mut out = Vec::new();
    let decoded = crate::mysql_binlog::bounded_rows(data.rows(&tme), data.rows_data().len())?;
    for (before, after) in decoded {
        let convert = |row: Option<mysql_async::binlog::row::BinlogRow>| {
            let Some(row) = row else { return Ok(None) };
            let mut values = Vec::with_capacity(columns.len());
            for (v, col) in row.unwrap().into_iter().zip(&columns) {
                values.push(from_binlog(v, col, bigint_precise).map_err(|e| e.to_string())?);
            }
            values.resize(columns.len(), Value::Unavailable);
            Ok::<_, String>(Some(values))
        };
        out.push((convert(before)?, convert(after)?));
    }
    Ok(DecodedRows {
        columns: columns
            .iter()
            .map(|c| MyColumnView {
                name: c.name.clone(),
                source_type: c.source_type.clone(),
                nullable: c.nullable,
            })
            .collect(),
        primary_key,
        rows: out,
    })
}

/// The snapshot's mapping of one column: its kind from its `information_schema` row (as
/// `setup.rs` builds it), then one value as a binary-protocol result set returns it.
pub fn mysql_value(
    info: &ColumnInfo,
    value: MyValue,
    bigint_precise: bool,
) -> (Kind, Result<Value, ValueError>) {
    let col = MyColumn {
        name: "c".into(),
        kind: kind_from_info(info),
        nullable: info.nullable,
        source_type: info.column_type.to_ascii_uppercase(),
        default: None,
    };
    let out = convert(value, &col, Origin::Snapshot, bigint_precise);
    (col.kind, out)
}

/// What the committed reader makes of one Fetch response's `records` of a partition.
#[derive(Debug)]
pub struct KafkaRead {
    /// Byte length of each whole batch found.
    pub batch_lengths: Vec<usize>,
    /// A trailing partial batch was cut off.
    pub truncated: bool,
    /// The offset to fetch next.
    pub next: i64,
    pub filtered: Filtered,
}

/// Splits `records` into batches and decodes those in `[from, to)` into the read_committed
/// filter, as the committed reader's per-partition cursor does with each Fetch response.
pub fn kafka_records(records: &[u8], from: i64, to: i64) -> Result<KafkaRead, ReaderError> {
    let (batches, truncated) = split_batches(Bytes::copy_from_slice(records))?;
    let batch_lengths = batches.iter().map(Bytes::len).collect();
    let mut filter = TxnFilter::default();
    let mut next = from;
    for raw in batches {
        let (after, batch) = decode_batch(raw, 0, next, to)?;
        if let Some(batch) = batch {
            filter.push(batch);
        }
        next = next.max(after);
    }
    Ok(KafkaRead {
        batch_lengths,
        truncated,
        next,
        filtered: filter.finish(),
    })
}
