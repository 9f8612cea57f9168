//! Connector states as Kafka Connect reports them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// The state and, when FAILED, the error with a hint (Kafka Connect's `trace`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectorStatus {
    pub state: ConnectorState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

impl ConnectorStatus {
    pub fn new(state: ConnectorState) -> Self {
        ConnectorStatus { state, trace: None }
    }

    pub fn failed(error: &dyn std::error::Error, hint: &str) -> Self {
        ConnectorStatus {
            state: ConnectorState::Failed,
            trace: Some(format!("{error}\nhint: {hint}")),
        }
    }
}
