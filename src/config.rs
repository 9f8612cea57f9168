//! Service and connector configuration.
//!
//! `connectors.toml` has a `[service]` table and a list of `[[connectors]]`, each a `name` and a
//! flat `config` map with Debezium's keys, the same map a Kafka Connect REST client posts. Every
//! service setting can be overridden by a `SIPHON_*` environment variable (design.md §6b).
//! Validation collects every problem, each naming its key, instead of stopping at the first.

mod connector;
mod env_refs;
mod filters;
mod kafka_security;
mod keys;
mod mongo_options;
mod problems;
mod reader;
mod source_options;
mod toml_map;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use connector::{
    ConnectorClass, ConnectorConfig, DecimalHandlingMode, PublicationAutocreateMode, Secret,
    SnapshotMode, TimePrecisionMode, check_connector_name,
};
pub use env_refs::{EnvAccess, Resolved, compile_allowlist, resolve_env_refs};
pub use filters::Filters;
pub use kafka_security::{
    KafkaSecurity, ResolvedSecurity, SaslCredentials, SaslMechanism, SecurityProtocol,
};
pub use keys::is_secret_key;
pub use mongo_options::{CaptureMode, CaptureScope, FieldExclusion, FullUpdateType, OversizeMode};
pub use problems::{ConfigErrors, ConfigProblem};
pub use source_options::{
    DatabaseConfig, MongoOptions, MySqlOptions, PostgresOptions, SnapshotLocking, SourceOptions,
};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How records are serialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Converter {
    /// Avro with a Confluent-compatible schema registry (Debezium's usual setup).
    #[default]
    Avro,
    /// Kafka Connect's JsonConverter envelope, no registry needed.
    Json,
}

/// Where events go when no Kafka cluster is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddedSink {
    #[default]
    Stdout,
    File,
}

/// The Kafka cluster Siphon writes to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// Extra librdkafka producer properties (`linger.ms`, `compression.type`, ...).
    #[serde(default)]
    pub producer: BTreeMap<String, String>,
    #[serde(default = "default_offsets_topic")]
    pub offsets_topic: String,
    #[serde(default = "default_configs_topic")]
    pub configs_topic: String,
    /// Partitions of data topics Siphon creates.
    #[serde(default = "one")]
    pub topic_partitions: i32,
    /// Replication factor of topics Siphon creates.
    #[serde(default = "one")]
    pub topic_replication_factor: i32,
    /// `[service.kafka.security]`: TLS and SASL of every Kafka client (kafka_security.rs).
    #[serde(default)]
    pub security: KafkaSecurity,
}

fn default_offsets_topic() -> String {
    "siphon-offsets".into()
}
fn default_configs_topic() -> String {
    "siphon-configs".into()
}
fn one() -> i32 {
    1
}

/// The `[service]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// REST API listen address.
    #[serde(default = "default_api_bind")]
    pub api_bind: String,
    /// Local state: file offsets, connector configs, embedded sink output.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `tracing` filter directives.
    #[serde(default = "default_log")]
    pub log: String,
    #[serde(default)]
    pub log_format: LogFormat,
    /// Unset: the embedded sink, without Kafka.
    #[serde(default)]
    pub kafka: Option<KafkaConfig>,
    #[serde(default)]
    pub schema_registry_url: Option<String>,
    #[serde(default)]
    pub converter: Converter,
    #[serde(default)]
    pub embedded_sink: EmbeddedSink,
    /// REST API bearer token; with it (or basic credentials) set, every endpoint but `GET /`
    /// needs authentication.
    #[serde(default, deserialize_with = "secret_opt")]
    pub api_auth_token: Option<Secret>,
    /// REST API basic authentication user (with `api_basic_password`).
    #[serde(default)]
    pub api_basic_user: Option<String>,
    #[serde(default, deserialize_with = "secret_opt")]
    pub api_basic_password: Option<Secret>,
    /// Names this deployment on a shared Kafka cluster, as Kafka Connect's `group.id`: the
    /// transactional ids of its connectors are `<group_id>-<connector>`, so two deployments
    /// sharing a cluster never fence each other.
    #[serde(default = "default_group_id")]
    pub group_id: String,
    /// Which `${env:NAME}` variables a connector created over the REST API may read (a
    /// regular expression matching the whole name, as Kafka's `allowlist.pattern`). Unset:
    /// none, so an API caller cannot read the service's environment by default;
    /// `connectors.toml` entries may read any variable (the operator wrote them).
    #[serde(default)]
    pub config_providers_env_allowlist: Option<String>,
}

fn default_group_id() -> String {
    "siphon".into()
}

/// Producer properties that Siphon's exactly-once protocol owns.
const RESERVED_PRODUCER_KEYS: [&str; 4] = [
    "transactional.id",
    "enable.idempotence",
    "bootstrap.servers",
    "isolation.level",
];

fn secret_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

fn default_api_bind() -> String {
    // Loopback: the API can change what is captured and where secrets are sent, so
    // listening elsewhere is an explicit choice (see `api::serve`'s warning).
    "127.0.0.1:8083".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from(".siphon")
}
fn default_log() -> String {
    "info".into()
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            api_bind: default_api_bind(),
            data_dir: default_data_dir(),
            log: default_log(),
            log_format: LogFormat::Text,
            kafka: None,
            schema_registry_url: None,
            converter: Converter::Avro,
            embedded_sink: EmbeddedSink::Stdout,
            api_auth_token: None,
            api_basic_user: None,
            api_basic_password: None,
            group_id: default_group_id(),
            config_providers_env_allowlist: None,
        }
    }
}

impl ServiceConfig {
    /// Applies the `SIPHON_*` environment overrides, reading variables through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigErrors> {
        let mut problems = ConfigErrors::default();
        if let Some(v) = get("SIPHON_API_BIND") {
            self.api_bind = v;
        }
        if let Some(v) = get("SIPHON_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("SIPHON_LOG") {
            self.log = v;
        }
        if let Some(v) = get("SIPHON_LOG_FORMAT") {
            match v.as_str() {
                "text" => self.log_format = LogFormat::Text,
                "json" => self.log_format = LogFormat::Json,
                _ => problems.push(
                    "SIPHON_LOG_FORMAT",
                    format!("`{v}` is not a log format (text, json)"),
                ),
            }
        }
        if let Some(v) = get("SIPHON_KAFKA_BOOTSTRAP") {
            if v.trim().is_empty() {
                self.kafka = None;
            } else {
                match &mut self.kafka {
                    Some(k) => k.bootstrap_servers = v,
                    None => {
                        self.kafka = Some(KafkaConfig {
                            bootstrap_servers: v,
                            producer: BTreeMap::new(),
                            offsets_topic: default_offsets_topic(),
                            configs_topic: default_configs_topic(),
                            topic_partitions: 1,
                            topic_replication_factor: 1,
                            security: KafkaSecurity::default(),
                        })
                    }
                }
            }
        }
        match &mut self.kafka {
            Some(k) => k.security.apply_env(&get),
            None => kafka_security::refuse_env_without_kafka(&get, &mut problems),
        }
        // Set and empty means "off", so a deployment can clear a file setting.
        if let Some(v) = get("SIPHON_API_TOKEN") {
            self.api_auth_token = (!v.is_empty()).then(|| Secret::new(v));
        }
        if let Some(v) = get("SIPHON_API_BASIC_USER") {
            self.api_basic_user = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = get("SIPHON_API_BASIC_PASSWORD") {
            self.api_basic_password = (!v.is_empty()).then(|| Secret::new(v));
        }
        if let Some(v) = get("SIPHON_GROUP_ID") {
            self.group_id = v;
        }
        if let Some(v) = get("SIPHON_CONFIG_PROVIDERS_ENV_ALLOWLIST") {
            self.config_providers_env_allowlist = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_URL") {
            self.schema_registry_url = (!v.trim().is_empty()).then_some(v);
        }
        problems.into_result()
    }

    /// The Kafka transactional id of a connector: the one place it is built, so the emitter,
    /// the offsets API and the fencing all agree on it.
    pub fn transactional_id(&self, connector: &str) -> String {
        format!("{}-{connector}", self.group_id)
    }

    /// What a REST-created connector's `${env:}` references may read.
    pub fn env_access(&self) -> EnvAccess {
        // An invalid pattern is refused by `validate`; allowing nothing is the safe reading.
        EnvAccess::Allowlist(
            self.config_providers_env_allowlist
                .as_deref()
                .and_then(|p| compile_allowlist(p).ok()),
        )
    }

    pub fn api_addr(&self) -> Result<SocketAddr, ConfigProblem> {
        self.api_bind.parse().map_err(|_| {
            ConfigProblem::new(
                "service.api_bind",
                format!(
                    "`{}` is not an address such as 127.0.0.1:8083",
                    self.api_bind
                ),
            )
        })
    }

    /// Every problem of the service settings, each naming its key.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut problems = ConfigErrors::default();
        if let Err(p) = self.api_addr() {
            problems.add(p);
        }
        self.validate_auth(&mut problems);
        if let Some(p) = &self.config_providers_env_allowlist
            && let Err(msg) = compile_allowlist(p)
        {
            problems.push("service.config_providers_env_allowlist", msg);
        }
        if self.data_dir.as_os_str().is_empty() {
            problems.push("service.data_dir", "must not be empty");
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            problems.push(
                "service.log",
                format!("`{}` is not a log filter: {e}", self.log),
            );
        }
        if let Some(url) = &self.schema_registry_url
            && !is_http_url(url)
        {
            problems.push(
                "service.schema_registry_url",
                format!("`{url}` is not an http:// or https:// URL"),
            );
        }
        if let Err(msg) = check_topic_name(&self.group_id) {
            // Same alphabet as a topic: it ends up in transactional ids and client ids.
            problems.push("service.group_id", msg);
        }
        if let Some(kafka) = &self.kafka {
            check_bootstrap(&kafka.bootstrap_servers, &mut problems);
            kafka_security::check_producer_keys(&kafka.producer, &mut problems);
            if let Err(e) = kafka.security.resolve() {
                problems.extend(e);
            }
            for key in kafka.producer.keys() {
                if RESERVED_PRODUCER_KEYS.contains(&key.as_str()) {
                    problems.push(
                        format!("service.kafka.producer.{key}"),
                        "is set by siphon for exactly-once delivery and cannot be overridden \
                         (the transactional id is `<service.group_id>-<connector>`)",
                    );
                }
            }
            for (key, topic) in [
                ("service.kafka.offsets_topic", &kafka.offsets_topic),
                ("service.kafka.configs_topic", &kafka.configs_topic),
            ] {
                if let Err(msg) = check_topic_name(topic) {
                    problems.push(key, msg);
                }
            }
            if kafka.topic_partitions < 1 {
                problems.push("service.kafka.topic_partitions", "must be at least 1");
            }
            if kafka.topic_replication_factor < 1 {
                problems.push(
                    "service.kafka.topic_replication_factor",
                    "must be at least 1",
                );
            }
            if self.converter == Converter::Avro && self.schema_registry_url.is_none() {
                problems.push(
                    "service.schema_registry_url",
                    "required when Kafka is set and the converter is avro: set it (or \
                     SIPHON_SCHEMA_REGISTRY_URL), or choose converter = \"json\"",
                );
            }
        }
        problems.into_result()
    }
}

impl ServiceConfig {
    fn validate_auth(&self, problems: &mut ConfigErrors) {
        if self
            .api_auth_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            problems.push("service.api_auth_token", "must not be empty");
        }
        match (&self.api_basic_user, &self.api_basic_password) {
            (Some(u), _) if u.is_empty() || u.contains(':') => problems.push(
                "service.api_basic_user",
                "must be non-empty and must not contain `:`",
            ),
            (Some(_), None) => problems.push(
                "service.api_basic_password",
                "required with api_basic_user (or SIPHON_API_BASIC_PASSWORD)",
            ),
            (None, Some(_)) => problems.push(
                "service.api_basic_user",
                "required with api_basic_password (or SIPHON_API_BASIC_USER)",
            ),
            (Some(_), Some(p)) if p.expose().is_empty() => {
                problems.push("service.api_basic_password", "must not be empty")
            }
            _ => {}
        }
    }
}

fn check_bootstrap(list: &str, problems: &mut ConfigErrors) {
    let key = "service.kafka.bootstrap_servers";
    if list.trim().is_empty() {
        problems.push(key, "must list at least one host:port");
        return;
    }
    for server in list.split(',').map(str::trim) {
        let ok = server.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !ok {
            problems.push(key, format!("`{server}` is not host:port"));
        }
    }
}

pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

/// Kafka's topic name rules: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub(crate) fn check_topic_name(topic: &str) -> Result<(), String> {
    if topic.is_empty() || topic.len() > 249 {
        return Err(format!("`{topic}` must have 1 to 249 characters"));
    }
    if topic == "." || topic == ".." {
        return Err(format!("`{topic}` is not a valid topic name"));
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{topic}` has `{c}`; only letters, digits, `.`, `_` and `-` are allowed"
        ));
    }
    Ok(())
}

/// One `[[connectors]]` entry before validation: a name and Debezium's flat string map.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnector {
    pub name: String,
    #[serde(deserialize_with = "toml_map::string_map")]
    pub config: BTreeMap<String, String>,
}

/// The whole `connectors.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub service: ServiceConfig,
    #[serde(default)]
    pub connectors: Vec<RawConnector>,
    /// The values `resolve_env` read, taken out of validation messages.
    #[serde(skip)]
    resolved: Resolved,
}

/// A validated configuration, ready to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub service: ServiceConfig,
    pub connectors: Vec<ConnectorConfig>,
}

impl FileConfig {
    pub fn parse(text: &str) -> Result<Self, ConfigErrors> {
        toml::from_str(text).map_err(|e| {
            // toml's message names the key or line; keep it whole.
            ConfigErrors::one("connectors.toml", e.to_string().trim_end().to_owned())
        })
    }

    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors::one(path.display().to_string(), format!("cannot read: {e}"))
        })?;
        Self::parse(&text)
    }

    /// Replaces `${env:NAME}` in connector values with the variable's value (Kafka Connect's
    /// `EnvVarConfigProvider` syntax), so secrets and ports need not be written in the file.
    pub fn resolve_env(
        &mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigErrors> {
        let mut problems = ConfigErrors::default();
        for connector in &mut self.connectors {
            let (map, resolved, errors) =
                resolve_env_refs(&connector.config, &EnvAccess::Any, &get);
            connector.config = map;
            self.resolved.extend(resolved);
            problems.extend(errors.prefixed(&format!("connectors[{}]", connector.name)));
        }
        problems.into_result()
    }

    /// Validates the service and every connector, collecting all problems. Connector problems
    /// are prefixed with `connectors[<name>].`.
    pub fn validate(self) -> Result<Config, ConfigErrors> {
        let mut problems = ConfigErrors::default();
        if let Err(e) = self.service.validate() {
            problems.extend(e);
        }
        let mut hidden = self.resolved.clone();
        for raw in &self.connectors {
            hidden.hide_secrets_of(&raw.config);
        }
        let mut connectors = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for raw in self.connectors {
            let label = format!("connectors[{}]", raw.name);
            if !seen.insert(raw.name.clone()) {
                problems.push(label.clone() + ".name", "appears more than once");
            }
            match ConnectorConfig::from_map(&raw.name, &raw.config) {
                Ok(c) => connectors.push(c),
                Err(errors) => problems.extend(errors.prefixed(&label)),
            }
        }
        problems = hidden.scrub_errors(problems);
        problems.into_result()?;
        Ok(Config {
            service: self.service,
            connectors,
        })
    }
}

#[cfg(test)]
mod env_tests;
#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_embedded_and_valid() {
        let cfg = FileConfig::parse("").unwrap();
        assert_eq!(cfg.service, ServiceConfig::default());
        assert_eq!(cfg.service.api_addr().unwrap().port(), 8083);
        assert!(cfg.validate().unwrap().connectors.is_empty());
    }

    #[test]
    fn env_overrides_every_service_setting() {
        let mut s = ServiceConfig::default();
        s.apply_env(env(&[
            ("SIPHON_API_BIND", "127.0.0.1:9000"),
            ("SIPHON_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            ("SIPHON_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"),
            ("SIPHON_DATA_DIR", "/tmp/x"),
            ("SIPHON_LOG", "debug"),
            ("SIPHON_LOG_FORMAT", "json"),
        ]))
        .unwrap();
        assert_eq!(s.api_bind, "127.0.0.1:9000");
        assert_eq!(
            s.kafka.as_ref().unwrap().bootstrap_servers,
            "127.0.0.1:9092"
        );
        assert_eq!(s.kafka.as_ref().unwrap().offsets_topic, "siphon-offsets");
        assert_eq!(
            s.schema_registry_url.as_deref(),
            Some("http://127.0.0.1:8081")
        );
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!((s.log.as_str(), s.log_format), ("debug", LogFormat::Json));
        s.validate().unwrap();
    }

    #[test]
    fn api_auth_settings_come_from_file_or_env_and_are_checked() {
        let cfg =
            FileConfig::parse("[service]\napi_auth_token = \"t0k\"\napi_basic_user = \"admin\"\n")
                .unwrap();
        assert_eq!(cfg.service.api_auth_token.as_ref().unwrap().expose(), "t0k");
        assert!(!format!("{:?}", cfg.service).contains("t0k"));
        let err = cfg.service.validate().unwrap_err();
        assert_eq!(err.keys(), ["service.api_basic_password"]);
        let mut s = ServiceConfig::default();
        s.apply_env(env(&[
            ("SIPHON_API_BASIC_USER", "a"),
            ("SIPHON_API_BASIC_PASSWORD", "p"),
            ("SIPHON_API_TOKEN", ""),
        ]))
        .unwrap();
        assert_eq!(s.api_basic_password.as_ref().unwrap().expose(), "p");
        assert!(s.api_auth_token.is_none());
        s.validate().unwrap();
        s.api_basic_user = Some("a:b".into());
        assert_eq!(s.validate().unwrap_err().keys(), ["service.api_basic_user"]);
    }

    #[test]
    fn bad_log_format_in_env_is_named() {
        let err = ServiceConfig::default()
            .apply_env(env(&[("SIPHON_LOG_FORMAT", "xml")]))
            .unwrap_err();
        assert!(err.to_string().contains("SIPHON_LOG_FORMAT"), "{err}");
    }

    #[test]
    fn kafka_with_avro_needs_a_registry() {
        let mut s = ServiceConfig::default();
        s.apply_env(env(&[("SIPHON_KAFKA_BOOTSTRAP", "k:9092")]))
            .unwrap();
        let err = s.validate().unwrap_err();
        assert_eq!(err.keys(), ["service.schema_registry_url"]);
        s.converter = Converter::Json;
        s.validate().unwrap();
    }

    #[test]
    fn transactional_ids_are_per_deployment_and_cannot_be_overridden() {
        let mut s = ServiceConfig::default();
        assert_eq!(s.transactional_id("inv"), "siphon-inv");
        s.apply_env(env(&[
            ("SIPHON_GROUP_ID", "eu-prod"),
            ("SIPHON_KAFKA_BOOTSTRAP", "k:9092"),
            ("SIPHON_SCHEMA_REGISTRY_URL", "http://r:8081"),
        ]))
        .unwrap();
        assert_eq!(s.transactional_id("inv"), "eu-prod-inv");
        s.validate().unwrap();
        let kafka = s.kafka.as_mut().unwrap();
        kafka
            .producer
            .insert("transactional.id".into(), "mine".into());
        kafka
            .producer
            .insert("enable.idempotence".into(), "false".into());
        kafka.producer.insert("linger.ms".into(), "20".into());
        let err = s.validate().unwrap_err();
        assert_eq!(
            err.keys(),
            [
                "service.kafka.producer.enable.idempotence",
                "service.kafka.producer.transactional.id",
            ]
        );
        s.kafka.as_mut().unwrap().producer.clear();
        s.group_id = "two words".into();
        assert_eq!(s.validate().unwrap_err().keys(), ["service.group_id"]);
    }

    #[test]
    fn service_problems_are_all_reported() {
        let cfg = FileConfig::parse(
            r#"
            [service]
            api_bind = "nowhere"
            log = "[[["
            schema_registry_url = "ftp://x"
            [service.kafka]
            bootstrap_servers = "a:1,b,c:0"
            offsets_topic = "bad topic"
            topic_partitions = 0
            "#,
        )
        .unwrap();
        let err = cfg.validate().unwrap_err();
        assert_eq!(
            err.keys(),
            [
                "service.api_bind",
                "service.log",
                "service.schema_registry_url",
                "service.kafka.bootstrap_servers",
                "service.kafka.bootstrap_servers",
                "service.kafka.offsets_topic",
                "service.kafka.topic_partitions",
            ]
        );
    }

    #[test]
    fn unknown_service_key_is_refused_by_name() {
        let err = FileConfig::parse("[service]\napi_bnd = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("api_bnd"), "{err}");
    }

    #[test]
    fn connectors_load_from_toml_with_non_string_scalars() {
        let cfg = FileConfig::parse(
            r#"
            [[connectors]]
            name = "pg"
            [connectors.config]
            "connector.class" = "postgres"
            "database.hostname" = "localhost"
            "database.port" = 5433
            "database.user" = "postgres"
            "database.dbname" = "app"
            "topic.prefix" = "app"
            "table.include.list" = ["public.a", "public.b"]
            "tombstones.on.delete" = false
            "#,
        )
        .unwrap();
        assert_eq!(cfg.connectors[0].config["database.port"], "5433");
        assert_eq!(
            cfg.connectors[0].config["table.include.list"],
            "public.a,public.b"
        );
        let cfg = cfg.validate().unwrap();
        let c = &cfg.connectors[0];
        assert_eq!(c.source.database().unwrap().port, 5433);
        assert!(!c.tombstones_on_delete);
    }

    #[test]
    fn connector_problems_are_prefixed_and_duplicates_refused() {
        let cfg = FileConfig::parse(
            r#"
            [[connectors]]
            name = "a"
            config = { "connector.class" = "postgres" }
            [[connectors]]
            name = "a"
            config = { "connector.class" = "nope" }
            "#,
        )
        .unwrap();
        let err = cfg.validate().unwrap_err();
        let keys = err.keys();
        assert!(
            keys.contains(&"connectors[a].database.hostname".to_owned()),
            "{err}"
        );
        assert!(keys.contains(&"connectors[a].name".to_owned()), "{err}");
        assert!(
            keys.contains(&"connectors[a].connector.class".to_owned()),
            "{err}"
        );
    }

    #[test]
    fn shipped_connectors_toml_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors.toml");
        let mut cfg = FileConfig::load(&path).unwrap();
        cfg.resolve_env(env(&[
            ("SIPHON_DEMO_PG_HOST", "127.0.0.1"),
            ("SIPHON_DEMO_PG_PORT", "5432"),
        ]))
        .unwrap();
        let cfg = cfg.validate().unwrap();
        assert_eq!(cfg.connectors[0].source.database().unwrap().port, 5432);
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(check_topic_name("siphon-offsets").is_ok());
        assert!(check_topic_name("a.b_c-1").is_ok());
        assert!(check_topic_name("..").is_err());
        assert!(check_topic_name("").is_err());
        assert!(check_topic_name(&"x".repeat(250)).is_err());
        assert!(check_topic_name("a/b").unwrap_err().contains("`/`"));
    }
}
