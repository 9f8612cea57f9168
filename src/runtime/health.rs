//! A connector's degraded periods: since when it has been retrying and how often, so the
//! status can say so while it is RESTARTING, and when it has been healthy long enough for the
//! next error to start a new period (and the supervisor's backoff to start short again).

use std::time::{Duration, Instant, SystemTime};

/// How long a connector must stay RUNNING before an error starts a new degraded period. A
/// connector that fails again sooner is flapping: its period, and its growing backoff, go on.
/// As long as the supervisor's longest backoff, so a flapping connector never retries faster
/// than once per that delay for long.
pub const HEALTHY_PERIOD: Duration = Duration::from_secs(60);

/// One degraded period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    /// When the first error of the period happened (wall clock, for the status).
    pub since: SystemTime,
    /// The same moment on the monotonic clock, for durations.
    pub since_instant: Instant,
    /// Errors in the period: the reader's reconnects and the supervisor's restarts.
    pub errors: u32,
    /// When the supervisor restarts the task next; `None` while the reader reconnects by
    /// itself.
    pub next_attempt: Option<Instant>,
}

/// The health part of a connector's status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The current (or, while RUNNING, the last) degraded period.
    pub degraded: Option<Degraded>,
    /// Since when the connector has been RUNNING without an error.
    running_since: Option<Instant>,
}

impl Health {
    /// The connector runs (again).
    pub fn running(&mut self, now: Instant) {
        self.running_since.get_or_insert(now);
        if let Some(d) = &mut self.degraded {
            d.next_attempt = None;
        }
    }

    /// An error the connector will retry. Returns whether it starts a new degraded period:
    /// the first error, or one after at least [`HEALTHY_PERIOD`] RUNNING.
    pub fn error(&mut self, now: Instant, wall: SystemTime) -> bool {
        let healed = self
            .running_since
            .is_some_and(|t| now.saturating_duration_since(t) >= HEALTHY_PERIOD);
        self.running_since = None;
        let new_period = healed || self.degraded.is_none();
        if new_period {
            self.degraded = Some(Degraded {
                since: wall,
                since_instant: now,
                errors: 0,
                next_attempt: None,
            });
        }
        if let Some(d) = &mut self.degraded {
            d.errors = d.errors.saturating_add(1);
            d.next_attempt = None;
        }
        new_period
    }

    /// The supervisor restarts the task after `delay`.
    pub fn next_attempt_in(&mut self, now: Instant, delay: Duration) {
        if let Some(d) = &mut self.degraded {
            d.next_attempt = Some(now + delay);
        }
    }

    /// The line the status trace ends with while RESTARTING, e.g. "retrying for 47 s since
    /// 2026-12-03T12:00:00Z (5 errors); next restart in 8 s".
    pub fn describe(&self, now: Instant) -> Option<String> {
        let d = self.degraded.as_ref()?;
        let since = chrono::DateTime::<chrono::Utc>::from(d.since)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let errors = match d.errors {
            1 => "1 error".to_owned(),
            n => format!("{n} errors"),
        };
        let mut line = format!(
            "retrying for {} s since {since} ({errors})",
            now.saturating_duration_since(d.since_instant).as_secs()
        );
        match d.next_attempt {
            Some(at) if at > now => line.push_str(&format!(
                "; next restart in {} s",
                at.saturating_duration_since(now).as_secs_f64().ceil() as u64
            )),
            Some(_) => line.push_str("; restarting"),
            None => line.push_str("; reconnecting"),
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, secs: u64) -> Instant {
        base + Duration::from_secs(secs)
    }

    #[test]
    fn errors_in_a_row_are_one_period() {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut h = Health::default();
        assert!(h.error(t0, wall));
        h.next_attempt_in(t0, Duration::from_millis(500));
        assert!(!h.error(at(t0, 1), wall + Duration::from_secs(1)));
        h.next_attempt_in(at(t0, 1), Duration::from_secs(1));
        let d = h.degraded.clone().unwrap();
        assert_eq!(d.errors, 2);
        assert_eq!(d.since, wall);
        assert_eq!(
            h.describe(at(t0, 1)).unwrap(),
            "retrying for 1 s since 2027-01-15T08:00:00Z (2 errors); next restart in 1 s"
        );
        assert!(
            h.describe(at(t0, 3))
                .unwrap()
                .ends_with("(2 errors); restarting")
        );
    }

    #[test]
    fn a_short_run_does_not_end_the_period_a_long_one_does() {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH;
        let mut h = Health::default();
        assert!(h.error(t0, wall));
        // RUNNING for less than the healthy period: flapping, the same period.
        h.running(at(t0, 1));
        h.running(at(t0, 20)); // a second report keeps the first start
        assert!(!h.error(at(t0, 1 + HEALTHY_PERIOD.as_secs() - 1), wall));
        assert_eq!(h.degraded.as_ref().unwrap().errors, 2);
        // RUNNING for the whole healthy period: the next error starts a new period.
        h.running(at(t0, 100));
        assert!(h.error(at(t0, 100 + HEALTHY_PERIOD.as_secs()), wall));
        let d = h.degraded.as_ref().unwrap();
        assert_eq!(d.errors, 1);
        assert_eq!(d.since_instant, at(t0, 100 + HEALTHY_PERIOD.as_secs()));
    }

    #[test]
    fn reconnecting_readers_have_no_restart_time() {
        let t0 = Instant::now();
        let mut h = Health::default();
        assert_eq!(h.describe(t0), None);
        h.error(t0, SystemTime::UNIX_EPOCH);
        assert_eq!(
            h.describe(at(t0, 75)).unwrap(),
            "retrying for 75 s since 1970-01-01T00:00:00Z (1 error); reconnecting"
        );
    }
}
