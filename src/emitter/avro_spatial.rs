//! Debezium's spatial schemas (`io.debezium.data.geometry.*`, Debezium 3.7) as `AvroData`
//! writes them: `Geometry` (version 2: `wkb`, `srid`, `extensions`), `Point` (`x`, `y`, `wkb`,
//! `srid`), `Geography` (`wkb`, `srid`), `Circle` (`center` Point, `radius`) and `Line`
//! (`a`, `b`, `c`), and their values.
//!
//! Optionality: Debezium's `Geometry`, `Circle` and `Line` builders are optional themselves,
//! so those fields are optional even for a NOT NULL column; `Point` and `Geography` follow the
//! column.

use apache_avro::types::Value as Avro;
use serde_json::{Value as Json, json};

use super::avro_schema::record;
use crate::event::point_wkb;

pub(super) const GEOMETRY: &str = "io.debezium.data.geometry.Geometry";
pub(super) const POINT: &str = "io.debezium.data.geometry.Point";
pub(super) const GEOGRAPHY: &str = "io.debezium.data.geometry.Geography";
pub(super) const CIRCLE: &str = "io.debezium.data.geometry.Circle";
pub(super) const LINE: &str = "io.debezium.data.geometry.Line";
/// The namespace of the records above, where a `Circle`'s `center` is written.
pub(super) const SPATIAL_NAMESPACE: &str = "io.debezium.data.geometry";

fn props(doc: &str, version: u32, name: &str) -> Vec<(&'static str, Json)> {
    vec![
        ("connect.doc", json!(doc)),
        ("connect.version", json!(version)),
        ("connect.name", json!(name)),
    ]
}

fn optional_field(name: &str, ty: Json) -> Json {
    json!({"name": name, "type": ["null", ty], "default": null})
}

pub(super) fn geometry(space: &str) -> Json {
    record(
        GEOMETRY,
        space,
        vec![
            json!({"name": "wkb", "type": "bytes"}),
            optional_field("srid", json!("int")),
            optional_field("extensions", json!({"type": "map", "values": "string"})),
        ],
        props("Geometry", 2, GEOMETRY),
    )
}

pub(super) fn point(space: &str) -> Json {
    record(
        POINT,
        space,
        vec![
            json!({"name": "x", "type": "double"}),
            json!({"name": "y", "type": "double"}),
            optional_field("wkb", json!("bytes")),
            optional_field("srid", json!("int")),
        ],
        props("Geometry (POINT)", 1, POINT),
    )
}

pub(super) fn geography(space: &str) -> Json {
    record(
        GEOGRAPHY,
        space,
        vec![
            json!({"name": "wkb", "type": "bytes"}),
            optional_field("srid", json!("int")),
        ],
        props("Geography", 1, GEOGRAPHY),
    )
}

/// `center` is the Point schema as it is written at this place (a definition or a reference).
pub(super) fn circle(space: &str, center: Json) -> Json {
    record(
        CIRCLE,
        space,
        vec![
            json!({"name": "center", "type": center}),
            json!({"name": "radius", "type": "double"}),
        ],
        props("Geometry (CIRCLE)", 1, CIRCLE),
    )
}

pub(super) fn line(space: &str) -> Json {
    record(
        LINE,
        space,
        vec![
            json!({"name": "a", "type": "double"}),
            json!({"name": "b", "type": "double"}),
            json!({"name": "c", "type": "double"}),
        ],
        props("Geometry (LINE)", 1, LINE),
    )
}

fn opt(v: Option<Avro>) -> Avro {
    match v {
        None => Avro::Union(0, Box::new(Avro::Null)),
        Some(v) => Avro::Union(1, Box::new(v)),
    }
}

/// A `Geometry` value; `extensions` empty leaves the field null, as Debezium does.
pub(super) fn geometry_value(
    wkb: &[u8],
    srid: Option<i32>,
    extensions: &[(String, String)],
) -> Avro {
    let extensions = (!extensions.is_empty()).then(|| {
        Avro::Map(
            extensions
                .iter()
                .map(|(k, v)| (k.clone(), Avro::String(v.clone())))
                .collect(),
        )
    });
    Avro::Record(vec![
        ("wkb".into(), Avro::Bytes(wkb.to_vec())),
        ("srid".into(), opt(srid.map(Avro::Int))),
        ("extensions".into(), opt(extensions)),
    ])
}

pub(super) fn geography_value(wkb: &[u8], srid: Option<i32>) -> Avro {
    Avro::Record(vec![
        ("wkb".into(), Avro::Bytes(wkb.to_vec())),
        ("srid".into(), opt(srid.map(Avro::Int))),
    ])
}

pub(super) fn point_value(x: f64, y: f64, wkb: &[u8], srid: Option<i32>) -> Avro {
    Avro::Record(vec![
        ("x".into(), Avro::Double(x)),
        ("y".into(), Avro::Double(y)),
        ("wkb".into(), opt(Some(Avro::Bytes(wkb.to_vec())))),
        ("srid".into(), opt(srid.map(Avro::Int))),
    ])
}

/// Debezium's `Circle.createValue`: the center is a Point built from x and y.
pub(super) fn circle_value(x: f64, y: f64, radius: f64) -> Avro {
    Avro::Record(vec![
        ("center".into(), point_value(x, y, &point_wkb(x, y), None)),
        ("radius".into(), Avro::Double(radius)),
    ])
}

pub(super) fn line_value(a: f64, b: f64, c: f64) -> Avro {
    Avro::Record(vec![
        ("a".into(), Avro::Double(a)),
        ("b".into(), Avro::Double(b)),
        ("c".into(), Avro::Double(c)),
    ])
}

#[cfg(test)]
#[path = "avro_spatial_tests.rs"]
mod tests;
