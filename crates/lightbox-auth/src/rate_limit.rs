//! Rate-limit policy as pure arithmetic: the caller loads and stores one
//! number per key, this module decides. Times are Unix microseconds.
//!
//! [`Bucket`] is a token bucket in GCRA form: its whole state is a
//! "theoretical arrival time" (TAT), so it fits one database column and an
//! update is a single compare-and-set. [`Backoff`] grows the delay after
//! repeated failed sign-ins for one login.

/// Up to `burst` takes at once, then one per `interval_micros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Takes allowed at once from a full bucket; 0 is treated as 1.
    pub burst: u32,
    /// Time for one take to come back; negative is treated as 0.
    pub interval_micros: i64,
}

impl Bucket {
    fn interval(&self) -> i64 {
        self.interval_micros.max(0)
    }

    /// How far ahead of now the TAT may run before takes are refused.
    fn capacity(&self) -> i64 {
        i64::from(self.burst.max(1)).saturating_mul(self.interval())
    }

    /// Takes one. `tat` is the stored state (`None` for a key never seen or
    /// expired). `Ok(new_tat)` to store; `Err(retry_after)` in microseconds,
    /// exact: one take succeeds once that much time has passed. On `Err`
    /// the state is unchanged. A TAT at or before `now` means a full bucket,
    /// so state can be dropped once `now` passes it.
    pub fn take(&self, tat: Option<i64>, now: i64) -> Result<i64, i64> {
        let tat = tat.map_or(now, |t| t.max(now));
        let new_tat = tat.saturating_add(self.interval());
        let allowed_at = new_tat.saturating_sub(self.capacity());
        if allowed_at > now {
            Err(allowed_at.saturating_sub(now))
        } else {
            Ok(new_tat)
        }
    }

    /// Refunds one take (e.g. the attempt turned out to be fine and should
    /// not count). Never moves the TAT below `now`: a bucket holds at most
    /// `burst`.
    pub fn give_back(&self, tat: i64, now: i64) -> i64 {
        tat.saturating_sub(self.interval()).max(now)
    }
}

/// Delay before the next sign-in attempt for a login after repeated
/// failures: a few free tries, then doubling up to a ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed without delay.
    pub free_failures: u32,
    /// Delay after the first failure past the free ones.
    pub base_micros: i64,
    /// Ceiling of the delay.
    pub max_micros: i64,
}

impl Default for Backoff {
    /// 5 free failures, then 1 s, 2 s, 4 s, … up to 60 s.
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_micros: 1_000_000,
            max_micros: 60_000_000,
        }
    }
}

impl Backoff {
    /// Delay in microseconds after `failures` consecutive failures: 0 up to
    /// `free_failures`, then `base · 2^(failures − free_failures − 1)`,
    /// capped at `max`. Never overflows, whatever the count.
    pub fn delay_after(&self, failures: u32) -> i64 {
        if failures <= self.free_failures {
            return 0;
        }
        let doublings = failures - self.free_failures - 1;
        let base = self.base_micros.max(0);
        let max = self.max_micros.max(0);
        // 2^62 is the largest power of two an i64 holds.
        let delay = if doublings >= 62 {
            if base == 0 { 0 } else { i64::MAX }
        } else {
            base.saturating_mul(1_i64 << doublings)
        };
        delay.min(max)
    }
}

/// Microseconds as whole seconds for a `Retry-After` header: rounded up so
/// a client that waits that long is not refused again, and at least 1.
pub fn retry_after_secs(micros: i64) -> u64 {
    u64::try_from(micros)
        .unwrap_or(0)
        .div_ceil(1_000_000)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000;
    /// 10 at once, then one a minute.
    const LOGIN: Bucket = Bucket {
        burst: 10,
        interval_micros: 60 * SEC,
    };
    const T0: i64 = 1_700_000_000 * SEC;

    /// Takes as many as succeed at `now`; returns the count and final TAT.
    fn drain(bucket: &Bucket, mut tat: Option<i64>, now: i64) -> (u32, Option<i64>, i64) {
        let mut taken = 0;
        loop {
            match bucket.take(tat, now) {
                Ok(new) => {
                    tat = Some(new);
                    taken += 1;
                }
                Err(retry) => return (taken, tat, retry),
            }
        }
    }

    #[test]
    fn fresh_key_allows_the_burst_then_refuses() {
        let (taken, tat, retry) = drain(&LOGIN, None, T0);
        assert_eq!(taken, 10);
        assert_eq!(tat, Some(T0 + 10 * 60 * SEC));
        assert_eq!(retry, 60 * SEC);
    }

    #[test]
    fn retry_after_is_exact() {
        let (_, tat, retry) = drain(&LOGIN, None, T0);
        // One microsecond early is still refused, with 1 µs to go.
        assert_eq!(LOGIN.take(tat, T0 + retry - 1), Err(1));
        // On time: exactly one succeeds, and the next waits a full interval.
        let Ok(after) = LOGIN.take(tat, T0 + retry) else {
            panic!("take refused after waiting retry_after");
        };
        assert_eq!(LOGIN.take(Some(after), T0 + retry), Err(60 * SEC));
    }

    #[test]
    fn partial_waits_report_the_remainder() {
        let (_, tat, _) = drain(&LOGIN, None, T0);
        assert_eq!(LOGIN.take(tat, T0 + 15 * SEC), Err(45 * SEC));
        assert_eq!(LOGIN.take(tat, T0 + 59 * SEC), Err(SEC));
    }

    #[test]
    fn refills_one_per_interval_up_to_the_burst() {
        let (_, tat, _) = drain(&LOGIN, None, T0);
        let (taken, _, _) = drain(&LOGIN, tat, T0 + 3 * 60 * SEC);
        assert_eq!(taken, 3);
        let (taken, _, _) = drain(&LOGIN, tat, T0 + 3 * 60 * SEC + 59 * SEC);
        assert_eq!(taken, 3);
        // A long idle time never refills past the burst.
        let (taken, _, _) = drain(&LOGIN, tat, T0 + 1_000 * 60 * SEC);
        assert_eq!(taken, 10);
        // A stale TAT in the past is a full bucket.
        let (taken, _, _) = drain(&LOGIN, Some(T0 - 86_400 * SEC), T0);
        assert_eq!(taken, 10);
    }

    #[test]
    fn steady_rate_is_one_per_interval() {
        let (_, mut tat, _) = drain(&LOGIN, None, T0);
        for i in 1..=5 {
            let now = T0 + i * 60 * SEC;
            match LOGIN.take(tat, now) {
                Ok(new) => tat = Some(new),
                Err(retry) => panic!("refused at step {i}, retry {retry}"),
            }
            assert!(LOGIN.take(tat, now).is_err());
        }
    }

    #[test]
    fn give_back_refunds_one_but_not_past_full() {
        let (_, tat, _) = drain(&LOGIN, None, T0);
        let Some(tat) = tat else {
            panic!("drain took nothing");
        };
        let refunded = LOGIN.give_back(tat, T0);
        assert_eq!(refunded, tat - 60 * SEC);
        assert!(LOGIN.take(Some(refunded), T0).is_ok());
        // Refunding a full bucket leaves it full, i.e. at now.
        assert_eq!(LOGIN.give_back(T0, T0), T0);
        assert_eq!(LOGIN.give_back(T0 + 30 * SEC, T0), T0);
        let (taken, _, _) = drain(&LOGIN, Some(LOGIN.give_back(T0, T0)), T0);
        assert_eq!(taken, 10);
    }

    #[test]
    fn degenerate_buckets_do_not_misbehave() {
        let zero_burst = Bucket {
            burst: 0,
            interval_micros: SEC,
        };
        let (taken, _, retry) = drain(&zero_burst, None, T0);
        assert_eq!((taken, retry), (1, SEC));
        let huge = Bucket {
            burst: u32::MAX,
            interval_micros: i64::MAX,
        };
        assert!(huge.take(None, T0).is_ok());
        assert!(huge.take(Some(i64::MAX), i64::MAX).is_ok());
    }

    #[test]
    fn backoff_sequence() {
        let backoff = Backoff::default();
        let delays: Vec<i64> = (0..=14).map(|f| backoff.delay_after(f) / SEC).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn backoff_never_overflows() {
        let backoff = Backoff::default();
        for failures in [62, 63, 64, 66, 67, 68, 100, 1_000, u32::MAX - 1, u32::MAX] {
            assert_eq!(backoff.delay_after(failures), 60 * SEC, "{failures}");
        }
        let uncapped = Backoff {
            free_failures: 0,
            base_micros: SEC,
            max_micros: i64::MAX,
        };
        assert_eq!(uncapped.delay_after(u32::MAX), i64::MAX);
        assert_eq!(uncapped.delay_after(64), i64::MAX);
        let huge_free = Backoff {
            free_failures: u32::MAX,
            ..Backoff::default()
        };
        assert_eq!(huge_free.delay_after(u32::MAX), 0);
        let no_base = Backoff {
            base_micros: 0,
            ..Backoff::default()
        };
        assert_eq!(no_base.delay_after(u32::MAX), 0);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(-5), 1);
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(SEC), 1);
        assert_eq!(retry_after_secs(SEC + 1), 2);
        assert_eq!(retry_after_secs(60 * SEC), 60);
        assert_eq!(
            retry_after_secs(i64::MAX),
            (i64::MAX as u64).div_ceil(1_000_000)
        );
    }
}
