//! Per-connector counters for `GET /metrics`, fed by the runtime (see `meter`): what was
//! committed, how long commits took, how far behind the source the last commit was, snapshot
//! progress, errors, and the topics written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds (seconds) of the commit latency histogram buckets; `+Inf` is implied.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram: per-bucket (not cumulative) counts, the last one for `+Inf`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub counts: [u64; LATENCY_BUCKETS.len() + 1],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, value: Duration) {
        let secs = value.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
        self.count += 1;
    }

    /// Cumulative counts per bucket bound, as Prometheus exposes them (last = `+Inf`).
    pub fn cumulative(&self) -> Vec<u64> {
        self.counts
            .iter()
            .scan(0u64, |acc, c| {
                *acc += c;
                Some(*acc)
            })
            .collect()
    }
}

/// Snapshot progress from the last committed position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotState {
    /// A snapshot is running (its position is not complete yet).
    pub running: bool,
    pub tables_completed: u64,
    pub rows_done: u64,
}

#[derive(Debug, Default)]
pub struct ConnectorMetrics {
    events: AtomicU64,
    batches: AtomicU64,
    errors: AtomicU64,
    /// Milliseconds between the source commit of the newest event of the last committed
    /// batch and that commit; `i64::MIN` until the first batch with events.
    lag_ms: AtomicI64,
    latency: Mutex<Histogram>,
    snapshot_rows: Mutex<BTreeMap<String, u64>>,
    snapshot: Mutex<SnapshotState>,
    topics: Mutex<BTreeSet<String>>,
}

/// A copy of the metrics at one moment, for rendering.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsSnapshot {
    pub events: u64,
    pub batches: u64,
    pub errors: u64,
    pub lag_ms: Option<i64>,
    pub latency: Histogram,
    pub snapshot_rows: BTreeMap<String, u64>,
    pub snapshot: SnapshotState,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one committed batch carried.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub events: u64,
    pub newest_source_us: Option<i64>,
    pub snapshot_rows: BTreeMap<String, u64>,
    pub topics: BTreeSet<String>,
    pub latency: Duration,
}

impl ConnectorMetrics {
    pub fn new() -> Self {
        ConnectorMetrics {
            lag_ms: AtomicI64::new(i64::MIN),
            ..ConnectorMetrics::default()
        }
    }

    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn committed(&self, batch: Committed, now_us: i64) {
        self.events.fetch_add(batch.events, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        if let Some(ts) = batch.newest_source_us {
            self.lag_ms
                .store(((now_us - ts) / 1000).max(0), Ordering::Relaxed);
        }
        lock(&self.latency).observe(batch.latency);
        let mut rows = lock(&self.snapshot_rows);
        for (table, n) in batch.snapshot_rows {
            *rows.entry(table).or_default() += n;
        }
        lock(&self.topics).extend(batch.topics);
    }

    pub fn set_snapshot(&self, state: SnapshotState) {
        *lock(&self.snapshot) = state;
    }

    /// Topics this connector wrote since it was created (or its topics were reset).
    pub fn topics(&self) -> Vec<String> {
        lock(&self.topics).iter().cloned().collect()
    }

    pub fn reset_topics(&self) {
        lock(&self.topics).clear();
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let lag = self.lag_ms.load(Ordering::Relaxed);
        MetricsSnapshot {
            events: self.events.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            lag_ms: (lag != i64::MIN).then_some(lag),
            latency: lock(&self.latency).clone(),
            snapshot_rows: lock(&self.snapshot_rows).clone(),
            snapshot: lock(&self.snapshot).clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(60));
        let c = h.cumulative();
        assert_eq!(c.len(), LATENCY_BUCKETS.len() + 1);
        assert_eq!((c[0], c[3], c[10], c[11]), (1, 2, 2, 3));
        assert_eq!(h.count, 3);
    }

    #[test]
    fn commits_add_up() {
        let m = ConnectorMetrics::new();
        assert_eq!(m.snapshot().lag_ms, None);
        let batch = Committed {
            events: 3,
            newest_source_us: Some(1_000_000),
            snapshot_rows: [("public.t".to_string(), 3)].into(),
            topics: ["p.public.t".to_string()].into(),
            latency: Duration::from_millis(20),
        };
        m.committed(batch.clone(), 3_500_000);
        m.committed(batch, 3_500_000);
        m.error();
        let s = m.snapshot();
        assert_eq!((s.events, s.batches, s.errors), (6, 2, 1));
        assert_eq!(s.lag_ms, Some(2500));
        assert_eq!(s.snapshot_rows["public.t"], 6);
        assert_eq!(m.topics(), ["p.public.t"]);
        m.reset_topics();
        assert!(m.topics().is_empty());
    }
}
