//! The decision journal and metrics of a mapping: what happened to which records, and why.
//!
//! Invariant: every decision the engine makes (batch, outcome, split, retry delay, discard,
//! delivery, checkpoint) is journaled with its shard and time, and also emitted as a `tracing`
//! event; the journal keeps the most recent entries per mapping so a user can read them back.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use riffle_core::kinesis::shard::Decision;
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
    /// Loading or saving the checkpoint failed; it is tried again.
    CheckpointFailed {
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
    Decision(Decision),
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
    /// Records an entry. Entries stay in time order: one stamped before the last entry (its
    /// time was read before another task recorded) takes the last entry's time.
    pub fn record(&self, at: Millis, shard_id: &str, kind: JournalKind) {
        tracing::debug!(shard_id, ?kind, "mapping decision");
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let at = entries.back().map_or(at, |last| at.max(last.at));
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
    /// The last problem not tied to a shard (listing the shards failed).
    mapping_error: Mutex<Option<(Millis, String)>>,
}

/// Where one shard of a mapping stands, and what happened to it, for status views.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardStatus {
    /// Age of the last record of the last successful batch when it finished (IteratorAge), or 0
    /// once the shard is caught up.
    pub iterator_age_ms: Option<Millis>,
    /// Caught up: the last read returned no records with millisBehindLatest 0, after every
    /// record read before was done. Cleared by the next record read.
    pub caught_up: bool,
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
    /// Invocations (counting retries).
    pub invocations: u64,
    /// Failed invocations.
    pub errors: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Bisects.
    pub bisects: u64,
    /// Records reported to the on-failure destination.
    pub sent_to_destination: u64,
    /// Records dropped without a destination.
    pub dropped: u64,
    /// Records filtered out.
    pub filtered: u64,
    /// A retry is scheduled and has not started.
    pub retry_pending: bool,
    /// The last read failed.
    pub read_failing: bool,
    /// The last problem (failure, partial failure, give-up, read or delivery error) and when.
    pub last_error: Option<(Millis, String)>,
}

impl Metrics {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts what a journal entry says happened, for the mapping and for its shard.
    pub fn observe(&self, at: Millis, shard_id: &str, kind: &JournalKind) {
        let add = |counter: &AtomicU64, n: usize| Self::add(counter, n as u64);
        let mut error = None;
        match kind {
            JournalKind::Polled { records, .. } => add(&self.polled, *records),
            JournalKind::PollFailed { error: e } => error = Some(format!("read: {e}")),
            JournalKind::CheckpointFailed { error: e } => {
                error = Some(format!("checkpoint: {e}"));
            }
            JournalKind::Invoked { records, .. } => {
                add(&self.invocations, 1);
                add(&self.invoked_records, *records);
            }
            JournalKind::DeliveryError { error: e } => {
                error = Some(format!("on-failure destination: {e}"));
            }
            JournalKind::Decision(decision) => match decision {
                Decision::Failed { reason, .. } => {
                    add(&self.errors, 1);
                    error = Some(reason.clone());
                }
                Decision::PartiallyFailed { resume_at, .. } => {
                    error = Some(format!("batch item failures from {resume_at}"));
                }
                Decision::RetryScheduled { .. } => add(&self.retries, 1),
                Decision::Bisected { .. } => add(&self.bisects, 1),
                Decision::Filtered { records } => add(&self.filtered, *records),
                Decision::Discarded {
                    condition,
                    records,
                    delivered,
                    ..
                } => {
                    let (counter, what) = if *delivered {
                        (
                            &self.sent_to_destination,
                            "sent to the on-failure destination",
                        )
                    } else {
                        (&self.dropped, "dropped")
                    };
                    add(counter, *records);
                    error = Some(format!(
                        "{records} record(s) {what}: {}",
                        condition.as_str()
                    ));
                }
                Decision::WindowStateDropped { .. } => {
                    error = Some("tumbling window state dropped".to_owned());
                }
                Decision::Succeeded { .. } | Decision::DeliveryFailed { .. } => {}
            },
            JournalKind::ShardStarted { .. }
            | JournalKind::Checkpointed { .. }
            | JournalKind::Delivered { .. }
            | JournalKind::ShardFinished => {}
        }
        if shard_id.is_empty() {
            if let Some(error) = error {
                *self.mapping_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, error));
            }
            return;
        }
        self.update_shard(shard_id, |s| {
            match kind {
                JournalKind::Polled { .. } => s.read_failing = false,
                JournalKind::PollFailed { .. } => s.read_failing = true,
                JournalKind::Invoked { .. } => {
                    s.invocations += 1;
                    s.retry_pending = false;
                }
                JournalKind::Checkpointed { sequence_number } => {
                    s.checkpoint = Some(sequence_number.clone());
                }
                JournalKind::ShardFinished => {
                    s.finished = true;
                    s.in_flight = 0;
                    s.buffered = 0;
                }
                JournalKind::Decision(decision) => match decision {
                    Decision::Failed { .. } => s.errors += 1,
                    Decision::RetryScheduled { .. } => {
                        s.retries += 1;
                        s.retry_pending = true;
                    }
                    Decision::Bisected { .. } => s.bisects += 1,
                    Decision::Filtered { records } => s.filtered += *records as u64,
                    Decision::Discarded {
                        records, delivered, ..
                    } => {
                        s.retry_pending = false;
                        if *delivered {
                            s.sent_to_destination += *records as u64;
                        } else {
                            s.dropped += *records as u64;
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
            if let Some(error) = error {
                s.last_error = Some((at, error));
            }
        });
    }

    /// The latest problem over every shard and the mapping itself: (when, shard, what); the
    /// shard is empty for a problem of the whole mapping (listing its shards failed).
    pub fn last_error(&self) -> Option<(Millis, String, String)> {
        let mapping = self
            .mapping_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .map(|(at, error)| (at, String::new(), error));
        self.shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(id, s)| {
                let (at, error) = s.last_error.as_ref()?;
                Some((*at, id.clone(), error.clone()))
            })
            .chain(mapping)
            .max_by_key(|(at, _, _)| *at)
    }

    /// Records the iterator age of a shard.
    pub fn set_iterator_age(&self, shard_id: &str, age: Millis) {
        self.update_shard(shard_id, |s| {
            s.iterator_age_ms = Some(age);
            s.caught_up = false;
        });
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

#[cfg(test)]
mod tests {
    use riffle_core::kinesis::event::FailureCondition;
    use riffle_core::sequence::SequenceNumber;

    use super::*;

    #[test]
    fn observing_the_journal_counts_per_mapping_and_per_shard() {
        let metrics = Metrics::default();
        let (s0, s1) = ("shardId-000000000000", "shardId-000000000001");
        let invoked = JournalKind::Invoked {
            lane: 0,
            records: 3,
            range: None,
            previous_invocations: 0,
        };
        let decision = |entry| JournalKind::Decision(entry);
        metrics.observe(1, s0, &invoked);
        metrics.observe(
            2,
            s0,
            &decision(Decision::Failed {
                lane: 0,
                reason: "Function.Error: boom".into(),
                attempts: 1,
            }),
        );
        metrics.observe(
            2,
            s0,
            &decision(Decision::Bisected {
                lane: 0,
                left: 1,
                right: 2,
            }),
        );
        metrics.observe(
            2,
            s0,
            &decision(Decision::RetryScheduled {
                lane: 0,
                at: 3,
                reason: "Function.Error".into(),
            }),
        );
        metrics.observe(3, s1, &decision(Decision::Filtered { records: 4 }));
        assert!(metrics.shards()[s0].retry_pending);
        metrics.observe(4, s0, &invoked);
        metrics.observe(
            5,
            s0,
            &decision(Decision::Discarded {
                lane: 0,
                condition: FailureCondition::RetryAttemptsExhausted,
                range: (
                    SequenceNumber::parse("1").unwrap(),
                    SequenceNumber::parse("2").unwrap(),
                ),
                records: 2,
                delivered: true,
            }),
        );
        metrics.observe(
            6,
            s0,
            &JournalKind::Checkpointed {
                sequence_number: "2".into(),
            },
        );
        let shards = metrics.shards();
        let first = &shards[s0];
        assert_eq!(
            (
                first.invocations,
                first.errors,
                first.bisects,
                first.retries,
                first.sent_to_destination,
                first.retry_pending,
                first.checkpoint.as_deref(),
            ),
            (2, 1, 1, 1, 2, false, Some("2"))
        );
        let gave_up = "2 record(s) sent to the on-failure destination: RetryAttemptsExhausted";
        assert_eq!(first.last_error, Some((5, gave_up.to_owned())));
        assert_eq!((shards[s1].filtered, shards[s1].invocations), (4, 0));
        assert_eq!(
            (
                Metrics::get(&metrics.invocations),
                Metrics::get(&metrics.invoked_records),
                Metrics::get(&metrics.errors),
                Metrics::get(&metrics.sent_to_destination),
                Metrics::get(&metrics.filtered),
            ),
            (2, 6, 1, 2, 4),
            "the mapping's counters add up its shards'"
        );
        assert_eq!(
            metrics.last_error(),
            Some((5, s0.to_owned(), gave_up.to_owned()))
        );
    }

    #[test]
    fn a_failing_checkpoint_store_is_the_shards_last_error_not_a_read_error() {
        let metrics = Metrics::default();
        let shard = "shardId-000000000000";
        metrics.observe(
            7,
            shard,
            &JournalKind::CheckpointFailed {
                error: "disk full".into(),
            },
        );
        let status = &metrics.shards()[shard];
        assert!(!status.read_failing);
        assert_eq!(status.last_error, Some((7, "checkpoint: disk full".into())));
    }

    #[test]
    fn a_failed_shard_listing_is_the_mappings_error_not_a_shard() {
        let metrics = Metrics::default();
        let failed = JournalKind::PollFailed {
            error: "ListShards: throttled".into(),
        };
        metrics.observe(9, "", &failed);
        assert!(metrics.shards().is_empty(), "no shard named \"\"");
        assert_eq!(
            metrics.last_error(),
            Some((9, String::new(), "read: ListShards: throttled".into()))
        );
    }

    #[test]
    fn a_batch_given_up_while_waiting_for_its_retry_is_no_longer_retrying() {
        let metrics = Metrics::default();
        let shard = "shardId-000000000000";
        let retry = Decision::RetryScheduled {
            lane: 0,
            at: 5,
            reason: "Error".into(),
        };
        metrics.observe(1, shard, &JournalKind::Decision(retry));
        assert!(metrics.shards()[shard].retry_pending);
        let discarded = Decision::Discarded {
            lane: 0,
            condition: FailureCondition::RecordAgeExceeded,
            range: (
                SequenceNumber::parse("1").unwrap(),
                SequenceNumber::parse("1").unwrap(),
            ),
            records: 1,
            delivered: false,
        };
        metrics.observe(2, shard, &JournalKind::Decision(discarded));
        assert!(!metrics.shards()[shard].retry_pending);
    }

    #[test]
    fn the_journal_stays_in_time_order() {
        let journal = Journal::default();
        journal.record(10, "s", JournalKind::ShardFinished);
        // Stamped earlier by a task that recorded later.
        journal.record(7, "s", JournalKind::ShardFinished);
        let times: Vec<Millis> = journal.entries(None).iter().map(|e| e.at).collect();
        assert_eq!(times, [10, 10]);
    }
}
