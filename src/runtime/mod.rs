//! Connector runtime: one supervised task per connector (reader → bounded channel → emitter →
//! ack), with Kafka Connect's states. Transient errors restart a connector from its committed
//! position with capped exponential backoff; definite ones set FAILED with a trace. Pause,
//! resume and the REST API arrive with issue #5.

mod backoff;
mod channel;
mod connector;
mod status;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use backoff::backoff_delay;
pub use channel::{BatchSender, Closed};
pub use connector::{TaskError, committed_position};
pub use status::{ConnectorState, ConnectorStatus};

use crate::config::{ConnectorConfig, ServiceConfig};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("connector `{0}` already exists")]
    AlreadyExists(String),
}

struct Running {
    status: Arc<Mutex<ConnectorStatus>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Holds every connector of this process and its status.
pub struct Runtime {
    service: Arc<ServiceConfig>,
    connectors: Mutex<BTreeMap<String, Running>>,
}

impl Runtime {
    pub fn new(service: ServiceConfig) -> Self {
        Runtime {
            service: Arc::new(service),
            connectors: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn service(&self) -> &ServiceConfig {
        &self.service
    }

    /// Registers and starts a connector (must be called inside a Tokio runtime).
    pub fn start(&self, config: ConnectorConfig) -> Result<(), RuntimeError> {
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if connectors.contains_key(&config.name) {
            return Err(RuntimeError::AlreadyExists(config.name));
        }
        let status = Arc::new(Mutex::new(ConnectorStatus::new(ConnectorState::Unassigned)));
        let (stop, stop_rx) = watch::channel(false);
        let name = config.name.clone();
        let task = tokio::spawn(connector::supervise(
            Arc::new(config),
            Arc::clone(&self.service),
            Arc::clone(&status),
            stop_rx,
        ));
        connectors.insert(name, Running { status, stop, task });
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
            .map(|(name, r)| {
                let s = r
                    .status
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                (name.clone(), s)
            })
            .collect()
    }

    /// Runs until `shutdown` resolves, then stops every connector, letting each commit what
    /// it has in flight (bounded by a timeout).
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        info!("shutting down");
        let running: Vec<(String, Running)> = std::mem::take(
            &mut *self
                .connectors
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        for (_, r) in &running {
            let _ = r.stop.send(true);
        }
        for (name, r) in running {
            match tokio::time::timeout(Duration::from_secs(30), r.task).await {
                Ok(_) => info!(connector = %name, "connector stopped"),
                Err(_) => warn!(connector = %name, "connector did not stop within 30 s"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, class: &str, extra: &[(&str, &str)]) -> ConnectorConfig {
        let mut map: BTreeMap<String, String> = [
            ("connector.class", class),
            ("database.hostname", "127.0.0.1"),
            ("database.user", "u"),
            ("topic.prefix", "p"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if class == "postgres" {
            map.insert("database.dbname".into(), "d".into());
        } else {
            map.insert("database.server.id".into(), "5".into());
        }
        ConnectorConfig::from_map(name, &map).unwrap()
    }

    async fn wait_for_state(rt: &Runtime, name: &str, state: ConnectorState) -> ConnectorStatus {
        for _ in 0..500 {
            let s = rt.statuses()[name].clone();
            if s.state == state {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name} never reached {state}: {:?}", rt.statuses()[name]);
    }

    #[tokio::test]
    async fn a_class_without_reader_fails_with_a_trace() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.start(config("a", "mysql", &[])).unwrap();
        let s = wait_for_state(&rt, "a", ConnectorState::Failed).await;
        assert!(
            s.trace.as_deref().unwrap().contains("no mysql reader"),
            "{s:?}"
        );
    }

    #[tokio::test]
    async fn unreachable_database_is_transient_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let service = ServiceConfig {
            data_dir: dir.path().to_owned(),
            ..ServiceConfig::default()
        };
        let rt = Runtime::new(service);
        // Nothing listens on port 1: connection refused, which is worth retrying.
        rt.start(config("pg", "postgres", &[("database.port", "1")]))
            .unwrap();
        wait_for_state(&rt, "pg", ConnectorState::Restarting).await;
        rt.run_until(async {}).await;
    }

    #[tokio::test]
    async fn names_are_unique() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.start(config("a", "mysql", &[])).unwrap();
        assert!(
            matches!(rt.start(config("a", "mysql", &[])), Err(RuntimeError::AlreadyExists(n)) if n == "a")
        );
    }

    #[tokio::test]
    async fn run_until_returns_on_shutdown() {
        let rt = Runtime::new(ServiceConfig::default());
        rt.run_until(async {}).await;
        assert!(rt.statuses().is_empty());
    }
}
