//! Schema registry client: registers a schema under its subject (TopicNameStrategy) and
//! caches the id, so the hot path never calls the registry for a known schema.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use schema_registry_converter::async_impl::schema_registry::{SrSettings, post_schema};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};

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
}

impl RegistryError {
    pub fn is_transient(&self) -> bool {
        matches!(self, RegistryError::Unavailable { .. })
    }

    fn from_src(subject: &str, e: &SRCError) -> Self {
        let message = match &e.cause {
            Some(cause) => format!("{} ({cause})", e.error),
            None => e.error.clone(),
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

/// The HTTP status in the client's "failed with status 500 Internal Server Error".
fn http_status(message: &str) -> Option<u16> {
    let rest = message.split("with status ").nth(1)?;
    rest.get(..3)?.parse().ok()
}

pub struct Registry {
    settings: SrSettings,
    /// (subject, schema text) → id.
    ids: Mutex<HashMap<(String, String), u32>>,
}

impl Registry {
    pub fn new(url: &str) -> Result<Self, RegistryError> {
        let url = url.trim_end_matches('/').to_owned();
        let settings = SrSettings::new_builder(url.clone())
            .set_timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| RegistryError::Client {
                url,
                message: e.to_string(),
            })?;
        Ok(Registry {
            settings,
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
            .map_err(|e| RegistryError::from_src(subject, &e))?;
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
        assert!(RegistryError::from_src("s", &e(true, "http call failed")).is_transient());
        let inc = RegistryError::from_src("t-value", &e(false, "failed with status 409 Conflict"));
        assert!(matches!(inc, RegistryError::Incompatible { .. }));
        assert!(inc.to_string().contains("t-value") && inc.to_string().contains("boom"));
        assert!(matches!(
            RegistryError::from_src(
                "s",
                &e(false, "failed with status 422 Unprocessable Entity")
            ),
            RegistryError::Rejected { .. }
        ));
        for status in ["500 Internal Server Error", "504 Gateway Timeout"] {
            let err =
                RegistryError::from_src("s", &e(false, &format!("failed with status {status}")));
            assert!(err.is_transient(), "{status}: {err}");
        }
    }

    /// A registry that accepts the connection and never answers is a transient error within
    /// the request timeout, not a stall.
    #[tokio::test]
    async fn a_silent_registry_times_out_as_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let registry = Registry::new(&url).unwrap();
        let started = std::time::Instant::now();
        let err = registry.id("t-value", r#""string""#).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains("t-value"), "{err}");
        assert!(started.elapsed() < REQUEST_TIMEOUT + Duration::from_secs(5));
        drop(listener);
    }
}
