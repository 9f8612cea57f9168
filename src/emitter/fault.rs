//! Crash points for the exactly-once tests: with `SIPHON_FAULT=<point>:<n>`, the n-th time
//! the emitter reaches `<point>` it prints `SIPHON_FAULT_REACHED <point>` to stderr and
//! stops there, so the test can SIGKILL the process at exactly that step of the
//! transaction. Without the variable this is one relaxed atomic load per call.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static FAULT: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);

fn configured() -> Option<&'static (String, u64)> {
    FAULT
        .get_or_init(|| {
            let spec = std::env::var("SIPHON_FAULT").ok()?;
            let (point, n) = spec.split_once(':')?;
            Some((point.to_owned(), n.parse().ok()?))
        })
        .as_ref()
}

/// Parks the task forever at `point` when the fault is armed for it and due.
pub async fn check(point: &str) {
    let Some((armed, n)) = configured() else {
        return;
    };
    if armed != point || HITS.fetch_add(1, Ordering::Relaxed) + 1 != *n {
        return;
    }
    eprintln!("SIPHON_FAULT_REACHED {point}");
    std::future::pending::<()>().await;
}
