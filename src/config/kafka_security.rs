//! How Siphon's Kafka clients authenticate and encrypt: `[service.kafka.security]`.
//!
//! The keys are librdkafka's (and the Java client's) property names, so a `client.properties`
//! line can be copied as is: `"security.protocol" = "SASL_SSL"` (quoted) and
//! `security.protocol = "SASL_SSL"` (a TOML dotted key) mean the same. One set of settings
//! applies to every client Siphon opens: the transactional producers, the config-topic
//! producer, the admin clients and the raw offsets reader (`offsets::committed_reader`, which
//! speaks TLS and SASL itself), so the same keys in `service.kafka.producer` are refused
//! rather than applied to some clients only.
//!
//! Secrets (`sasl.password`, `ssl.key.password`) are [`Secret`]s: hidden in Debug output and
//! logs; `SIPHON_KAFKA_*` variables override the protocol, mechanism and credentials.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigErrors, Secret};
use crate::tls::{ClientTls, ServerCheck};

const PREFIX: &str = "service.kafka.security";

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Self::Plaintext,
            "SSL" => Self::Ssl,
            "SASL_PLAINTEXT" => Self::SaslPlaintext,
            "SASL_SSL" => Self::SaslSsl,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    pub fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    pub fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// `sasl.mechanism`: the ones both librdkafka and the raw offsets reader speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
}

impl SaslMechanism {
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL credentials, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: Secret,
}

/// The settings, checked and typed: what the raw offsets reader connects with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSecurity {
    pub protocol: SecurityProtocol,
    pub sasl: Option<SaslCredentials>,
    /// Set exactly when the protocol uses TLS.
    pub tls: Option<ClientTls>,
}

/// `[service.kafka.security]` as written (after env overrides); see the module docs.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct KafkaSecurity {
    pub protocol: Option<String>,
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<Secret>,
    pub ssl_ca_location: Option<PathBuf>,
    pub ssl_certificate_location: Option<PathBuf>,
    pub ssl_key_location: Option<PathBuf>,
    pub ssl_key_password: Option<Secret>,
    pub ssl_endpoint_identification_algorithm: Option<String>,
}

/// The environment variables [`KafkaSecurity::apply_env`] reads.
pub const ENV_VARS: [&str; 5] = [
    "SIPHON_KAFKA_SECURITY_PROTOCOL",
    "SIPHON_KAFKA_SASL_MECHANISM",
    "SIPHON_KAFKA_SASL_USERNAME",
    "SIPHON_KAFKA_SASL_PASSWORD",
    "SIPHON_KAFKA_SSL_KEY_PASSWORD",
];

/// A security variable without a Kafka cluster would be ignored: refused instead.
pub fn refuse_env_without_kafka(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut ConfigErrors,
) {
    for var in ENV_VARS {
        if get(var).is_some_and(|v| !v.is_empty()) {
            problems.push(
                var,
                "is set but no Kafka cluster is configured ([service.kafka] or \
                 SIPHON_KAFKA_BOOTSTRAP)",
            );
        }
    }
}

/// Every key of the table, in librdkafka's spelling.
pub const SECURITY_KEYS: [&str; 9] = [
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
];

impl fmt::Debug for KafkaSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSecurity")
            .field("protocol", &self.protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .field("ssl_key_password", &self.ssl_key_password)
            .field(
                "ssl_endpoint_identification_algorithm",
                &self.ssl_endpoint_identification_algorithm,
            )
            .finish()
    }
}

/// Flattens nested tables into dotted keys (`ssl = { ca = { location = … } }` →
/// `ssl.ca.location`), so quoted and dotted TOML keys read the same.
fn flatten(
    prefix: &str,
    table: toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out)?,
            toml::Value::String(s) => {
                out.insert(key, s);
            }
            other => {
                return Err(format!(
                    "{PREFIX}.{key}: must be a string, not {}",
                    other.type_str()
                ));
            }
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for KafkaSecurity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        let mut map = BTreeMap::new();
        flatten("", table, &mut map).map_err(serde::de::Error::custom)?;
        KafkaSecurity::from_map(map).map_err(serde::de::Error::custom)
    }
}

impl KafkaSecurity {
    /// Plaintext, no authentication (also what an empty table means).
    pub const PLAINTEXT: KafkaSecurity = KafkaSecurity {
        protocol: None,
        sasl_mechanism: None,
        sasl_username: None,
        sasl_password: None,
        ssl_ca_location: None,
        ssl_certificate_location: None,
        ssl_key_location: None,
        ssl_key_password: None,
        ssl_endpoint_identification_algorithm: None,
    };

    /// From librdkafka-named keys; an unknown key is refused with the list of known ones.
    pub fn from_map(map: BTreeMap<String, String>) -> Result<Self, String> {
        let mut s = KafkaSecurity::default();
        for (key, value) in map {
            match key.as_str() {
                "security.protocol" => s.protocol = Some(value),
                "sasl.mechanism" => s.sasl_mechanism = Some(value),
                "sasl.username" => s.sasl_username = Some(value),
                "sasl.password" => s.sasl_password = Some(Secret::new(value)),
                "ssl.ca.location" => s.ssl_ca_location = Some(value.into()),
                "ssl.certificate.location" => s.ssl_certificate_location = Some(value.into()),
                "ssl.key.location" => s.ssl_key_location = Some(value.into()),
                "ssl.key.password" => s.ssl_key_password = Some(Secret::new(value)),
                "ssl.endpoint.identification.algorithm" => {
                    s.ssl_endpoint_identification_algorithm = Some(value)
                }
                _ => {
                    return Err(format!(
                        "{PREFIX}.{key}: unknown key; the keys are {}",
                        SECURITY_KEYS.join(", ")
                    ));
                }
            }
        }
        Ok(s)
    }

    /// The `SIPHON_KAFKA_*` overrides ([`ENV_VARS`]); set and empty clears the setting.
    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) {
        let text = |v: String| (!v.is_empty()).then_some(v);
        if let Some(v) = get("SIPHON_KAFKA_SECURITY_PROTOCOL") {
            self.protocol = text(v);
        }
        if let Some(v) = get("SIPHON_KAFKA_SASL_MECHANISM") {
            self.sasl_mechanism = text(v);
        }
        if let Some(v) = get("SIPHON_KAFKA_SASL_USERNAME") {
            self.sasl_username = text(v);
        }
        if let Some(v) = get("SIPHON_KAFKA_SASL_PASSWORD") {
            self.sasl_password = text(v).map(Secret::new);
        }
        if let Some(v) = get("SIPHON_KAFKA_SSL_KEY_PASSWORD") {
            self.ssl_key_password = text(v).map(Secret::new);
        }
    }

    /// Checks every setting and their combination; each problem names its key. TLS files are
    /// read (and the key decrypted) here, so a missing or bad file is refused at start-up.
    pub fn resolve(&self) -> Result<ResolvedSecurity, ConfigErrors> {
        let mut problems = ConfigErrors::default();
        let key = |k: &str| format!("{PREFIX}.{k}");
        let protocol = match &self.protocol {
            None => SecurityProtocol::Plaintext,
            Some(p) => SecurityProtocol::parse(p).unwrap_or_else(|| {
                problems.push(
                    key("security.protocol"),
                    format!("`{p}` is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
                );
                SecurityProtocol::Plaintext
            }),
        };
        let sasl = self.resolve_sasl(protocol, &mut problems);
        let tls = self.resolve_tls(protocol, &mut problems);
        problems.into_result().map(|()| ResolvedSecurity {
            protocol,
            sasl,
            tls,
        })
    }

    fn resolve_sasl(
        &self,
        protocol: SecurityProtocol,
        problems: &mut ConfigErrors,
    ) -> Option<SaslCredentials> {
        let key = |k: &str| format!("{PREFIX}.{k}");
        if !protocol.sasl() {
            for (k, set) in [
                ("sasl.mechanism", self.sasl_mechanism.is_some()),
                ("sasl.username", self.sasl_username.is_some()),
                ("sasl.password", self.sasl_password.is_some()),
            ] {
                if set {
                    problems.push(
                        key(k),
                        format!(
                            "is set but security.protocol is {}: use SASL_SSL (or \
                             SASL_PLAINTEXT) or remove it",
                            protocol.name()
                        ),
                    );
                }
            }
            return None;
        }
        let mechanism = match self.sasl_mechanism.as_deref() {
            None => {
                problems.push(
                    key("sasl.mechanism"),
                    format!(
                        "required with security.protocol {}: PLAIN, SCRAM-SHA-256 or \
                         SCRAM-SHA-512",
                        protocol.name()
                    ),
                );
                None
            }
            Some(m) => match m.to_ascii_uppercase().as_str() {
                "PLAIN" => Some(SaslMechanism::Plain),
                "SCRAM-SHA-256" => Some(SaslMechanism::ScramSha256),
                "SCRAM-SHA-512" => Some(SaslMechanism::ScramSha512),
                // librdkafka is built with Cyrus SASL, but the raw offsets reader (which
                // every Kafka deployment uses) has no Kerberos client.
                "GSSAPI" | "OAUTHBEARER" => {
                    problems.push(
                        key("sasl.mechanism"),
                        format!(
                            "{m} is not supported: siphon's offsets reader authenticates \
                             itself and speaks PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 only"
                        ),
                    );
                    None
                }
                _ => {
                    problems.push(
                        key("sasl.mechanism"),
                        format!("`{m}` is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
                    );
                    None
                }
            },
        };
        let username = match self.sasl_username.as_deref() {
            Some(u) if !u.is_empty() => Some(u.to_owned()),
            _ => {
                problems.push(
                    key("sasl.username"),
                    "required with a SASL security.protocol (or SIPHON_KAFKA_SASL_USERNAME)",
                );
                None
            }
        };
        let password = match &self.sasl_password {
            Some(p) if !p.expose().is_empty() => Some(p.clone()),
            _ => {
                problems.push(
                    key("sasl.password"),
                    "required with a SASL security.protocol (or SIPHON_KAFKA_SASL_PASSWORD)",
                );
                None
            }
        };
        Some(SaslCredentials {
            mechanism: mechanism?,
            username: username?,
            password: password?,
        })
    }

    fn resolve_tls(
        &self,
        protocol: SecurityProtocol,
        problems: &mut ConfigErrors,
    ) -> Option<ClientTls> {
        let key = |k: &str| format!("{PREFIX}.{k}");
        let settings = [
            ("ssl.ca.location", self.ssl_ca_location.is_some()),
            (
                "ssl.certificate.location",
                self.ssl_certificate_location.is_some(),
            ),
            ("ssl.key.location", self.ssl_key_location.is_some()),
            ("ssl.key.password", self.ssl_key_password.is_some()),
            (
                "ssl.endpoint.identification.algorithm",
                self.ssl_endpoint_identification_algorithm.is_some(),
            ),
        ];
        if !protocol.tls() {
            for (k, set) in settings {
                if set {
                    problems.push(
                        key(k),
                        format!(
                            "is set but security.protocol is {}: use SSL or SASL_SSL, or \
                             remove it",
                            protocol.name()
                        ),
                    );
                }
            }
            return None;
        }
        let check = match self.ssl_endpoint_identification_algorithm.as_deref() {
            None => ServerCheck::Full,
            Some(a) if a.eq_ignore_ascii_case("https") => ServerCheck::Full,
            Some(a) if a.eq_ignore_ascii_case("none") || a.is_empty() => ServerCheck::Ca,
            Some(a) => {
                problems.push(
                    key("ssl.endpoint.identification.algorithm"),
                    format!("`{a}` is not https (check the host name) or none"),
                );
                ServerCheck::Full
            }
        };
        let before = problems.0.len();
        match (&self.ssl_certificate_location, &self.ssl_key_location) {
            (Some(_), None) => problems.push(
                key("ssl.key.location"),
                "required with ssl.certificate.location (the client certificate's key)",
            ),
            (None, Some(_)) => problems.push(
                key("ssl.certificate.location"),
                "required with ssl.key.location (the key's certificate)",
            ),
            (None, None) if self.ssl_key_password.is_some() => problems.push(
                key("ssl.key.password"),
                "is set but there is no ssl.key.location",
            ),
            _ => {}
        }
        let tls = ClientTls {
            ca: self.ssl_ca_location.clone(),
            cert: self.ssl_certificate_location.clone(),
            key: self.ssl_key_location.clone(),
            key_password: self.ssl_key_password.clone(),
            check,
        };
        if problems.0.len() == before
            && let Err(e) = crate::tls::client_config(&tls)
        {
            problems.push(key(tls_error_key(&e, &tls)), e.to_string());
        }
        Some(tls)
    }

    /// The librdkafka properties for these settings (after [`KafkaSecurity::resolve`] has
    /// accepted them): passed through under their own names, the protocol upper-cased.
    pub fn librdkafka_properties(&self) -> Vec<(&'static str, String)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let upper = |s: &Option<String>| s.as_ref().map(|s| s.to_ascii_uppercase());
        let values = [
            upper(&self.protocol),
            upper(&self.sasl_mechanism),
            self.sasl_username.clone(),
            self.sasl_password.as_ref().map(|s| s.expose().to_owned()),
            path(&self.ssl_ca_location),
            path(&self.ssl_certificate_location),
            path(&self.ssl_key_location),
            self.ssl_key_password
                .as_ref()
                .map(|s| s.expose().to_owned()),
            self.ssl_endpoint_identification_algorithm
                .as_ref()
                .map(|s| s.to_ascii_lowercase()),
        ];
        SECURITY_KEYS
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }
}

/// Which key a TLS file problem is about.
fn tls_error_key(e: &crate::tls::TlsError, tls: &ClientTls) -> &'static str {
    use crate::tls::TlsError;
    let is = |p: &std::path::Path, o: &Option<PathBuf>| o.as_deref() == Some(p);
    match e {
        TlsError::KeyNeedsPassword { .. } => "ssl.key.password",
        TlsError::BadKey { .. } => "ssl.key.location",
        TlsError::Read { path, .. }
        | TlsError::NoCertificate { path, .. }
        | TlsError::BadCertificate { path, .. } => {
            if is(path, &tls.ca) {
                "ssl.ca.location"
            } else if is(path, &tls.key) {
                "ssl.key.location"
            } else {
                "ssl.certificate.location"
            }
        }
        _ => "ssl.ca.location",
    }
}

/// Security properties put in `service.kafka.producer`: refused, since they would reach the
/// producers but not the admin clients or the offsets reader.
pub fn check_producer_keys(producer: &BTreeMap<String, String>, problems: &mut ConfigErrors) {
    for key in producer.keys() {
        if key == "security.protocol" || key.starts_with("sasl.") || key.starts_with("ssl.") {
            problems.push(
                format!("service.kafka.producer.{key}"),
                format!(
                    "security settings belong in [{PREFIX}], which applies them to every Kafka \
                     client siphon opens (producers, admin clients, the offsets reader)"
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "kafka_security_tests.rs"]
mod tests;
