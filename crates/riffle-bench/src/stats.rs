//! Small numeric helpers: percentiles over sorted samples and rounding for the JSON output.

use std::time::Duration;

/// Milliseconds with microsecond resolution.
pub(crate) fn millis(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

/// Rounds to three decimals so the JSON stays readable.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Nearest-rank percentile `p` (0..=100) of `sorted`, which must be sorted ascending.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The latencies of `samples` (index, latency) from index `warmup` on, sorted, and their mean.
pub(crate) fn after_warmup(
    samples: Vec<(u64, Duration)>,
    warmup: u64,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let mut latencies: Vec<Duration> = samples
        .into_iter()
        .filter(|&(i, _)| i >= warmup)
        .map(|(_, d)| d)
        .collect();
    latencies.sort_unstable();
    let mean = if latencies.is_empty() {
        Duration::ZERO
    } else {
        latencies.iter().sum::<Duration>() / u32::try_from(latencies.len())?
    };
    Ok((latencies, mean))
}

/// Takes the next of `batches` batches of `batch` items out of `total` for a producer task: the
/// first index and the count, or `None` when every batch is taken.
pub(crate) fn claim_batch(
    next: &std::sync::atomic::AtomicU64,
    batches: u64,
    batch: u64,
    total: u64,
) -> Option<(u64, u64)> {
    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if b >= batches {
        return None;
    }
    let first = b * batch;
    Some((first, batch.min(total - first)))
}

/// Median of unsorted samples.
pub(crate) fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    percentile(&sorted, 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&sorted, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn median_of_unsorted() {
        assert_eq!(median(&ms(&[9, 1, 5])), Duration::from_millis(5));
    }
}
