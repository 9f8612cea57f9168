//! MySQL column kinds: how a column's values are decoded and which model type (Debezium's
//! MySQL mapping) they become. Built from `information_schema.COLUMNS` (snapshot and DDL
//! reloads) or from a binlog TABLE_MAP event's metadata (see `table_map`).

use crate::event::{Column, DataType, TimePrecision};

pub use super::charset::Charset;

/// How a column's values are decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Integer of 1, 2, 3, 4 or 8 bytes.
    Int {
        bytes: u8,
        unsigned: bool,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Double,
    Bit {
        length: u32,
    },
    /// Character data in a charset.
    Text(Charset),
    /// BINARY, VARBINARY, BLOB; `fixed` is BINARY(n)'s length, whose trailing zero bytes the
    /// binlog drops and the reader restores.
    Binary {
        fixed: Option<u32>,
    },
    Date,
    Time {
        fsp: u32,
    },
    DateTime {
        fsp: u32,
    },
    Timestamp {
        fsp: u32,
    },
    Year,
    Enum(Vec<String>),
    Set(Vec<String>),
    Json,
    /// `POINT`: Debezium's `Point` (x, y, WKB, SRID).
    Point,
    /// The other spatial types: Debezium's `Geometry` (WKB, SRID).
    Geometry,
    /// MariaDB `INET4`: four bytes in the binlog, text in a result set.
    Inet4,
    /// MariaDB `INET6`: sixteen bytes in the binlog, text in a result set.
    Inet6,
    /// MariaDB `UUID`: sixteen bytes in the binlog, text in a result set.
    Uuid,
    /// A type Siphon cannot map (its declared type text): refused when captured, or raw
    /// bytes with `include.unknown.datatypes=true`.
    Unknown(String),
}

impl Kind {
    /// The model type, per Debezium's MySQL mapping.
    pub fn data_type(&self, bigint_unsigned_precise: bool) -> DataType {
        match self {
            Kind::Int { bytes: 1, .. }
            | Kind::Int {
                bytes: 2,
                unsigned: false,
            } => DataType::Int16,
            Kind::Int { bytes: 2 | 3, .. }
            | Kind::Int {
                bytes: 4,
                unsigned: false,
            } => DataType::Int32,
            Kind::Int {
                bytes: 8,
                unsigned: true,
            } if bigint_unsigned_precise => DataType::Decimal {
                precision: Some(20),
                scale: Some(0),
            },
            Kind::Int { .. } => DataType::Int64,
            Kind::Decimal { precision, scale } => DataType::Decimal {
                precision: Some(*precision),
                scale: Some(*scale),
            },
            Kind::Float => DataType::Float32,
            Kind::Double => DataType::Float64,
            Kind::Bit { length: 1 } => DataType::Boolean,
            Kind::Bit { length } => DataType::Bits { length: *length },
            Kind::Text(_) => DataType::Text,
            Kind::Binary { .. } => DataType::Bytes,
            Kind::Date => DataType::Date,
            // Debezium's MySQL default is adaptive_time_microseconds: TIME is always micros.
            Kind::Time { .. } => DataType::Time(TimePrecision::Micros),
            Kind::DateTime { fsp } => {
                DataType::Timestamp(TimePrecision::from_fractional_digits(*fsp))
            }
            Kind::Timestamp { .. } => DataType::TimestampTz,
            Kind::Year => DataType::Year,
            Kind::Enum(allowed) => DataType::Enum {
                allowed: allowed.clone(),
            },
            Kind::Set(allowed) => DataType::EnumSet {
                allowed: allowed.clone(),
            },
            Kind::Json => DataType::Json,
            Kind::Point => DataType::Point,
            Kind::Geometry => DataType::Geometry,
            Kind::Inet4 | Kind::Inet6 => DataType::Text,
            Kind::Uuid => DataType::Uuid,
            Kind::Unknown(_) => DataType::Bytes,
        }
    }
}

/// One column as the reader decodes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MyColumn {
    pub name: String,
    pub kind: Kind,
    pub nullable: bool,
    /// The server's type text (`int(10) unsigned`, `varchar(20)`), for messages and schemas.
    pub source_type: String,
    /// From `information_schema` (the binlog does not carry defaults).
    pub default: Option<crate::event::ColumnDefault>,
}

impl MyColumn {
    pub fn model(&self, bigint_unsigned_precise: bool) -> Column {
        Column {
            name: self.name.clone(),
            data_type: self.kind.data_type(bigint_unsigned_precise),
            nullable: self.nullable,
            source_type: self.source_type.clone(),
            default: self.default.clone(),
        }
    }
}

/// One row of `information_schema.COLUMNS`, the fields the mapping needs.
#[derive(Debug, Clone, Default)]
pub struct ColumnInfo {
    /// `DATA_TYPE`: `int`, `varchar`, `enum`, …
    pub data_type: String,
    /// `COLUMN_TYPE`: `int(10) unsigned`, `enum('a','b')`, `decimal(10,2)`, …
    pub column_type: String,
    pub nullable: bool,
    pub charset: Option<String>,
    pub numeric_precision: Option<u64>,
    pub numeric_scale: Option<u64>,
    /// `CHARACTER_OCTET_LENGTH`.
    pub octet_length: Option<u64>,
    pub datetime_precision: Option<u64>,
    /// MariaDB's JSON is LONGTEXT with a `json_valid(col)` check.
    pub json_check: bool,
}

/// Maps an `information_schema` column to a kind; a type Siphon does not know becomes
/// [`Kind::Unknown`] (whether that is refused depends on the connector's settings).
pub fn kind_from_info(info: &ColumnInfo) -> Kind {
    let ty = info.column_type.to_ascii_lowercase();
    let unsigned = ty.contains("unsigned");
    let int = |bytes| Kind::Int { bytes, unsigned };
    let fsp = || info.datetime_precision.unwrap_or(0).min(6) as u32;
    // Snapshot reads are converted to utf8mb4 by the server; the charset matters for the
    // binlog, and for telling the binlog's description and this one apart.
    let text = || {
        Kind::Text(
            info.charset
                .as_deref()
                .map_or(Charset::UTF8MB4, Charset::from_name),
        )
    };
    match info.data_type.to_ascii_lowercase().as_str() {
        "tinyint" | "bool" | "boolean" => int(1),
        "smallint" => int(2),
        "mediumint" => int(3),
        "int" | "integer" => int(4),
        "bigint" => int(8),
        "decimal" | "numeric" => Kind::Decimal {
            precision: info.numeric_precision.unwrap_or(10) as u32,
            scale: info.numeric_scale.unwrap_or(0) as u32,
        },
        "float" => Kind::Float,
        "double" | "real" => Kind::Double,
        "bit" => Kind::Bit {
            length: info.numeric_precision.unwrap_or(1) as u32,
        },
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" => text(),
        "longtext" if info.json_check => Kind::Json,
        "longtext" => text(),
        "binary" => Kind::Binary {
            fixed: Some(info.octet_length.unwrap_or(1) as u32),
        },
        "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            Kind::Binary { fixed: None }
        }
        "date" => Kind::Date,
        "time" => Kind::Time { fsp: fsp() },
        "datetime" => Kind::DateTime { fsp: fsp() },
        "timestamp" => Kind::Timestamp { fsp: fsp() },
        "year" => Kind::Year,
        "enum" => Kind::Enum(parse_enum_values(&info.column_type)),
        "set" => Kind::Set(parse_enum_values(&info.column_type)),
        "json" => Kind::Json,
        "point" => Kind::Point,
        "geometry" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => Kind::Geometry,
        "inet4" => Kind::Inet4,
        "inet6" => Kind::Inet6,
        "uuid" => Kind::Uuid,
        _ => Kind::Unknown(info.column_type.clone()),
    }
}

/// `enum('a','b''c')` → `["a", "b'c"]`.
pub fn parse_enum_values(column_type: &str) -> Vec<String> {
    let Some(start) = column_type.find('(') else {
        return Vec::new();
    };
    let body = &column_type[start + 1..];
    let mut values = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                }
                other => value.push(other),
            }
        }
        values.push(value);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(data_type: &str, column_type: &str) -> ColumnInfo {
        ColumnInfo {
            data_type: data_type.into(),
            column_type: column_type.into(),
            ..Default::default()
        }
    }

    #[test]
    fn integers_follow_debeziums_widths() {
        let dt = |d: &str, c: &str| kind_from_info(&info(d, c)).data_type(false);
        assert_eq!(dt("tinyint", "tinyint(3) unsigned"), DataType::Int16);
        assert_eq!(dt("smallint", "smallint(6)"), DataType::Int16);
        assert_eq!(dt("smallint", "smallint(5) unsigned"), DataType::Int32);
        assert_eq!(dt("mediumint", "mediumint(8) unsigned"), DataType::Int32);
        assert_eq!(dt("int", "int(11)"), DataType::Int32);
        assert_eq!(dt("int", "int(10) unsigned"), DataType::Int64);
        assert_eq!(dt("bigint", "bigint(20) unsigned"), DataType::Int64);
        let precise = kind_from_info(&info("bigint", "bigint(20) unsigned")).data_type(true);
        assert_eq!(
            precise,
            DataType::Decimal {
                precision: Some(20),
                scale: Some(0)
            }
        );
    }

    #[test]
    fn temporal_precision_picks_the_semantic_type() {
        let mut i = info("datetime", "datetime(6)");
        i.datetime_precision = Some(6);
        assert_eq!(
            kind_from_info(&i).data_type(false),
            DataType::Timestamp(TimePrecision::Micros)
        );
        i.datetime_precision = Some(0);
        assert_eq!(
            kind_from_info(&i).data_type(false),
            DataType::Timestamp(TimePrecision::Millis)
        );
        assert_eq!(
            kind_from_info(&info("timestamp", "timestamp(3)")).data_type(false),
            DataType::TimestampTz
        );
    }

    #[test]
    fn enum_values_are_unquoted() {
        assert_eq!(
            parse_enum_values("enum('a','b''c','d,e')"),
            vec!["a", "b'c", "d,e"]
        );
        assert_eq!(parse_enum_values("set('x')"), vec!["x"]);
        assert!(parse_enum_values("int").is_empty());
    }

    #[test]
    fn mariadb_json_is_longtext_with_a_check() {
        let mut i = info("longtext", "longtext");
        i.charset = Some("utf8mb4".into());
        assert_eq!(kind_from_info(&i), Kind::Text(Charset::UTF8MB4));
        i.json_check = true;
        assert_eq!(kind_from_info(&i), Kind::Json);
    }

    #[test]
    fn mariadb_types_and_unknown_ones() {
        assert_eq!(kind_from_info(&info("inet6", "inet6")), Kind::Inet6);
        assert_eq!(kind_from_info(&info("inet4", "inet4")), Kind::Inet4);
        assert_eq!(kind_from_info(&info("uuid", "uuid")), Kind::Uuid);
        assert_eq!(Kind::Uuid.data_type(false), DataType::Uuid);
        assert_eq!(Kind::Inet6.data_type(false), DataType::Text);
        let unknown = kind_from_info(&info("vector", "vector(3)"));
        assert_eq!(unknown, Kind::Unknown("vector(3)".into()));
        assert_eq!(unknown.data_type(false), DataType::Bytes);
        let mut i = info("varchar", "varchar(10)");
        i.charset = Some("sjis".into());
        assert_eq!(kind_from_info(&i), Kind::Text(Charset::Named("sjis")));
    }
}
