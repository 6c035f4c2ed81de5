//! The decision journal of a mapping: what happened to which records, and why — one
//! [`Journal`] shape for every kind of mapping, each kind with its own entries ([`kinesis`],
//! [`sqs`]).
//!
//! Invariant: every decision the engine makes is journaled with its key (shard or poller) and
//! time, and also emitted as a `tracing` event; a journal keeps the most recent
//! [`JOURNAL_CAPACITY`] entries per mapping, in time order, so a user can read them back.

pub mod kinesis;
pub mod sqs;

use std::collections::VecDeque;
use std::sync::Mutex;

use riffle_core::time::Millis;

pub use self::kinesis::{
    JournalKind, KinesisCounters, KinesisJournalEvent, KinesisMetrics, ShardStatus,
};
pub use self::sqs::{SqsCounters, SqsJournalEvent, SqsMetrics};

/// Entries kept per mapping.
pub const JOURNAL_CAPACITY: usize = 10_000;

/// An entry a [`Journal`] keeps: stamped with a time, and tied to a key (a shard, a poller) that
/// readers filter by.
pub trait Entry: Clone {
    /// What names where the entry happened.
    type Key: PartialEq + ?Sized;
    /// When, epoch ms.
    fn at(&self) -> Millis;
    /// Restamps the entry (to keep the journal in time order).
    fn set_at(&mut self, at: Millis);
    /// Where it happened.
    fn key(&self) -> &Self::Key;
}

/// The journal of one mapping: its last [`JOURNAL_CAPACITY`] entries, oldest first.
#[derive(Debug)]
pub struct Journal<E> {
    entries: Mutex<VecDeque<E>>,
}

impl<E> Default for Journal<E> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl<E: Entry> Journal<E> {
    /// Appends an entry, dropping the oldest when full. Entries stay in time order: one stamped
    /// before the last entry (its time was read before another task recorded) takes the last
    /// entry's time.
    pub fn push(&self, mut entry: E) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = entries.back()
            && entry.at() < last.at()
        {
            entry.set_at(last.at());
        }
        if entries.len() == JOURNAL_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Entries, oldest first, of one key or of all.
    pub fn entries(&self, key: Option<&E::Key>) -> Vec<E> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .filter(|e| key.is_none_or(|k| e.key() == k))
            .cloned()
            .collect()
    }
}
