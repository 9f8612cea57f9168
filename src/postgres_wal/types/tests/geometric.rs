//! Ranges, tsvector, ltree, the geometric types and PostGIS: mapping and values. Expected
//! values are Debezium's (`AbstractRecordsProducerTest`, `TsVectorDataTypeIT`); the texts are
//! what PostgreSQL 15 (and PostGIS 3.3) print for Debezium's test inputs.

use super::*;
use crate::event::ShapeKind;

/// Little-endian WKB of `kind` (2 line string, 3 one-ring polygon) over `points`, written
/// out field by field as OGC's layout has it.
fn wkb(kind: u32, points: &[(f64, f64)]) -> Vec<u8> {
    let mut out = vec![1];
    out.extend(kind.to_le_bytes());
    if kind == 3 {
        out.extend(1u32.to_le_bytes());
    }
    out.extend((points.len() as u32).to_le_bytes());
    for (x, y) in points {
        out.extend(x.to_le_bytes());
        out.extend(y.to_le_bytes());
    }
    out
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn shape(wkb: Vec<u8>, extensions: &[(&str, &str)]) -> Value {
    Value::Shape {
        wkb,
        extensions: extensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn maps_ranges_tsvector_geometric_and_extension_types() {
    for (type_oid, want) in [
        (3904, DataType::Text),
        (3906, DataType::Text),
        (3908, DataType::Text),
        (3910, DataType::Text),
        (3912, DataType::Text),
        (3926, DataType::Text),
        (4451, DataType::Text),
        (4536, DataType::Text),
        (3905, DataType::Array(Box::new(DataType::Text))),
        (6150, DataType::Array(Box::new(DataType::Text))),
        (3614, DataType::TsVector),
        (3643, DataType::Array(Box::new(DataType::TsVector))),
        (600, DataType::Point),
        (601, DataType::Shape(ShapeKind::Lseg)),
        (602, DataType::Shape(ShapeKind::Path)),
        (603, DataType::Shape(ShapeKind::Box)),
        (604, DataType::Shape(ShapeKind::Polygon)),
        (628, DataType::Line),
        (718, DataType::Circle),
        (774, DataType::Text),
        (CITEXT, DataType::Text),
        (LTREE, DataType::Ltree),
        (LTREE_ARRAY, DataType::Array(Box::new(DataType::Ltree))),
        (GEOMETRY, DataType::Geometry),
        (
            GEOMETRY_ARRAY,
            DataType::Array(Box::new(DataType::Geometry)),
        ),
        (GEOGRAPHY, DataType::Geography),
        (BOX_ALIAS, DataType::Shape(ShapeKind::Box)),
    ] {
        assert_eq!(ty(type_oid, -1).data_type, want, "oid {type_oid}");
    }
    assert_eq!(ty(BOX_ALIAS, -1).name, "box_alias");
}

#[test]
fn ranges_and_tsvector_are_their_text() {
    // INSERT_RANGE_TYPES_STMT as the server prints it (Debezium expects the same text).
    for (type_oid, printed) in [
        (3908, r#"["2019-03-31 15:30:00",infinity)"#),
        (3908, r#"["2019-03-31 15:30:00","2019-04-30 15:30:00"]"#),
        (3912, "[2019-03-31,infinity)"),
        (3912, "[2019-03-31,2019-04-30)"),
        (3904, "[1000,6000)"),
        (3906, "[5.3,6.3)"),
        (3926, "[1000000,6000000)"),
        (4451, "{[1,3),[5,7)}"),
        (3614, "'direct':6 'insert':8 'test':4 'tsvector':7"),
        (LTREE, "Top.Collections.Pictures.Astronomy.Galaxies"),
    ] {
        assert_eq!(parse(type_oid, -1, printed), text(printed));
    }
    assert_eq!(
        parse(3905, -1, r#"{"[1,6)","[1,4)"}"#),
        Value::Array(vec![text("[1,6)"), text("[1,4)")])
    );
    assert_eq!(
        parse(LTREE_ARRAY, -1, "{Ship.Frigate,Ship.Destroyer}"),
        Value::Array(vec![text("Ship.Frigate"), text("Ship.Destroyer")])
    );
}

#[test]
fn point_has_x_y_and_its_wkb() {
    let want_wkb = hex("0101000000000000000000F03F000000000000F03F");
    assert_eq!(
        parse(600, -1, "(1,1)"),
        Value::Point {
            x: 1.0,
            y: 1.0,
            wkb: want_wkb,
            srid: None
        }
    );
    match parse(600, -1, "(-1.5,1e+100)") {
        Value::Point { x, y, .. } => assert_eq!((x, y), (-1.5, 1e100)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shapes_are_wkb_with_debeziums_extensions() {
    // schemasAndValuesForDomainAliasTypes: box '(0,0),(1,1)' prints as '(1,1),(0,0)'.
    assert_eq!(
        parse(BOX_ALIAS, -1, "(1,1),(0,0)"),
        shape(
            wkb(3, &[(1., 1.), (1., 0.), (0., 0.), (0., 1.), (1., 1.)]),
            &[("type", "box")]
        )
    );
    assert_eq!(
        parse(601, -1, "[(0,0),(0,1)]"),
        shape(
            hex(concat!(
                "010200000002000000",
                "00000000000000000000000000000000",
                "0000000000000000000000000000F03F"
            )),
            &[("type", "lseg")]
        )
    );
    let path = [(0., 0.), (0., 1.), (0., 2.)];
    assert_eq!(
        parse(602, -1, "((0,0),(0,1),(0,2))"),
        shape(wkb(2, &path), &[("type", "path"), ("closed", "true")])
    );
    assert_eq!(
        parse(602, -1, "[(0,0),(0,1),(0,2)]"),
        shape(wkb(2, &path), &[("type", "path"), ("closed", "false")])
    );
    // The ring is closed; an already closed one is kept.
    let ring = [(0., 0.), (0., 1.), (1., 0.), (0., 0.)];
    assert_eq!(
        parse(604, -1, "((0,0),(0,1),(1,0))"),
        shape(wkb(3, &ring), &[("type", "polygon")])
    );
    assert_eq!(
        parse(604, -1, "((0,0),(0,1),(1,0),(0,0))"),
        shape(wkb(3, &ring), &[("type", "polygon")])
    );
}

#[test]
fn circle_and_line_keep_their_numbers() {
    assert_eq!(
        parse(718, -1, "<(10,4),10>"),
        Value::Circle {
            x: 10.0,
            y: 4.0,
            radius: 10.0
        }
    );
    // '(0,0),(0,1)'::line prints as {-1,0,0}.
    assert_eq!(
        parse(628, -1, "{-1,0,0}"),
        Value::Line {
            a: -1.0,
            b: 0.0,
            c: 0.0
        }
    );
}

#[test]
fn postgis_values_are_the_ewkb_and_its_srid() {
    let point = "0101000020730C00001C7C613255DE6540787AA52C435C42C0";
    assert_eq!(
        parse(GEOMETRY, -1, point),
        Value::Geometry {
            wkb: hex(point),
            srid: Some(3187)
        }
    );
    let lines = concat!(
        "0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0",
        "C66D3480B7FC6440C3D32B65195246C0"
    );
    assert_eq!(
        parse(GEOGRAPHY, -1, lines),
        Value::Geometry {
            wkb: hex(lines),
            srid: Some(4326)
        }
    );
    // Arrays of PostGIS types use `:` between elements.
    let polygon = concat!(
        "01030000000100000005000000B81E85EB51D0644052B81E85EB5147C0713D0AD7A350664052B81E85",
        "EB5147C0713D0AD7A35066409A999999993941C0B81E85EB51D064409A999999993941C0B81E85EB51",
        "D0644052B81E85EB5147C0"
    );
    assert_eq!(
        parse(
            GEOMETRY_ARRAY,
            -1,
            &format!("{{010700000000000000:{polygon}}}")
        ),
        Value::Array(vec![
            Value::Geometry {
                wkb: hex("010700000000000000"),
                srid: None
            },
            Value::Geometry {
                wkb: hex(polygon),
                srid: None
            },
        ])
    );
}

#[test]
fn geography_arrays_use_colons_too() {
    // ARRAY['POINT(1 2)'::geography, 'POINT(3 4)'::geography] as PostGIS 3.3 prints it.
    let (a, b) = (
        "0101000020E6100000000000000000F03F0000000000000040",
        "0101000020E610000000000000000008400000000000001040",
    );
    assert_eq!(
        ty(GEOGRAPHY_ARRAY, -1).data_type,
        DataType::Array(Box::new(DataType::Geography))
    );
    assert_eq!(
        parse(GEOGRAPHY_ARRAY, -1, &format!("{{{a}:{b}}}")),
        Value::Array(vec![
            Value::Geometry {
                wkb: hex(a),
                srid: Some(4326)
            },
            Value::Geometry {
                wkb: hex(b),
                srid: Some(4326)
            },
        ])
    );
}

#[test]
fn malformed_geometric_texts_are_errors() {
    for (type_oid, bad) in [
        (600, "(1)"),
        (600, "1,1"),
        (600, "(a,1)"),
        (603, "(1,1)"),
        (601, "[(0,0)]"),
        (602, "(0,0),(1,1"),
        (718, "<(1,1)>"),
        (628, "{1,2}"),
        (GEOMETRY, "0101"),
        (GEOMETRY, "01010"),
        (GEOMETRY, "zz0100000000000000"),
    ] {
        let e = parse_err(type_oid, -1, bad);
        assert!(e.contains(bad), "{e}");
    }
}
