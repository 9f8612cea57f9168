//! cargo-fuzz target for the PostgreSQL text-value parser: any text, for every built-in type
//! (and arrays of them), parses to a value or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use siphon::postgres_wal::types::{map_type, parse_text};

fuzz_target!(|data: &[u8]| {
    let [hi, lo, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // The built-in OIDs below 7000 cover every scalar, range, multirange and array type the
    // mapping knows.
    let oid = u32::from(u16::from_be_bytes([*hi, *lo])) % 7000;
    for typmod in [-1, 4, 8 + 4, (10 << 16) + 2 + 4] {
        if let Ok(ty) = map_type(oid, typmod, &|_| None) {
            let _ = parse_text(&ty, text);
        }
    }
});
