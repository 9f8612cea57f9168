//! Property tests: no panics on any input, and round trips through PostgreSQL's output formats.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike};
use proptest::prelude::*;

use super::super::mapping::BUILTIN_ARRAYS;
use super::*;

// ---- properties ------------------------------------------------------------------------

/// Every supported type, with a few typmods.
fn all_supported_types() -> Vec<PgType> {
    let mut types = Vec::new();
    for &(array, element) in BUILTIN_ARRAYS {
        for typmod in [-1, 1, 4, 655_367] {
            for type_oid in [array, element] {
                if let Ok(t) = map_type(type_oid, typmod, &catalog) {
                    types.push(t);
                }
            }
        }
    }
    for custom in [
        HSTORE,
        HSTORE_ARRAY,
        CITEXT,
        MOOD,
        MOOD_ARRAY,
        POSINT,
        MONEY2,
        LTREE,
        LTREE_ARRAY,
        GEOMETRY,
        GEOMETRY_ARRAY,
        GEOGRAPHY,
        GEOGRAPHY_ARRAY,
        BOX_ALIAS,
        // The geometric scalars (their arrays are not supported) and a multirange.
        oid::POINT,
        oid::LSEG,
        oid::PATH,
        oid::BOX,
        oid::POLYGON,
        oid::LINE,
        oid::CIRCLE,
        oid::INT4MULTIRANGE,
    ] {
        types.push(ty(custom, -1));
    }
    types
}

fn pg_date(date: NaiveDate) -> (String, &'static str) {
    let (year, era) = if date.year() <= 0 {
        (1 - date.year(), " BC")
    } else {
        (date.year(), "")
    };
    (
        format!("{year:04}-{:02}-{:02}", date.month(), date.day()),
        era,
    )
}

fn pg_fraction(micros: u32) -> String {
    if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}").trim_end_matches('0').to_owned()
    }
}

fn pg_time(t: NaiveDateTime) -> String {
    format!(
        "{:02}:{:02}:{:02}{}",
        t.hour(),
        t.minute(),
        t.second(),
        pg_fraction(t.nanosecond() / 1000)
    )
}

fn pg_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let a = seconds.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

/// PostgreSQL's `postgres` IntervalStyle (`EncodeInterval`).
fn pg_interval_postgres(iv: Interval) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    for (value, unit) in [
        (iv.months / 12, "year"),
        (iv.months % 12, "mon"),
        (iv.days, "day"),
    ] {
        if value == 0 {
            continue;
        }
        let space = if is_zero { "" } else { " " };
        let plus = if is_before && value > 0 { "+" } else { "" };
        let s = if value == 1 { "" } else { "s" };
        write!(out, "{space}{plus}{value} {unit}{s}").unwrap();
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || iv.micros != 0 {
        let a = iv.micros.unsigned_abs();
        let sign = if iv.micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        };
        let space = if is_zero { "" } else { " " };
        write!(
            out,
            "{space}{sign}{:02}:{:02}:{:02}{}",
            a / 3_600_000_000,
            a / 60_000_000 % 60,
            a / 1_000_000 % 60,
            pg_fraction((a % 1_000_000) as u32)
        )
        .unwrap();
    }
    out
}

/// The parts of an interval as PostgreSQL splits them for printing (all of one sign within
/// months and within micros).
fn interval_parts(iv: Interval) -> [(i64, &'static str); 6] {
    let m = iv.micros;
    [
        (i64::from(iv.months / 12), "year"),
        (i64::from(iv.months % 12), "mon"),
        (i64::from(iv.days), "day"),
        (m / 3_600_000_000, "hour"),
        (m / 60_000_000 % 60, "min"),
        (m % 60_000_000, "sec"),
    ]
}

fn seconds_text(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let a = micros.unsigned_abs();
    format!(
        "{sign}{}{}",
        a / 1_000_000,
        pg_fraction((a % 1_000_000) as u32)
    )
}

/// PostgreSQL's `postgres_verbose` IntervalStyle.
fn pg_interval_verbose(iv: Interval) -> String {
    let parts = interval_parts(iv);
    let ago = parts
        .iter()
        .find(|(v, _)| *v != 0)
        .is_some_and(|(v, _)| *v < 0);
    let mut out = "@".to_owned();
    for (value, unit) in parts {
        if value == 0 {
            continue;
        }
        let value = if ago {
            -i128::from(value)
        } else {
            i128::from(value)
        };
        if unit == "sec" {
            let s = if value == 1_000_000 { "" } else { "s" };
            write!(out, " {} sec{s}", seconds_text(value as i64)).unwrap();
        } else {
            let s = if value == 1 { "" } else { "s" };
            write!(out, " {value} {unit}{s}").unwrap();
        }
    }
    if out == "@" {
        out.push_str(" 0");
    }
    if ago {
        out.push_str(" ago");
    }
    out
}

/// PostgreSQL's `iso_8601` IntervalStyle.
fn pg_interval_iso(iv: Interval) -> String {
    let parts = interval_parts(iv);
    if parts.iter().all(|(v, _)| *v == 0) {
        return "PT0S".into();
    }
    let mut out = "P".to_owned();
    for (value, designator) in parts[..3].iter().zip(["Y", "M", "D"]) {
        if value.0 != 0 {
            write!(out, "{}{designator}", value.0).unwrap();
        }
    }
    if parts[3..].iter().any(|(v, _)| *v != 0) {
        out.push('T');
        for (value, designator) in parts[3..5].iter().zip(["H", "M"]) {
            if value.0 != 0 {
                write!(out, "{}{designator}", value.0).unwrap();
            }
        }
        if parts[5].0 != 0 {
            write!(out, "{}S", seconds_text(parts[5].0)).unwrap();
        }
    }
    out
}

/// `array_out` for a one-dimensional text array.
fn pg_text_array(items: &[Option<String>]) -> String {
    let quoted = items.iter().map(|item| match item {
        None => "NULL".to_owned(),
        Some(s)
            if s.is_empty()
                || s.eq_ignore_ascii_case("NULL")
                || s.chars()
                    .any(|c| "{},\"\\".contains(c) || c.is_ascii_whitespace()) =>
        {
            let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\"")
        }
        Some(s) => s.clone(),
    });
    format!("{{{}}}", quoted.collect::<Vec<_>>().join(","))
}

/// `hstore_out`.
fn pg_hstore(pairs: &[(String, Option<String>)]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    pairs
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{}=>{}", quote(k), quote(v)),
            None => format!("{}=>NULL", quote(k)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cash_out` in the C locale.
fn pg_money(cents: i64) -> String {
    let a = cents.unsigned_abs();
    let units = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", a % 100)
}

const PG_MIN_MICROS: i64 = -210_866_803_200_000_000; // 4714-11-24 00:00:00 BC
const CHRONO_SAFE_MAX_MICROS: i64 = 8_000_000_000_000_000_000; // year 255479

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_text_never_panics(s in "\\PC*", index in any::<proptest::sample::Index>()) {
        let types = all_supported_types();
        let t = &types[index.index(types.len())];
        let _ = parse_text(t, &s);
    }

    #[test]
    fn parse_text_never_panics_on_near_misses(
        s in "[-+0-9:. BCTPYMDHSWaeglnorsty@{}\",\\\\=>\\[\\]$()xNUL\t\n]{0,48}",
        index in any::<proptest::sample::Index>(),
    ) {
        let types = all_supported_types();
        let t = &types[index.index(types.len())];
        let _ = parse_text(t, &s);
    }

    #[test]
    fn map_type_never_panics(type_oid in any::<u32>(), typmod in any::<i32>()) {
        let _ = map_type(type_oid, typmod, &catalog);
        let _ = map_type(type_oid % 7000, typmod, &catalog);
    }

    #[test]
    fn timestamps_round_trip(micros in PG_MIN_MICROS..CHRONO_SAFE_MAX_MICROS) {
        let dt = DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
        let (date, era) = pg_date(dt.date());
        let s = format!("{date} {}{era}", pg_time(dt));
        prop_assert_eq!(parse(1114, -1, &s), Value::Timestamp(micros), "{}", s);
    }

    #[test]
    fn timestamptz_round_trip(
        micros in (PG_MIN_MICROS + 86_400_000_000)..CHRONO_SAFE_MAX_MICROS,
        offset in -57_599i32..=57_599,
    ) {
        let zone = FixedOffset::east_opt(offset).unwrap();
        let local = DateTime::from_timestamp_micros(micros)
            .unwrap()
            .with_timezone(&zone)
            .naive_local();
        let (date, era) = pg_date(local.date());
        let s = format!("{date} {}{}{era}", pg_time(local), pg_offset(offset));
        prop_assert_eq!(parse(1184, -1, &s), Value::TimestampTz(micros), "{}", s);
    }

    #[test]
    fn dates_round_trip(days in -2_440_588i32..100_000_000) {
        let date = NaiveDate::from_ymd_opt(1970, 1, 1)
            .unwrap()
            .checked_add_signed(chrono::TimeDelta::days(i64::from(days)));
        // chrono's range ends before PostgreSQL's: past it, check the day count only.
        if let Some(date) = date {
            let (text, era) = pg_date(date);
            prop_assert_eq!(parse(1082, -1, &format!("{text}{era}")), Value::Date(days));
        }
    }

    #[test]
    fn times_round_trip(micros in 0i64..=86_400_000_000, offset in -57_599i32..=57_599) {
        let s = if micros == 86_400_000_000 {
            "24:00:00".to_owned()
        } else {
            let t = DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            pg_time(t)
        };
        prop_assert_eq!(parse(1083, -1, &s), Value::Time(micros));
        let tz = format!("{s}{}", pg_offset(offset));
        prop_assert_eq!(
            parse(1266, -1, &tz),
            Value::TimeTz { micros, offset_seconds: offset }
        );
    }

    #[test]
    fn intervals_round_trip_in_every_style(
        months in any::<i32>(),
        days in any::<i32>(),
        micros in prop_oneof![
            any::<i64>(),
            -100_000_000_000i64..100_000_000_000,
            Just(i64::MIN),
            Just(i64::MAX),
        ],
    ) {
        let iv = Interval { months, days, micros };
        for s in [pg_interval_postgres(iv), pg_interval_verbose(iv), pg_interval_iso(iv)] {
            prop_assert_eq!(parse(1186, -1, &s), Value::Interval(iv), "{}", s);
        }
    }

    #[test]
    fn bits_round_trip(bits in proptest::collection::vec(any::<bool>(), 0..40)) {
        let s: String = bits.iter().map(|&b| if b { '1' } else { '0' }).collect();
        let Value::Bits { bytes, length } = parse(1562, -1, &s) else {
            panic!("not bits")
        };
        prop_assert_eq!(length as usize, bits.len());
        for (i, &b) in bits.iter().enumerate() {
            prop_assert_eq!(bytes[i / 8] & (0x80 >> (i % 8)) != 0, b);
        }
    }

    #[test]
    fn text_arrays_round_trip(
        items in proptest::collection::vec(proptest::option::of("\\PC{0,8}|NULL|null| a |[{},\"\\\\ ]{1,3}"), 0..8),
    ) {
        let expected = Value::Array(
            items.iter().map(|i| i.as_deref().map_or(Value::Null, text)).collect(),
        );
        prop_assert_eq!(parse(1009, -1, &pg_text_array(&items)), expected);
    }

    #[test]
    fn hstore_round_trips(
        pairs in proptest::collection::vec(
            ("\\PC{0,6}|[\"\\\\=>, ]{1,3}", proptest::option::of("\\PC{0,6}|NULL|[\"\\\\=>, ]{1,3}")),
            0..6,
        ),
    ) {
        prop_assert_eq!(parse(HSTORE, -1, &pg_hstore(&pairs)), Value::Map(pairs));
    }

    #[test]
    fn money_round_trips(cents in any::<i64>()) {
        prop_assert_eq!(
            parse(790, -1, &pg_money(cents)),
            Value::Decimal(Decimal::Finite { unscaled: BigInt::from(cents), scale: 2 })
        );
    }
}
