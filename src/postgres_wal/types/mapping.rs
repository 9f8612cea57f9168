//! Type OID and typmod to model type: built-in types, and user-defined ones via the catalog.

use super::oid::{self, builtin_type_name};
use super::{CustomType, PgType, TypeError};
use crate::event::{DataType, ShapeKind, TimePrecision};

/// `(array OID, element OID)` for every built-in array type whose elements are supported.
pub(super) const BUILTIN_ARRAYS: &[(u32, u32)] = &[
    (143, oid::XML),
    (199, oid::JSON),
    (651, oid::CIDR),
    (775, oid::MACADDR8),
    (791, oid::MONEY),
    (1000, oid::BOOL),
    (1001, oid::BYTEA),
    (1002, oid::CHAR),
    (1003, oid::NAME),
    (1005, oid::INT2),
    (1007, oid::INT4),
    (1009, oid::TEXT),
    (1014, oid::BPCHAR),
    (1015, oid::VARCHAR),
    (1016, oid::INT8),
    (1021, oid::FLOAT4),
    (1022, oid::FLOAT8),
    (1028, oid::OID),
    (1040, oid::MACADDR),
    (1041, oid::INET),
    (1115, oid::TIMESTAMP),
    (1182, oid::DATE),
    (1183, oid::TIME),
    (1185, oid::TIMESTAMPTZ),
    (1187, oid::INTERVAL),
    (1231, oid::NUMERIC),
    (1270, oid::TIMETZ),
    (1561, oid::BIT),
    (1563, oid::VARBIT),
    (2951, oid::UUID),
    (3807, oid::JSONB),
    (3643, oid::TSVECTOR),
    (3905, oid::INT4RANGE),
    (3907, oid::NUMRANGE),
    (3909, oid::TSRANGE),
    (3911, oid::TSTZRANGE),
    (3913, oid::DATERANGE),
    (3927, oid::INT8RANGE),
    (6150, oid::INT4MULTIRANGE),
    (6151, oid::NUMMULTIRANGE),
    (6152, oid::TSMULTIRANGE),
    (6153, oid::TSTZMULTIRANGE),
    (6155, oid::DATEMULTIRANGE),
    (6157, oid::INT8MULTIRANGE),
];

/// How deep domains over domains and arrays of domains may nest before the lookup is taken to
/// loop.
pub const MAX_TYPE_DEPTH: usize = 16;

/// Debezium's `length` for a bit string without a declared length.
const UNBOUNDED_BITS: u32 = i32::MAX as u32;

/// Maps (type OID, typmod) to the model type. Built-in OIDs are fixed; user-defined types
/// (enums, domains over known types, arrays of those, and the extension types hstore, citext,
/// ltree, PostGIS geometry / geography, pgvector vector / halfvec, found by name) come through
/// `custom`, a lookup the reader fills from `pg_type` / `pg_enum`.
///
/// For an array column the typmod is the element's (as in `pg_attribute.atttypmod`). For a
/// domain column whose typmod is -1, the domain's own `base_typmod` applies.
pub fn map_type(
    oid: u32,
    typmod: i32,
    custom: &dyn Fn(u32) -> Option<CustomType>,
) -> Result<PgType, TypeError> {
    map_type_at(oid, typmod, custom, 0)
}

fn map_type_at(
    type_oid: u32,
    typmod: i32,
    custom: &dyn Fn(u32) -> Option<CustomType>,
    depth: usize,
) -> Result<PgType, TypeError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeError::TooDeep { oid: type_oid });
    }
    if let Some(&(_, element_oid)) = BUILTIN_ARRAYS.iter().find(|(a, _)| *a == type_oid) {
        let element = map_type_at(element_oid, typmod, custom, depth + 1)?;
        return Ok(array_of(element));
    }
    if let Some(name) = builtin_type_name(type_oid) {
        return match builtin_data_type(type_oid, typmod) {
            Some(data_type) => Ok(PgType::new(data_type, name.to_owned())),
            None => Err(TypeError::Unsupported {
                oid: type_oid,
                name: match name.strip_prefix('_') {
                    Some(element) => format!("{element}[]"),
                    None => name.to_owned(),
                },
            }),
        };
    }
    match custom(type_oid) {
        None => Err(TypeError::Unknown { oid: type_oid }),
        Some(CustomType::Enum { name, labels }) => {
            Ok(PgType::new(DataType::Enum { allowed: labels }, name))
        }
        Some(CustomType::Domain {
            name,
            base_oid,
            base_typmod,
        }) => {
            let typmod = if typmod == -1 { base_typmod } else { typmod };
            let base = map_type_at(base_oid, typmod, custom, depth + 1)?;
            Ok(PgType::new(base.data_type, name))
        }
        Some(CustomType::Array { element_oid, .. }) => {
            let element = map_type_at(element_oid, typmod, custom, depth + 1)?;
            // An array of a domain over a built-in geometric type: unsupported like the
            // built-in arrays of those types (their texts contain the `,` that separates
            // elements, or use `;`).
            if matches!(
                element.data_type,
                DataType::Point | DataType::Shape(_) | DataType::Circle | DataType::Line
            ) {
                return Err(TypeError::Unsupported {
                    oid: type_oid,
                    name: format!("{}[]", element.name),
                });
            }
            Ok(array_of(element))
        }
        Some(CustomType::Hstore) => Ok(PgType::new(DataType::Map, "hstore".to_owned())),
        Some(CustomType::Other { name }) => {
            let data_type = match name.as_str() {
                "citext" => DataType::Text,
                "ltree" => DataType::Ltree,
                "geometry" => DataType::Geometry,
                "geography" => DataType::Geography,
                // pgvector, by name only: Debian 12 has no pgvector package to test against.
                "vector" => DataType::DoubleVector,
                "halfvec" => DataType::FloatVector,
                _ => {
                    return Err(TypeError::Unsupported {
                        oid: type_oid,
                        name,
                    });
                }
            };
            Ok(PgType::new(data_type, name))
        }
    }
}

fn array_of(element: PgType) -> PgType {
    PgType::new(
        DataType::Array(Box::new(element.data_type)),
        format!("{}[]", element.name),
    )
}

/// The model type of a supported built-in scalar type, or `None` when unsupported.
fn builtin_data_type(type_oid: u32, typmod: i32) -> Option<DataType> {
    Some(match type_oid {
        oid::BOOL => DataType::Boolean,
        oid::INT2 => DataType::Int16,
        oid::INT4 => DataType::Int32,
        oid::INT8 | oid::OID => DataType::Int64,
        oid::FLOAT4 => DataType::Float32,
        oid::FLOAT8 => DataType::Float64,
        oid::NUMERIC => numeric_type(typmod),
        oid::MONEY => DataType::Decimal {
            precision: None,
            scale: Some(2),
        },
        oid::CHAR
        | oid::NAME
        | oid::TEXT
        | oid::BPCHAR
        | oid::VARCHAR
        | oid::INET
        | oid::CIDR
        | oid::MACADDR
        | oid::MACADDR8 => DataType::Text,
        // Debezium writes ranges as their text; it has no mapping for multiranges, which
        // Siphon writes as text too rather than failing (see the module documentation).
        oid::INT4RANGE
        | oid::INT8RANGE
        | oid::NUMRANGE
        | oid::TSRANGE
        | oid::TSTZRANGE
        | oid::DATERANGE
        | oid::INT4MULTIRANGE
        | oid::INT8MULTIRANGE
        | oid::NUMMULTIRANGE
        | oid::TSMULTIRANGE
        | oid::TSTZMULTIRANGE
        | oid::DATEMULTIRANGE => DataType::Text,
        oid::TSVECTOR => DataType::TsVector,
        oid::POINT => DataType::Point,
        oid::BOX => DataType::Shape(ShapeKind::Box),
        oid::LSEG => DataType::Shape(ShapeKind::Lseg),
        oid::PATH => DataType::Shape(ShapeKind::Path),
        oid::POLYGON => DataType::Shape(ShapeKind::Polygon),
        oid::CIRCLE => DataType::Circle,
        oid::LINE => DataType::Line,
        oid::BYTEA => DataType::Bytes,
        oid::DATE => DataType::Date,
        oid::TIME => DataType::Time(time_precision(typmod)),
        oid::TIMETZ => DataType::TimeTz,
        oid::TIMESTAMP => DataType::Timestamp(time_precision(typmod)),
        oid::TIMESTAMPTZ => DataType::TimestampTz,
        oid::INTERVAL => DataType::Interval,
        oid::UUID => DataType::Uuid,
        oid::JSON | oid::JSONB => DataType::Json,
        oid::XML => DataType::Xml,
        oid::BIT if typmod == 1 => DataType::Boolean,
        oid::BIT | oid::VARBIT => DataType::Bits {
            length: u32::try_from(typmod)
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or(UNBOUNDED_BITS),
        },
        _ => return None,
    })
}

/// `numeric(p, s)` from its typmod, decoded as PostgreSQL 15 does (`VARHDRSZ` offset,
/// precision in the high 16 bits, scale an 11-bit signed field).
fn numeric_type(typmod: i32) -> DataType {
    if typmod < 4 {
        return DataType::Decimal {
            precision: None,
            scale: None,
        };
    }
    let packed = typmod - 4;
    let precision = (packed >> 16) & 0xffff;
    let scale = ((packed & 0x7ff) ^ 1024) - 1024;
    let (precision, scale) = if scale < 0 {
        (precision - scale, 0)
    } else {
        (precision.max(scale), scale)
    };
    DataType::Decimal {
        precision: u32::try_from(precision).ok(),
        scale: u32::try_from(scale).ok(),
    }
}

/// Fractional second digits of `time(p)` / `timestamp(p)`: the typmod is `p`, -1 means 6.
fn time_precision(typmod: i32) -> TimePrecision {
    let digits = u32::try_from(typmod).map_or(6, |p| p.min(6));
    TimePrecision::from_fractional_digits(digits)
}
