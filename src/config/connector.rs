//! Connector configuration: Debezium's flat string map, parsed into typed settings.
//!
//! Keys follow Debezium's names so a Debezium user's JSON works unchanged. Keys Siphon does not
//! know are refused by name (with a suggestion when one is close); keys of another connector
//! family are refused saying so; Kafka Connect's generic keys are accepted and checked.

use std::collections::BTreeMap;
use std::fmt;

use super::check_topic_name;
use super::env_refs::Resolved;
use super::filters::Filters;
use super::keys::{KEYS, check_keys};
use super::problems::ConfigErrors;
use super::reader::Reader;
use super::source_options::{Connection, SourceOptions};
use crate::event::SourceKind;

/// Which database a connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorClass {
    Postgres,
    MySql,
    MariaDb,
    MongoDb,
}

impl ConnectorClass {
    pub const ALL: [ConnectorClass; 4] = [
        ConnectorClass::Postgres,
        ConnectorClass::MySql,
        ConnectorClass::MariaDb,
        ConnectorClass::MongoDb,
    ];

    /// Debezium's class name.
    pub fn debezium_class(self) -> &'static str {
        match self {
            ConnectorClass::Postgres => "io.debezium.connector.postgresql.PostgresConnector",
            ConnectorClass::MySql => "io.debezium.connector.mysql.MySqlConnector",
            ConnectorClass::MariaDb => "io.debezium.connector.mariadb.MariaDbConnector",
            ConnectorClass::MongoDb => "io.debezium.connector.mongodb.MongoDbConnector",
        }
    }

    /// `connector.class`: Debezium's class name or Siphon's short name.
    fn parse(value: &str) -> Option<Self> {
        if matches!(value, "postgresql") {
            return Some(ConnectorClass::Postgres);
        }
        Self::ALL
            .into_iter()
            .find(|c| value == c.debezium_class() || value == c.short_name())
    }

    /// The class a plugin path segment names: the full class name, its simple name with or
    /// without `Connector` (Kafka Connect's aliases), or Siphon's short names.
    pub fn from_plugin_name(name: &str) -> Option<Self> {
        let simple = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        let simple = simple.strip_suffix("connector").unwrap_or(&simple);
        if simple == "postgresql" {
            return Some(ConnectorClass::Postgres);
        }
        Self::ALL.into_iter().find(|c| simple == c.short_name())
    }

    fn short_name(self) -> &'static str {
        match self {
            ConnectorClass::Postgres => "postgres",
            ConnectorClass::MySql => "mysql",
            ConnectorClass::MariaDb => "mariadb",
            ConnectorClass::MongoDb => "mongodb",
        }
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
                ("always", Always),
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

/// A validated connector configuration.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: String,
    pub class: ConnectorClass,
    pub topic_prefix: String,
    /// The options of its kind of source.
    pub source: SourceOptions,
    pub filters: Filters,
    pub snapshot_mode: SnapshotMode,
    /// Rows per snapshot chunk.
    pub snapshot_fetch_size: u32,
    pub max_batch_size: u32,
    pub max_queue_size: u32,
    /// Bytes the reader may have handed to the emitter and not seen committed (0: no bound,
    /// as in Debezium).
    pub max_queue_size_in_bytes: u64,
    pub poll_interval_ms: u64,
    /// 0 = no heartbeats.
    pub heartbeat_interval_ms: u64,
    pub provide_transaction_metadata: bool,
    pub tombstones_on_delete: bool,
    /// `skipped.operations`: streamed operations not written.
    pub skipped_operations: super::SkippedOps,
    pub decimal_handling_mode: DecimalHandlingMode,
    pub time_precision_mode: TimePrecisionMode,
    /// Its `key.converter*` / `value.converter*` keys (see `converters`).
    pub converter_settings: super::ConverterSettings,
    /// The map it came from, for the REST API (which hides secrets when showing it).
    pub raw: RawMap,
    /// Keys accepted without effect, each with why (logged when the connector starts).
    pub notices: Vec<super::ConfigProblem>,
    /// Values no status trace or log line may quote: its secrets and the values read from
    /// `${env:}` (drivers may echo a password or a connection string in their errors).
    pub hidden: Resolved,
}

/// The map a config came from. Its `Debug` hides secret values (as the API shows them), so
/// a config printed in a log or a panic never carries a password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawMap(pub BTreeMap<String, String>);

impl std::ops::Deref for RawMap {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Debug for RawMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if super::is_secret_key(k) {
                    "[hidden]"
                } else {
                    v.as_str()
                };
                (k, shown)
            }))
            .finish()
    }
}

/// `max.queue.size.in.bytes` by default. Debezium's default is 0 (no bound); Siphon bounds
/// memory by default, so rows of tens of megabytes cannot pile up in the queue.
pub const DEFAULT_QUEUE_BYTES: u64 = 128 << 20;

impl ConnectorConfig {
    /// `text` (an error, a trace) with the connector's secrets and `${env:}` values replaced.
    pub fn scrub(&self, text: &str) -> String {
        self.hidden.scrub(text)
    }

    /// The key and value converters, the service's `converter` and `schema_registry_url`
    /// filling what the connector does not set.
    pub fn converters(
        &self,
        service: &super::ServiceConfig,
    ) -> Result<super::Converters, ConfigErrors> {
        self.converter_settings
            .resolve(service.converter, service.schema_registry_url.as_deref())
    }

    /// The converters for `service`'s sink: resolved against its registry with Kafka, the
    /// embedded sink's JSON ones without.
    pub fn sink_converters(
        &self,
        service: &super::ServiceConfig,
    ) -> Result<super::Converters, ConfigErrors> {
        match service.kafka {
            Some(_) => self.converters(service),
            None => self.converter_settings.embedded(),
        }
    }

    /// How many batches the reader → emitter queue holds: `max.queue.size` events in batches
    /// of `max.batch.size`.
    pub fn queue_depth(&self) -> usize {
        (self.max_queue_size / self.max_batch_size).max(2) as usize
    }

    /// The size at which a batch is handed over even when it holds fewer than
    /// `max.batch.size` events (0: none), so that the queue's batches together stay within
    /// `max.queue.size.in.bytes`.
    pub fn max_batch_bytes(&self) -> u64 {
        match self.max_queue_size_in_bytes {
            0 => 0,
            bytes => (bytes / self.queue_depth() as u64).max(1),
        }
    }

    /// Parses and validates Debezium's flat map for the connector `name`, reporting every
    /// problem with its key.
    pub fn from_map(name: &str, map: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            map,
            problems: ConfigErrors::default(),
        };
        if let Err(msg) = check_connector_name(name) {
            r.problems.push("name", msg);
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
        let mut notices = ConfigErrors::default();
        check_keys(map, family, &mut r.problems, &mut notices);

        let topic_prefix = r.required("topic.prefix").unwrap_or_default().to_owned();
        if !topic_prefix.is_empty()
            && let Err(msg) = check_topic_name(&topic_prefix)
        {
            r.problems.push("topic.prefix", msg);
        }
        r.number("tasks.max", 1u32, 1, u32::MAX);
        let connection = Connection::read(&mut r, family);

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
        r.exclusive("message.prefix.include.list", "message.prefix.exclude.list");
        let filters = Filters {
            namespace_include: r.patterns(ns_include),
            namespace_exclude: r.patterns(ns_exclude),
            table_include: r.patterns(tbl_include),
            table_exclude: r.patterns(tbl_exclude),
            column_include: r.patterns("column.include.list"),
            column_exclude: r.patterns("column.exclude.list"),
            message_prefix_include: r.patterns("message.prefix.include.list"),
            message_prefix_exclude: r.patterns("message.prefix.exclude.list"),
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
        let max_queue_size_in_bytes =
            r.number("max.queue.size.in.bytes", DEFAULT_QUEUE_BYTES, 0, 1 << 40);
        let poll_interval_ms = r.number("poll.interval.ms", 500u64, 1, 3_600_000);
        let heartbeat_interval_ms = r.number("heartbeat.interval.ms", 0u64, 0, 86_400_000);
        let provide_transaction_metadata = r.boolean("provide.transaction.metadata", false);
        let tombstones_on_delete = r.boolean("tombstones.on.delete", true);
        let skipped_operations = super::SkippedOps::read(&mut r);
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

        let source = SourceOptions::read(&mut r, connection);

        r.problems.into_result()?;
        Ok(ConnectorConfig {
            name: name.to_owned(),
            class,
            topic_prefix,
            source,
            filters,
            snapshot_mode,
            snapshot_fetch_size,
            max_batch_size,
            max_queue_size,
            max_queue_size_in_bytes,
            poll_interval_ms,
            heartbeat_interval_ms,
            provide_transaction_metadata,
            tombstones_on_delete,
            skipped_operations,
            decimal_handling_mode,
            time_precision_mode,
            converter_settings: super::ConverterSettings::read(map),
            raw: RawMap(map.clone()),
            notices: notices.0,
            hidden: {
                let mut hidden = Resolved::default();
                hidden.hide_secrets_of(map);
                hidden
            },
        })
    }
}

/// The longest connector name: it goes into file names, transactional ids
/// (`<group_id>-<name>`, Kafka allows 32 KiB) and metric labels.
pub const MAX_CONNECTOR_NAME: usize = 200;

/// Connector names are 1–200 characters of `[A-Za-z0-9._-]`, not starting with `.` or `-`:
/// stricter than Kafka Connect, so a name is safe as a file name (no `/`, no `..`), in a
/// transactional id and as a Prometheus label value without escaping.
pub fn check_connector_name(name: &str) -> Result<(), String> {
    // Quoted with escapes: the name may hold control characters meant for a log line.
    let shown = name.escape_debug().to_string();
    if name.is_empty() {
        return Err("the connector name must not be empty".into());
    }
    if name.chars().count() > MAX_CONNECTOR_NAME {
        return Err(format!(
            "the connector name has {} characters; at most {MAX_CONNECTOR_NAME} are allowed",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{shown}` has `{}`; a connector name may only have letters, digits, `.`, `_` and `-`",
            c.escape_debug()
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err(format!("`{shown}` must not start with `.` or `-`"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "connector_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "tutorial_tests.rs"]
mod tutorial_tests;

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn connector_names_are_safe_for_files_ids_and_labels() {
        for ok in [
            "inventory",
            "a.b_c-1",
            "A9",
            &"x".repeat(MAX_CONNECTOR_NAME),
        ] {
            assert_eq!(check_connector_name(ok), Ok(()), "{ok}");
        }
        let err = |n: &str| check_connector_name(n).unwrap_err();
        assert!(err("").contains("empty"));
        assert!(err(&"x".repeat(201)).contains("201 characters"));
        assert!(err("../etc").contains("has `/`"), "{}", err("../etc"));
        assert!(err("a b").contains("has ` `"));
        assert!(err("a\nb").contains("`a\\nb` has `\\n`"), "{}", err("a\nb"));
        assert!(err("\"x\"").contains("has `\\\"`"), "{}", err("\"x\""));
        assert!(err(".hidden").contains("must not start"));
        assert!(err("-x").contains("must not start"));
        assert!(err("é").contains("has `é`"));
    }

    #[test]
    fn a_bad_name_is_refused_by_the_config_check() {
        let map = BTreeMap::from([("connector.class".to_owned(), "postgres".to_owned())]);
        let err = ConnectorConfig::from_map("a/b", &map).unwrap_err();
        assert!(err.keys().contains(&"name".to_owned()), "{err}");
        assert!(err.to_string().contains("`a/b` has `/`"), "{err}");
    }
}
