//! The keys Siphon reads, which connector families accept each, and the check that refuses
//! unknown keys by name (with a "did you mean" hint) and keys of another family.

use std::collections::BTreeMap;

use super::is_http_url;
use super::problems::ConfigErrors;
use crate::event::SourceKind;

const ALL: &[SourceKind] = &[SourceKind::Postgres, SourceKind::MySql, SourceKind::MongoDb];
const RELATIONAL: &[SourceKind] = &[SourceKind::Postgres, SourceKind::MySql];
const PG: &[SourceKind] = &[SourceKind::Postgres];
const MY: &[SourceKind] = &[SourceKind::MySql];
const MONGO: &[SourceKind] = &[SourceKind::MongoDb];
const NOT_PG: &[SourceKind] = &[SourceKind::MySql, SourceKind::MongoDb];

/// Every key Siphon reads, and which connector families accept it.
pub(super) const KEYS: &[(&str, &[SourceKind])] = &[
    ("name", ALL),
    ("connector.class", ALL),
    ("tasks.max", ALL),
    ("topic.prefix", ALL),
    ("snapshot.mode", ALL),
    ("snapshot.fetch.size", ALL),
    ("max.batch.size", ALL),
    ("max.queue.size", ALL),
    ("max.queue.size.in.bytes", ALL),
    ("poll.interval.ms", ALL),
    ("heartbeat.interval.ms", ALL),
    ("provide.transaction.metadata", ALL),
    ("tombstones.on.delete", ALL),
    ("skipped.operations", ALL),
    ("database.hostname", RELATIONAL),
    ("database.port", RELATIONAL),
    ("database.user", RELATIONAL),
    ("database.password", RELATIONAL),
    ("table.include.list", RELATIONAL),
    ("table.exclude.list", RELATIONAL),
    ("column.include.list", RELATIONAL),
    ("column.exclude.list", RELATIONAL),
    ("decimal.handling.mode", RELATIONAL),
    ("time.precision.mode", RELATIONAL),
    ("include.unknown.datatypes", RELATIONAL),
    ("database.dbname", PG),
    ("plugin.name", PG),
    ("slot.name", PG),
    ("slot.drop.on.stop", PG),
    ("publication.name", PG),
    ("publication.autocreate.mode", PG),
    ("schema.include.list", PG),
    ("schema.exclude.list", PG),
    ("message.prefix.include.list", PG),
    ("message.prefix.exclude.list", PG),
    ("hstore.handling.mode", PG),
    ("interval.handling.mode", PG),
    // TLS (issue 17): src/config/pg_tls.rs.
    ("database.sslmode", PG),
    ("database.sslrootcert", PG),
    ("database.sslcert", PG),
    ("database.sslkey", PG),
    ("database.sslpassword", PG),
    ("database.include.list", NOT_PG),
    ("database.exclude.list", NOT_PG),
    ("database.server.id", MY),
    ("snapshot.locking.mode", MY),
    ("snapshot.lock.timeout.ms", MY),
    ("include.query", MY),
    ("bigint.unsigned.handling.mode", MY),
    // TLS (src/config/mysql_ssl.rs); the keystore keys are read only to be refused.
    ("database.ssl.mode", MY),
    ("database.ssl.ca", MY),
    ("database.ssl.cert", MY),
    ("database.ssl.key", MY),
    ("database.ssl.keystore", MY),
    ("database.ssl.keystore.password", MY),
    ("database.ssl.truststore", MY),
    ("database.ssl.truststore.password", MY),
    ("mongodb.connection.string", MONGO),
    ("collection.include.list", MONGO),
    ("collection.exclude.list", MONGO),
    ("capture.mode", MONGO),
    ("capture.mode.full.update.type", MONGO),
    ("capture.scope", MONGO),
    ("capture.target", MONGO),
    ("mongodb.user", MONGO),
    ("mongodb.password", MONGO),
    ("mongodb.authsource", MONGO),
    ("mongodb.ssl.enabled", MONGO),
    ("mongodb.ssl.invalid.hostname.allowed", MONGO),
    ("mongodb.connect.timeout.ms", MONGO),
    ("mongodb.server.selection.timeout.ms", MONGO),
    ("field.exclude.list", MONGO),
    ("cursor.oversize.handling.mode", MONGO),
    ("cursor.oversize.skip.threshold", MONGO),
    ("cursor.max.await.time.ms", MONGO),
];

/// Sub-keys of `key.converter.` / `value.converter.` that Siphon understands.
const CONVERTER_SUBKEYS: &[&str] = &["schema.registry.url", "schemas.enable"];
pub(super) const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";
const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// Whether a key holds a secret that the API and logs must never show.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("password")
        || k.contains("secret")
        || k == "mongodb.connection.string"
        // Confluent's registry credentials: `user:password` and bearer tokens.
        || k.ends_with("basic.auth.user.info")
        || k.ends_with(".token")
}

/// Levenshtein distance, for "did you mean" hints on misspelled keys.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(super) fn check_keys(
    map: &BTreeMap<String, String>,
    family: SourceKind,
    problems: &mut ConfigErrors,
    notices: &mut ConfigErrors,
) {
    for (key, value) in map {
        if let Some(why) = super::legacy_keys::no_effect(key, family) {
            notices.push(key.as_str(), why);
            continue;
        }
        if let Some(msg) = super::legacy_keys::renamed(key) {
            problems.push(key.as_str(), msg);
            continue;
        }
        if let Some((_, families)) = KEYS.iter().find(|(k, _)| k == key) {
            if !families.contains(&family) {
                problems.push(
                    key.as_str(),
                    format!("is not a {} connector setting", family.label()),
                );
            }
            continue;
        }
        if let Some(prefix) = ["key.converter", "value.converter"]
            .into_iter()
            .find(|p| key.starts_with(p))
        {
            check_converter_key(key, prefix, value, problems);
            continue;
        }
        let hint = KEYS
            .iter()
            .filter(|(_, f)| f.contains(&family))
            .map(|(k, _)| (edit_distance(key, k), *k))
            .min()
            .filter(|(d, _)| *d <= 3)
            .map(|(_, k)| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        problems.push(key.as_str(), format!("is not a known setting{hint}"));
    }
}

fn check_converter_key(key: &str, prefix: &str, value: &str, problems: &mut ConfigErrors) {
    let rest = &key[prefix.len()..];
    if rest.is_empty() {
        if value != AVRO_CONVERTER && value != JSON_CONVERTER {
            problems.push(
                key,
                format!("`{value}` is not supported; use {AVRO_CONVERTER} or {JSON_CONVERTER}"),
            );
        }
        return;
    }
    match rest.strip_prefix('.') {
        Some("schema.registry.url") => {
            for url in value.split(',').map(str::trim) {
                if !is_http_url(url) {
                    problems.push(key, format!("`{url}` is not an http:// or https:// URL"));
                }
            }
        }
        Some("schemas.enable") => {
            if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
                problems.push(key, format!("`{value}` is not true or false"));
            }
        }
        Some(sub) if super::registry::is_registry_access_key(sub) => {
            problems.push(key, super::registry::use_service_setting(sub))
        }
        _ => problems.push(
            key,
            format!(
                "is not a supported converter setting (supported: {})",
                CONVERTER_SUBKEYS
                    .iter()
                    .map(|s| format!("{prefix}.{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}
