//! `GET /connector-plugins` and `PUT /connector-plugins/{type}/config/validate`, with Kafka
//! Connect's response shapes and Debezium's class names.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as JsonValue, json};

use super::AppState;
use super::error::{ApiError, parse_json, string_map};
use crate::config::{ConfigErrors, ConfigProblem, ConnectorClass, ServiceConfig, is_secret_key};
use crate::runtime::{HIDDEN, validate_config};

/// The plugin a path segment or `connector.class` names, with Debezium's class name.
fn plugin(name: &str) -> Option<(ConnectorClass, &'static str)> {
    ConnectorClass::from_plugin_name(name).map(|c| (c, c.debezium_class()))
}

/// `GET /connector-plugins`.
pub async fn list() -> Json<JsonValue> {
    let plugins: Vec<JsonValue> = ConnectorClass::ALL
        .iter()
        .map(|c| {
            json!({ "class": c.debezium_class(), "type": "source", "version": env!("CARGO_PKG_VERSION") })
        })
        .collect();
    Json(JsonValue::Array(plugins))
}

/// Documentation of a setting: group, type, default, whether required, and what it does.
struct Doc {
    group: &'static str,
    kind: &'static str,
    default: &'static str,
    required: bool,
    text: &'static str,
}

const fn doc(
    group: &'static str,
    kind: &'static str,
    default: &'static str,
    text: &'static str,
) -> Doc {
    Doc {
        group,
        kind,
        default,
        required: false,
        text,
    }
}

const fn req(group: &'static str, kind: &'static str, text: &'static str) -> Doc {
    Doc {
        group,
        kind,
        default: "",
        required: true,
        text,
    }
}

const GROUPS: [&str; 6] = [
    "Common",
    "Connection",
    "Filters",
    "Snapshot",
    "Events",
    "Other",
];

fn docs(key: &str) -> Option<Doc> {
    Some(match key {
        "name" => req("Common", "STRING", "Globally unique connector name."),
        "connector.class" => req(
            "Common",
            "STRING",
            "postgres, mysql, mariadb, mongodb or Debezium's class name.",
        ),
        "tasks.max" => doc(
            "Common",
            "INT",
            "1",
            "Accepted for compatibility; Siphon runs one task per connector.",
        ),
        "topic.prefix" => req(
            "Common",
            "STRING",
            "Prefix of every topic the connector writes; also the source partition.",
        ),
        "database.hostname" => req("Connection", "STRING", "Database host."),
        "database.port" => doc("Connection", "INT", "5432 / 3306", "Database port."),
        "database.user" => req("Connection", "STRING", "Database user."),
        "database.password" => doc(
            "Connection",
            "PASSWORD",
            "",
            "Database password; never shown.",
        ),
        "database.dbname" => req("Connection", "STRING", "PostgreSQL database to capture."),
        "database.server.id" => req(
            "Connection",
            "LONG",
            "MySQL/MariaDB replica server id, unique among replicas.",
        ),
        "mongodb.connection.string" => req(
            "Connection",
            "PASSWORD",
            "MongoDB connection string; never shown.",
        ),
        "plugin.name" => doc(
            "Connection",
            "STRING",
            "pgoutput",
            "Logical decoding plugin; only pgoutput.",
        ),
        "slot.name" => doc("Connection", "STRING", "debezium", "Replication slot name."),
        // PostgreSQL TLS (issue 17): src/config/pg_tls.rs.
        "database.sslmode" => doc(
            "Connection",
            "STRING",
            "prefer",
            "disable, prefer (TLS if the server offers it), require, verify-ca or verify-full.",
        ),
        "database.sslrootcert" => doc(
            "Connection",
            "STRING",
            "",
            "PEM CA file for the server's certificate; unset: the system trust store.",
        ),
        "database.sslcert" => doc("Connection", "STRING", "", "PEM client certificate."),
        "database.sslkey" => doc(
            "Connection",
            "STRING",
            "",
            "PEM client key (PKCS#8, PKCS#1 or SEC1).",
        ),
        "database.sslpassword" => doc(
            "Connection",
            "PASSWORD",
            "",
            "Password of an encrypted PKCS#8 sslkey; never shown.",
        ),
        "slot.drop.on.stop" => doc(
            "Connection",
            "BOOLEAN",
            "false",
            "Drop the slot when the connector stops.",
        ),
        "publication.name" => doc(
            "Connection",
            "STRING",
            "dbz_publication",
            "Publication name.",
        ),
        "publication.autocreate.mode" => doc(
            "Connection",
            "STRING",
            "all_tables",
            "all_tables, filtered, disabled or no_tables.",
        ),
        "table.include.list"
        | "table.exclude.list"
        | "column.include.list"
        | "column.exclude.list"
        | "schema.include.list"
        | "schema.exclude.list"
        | "database.include.list"
        | "database.exclude.list"
        | "collection.include.list"
        | "collection.exclude.list" => doc(
            "Filters",
            "LIST",
            "",
            "Comma-separated regular expressions matched against the whole qualified name.",
        ),
        "message.prefix.include.list" | "message.prefix.exclude.list" => doc(
            "Filters",
            "LIST",
            "",
            "Comma-separated regular expressions matched against the whole prefix of a logical decoding message.",
        ),
        "snapshot.mode" => doc(
            "Snapshot",
            "STRING",
            "initial",
            "When to snapshot: initial, always, initial_only, no_data, never, when_needed (MySQL: recovery).",
        ),
        "snapshot.fetch.size" => doc("Snapshot", "INT", "10240", "Rows per snapshot chunk."),
        "snapshot.locking.mode" => doc(
            "Snapshot",
            "STRING",
            "minimal",
            "minimal (MySQL: global read lock while the binlog position is read; MariaDB: no lock), extended (the lock for the whole snapshot) or none.",
        ),
        "snapshot.lock.timeout.ms" => doc(
            "Snapshot",
            "LONG",
            "10000",
            "Longest wait for the snapshot's global read lock, which blocks writes while it waits (at least 1000; whole seconds).",
        ),
        "max.batch.size" => doc(
            "Events",
            "INT",
            "2048",
            "Events per batch (one Kafka transaction).",
        ),
        "max.queue.size" => doc(
            "Events",
            "INT",
            "8192",
            "Events queued between reader and emitter.",
        ),
        "max.queue.size.in.bytes" => doc(
            "Events",
            "LONG",
            "134217728",
            "Bytes of events handed to the emitter and not yet committed (0: no bound); also \
             closes batches early and sizes snapshot chunks.",
        ),
        "poll.interval.ms" => doc(
            "Events",
            "LONG",
            "500",
            "Longest wait before a partial batch is written.",
        ),
        "heartbeat.interval.ms" => doc(
            "Events",
            "LONG",
            "0",
            "Heartbeat record interval; 0 is off.",
        ),
        "provide.transaction.metadata" => doc(
            "Events",
            "BOOLEAN",
            "false",
            "Write BEGIN/END records to <prefix>.transaction.",
        ),
        "tombstones.on.delete" => doc(
            "Events",
            "BOOLEAN",
            "true",
            "Follow each delete with a tombstone.",
        ),
        "skipped.operations" => doc(
            "Events",
            "LIST",
            "t",
            "Streamed operations not written: c, u, d, t (comma-separated), or none.",
        ),
        "decimal.handling.mode" => doc("Events", "STRING", "precise", "precise, double or string."),
        "time.precision.mode" => doc(
            "Events",
            "STRING",
            "adaptive",
            "adaptive, adaptive_time_microseconds or connect.",
        ),
        "hstore.handling.mode" => doc("Events", "STRING", "json", "json or map."),
        "interval.handling.mode" => doc("Events", "STRING", "numeric", "numeric or string."),
        "include.query" => doc(
            "Events",
            "BOOLEAN",
            "false",
            "Include the SQL statement in the source block.",
        ),
        "bigint.unsigned.handling.mode" => doc("Events", "STRING", "long", "long or precise."),
        "include.unknown.datatypes" => doc(
            "Events",
            "BOOLEAN",
            "false",
            "Write columns of types Siphon cannot map as raw bytes instead of failing.",
        ),
        "capture.mode" => doc(
            "Events",
            "STRING",
            "change_streams_update_full",
            "change_streams, change_streams_update_full, change_streams_with_pre_image or change_streams_update_full_with_pre_image.",
        ),
        "capture.mode.full.update.type" => doc(
            "Events",
            "STRING",
            "lookup",
            "How updates get the full document: lookup or post_image.",
        ),
        "capture.scope" => doc(
            "Filters",
            "STRING",
            "deployment",
            "What the change stream watches: deployment, database or collection.",
        ),
        "capture.target" => doc(
            "Filters",
            "STRING",
            "",
            "The database (or database.collection) of capture.scope.",
        ),
        "field.exclude.list" => doc(
            "Filters",
            "LIST",
            "",
            "Fields left out of documents: <db>.<collection>.<field>, * for any db or collection.",
        ),
        "mongodb.user" => doc("Connection", "STRING", "", "MongoDB user."),
        "mongodb.password" => doc(
            "Connection",
            "PASSWORD",
            "",
            "MongoDB password; never shown.",
        ),
        "mongodb.authsource" => doc(
            "Connection",
            "STRING",
            "admin",
            "Database the credentials are checked against.",
        ),
        // MySQL/MariaDB TLS (src/config/mysql_ssl.rs).
        "database.ssl.mode" => doc(
            "Connection",
            "STRING",
            "preferred",
            "disabled, preferred (TLS if the server offers it), required (no certificate check), verify_ca or verify_identity.",
        ),
        "database.ssl.ca" => doc(
            "Connection",
            "STRING",
            "",
            "PEM CA bundle for verify_ca/verify_identity; unset: the system trust store.",
        ),
        "database.ssl.cert" => doc(
            "Connection",
            "STRING",
            "",
            "PEM client certificate (with database.ssl.key).",
        ),
        "database.ssl.key" => doc(
            "Connection",
            "STRING",
            "",
            "Unencrypted PEM private key of database.ssl.cert.",
        ),
        "database.ssl.keystore"
        | "database.ssl.keystore.password"
        | "database.ssl.truststore"
        | "database.ssl.truststore.password" => doc(
            "Connection",
            "STRING",
            "",
            "Refused: Java keystores are not read; convert to PEM (database.ssl.ca/cert/key).",
        ),
        "mongodb.ssl.enabled" => doc("Connection", "BOOLEAN", "false", "Connect over TLS."),
        "mongodb.ssl.invalid.hostname.allowed" => doc(
            "Connection",
            "BOOLEAN",
            "false",
            "Only false: the server certificate must name the host.",
        ),
        "mongodb.connect.timeout.ms" => doc("Connection", "INT", "10000", "Connect timeout."),
        "mongodb.server.selection.timeout.ms" => doc(
            "Connection",
            "INT",
            "30000",
            "How long to wait for a usable server.",
        ),
        "cursor.oversize.handling.mode" => doc(
            "Events",
            "STRING",
            "fail",
            "Change events over 16 MB: fail, skip or split.",
        ),
        "cursor.max.await.time.ms" => doc(
            "Events",
            "LONG",
            "0",
            "Longest server wait per change stream read; 0 follows poll.interval.ms (at most 1 s).",
        ),
        "cursor.oversize.skip.threshold" => doc(
            "Events",
            "INT",
            "0",
            "With skip: largest document size in bytes still captured.",
        ),
        _ => return None,
    })
}

/// One entry of `configs`: the definition and the value with its errors.
fn config_info(key: &str, order: usize, value: Option<&String>, errors: Vec<String>) -> JsonValue {
    let d = docs(key).unwrap_or(Doc {
        group: "Other",
        kind: "STRING",
        default: "",
        required: false,
        text: "",
    });
    let shown = value.map(|v| {
        if is_secret_key(key) {
            HIDDEN.to_owned()
        } else {
            v.clone()
        }
    });
    json!({
        "definition": {
            "name": key,
            "type": d.kind,
            "required": d.required,
            "default_value": d.default,
            "importance": if d.required { "HIGH" } else { "MEDIUM" },
            "documentation": d.text,
            "group": d.group,
            "width": "NONE",
            "display_name": key,
            "dependents": [],
            "order": order,
        },
        "value": {
            "name": key,
            "value": shown,
            "recommended_values": [],
            "errors": errors,
            "visible": true,
        }
    })
}

/// Kafka Connect's `ConfigInfos` for a map: every known setting of the class, every key
/// given, and every problem under its key.
fn validation(
    service: &ServiceConfig,
    class: ConnectorClass,
    class_name: &str,
    map: &BTreeMap<String, String>,
    mut problems: ConfigErrors,
) -> JsonValue {
    let name = map.get("name").cloned().unwrap_or_default();
    if let Err(e) = validate_config(service, &name, map) {
        problems.extend(e);
    }
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ConfigProblem { key, message } in &problems.0 {
        by_key.entry(key.clone()).or_default().push(message.clone());
    }
    let mut keys: Vec<String> = class.known_keys().into_iter().map(str::to_owned).collect();
    for k in map.keys().chain(by_key.keys()) {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    let configs: Vec<JsonValue> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| config_info(k, i + 1, map.get(k), by_key.remove(k).unwrap_or_default()))
        .collect();
    json!({
        "name": class_name,
        "error_count": problems.0.len(),
        "groups": GROUPS,
        "configs": configs,
    })
}

/// `PUT /connector-plugins/{type}/config/validate`: 200 with every problem, even when the
/// config is invalid; 400 if `connector.class` names another plugin; 404 for an unknown one.
pub async fn validate(
    State(s): State<AppState>,
    Path(plugin_name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (class, class_name) = plugin(&plugin_name).ok_or_else(|| {
        ApiError::not_found(format!(
            "no connector plugin {plugin_name}; see GET /connector-plugins"
        ))
    })?;
    let config: Map<String, JsonValue> = parse_json(&body)?;
    let (mut map, problems) = string_map(config);
    if let Some(given) = map.get("connector.class")
        && plugin(given).map(|(c, _)| c) != Some(class)
    {
        return Err(ApiError::bad_request(format!(
            "Included connector type {given} does not match request type {plugin_name}"
        )));
    }
    map.entry("connector.class".to_owned())
        .or_insert_with(|| class_name.to_owned());
    let service = s.runtime.service();
    Ok(Json(validation(service, class, class_name, &map, problems)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_setting_is_documented() {
        for class in ConnectorClass::ALL {
            for key in class.known_keys() {
                assert!(docs(key).is_some(), "{key} has no documentation");
            }
        }
    }

    #[test]
    fn plugin_names_and_aliases_resolve() {
        for n in [
            "io.debezium.connector.postgresql.PostgresConnector",
            "PostgresConnector",
            "Postgres",
            "postgres",
        ] {
            assert_eq!(
                plugin(n).map(|p| p.0),
                Some(ConnectorClass::Postgres),
                "{n}"
            );
        }
        assert_eq!(
            plugin("MariaDbConnector").map(|p| p.0),
            Some(ConnectorClass::MariaDb)
        );
        assert!(plugin("FileStreamSource").is_none());
    }

    #[test]
    fn validation_lists_every_problem_under_its_key() {
        let map: BTreeMap<String, String> = [
            ("name", "x"),
            ("connector.class", "postgres"),
            ("database.port", "no"),
            ("slot.nmae", "s"),
            ("database.password", "secret"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = validation(
            &ServiceConfig::default(),
            ConnectorClass::Postgres,
            "P",
            &map,
            ConfigErrors::default(),
        );
        let configs = v["configs"].as_array().unwrap();
        let errors: usize = configs
            .iter()
            .map(|c| c["value"]["errors"].as_array().unwrap().len())
            .sum();
        assert_eq!(v["error_count"].as_u64().unwrap() as usize, errors);
        let find = |k: &str| configs.iter().find(|c| c["value"]["name"] == k).unwrap();
        for k in [
            "database.port",
            "slot.nmae",
            "database.hostname",
            "topic.prefix",
            "database.dbname",
            "database.user",
        ] {
            assert!(
                !find(k)["value"]["errors"].as_array().unwrap().is_empty(),
                "{k}"
            );
        }
        assert_eq!(find("database.password")["value"]["value"], HIDDEN);
        assert_eq!(find("slot.name")["definition"]["default_value"], "debezium");
    }
}
