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
    shards: Mutex<BTreeMap<String, ShardStatus>>,
}

/// Where one shard of a mapping stands, for status views.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardStatus {
    /// Age of the last record of the last successful batch when it finished (IteratorAge).
    pub iterator_age_ms: Option<Millis>,
    /// Invocations and failure-record deliveries under way.
    pub in_flight: u64,
    /// Records read and not yet handed to the function.
    pub buffered: u64,
    /// The last checkpoint saved.
    pub checkpoint: Option<String>,
    /// The sequence number of the last record read.
    pub position: Option<String>,
    /// Every record of the shard is done (it was closed by resharding).
    pub finished: bool,
}

impl Metrics {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records the iterator age of a shard.
    pub fn set_iterator_age(&self, shard_id: &str, age: Millis) {
        self.update_shard(shard_id, |s| s.iterator_age_ms = Some(age));
    }

    /// Changes the status of a shard.
    pub fn update_shard(&self, shard_id: &str, change: impl FnOnce(&mut ShardStatus)) {
        let mut shards = self.shards.lock().unwrap_or_else(|p| p.into_inner());
        match shards.get_mut(shard_id) {
            Some(status) => change(status),
            None => change(shards.entry(shard_id.to_owned()).or_default()),
        }
    }

    /// The status of every shard the mapping has read.
    pub fn shards(&self) -> BTreeMap<String, ShardStatus> {
        self.shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The last iterator age of every shard that has one.
    pub fn iterator_ages(&self) -> BTreeMap<String, Millis> {
        self.shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(id, s)| s.iterator_age_ms.map(|age| (id.clone(), age)))
            .collect()
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
