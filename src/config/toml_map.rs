//! `connectors.toml` values in Debezium's string map.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Deserializes a TOML table of scalars into Debezium's string map: numbers and booleans are
/// written as text, arrays of strings are joined with commas (the list syntax Debezium uses).
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        I(i64),
        F(f64),
        B(bool),
        L(Vec<String>),
    }
    let raw: BTreeMap<String, Scalar> = BTreeMap::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Scalar::S(s) => s,
                Scalar::I(i) => i.to_string(),
                Scalar::F(f) => f.to_string(),
                Scalar::B(b) => b.to_string(),
                Scalar::L(l) => l.join(","),
            };
            (k, text)
        })
        .collect())
}
