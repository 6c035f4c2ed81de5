//! A queue mapping's journal entries ([`SqsJournalEvent`]) and counters ([`SqsMetrics`]),
//! mirroring the Kinesis ones in [`super::kinesis`]: serde types with the control API's field
//! names.
//!
//! Invariant: the counters are what the journal says happened: [`SqsMetrics::observe`] counts
//! each entry once (deletes, pollers and message age are gauges the poller tasks set).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use riffle_core::sqs::poller::{Decision, Settled};
use riffle_core::time::Millis;
use serde::{Deserialize, Serialize};

use super::Entry;

/// One journal entry of a queue mapping: `at` (epoch ms) and `time` (ISO 8601), `poller`, and
/// what the poller decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqsJournalEvent {
    /// When, epoch ms.
    #[serde(flatten, with = "riffle_core::time::at_time")]
    pub at: Millis,
    /// Which poller (0-based; the scaler's entries use the poller that observed the change).
    pub poller: usize,
    /// What.
    #[serde(flatten)]
    pub kind: Decision,
}

impl Entry for SqsJournalEvent {
    type Key = usize;

    fn at(&self) -> Millis {
        self.at
    }

    fn set_at(&mut self, at: Millis) {
        self.at = at;
    }

    fn key(&self) -> &usize {
        &self.poller
    }
}

/// Counters of one queue mapping.
#[derive(Debug, Default)]
pub struct SqsMetrics {
    /// Messages received (counting receives of the same message again).
    pub polled: AtomicU64,
    /// Invocations.
    pub invocations: AtomicU64,
    /// Messages sent to the function (counting throttled attempts).
    pub invoked_messages: AtomicU64,
    /// Messages deleted after success.
    pub deleted: AtomicU64,
    /// Messages left to return to the queue after a failure.
    pub failed: AtomicU64,
    /// Messages deleted because the filters dropped them.
    pub filtered: AtomicU64,
    /// Invocations that failed (function error or invalid response).
    pub errors: AtomicU64,
    /// Throttled invocations.
    pub throttles: AtomicU64,
    /// Pollers running now.
    pub pollers: AtomicUsize,
    /// Age of the oldest message of the last receive (now − SentTimestamp), ms.
    pub oldest_message_age_ms: AtomicU64,
    /// Batches invoked and not yet settled (a throttled batch waiting to be invoked again
    /// counts).
    pub in_flight: AtomicUsize,
    holding: Mutex<std::collections::BTreeSet<usize>>,
    last_error: Mutex<Option<(Millis, String)>>,
}

impl SqsMetrics {
    /// The last problem (a failed batch, a source error, failed deletes) and when.
    pub fn last_error(&self) -> Option<(Millis, String)> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn counters(&self) -> SqsCounters {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SqsCounters {
            received: get(&self.polled),
            invocations: get(&self.invocations),
            invoked_messages: get(&self.invoked_messages),
            deleted: get(&self.deleted),
            failed: get(&self.failed),
            filtered: get(&self.filtered),
            errors: get(&self.errors),
            throttles: get(&self.throttles),
            pollers: self.pollers.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            oldest_message_age_ms: get(&self.oldest_message_age_ms),
            last_error: self.last_error().map(|(_, error)| error),
        }
    }

    /// Counts what a journal entry of `poller` says happened.
    pub fn observe(&self, at: Millis, poller: usize, kind: &Decision) {
        match kind {
            Decision::Received { messages } => Self::add(&self.polled, *messages),
            Decision::Filtered { messages } => Self::add(&self.filtered, *messages),
            Decision::Invoked { messages, .. } => {
                Self::add(&self.invocations, 1);
                Self::add(&self.invoked_messages, *messages);
            }
            Decision::Throttled { .. } => Self::add(&self.throttles, 1),
            Decision::Settled {
                settled, returned, ..
            } => {
                match settled {
                    Settled::FunctionError(_) | Settled::InvalidResponse(_) => {
                        Self::add(&self.errors, 1);
                    }
                    Settled::GaveUp(_) => Self::add(&self.throttles, 1),
                    Settled::Success | Settled::PartialFailure(_) => {}
                }
                Self::add(&self.failed, *returned);
            }
            _ => {}
        }
        let mut holding = self.holding.lock().unwrap_or_else(|p| p.into_inner());
        let error = match kind {
            Decision::Invoked { .. } => {
                holding.insert(poller);
                None
            }
            Decision::Released { .. } => {
                holding.remove(&poller);
                None
            }
            Decision::Settled { settled, .. } => {
                holding.remove(&poller);
                match settled {
                    Settled::Success => None,
                    Settled::PartialFailure(ids) => {
                        Some(format!("{} message(s) reported failed", ids.len()))
                    }
                    Settled::InvalidResponse(why) => Some(format!("invalid response: {why}")),
                    Settled::FunctionError(why) => Some(why.clone()),
                    Settled::GaveUp(why) => Some(format!("gave up: {why}")),
                }
            }
            Decision::SourceFailed { call, error } => Some(format!("{call}: {error}")),
            Decision::DeleteFailed { failures } => {
                Some(format!("{} delete(s) failed", failures.len()))
            }
            Decision::Received { .. }
            | Decision::Filtered { .. }
            | Decision::Throttled { .. }
            | Decision::Scaled { .. } => None,
        };
        self.in_flight.store(holding.len(), Ordering::Relaxed);
        if let Some(error) = error {
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, error));
        }
    }
}

/// A queue mapping's counters at one moment (see [`SqsMetrics`] for what each counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqsCounters {
    /// Messages received.
    pub received: u64,
    /// Invocations.
    pub invocations: u64,
    /// Messages sent to the function.
    pub invoked_messages: u64,
    /// Messages deleted after success.
    pub deleted: u64,
    /// Messages left to return to the queue.
    pub failed: u64,
    /// Messages the filters dropped.
    pub filtered: u64,
    /// Failed invocations.
    pub errors: u64,
    /// Throttled invocations.
    pub throttles: u64,
    /// Pollers running.
    pub pollers: usize,
    /// Batches invoked and not yet settled.
    pub in_flight: usize,
    /// Age of the oldest message of the last receive, ms.
    pub oldest_message_age_ms: u64,
    /// The last problem.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests;
