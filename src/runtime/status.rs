//! Connector states as Kafka Connect reports them, the state a user asked for, and the JSON
//! shapes of `GET /connectors/{name}` and `GET /connectors/{name}/status`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::health::Health;
use crate::config::is_secret_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConnectorState {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

impl fmt::Display for ConnectorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectorState::Unassigned => "UNASSIGNED",
            ConnectorState::Running => "RUNNING",
            ConnectorState::Paused => "PAUSED",
            ConnectorState::Stopped => "STOPPED",
            ConnectorState::Failed => "FAILED",
            ConnectorState::Restarting => "RESTARTING",
        })
    }
}

/// The state and, when FAILED or RESTARTING, the error with a hint (Kafka Connect's
/// `trace`), with the connector's degraded periods.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectorStatus {
    pub state: ConnectorState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    #[serde(skip)]
    pub health: Health,
}

impl ConnectorStatus {
    pub fn new(state: ConnectorState) -> Self {
        ConnectorStatus {
            state,
            trace: None,
            health: Health::default(),
        }
    }

    pub fn failed(error: &dyn std::error::Error, hint: &str) -> Self {
        ConnectorStatus {
            state: ConnectorState::Failed,
            trace: Some(format!("{error}\nhint: {hint}")),
            health: Health::default(),
        }
    }

    /// The trace as the API shows it: while RESTARTING, with how long the connector has been
    /// retrying and when it tries next.
    pub fn shown_trace(&self, now: Instant) -> Option<String> {
        let retrying = match self.state {
            ConnectorState::Restarting => self.health.describe(now),
            _ => None,
        };
        match (&self.trace, retrying) {
            (Some(t), Some(r)) => Some(format!("{t}\n{r}")),
            (None, Some(r)) => Some(r),
            (t, None) => t.clone(),
        }
    }
}

/// What the user asked the connector to be (Kafka Connect's target state); persisted with
/// the config so a paused or stopped connector stays so across a restart of siphon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    #[default]
    Running,
    Paused,
    Stopped,
}

/// Kafka Connect shows secrets as this.
pub const HIDDEN: &str = "[hidden]";

/// The config map as the API shows it: every secret value replaced by `[hidden]`.
pub fn hide_secrets(map: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| {
            let v = if is_secret_key(k) { HIDDEN } else { v.as_str() };
            (k.clone(), v.to_owned())
        })
        .collect()
}

/// A task's id, as `GET /connectors/{name}` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskId {
    pub connector: String,
    pub task: u32,
}

/// `GET /connectors/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorInfo {
    pub name: String,
    /// Secrets hidden.
    pub config: BTreeMap<String, String>,
    pub tasks: Vec<TaskId>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The state of the connector or of one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateInfo {
    pub state: ConnectorState,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskStateInfo {
    pub id: u32,
    #[serde(flatten)]
    pub state: StateInfo,
}

/// `GET /connectors/{name}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusInfo {
    pub name: String,
    pub connector: StateInfo,
    pub tasks: Vec<TaskStateInfo>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl StatusInfo {
    /// One connector with one task (Siphon runs one reader per connector). The connector
    /// reports its task's state, so a client that only looks at `connector.state` sees a
    /// failure too; a STOPPED connector has no tasks, as in Kafka Connect.
    pub fn new(name: &str, status: &ConnectorStatus, worker_id: &str) -> Self {
        let state = StateInfo {
            state: status.state,
            worker_id: worker_id.to_owned(),
            trace: status.shown_trace(Instant::now()),
        };
        let tasks = if status.state == ConnectorState::Stopped {
            Vec::new()
        } else {
            vec![TaskStateInfo {
                id: 0,
                state: state.clone(),
            }]
        };
        StatusInfo {
            name: name.to_owned(),
            connector: state,
            tasks,
            kind: "source",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_has_kafka_connects_shape() {
        let s = StatusInfo::new(
            "inv",
            &ConnectorStatus {
                state: ConnectorState::Failed,
                trace: Some("boom".into()),
                health: Health::default(),
            },
            "h:8083",
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({
                "name": "inv",
                "connector": {"state": "FAILED", "worker_id": "h:8083", "trace": "boom"},
                "tasks": [{"id": 0, "state": "FAILED", "worker_id": "h:8083", "trace": "boom"}],
                "type": "source"
            })
        );
        let stopped = StatusInfo::new("inv", &ConnectorStatus::new(ConnectorState::Stopped), "h");
        assert!(stopped.tasks.is_empty());
    }

    #[test]
    fn a_restarting_connector_says_for_how_long() {
        let now = Instant::now();
        let mut status = ConnectorStatus::new(ConnectorState::Restarting);
        status.trace = Some("broker down\nhint: check the broker".into());
        status.health.error(now, std::time::SystemTime::UNIX_EPOCH);
        status
            .health
            .next_attempt_in(now, std::time::Duration::from_secs(2));
        assert_eq!(
            status.shown_trace(now).unwrap(),
            "broker down\nhint: check the broker\nretrying for 0 s since 1970-01-01T00:00:00Z \
             (1 error); next restart in 2 s"
        );
        // Once RUNNING, the trace is gone even though the period is kept.
        status.state = ConnectorState::Running;
        status.trace = None;
        assert_eq!(status.shown_trace(now), None);
    }

    #[test]
    fn secrets_are_hidden() {
        let map: BTreeMap<String, String> = [
            ("database.password", "pw"),
            ("mongodb.connection.string", "mongodb://u:p@h"),
            ("database.user", "u"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = hide_secrets(&map);
        assert_eq!(shown["database.password"], HIDDEN);
        assert_eq!(shown["mongodb.connection.string"], HIDDEN);
        assert_eq!(shown["database.user"], "u");
    }
}
