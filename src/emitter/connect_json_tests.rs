//! The Connect JSON schemas expected here are written from Kafka's `JsonConverter` (its
//! `asJsonSchema` key order) and Debezium's PostgreSQL `customers` change event example.

use serde_json::json;

use super::*;
use crate::emitter::avro_schema::tests::column;
use crate::emitter::avro_schema::{AvroOptions, table_schemas, topic_name};
use crate::event::{DataType as D, SourceKind, TableId, TableSchema};

fn customers() -> TableSchema {
    TableSchema {
        id: TableId::new("public", "customers"),
        version: 1,
        columns: vec![
            column("id", D::Int32, false),
            column("first_name", D::Text, false),
            column("email", D::Text, true),
        ],
        primary_key: vec![0],
    }
}

#[test]
fn a_debezium_key_and_row_struct_as_json_converter_writes_them() {
    let opts = AvroOptions::debezium_defaults(SourceKind::Postgres);
    let topic = topic_name("PostgreSQL_server", &customers().id);
    let s = table_schemas(&topic, &customers(), &opts).unwrap();
    let key = connect_schema(s.key_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        key.to_string(),
        json!({"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],
               "optional":false,"name":"PostgreSQL_server.public.customers.Key"})
        .to_string()
    );
    let value = connect_schema(&s.value_json).unwrap();
    let row = json!({"type":"struct","fields":[
            {"type":"int32","optional":false,"field":"id"},
            {"type":"string","optional":false,"field":"first_name"},
            {"type":"string","optional":true,"field":"email"}],
        "optional":true,"name":"PostgreSQL_server.public.customers.Value"});
    let fields = value["fields"].as_array().unwrap();
    let names: Vec<&str> = fields
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns"
        ]
    );
    // `after` references the record `before` defines: the same Connect schema.
    for (i, field) in ["before", "after"].into_iter().enumerate() {
        let mut expected = row.clone();
        expected["field"] = json!(field);
        assert_eq!(fields[i].to_string(), expected.to_string());
    }
    assert_eq!(fields[2]["name"], "io.debezium.connector.postgresql.Source");
    assert_eq!(fields[2]["optional"], false);
    assert_eq!(
        fields[4].to_string(),
        r#"{"type":"string","optional":false,"field":"op"}"#
    );
    assert_eq!(
        fields[5].to_string(),
        r#"{"type":"int64","optional":true,"field":"ts_ms"}"#
    );
    assert_eq!(fields[3]["name"], "event.block");
    assert_eq!(fields[3]["version"], 1);
    assert_eq!(value["optional"], false);
    assert_eq!(value["name"], "PostgreSQL_server.public.customers.Envelope");
    assert_eq!(value["version"], 2);
    // Source's `snapshot`: Debezium's Enum with its parameters and Connect default.
    let snapshot = fields[2]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "snapshot")
        .unwrap();
    assert_eq!(
        snapshot.to_string(),
        json!({"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,
               "parameters":{"allowed":crate::emitter::avro_schema::SNAPSHOT_ALLOWED},
               "default":"false","field":"snapshot"})
        .to_string()
    );
}

#[test]
fn logical_types_int16_arrays_and_maps() {
    let avro = r#"{"type":"record","name":"V","namespace":"s.t","fields":[
        {"name":"price","type":{"type":"bytes","scale":2,"precision":10,"connect.version":1,
            "connect.parameters":{"scale":"2","connect.decimal.precision":"10"},
            "connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}},
        {"name":"small","type":["null",{"type":"int","connect.type":"int16"}],"default":null},
        {"name":"day","type":{"type":"int","connect.version":1,
            "connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"attrs","type":{"type":"map","values":["null","string"]}},
        {"name":"f","type":"float"},{"name":"d","type":"double"},
        {"name":"b","type":"boolean"},{"name":"raw","type":"bytes"},{"name":"n","type":"long"}],
        "connect.name":"s.t.V"}"#;
    let expected = json!({"type":"struct","fields":[
        {"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal",
         "version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"},
        {"type":"int16","optional":true,"field":"small"},
        {"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date",
         "version":1,"field":"day"},
        {"type":"array","items":{"type":"string","optional":false},"optional":false,
         "field":"tags"},
        {"type":"map","keys":{"type":"string","optional":false},
         "values":{"type":"string","optional":true},"optional":false,"field":"attrs"},
        {"type":"float","optional":false,"field":"f"},
        {"type":"double","optional":false,"field":"d"},
        {"type":"boolean","optional":false,"field":"b"},
        {"type":"bytes","optional":false,"field":"raw"},
        {"type":"int64","optional":false,"field":"n"}],
        "optional":false,"name":"s.t.V"});
    assert_eq!(
        connect_schema(avro).unwrap().to_string(),
        expected.to_string()
    );
}

#[test]
fn unions_other_than_optional_are_refused() {
    let err = connect_schema(r#"["int","string"]"#).unwrap_err();
    assert!(err.contains("not a Connect optional type"), "{err}");
    assert!(
        connect_schema(r#""Nowhere""#)
            .unwrap_err()
            .contains("`Nowhere`")
    );
}

#[test]
fn records_with_and_without_schema() {
    let payload = json!({"id": 1});
    assert_eq!(record(None, &payload), br#"{"id":1}"#);
    assert_eq!(
        record(Some(r#"{"type":"int32"}"#), &payload),
        br#"{"schema":{"type":"int32"},"payload":{"id":1}}"#
    );
}

#[test]
fn spatial_structs_as_json_converter_writes_debeziums_schemas() {
    let table = TableSchema {
        id: TableId::new("public", "t"),
        version: 1,
        columns: vec![
            column("c", D::Circle, false),
            column("p", D::Point, false),
            column("b", D::Shape(crate::event::ShapeKind::Box), false),
        ],
        primary_key: vec![],
    };
    let opts = AvroOptions::debezium_defaults(SourceKind::Postgres);
    let s = table_schemas("x.public.t", &table, &opts).unwrap();
    let value = connect_schema(&s.value_json).unwrap();
    let row = &value["fields"][0]["fields"];
    let point = json!({"type":"struct","fields":[
            {"type":"double","optional":false,"field":"x"},
            {"type":"double","optional":false,"field":"y"},
            {"type":"bytes","optional":true,"field":"wkb"},
            {"type":"int32","optional":true,"field":"srid"}],
        "optional":false,"name":"io.debezium.data.geometry.Point","version":1,
        "doc":"Geometry (POINT)"});
    let mut center = point.clone();
    center["field"] = json!("center");
    assert_eq!(
        row[0].to_string(),
        json!({"type":"struct","fields":[center,
                {"type":"double","optional":false,"field":"radius"}],
            "optional":true,"name":"io.debezium.data.geometry.Circle","version":1,
            "doc":"Geometry (CIRCLE)","field":"c"})
        .to_string()
    );
    let mut p = point;
    p["field"] = json!("p");
    assert_eq!(row[1].to_string(), p.to_string());
    assert_eq!(
        row[2].to_string(),
        json!({"type":"struct","fields":[
                {"type":"bytes","optional":false,"field":"wkb"},
                {"type":"int32","optional":true,"field":"srid"},
                {"type":"map","keys":{"type":"string","optional":false},
                 "values":{"type":"string","optional":false},"optional":true,
                 "field":"extensions"}],
            "optional":true,"name":"io.debezium.data.geometry.Geometry","version":2,
            "doc":"Geometry","field":"b"})
        .to_string()
    );
}
