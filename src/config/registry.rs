//! How the service reaches its schema registry: the URLs (`service.schema_registry_url`,
//! comma-separated as Confluent's `schema.registry.url`), and the `[service.schema_registry]`
//! table for credentials and TLS. Every connector's emitter shares this one client, so these
//! are service settings, not connector ones (see `keys::check_converter_key`).
//!
//! Confluent client property → Siphon setting:
//! - `basic.auth.credentials.source=USER_INFO` + `basic.auth.user.info=user:password` →
//!   `basic_auth_user_info` (`SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`);
//! - `bearer.auth.credentials.source=STATIC_TOKEN` + `bearer.auth.token` →
//!   `bearer_auth_token` (`SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN`);
//! - `schema.registry.ssl.truststore.location` → `ssl_ca_location` (PEM, as librdkafka's
//!   `ssl.ca.location`); `schema.registry.ssl.keystore.location` → `ssl_certificate_location`
//!   + `ssl_key_location` (PEM).

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigErrors, Secret, is_http_url, secret_opt};
use crate::tls::{ClientTls, ServerCheck};

const TABLE: &str = "service.schema_registry";

/// The `[service.schema_registry]` table.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RegistryAccess {
    /// `user:password`, sent as HTTP basic authentication.
    #[serde(default, deserialize_with = "secret_opt")]
    pub basic_auth_user_info: Option<Secret>,
    /// Sent as `Authorization: Bearer <token>`.
    #[serde(default, deserialize_with = "secret_opt")]
    pub bearer_auth_token: Option<Secret>,
    /// PEM CA bundle the registry's certificate must chain to; unset: the system's store.
    #[serde(default)]
    pub ssl_ca_location: Option<PathBuf>,
    /// PEM client certificate chain and key, for a registry that requires mutual TLS.
    #[serde(default)]
    pub ssl_certificate_location: Option<PathBuf>,
    #[serde(default)]
    pub ssl_key_location: Option<PathBuf>,
}

impl fmt::Debug for RegistryAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAccess")
            .field("basic_auth_user_info", &self.basic_auth_user_info)
            .field("bearer_auth_token", &self.bearer_auth_token)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .finish()
    }
}

/// The registry's base URLs, in the order they are tried, without a trailing `/`.
pub fn registry_urls(list: &str) -> Vec<String> {
    list.split(',')
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .collect()
}

/// Whether a `key.converter.`/`value.converter.` sub-key is one of Confluent's registry
/// credential or TLS properties, which Siphon takes from the service settings only.
pub(super) fn is_registry_access_key(sub: &str) -> bool {
    sub.starts_with("basic.auth.")
        || sub.starts_with("bearer.auth.")
        || sub.starts_with("schema.registry.ssl.")
        || sub.starts_with("schema.registry.basic.auth.")
}

/// The refusal of such a key: it would otherwise be accepted and not used.
pub(super) fn use_service_setting(sub: &str) -> String {
    let setting = if sub.contains("basic.auth") {
        "[service.schema_registry] basic_auth_user_info (SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO)"
    } else if sub.starts_with("bearer.auth.") {
        "[service.schema_registry] bearer_auth_token (SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN)"
    } else {
        "[service.schema_registry] ssl_ca_location, ssl_certificate_location and ssl_key_location"
    };
    format!(
        "is not a connector setting in Siphon: every connector shares the service's schema \
         registry client; set {setting} instead"
    )
}

/// Whether the URL's authority has a `user[:password]@` part.
fn has_user_info(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.contains('@')
}

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    None,
    Basic { user: String, password: Secret },
    Bearer(Secret),
}

impl RegistryAccess {
    /// The `SIPHON_SCHEMA_REGISTRY_*` overrides; set and empty clears a file setting.
    pub fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) {
        let secret = |v: String| (!v.is_empty()).then(|| Secret::new(v));
        let path = |v: String| (!v.is_empty()).then(|| PathBuf::from(v));
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO") {
            self.basic_auth_user_info = secret(v);
        }
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN") {
            self.bearer_auth_token = secret(v);
        }
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_SSL_CA_LOCATION") {
            self.ssl_ca_location = path(v);
        }
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_SSL_CERTIFICATE_LOCATION") {
            self.ssl_certificate_location = path(v);
        }
        if let Some(v) = get("SIPHON_SCHEMA_REGISTRY_SSL_KEY_LOCATION") {
            self.ssl_key_location = path(v);
        }
    }

    /// The credentials; call after `validate` (a malformed user info reads as none).
    pub fn auth(&self) -> RegistryAuth {
        if let Some(info) = &self.basic_auth_user_info
            && let Some((user, password)) = info.expose().split_once(':')
        {
            return RegistryAuth::Basic {
                user: user.to_owned(),
                password: Secret::new(password),
            };
        }
        match &self.bearer_auth_token {
            Some(t) => RegistryAuth::Bearer(t.clone()),
            None => RegistryAuth::None,
        }
    }

    fn sets_tls(&self) -> bool {
        self.ssl_ca_location.is_some()
            || self.ssl_certificate_location.is_some()
            || self.ssl_key_location.is_some()
    }

    /// The TLS settings for https:// URLs: chain and host name are always checked (Confluent's
    /// default `ssl.endpoint.identification.algorithm=https`).
    pub fn client_tls(&self) -> ClientTls {
        ClientTls {
            ca: self.ssl_ca_location.clone(),
            cert: self.ssl_certificate_location.clone(),
            key: self.ssl_key_location.clone(),
            key_password: None,
            check: ServerCheck::Full,
        }
    }

    /// Every problem of the URLs and of this table, each naming its key. The TLS files are
    /// read now, so a missing or bad file stops the start, naming it.
    pub fn validate(&self, urls: Option<&str>, problems: &mut ConfigErrors) {
        let list = urls.map(registry_urls).unwrap_or_default();
        if let Some(raw) = urls
            && list.is_empty()
        {
            problems.push(
                "service.schema_registry_url",
                format!("`{raw}` lists no URL"),
            );
        }
        for url in &list {
            if !is_http_url(url) {
                problems.push(
                    "service.schema_registry_url",
                    format!("`{url}` is not an http:// or https:// URL"),
                );
            } else if has_user_info(url) {
                // Credentials in the URL (Confluent's `basic.auth.credentials.source=URL`)
                // would be shown wherever the URL is; the value is not quoted for that reason.
                problems.push(
                    "service.schema_registry_url",
                    "a URL must not carry credentials (user:password@): set \
                     [service.schema_registry] basic_auth_user_info instead",
                );
            }
        }
        self.validate_auth(problems);
        if !self.sets_tls() {
            return;
        }
        if !list.iter().any(|u| u.starts_with("https://")) {
            // Accepting TLS files that no connection would use hides a mistake.
            problems.push(
                TABLE,
                "TLS files are set but no service.schema_registry_url is https://",
            );
            return;
        }
        if let Err(e) = crate::tls::client_config(&self.client_tls()) {
            let key = match &e {
                crate::tls::TlsError::Read { role, .. }
                | crate::tls::TlsError::NoCertificate { role, .. }
                | crate::tls::TlsError::BadCertificate { role, .. }
                    if *role == "CA file" =>
                {
                    "ssl_ca_location"
                }
                crate::tls::TlsError::BadKey { .. }
                | crate::tls::TlsError::KeyNeedsPassword { .. }
                | crate::tls::TlsError::Read {
                    role: "private key",
                    ..
                } => "ssl_key_location",
                _ => "ssl_certificate_location",
            };
            problems.push(format!("{TABLE}.{key}"), e.to_string());
        }
    }

    fn validate_auth(&self, problems: &mut ConfigErrors) {
        if let Some(info) = &self.basic_auth_user_info {
            let ok = info
                .expose()
                .split_once(':')
                .is_some_and(|(user, _)| !user.is_empty());
            if !ok {
                // The value is a secret: the message describes it without showing it.
                problems.push(
                    format!("{TABLE}.basic_auth_user_info"),
                    "must be `user:password` (Confluent's basic.auth.user.info)",
                );
            }
        }
        if self
            .bearer_auth_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            problems.push(format!("{TABLE}.bearer_auth_token"), "must not be empty");
        }
        if self.basic_auth_user_info.is_some() && self.bearer_auth_token.is_some() {
            problems.push(
                TABLE,
                "set basic_auth_user_info or bearer_auth_token, not both (a request carries \
                 one Authorization header)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(access: &RegistryAccess, urls: &str) -> Vec<String> {
        let mut p = ConfigErrors::default();
        access.validate(Some(urls), &mut p);
        p.0.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn several_urls_are_each_checked() {
        assert_eq!(
            registry_urls(" http://a:1/ ,https://b:2"),
            ["http://a:1", "https://b:2"]
        );
        let access = RegistryAccess::default();
        assert!(problems(&access, "http://a:1,https://b:2").is_empty());
        let p = problems(&access, "http://a:1,b:2");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("`b:2`"), "{p:?}");
        assert_eq!(problems(&access, " , ").len(), 1);
        let p = problems(&access, "https://u:s3cret@r:1,http://r:2/a@b");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("must not carry credentials") && !p[0].contains("s3cret"));
    }

    #[test]
    fn credentials_are_checked_without_showing_them() {
        let access = RegistryAccess {
            basic_auth_user_info: Some(Secret::new("no-colon-s3cret")),
            ..Default::default()
        };
        let p = problems(&access, "http://a:1");
        assert!(p[0].contains("basic_auth_user_info"), "{p:?}");
        assert!(!p[0].contains("s3cret") && !format!("{access:?}").contains("s3cret"));
        let both = RegistryAccess {
            basic_auth_user_info: Some(Secret::new("u:p")),
            bearer_auth_token: Some(Secret::new("t")),
            ..Default::default()
        };
        assert!(problems(&both, "http://a:1")[0].contains("not both"));
        let basic = RegistryAccess {
            basic_auth_user_info: Some(Secret::new("u:p:q")),
            ..Default::default()
        };
        assert_eq!(
            basic.auth(),
            RegistryAuth::Basic {
                user: "u".into(),
                password: Secret::new("p:q")
            }
        );
    }

    #[test]
    fn tls_files_need_an_https_url_and_are_read_naming_the_file() {
        let access = RegistryAccess {
            ssl_ca_location: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        assert!(problems(&access, "http://a:1")[0].contains("no service.schema_registry_url"));
        let p = problems(&access, "https://a:1");
        assert!(
            p[0].contains("ssl_ca_location") && p[0].contains("/nonexistent/ca.pem"),
            "{p:?}"
        );
    }

    #[test]
    fn connector_level_registry_credentials_point_to_the_service_setting() {
        assert!(is_registry_access_key("basic.auth.user.info"));
        assert!(is_registry_access_key(
            "schema.registry.ssl.truststore.location"
        ));
        assert!(!is_registry_access_key("schemas.enable"));
        assert!(use_service_setting("basic.auth.user.info").contains("basic_auth_user_info"));
        assert!(use_service_setting("bearer.auth.token").contains("bearer_auth_token"));
    }

    #[test]
    fn env_overrides_and_clears() {
        let mut access = RegistryAccess {
            bearer_auth_token: Some(Secret::new("file")),
            ..Default::default()
        };
        access.apply_env(&|k: &str| match k {
            "SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN" => Some(String::new()),
            "SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO" => Some("u:p".into()),
            "SIPHON_SCHEMA_REGISTRY_SSL_CA_LOCATION" => Some("/ca".into()),
            _ => None,
        });
        assert_eq!(access.bearer_auth_token, None);
        assert_eq!(access.ssl_ca_location, Some(PathBuf::from("/ca")));
        assert!(matches!(access.auth(), RegistryAuth::Basic { .. }));
    }
}
