//! Unit tests of type mapping and value parsing, split by concern; this file holds the helpers.
//!
//! Expected texts come from a real PostgreSQL 15.18 server (`format('%s', value)`, which
//! calls the type's output function as pgoutput does) with the default settings and
//! `TimeZone` UTC unless a test says otherwise; expected numbers were checked on the same
//! server with `extract(epoch ...)`, date subtraction and interval `extract`.

use num_bigint::BigInt;

use super::*;
use crate::event::{Decimal, Interval, TimePrecision};

mod composite;
mod geometric;
mod mapping;
mod props;
mod scalar;
mod temporal;
mod values;
mod vector;

// OIDs the test server gave the user-defined types.
const HSTORE: u32 = 16389;
const HSTORE_ARRAY: u32 = 16394;
const CITEXT: u32 = 16517;
const MOOD: u32 = 16622;
const MOOD_ARRAY: u32 = 16621;
const POSINT: u32 = 16634;
const MONEY2: u32 = 16637;
const LOOP: u32 = 99_999;
// Extension types (their OIDs are the server's choice) and a domain over `box`.
const LTREE: u32 = 17_001;
const LTREE_ARRAY: u32 = 17_002;
const GEOMETRY: u32 = 17_003;
const GEOMETRY_ARRAY: u32 = 17_004;
const GEOGRAPHY: u32 = 17_005;
const BOX_ALIAS: u32 = 17_006;
const GEOGRAPHY_ARRAY: u32 = 17_007;
const BOX_ALIAS_ARRAY: u32 = 17_008;
const VECTOR: u32 = 17_009;
const HALFVEC: u32 = 17_010;
const SPARSEVEC: u32 = 17_011;
const COMPOSITE: u32 = 88_888;

fn catalog(type_oid: u32) -> Option<CustomType> {
    Some(match type_oid {
        HSTORE => CustomType::Hstore,
        HSTORE_ARRAY => CustomType::Array {
            name: "_hstore".into(),
            element_oid: HSTORE,
        },
        CITEXT => CustomType::Other {
            name: "citext".into(),
        },
        MOOD => CustomType::Enum {
            name: "mood".into(),
            labels: ["sad", "ok", "happy", "with space", "quo\"te"]
                .map(String::from)
                .to_vec(),
        },
        MOOD_ARRAY => CustomType::Array {
            name: "_mood".into(),
            element_oid: MOOD,
        },
        POSINT => CustomType::Domain {
            name: "posint".into(),
            base_oid: oid::INT4,
            base_typmod: -1,
        },
        MONEY2 => CustomType::Domain {
            name: "money2".into(),
            base_oid: oid::NUMERIC,
            base_typmod: 786_438,
        },
        LOOP => CustomType::Domain {
            name: "loop".into(),
            base_oid: LOOP,
            base_typmod: -1,
        },
        COMPOSITE => CustomType::Other {
            name: "my_row".into(),
        },
        LTREE | GEOMETRY | GEOGRAPHY | VECTOR | HALFVEC | SPARSEVEC => CustomType::Other {
            name: match type_oid {
                LTREE => "ltree",
                GEOMETRY => "geometry",
                GEOGRAPHY => "geography",
                VECTOR => "vector",
                HALFVEC => "halfvec",
                _ => "sparsevec",
            }
            .into(),
        },
        LTREE_ARRAY | GEOMETRY_ARRAY => CustomType::Array {
            name: "_x".into(),
            element_oid: type_oid - 1,
        },
        BOX_ALIAS_ARRAY => CustomType::Array {
            name: "_box_alias".into(),
            element_oid: BOX_ALIAS,
        },
        GEOGRAPHY_ARRAY => CustomType::Array {
            name: "_geography".into(),
            element_oid: GEOGRAPHY,
        },
        BOX_ALIAS => CustomType::Domain {
            name: "box_alias".into(),
            base_oid: oid::BOX,
            base_typmod: -1,
        },
        _ => return None,
    })
}

fn ty(type_oid: u32, typmod: i32) -> PgType {
    map_type(type_oid, typmod, &catalog).unwrap()
}

fn parse(type_oid: u32, typmod: i32, text: &str) -> Value {
    let t = ty(type_oid, typmod);
    parse_text(&t, text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(type_oid: u32, typmod: i32, text: &str) -> String {
    let t = ty(type_oid, typmod);
    match parse_text(&t, text) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn dec(text: &str) -> Value {
    Value::Decimal(Decimal::parse(text).unwrap())
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn interval(months: i32, days: i32, micros: i64) -> Value {
    Value::Interval(Interval {
        months,
        days,
        micros,
    })
}

fn decimal_type(precision: Option<u32>, scale: Option<u32>) -> DataType {
    DataType::Decimal { precision, scale }
}
