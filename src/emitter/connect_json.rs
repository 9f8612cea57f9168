//! Kafka Connect's JsonConverter output: the Connect JSON schema of a record, derived from the
//! Avro schema Siphon builds (whose `connect.*` properties carry what `AvroData` would turn
//! back into the Connect schema), and the `{"schema", "payload"}` envelope around the payload
//! `json::to_json` renders. Keys follow `JsonConverter.asJsonSchema`: `type`, then `fields` /
//! `items` / `keys`+`values`, `optional`, `name`, `version`, `doc`, `parameters`, `default`;
//! a struct field's schema ends with `"field": <name>`.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

/// The Connect JSON schema of an Avro schema (its JSON text).
pub fn connect_schema(avro_json: &str) -> Result<Json, String> {
    let avro: Json = serde_json::from_str(avro_json).map_err(|e| e.to_string())?;
    convert(&avro, None, &mut HashMap::new())
}

/// One record's bytes: with a schema (`schemas.enable=true`) the envelope, else the payload.
/// `schema` is the schema already serialized, so it is rendered once per table version.
pub fn record(schema: Option<&str>, payload: &Json) -> Vec<u8> {
    let payload = payload.to_string();
    match schema {
        None => payload.into_bytes(),
        Some(s) => {
            let mut out = String::with_capacity(s.len() + payload.len() + 24);
            out.push_str("{\"schema\":");
            out.push_str(s);
            out.push_str(",\"payload\":");
            out.push_str(&payload);
            out.push('}');
            out.into_bytes()
        }
    }
}

fn primitive(avro: &str, connect_type: Option<&str>) -> Option<&'static str> {
    Some(match (avro, connect_type) {
        ("int", Some("int16")) => "int16",
        ("int", Some("int8")) => "int8",
        ("int", _) => "int32",
        ("long", _) => "int64",
        ("float", _) => "float",
        ("double", _) => "double",
        ("boolean", _) => "boolean",
        ("string", _) | ("enum", _) => "string",
        ("bytes", _) | ("fixed", _) => "bytes",
        _ => return None,
    })
}

fn full_name(name: &str, ns: Option<&str>) -> String {
    match ns {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// `names`: the Connect schemas of the named Avro types defined so far, which later parts of
/// the schema reference by name (the `after` of an envelope names the `before`'s record).
fn convert(
    avro: &Json,
    ns: Option<&str>,
    names: &mut HashMap<String, Json>,
) -> Result<Json, String> {
    match avro {
        Json::String(t) => match primitive(t, None) {
            Some(ct) => Ok(json!({"type": ct, "optional": false})),
            None => names
                .get(&full_name(t, ns))
                .or_else(|| names.get(t))
                .cloned()
                .ok_or_else(|| format!("Avro type `{t}` has no Connect JSON schema")),
        },
        Json::Array(branches) => {
            let [a, b] = &branches[..] else {
                return Err(format!(
                    "the Avro union {avro} is not a Connect optional type"
                ));
            };
            let inner = match (a, b) {
                (Json::String(n), t) | (t, Json::String(n)) if n == "null" => t,
                _ => {
                    return Err(format!(
                        "the Avro union {avro} is not a Connect optional type"
                    ));
                }
            };
            let mut schema = convert(inner, ns, names)?;
            schema["optional"] = Json::Bool(true);
            Ok(schema)
        }
        Json::Object(obj) => convert_object(obj, ns, names),
        other => Err(format!("`{other}` is not an Avro schema")),
    }
}

fn convert_object(
    obj: &Map<String, Json>,
    ns: Option<&str>,
    names: &mut HashMap<String, Json>,
) -> Result<Json, String> {
    let t = obj.get("type").and_then(Json::as_str);
    let named = matches!(t, Some("record" | "enum" | "fixed"));
    let own_ns = match obj.get("namespace").and_then(Json::as_str) {
        Some(n) => Some(n.to_owned()),
        None if named => obj
            .get("name")
            .and_then(Json::as_str)
            .and_then(|n| n.rsplit_once('.').map(|(ns, _)| ns.to_owned()))
            .or_else(|| ns.map(str::to_owned)),
        None => ns.map(str::to_owned),
    };
    let mut out = Map::new();
    match t {
        Some("record") => {
            out.insert("type".into(), json!("struct"));
            let mut fields = Vec::new();
            for f in obj
                .get("fields")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let name = f.get("name").and_then(Json::as_str).unwrap_or_default();
                let ty = f.get("type").ok_or("an Avro field without a type")?;
                let mut schema = convert(ty, own_ns.as_deref(), names)?;
                if let Some(o) = schema.as_object_mut() {
                    o.insert("field".into(), json!(name));
                }
                fields.push(schema);
            }
            out.insert("fields".into(), Json::Array(fields));
        }
        Some("array") => {
            out.insert("type".into(), json!("array"));
            let items = obj.get("items").ok_or("an Avro array without items")?;
            out.insert("items".into(), convert(items, own_ns.as_deref(), names)?);
        }
        Some("map") => {
            out.insert("type".into(), json!("map"));
            out.insert("keys".into(), json!({"type": "string", "optional": false}));
            let values = obj.get("values").ok_or("an Avro map without values")?;
            out.insert("values".into(), convert(values, own_ns.as_deref(), names)?);
        }
        Some(p) => {
            let ct = obj.get("connect.type").and_then(Json::as_str);
            let ct = primitive(p, ct).ok_or_else(|| format!("Avro type `{p}` is not supported"))?;
            out.insert("type".into(), json!(ct));
        }
        None => {
            // `{"type": {...}}`: a nested schema.
            return convert(obj.get("type").unwrap_or(&Json::Null), ns, names);
        }
    }
    out.insert("optional".into(), Json::Bool(false));
    for (avro_key, connect_key) in [
        ("connect.name", "name"),
        ("connect.version", "version"),
        ("connect.doc", "doc"),
        ("connect.parameters", "parameters"),
        ("connect.default", "default"),
    ] {
        if let Some(v) = obj.get(avro_key) {
            out.insert(connect_key.into(), v.clone());
        }
    }
    let schema = Json::Object(out);
    if named && let Some(name) = obj.get("name").and_then(Json::as_str) {
        names.insert(full_name(name, own_ns.as_deref()), schema.clone());
    }
    Ok(schema)
}

#[cfg(test)]
#[path = "connect_json_tests.rs"]
mod tests;
