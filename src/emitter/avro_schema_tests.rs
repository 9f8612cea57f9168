//! Tests of the Avro schemas, and the table fixtures the value encoder's tests share.

use std::path::PathBuf;

use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use serde_json::json;

use super::*;
use crate::event::{Column, DataType as D, TableId, TableSchema, TimePrecision as P};

pub(crate) fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type,
        nullable,
        source_type: name.into(),
        default: None,
    }
}

/// One NOT NULL and one nullable (`<name>_n`) column of every data type, behind a composite
/// key whose order differs from the column order.
pub(crate) fn everything_table() -> TableSchema {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let types = vec![
        ("bool", D::Boolean),
        ("i16", D::Int16),
        ("i32", D::Int32),
        ("i64", D::Int64),
        ("f32", D::Float32),
        ("f64", D::Float64),
        (
            "dec",
            D::Decimal {
                precision: Some(10),
                scale: Some(2),
            },
        ),
        (
            "money",
            D::Decimal {
                precision: None,
                scale: Some(2),
            },
        ),
        (
            "numeric",
            D::Decimal {
                precision: None,
                scale: None,
            },
        ),
        ("text", D::Text),
        ("bytes", D::Bytes),
        ("date", D::Date),
        ("time_ms", D::Time(P::Millis)),
        ("time_us", D::Time(P::Micros)),
        ("time_ns", D::Time(P::Nanos)),
        ("timetz", D::TimeTz),
        ("ts_ms", D::Timestamp(P::Millis)),
        ("ts_us", D::Timestamp(P::Micros)),
        ("ts_ns", D::Timestamp(P::Nanos)),
        ("tstz", D::TimestampTz),
        ("interval", D::Interval),
        ("year", D::Year),
        ("uuid", D::Uuid),
        ("json", D::Json),
        ("xml", D::Xml),
        (
            "mood",
            D::Enum {
                allowed: strings(&["happy", "sad"]),
            },
        ),
        (
            "flags",
            D::EnumSet {
                allowed: strings(&["a", "b", "c"]),
            },
        ),
        ("bit1", D::Bits { length: 1 }),
        ("bits", D::Bits { length: 10 }),
        ("hstore", D::Map),
        ("geom", D::Geometry),
        ("circle", D::Circle),
        ("point", D::Point),
        ("shape", D::Shape(crate::event::ShapeKind::Path)),
        ("line", D::Line),
        ("geog", D::Geography),
        ("tsvector", D::TsVector),
        ("ltree", D::Ltree),
        ("vector", D::DoubleVector),
        ("halfvec", D::FloatVector),
        ("ints", D::Array(Box::new(D::Int32))),
        ("geoms", D::Array(Box::new(D::Geography))),
        (
            "numerics",
            D::Array(Box::new(D::Decimal {
                precision: None,
                scale: None,
            })),
        ),
        ("tags", D::Array(Box::new(D::Text))),
    ];
    let mut columns = vec![
        column("tenant", D::Int32, false),
        column("code", D::Text, false),
    ];
    for (name, dt) in types {
        columns.push(column(name, dt.clone(), false));
        columns.push(column(&format!("{name}_n"), dt, true));
    }
    TableSchema {
        id: TableId::new("public", "everything"),
        version: 1,
        columns,
        primary_key: vec![1, 0],
    }
}

fn opts(source: SourceKind, decimal: DecimalMode) -> AvroOptions {
    AvroOptions {
        decimal,
        ..AvroOptions::debezium_defaults(source)
    }
}

/// Compares the generated schemas with `tests/golden/<name>.json`; `SIPHON_BLESS=1`
/// rewrites the file instead.
fn golden(name: &str, opts: AvroOptions) {
    golden_of(name, &everything_table(), opts);
}

fn golden_of(name: &str, table: &TableSchema, opts: AvroOptions) {
    let topic = topic_name("server1", &table.id);
    let s = table_schemas(&topic, table, &opts).unwrap();
    let parse = |t: &str| serde_json::from_str::<Json>(t).unwrap();
    let doc = json!({
        "topic": topic,
        "key": s.key_json.as_deref().map(parse),
        "value": parse(&s.value_json),
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    if std::env::var("SIPHON_BLESS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SIPHON_BLESS=1 writes it)", path.display()));
    assert!(
        expected == text,
        "{} differs from the generated schema (SIPHON_BLESS=1 rewrites it):\n{text}",
        path.display()
    );
}

#[test]
fn golden_postgres_precise() {
    golden(
        "pg_precise",
        opts(SourceKind::Postgres, DecimalMode::Precise),
    );
}

#[test]
fn golden_postgres_double() {
    golden("pg_double", opts(SourceKind::Postgres, DecimalMode::Double));
}

#[test]
fn golden_postgres_string() {
    golden("pg_string", opts(SourceKind::Postgres, DecimalMode::String));
}

#[test]
fn golden_postgres_connect_time_hstore_map_interval_string() {
    let o = AvroOptions {
        time: TimeMode::Connect,
        hstore_as_map: true,
        interval_as_string: true,
        ..opts(SourceKind::Postgres, DecimalMode::Precise)
    };
    golden("pg_connect_map_interval_string", o);
}

#[test]
fn golden_mysql_precise() {
    golden(
        "mysql_precise",
        opts(SourceKind::MySql, DecimalMode::Precise),
    );
}

/// A collection's key and envelope (Debezium's MongoDB shapes, whatever the table options).
#[test]
fn golden_mongodb() {
    golden_of(
        "mongodb",
        &TableSchema::document(TableId::new("inventory", "customers")),
        AvroOptions::debezium_defaults(SourceKind::MongoDb),
    );
}

#[test]
fn every_option_combination_parses() {
    let table = everything_table();
    for source in [SourceKind::Postgres, SourceKind::MySql, SourceKind::MongoDb] {
        for decimal in [
            DecimalMode::Precise,
            DecimalMode::Double,
            DecimalMode::String,
        ] {
            for time in [
                TimeMode::Adaptive,
                TimeMode::AdaptiveTimeMicroseconds,
                TimeMode::Connect,
            ] {
                for (hstore_as_map, interval_as_string) in
                    [(false, false), (true, false), (false, true), (true, true)]
                {
                    let o = AvroOptions {
                        source,
                        decimal,
                        time,
                        hstore_as_map,
                        interval_as_string,
                    };
                    let s = table_schemas("p.public.everything", &table, &o).unwrap();
                    // The JSON text is the parsed schema: it parses to an equal one.
                    assert_eq!(Schema::parse_str(&s.value_json).unwrap(), s.value);
                    let key = s.key_json.as_deref().map(|k| Schema::parse_str(k).unwrap());
                    assert_eq!(key, s.key);
                }
            }
        }
    }
}

#[test]
fn named_types_are_defined_once_then_referenced() {
    let table = everything_table();
    let s = table_schemas(
        "server1.public.everything",
        &table,
        &opts(SourceKind::Postgres, DecimalMode::Precise),
    )
    .unwrap();
    let v = &s.value_json;
    assert_eq!(
        v.matches(r#""name":"VariableScaleDecimal""#).count(),
        1,
        "{v}"
    );
    assert_eq!(v.matches(r#""name":"Geometry""#).count(), 1);
    // numeric_n, numerics, numerics_n refer to the definition in `numeric` by full name.
    assert_eq!(
        v.matches(r#""io.debezium.data.VariableScaleDecimal"]"#)
            .count(),
        3
    );
    assert_eq!(v.matches(r#""name":"Value""#).count(), 1);
    assert!(v.contains(r#"{"name":"after","type":["null","Value"],"default":null}"#));
    // The key is its own schema document: it defines what it uses.
    assert!(
        s.key_json
            .unwrap()
            .contains(r#""namespace":"server1.public.everything""#)
    );
}

#[test]
fn envelope_fields_follow_debeziums_order() {
    let table = everything_table();
    let s = table_schemas(
        "a.b.c",
        &table,
        &opts(SourceKind::MySql, DecimalMode::Precise),
    )
    .unwrap();
    let Schema::Record(r) = &s.value else {
        panic!()
    };
    let names: Vec<_> = r.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ENVELOPE_FIELDS);
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
    assert_eq!(r.name.fullname(None), "a.b.c.Envelope");
}

#[test]
fn key_follows_primary_key_order_and_keyless_tables_have_none() {
    let mut table = everything_table();
    let s = table_schemas(
        "t.public.everything",
        &table,
        &opts(SourceKind::Postgres, DecimalMode::Precise),
    )
    .unwrap();
    let Some(Schema::Record(key)) = &s.key else {
        panic!()
    };
    let names: Vec<_> = key.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["code", "tenant"]);
    assert_eq!(key.name.fullname(None), "t.public.everything.Key");
    table.primary_key.clear();
    let s = table_schemas(
        "t.public.everything",
        &table,
        &opts(SourceKind::Postgres, DecimalMode::Precise),
    )
    .unwrap();
    assert!(s.key.is_none() && s.key_json.is_none());
}

#[test]
fn topic_names_follow_debezium() {
    let t = |ns: &str, name: &str| TableId::new(ns, name);
    assert_eq!(
        topic_name("srv", &t("public", "orders")),
        "srv.public.orders"
    );
    assert_eq!(topic_name("srv", &t("", "orders")), "srv.orders");
    assert_eq!(
        topic_name("my srv", &t("sch$ema", "tablé")),
        "my_srv.sch_ema.tabl_"
    );
    // One `_` per UTF-16 unit, as Java counts characters.
    assert_eq!(topic_name("s", &t("x", "a😀b")), "s.x.a__b");
    assert_eq!(topic_name("s", &t("x", &"y".repeat(300))).len(), 249);
}

#[test]
fn avro_names_follow_debeziums_adjuster() {
    assert_eq!(
        sanitize_avro_name("test-server.connector_test.products.Key"),
        "test_server.connector_test.products.Key"
    );
    assert_eq!(
        sanitize_avro_name("t1234.connector_test.products.Key"),
        "t1234.connector_test.products.Key"
    );
    assert_eq!(sanitize_avro_name("24ColumnName"), "_24ColumnName");
    assert_eq!(sanitize_avro_name("-x"), "_x");
    assert_eq!(
        sanitize_avro_name("some-invalid-fullname$"),
        "some_invalid_fullname_"
    );
    assert_eq!(sanitize_avro_name("é😀"), "___");
    assert_eq!(sanitize_avro_name(""), "");
    assert_eq!(sanitize_field_name("a.b-c"), "a_b_c");
    assert_eq!(sanitize_field_name("1st"), "_1st");
    // Beyond Debezium: a namespace part Avro would reject still gets a valid name.
    assert_eq!(avro_full_name("srv.1table.Value"), "srv._1table.Value");
}

#[test]
fn unrepresentable_tables_are_errors() {
    let table = |columns: Vec<Column>| TableSchema {
        id: TableId::new("s", "t"),
        version: 1,
        columns,
        primary_key: vec![],
    };
    let o = opts(SourceKind::Postgres, DecimalMode::Precise);
    let err = table_schemas(
        "p.s.t",
        &table(vec![
            column("a-b", D::Int32, false),
            column("a_b", D::Int32, false),
        ]),
        &o,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("s.t.a_b (a_b): Avro field name \"a_b\""),
        "{err}"
    );
    let bad_decimal = D::Decimal {
        precision: Some(2),
        scale: Some(3),
    };
    let err =
        table_schemas("p.s.t", &table(vec![column("d", bad_decimal, false)]), &o).unwrap_err();
    assert!(matches!(err, SchemaError::Column { .. }), "{err}");
    let err = table_schemas(
        "p.s.t",
        &table(vec![column("b", D::Bits { length: 0 }, true)]),
        &o,
    )
    .unwrap_err();
    assert!(err.to_string().contains("length 0"), "{err}");
    let mut t = table(vec![column("a", D::Int32, false)]);
    t.primary_key = vec![3];
    assert!(
        table_schemas("p.s.t", &t, &o)
            .unwrap_err()
            .to_string()
            .contains("out of range")
    );
}

#[test]
fn column_types_carry_debeziums_connect_metadata() {
    let table = everything_table();
    let s = table_schemas(
        "p.public.everything",
        &table,
        &opts(SourceKind::Postgres, DecimalMode::Precise),
    )
    .unwrap();
    let v: Json = serde_json::from_str(&s.value_json).unwrap();
    let fields = &v["fields"][0]["type"][1]["fields"];
    let ty = |name: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["type"].clone())
            .unwrap()
    };
    assert_eq!(
        ty("dec"),
        json!({"type": "bytes", "scale": 2, "precision": 10, "connect.version": 1,
               "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"},
               "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"})
    );
    // money: no precision parameter, AvroData's default precision 64.
    assert_eq!(ty("money")["precision"], 64);
    assert_eq!(ty("money")["connect.parameters"], json!({"scale": "2"}));
    assert_eq!(ty("i16"), json!({"type": "int", "connect.type": "int16"}));
    assert_eq!(
        ty("mood")["connect.parameters"],
        json!({"allowed": "happy,sad"})
    );
    assert_eq!(ty("bits")["connect.parameters"], json!({"length": "10"}));
    assert_eq!(ty("bit1"), json!("boolean"));
    assert_eq!(
        ty("geom")[0],
        "null",
        "geometry is optional even when NOT NULL"
    );
    assert_eq!(
        ty("tstz")["connect.name"],
        "io.debezium.time.ZonedTimestamp"
    );
    assert_eq!(ty("time_ms")["type"], "int");
    assert_eq!(
        ty("ints"),
        json!({"type": "array", "items": ["null", "int"]})
    );
    assert_eq!(ty("text_n"), json!(["null", "string"]));
}

/// Walks two schema documents keeping only what a consumer relies on: record names and
/// namespaces, field names and order, types, defaults and `connect.name`.
fn essentials(v: &Json) -> Json {
    match v {
        Json::Array(items) => Json::Array(items.iter().map(essentials).collect()),
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| {
                    [
                        "type",
                        "name",
                        "namespace",
                        "fields",
                        "items",
                        "values",
                        "default",
                        "connect.name",
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), essentials(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Debezium's documented PostgreSQL example (`customers`, logical name
/// `PostgreSQL_server`), as its AvroConverter registers it with Debezium 3.1+ (versioned
/// source block, envelope version 2, `transaction` after `source`). `id` is a plain `int4`
/// key here: the docs' `SERIAL` would add Debezium's `"default": 0` for function defaults,
/// which the model does not carry. Siphon's must be the same, field order included.
const CUSTOMERS_KEY: &str = r#"{"type":"record","name":"Key","namespace":"PostgreSQL_server.inventory.customers",
      "fields":[{"name":"id","type":"int"}],"connect.name":"PostgreSQL_server.inventory.customers.Key"}"#;
const CUSTOMERS_VALUE: &str = r#"{
      "type":"record","name":"Envelope","namespace":"PostgreSQL_server.inventory.customers",
      "fields":[
        {"name":"before","type":["null",{"type":"record","name":"Value","fields":[
            {"name":"id","type":"int"},
            {"name":"first_name","type":"string"},
            {"name":"email","type":"string"}],
          "connect.name":"PostgreSQL_server.inventory.customers.Value"}],"default":null},
        {"name":"after","type":["null","Value"],"default":null},
        {"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.postgresql",
          "fields":[
            {"name":"version","type":"string"},
            {"name":"connector","type":"string"},
            {"name":"name","type":"string"},
            {"name":"ts_ms","type":"long"},
            {"name":"snapshot","type":[{"type":"string","connect.version":1,
              "connect.parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
              "connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},
            {"name":"db","type":"string"},
            {"name":"sequence","type":["null","string"],"default":null},
            {"name":"ts_us","type":["null","long"],"default":null},
            {"name":"ts_ns","type":["null","long"],"default":null},
            {"name":"schema","type":"string"},
            {"name":"table","type":"string"},
            {"name":"txId","type":["null","long"],"default":null},
            {"name":"lsn","type":["null","long"],"default":null},
            {"name":"xmin","type":["null","long"],"default":null}],
          "connect.version":1,"connect.name":"io.debezium.connector.postgresql.Source"}},
        {"name":"transaction","type":["null",{"type":"record","name":"block","namespace":"event","fields":[
            {"name":"id","type":"string"},
            {"name":"total_order","type":"long"},
            {"name":"data_collection_order","type":"long"}],
          "connect.version":1,"connect.name":"event.block"}],"default":null},
        {"name":"op","type":"string"},
        {"name":"ts_ms","type":["null","long"],"default":null},
        {"name":"ts_us","type":["null","long"],"default":null},
        {"name":"ts_ns","type":["null","long"],"default":null}],
      "connect.version":2,"connect.name":"PostgreSQL_server.inventory.customers.Envelope"}"#;

#[test]
fn matches_debeziums_postgres_customers_example() {
    let table = TableSchema {
        id: TableId::new("inventory", "customers"),
        version: 1,
        columns: vec![
            column("id", D::Int32, false),
            column("first_name", D::Text, false),
            column("email", D::Text, false),
        ],
        primary_key: vec![0],
    };
    let topic = topic_name("PostgreSQL_server", &table.id);
    let s = table_schemas(
        &topic,
        &table,
        &AvroOptions::debezium_defaults(SourceKind::Postgres),
    )
    .unwrap();
    for (expected, generated, schema) in [
        (
            CUSTOMERS_KEY,
            s.key_json.as_deref().unwrap(),
            s.key.as_ref().unwrap(),
        ),
        (CUSTOMERS_VALUE, s.value_json.as_str(), &s.value),
    ] {
        let expected_json: Json = serde_json::from_str(expected).unwrap();
        let generated_json: Json = serde_json::from_str(generated).unwrap();
        assert_eq!(essentials(&generated_json), essentials(&expected_json));
        // Every property too, and apache-avro reads both the same.
        assert_eq!(generated_json, expected_json);
        assert_eq!(
            &Schema::parse_str(&expected_json.to_string()).unwrap(),
            schema
        );
        // Fields resolve by name: Debezium's schema, in its own order, and the generated one
        // each read what the other writes.
        let debezium = Schema::parse_str(expected).unwrap();
        assert_eq!(
            SchemaCompatibility::mutual_read(schema, &debezium).unwrap(),
            Compatibility::Full
        );
    }
}

/// Debezium's defaults of NOT NULL columns: `connect.default` and the field's default, which
/// make adding such a column BACKWARD compatible (the new schema reads what the old wrote);
/// without them it is not.
#[test]
fn a_not_null_column_with_a_default_is_a_backward_compatible_addition() {
    use crate::event::ColumnDefault;
    let v1 = TableSchema {
        id: TableId::new("public", "t"),
        version: 1,
        columns: vec![column("id", D::Int32, false)],
        primary_key: vec![0],
    };
    let mut added = column("n", D::Int16, false);
    added.default = Some(ColumnDefault::Int(7));
    let mut flag = column("flag", D::Boolean, false);
    flag.default = Some(ColumnDefault::Bool(true));
    let mut v2 = v1.next_version(vec![v1.columns[0].clone(), added, flag], vec![0]);
    let opts = AvroOptions::debezium_defaults(SourceKind::Postgres);
    // The row record (`before`'s branch) of each version, on its own: apache-avro's checker
    // does not look through the named reference in `after`.
    let value_record = |t: &TableSchema| {
        let s = table_schemas("p.public.t", t, &opts).unwrap();
        let doc: Json = serde_json::from_str(&s.value_json).unwrap();
        let record = doc["fields"][0]["type"][1].clone();
        (Schema::parse_str(&record.to_string()).unwrap(), record)
    };
    let (old, _) = value_record(&v1);
    let (new, doc) = value_record(&v2);
    // Backward: a consumer with the new schema reads records written with the old one.
    SchemaCompatibility::can_read(&old, &new).unwrap();
    let fields = doc["fields"].as_array().unwrap();
    assert_eq!(
        fields[1],
        json!({"name": "n", "type": {"type": "int", "connect.type": "int16", "connect.default": 7}, "default": 7})
    );
    assert_eq!(fields[2]["default"], json!(true));
    // Without the default the same addition is refused.
    v2.columns[1].default = None;
    let (bare, _) = value_record(&v2);
    assert!(SchemaCompatibility::can_read(&old, &bare).is_err());
}

/// A nullable column with a default: AvroData's `[T, "null"]` union with the default, and
/// values written with null as the second branch, which the schema validates.
#[test]
fn a_nullable_column_with_a_default_puts_null_second() {
    use crate::event::{ColumnDefault, Value};
    use apache_avro::types::Value as Avro;
    let mut n = column("n", D::Int16, true);
    n.default = Some(ColumnDefault::Int(7));
    let t = TableSchema {
        id: TableId::new("public", "t"),
        version: 1,
        columns: vec![column("id", D::Int32, false), n.clone()],
        primary_key: vec![0],
    };
    let opts = AvroOptions::debezium_defaults(SourceKind::Postgres);
    let s = table_schemas("p.public.t", &t, &opts).unwrap();
    let doc: Json = serde_json::from_str(&s.value_json).unwrap();
    let record = &doc["fields"][0]["type"][1];
    assert_eq!(
        record["fields"][1],
        json!({"name": "n", "type": [{"type": "int", "connect.type": "int16", "connect.default": 7}, "null"], "default": 7})
    );
    let field_schema = Schema::parse_str(&record["fields"][1]["type"].to_string()).unwrap();
    let ctx = super::super::avro_convert::Ctx {
        opts: &opts,
        table: &t,
        fallback_nulls: false,
    };
    let null = ctx.field(&Value::Null, &n).ok().unwrap();
    let three = ctx.field(&Value::Int16(3), &n).ok().unwrap();
    assert_eq!(null, Avro::Union(1, Box::new(Avro::Null)));
    assert_eq!(three, Avro::Union(0, Box::new(Avro::Int(3))));
    assert!(null.validate(&field_schema) && three.validate(&field_schema));
    // Without a default the union stays `["null", T]`.
    n.default = None;
    assert_eq!(
        ctx.field(&Value::Null, &n).ok().unwrap(),
        Avro::Union(0, Box::new(Avro::Null))
    );
}
