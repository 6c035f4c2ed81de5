//! Enhanced fan-out delivery: the event-stream framing ([`frame`]), the subscription state
//! machine ([`subscription`]) and the [`Hub`] that ties subscriptions to the store: who is
//! subscribed to which shard through which consumer, the change signal the store raises on
//! every commit, and the shutdown signal.
//!
//! Invariants: a subscription waits on the change signal (marked seen before it reads the store),
//! the log's durability signal and the injected clock, never on a timer of its own; one
//! (consumer, shard) has at most one live subscription: a second SubscribeToShard within
//! [`RESUBSCRIBE_GUARD_MS`] of the last successful one is refused, a later one takes over and
//! the earlier ends with `ResourceInUseException`; closing the hub ends every subscription.

pub(crate) mod frame;
pub(crate) mod subscription;

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{oneshot, watch};

use crate::clock::Millis;

/// How soon after a successful SubscribeToShard the same consumer may subscribe to the same
/// shard again.
pub(crate) const RESUBSCRIBE_GUARD_MS: Millis = 5_000;
/// How long a subscription lasts.
pub(crate) const SUBSCRIPTION_LIFETIME_MS: Millis = 300_000;
/// Longest quiet time between two events of a subscription.
pub(crate) const HEARTBEAT_MS: Millis = 5_000;

/// The last successful subscription of one (consumer, shard).
#[derive(Debug)]
struct Slot {
    started_ms: Millis,
    takeover: Option<oneshot::Sender<()>>,
}

/// The subscriptions of one emulator and the signals they wait on.
#[derive(Debug)]
pub(crate) struct Hub {
    changes: watch::Sender<u64>,
    closed: watch::Sender<bool>,
    slots: Mutex<HashMap<(String, u32), Slot>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            changes: watch::Sender::new(0),
            closed: watch::Sender::new(false),
            slots: Mutex::default(),
        }
    }
}

/// What a subscription receives when it starts: its takeover signal and the hub's signals.
#[derive(Debug)]
pub(crate) struct Signals {
    pub(crate) takeover: oneshot::Receiver<()>,
    pub(crate) changes: watch::Receiver<u64>,
    pub(crate) closed: watch::Receiver<bool>,
}

impl Hub {
    /// The store changed (records appended, a shard closed, a consumer deregistered…).
    pub(crate) fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Ends every subscription, now and from now on (emulator shutdown).
    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Starts a subscription of `consumer_arn` to `shard` at `now`: `Err(())` if the last one
    /// started less than [`RESUBSCRIBE_GUARD_MS`] ago; otherwise the earlier one (if still
    /// running) is told to end.
    pub(crate) fn start(&self, consumer_arn: &str, shard: u32, now: Millis) -> Result<Signals, ()> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let key = (consumer_arn.to_owned(), shard);
        if let Some(slot) = slots.get_mut(&key) {
            if now < slot.started_ms + RESUBSCRIBE_GUARD_MS {
                return Err(());
            }
            if let Some(previous) = slot.takeover.take() {
                let _ = previous.send(());
            }
        }
        let (takeover, taken_over) = oneshot::channel();
        slots.insert(
            key,
            Slot {
                started_ms: now,
                takeover: Some(takeover),
            },
        );
        Ok(Signals {
            takeover: taken_over,
            changes: self.changes.subscribe(),
            closed: self.closed.subscribe(),
        })
    }
}
