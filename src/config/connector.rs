//! Connector configuration: Debezium's flat string map, parsed into typed settings.
//!
//! Keys follow Debezium's names so a Debezium user's JSON works unchanged. Keys Siphon does not
//! know are refused by name (with a suggestion when one is close); keys of another connector
//! family are refused saying so; Kafka Connect's generic keys are accepted and checked.

use std::collections::BTreeMap;
use std::fmt;

use regex::{Regex, RegexBuilder};

use super::problems::ConfigErrors;
use super::{check_topic_name, is_http_url};
use crate::event::{SourceKind, TableId};

/// Which database a connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorClass {
    Postgres,
    MySql,
    MariaDb,
    MongoDb,
}

impl ConnectorClass {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "postgres" | "postgresql" | "io.debezium.connector.postgresql.PostgresConnector" => {
                ConnectorClass::Postgres
            }
            "mysql" | "io.debezium.connector.mysql.MySqlConnector" => ConnectorClass::MySql,
            "mariadb" | "io.debezium.connector.mariadb.MariaDbConnector" => ConnectorClass::MariaDb,
            "mongodb" | "io.debezium.connector.mongodb.MongoDbConnector" => ConnectorClass::MongoDb,
            _ => return None,
        })
    }

    /// Every setting this class reads (its family's keys), for the validate endpoint.
    pub fn known_keys(self) -> Vec<&'static str> {
        let family = self.kind();
        KEYS.iter()
            .filter(|(_, f)| f.contains(&family))
            .map(|(k, _)| *k)
            .collect()
    }

    /// The plugin name of `GET /connector-plugins` and `source.connector`.
    pub fn name(self) -> &'static str {
        match self {
            ConnectorClass::Postgres => "postgresql",
            ConnectorClass::MySql => "mysql",
            ConnectorClass::MariaDb => "mariadb",
            ConnectorClass::MongoDb => "mongodb",
        }
    }

    /// The kind of database this class reads.
    pub fn kind(self) -> SourceKind {
        match self {
            ConnectorClass::Postgres => SourceKind::Postgres,
            ConnectorClass::MySql | ConnectorClass::MariaDb => SourceKind::MySql,
            ConnectorClass::MongoDb => SourceKind::MongoDb,
        }
    }
}

const ALL: &[SourceKind] = &[SourceKind::Postgres, SourceKind::MySql, SourceKind::MongoDb];
const RELATIONAL: &[SourceKind] = &[SourceKind::Postgres, SourceKind::MySql];
const PG: &[SourceKind] = &[SourceKind::Postgres];
const MY: &[SourceKind] = &[SourceKind::MySql];
const MONGO: &[SourceKind] = &[SourceKind::MongoDb];
const NOT_PG: &[SourceKind] = &[SourceKind::MySql, SourceKind::MongoDb];

/// Every key Siphon reads, and which connector families accept it.
const KEYS: &[(&str, &[SourceKind])] = &[
    ("name", ALL),
    ("connector.class", ALL),
    ("tasks.max", ALL),
    ("topic.prefix", ALL),
    ("snapshot.mode", ALL),
    ("snapshot.fetch.size", ALL),
    ("max.batch.size", ALL),
    ("max.queue.size", ALL),
    ("poll.interval.ms", ALL),
    ("heartbeat.interval.ms", ALL),
    ("provide.transaction.metadata", ALL),
    ("tombstones.on.delete", ALL),
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
    ("database.dbname", PG),
    ("plugin.name", PG),
    ("slot.name", PG),
    ("slot.drop.on.stop", PG),
    ("publication.name", PG),
    ("publication.autocreate.mode", PG),
    ("schema.include.list", PG),
    ("schema.exclude.list", PG),
    ("hstore.handling.mode", PG),
    ("interval.handling.mode", PG),
    ("database.include.list", NOT_PG),
    ("database.exclude.list", NOT_PG),
    ("database.server.id", MY),
    ("snapshot.locking.mode", MY),
    ("include.query", MY),
    ("bigint.unsigned.handling.mode", MY),
    ("mongodb.connection.string", MONGO),
    ("collection.include.list", MONGO),
    ("collection.exclude.list", MONGO),
    ("capture.mode", MONGO),
];

/// Sub-keys of `key.converter.` / `value.converter.` that Siphon understands.
const CONVERTER_SUBKEYS: &[&str] = &["schema.registry.url", "schemas.enable"];
const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";
const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// Whether a key holds a secret that the API and logs must never show.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("password") || k.contains("secret") || k == "mongodb.connection.string"
}

/// A secret value: shown as `[hidden]`, as Kafka Connect does.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// Debezium's `snapshot.mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    Always,
    Initial,
    InitialOnly,
    NoData,
    Never,
    WhenNeeded,
    Recovery,
}

impl SnapshotMode {
    fn allowed(family: SourceKind) -> &'static [(&'static str, SnapshotMode)] {
        use SnapshotMode::*;
        match family {
            SourceKind::Postgres => &[
                ("always", Always),
                ("initial", Initial),
                ("initial_only", InitialOnly),
                ("no_data", NoData),
                ("never", Never),
                ("when_needed", WhenNeeded),
            ],
            SourceKind::MySql => &[
                ("always", Always),
                ("initial", Initial),
                ("initial_only", InitialOnly),
                ("no_data", NoData),
                // Debezium's older name for no_data.
                ("schema_only", NoData),
                ("never", Never),
                ("when_needed", WhenNeeded),
                ("recovery", Recovery),
            ],
            SourceKind::MongoDb => &[
                ("initial", Initial),
                ("initial_only", InitialOnly),
                ("no_data", NoData),
                ("never", Never),
                ("when_needed", WhenNeeded),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalHandlingMode {
    Precise,
    Double,
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePrecisionMode {
    Adaptive,
    AdaptiveTimeMicroseconds,
    Connect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationAutocreateMode {
    AllTables,
    Disabled,
    Filtered,
    NoTables,
}

/// Where to connect (PostgreSQL, MySQL, MariaDB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    /// PostgreSQL database; MySQL connectors read every database the filters allow.
    pub dbname: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    pub slot_name: String,
    pub slot_drop_on_stop: bool,
    pub publication_name: String,
    pub publication_autocreate_mode: PublicationAutocreateMode,
    /// `true`: hstore as a map; `false` (Debezium's default): as JSON text.
    pub hstore_as_map: bool,
    /// `true`: intervals as ISO-8601 strings; `false` (default): microseconds.
    pub interval_as_string: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySqlOptions {
    pub server_id: u32,
    /// `false` for `snapshot.locking.mode=none`: no global read lock.
    pub snapshot_global_lock: bool,
    pub include_query: bool,
    /// `true` for `bigint.unsigned.handling.mode=precise`.
    pub bigint_unsigned_precise: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoOptions {
    pub connection_string: Secret,
    /// `capture.mode` `change_streams_update_full`: updates carry the full document.
    pub update_full_document: bool,
}

/// Include/exclude filters, Debezium style: comma-separated regular expressions matched
/// case-insensitively against the whole qualified name.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub namespace_include: Vec<Regex>,
    pub namespace_exclude: Vec<Regex>,
    pub table_include: Vec<Regex>,
    pub table_exclude: Vec<Regex>,
    pub column_include: Vec<Regex>,
    pub column_exclude: Vec<Regex>,
}

fn matches_any(patterns: &[Regex], name: &str) -> bool {
    patterns.iter().any(|r| r.is_match(name))
}

fn allowed(include: &[Regex], exclude: &[Regex], name: &str) -> bool {
    if !include.is_empty() {
        matches_any(include, name)
    } else {
        !matches_any(exclude, name)
    }
}

impl Filters {
    /// Whether the table (`namespace.name`) is captured.
    pub fn includes_table(&self, table: &TableId) -> bool {
        allowed(
            &self.namespace_include,
            &self.namespace_exclude,
            &table.namespace,
        ) && allowed(&self.table_include, &self.table_exclude, &table.to_string())
    }

    /// Whether the column (`namespace.table.column`) is captured.
    pub fn includes_column(&self, table: &TableId, column: &str) -> bool {
        allowed(
            &self.column_include,
            &self.column_exclude,
            &format!("{table}.{column}"),
        )
    }
}

/// A validated connector configuration.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: String,
    pub class: ConnectorClass,
    pub topic_prefix: String,
    /// `None` for MongoDB, which uses a connection string.
    pub database: Option<DatabaseConfig>,
    pub filters: Filters,
    pub snapshot_mode: SnapshotMode,
    /// Rows per snapshot chunk.
    pub snapshot_fetch_size: u32,
    pub max_batch_size: u32,
    pub max_queue_size: u32,
    pub poll_interval_ms: u64,
    /// 0 = no heartbeats.
    pub heartbeat_interval_ms: u64,
    pub provide_transaction_metadata: bool,
    pub tombstones_on_delete: bool,
    pub decimal_handling_mode: DecimalHandlingMode,
    pub time_precision_mode: TimePrecisionMode,
    pub postgres: Option<PostgresOptions>,
    pub mysql: Option<MySqlOptions>,
    pub mongo: Option<MongoOptions>,
    /// The map it came from, for the REST API (which hides secrets when showing it).
    pub raw: BTreeMap<String, String>,
}

/// Reads typed values out of the map, recording a problem per bad key.
struct Reader<'a> {
    map: &'a BTreeMap<String, String>,
    problems: ConfigErrors,
}

impl<'a> Reader<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).map(|v| v.trim())
    }

    fn required(&mut self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                self.problems.push(key, "is required");
                None
            }
        }
    }

    fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(text) = self.get(key) else {
            return default;
        };
        match text.parse::<T>() {
            Ok(v) if v >= min && v <= max => v,
            // A whole number too large for the type is out of range too, not malformed.
            _ if text.parse::<i128>().is_ok() => {
                self.problems
                    .push(key, format!("`{text}` is out of range {min}–{max}"));
                default
            }
            _ => {
                self.problems
                    .push(key, format!("`{text}` is not a whole number"));
                default
            }
        }
    }

    fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                self.problems
                    .push(key, format!("`{other}` is not true or false"));
                default
            }
        }
    }

    fn choice<T: Copy>(&mut self, key: &str, options: &[(&str, T)], default: T) -> T {
        let Some(text) = self.get(key) else {
            return default;
        };
        let lower = text.to_ascii_lowercase();
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == lower) {
            return *v;
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        self.problems
            .push(key, format!("`{text}` is not one of: {}", names.join(", ")));
        default
    }

    fn patterns(&mut self, key: &str) -> Vec<Regex> {
        let Some(text) = self.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pattern in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
            {
                Ok(r) => out.push(r),
                Err(e) => self
                    .problems
                    .push(key, format!("`{pattern}` is not a regular expression: {e}")),
            }
        }
        out
    }

    /// Debezium refuses an include list and an exclude list of the same kind together.
    fn exclusive(&mut self, include: &str, exclude: &str) {
        if self.get(include).is_some() && self.get(exclude).is_some() {
            self.problems
                .push(exclude, format!("cannot be used together with `{include}`"));
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelled keys.
fn edit_distance(a: &str, b: &str) -> usize {
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

fn check_keys(map: &BTreeMap<String, String>, family: SourceKind, problems: &mut ConfigErrors) {
    for (key, value) in map {
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

impl ConnectorConfig {
    /// Parses and validates Debezium's flat map for the connector `name`, reporting every
    /// problem with its key.
    pub fn from_map(name: &str, map: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            map,
            problems: ConfigErrors::default(),
        };
        if name.trim().is_empty() {
            r.problems
                .push("name", "the connector name must not be empty");
        } else if name.contains('/') || name.chars().any(char::is_control) {
            r.problems.push(
                "name",
                format!("`{name}` must not contain `/` or control characters"),
            );
        }
        if let Some(inner) = r.get("name")
            && inner != name
        {
            r.problems.push(
                "name",
                format!("`{inner}` differs from the connector name `{name}`"),
            );
        }
        let class = match r.required("connector.class") {
            Some(v) => ConnectorClass::parse(v).or_else(|| {
                r.problems.push(
                    "connector.class",
                    format!("`{v}` is not a connector class (postgres, mysql, mariadb, mongodb or Debezium's class names)"),
                );
                None
            }),
            None => None,
        };
        let Some(class) = class else {
            return Err(r.problems);
        };
        let family = class.kind();
        check_keys(map, family, &mut r.problems);

        let topic_prefix = r.required("topic.prefix").unwrap_or_default().to_owned();
        if !topic_prefix.is_empty()
            && let Err(msg) = check_topic_name(&topic_prefix)
        {
            r.problems.push("topic.prefix", msg);
        }
        r.number("tasks.max", 1u32, 1, u32::MAX);
        if family == SourceKind::Postgres
            && let Some(p) = r.get("plugin.name")
            && p != "pgoutput"
        {
            r.problems.push(
                "plugin.name",
                format!("`{p}` is not supported; only pgoutput is"),
            );
        }

        let database = match family {
            SourceKind::MongoDb => None,
            _ => {
                let hostname = r.required("database.hostname").unwrap_or_default();
                if hostname.contains(char::is_whitespace) {
                    r.problems.push(
                        "database.hostname",
                        format!("`{hostname}` must not contain spaces"),
                    );
                }
                let default_port = if family == SourceKind::Postgres {
                    5432
                } else {
                    3306
                };
                let port = r.number("database.port", default_port, 1u16, u16::MAX);
                let user = r.required("database.user").unwrap_or_default().to_owned();
                let dbname = if family == SourceKind::Postgres {
                    r.required("database.dbname").map(str::to_owned)
                } else {
                    None
                };
                Some(DatabaseConfig {
                    hostname: hostname.to_owned(),
                    port,
                    user,
                    password: Secret::new(
                        map.get("database.password").cloned().unwrap_or_default(),
                    ),
                    dbname,
                })
            }
        };

        let (ns_include, ns_exclude) = match family {
            SourceKind::Postgres => ("schema.include.list", "schema.exclude.list"),
            _ => ("database.include.list", "database.exclude.list"),
        };
        let (tbl_include, tbl_exclude) = match family {
            SourceKind::MongoDb => ("collection.include.list", "collection.exclude.list"),
            _ => ("table.include.list", "table.exclude.list"),
        };
        r.exclusive(ns_include, ns_exclude);
        r.exclusive(tbl_include, tbl_exclude);
        r.exclusive("column.include.list", "column.exclude.list");
        let filters = Filters {
            namespace_include: r.patterns(ns_include),
            namespace_exclude: r.patterns(ns_exclude),
            table_include: r.patterns(tbl_include),
            table_exclude: r.patterns(tbl_exclude),
            column_include: r.patterns("column.include.list"),
            column_exclude: r.patterns("column.exclude.list"),
        };

        let snapshot_mode = r.choice(
            "snapshot.mode",
            SnapshotMode::allowed(family),
            SnapshotMode::Initial,
        );
        let snapshot_fetch_size = r.number("snapshot.fetch.size", 10_240u32, 1, 10_000_000);
        let max_batch_size = r.number("max.batch.size", 2048u32, 1, 1_000_000);
        let max_queue_size = r.number("max.queue.size", 8192u32, 1, 10_000_000);
        if max_queue_size <= max_batch_size {
            r.problems.push(
                "max.queue.size",
                format!("must be larger than max.batch.size ({max_batch_size})"),
            );
        }
        let poll_interval_ms = r.number("poll.interval.ms", 500u64, 1, 3_600_000);
        let heartbeat_interval_ms = r.number("heartbeat.interval.ms", 0u64, 0, 86_400_000);
        let provide_transaction_metadata = r.boolean("provide.transaction.metadata", false);
        let tombstones_on_delete = r.boolean("tombstones.on.delete", true);
        let decimal_handling_mode = r.choice(
            "decimal.handling.mode",
            &[
                ("precise", DecimalHandlingMode::Precise),
                ("double", DecimalHandlingMode::Double),
                ("string", DecimalHandlingMode::String),
            ],
            DecimalHandlingMode::Precise,
        );
        let time_precision_mode = r.choice(
            "time.precision.mode",
            &[
                ("adaptive", TimePrecisionMode::Adaptive),
                (
                    "adaptive_time_microseconds",
                    TimePrecisionMode::AdaptiveTimeMicroseconds,
                ),
                ("connect", TimePrecisionMode::Connect),
            ],
            TimePrecisionMode::Adaptive,
        );

        let postgres = (family == SourceKind::Postgres).then(|| PostgresOptions {
            slot_name: slot_name(&mut r),
            slot_drop_on_stop: r.boolean("slot.drop.on.stop", false),
            publication_name: r
                .get("publication.name")
                .unwrap_or("dbz_publication")
                .to_owned(),
            publication_autocreate_mode: r.choice(
                "publication.autocreate.mode",
                &[
                    ("all_tables", PublicationAutocreateMode::AllTables),
                    ("disabled", PublicationAutocreateMode::Disabled),
                    ("filtered", PublicationAutocreateMode::Filtered),
                    ("no_tables", PublicationAutocreateMode::NoTables),
                ],
                PublicationAutocreateMode::AllTables,
            ),
            hstore_as_map: r.choice(
                "hstore.handling.mode",
                &[("json", false), ("map", true)],
                false,
            ),
            interval_as_string: r.choice(
                "interval.handling.mode",
                &[("numeric", false), ("string", true)],
                false,
            ),
        });
        let mysql = (family == SourceKind::MySql).then(|| {
            let server_id = match r.required("database.server.id") {
                Some(_) => r.number("database.server.id", 0u32, 1, u32::MAX),
                None => 0,
            };
            MySqlOptions {
                server_id,
                snapshot_global_lock: r.choice(
                    "snapshot.locking.mode",
                    &[("minimal", true), ("extended", true), ("none", false)],
                    true,
                ),
                include_query: r.boolean("include.query", false),
                bigint_unsigned_precise: r.choice(
                    "bigint.unsigned.handling.mode",
                    &[("long", false), ("precise", true)],
                    false,
                ),
            }
        });
        let mongo = (family == SourceKind::MongoDb).then(|| {
            let connection_string = r.required("mongodb.connection.string").unwrap_or_default();
            if !connection_string.is_empty()
                && !connection_string.starts_with("mongodb://")
                && !connection_string.starts_with("mongodb+srv://")
            {
                r.problems.push(
                    "mongodb.connection.string",
                    "must start with mongodb:// or mongodb+srv://",
                );
            }
            MongoOptions {
                connection_string: Secret::new(connection_string),
                update_full_document: r.choice(
                    "capture.mode",
                    &[
                        ("change_streams", false),
                        ("change_streams_update_full", true),
                    ],
                    false,
                ),
            }
        });

        r.problems.into_result()?;
        Ok(ConnectorConfig {
            name: name.to_owned(),
            class,
            topic_prefix,
            database,
            filters,
            snapshot_mode,
            snapshot_fetch_size,
            max_batch_size,
            max_queue_size,
            poll_interval_ms,
            heartbeat_interval_ms,
            provide_transaction_metadata,
            tombstones_on_delete,
            decimal_handling_mode,
            time_precision_mode,
            postgres,
            mysql,
            mongo,
            raw: map.clone(),
        })
    }
}

/// PostgreSQL slot names: lower-case letters, digits and underscores, at most 63 characters.
fn slot_name(r: &mut Reader<'_>) -> String {
    let name = r.get("slot.name").unwrap_or("debezium");
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        r.problems.push(
            "slot.name",
            format!("`{name}` must be 1–63 characters of lower-case letters, digits and `_`"),
        );
    }
    name.to_owned()
}

#[cfg(test)]
#[path = "connector_tests.rs"]
mod tests;
