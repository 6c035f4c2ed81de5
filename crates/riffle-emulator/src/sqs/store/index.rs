//! The derived index of one queue: which messages are visible, when the hidden ones become
//! visible, and for FIFO queues which message groups are blocked. Never persisted; rebuilt on
//! load and whenever the clock goes back.

use std::collections::{BTreeSet, HashMap};

use super::Message;
use crate::clock::Millis;

/// Where each message of a queue stands, derived from its timestamps at `horizon`.
///
/// Invariants (after [`Queue::catch_up`](super::Queue::catch_up) to `now`, which every receive
/// and every applied fact does first): every message is in exactly one of `visible` (its `visible_ms <= horizon`) and
/// `hidden` (keyed by its `visible_ms`, later than `horizon`); for a FIFO queue, `in_flight`
/// counts the hidden messages with a receive per group, and `delayed` holds the positions of the
/// hidden messages never received per group.
#[derive(Debug, Clone, Default)]
pub(super) struct MessageIndex {
    pub(super) horizon: Millis,
    pub(super) visible: BTreeSet<u64>,
    pub(super) hidden: BTreeSet<(Millis, u64)>,
    pub(super) in_flight: HashMap<String, usize>,
    pub(super) delayed: HashMap<String, BTreeSet<u64>>,
}

impl MessageIndex {
    pub(super) fn insert(&mut self, message: &Message) {
        if message.visible_ms <= self.horizon {
            self.visible.insert(message.seq);
        } else {
            self.hide(message);
        }
    }

    pub(super) fn hide(&mut self, message: &Message) {
        self.hidden.insert((message.visible_ms, message.seq));
        let Some(group) = &message.group_id else {
            return;
        };
        if message.receive_count > 0 {
            *self.in_flight.entry(group.clone()).or_default() += 1;
        } else {
            self.delayed
                .entry(group.clone())
                .or_default()
                .insert(message.seq);
        }
    }

    /// Forgets `message` as it is now (call before changing its timestamps or receive count).
    pub(super) fn remove(&mut self, message: &Message) {
        if !self.visible.remove(&message.seq)
            && self.hidden.remove(&(message.visible_ms, message.seq))
        {
            self.unhide_group(message);
        }
    }

    pub(super) fn unhide_group(&mut self, message: &Message) {
        let Some(group) = &message.group_id else {
            return;
        };
        if message.receive_count > 0 {
            if let Some(count) = self.in_flight.get_mut(group) {
                *count -= 1;
                if *count == 0 {
                    self.in_flight.remove(group);
                }
            }
        } else if let Some(seqs) = self.delayed.get_mut(group) {
            seqs.remove(&message.seq);
            if seqs.is_empty() {
                self.delayed.remove(group);
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.visible.clear();
        self.hidden.clear();
        self.in_flight.clear();
        self.delayed.clear();
    }

    /// Whether a receive must pass over `message` of a FIFO queue because its group has a
    /// message in flight, or an earlier message still delayed.
    pub(super) fn group_blocked(&self, message: &Message) -> bool {
        let Some(group) = &message.group_id else {
            return false;
        };
        self.in_flight.contains_key(group)
            || self
                .delayed
                .get(group)
                .and_then(BTreeSet::first)
                .is_some_and(|first| *first < message.seq)
    }
}
