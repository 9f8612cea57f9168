//! cargo-fuzz target for the connector config parsers: a REST body (a JSON object, as
//! `POST /connectors` and `PUT /connectors/{name}/config` take it) or a `connectors.toml`.
//! Parsing and validation never panic, are deterministic, and every problem names a key with
//! a message: for a REST map, a key of the map or one Siphon reads; for the file, a key under
//! the connector it is about (`connectors[<name>].<key>`), a service key or the file itself.
//!
//! Input: a mode byte (even: REST JSON, odd: TOML), then the text.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use siphon::config::{ConfigErrors, ConnectorClass, FileConfig};
use siphon::fuzzing::string_map;
use siphon::runtime::validate_config;

/// `${env:NAME}` resolves to a fixed value for names starting with `SET`, else is unset.
fn env(name: &str) -> Option<String> {
    name.starts_with("SET").then(|| "5432".to_owned())
}

fn check_problems(errors: &ConfigErrors, key_ok: impl Fn(&str) -> bool) {
    assert!(!errors.0.is_empty(), "an error with no problem");
    for p in &errors.0 {
        assert!(!p.message.trim().is_empty(), "no message for `{}`", p.key);
        assert!(key_ok(&p.key), "problem names no key of the input: {p}");
    }
}

fn rest_body(body: &[u8]) {
    let Ok(object) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
    else {
        return;
    };
    let given: Vec<String> = object.keys().cloned().collect();
    let (map, problems) = string_map(object);
    let known = |key: &str| {
        given.iter().any(|k| k == key)
            || ConnectorClass::ALL
                .iter()
                .any(|c| c.known_keys().contains(&key))
    };
    if !problems.is_empty() {
        check_problems(&problems, |k| given.iter().any(|g| g == k));
    }
    let name = map
        .get("name")
        .cloned()
        .unwrap_or_else(|| "fuzz".to_owned());
    // As the REST API validates: `${env:}` only for allowed names (none here).
    // The default service: no `${env:}` allowed, the embedded sink.
    let service = siphon::config::ServiceConfig::default();
    let first = validate_config(&service, &name, &map);
    match &first {
        Ok(config) => assert_eq!(config.name, name),
        Err(errors) => check_problems(errors, known),
    }
    let again = validate_config(&service, &name, &map);
    assert_eq!(format!("{first:?}"), format!("{again:?}"));
}

fn toml(text: &str) {
    let mut file = match FileConfig::parse(text) {
        Ok(file) => file,
        Err(errors) => return check_problems(&errors, |k| k == "connectors.toml"),
    };
    let names: Vec<String> = file.connectors.iter().map(|c| c.name.clone()).collect();
    let maps: BTreeMap<String, BTreeMap<String, String>> = file
        .connectors
        .iter()
        .map(|c| (c.name.clone(), c.config.clone()))
        .collect();
    // A problem of a connector is `connectors[<name>].<key>` with a key of its map or one
    // Siphon reads; the rest are service settings (`kafka.bootstrap.servers`, `api.bind`...).
    let under_connector = |key: &str| {
        names.iter().any(|n| {
            key.strip_prefix(&format!("connectors[{n}]."))
                .is_some_and(|k| {
                    maps.get(n).is_some_and(|m| m.contains_key(k))
                        || ConnectorClass::ALL
                            .iter()
                            .any(|c| c.known_keys().contains(&k))
                })
        })
    };
    let service = |key: &str| !key.starts_with("connectors[") && !key.is_empty();
    if let Err(errors) = file.resolve_env(env) {
        check_problems(&errors, under_connector);
    }
    if let Err(errors) = file.validate() {
        check_problems(&errors, |k| under_connector(k) || service(k));
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else { return };
    if mode % 2 == 0 {
        rest_body(rest);
    } else if let Ok(text) = std::str::from_utf8(rest) {
        toml(text);
    }
});
