//! `map_type`: built-in scalars and arrays, typmods, user-defined types and refusals.

use super::*;

// ---- map_type -----------------------------------------------------------------------

#[test]
fn maps_builtin_scalars() {
    let cases = [
        (16, -1, DataType::Boolean),
        (21, -1, DataType::Int16),
        (23, -1, DataType::Int32),
        (20, -1, DataType::Int64),
        (26, -1, DataType::Int64),
        (700, -1, DataType::Float32),
        (701, -1, DataType::Float64),
        (790, -1, decimal_type(None, Some(2))),
        (18, -1, DataType::Text),
        (19, -1, DataType::Text),
        (25, -1, DataType::Text),
        (1042, 7, DataType::Text),
        (1043, 14, DataType::Text),
        (869, -1, DataType::Text),
        (650, -1, DataType::Text),
        (829, -1, DataType::Text),
        (774, -1, DataType::Text),
        (17, -1, DataType::Bytes),
        (1082, -1, DataType::Date),
        (1083, -1, DataType::Time(TimePrecision::Micros)),
        (1083, 3, DataType::Time(TimePrecision::Millis)),
        (1083, 4, DataType::Time(TimePrecision::Micros)),
        (1266, 1, DataType::TimeTz),
        (1114, -1, DataType::Timestamp(TimePrecision::Micros)),
        (1114, 0, DataType::Timestamp(TimePrecision::Millis)),
        (1114, 6, DataType::Timestamp(TimePrecision::Micros)),
        (1184, 2, DataType::TimestampTz),
        (1186, -1, DataType::Interval),
        (1186, 2_147_418_114, DataType::Interval),
        (2950, -1, DataType::Uuid),
        (114, -1, DataType::Json),
        (3802, -1, DataType::Json),
        (142, -1, DataType::Xml),
        (1560, 1, DataType::Boolean),
        (1560, 5, DataType::Bits { length: 5 }),
        (
            1560,
            -1,
            DataType::Bits {
                length: 2_147_483_647,
            },
        ),
        (1562, 7, DataType::Bits { length: 7 }),
        (
            1562,
            -1,
            DataType::Bits {
                length: 2_147_483_647,
            },
        ),
    ];
    for (type_oid, typmod, expected) in cases {
        assert_eq!(ty(type_oid, typmod).data_type, expected, "oid {type_oid}");
    }
    assert_eq!(ty(1043, 14).name, "varchar");
    assert_eq!(ty(1184, -1).name, "timestamptz");
}

#[test]
fn maps_numeric_typmods_as_the_server_reports_them() {
    // pg_attribute.atttypmod of numeric(10,3), numeric, numeric(5,-2), numeric(3,5).
    assert_eq!(ty(1700, 655_367).data_type, decimal_type(Some(10), Some(3)));
    assert_eq!(ty(1700, -1).data_type, decimal_type(None, None));
    assert_eq!(ty(1700, 329_730).data_type, decimal_type(Some(7), Some(0)));
    assert_eq!(ty(1700, 196_617).data_type, decimal_type(Some(5), Some(5)));
    assert_eq!(parse(1700, 329_730, "12300"), dec("12300"));
    assert_eq!(parse(1700, 196_617, "0.00123"), dec("0.00123"));
}

#[test]
fn maps_builtin_arrays_with_the_element_typmod() {
    let cases = [
        (1000, -1, DataType::Boolean),
        (1005, -1, DataType::Int16),
        (1007, -1, DataType::Int32),
        (1016, -1, DataType::Int64),
        (1021, -1, DataType::Float32),
        (1022, -1, DataType::Float64),
        (1231, 458_758, decimal_type(Some(7), Some(2))),
        (1009, -1, DataType::Text),
        (1015, -1, DataType::Text),
        (1014, -1, DataType::Text),
        (1001, -1, DataType::Bytes),
        (1182, -1, DataType::Date),
        (1183, -1, DataType::Time(TimePrecision::Micros)),
        (1115, 3, DataType::Timestamp(TimePrecision::Millis)),
        (1185, -1, DataType::TimestampTz),
        (1187, -1, DataType::Interval),
        (2951, -1, DataType::Uuid),
        (199, -1, DataType::Json),
        (3807, -1, DataType::Json),
        (1041, -1, DataType::Text),
        (651, -1, DataType::Text),
        (1040, -1, DataType::Text),
        (1561, 4, DataType::Bits { length: 4 }),
        (1561, 1, DataType::Boolean),
        (
            1563,
            -1,
            DataType::Bits {
                length: 2_147_483_647,
            },
        ),
        (143, -1, DataType::Xml),
        (1270, -1, DataType::TimeTz),
        (791, -1, decimal_type(None, Some(2))),
    ];
    for (type_oid, typmod, element) in cases {
        assert_eq!(
            ty(type_oid, typmod).data_type,
            DataType::Array(Box::new(element)),
            "oid {type_oid}"
        );
    }
    assert_eq!(ty(1007, -1).name, "int4[]");
}

#[test]
fn maps_user_defined_types_through_the_catalog() {
    assert_eq!(
        ty(MOOD, -1),
        PgType::new(
            DataType::Enum {
                allowed: ["sad", "ok", "happy", "with space", "quo\"te"]
                    .map(String::from)
                    .to_vec()
            },
            "mood"
        )
    );
    assert!(matches!(
        ty(MOOD_ARRAY, -1).data_type,
        DataType::Array(e) if matches!(*e, DataType::Enum { .. })
    ));
    assert_eq!(ty(MOOD_ARRAY, -1).name, "mood[]");
    assert_eq!(ty(HSTORE, -1).data_type, DataType::Map);
    assert_eq!(
        ty(HSTORE_ARRAY, -1).data_type,
        DataType::Array(Box::new(DataType::Map))
    );
    assert_eq!(ty(CITEXT, -1), PgType::new(DataType::Text, "citext"));
    // Domains: the base type, the domain's name; the domain's typmod when the column has
    // none.
    assert_eq!(ty(POSINT, -1), PgType::new(DataType::Int32, "posint"));
    assert_eq!(ty(MONEY2, -1).data_type, decimal_type(Some(12), Some(2)));
}

#[test]
fn unsupported_and_unknown_types_are_named() {
    let err = map_type(3220, -1, &catalog).unwrap_err();
    assert_eq!(
        err,
        TypeError::Unsupported {
            oid: 3220,
            name: "pg_lsn".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "unsupported PostgreSQL type pg_lsn (oid 3220)"
    );
    // Debezium has no mapping for arrays of the built-in geometric types either.
    for (type_oid, name) in [
        (3615, "tsquery"),
        (1017, "point[]"),
        (1020, "box[]"),
        (719, "circle[]"),
    ] {
        assert_eq!(
            map_type(type_oid, -1, &catalog).unwrap_err(),
            TypeError::Unsupported {
                oid: type_oid,
                name: name.into()
            }
        );
    }
    assert_eq!(
        map_type(BOX_ALIAS_ARRAY, -1, &catalog).unwrap_err(),
        TypeError::Unsupported {
            oid: BOX_ALIAS_ARRAY,
            name: "box_alias[]".into()
        }
    );
    assert_eq!(
        map_type(COMPOSITE, -1, &catalog).unwrap_err().to_string(),
        "unsupported PostgreSQL type my_row (oid 88888)"
    );
    assert_eq!(
        map_type(12_345_678, -1, &catalog).unwrap_err(),
        TypeError::Unknown { oid: 12_345_678 }
    );
    assert!(matches!(
        map_type(LOOP, -1, &catalog).unwrap_err(),
        TypeError::TooDeep { .. }
    ));
}
