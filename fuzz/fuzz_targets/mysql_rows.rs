//! cargo-fuzz target for the MySQL binlog row and value decoders: a TABLE_MAP event body and a
//! rows event body (write, update, delete, v1 or v2, partial update) decode to the table's
//! columns and rows of model values, or to an error; never a panic, never an allocation far
//! beyond the input's size, and every image has one value per column.
//!
//! Input: selector byte (rows event type), flags byte (bit 0: bigint.unsigned.handling.mode
//! precise), table-map body length (u16 LE), the table-map body, then the rows body.

#![no_main]

#[path = "common/alloc.rs"]
mod alloc;

use libfuzzer_sys::fuzz_target;
use siphon::fuzzing::mysql_rows;

fuzz_target!(|data: &[u8]| {
    let [selector, flags, a, b, rest @ ..] = data else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
    let (table_map, rows) = rest.split_at(split);
    let precise = flags & 1 != 0;
    let result = alloc::bounded(data.len(), || {
        mysql_rows(table_map, rows, *selector, precise)
    });
    let Ok(decoded) = result else { return };
    let width = decoded.columns.len();
    assert!(decoded.primary_key.iter().all(|&k| k < width));
    assert!(decoded.columns.iter().all(|c| !c.source_type.is_empty()));
    // Selector order as in `siphon::fuzzing`: write, update, delete, then the v1 events.
    let (has_before, has_after) = match selector % 7 {
        0 | 3 => (false, true),
        1 | 4 => (true, true),
        _ => (true, false),
    };
    for (before, after) in &decoded.rows {
        assert_eq!((before.is_some(), after.is_some()), (has_before, has_after));
        for image in [before, after].into_iter().flatten() {
            assert_eq!(image.len(), width, "one value per column");
        }
    }
    // Pure: the same bytes decode the same way (Debug, as NaN floats are not equal to themselves).
    let again = mysql_rows(table_map, rows, *selector, precise).expect("decoded once");
    assert_eq!(format!("{decoded:?}"), format!("{again:?}"));
});
