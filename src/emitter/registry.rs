//! Schema registry client: registers a schema under its subject (TopicNameStrategy) and
//! caches the id, so the hot path never calls the registry for a known schema.

use std::collections::HashMap;
use std::sync::Mutex;

use schema_registry_converter::async_impl::schema_registry::{SrSettings, post_schema};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};

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
        if e.retriable {
            RegistryError::Unavailable { subject, message }
        } else if message.contains("409") {
            RegistryError::Incompatible { subject, message }
        } else {
            RegistryError::Rejected { subject, message }
        }
    }
}

pub struct Registry {
    settings: SrSettings,
    /// (subject, schema text) → id.
    ids: Mutex<HashMap<(String, String), u32>>,
}

impl Registry {
    pub fn new(url: &str) -> Self {
        Registry {
            settings: SrSettings::new(url.trim_end_matches('/').to_owned()),
            ids: Mutex::new(HashMap::new()),
        }
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
            RegistryError::from_src("s", &e(false, "status 422")),
            RegistryError::Rejected { .. }
        ));
    }
}
