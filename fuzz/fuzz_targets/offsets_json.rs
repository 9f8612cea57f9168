//! cargo-fuzz target for the offsets JSON (positions as stored in the offsets topic, the local
//! file and the offsets REST endpoint) and the GTID texts inside it: anything that parses
//! re-serialises to JSON that parses back to an equal value and serialises identically;
//! comparison is reflexive where defined and antisymmetric. The input is one position, or two
//! separated by a newline.

#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use siphon::offsets::{MariaDbGtidState, MySqlGtidSet, Position};

fn round_trip(p: &Position) {
    let json = p.to_json();
    assert!(!json.is_empty());
    let back = Position::from_json(&json).unwrap_or_else(|e| {
        panic!(
            "{} does not parse back: {e}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(&back, p);
    assert_eq!(back.to_json(), json);
    // A position is never before or after itself (some cannot be ordered at all).
    assert!(matches!(p.try_cmp(p), Ok(Ordering::Equal) | Err(_)));
}

fn text_round_trip<T>(text: &str)
where
    T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    if let Ok(v) = text.parse::<T>() {
        let printed = v.to_string();
        let back = printed.parse::<T>().ok();
        assert_eq!(back.as_ref(), Some(&v), "`{printed}`");
        assert_eq!(back.map(|b| b.to_string()), Some(printed));
    }
}

fuzz_target!(|data: &[u8]| {
    let (first, second) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let a = Position::from_json(first);
    if let Ok(a) = &a {
        round_trip(a);
    }
    if let Some(second) = second
        && let Ok(b) = Position::from_json(second)
    {
        round_trip(&b);
        if let Ok(a) = &a {
            match (a.try_cmp(&b), b.try_cmp(a)) {
                (Ok(x), Ok(y)) => assert_eq!(x, y.reverse(), "{a:?} vs {b:?}"),
                (Err(_), Err(_)) => {}
                (x, y) => panic!("only one way comparable: {x:?} / {y:?}"),
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        text_round_trip::<MySqlGtidSet>(text);
        text_round_trip::<MariaDbGtidState>(text);
    }
});
