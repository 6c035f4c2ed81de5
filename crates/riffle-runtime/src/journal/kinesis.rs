//! A Kinesis mapping's journal entries ([`KinesisJournalEvent`]), counters ([`KinesisMetrics`]) and shard
//! status views ([`ShardStatus`]), all serde types with the control API's field names.
//!
//! Invariant: the counters are what the journal says happened: [`KinesisMetrics::observe`] counts each
//! entry once, for the mapping and for its shard.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use riffle_core::kinesis::shard::Decision;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;
use serde::{Deserialize, Serialize};

use super::{Entry, Journal};

/// What happened. Serialized as the control API's journal shows it: `kind` (snake case) and
/// the kind's fields; a range as `first_sequence_number`/`last_sequence_number`; an engine
/// decision as the decision itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        #[serde(flatten, with = "riffle_core::sequence::range::optional")]
        range: Option<(SequenceNumber, SequenceNumber)>,
        /// Invocations of this batch before this one.
        previous_invocations: u32,
    },
    /// The checkpoint was persisted.
    Checkpointed {
        /// Sequence number.
        sequence_number: SequenceNumber,
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
    /// `riffle fault` took over an invocation of the mapping's function: the outcome that
    /// follows was injected, not the function's.
    FaultInjected {
        /// The fault rule's id.
        rule: String,
        /// What it injected (`fail (Riffle.InjectedFault)`, `timeout`, `throttle`, `delay 50 ms`).
        fault: String,
        /// The invocation's request id.
        request_id: String,
    },
    /// An engine decision.
    #[serde(untagged)]
    Decision(Decision),
}

/// One journal entry of a Kinesis mapping: `at` (epoch ms) and `time` (ISO 8601), `shard`,
/// and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KinesisJournalEvent {
    /// When, epoch ms.
    #[serde(flatten, with = "riffle_core::time::at_time")]
    pub at: Millis,
    /// Which shard.
    #[serde(rename = "shard")]
    pub shard_id: String,
    /// What.
    #[serde(flatten)]
    pub kind: JournalKind,
}

impl Entry for KinesisJournalEvent {
    type Key = str;

    fn at(&self) -> Millis {
        self.at
    }

    fn set_at(&mut self, at: Millis) {
        self.at = at;
    }

    fn key(&self) -> &str {
        &self.shard_id
    }
}

impl Journal<KinesisJournalEvent> {
    /// Records what happened on `shard_id` at `at`, and emits it as a `tracing` event.
    pub fn record(&self, at: Millis, shard_id: &str, kind: JournalKind) {
        tracing::debug!(shard_id, ?kind, "mapping decision");
        self.push(KinesisJournalEvent {
            at,
            shard_id: shard_id.to_owned(),
            kind,
        });
    }
}

/// Counters of one mapping.
#[derive(Debug, Default)]
pub struct KinesisMetrics {
    /// Records read.
    pub polled: AtomicU64,
    /// Invocations.
    pub invocations: AtomicU64,
    /// Records sent to the function (counting retries).
    pub invoked_records: AtomicU64,
    /// Failed invocations.
    pub errors: AtomicU64,
    /// Invocations the function throttled (retried, and not counted as attempts).
    pub throttles: AtomicU64,
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub checkpoint: Option<SequenceNumber>,
    /// The sequence number of the last record read.
    pub position: Option<SequenceNumber>,
    /// Every record of the shard is done (it was closed by resharding).
    pub finished: bool,
    /// Invocations (counting retries).
    pub invocations: u64,
    /// Failed invocations.
    pub errors: u64,
    /// Throttled invocations.
    pub throttles: u64,
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

impl KinesisMetrics {
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
            | JournalKind::FaultInjected { .. }
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

    /// Counts an invocation for `shard_id` that the function throttled.
    pub fn throttled(&self, shard_id: &str) {
        Self::add(&self.throttles, 1);
        self.update_shard(shard_id, |s| s.throttles += 1);
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

    /// The counters now.
    pub fn counters(&self) -> KinesisCounters {
        let get = Self::get;
        KinesisCounters {
            polled: get(&self.polled),
            invocations: get(&self.invocations),
            invoked_records: get(&self.invoked_records),
            errors: get(&self.errors),
            throttles: get(&self.throttles),
            retries: get(&self.retries),
            bisects: get(&self.bisects),
            sent_to_destination: get(&self.sent_to_destination),
            dropped: get(&self.dropped),
            filtered: get(&self.filtered),
            iterator_age_ms: self.iterator_ages(),
        }
    }
}

/// A Kinesis mapping's counters at one moment (see [`KinesisMetrics`] for what each counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KinesisCounters {
    /// As [`KinesisMetrics::polled`].
    pub polled: u64,
    /// As [`KinesisMetrics::invocations`].
    pub invocations: u64,
    /// As [`KinesisMetrics::invoked_records`].
    pub invoked_records: u64,
    /// As [`KinesisMetrics::errors`].
    pub errors: u64,
    /// As [`KinesisMetrics::throttles`].
    pub throttles: u64,
    /// As [`KinesisMetrics::retries`].
    pub retries: u64,
    /// As [`KinesisMetrics::bisects`].
    pub bisects: u64,
    /// As [`KinesisMetrics::sent_to_destination`].
    pub sent_to_destination: u64,
    /// As [`KinesisMetrics::dropped`].
    pub dropped: u64,
    /// As [`KinesisMetrics::filtered`].
    pub filtered: u64,
    /// The last iterator age of every shard that has one.
    pub iterator_age_ms: BTreeMap<String, Millis>,
}

#[cfg(test)]
mod tests;
