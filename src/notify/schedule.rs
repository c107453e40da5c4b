//! When things are sent: the daily digest's time in the organisation's
//! zone, and the pause before each retry.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The first time at or after `after` that it is `at` o'clock in `zone`
/// (a local time that a clock change skips falls on the next that exists).
pub fn next_digest(after: DateTime<Utc>, zone: Tz, at: NaiveTime) -> DateTime<Utc> {
    let local = after.with_timezone(&zone).date_naive();
    for day in 0..3 {
        let date = local + chrono::Days::new(day);
        let candidate = zone
            .from_local_datetime(&date.and_time(at))
            .earliest()
            .map(|t| t.with_timezone(&Utc));
        if let Some(candidate) = candidate.filter(|c| *c >= after) {
            return candidate;
        }
    }
    after + chrono::Duration::days(1)
}

/// The pause before try number `attempts + 1`: `first`, doubling with each
/// failed try, never more than `longest`.
pub fn backoff(attempts: u32, first: Duration, longest: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempts.min(30));
    first.saturating_mul(factor).min(longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    #[test]
    fn the_digest_comes_at_the_next_seven_in_london() {
        let seven = NaiveTime::from_hms_opt(7, 0, 0).expect("7:00");
        let zone = chrono_tz::Europe::London;
        // Winter: London is UTC.
        assert_eq!(
            next_digest(utc("2026-12-01T06:59:00Z"), zone, seven),
            utc("2026-12-01T07:00:00Z")
        );
        assert_eq!(
            next_digest(utc("2026-12-01T07:00:01Z"), zone, seven),
            utc("2026-12-02T07:00:00Z")
        );
        // Summer: London is UTC+1.
        assert_eq!(
            next_digest(utc("2026-07-01T12:00:00Z"), zone, seven),
            utc("2026-07-02T06:00:00Z")
        );
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_a_limit() {
        let first = Duration::from_secs(30);
        let longest = Duration::from_secs(3600);
        assert_eq!(backoff(0, first, longest), Duration::from_secs(30));
        assert_eq!(backoff(1, first, longest), Duration::from_secs(60));
        assert_eq!(backoff(3, first, longest), Duration::from_secs(240));
        assert_eq!(backoff(20, first, longest), longest);
        assert_eq!(backoff(u32::MAX, first, longest), longest);
    }
}
