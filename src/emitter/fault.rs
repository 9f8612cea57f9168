//! Crash points for the exactly-once tests: with `SIPHON_FAULT=<point>:<n>`, the n-th time
//! the emitter reaches `<point>` it prints `SIPHON_FAULT_REACHED <point>` to stderr and
//! stops there, so the test can SIGKILL the process at exactly that step of the
//! transaction. `SIPHON_FAULT_SLOW=<point>:<ms>` instead sleeps `ms` every time, so a test
//! can act (pause, kill a connection, SIGKILL) while a long transaction is half committed.
//! Without the variables this is two `OnceLock` reads per call.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static FAULT: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);
static SLOW: OnceLock<Option<(String, u64)>> = OnceLock::new();

fn point_and_number(var: &str) -> Option<(String, u64)> {
    let spec = std::env::var(var).ok()?;
    let (point, n) = spec.split_once(':')?;
    Some((point.to_owned(), n.parse().ok()?))
}

fn configured() -> Option<&'static (String, u64)> {
    FAULT
        .get_or_init(|| point_and_number("SIPHON_FAULT"))
        .as_ref()
}

/// Sleeps at `point` when it is slowed; parks the task forever there when the fault is armed
/// for it and due.
pub async fn check(point: &str) {
    if let Some((slow, ms)) = SLOW
        .get_or_init(|| point_and_number("SIPHON_FAULT_SLOW"))
        .as_ref()
        && slow == point
    {
        tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
    }
    let Some((armed, n)) = configured() else {
        return;
    };
    if armed != point || HITS.fetch_add(1, Ordering::Relaxed) + 1 != *n {
        return;
    }
    eprintln!("SIPHON_FAULT_REACHED {point}");
    std::future::pending::<()>().await;
}
