//! Schema registry client: registers a schema under its subject (TopicNameStrategy) and
//! caches the id, so the hot path never calls the registry for a known schema.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use schema_registry_converter::async_impl::schema_registry::{SrSettings, post_schema};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};

use crate::config::{RegistryAccess, RegistryAuth, registry_urls};

/// Longest a registry request may take (connect and answer): a registry that accepts
/// connections and never answers makes the connector retry with this trace, instead of
/// stalling it in RUNNING.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Unreachable, or a 5xx: retried.
    #[error("schema registry unavailable while registering `{subject}`: {message}")]
    Unavailable { subject: String, message: String },
    /// 409: the new schema breaks the subject's compatibility rule.
    #[error("schema registry refused an incompatible schema for `{subject}`: {message}")]
    Incompatible { subject: String, message: String },
    #[error("schema registry refused the schema for `{subject}`: {message}")]
    Rejected { subject: String, message: String },
    #[error("schema registry client for {url}: {message}")]
    Client { url: String, message: String },
    /// 401/403: the credentials are wrong or missing; retrying sends the same ones.
    #[error(
        "schema registry at {url} refused authentication ({message}): check \
         [service.schema_registry] basic_auth_user_info or bearer_auth_token \
         (SIPHON_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO / SIPHON_SCHEMA_REGISTRY_BEARER_AUTH_TOKEN)"
    )]
    Authentication { url: String, message: String },
    /// The TLS handshake failed (an untrusted or misnamed certificate, a refused client
    /// certificate, TLS spoken to a plain HTTP port): retrying meets the same certificate.
    #[error(
        "TLS with the schema registry at {url} failed, its certificate or ours was refused \
         ({message}): check [service.schema_registry] ssl_ca_location \
         (SIPHON_SCHEMA_REGISTRY_SSL_CA_LOCATION), the client certificate and the URL"
    )]
    Certificate { url: String, message: String },
}

impl RegistryError {
    pub fn is_transient(&self) -> bool {
        matches!(self, RegistryError::Unavailable { .. })
    }

    fn from_src(subject: &str, url: &str, e: &SRCError) -> Self {
        let message = match &e.cause {
            Some(cause) => format!("{} ({cause})", e.error),
            None => e.error.clone(),
        };
        let url = url.to_owned();
        if let Some(detail) = tls_failure(e) {
            return RegistryError::Certificate {
                url,
                message: detail,
            };
        }
        if http_status(&message).is_some_and(|s| s == 401 || s == 403) {
            return RegistryError::Authentication { url, message };
        }
        // reqwest's own message names only the request URL; the cause chain says why.
        let message = match chain(e) {
            Some(why) if !message.contains(&why) => format!("{message}: {why}"),
            _ => message,
        };
        let subject = subject.to_owned();
        // The client retries only 502 and 503; every 5xx (and a timeout) is the registry's
        // trouble, not the schema's.
        if e.retriable || http_status(&message).is_some_and(|s| (500..600).contains(&s)) {
            RegistryError::Unavailable { subject, message }
        } else if message.contains("409") {
            RegistryError::Incompatible { subject, message }
        } else {
            RegistryError::Rejected { subject, message }
        }
    }
}

/// The sources below the client's error, joined (hyper, io, rustls), or `None` without any.
fn chain(e: &SRCError) -> Option<String> {
    let mut parts = Vec::new();
    let mut next = std::error::Error::source(e).and_then(|s| s.source());
    while let Some(err) = next {
        parts.push(err.to_string());
        next = err.source();
    }
    (!parts.is_empty()).then(|| parts.join(": "))
}

/// The TLS failure somewhere in the cause chain, as text. `io::Error` hides the error it
/// wraps from `source()` (it returns that error's source), so it is unwrapped by hand; the
/// connector layers between reqwest and rustls vary, so rustls's own wording is the fallback.
fn tls_failure(e: &SRCError) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return Some(tls.to_string());
            }
            if is_rustls_text(&inner.to_string()) {
                return Some(inner.to_string());
            }
        }
        if err.source().is_none() && is_rustls_text(&err.to_string()) {
            return Some(err.to_string());
        }
        next = err.source();
    }
    None
}

/// rustls's messages for a refused certificate, a handshake alert or a non-TLS peer.
fn is_rustls_text(text: &str) -> bool {
    [
        "invalid peer certificate",
        "peer sent no certificates",
        "received fatal alert",
        "received corrupt message",
        "peer is incompatible",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// The HTTP status in the client's "failed with status 500 Internal Server Error".
fn http_status(message: &str) -> Option<u16> {
    let rest = message.split("with status ").nth(1)?;
    rest.get(..3)?.parse().ok()
}

pub struct Registry {
    settings: SrSettings,
    /// The URLs, for messages (the client tries them in order).
    urls: String,
    /// (subject, schema text) → id.
    ids: Mutex<HashMap<(String, String), u32>>,
}

impl Registry {
    /// A client for `urls` (one or several, comma-separated) with `access`'s credentials and
    /// TLS files.
    pub fn new(urls: &str, access: &RegistryAccess) -> Result<Self, RegistryError> {
        let list = registry_urls(urls);
        let shown = list.join(", ");
        let client_error = |message: String| RegistryError::Client {
            url: shown.clone(),
            message,
        };
        let (first, rest) = list
            .split_first()
            .ok_or_else(|| client_error("no URL is set".into()))?;
        let mut builder = SrSettings::new_builder(first.clone());
        for url in rest {
            builder.add_url(url.clone());
        }
        builder.set_timeout(REQUEST_TIMEOUT);
        match access.auth() {
            RegistryAuth::None => {}
            RegistryAuth::Basic { user, password } => {
                builder.set_basic_authorization(&user, Some(password.expose()));
            }
            RegistryAuth::Bearer(token) => {
                builder.set_token_authorization(token.expose());
            }
        }
        let mut http = reqwest::Client::builder();
        if list.iter().any(|u| u.starts_with("https://")) {
            // Siphon's rustls configuration (ring, the CA file, the client certificate),
            // not reqwest's own.
            let tls = crate::tls::client_config(&access.client_tls())
                .map_err(|e| client_error(e.to_string()))?;
            http = http.tls_backend_preconfigured(tls);
        }
        let settings = builder
            .build_with(http)
            .map_err(|e| client_error(e.to_string()))?;
        Ok(Registry {
            settings,
            urls: shown,
            ids: Mutex::new(HashMap::new()),
        })
    }

    /// The id of `schema` under `subject`, registering it if new (registering an existing
    /// schema returns its id, so this is idempotent).
    pub async fn id(&self, subject: &str, schema: &str) -> Result<u32, RegistryError> {
        let key = (subject.to_owned(), schema.to_owned());
        if let Some(id) = self.cached(&key) {
            return Ok(id);
        }
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema.to_owned());
        let registered = post_schema(&self.settings, subject.to_owned(), supplied)
            .await
            .map_err(|e| RegistryError::from_src(subject, &self.urls, &e))?;
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, registered.id);
        Ok(registered.id)
    }

    fn cached(&self, key: &(String, String)) -> Option<u32> {
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_registry_errors() {
        let e = |retriable: bool, error: &str| {
            let mut e = SRCError::non_retryable_without_cause(error);
            e.cause = Some("boom".into());
            e.retriable = retriable;
            e
        };
        assert!(
            RegistryError::from_src("s", "http://r", &e(true, "http call failed")).is_transient()
        );
        let inc = RegistryError::from_src(
            "t-value",
            "http://r",
            &e(false, "failed with status 409 Conflict"),
        );
        assert!(matches!(inc, RegistryError::Incompatible { .. }));
        assert!(inc.to_string().contains("t-value") && inc.to_string().contains("boom"));
        assert!(matches!(
            RegistryError::from_src(
                "s",
                "http://r",
                &e(false, "failed with status 422 Unprocessable Entity")
            ),
            RegistryError::Rejected { .. }
        ));
        for status in ["500 Internal Server Error", "504 Gateway Timeout"] {
            let err = RegistryError::from_src(
                "s",
                "http://r",
                &e(false, &format!("failed with status {status}")),
            );
            assert!(err.is_transient(), "{status}: {err}");
        }
        for status in ["401 Unauthorized", "403 Forbidden"] {
            let err = RegistryError::from_src(
                "s",
                "https://r:1",
                &e(false, &format!("failed with status {status}")),
            );
            assert!(matches!(err, RegistryError::Authentication { .. }), "{err}");
            assert!(!err.is_transient());
            let text = err.to_string();
            assert!(
                text.contains("authentication") && text.contains("https://r:1"),
                "{text}"
            );
        }
    }

    /// https:// to a port that speaks plain HTTP: the handshake fails, definitely, naming
    /// TLS and the URL (retrying would meet the same server).
    #[tokio::test]
    async fn a_failed_handshake_is_definite_and_names_the_url() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut conn, _)) = listener.accept().await {
                let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        // Any CA will do (the handshake fails before any certificate is seen); one of our
        // own, as the system store may be empty here.
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(&ca, cert.cert.pem()).unwrap();
        let access = RegistryAccess {
            ssl_ca_location: Some(ca),
            ..Default::default()
        };
        let registry = Registry::new(&url, &access).unwrap();
        let err = registry.id("t-value", r#""string""#).await.unwrap_err();
        assert!(matches!(err, RegistryError::Certificate { .. }), "{err}");
        assert!(!err.is_transient());
        assert!(err.to_string().contains(&url), "{err}");
    }

    /// A registry that accepts the connection and never answers is a transient error within
    /// the request timeout, not a stall.
    #[tokio::test]
    async fn a_silent_registry_times_out_as_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let registry = Registry::new(&url, &RegistryAccess::default()).unwrap();
        let started = std::time::Instant::now();
        let err = registry.id("t-value", r#""string""#).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("t-value"), "{err}");
        assert!(started.elapsed() < REQUEST_TIMEOUT + Duration::from_secs(5));
        drop(listener);
    }
}
