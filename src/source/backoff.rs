//! Capped exponential backoff for transient errors.

use std::time::Duration;

/// Delay before retry number `attempt` (0-based): `base * 2^attempt`, at most `cap`.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration) -> Duration {
    base.checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(cap)
        .min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let b = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        let got: Vec<u128> = (0..8)
            .map(|a| backoff_delay(a, b, cap).as_millis())
            .collect();
        assert_eq!(got, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff_delay(u32::MAX, b, cap), cap);
    }
}
