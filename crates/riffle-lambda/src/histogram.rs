//! A function's invocation durations, counted into fixed buckets (what Lambda's `Duration`
//! metric is to CloudWatch): the count and sum of every duration, and how many fell into each
//! bucket. It keeps no list of durations, so its size does not grow with invocations.
//!
//! Invariant: `count` is the sum of `counts`, and `sum_ms` the sum of every duration observed.

use std::time::Duration;

/// The upper bounds of the buckets, in milliseconds (a duration over the last one counts in
/// the +Inf bucket only). From 1 ms to Lambda's 15-minute maximum timeout.
pub const DURATION_BUCKETS_MS: [f64; 16] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 30_000.0,
    60_000.0, 300_000.0, 900_000.0,
];

/// Durations of a function's invocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationHistogram {
    /// Durations in each bucket of [`DURATION_BUCKETS_MS`] (not cumulative: a duration counts in
    /// the first bucket whose bound is at or over it); the last entry is over every bound.
    pub counts: [u64; DURATION_BUCKETS_MS.len() + 1],
    /// Durations observed.
    pub count: u64,
    /// Their sum, in milliseconds.
    pub sum_ms: f64,
}

impl DurationHistogram {
    /// Counts one invocation that ran for `duration`.
    pub fn observe(&mut self, duration: Duration) {
        let ms = duration.as_secs_f64() * 1000.0;
        let bucket = DURATION_BUCKETS_MS
            .iter()
            .position(|bound| ms <= *bound)
            .unwrap_or(DURATION_BUCKETS_MS.len());
        self.counts[bucket] += 1;
        self.count += 1;
        self.sum_ms += ms;
    }

    /// `(upper bound in ms, durations in that bucket)` for every bucket, the last bound
    /// `f64::INFINITY`: not cumulative, as prometheus-client's encoders take them (they write
    /// the cumulative `le` buckets).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        DURATION_BUCKETS_MS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.counts)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_count_in_the_first_bucket_at_or_over_them_and_add_up() {
        let mut h = DurationHistogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(7));
        h.observe(Duration::from_secs(3_600));
        assert_eq!(h.count, 4);
        assert!((h.sum_ms - 3_600_008.5).abs() < 1e-6, "{}", h.sum_ms);
        let buckets = h.buckets();
        assert_eq!(buckets.len(), DURATION_BUCKETS_MS.len() + 1);
        assert_eq!(buckets[0], (1.0, 2), "0.5 ms and 1 ms are at or under 1 ms");
        assert_eq!(buckets[1], (5.0, 0));
        assert_eq!(buckets[2], (10.0, 1));
        assert_eq!(buckets[15], (900_000.0, 0));
        assert_eq!(buckets[16], (f64::INFINITY, 1), "over every bound");
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), h.count);
    }
}
