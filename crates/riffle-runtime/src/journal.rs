//! The decision journal and metrics of a mapping: what happened to which records, and why.
//!
//! Invariant: every decision the engine makes (batch, outcome, split, retry delay, discard,
//! delivery, checkpoint) is journaled with its shard and time, and also emitted as a `tracing`
//! event; the journal keeps the most recent entries per mapping so a user can read them back.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use riffle_core::shard::JournalEntry;
use riffle_core::time::Millis;

/// Entries kept per mapping.
pub const JOURNAL_CAPACITY: usize = 10_000;

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalKind {
    /// A shard task started reading.
    ShardStarted {
        /// Where it started.
        from: String,
    },
    /// Records were read.
    Polled {
        /// How many.
        records: usize,
        /// How far behind the tip.
        millis_behind: Millis,
    },
    /// Reading failed; the read is retried.
    PollFailed {
        /// The error.
        error: String,
    },
    /// A batch was sent to the function.
    Invoked {
        /// Lane.
        lane: usize,
        /// Records.
        records: usize,
        /// First and last sequence numbers (none for a window's empty final invocation).
        range: Option<(String, String)>,
        /// Invocations of this batch before this one.
        previous_invocations: u32,
    },
    /// An engine decision.
    Decision(JournalEntry),
    /// The checkpoint was persisted.
    Checkpointed {
        /// Sequence number.
        sequence_number: String,
    },
    /// A failure record was sent to the destination.
    Delivered {
        /// Destination ARN.
        destination: String,
    },
    /// Sending a failure record failed.
    DeliveryError {
        /// The error.
        error: String,
    },
    /// Every record of the shard is finished.
    ShardFinished,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEvent {
    /// When, epoch ms.
    pub at: Millis,
    /// Which shard.
    pub shard_id: String,
    /// What.
    pub kind: JournalKind,
}

/// The journal of one mapping.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<JournalEvent>>,
}

impl Journal {
    /// Records an entry.
    pub fn record(&self, at: Millis, shard_id: &str, kind: JournalKind) {
        tracing::debug!(shard_id, ?kind, "mapping decision");
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == JOURNAL_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(JournalEvent {
            at,
            shard_id: shard_id.to_owned(),
            kind,
        });
    }

    /// Entries, oldest first, of one shard or of all.
    pub fn entries(&self, shard_id: Option<&str>) -> Vec<JournalEvent> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .filter(|e| shard_id.is_none_or(|s| e.shard_id == s))
            .cloned()
            .collect()
    }
}

/// Counters of one mapping.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Records read.
    pub polled: AtomicU64,
    /// Invocations.
    pub invocations: AtomicU64,
    /// Records sent to the function (counting retries).
    pub invoked_records: AtomicU64,
    /// Failed invocations.
    pub errors: AtomicU64,
    /// Retries scheduled.
    pub retries: AtomicU64,
    /// Bisects.
    pub bisects: AtomicU64,
    /// Records reported to the on-failure destination.
    pub sent_to_destination: AtomicU64,
    /// Records dropped without a destination.
    pub dropped: AtomicU64,
    /// Records filtered out.
    pub filtered: AtomicU64,
    iterator_age: Mutex<BTreeMap<String, Millis>>,
}

impl Metrics {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records the iterator age of a shard.
    pub fn set_iterator_age(&self, shard_id: &str, age: Millis) {
        self.iterator_age
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shard_id.to_owned(), age);
    }

    /// The last iterator age of every shard.
    pub fn iterator_ages(&self) -> BTreeMap<String, Millis> {
        self.iterator_age
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
