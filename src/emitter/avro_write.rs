//! Avro binary encoding of values built in schema order, against a schema resolved once.
//!
//! Why not `apache_avro`'s writer: profiling the catch-up benchmark (issue #7) showed half of
//! Siphon's CPU in it, because every write resolves the schema's names again, validates the
//! value in a separate pass, and looks every record field up by name in a freshly built hash
//! map. The values Siphon builds are already in field order, so this writer walks value and
//! schema together once, checking each value against its schema as it goes (a mismatch is an
//! error naming the field path, never silently wrong bytes). Its output is byte-identical to
//! `apache_avro`'s (the encoding tests compare the two).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{Name, NamespaceRef, ResolvedSchema};
use apache_avro::types::Value as Avro;

/// A value does not fit the schema, at `path` (fields and union branches, outermost first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Avro value does not fit its schema at `{path}`: {reason}")]
pub struct WriteError {
    pub path: String,
    pub reason: String,
}

impl WriteError {
    fn new(reason: impl Into<String>) -> Self {
        WriteError {
            path: String::new(),
            reason: reason.into(),
        }
    }

    /// Adds an enclosing path element (errors are built innermost first).
    pub fn within(mut self, element: &str) -> Self {
        self.path = if self.path.is_empty() {
            element.to_owned()
        } else {
            format!("{element}.{}", self.path)
        };
        self
    }
}

/// A schema with its named types resolved, ready to encode many values.
#[derive(Debug, Clone)]
pub struct AvroWriter {
    schema: Schema,
    names: HashMap<Name, Schema>,
}

impl AvroWriter {
    pub fn new(schema: &Schema) -> Result<Self, WriteError> {
        let resolved = ResolvedSchema::try_from(schema)
            .map_err(|e| WriteError::new(format!("schema names do not resolve: {e}")))?;
        let names = resolved
            .get_names()
            .iter()
            .map(|(n, s)| (n.clone(), (*s).clone()))
            .collect();
        Ok(AvroWriter {
            schema: schema.clone(),
            names,
        })
    }

    /// Appends the encoding of `value` to `out`.
    pub fn write(&self, value: &Avro, out: &mut Vec<u8>) -> Result<(), WriteError> {
        self.write_at(value, &self.schema, None, out)
    }

    /// Confluent's wire-format header: magic byte 0 and the schema id (big-endian).
    pub fn frame_header(schema_id: u32, out: &mut Vec<u8>) {
        out.push(0);
        out.extend_from_slice(&schema_id.to_be_bytes());
    }

    /// `value` in Confluent's wire format: magic byte 0, the schema id (big-endian), the
    /// encoding.
    pub fn framed(&self, schema_id: u32, value: &Avro) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::with_capacity(256);
        Self::frame_header(schema_id, &mut out);
        self.write(value, &mut out)?;
        Ok(out)
    }

    /// The encoding of `value`.
    #[cfg(test)]
    pub fn to_vec(&self, value: &Avro) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::with_capacity(256);
        self.write(value, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding of `value` as `schema`, a part of this writer's schema, inside
    /// `namespace` (where the part's named types are looked up).
    pub fn write_at(
        &self,
        value: &Avro,
        schema: &Schema,
        namespace: NamespaceRef<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), WriteError> {
        let mismatch =
            || WriteError::new(format!("{} for a {} schema", kind(value), kind_of(schema)));
        match (value, schema) {
            (_, Schema::Ref { name }) => {
                let full = name.fully_qualified_name(namespace);
                let target = self.names.get(full.as_ref()).ok_or_else(|| {
                    WriteError::new(format!("unknown named type {}", full.name()))
                })?;
                // The named type's own namespace encloses what it contains.
                let inner_ns = full.namespace().map(str::to_owned);
                self.write_at(value, target, inner_ns.as_deref(), out)
            }
            (Avro::Union(i, inner), Schema::Union(u)) => {
                let branch = u
                    .variants()
                    .get(*i as usize)
                    .ok_or_else(|| WriteError::new(format!("union branch {i} does not exist")))?;
                write_long(i64::from(*i), out);
                self.write_at(inner, branch, namespace, out)
                    .map_err(|e| e.within(&format!("<{}>", kind_of(branch))))
            }
            (Avro::Null, Schema::Union(u)) => {
                let i = u
                    .variants()
                    .iter()
                    .position(|s| matches!(s, Schema::Null))
                    .ok_or_else(mismatch)?;
                write_long(i as i64, out);
                Ok(())
            }
            (Avro::Null, Schema::Null) => Ok(()),
            (Avro::Boolean(b), Schema::Boolean) => {
                out.push(u8::from(*b));
                Ok(())
            }
            (Avro::Int(i), Schema::Int | Schema::Long | Schema::Date | Schema::TimeMillis)
            | (Avro::Date(i), Schema::Date | Schema::Int)
            | (Avro::TimeMillis(i), Schema::TimeMillis | Schema::Int) => {
                // An int and a long share the zig-zag varint encoding.
                write_long(i64::from(*i), out);
                Ok(())
            }
            (
                Avro::Long(i),
                Schema::Long
                | Schema::TimeMicros
                | Schema::TimestampMillis
                | Schema::TimestampMicros
                | Schema::TimestampNanos
                | Schema::LocalTimestampMillis
                | Schema::LocalTimestampMicros
                | Schema::LocalTimestampNanos,
            )
            | (Avro::TimeMicros(i), Schema::TimeMicros | Schema::Long)
            | (Avro::TimestampMillis(i), Schema::TimestampMillis | Schema::Long)
            | (Avro::TimestampMicros(i), Schema::TimestampMicros | Schema::Long)
            | (Avro::TimestampNanos(i), Schema::TimestampNanos | Schema::Long) => {
                write_long(*i, out);
                Ok(())
            }
            (Avro::Float(x), Schema::Float) => {
                out.extend_from_slice(&x.to_le_bytes());
                Ok(())
            }
            (Avro::Float(x), Schema::Double) => {
                out.extend_from_slice(&f64::from(*x).to_le_bytes());
                Ok(())
            }
            (Avro::Double(x), Schema::Double) => {
                out.extend_from_slice(&x.to_le_bytes());
                Ok(())
            }
            (Avro::Bytes(b), Schema::Bytes) => {
                write_bytes(b, out);
                Ok(())
            }
            (Avro::Bytes(b), Schema::Fixed(f)) | (Avro::Fixed(_, b), Schema::Fixed(f)) => {
                if b.len() != f.size {
                    return Err(WriteError::new(format!(
                        "{} bytes for a fixed of {}",
                        b.len(),
                        f.size
                    )));
                }
                out.extend_from_slice(b);
                Ok(())
            }
            (Avro::String(s), Schema::String | Schema::Uuid(_)) => {
                write_bytes(s.as_bytes(), out);
                Ok(())
            }
            (Avro::String(s), Schema::Enum(e)) => {
                let i =
                    e.symbols.iter().position(|sym| sym == s).ok_or_else(|| {
                        WriteError::new(format!("`{s}` is not a symbol of the enum"))
                    })?;
                write_long(i as i64, out);
                Ok(())
            }
            (Avro::Enum(i, sym), Schema::Enum(e)) => {
                if e.symbols.get(*i as usize) != Some(sym) {
                    return Err(WriteError::new(format!("`{sym}` is not symbol {i}")));
                }
                write_long(i64::from(*i), out);
                Ok(())
            }
            (Avro::Decimal(d), Schema::Decimal(_)) => {
                let bytes: Vec<u8> = d
                    .try_into()
                    .map_err(|e| WriteError::new(format!("decimal: {e}")))?;
                write_bytes(&bytes, out);
                Ok(())
            }
            (Avro::Array(items), Schema::Array(a)) => {
                if !items.is_empty() {
                    write_long(items.len() as i64, out);
                    for (n, item) in items.iter().enumerate() {
                        self.write_at(item, &a.items, namespace, out)
                            .map_err(|e| e.within(&format!("[{n}]")))?;
                    }
                }
                out.push(0);
                Ok(())
            }
            (Avro::Map(entries), Schema::Map(m)) => {
                if !entries.is_empty() {
                    write_long(entries.len() as i64, out);
                    for (k, v) in entries {
                        write_bytes(k.as_bytes(), out);
                        self.write_at(v, &m.types, namespace, out)
                            .map_err(|e| e.within(&format!("[{k}]")))?;
                    }
                }
                out.push(0);
                Ok(())
            }
            (Avro::Record(fields), Schema::Record(r)) => {
                if fields.len() != r.fields.len() {
                    return Err(WriteError::new(format!(
                        "{} fields for a record `{}` of {}",
                        fields.len(),
                        r.name.name(),
                        r.fields.len()
                    )));
                }
                let inner_ns = r.name.namespace().or(namespace);
                for ((name, v), field) in fields.iter().zip(&r.fields) {
                    if *name != field.name {
                        return Err(WriteError::new(format!(
                            "field `{name}` where the schema has `{}`",
                            field.name
                        ))
                        .within(r.name.name()));
                    }
                    self.write_at(v, &field.schema, inner_ns, out)
                        .map_err(|e| e.within(name))?;
                }
                Ok(())
            }
            _ => Err(mismatch()),
        }
    }
}

/// Avro's zig-zag varint encoding of an int or a long.
pub fn write_long(i: i64, out: &mut Vec<u8>) {
    let mut z = ((i << 1) ^ (i >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    write_long(b.len() as i64, out);
    out.extend_from_slice(b);
}

fn kind(value: &Avro) -> String {
    let debug = format!("{value:?}");
    debug
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn kind_of(schema: &Schema) -> String {
    let debug = format!("{schema:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::writer::datum::GenericDatumWriter;

    /// `apache_avro`'s encoding of `value`, the reference.
    pub(crate) fn reference(schema: &Schema, value: &Avro) -> Vec<u8> {
        let mut out = Vec::new();
        GenericDatumWriter::builder(schema)
            .build()
            .unwrap()
            .write_value_ref(&mut out, value)
            .unwrap();
        out
    }

    fn schema(json: &str) -> Schema {
        Schema::parse_str(json).unwrap()
    }

    #[test]
    fn frames_as_confluent_does() {
        let w = AvroWriter::new(&schema(r#""int""#)).unwrap();
        assert_eq!(
            w.framed(0x0102_0304, &Avro::Int(-1)).unwrap(),
            [0, 1, 2, 3, 4, 1]
        );
    }

    #[test]
    fn longs_use_zigzag_varints() {
        for i in [0i64, 1, -1, 63, -64, 64, 300, -300, i64::MAX, i64::MIN] {
            let s = schema(r#""long""#);
            let w = AvroWriter::new(&s).unwrap();
            assert_eq!(
                w.to_vec(&Avro::Long(i)).unwrap(),
                reference(&s, &Avro::Long(i)),
                "{i}"
            );
        }
    }

    #[test]
    fn nested_records_unions_refs_arrays_and_maps_match_apache_avro() {
        let s = schema(
            r#"{"type": "record", "name": "Envelope", "namespace": "p.s.t", "fields": [
                {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
                    {"name": "id", "type": "int"},
                    {"name": "tags", "type": {"type": "array", "items": "string"}},
                    {"name": "attrs", "type": {"type": "map", "values": ["null", "long"]}},
                    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
                    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
                    {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["red", "blue"]}},
                    {"name": "f", "type": "float"},
                    {"name": "d", "type": "double"},
                    {"name": "b", "type": "boolean"},
                    {"name": "raw", "type": "bytes"}
                ]}], "default": null},
                {"name": "after", "type": ["null", "Value"], "default": null},
                {"name": "op", "type": "string"}
            ]}"#,
        );
        let row = |id: i32| {
            Avro::Record(vec![
                ("id".into(), Avro::Int(id)),
                (
                    "tags".into(),
                    Avro::Array(vec![Avro::String("a".into()), Avro::String("é".into())]),
                ),
                (
                    "attrs".into(),
                    Avro::Map([("k".to_owned(), Avro::Union(1, Box::new(Avro::Long(-5))))].into()),
                ),
                (
                    "amount".into(),
                    Avro::Decimal(apache_avro::Decimal::from(vec![0xff, 0x38])),
                ),
                ("day".into(), Avro::Date(-3)),
                ("color".into(), Avro::String("blue".into())),
                ("f".into(), Avro::Float(1.5)),
                ("d".into(), Avro::Double(-2.25)),
                ("b".into(), Avro::Boolean(true)),
                ("raw".into(), Avro::Bytes(vec![0, 1, 2])),
            ])
        };
        let value = Avro::Record(vec![
            ("before".into(), Avro::Union(0, Box::new(Avro::Null))),
            ("after".into(), Avro::Union(1, Box::new(row(7)))),
            ("op".into(), Avro::String("c".into())),
        ]);
        let w = AvroWriter::new(&s).unwrap();
        assert_eq!(w.to_vec(&value).unwrap(), reference(&s, &value));
        let empty = Avro::Record(vec![
            ("before".into(), Avro::Null),
            ("after".into(), Avro::Null),
            ("op".into(), Avro::String(String::new())),
        ]);
        assert_eq!(w.to_vec(&empty).unwrap(), reference(&s, &empty));
    }

    #[test]
    fn a_mismatch_names_the_field_path() {
        let s = schema(
            r#"{"type": "record", "name": "R", "fields": [
                {"name": "after", "type": ["null", {"type": "record", "name": "V", "fields": [
                    {"name": "n", "type": "int"}]}]}]}"#,
        );
        let w = AvroWriter::new(&s).unwrap();
        let bad = Avro::Record(vec![(
            "after".into(),
            Avro::Union(
                1,
                Box::new(Avro::Record(vec![("n".into(), Avro::String("x".into()))])),
            ),
        )]);
        let e = w.to_vec(&bad).unwrap_err();
        assert_eq!(e.path, "after.<Record>.n", "{e}");
        assert!(e.reason.contains("String"), "{e}");
        let misordered = Avro::Record(vec![("before".into(), Avro::Null)]);
        assert!(
            w.to_vec(&misordered)
                .unwrap_err()
                .to_string()
                .contains("`before`")
        );
        let no_branch = Avro::Record(vec![("after".into(), Avro::Union(2, Box::new(Avro::Null)))]);
        assert!(w.to_vec(&no_branch).is_err());
    }
}
