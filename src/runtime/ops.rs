//! The connector operations of the REST API. Each validates and persists before it touches
//! the running connector, so a failure leaves everything as it was.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use tracing::{info, warn};

use super::status::{ConnectorInfo, HIDDEN, StatusInfo, TaskId, hide_secrets};
use super::{
    ConnectorState, Entry, MetricsSnapshot, Runtime, RuntimeError, TargetState, halt, lock,
    validate_config,
};
use crate::config::is_secret_key;
use crate::offsets::FileOffsetStore;

impl Runtime {
    pub(super) async fn begin(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, RuntimeError> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(RuntimeError::ShuttingDown);
        }
        let guard = self.ops.lock().await;
        if self.closing.load(Ordering::SeqCst) {
            return Err(RuntimeError::ShuttingDown);
        }
        Ok(guard)
    }

    pub(super) fn with_entry<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Entry) -> T,
    ) -> Result<T, RuntimeError> {
        lock(&self.entries)
            .get(name)
            .map(f)
            .ok_or_else(|| RuntimeError::NotFound(name.to_owned()))
    }

    fn info_of(&self, entry: &Entry) -> ConnectorInfo {
        let tasks = if entry.target == TargetState::Stopped {
            Vec::new()
        } else {
            vec![TaskId {
                connector: entry.config.name.clone(),
                task: 0,
            }]
        };
        ConnectorInfo {
            name: entry.config.name.clone(),
            config: hide_secrets(&entry.raw),
            tasks,
            kind: "source",
        }
    }

    /// `POST /connectors`: validates, persists, then starts. 409 semantics when it exists.
    pub async fn create(
        &self,
        name: &str,
        mut raw: BTreeMap<String, String>,
    ) -> Result<ConnectorInfo, RuntimeError> {
        let _ops = self.begin().await?;
        if lock(&self.entries).contains_key(name) {
            return Err(RuntimeError::AlreadyExists(name.to_owned()));
        }
        // Kafka Connect keeps the name in the config map too.
        raw.entry("name".to_owned())
            .or_insert_with(|| name.to_owned());
        let config = validate_config(&self.service, name, &raw).map_err(RuntimeError::Invalid)?;
        let mut entry = Entry::new(raw, config, TargetState::Running, true);
        self.store.put(&entry.stored()).await?;
        self.spawn(&mut entry, ConnectorState::Unassigned);
        let info = self.info_of(&entry);
        lock(&self.entries).insert(name.to_owned(), entry);
        info!(connector = %name, "connector created");
        Ok(info)
    }

    /// `PUT /connectors/{name}/config`: creates the connector, or replaces its config and
    /// restarts it (when it is meant to run). Returns whether it was created. A secret shown
    /// as `[hidden]` and sent back unchanged keeps its current value, unless the update
    /// changes where it is sent (400, see `secret_guard`).
    pub async fn put_config(
        &self,
        name: &str,
        mut raw: BTreeMap<String, String>,
    ) -> Result<(bool, ConnectorInfo), RuntimeError> {
        let _ops = self.begin().await?;
        let existing = lock(&self.entries)
            .get(name)
            .map(|e| (e.raw.clone(), e.target));
        raw.entry("name".to_owned())
            .or_insert_with(|| name.to_owned());
        if let Some((old, _)) = &existing {
            if let Some(msg) = super::secret_guard::redirected_secret(old, &raw) {
                return Err(RuntimeError::BadRequest(msg));
            }
            for (key, value) in raw.iter_mut() {
                if is_secret_key(key)
                    && value == HIDDEN
                    && let Some(v) = old.get(key)
                {
                    value.clone_from(v);
                }
            }
        }
        let config = validate_config(&self.service, name, &raw).map_err(RuntimeError::Invalid)?;
        let target = existing.as_ref().map_or(TargetState::Running, |(_, t)| *t);
        let mut entry = Entry::new(raw, config, target, true);
        self.store.put(&entry.stored()).await?;
        let old = lock(&self.entries).remove(name);
        if let Some(mut old) = old {
            // Counters and topics belong to the connector, not to one config of it.
            entry.metrics = old.metrics.clone();
            if let Some(task) = old.task.take() {
                halt(task).await;
            }
        }
        if entry.target == TargetState::Running {
            let initial = if existing.is_some() {
                ConnectorState::Restarting
            } else {
                ConnectorState::Unassigned
            };
            self.spawn(&mut entry, initial);
        }
        let info = self.info_of(&entry);
        lock(&self.entries).insert(name.to_owned(), entry);
        info!(connector = %name, created = existing.is_none(), "connector config written");
        Ok((existing.is_none(), info))
    }

    /// Moves the connector to `target`: persists it, stops the task for PAUSED and STOPPED,
    /// starts it (from the committed position) for RUNNING.
    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), RuntimeError> {
        let _ops = self.begin().await?;
        let (persisted, mut stored, current) =
            self.with_entry(name, |e| (e.persisted, e.stored(), e.target))?;
        if current == target {
            return Ok(());
        }
        if persisted {
            stored.state = target;
            self.store.put(&stored).await?;
        }
        let task = {
            let mut entries = lock(&self.entries);
            let Some(entry) = entries.get_mut(name) else {
                return Err(RuntimeError::NotFound(name.to_owned()));
            };
            entry.target = target;
            entry.task.take()
        };
        if let Some(task) = task {
            halt(task).await;
        }
        if target == TargetState::Running {
            let mut entries = lock(&self.entries);
            if let Some(entry) = entries.get_mut(name) {
                self.spawn(entry, ConnectorState::Unassigned);
            }
        }
        info!(connector = %name, ?target, "connector target state changed");
        Ok(())
    }

    /// `PUT /connectors/{name}/pause`: the task stops (committing what it has in flight);
    /// the connector stays registered and reports PAUSED.
    pub async fn pause(&self, name: &str) -> Result<(), RuntimeError> {
        self.set_target(name, TargetState::Paused).await
    }

    /// `PUT /connectors/{name}/resume`: a PAUSED or STOPPED connector runs again from its
    /// committed position.
    pub async fn resume(&self, name: &str) -> Result<(), RuntimeError> {
        self.set_target(name, TargetState::Running).await
    }

    /// `PUT /connectors/{name}/stop` (KIP-875): the task stops, the config is kept, and the
    /// offsets may then be altered or reset.
    pub async fn stop(&self, name: &str) -> Result<(), RuntimeError> {
        self.set_target(name, TargetState::Stopped).await
    }

    /// `POST /connectors/{name}/restart`: restarts the connector's one task from its
    /// committed position. With `only_failed`, only a FAILED connector restarts. A paused or
    /// stopped connector is left as it is. Returns whether it restarted, and the status
    /// (restarted parts RESTARTING, as Kafka Connect shows them).
    pub async fn restart(
        &self,
        name: &str,
        only_failed: bool,
    ) -> Result<(bool, StatusInfo), RuntimeError> {
        let _ops = self.begin().await?;
        let (status, target) = self.with_entry(name, |e| (e.reported(), e.target))?;
        let wanted = target == TargetState::Running
            && (!only_failed || status.state == ConnectorState::Failed);
        if wanted {
            self.restart_task_now(name).await;
            info!(connector = %name, "connector restarted");
            let status = super::ConnectorStatus::new(ConnectorState::Restarting);
            return Ok((true, StatusInfo::new(name, &status, &self.worker_id)));
        }
        Ok((false, StatusInfo::new(name, &status, &self.worker_id)))
    }

    /// `POST /connectors/{name}/tasks/{task}/restart`.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<(), RuntimeError> {
        let _ops = self.begin().await?;
        let target = self.with_entry(name, |e| e.target)?;
        if task != 0 {
            return Err(RuntimeError::UnknownTask {
                name: name.to_owned(),
                task,
            });
        }
        if target == TargetState::Running {
            self.restart_task_now(name).await;
            info!(connector = %name, "task 0 restarted");
        }
        Ok(())
    }

    async fn restart_task_now(&self, name: &str) {
        let task = lock(&self.entries)
            .get_mut(name)
            .and_then(|e| e.task.take());
        if let Some(task) = task {
            halt(task).await;
        }
        if let Some(entry) = lock(&self.entries).get_mut(name) {
            self.spawn(entry, ConnectorState::Restarting);
        }
    }

    /// `DELETE /connectors/{name}`: stops the task and forgets the connector; in embedded
    /// mode its offsets file goes too (Kafka offsets stay, as in Kafka Connect: reset them
    /// first with `DELETE /connectors/{name}/offsets` to start over under the same name).
    pub async fn delete(&self, name: &str) -> Result<(), RuntimeError> {
        let _ops = self.begin().await?;
        self.with_entry(name, |_| ())?;
        self.store.remove(name).await?;
        let entry = lock(&self.entries).remove(name);
        if let Some(task) = entry.and_then(|mut e| e.task.take()) {
            halt(task).await;
        }
        if self.service.kafka.is_none()
            && let Err(e) = FileOffsetStore::new(&self.service.data_dir).delete(name)
        {
            warn!(connector = %name, error = %e, "connector deleted, but not its offsets file");
        }
        info!(connector = %name, "connector deleted");
        Ok(())
    }

    /// Connector names, sorted.
    pub fn names(&self) -> Vec<String> {
        lock(&self.entries).keys().cloned().collect()
    }

    /// `GET /connectors/{name}/config`, secrets hidden.
    pub fn config(&self, name: &str) -> Result<BTreeMap<String, String>, RuntimeError> {
        self.with_entry(name, |e| hide_secrets(&e.raw))
    }

    /// `GET /connectors/{name}`.
    pub fn info(&self, name: &str) -> Result<ConnectorInfo, RuntimeError> {
        self.with_entry(name, |e| self.info_of(e))
    }

    /// `GET /connectors/{name}/status`.
    pub fn status(&self, name: &str) -> Result<StatusInfo, RuntimeError> {
        self.with_entry(name, |e| {
            StatusInfo::new(name, &e.reported(), &self.worker_id)
        })
    }

    /// `GET /connectors/{name}/topics`: the topics the connector wrote since it was created
    /// or its topics were reset (counted in this process; not kept across restarts).
    pub fn topics(&self, name: &str) -> Result<Vec<String>, RuntimeError> {
        self.with_entry(name, |e| e.metrics.topics())
    }

    /// `PUT /connectors/{name}/topics/reset`.
    pub fn reset_topics(&self, name: &str) -> Result<(), RuntimeError> {
        self.with_entry(name, |e| e.metrics.reset_topics())
    }

    /// Every connector's reported state and metrics, by name.
    pub fn metrics(&self) -> Vec<(String, ConnectorState, MetricsSnapshot)> {
        lock(&self.entries)
            .iter()
            .map(|(n, e)| (n.clone(), e.reported().state, e.metrics.snapshot()))
            .collect()
    }
}
