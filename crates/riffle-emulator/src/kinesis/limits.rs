//! AWS's per-shard data-plane limits, as token buckets driven by the injected clock.
//!
//! Writes: 1 MiB/s and 1,000 records/s per shard. Reads: 5 GetRecords calls/s and 2 MiB/s per
//! shard, where one call may read up to 10 MiB and the debt then blocks further reads for about
//! five seconds, as AWS documents. GetShardIterator: 5 calls/s per shard. Enhanced fan-out:
//! 2 MiB/s per consumer per shard ([`FanOutBucket`]).
//!
//! Invariant: a call that is refused consumes nothing.

use crate::clock::Millis;

const MIB: f64 = 1024.0 * 1024.0;

/// A bucket refilled at `rate` per second up to `burst`; it may be overdrawn by reads.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: Option<Millis>,
}

impl Bucket {
    const fn new() -> Self {
        Self {
            tokens: 0.0,
            last_ms: None,
        }
    }

    fn refill(&mut self, now: Millis, rate: f64, burst: f64) -> f64 {
        let elapsed = match self.last_ms {
            None => {
                self.tokens = burst;
                0.0
            }
            Some(last) => now.saturating_sub(last) as f64 / 1000.0,
        };
        self.last_ms = Some(now.max(self.last_ms.unwrap_or(now)));
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.tokens
    }
}

/// Throughput state of one shard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    write_bytes: Bucket,
    write_records: Bucket,
    read_calls: Bucket,
    read_bytes: Bucket,
    iterator_calls: Bucket,
}

impl Default for Throughput {
    fn default() -> Self {
        Self {
            write_bytes: Bucket::new(),
            write_records: Bucket::new(),
            read_calls: Bucket::new(),
            read_bytes: Bucket::new(),
            iterator_calls: Bucket::new(),
        }
    }
}

impl Throughput {
    /// Takes capacity for one record of `bytes` (data plus partition key); false if the shard's
    /// write limit is reached.
    pub(crate) fn try_write(&mut self, now: Millis, bytes: usize) -> bool {
        let have_bytes = self.write_bytes.refill(now, MIB, MIB);
        let have_records = self.write_records.refill(now, 1000.0, 1000.0);
        if have_bytes < bytes as f64 || have_records < 1.0 {
            return false;
        }
        self.write_bytes.tokens -= bytes as f64;
        self.write_records.tokens -= 1.0;
        true
    }

    /// Takes one GetRecords call; false if the shard's read limit is reached (five calls a
    /// second, or read bytes still owed from an earlier large read).
    pub(crate) fn try_read_call(&mut self, now: Millis) -> bool {
        let calls = self.read_calls.refill(now, 5.0, 5.0);
        let bytes = self.read_bytes.refill(now, 2.0 * MIB, 2.0 * MIB);
        if calls < 1.0 || bytes <= 0.0 {
            return false;
        }
        self.read_calls.tokens -= 1.0;
        true
    }

    /// Charges `bytes` read by a GetRecords call that was allowed; the bucket may go into debt.
    pub(crate) fn charge_read(&mut self, bytes: usize) {
        self.read_bytes.tokens -= bytes as f64;
    }

    /// Takes one GetShardIterator call; false beyond five a second.
    pub(crate) fn try_iterator_call(&mut self, now: Millis) -> bool {
        if self.iterator_calls.refill(now, 5.0, 5.0) < 1.0 {
            return false;
        }
        self.iterator_calls.tokens -= 1.0;
        true
    }
}

/// The enhanced fan-out rate of one subscription: 2 MiB/s with a burst of 2 MiB (more than the
/// largest record, so a record waits until the bucket holds it, never longer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FanOutBucket(Bucket);

impl Default for FanOutBucket {
    fn default() -> Self {
        Self(Bucket::new())
    }
}

impl FanOutBucket {
    const RATE: f64 = 2.0 * MIB;

    /// The bytes that may be sent at `now`.
    pub(crate) fn available(&mut self, now: Millis) -> f64 {
        self.0.refill(now, Self::RATE, Self::RATE)
    }

    /// Charges `bytes` sent.
    pub(crate) fn charge(&mut self, bytes: usize) {
        self.0.tokens -= bytes as f64;
    }

    /// When the bucket, last refilled at `now`, holds `needed` bytes.
    pub(crate) fn ready_at(&self, now: Millis, needed: usize) -> Millis {
        let missing = needed as f64 - self.0.tokens;
        if missing <= 0.0 {
            return now;
        }
        now + (missing / Self::RATE * 1000.0).ceil() as Millis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_allow_a_thousand_records_a_second() {
        let mut t = Throughput::default();
        assert!((0..1000).all(|_| t.try_write(0, 10)));
        assert!(!t.try_write(0, 10));
        assert!(
            (0..500).all(|_| t.try_write(500, 10)),
            "half a second refills 500 records"
        );
        assert!(!t.try_write(500, 10));
    }

    #[test]
    fn writes_allow_one_mebibyte_a_second() {
        let mut t = Throughput::default();
        assert!(t.try_write(0, 1024 * 1024));
        assert!(!t.try_write(0, 1));
        assert!(
            t.try_write(100, 100_000),
            "a tenth of a second refills 104 857 bytes"
        );
    }

    #[test]
    fn fan_out_sends_two_mebibytes_a_second() {
        let mut b = FanOutBucket::default();
        assert_eq!(b.available(0), 2.0 * MIB);
        b.charge(2 * 1024 * 1024);
        assert_eq!(b.available(0), 0.0);
        assert_eq!(b.ready_at(0, 1024 * 1024), 500, "1 MiB takes half a second");
        assert_eq!(b.available(500), MIB);
    }

    #[test]
    fn reads_allow_five_calls_a_second() {
        let mut t = Throughput::default();
        assert!((0..5).all(|_| t.try_read_call(0)));
        assert!(!t.try_read_call(0));
        assert!(t.try_read_call(200));
    }

    #[test]
    fn a_ten_mebibyte_read_blocks_reads_for_about_five_seconds() {
        let mut t = Throughput::default();
        assert!(t.try_read_call(0));
        t.charge_read(10 * 1024 * 1024);
        assert!(!t.try_read_call(1_000));
        assert!(!t.try_read_call(3_900));
        assert!(
            t.try_read_call(4_100),
            "the 8 MiB debt is repaid at 2 MiB/s"
        );
    }
}
