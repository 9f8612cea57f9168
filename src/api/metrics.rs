//! `GET /metrics` in Prometheus' text format (version 0.0.4), per connector. Fed by the
//! runtime: committed events and batches, commit latency (hand-over to the emitter → commit),
//! lag behind the source at the last commit, snapshot progress, errors, state.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::runtime::metrics::LATENCY_BUCKETS;
use crate::runtime::{ConnectorState, MetricsSnapshot};

const STATES: [ConnectorState; 6] = [
    ConnectorState::Unassigned,
    ConnectorState::Running,
    ConnectorState::Paused,
    ConnectorState::Stopped,
    ConnectorState::Failed,
    ConnectorState::Restarting,
];

/// Label values escaped as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders every connector's metrics.
pub fn render(connectors: &[(String, ConnectorState, MetricsSnapshot)]) -> String {
    let mut out = String::new();
    let per = |out: &mut String,
               name: &str,
               kind: &str,
               help: &str,
               value: &dyn Fn(&MetricsSnapshot) -> Option<String>| {
        header(out, name, kind, help);
        for (c, _, m) in connectors {
            if let Some(v) = value(m) {
                let _ = writeln!(out, "{name}{{connector=\"{}\"}} {v}", label(c));
            }
        }
    };
    header(
        &mut out,
        "siphon_connector_state",
        "gauge",
        "1 for the connector's current state (Kafka Connect's states), 0 for the others.",
    );
    for (c, state, _) in connectors {
        for s in STATES {
            let _ = writeln!(
                out,
                "siphon_connector_state{{connector=\"{}\",state=\"{s}\"}} {}",
                label(c),
                u8::from(*state == s)
            );
        }
    }
    per(
        &mut out,
        "siphon_connector_events_total",
        "counter",
        "Change events committed (to Kafka, or to the embedded sink and offsets file).",
        &|m| Some(m.events.to_string()),
    );
    per(
        &mut out,
        "siphon_connector_batches_total",
        "counter",
        "Batches committed; with Kafka, one transaction each.",
        &|m| Some(m.batches.to_string()),
    );
    per(
        &mut out,
        "siphon_connector_errors_total",
        "counter",
        "Errors: transient ones (retried) and the one that failed the connector.",
        &|m| Some(m.errors.to_string()),
    );
    per(
        &mut out,
        "siphon_connector_source_lag_ms",
        "gauge",
        "Milliseconds between the source commit of the newest event of the last committed batch and that commit.",
        &|m| m.lag_ms.map(|v| v.to_string()),
    );
    per(
        &mut out,
        "siphon_connector_snapshot_running",
        "gauge",
        "1 while the committed position is inside an initial snapshot.",
        &|m| Some(u8::from(m.snapshot.running).to_string()),
    );
    per(
        &mut out,
        "siphon_connector_snapshot_rows_done",
        "gauge",
        "Rows of the running snapshot committed so far (from the committed position).",
        &|m| Some(m.snapshot.rows_done.to_string()),
    );
    per(
        &mut out,
        "siphon_connector_snapshot_tables_completed",
        "gauge",
        "Tables of the running snapshot fully read (from the committed position).",
        &|m| Some(m.snapshot.tables_completed.to_string()),
    );

    let name = "siphon_connector_snapshot_rows_total";
    header(
        &mut out,
        name,
        "counter",
        "Snapshot rows committed, per table.",
    );
    for (c, _, m) in connectors {
        for (table, rows) in &m.snapshot_rows {
            let _ = writeln!(
                out,
                "{name}{{connector=\"{}\",table=\"{}\"}} {rows}",
                label(c),
                label(table)
            );
        }
    }

    let name = "siphon_connector_commit_latency_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "From a batch's hand-over to the emitter to its commit.",
    );
    for (c, _, m) in connectors {
        let c = label(c);
        let cumulative = m.latency.cumulative();
        for (i, count) in cumulative.iter().enumerate() {
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{name}_bucket{{connector=\"{c}\",le=\"{le}\"}} {count}"
            );
        }
        let _ = writeln!(out, "{name}_sum{{connector=\"{c}\"}} {}", m.latency.sum);
        let _ = writeln!(out, "{name}_count{{connector=\"{c}\"}} {}", m.latency.count);
    }
    out
}

/// `GET /metrics`.
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&s.runtime.metrics()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let mut m = MetricsSnapshot {
            events: 7,
            lag_ms: Some(12),
            ..MetricsSnapshot::default()
        };
        m.latency.observe(std::time::Duration::from_millis(20));
        m.snapshot_rows.insert("public.t".into(), 3);
        let text = render(&[("a\"b".into(), ConnectorState::Running, m)]);
        for line in [
            "siphon_connector_events_total{connector=\"a\\\"b\"} 7",
            "siphon_connector_source_lag_ms{connector=\"a\\\"b\"} 12",
            "siphon_connector_state{connector=\"a\\\"b\",state=\"RUNNING\"} 1",
            "siphon_connector_state{connector=\"a\\\"b\",state=\"FAILED\"} 0",
            "siphon_connector_snapshot_rows_total{connector=\"a\\\"b\",table=\"public.t\"} 3",
            "siphon_connector_commit_latency_seconds_bucket{connector=\"a\\\"b\",le=\"0.01\"} 0",
            "siphon_connector_commit_latency_seconds_bucket{connector=\"a\\\"b\",le=\"0.025\"} 1",
            "siphon_connector_commit_latency_seconds_bucket{connector=\"a\\\"b\",le=\"+Inf\"} 1",
            "siphon_connector_commit_latency_seconds_count{connector=\"a\\\"b\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        // Every sample line is `name{labels} value`.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }
}
