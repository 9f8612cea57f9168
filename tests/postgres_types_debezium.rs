//! Issue #18's PostgreSQL types end to end, snapshot and stream (insert, and an update's old
//! and new rows): ranges and a multirange,
//! tsvector, ltree (and ltree[]), citext, macaddr8, the geometric types (and a domain over
//! box), PostGIS geometry, geography and geometry[], and an int4range[]. `siphon run` writes
//! them to the real broker and registry; the Python Avro consumer reads them back; values and
//! schemas are compared with what Debezium's own tests expect (`AbstractRecordsProducerTest`:
//! range, PostGIS, ltree and domain-alias values; `TsVectorDataTypeIT`; the
//! `io.debezium.data.geometry` schemas), with Debezium's test inputs.

mod common;
mod pg;

use std::time::Duration;

use common::consume::{python_consume, registered_row_fields};
use common::process::SiphonProcess;
use common::{Server, server, wait_for};
use pg::{TIMEOUT, TestDb};
use serde_json::{Value as Json, json};
use siphon::offsets::committed_reader::read_committed;

const SETUP: &str = "
CREATE EXTENSION postgis;
CREATE EXTENSION ltree;
CREATE EXTENSION citext;
CREATE DOMAIN box2 AS box;
CREATE TABLE t (
  id int PRIMARY KEY,
  unbounded_exclusive_tsrange tsrange, bounded_inclusive_tsrange tsrange,
  unbounded_exclusive_tstzrange tstzrange, bounded_exclusive_daterange daterange,
  int4_number_range int4range, numerange numrange, int8_number_range int8range,
  multi int4multirange, int4range_array int4range[],
  search_vector tsvector, lt ltree, lt_array ltree[], ci citext, m macaddr8,
  box_base box NOT NULL, box_alias box2 NOT NULL, circle_base circle NOT NULL,
  line_base line NOT NULL, lseg_base lseg NOT NULL, path_base path NOT NULL,
  point_base point NOT NULL, polygon_base polygon NOT NULL,
  p geometry, ml geography, ga geometry[]
)";

/// Debezium's inputs for each column (`INSERT_RANGE_TYPES_STMT`, `INSERT_POSTGIS_TYPES_STMT`,
/// `INSERT_POSTGIS_ARRAY_TYPES_STMT`, the domain-alias and custom-type tests).
const VALUES: &str = "
  '[2019-03-31 15:30:00, infinity)', '[2019-03-31 15:30:00, 2019-04-30 15:30:00]',
  '[2017-06-05 11:29:12.549426+00,)', '[2019-03-31, 2019-04-30)',
  '[1000,6000)', '[5.3,6.3)', '[1000000,6000000)',
  '{[1,3), [5,7)}', '{\"[1,6)\", \"[1,4)\"}',
  to_tsvector('english', 'This is a test for direct tsvector insert'),
  'Top.Collections.Pictures.Astronomy.Galaxies', '{\"Ship.Frigate\",\"Ship.Destroyer\"}',
  'four', '08:00:2b:01:02:03:04:05',
  '(0,0),(1,1)', '(0,0),(1,1)', '10,4,10', '(0,0),(0,1)', '((0,0),(0,1))',
  '((0,0),(0,1),(0,2))', '(1,1)', '((0,0),(0,1),(1,0),(0,0))',
  'SRID=3187;POINT(174.9479 -36.7208)'::geometry,
  'MULTILINESTRING((169.1321 -44.7032, 167.8974 -44.6414))'::geography,
  ARRAY['GEOMETRYCOLLECTION EMPTY'::geometry,
        'POLYGON((166.51 -46.64, 178.52 -46.64, 178.52 -34.45, 166.51 -34.45, 166.51 -46.64))'::geometry]";

/// Little-endian WKB of a line string (2) or one-ring polygon (3), as Debezium's WkbWriter.
fn wkb(kind: u32, points: &[(f64, f64)]) -> Json {
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
    bytes(&out)
}

/// Bytes as the Python consumer prints them.
fn bytes(b: &[u8]) -> Json {
    use base64::Engine as _;
    json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(b) })
}

fn hex(text: &str) -> Json {
    let b: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes(&b)
}

/// Debezium's `Point.createValue(schema, x, y)`.
fn point(x: f64, y: f64) -> Json {
    let mut b = vec![1, 1, 0, 0, 0];
    b.extend(x.to_le_bytes());
    b.extend(y.to_le_bytes());
    json!({"x": x, "y": y, "wkb": bytes(&b), "srid": null})
}

fn geometry(wkb: Json, srid: Json, extensions: Json) -> Json {
    json!({"wkb": wkb, "srid": srid, "extensions": extensions})
}

/// The `after` Debezium's tests expect for the row `id`.
fn expected(id: i32) -> Json {
    let the_box = geometry(
        wkb(3, &[(1., 1.), (1., 0.), (0., 0.), (0., 1.), (1., 1.)]),
        Json::Null,
        json!({"type": "box"}),
    );
    let polygon = concat!(
        "01030000000100000005000000B81E85EB51D0644052B81E85EB5147C0713D0AD7A350664052B81E85",
        "EB5147C0713D0AD7A35066409A999999993941C0B81E85EB51D064409A999999993941C0B81E85EB51",
        "D0644052B81E85EB5147C0"
    );
    json!({
        "id": id,
        "unbounded_exclusive_tsrange": "[\"2019-03-31 15:30:00\",infinity)",
        "bounded_inclusive_tsrange": "[\"2019-03-31 15:30:00\",\"2019-04-30 15:30:00\"]",
        "unbounded_exclusive_tstzrange": "[\"2017-06-05 11:29:12.549426+00\",)",
        "bounded_exclusive_daterange": "[2019-03-31,2019-04-30)",
        "int4_number_range": "[1000,6000)",
        "numerange": "[5.3,6.3)",
        "int8_number_range": "[1000000,6000000)",
        "multi": "{[1,3),[5,7)}",
        "int4range_array": ["[1,6)", "[1,4)"],
        "search_vector": "'direct':6 'insert':8 'test':4 'tsvector':7",
        "lt": "Top.Collections.Pictures.Astronomy.Galaxies",
        "lt_array": ["Ship.Frigate", "Ship.Destroyer"],
        "ci": "four",
        "m": "08:00:2b:01:02:03:04:05",
        "box_base": the_box,
        "box_alias": the_box,
        "circle_base": {"center": point(10.0, 4.0), "radius": 10.0},
        "line_base": {"a": -1.0, "b": 0.0, "c": 0.0},
        "lseg_base": geometry(wkb(2, &[(0., 0.), (0., 1.)]), Json::Null, json!({"type": "lseg"})),
        "path_base": geometry(
            wkb(2, &[(0., 0.), (0., 1.), (0., 2.)]),
            Json::Null,
            json!({"type": "path", "closed": "true"})
        ),
        "point_base": point(1.0, 1.0),
        "polygon_base": geometry(
            wkb(3, &[(0., 0.), (0., 1.), (1., 0.), (0., 0.)]),
            Json::Null,
            json!({"type": "polygon"})
        ),
        "p": geometry(hex("0101000020730C00001C7C613255DE6540787AA52C435C42C0"), json!(3187), Json::Null),
        "ml": {
            "wkb": hex(concat!(
                "0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0",
                "C66D3480B7FC6440C3D32B65195246C0"
            )),
            "srid": 4326
        },
        "ga": [
            geometry(hex("010700000000000000"), Json::Null, Json::Null),
            geometry(hex(polygon), Json::Null, Json::Null)
        ],
    })
}

/// The value schema's field `name` (its type, unions included), from the registry.
fn field<'a>(fields: &'a [Json], name: &str) -> &'a Json {
    &fields
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}"))["type"]
}

fn connect_name(ty: &Json) -> Json {
    match ty {
        Json::Array(branches) => connect_name(&branches[1]),
        other => other["connect.name"].clone(),
    }
}

#[tokio::test]
async fn debeziums_postgres_types_in_snapshot_and_stream() {
    let db = TestDb::create().await;
    let client = db.client().await;
    client.batch_execute(SETUP).await.unwrap();
    client
        .batch_execute(&format!("INSERT INTO t VALUES (1, {VALUES})"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = db.name.clone();
    let (kafka, registry) = (server(Server::Kafka), server(Server::Registry));
    let _siphon = SiphonProcess::start(
        dir.path(),
        &db.connector_toml(&prefix, ""),
        &[
            ("SIPHON_KAFKA_BOOTSTRAP", kafka.as_str()),
            ("SIPHON_SCHEMA_REGISTRY_URL", registry.as_str()),
        ],
    );
    let topic = format!("{prefix}.public.t");
    wait_for("the snapshot row", TIMEOUT, || {
        let (k, t) = (kafka.clone(), topic.clone());
        async move {
            let r = read_committed(&k, &t, Duration::from_secs(10)).await.ok()?;
            (r.records().count() >= 1).then_some(())
        }
    })
    .await;
    client
        .batch_execute(&format!("INSERT INTO t VALUES (2, {VALUES})"))
        .await
        .unwrap();
    // The old row of an update too (REPLICA IDENTITY FULL logs every column).
    client
        .batch_execute("ALTER TABLE t REPLICA IDENTITY FULL; UPDATE t SET ci = 'five' WHERE id = 2")
        .await
        .unwrap();
    let records = python_consume(&topic, 3);
    let mut updated = expected(2);
    updated["ci"] = json!("five");
    let rows = [
        ("r", "after", expected(1)),
        ("c", "after", expected(2)),
        ("u", "before", expected(2)),
        ("u", "after", updated),
    ];
    for (i, (op, part, want)) in rows.iter().enumerate() {
        let value = &records[i.min(2)]["value"];
        assert_eq!(value["op"], *op);
        let got = &value[*part];
        for (name, want) in want.as_object().unwrap() {
            assert_eq!(&got[name], want, "{name} of the {op} event's {part}");
        }
        assert_eq!(
            got.as_object().unwrap().len(),
            want.as_object().unwrap().len()
        );
    }

    // The registered schema: Debezium's names, and its optionality (Geometry, Circle and Line
    // optional even for NOT NULL columns; Point required).
    let fields = registered_row_fields(&registry, &topic).await;
    for (name, want) in [
        ("search_vector", "io.debezium.data.Tsvector"),
        ("lt", "io.debezium.data.Ltree"),
        ("box_base", "io.debezium.data.geometry.Geometry"),
        ("box_alias", "io.debezium.data.geometry.Geometry"),
        ("circle_base", "io.debezium.data.geometry.Circle"),
        ("line_base", "io.debezium.data.geometry.Line"),
        ("point_base", "io.debezium.data.geometry.Point"),
        ("ml", "io.debezium.data.geometry.Geography"),
    ] {
        let ty = field(&fields, name);
        let ty = match ty {
            // A later use of a named type is a reference to its definition.
            Json::Array(b) if b[1].is_string() => &b[1],
            other => other,
        };
        let got = if ty.is_string() {
            ty.clone()
        } else {
            connect_name(ty)
        };
        assert_eq!(got, json!(want), "{name}");
    }
    for name in [
        "box_base",
        "box_alias",
        "circle_base",
        "line_base",
        "lseg_base",
    ] {
        assert!(field(&fields, name).is_array(), "{name} is optional");
    }
    assert!(
        !field(&fields, "point_base").is_array(),
        "point is required (a reference to the Point defined in circle_base's center)"
    );
    assert_eq!(
        field(&fields, "int4_number_range"),
        &json!(["null", "string"])
    );
    let geometry = &field(&fields, "box_base")[1];
    assert_eq!(geometry["connect.version"], 2);
    let names: Vec<&Json> = geometry["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["name"])
        .collect();
    assert_eq!(names, ["wkb", "srid", "extensions"]);
    drop(_siphon);
    db.drop().await;
}
