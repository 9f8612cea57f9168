//! The text of a `__debezium.oldkey`/`newkey` header as Kafka Connect writes it: Debezium
//! adds the key `Struct` as a Connect header, and the worker's default header converter
//! (`SimpleHeaderConverter`) writes it with `Values.convertToString`: `{"id":2,"code":"eu"}`,
//! strings quoted with `\` and `"` escaped, bytes in base64, decimals as Java's
//! `BigDecimal.toString`, floating point as Java's `Double.toString`.

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use base64::Engine as _;
use num_bigint::BigInt;

/// `value` (of `schema`) as Connect's string form of it.
pub fn connect_text(value: &Avro, schema: &Schema) -> String {
    let mut out = String::new();
    append(&mut out, value, schema, false);
    out
}

fn append(out: &mut String, value: &Avro, schema: &Schema, embedded: bool) {
    match value {
        Avro::Null => out.push_str("null"),
        Avro::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Avro::Int(n) | Avro::Date(n) | Avro::TimeMillis(n) => out.push_str(&n.to_string()),
        Avro::Long(n)
        | Avro::TimeMicros(n)
        | Avro::TimestampMillis(n)
        | Avro::TimestampMicros(n)
        | Avro::TimestampNanos(n)
        | Avro::LocalTimestampMillis(n)
        | Avro::LocalTimestampMicros(n)
        | Avro::LocalTimestampNanos(n) => out.push_str(&n.to_string()),
        Avro::Float(f) => out.push_str(&java_double(f64::from(*f), true)),
        Avro::Double(f) => out.push_str(&java_double(*f, false)),
        Avro::String(s) | Avro::Enum(_, s) => string(out, s, embedded),
        Avro::Uuid(u) => string(out, &u.to_string(), embedded),
        Avro::Bytes(b) | Avro::Fixed(_, b) => {
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            string(out, &text, embedded);
        }
        Avro::Decimal(d) => {
            let scale = match schema {
                Schema::Decimal(s) => s.scale,
                _ => 0,
            };
            let bytes: Vec<u8> = d.try_into().unwrap_or_default();
            out.push_str(&java_big_decimal(
                &BigInt::from_signed_bytes_be(&bytes),
                scale,
            ));
        }
        Avro::Union(i, inner) => {
            let branch = match schema {
                Schema::Union(u) => u.variants().get(*i as usize),
                _ => None,
            };
            append(out, inner, branch.unwrap_or(schema), embedded);
        }
        Avro::Record(fields) => {
            out.push('{');
            for (n, (name, v)) in fields.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                string(out, name, true);
                out.push(':');
                let field_schema = match schema {
                    Schema::Record(r) => r.fields.iter().find(|f| &f.name == name),
                    _ => None,
                };
                append(out, v, field_schema.map_or(schema, |f| &f.schema), true);
            }
            out.push('}');
        }
        Avro::Array(items) => {
            let item_schema = match schema {
                Schema::Array(a) => &a.items,
                _ => schema,
            };
            out.push('[');
            for (n, v) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                append(out, v, item_schema, true);
            }
            out.push(']');
        }
        // Keys hold none of these; Connect would write them as its own string forms.
        other => out.push_str(&format!("{other:?}")),
    }
}

fn string(out: &mut String, s: &str, embedded: bool) {
    if embedded {
        out.push('"');
        out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Java's `Double.toString` (`Float.toString` for `single`): plain between 10^-3 and 10^7,
/// else `d.dddE±n`; always a fractional digit.
fn java_double(f: f64, single: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Shortest digits that read back as the value, as Java prints them.
    let shortest = |x: f64| {
        if single {
            format!("{:e}", x as f32)
        } else {
            format!("{x:e}")
        }
    };
    let abs = f.abs();
    if f == 0.0 || (1e-3..1e7).contains(&abs) {
        let plain = if single {
            format!("{:?}", f as f32)
        } else {
            format!("{f:?}")
        };
        return if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        };
    }
    let sci = shortest(f);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// Java's `BigDecimal.toString` of `unscaled` × 10^-`scale`: plain unless the adjusted
/// exponent is below -6, then scientific.
fn java_big_decimal(unscaled: &BigInt, scale: usize) -> String {
    let text = unscaled.magnitude().to_string();
    let sign = if unscaled.sign() == num_bigint::Sign::Minus {
        "-"
    } else {
        ""
    };
    let adjusted = text.len() as i64 - 1 - scale as i64;
    if scale == 0 {
        return format!("{sign}{text}");
    }
    if adjusted >= -6 {
        if text.len() > scale {
            let (int, frac) = text.split_at(text.len() - scale);
            format!("{sign}{int}.{frac}")
        } else {
            format!("{sign}0.{}{text}", "0".repeat(scale - text.len()))
        }
    } else {
        let (first, rest) = text.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{sign}{first}{rest}E{adjusted}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_schema(fields: &str) -> Schema {
        Schema::parse_str(&format!(
            r#"{{"type":"record","name":"Key","fields":[{fields}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn a_struct_key_reads_as_connects_string_form() {
        let schema = key_schema(
            r#"{"name":"id","type":"int"},{"name":"code","type":"string"},
               {"name":"big","type":"long"},{"name":"raw","type":"bytes"},
               {"name":"opt","type":["null","string"],"default":null}"#,
        );
        let value = Avro::Record(vec![
            ("id".into(), Avro::Int(2)),
            ("code".into(), Avro::String(r#"e"u\"#.into())),
            ("big".into(), Avro::Long(-9_000_000_000)),
            ("raw".into(), Avro::Bytes(vec![1, 2, 3])),
            ("opt".into(), Avro::Union(0, Box::new(Avro::Null))),
        ]);
        assert_eq!(
            connect_text(&value, &schema),
            r#"{"id":2,"code":"e\"u\\","big":-9000000000,"raw":"AQID","opt":null}"#
        );
    }

    #[test]
    fn decimals_print_as_java_big_decimal() {
        let d = |n: i64, scale| java_big_decimal(&BigInt::from(n), scale);
        assert_eq!(d(12345, 2), "123.45");
        assert_eq!(d(-5, 3), "-0.005");
        assert_eq!(d(7, 0), "7");
        assert_eq!(d(1, 7), "1E-7");
        assert_eq!(d(15, 8), "1.5E-7");
        assert_eq!(d(100, 2), "1.00");
        let schema = key_schema(
            r#"{"name":"n","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}"#,
        );
        let value = Avro::Record(vec![(
            "n".into(),
            Avro::Decimal(apache_avro::Decimal::from(
                BigInt::from(-12345).to_signed_bytes_be(),
            )),
        )]);
        assert_eq!(connect_text(&value, &schema), r#"{"n":-123.45}"#);
    }

    #[test]
    fn floating_point_prints_as_java_does() {
        assert_eq!(java_double(1.0, false), "1.0");
        assert_eq!(java_double(0.1, false), "0.1");
        assert_eq!(java_double(1234567.5, false), "1234567.5");
        assert_eq!(java_double(1e7, false), "1.0E7");
        assert_eq!(java_double(1.5e-5, false), "1.5E-5");
        assert_eq!(java_double(-2.5e20, false), "-2.5E20");
        assert_eq!(java_double(0.0, false), "0.0");
        assert_eq!(java_double(f64::from(0.1f32), true), "0.1");
        assert_eq!(java_double(f64::NAN, false), "NaN");
    }
}
