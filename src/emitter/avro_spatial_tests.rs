//! The spatial, tsvector and ltree schemas and values against Debezium's: the Connect schemas
//! of `io.debezium.data.geometry.*`, `TsVector` and `Ltree` (3.7) as `AvroData` writes them,
//! and the values `AbstractRecordsProducerTest` expects.

use apache_avro::types::Value as Avro;
use serde_json::{Value as Json, json};

use super::super::avro_schema::tests::column;
use super::super::avro_schema::{AvroOptions, SourceKind, table_schemas};
use crate::emitter::avro_value::envelope_value;
use crate::emitter::avro_value::tests::{
    event, field, meta, roundtrip, table_of, try_encode, unwrap_union,
};
use crate::event::{DataType as D, Op, Row, ShapeKind, TableId, TableSchema, Value, point_wkb};

fn pg() -> AvroOptions {
    AvroOptions::debezium_defaults(SourceKind::Postgres)
}

fn null() -> Avro {
    Avro::Union(0, Box::new(Avro::Null))
}

fn some(v: Avro) -> Avro {
    Avro::Union(1, Box::new(v))
}

/// The value fields of a table of `columns` (all NOT NULL unless `_n`).
fn fields(columns: &[(&str, D)]) -> Vec<Json> {
    let table = TableSchema {
        id: TableId::new("public", "t"),
        version: 1,
        columns: columns
            .iter()
            .map(|(n, dt)| column(n, dt.clone(), n.ends_with("_n")))
            .collect(),
        primary_key: Vec::new(),
    };
    let s = table_schemas("p.public.t", &table, &pg()).unwrap();
    let v: Json = serde_json::from_str(&s.value_json).unwrap();
    v["fields"][0]["type"][1]["fields"]
        .as_array()
        .unwrap()
        .clone()
}

const POINT_FIELDS: &str = r#"[
    {"name": "x", "type": "double"},
    {"name": "y", "type": "double"},
    {"name": "wkb", "type": ["null", "bytes"], "default": null},
    {"name": "srid", "type": ["null", "int"], "default": null}]"#;

#[test]
fn schemas_are_debeziums() {
    let point_fields: Json = serde_json::from_str(POINT_FIELDS).unwrap();
    let f = fields(&[
        ("p", D::Point),
        ("bx", D::Shape(ShapeKind::Box)),
        ("c", D::Circle),
        ("l", D::Line),
        ("g", D::Geography),
        ("tv", D::TsVector),
        ("lt", D::Ltree),
        ("lta_n", D::Array(Box::new(D::Ltree))),
        ("c2", D::Circle),
    ]);
    // Point: required for a NOT NULL column (its builder is not optional).
    assert_eq!(
        f[0],
        json!({"name": "p", "type": {"type": "record", "name": "Point",
            "namespace": "io.debezium.data.geometry", "fields": point_fields,
            "connect.doc": "Geometry (POINT)", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Point"}})
    );
    // Geometry (version 2, with extensions), Circle and Line: optional even when NOT NULL.
    assert_eq!(
        f[1],
        json!({"name": "bx", "type": ["null", {"type": "record", "name": "Geometry",
            "namespace": "io.debezium.data.geometry", "fields": [
                {"name": "wkb", "type": "bytes"},
                {"name": "srid", "type": ["null", "int"], "default": null},
                {"name": "extensions", "type": ["null", {"type": "map", "values": "string"}],
                 "default": null}],
            "connect.doc": "Geometry", "connect.version": 2,
            "connect.name": "io.debezium.data.geometry.Geometry"}], "default": null})
    );
    // The center's Point was defined by `p`: a reference.
    assert_eq!(
        f[2],
        json!({"name": "c", "type": ["null", {"type": "record", "name": "Circle",
            "namespace": "io.debezium.data.geometry", "fields": [
                {"name": "center", "type": "Point"},
                {"name": "radius", "type": "double"}],
            "connect.doc": "Geometry (CIRCLE)", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Circle"}], "default": null})
    );
    assert_eq!(
        f[3],
        json!({"name": "l", "type": ["null", {"type": "record", "name": "Line",
            "namespace": "io.debezium.data.geometry", "fields": [
                {"name": "a", "type": "double"}, {"name": "b", "type": "double"},
                {"name": "c", "type": "double"}],
            "connect.doc": "Geometry (LINE)", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Line"}], "default": null})
    );
    assert_eq!(
        f[4],
        json!({"name": "g", "type": {"type": "record", "name": "Geography",
            "namespace": "io.debezium.data.geometry", "fields": [
                {"name": "wkb", "type": "bytes"},
                {"name": "srid", "type": ["null", "int"], "default": null}],
            "connect.doc": "Geography", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Geography"}})
    );
    let ltree = json!({"type": "string", "connect.version": 1,
        "connect.name": "io.debezium.data.Ltree"});
    assert_eq!(
        f[5]["type"],
        json!({"type": "string", "connect.version": 1,
            "connect.name": "io.debezium.data.Tsvector"})
    );
    assert_eq!(f[6]["type"], ltree);
    assert_eq!(
        f[7]["type"],
        json!(["null", {"type": "array", "items": ["null", ltree]}])
    );
    assert_eq!(
        f[8]["type"],
        json!(["null", "io.debezium.data.geometry.Circle"])
    );
}

#[test]
fn a_circle_first_defines_its_point_inside() {
    let point_fields: Json = serde_json::from_str(POINT_FIELDS).unwrap();
    let f = fields(&[("c", D::Circle), ("p", D::Point)]);
    assert_eq!(
        f[0]["type"][1]["fields"][0],
        json!({"name": "center", "type": {"type": "record", "name": "Point",
            "fields": point_fields, "connect.doc": "Geometry (POINT)", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Point"}})
    );
    assert_eq!(f[1]["type"], json!("io.debezium.data.geometry.Point"));
}

fn record(fields: Vec<(&str, Avro)>) -> Avro {
    Avro::Record(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn encode(dt: D, value: Value) -> Avro {
    try_encode(dt, false, "x", value, pg()).unwrap()
}

#[test]
fn values_are_debeziums() {
    // Point.createValue(schema, 1, 1): x, y and the point's WKB, no SRID.
    let p11 = record(vec![
        ("x", Avro::Double(1.0)),
        ("y", Avro::Double(1.0)),
        ("wkb", some(Avro::Bytes(point_wkb(1.0, 1.0)))),
        ("srid", null()),
    ]);
    assert_eq!(encode(D::Point, Value::point(1.0, 1.0)), p11);
    // Circle.createValue(schema, 10.0, 4.0, 10.0): the center is a full Point.
    let circle = Value::Circle {
        x: 10.0,
        y: 4.0,
        radius: 10.0,
    };
    assert_eq!(
        encode(D::Circle, circle),
        some(record(vec![
            (
                "center",
                record(vec![
                    ("x", Avro::Double(10.0)),
                    ("y", Avro::Double(4.0)),
                    ("wkb", some(Avro::Bytes(point_wkb(10.0, 4.0)))),
                    ("srid", null()),
                ])
            ),
            ("radius", Avro::Double(10.0)),
        ]))
    );
    let line = Value::Line {
        a: -1.0,
        b: 0.0,
        c: 0.0,
    };
    assert_eq!(
        encode(D::Line, line),
        some(record(vec![
            ("a", Avro::Double(-1.0)),
            ("b", Avro::Double(0.0)),
            ("c", Avro::Double(0.0)),
        ]))
    );
    // A shape's extensions name its type; no SRID. (One entry: an Avro map's order is
    // arbitrary, and the test compares bytes of two encodings.)
    let shape = Value::Shape {
        wkb: vec![1, 2],
        extensions: vec![("type".into(), "box".into())],
    };
    assert_eq!(
        encode(D::Shape(ShapeKind::Box), shape),
        some(record(vec![
            ("wkb", Avro::Bytes(vec![1, 2])),
            ("srid", null()),
            (
                "extensions",
                some(Avro::Map(
                    [("type".to_owned(), Avro::String("box".into()))].into()
                ))
            ),
        ]))
    );
    // PostGIS: the EWKB and its SRID; a geography has no extensions field.
    let geo = Value::Geometry {
        wkb: vec![1, 5],
        srid: Some(4326),
    };
    assert_eq!(
        encode(D::Geography, geo),
        record(vec![
            ("wkb", Avro::Bytes(vec![1, 5])),
            ("srid", some(Avro::Int(4326))),
        ])
    );
    assert_eq!(
        encode(D::TsVector, Value::Text("'a':1".into())),
        Avro::String("'a':1".into())
    );
}

#[test]
fn nulls_in_not_null_columns_get_debeziums_fallbacks() {
    // A key-only `before` (REPLICA IDENTITY DEFAULT delete) of a NOT NULL column: Point(0, 0)
    // and an empty geometry collection, as Debezium's converters fall back to.
    let before = |dt: D| {
        let table = table_of(dt, false, "x");
        let schemas = table_schemas("s.public.t", &table, &pg()).unwrap();
        let e = event(
            table,
            Op::Delete,
            Some(Row(vec![Value::Int32(1), Value::Null])),
            None,
        );
        let v = envelope_value(&e, &meta(), 0, &pg(), &schemas).unwrap();
        assert_eq!(roundtrip(&schemas.value, &v), v);
        field(unwrap_union(field(&v, "before")), "c").clone()
    };
    assert_eq!(
        before(D::Point),
        record(vec![
            ("x", Avro::Double(0.0)),
            ("y", Avro::Double(0.0)),
            ("wkb", some(Avro::Bytes(point_wkb(0.0, 0.0)))),
            ("srid", null()),
        ])
    );
    assert_eq!(
        before(D::Geography),
        record(vec![
            ("wkb", Avro::Bytes(vec![1, 7, 0, 0, 0, 0, 0, 0, 0])),
            ("srid", null()),
        ])
    );
    assert_eq!(before(D::Ltree), Avro::String(String::new()));
}
