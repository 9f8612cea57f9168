//! Connector runtime: one supervised task per connector (reader → bounded channel → emitter →
//! ack), with Kafka Connect's states.
//!
//! This first version registers connectors, reports their state and shuts down cleanly; the
//! reader and emitter tasks it will supervise arrive with issues #3 and #4, retries and
//! pause/resume with issue #5. Until a reader exists for a class, its connectors are FAILED
//! with a trace that says so, rather than pretending to run.

mod backoff;
mod channel;
mod status;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::{info, info_span, warn};

pub use backoff::backoff_delay;
pub use channel::{BatchSender, Closed};
pub use status::{ConnectorState, ConnectorStatus};

use crate::config::{ConnectorClass, ConnectorConfig, ServiceConfig};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("connector `{0}` already exists")]
    AlreadyExists(String),
    #[error("no {class} reader in this build of siphon yet")]
    ReaderUnavailable { class: &'static str },
}

impl RuntimeError {
    /// Transient errors are retried with backoff; definite ones fail the connector.
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Holds every connector of this process and its status.
pub struct Runtime {
    service: ServiceConfig,
    connectors: Mutex<BTreeMap<String, Arc<Mutex<ConnectorStatus>>>>,
}

impl Runtime {
    pub fn new(service: ServiceConfig) -> Self {
        Runtime {
            service,
            connectors: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn service(&self) -> &ServiceConfig {
        &self.service
    }

    /// Registers and starts a connector.
    pub fn start(&self, config: ConnectorConfig) -> Result<(), RuntimeError> {
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if connectors.contains_key(&config.name) {
            return Err(RuntimeError::AlreadyExists(config.name));
        }
        let span = info_span!("connector", name = %config.name, class = config.class.name());
        let _entered = span.enter();
        let status = match reader_for(config.class) {
            Ok(()) => ConnectorStatus::new(ConnectorState::Running),
            Err(e) => {
                warn!(error = %e, "connector failed to start");
                ConnectorStatus::failed(&e, "this connector class is not implemented yet")
            }
        };
        info!(state = %status.state, "connector registered");
        connectors.insert(config.name, Arc::new(Mutex::new(status)));
        Ok(())
    }

    /// The status of every connector, by name.
    pub fn statuses(&self) -> BTreeMap<String, ConnectorStatus> {
        let connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connectors
            .iter()
            .map(|(name, s)| {
                let s = s.lock().unwrap_or_else(PoisonError::into_inner).clone();
                (name.clone(), s)
            })
            .collect()
    }

    /// Runs until `shutdown` resolves, then stops every connector.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        info!("shutting down");
        let connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (name, status) in connectors.iter() {
            let mut status = status.lock().unwrap_or_else(PoisonError::into_inner);
            if status.state != ConnectorState::Failed {
                status.state = ConnectorState::Stopped;
            }
            info!(connector = %name, state = %status.state, "connector stopped");
        }
    }
}

/// The reader for a connector class; none is built yet (issues #3 and #6).
fn reader_for(class: ConnectorClass) -> Result<(), RuntimeError> {
    Err(RuntimeError::ReaderUnavailable {
        class: class.name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(name: &str) -> ConnectorConfig {
        let map = [
            ("connector.class", "postgres"),
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        ConnectorConfig::from_map(name, &map).unwrap()
    }

    #[test]
    fn a_class_without_reader_fails_with_a_trace() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.start(pg("a")).unwrap();
        let s = &rt.statuses()["a"];
        assert_eq!(s.state, ConnectorState::Failed);
        assert!(s.trace.as_deref().unwrap().contains("no postgresql reader"));
    }

    #[test]
    fn names_are_unique() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.start(pg("a")).unwrap();
        assert!(matches!(rt.start(pg("a")), Err(RuntimeError::AlreadyExists(n)) if n == "a"));
    }

    #[tokio::test]
    async fn run_until_returns_on_shutdown() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.run_until(async {}).await;
        assert!(rt.statuses().is_empty());
    }
}
