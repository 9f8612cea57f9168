//! Service and connector configuration.
//!
//! `connectors.toml` has a `[service]` table and a list of `[[connectors]]`, each a `name` and a
//! flat `config` map with Debezium's keys, the same map a Kafka Connect REST client posts. Every
//! service setting can be overridden by a `SIPHON_*` environment variable (design.md §6b).
//! Validation collects every problem, each naming its key, instead of stopping at the first.

mod api_tls;
mod connector;
mod converters;
mod env_refs;
mod filters;
mod kafka_security;
mod keys;
mod legacy_keys;
mod mongo_options;
mod mysql_ssl;
mod operations;
mod pg_tls;
mod problems;
mod reader;
mod registry;
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
pub use converters::{ConverterSettings, Converters, RecordFormat};
pub use env_refs::{EnvAccess, Resolved, compile_allowlist, resolve_env_refs};
pub use filters::Filters;
pub use kafka_security::{
    KafkaSecurity, ResolvedSecurity, SaslCredentials, SaslMechanism, SecurityProtocol,
};
pub use keys::is_secret_key;
pub use mongo_options::{CaptureMode, CaptureScope, FieldExclusion, FullUpdateType, OversizeMode};
pub use mysql_ssl::{MySqlSsl, MySqlSslMode};
pub use operations::SkippedOps;
pub use pg_tls::{PgSslMode, PgTls};
pub use problems::{ConfigErrors, ConfigProblem};
pub use registry::{RegistryAccess, RegistryAuth, registry_urls};
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
    /// One URL or several, comma-separated (tried in order).
    #[serde(default)]
    pub schema_registry_url: Option<String>,
    /// The registry's credentials and TLS files (`[service.schema_registry]`).
    #[serde(default)]
    pub schema_registry: RegistryAccess,
    /// With both set the REST API serves HTTPS only.
    #[serde(default)]
    pub api_tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub api_tls_key: Option<PathBuf>,
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
            schema_registry: RegistryAccess::default(),
            api_tls_cert: None,
            api_tls_key: None,
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
        self.schema_registry.apply_env(&get);
        api_tls::apply_api_tls_env(&mut self.api_tls_cert, &mut self.api_tls_key, &get);
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
        self.schema_registry
            .validate(self.schema_registry_url.as_deref(), &mut problems);
        api_tls::validate_api_tls(
            self.api_tls_cert.as_deref(),
            self.api_tls_key.as_deref(),
            &mut problems,
        );
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
                Ok(mut c) => {
                    if let Err(e) = c.sink_converters(&self.service) {
                        problems.extend(e.prefixed(&label));
                    }
                    c.hidden.extend(hidden.clone());
                    connectors.push(c)
                }
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
#[path = "config/service_tests.rs"]
mod tests;
