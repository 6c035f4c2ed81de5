//! Planning receives: which visible messages a receive hands out and which it moves to the
//! dead-letter queue, by the index or, when the index is not up to `now`, by a scan.
//!
//! Invariant: both ways plan the same receive (the store's tests check it); planning reads the
//! store and changes nothing.

use super::{Message, Mutation, Queue, SqsStore};
use crate::clock::Millis;
use crate::error::ApiResult;

/// What a receive hands out: each message offered is received (hidden until `hidden_until`), or
/// moved to the dead-letter queue when it was received maxReceiveCount times already.
pub(super) struct ReceivePlan<'a> {
    redrive: Option<(&'a str, u32)>,
    hidden_until: Millis,
    received: Vec<(u64, Millis)>,
    moved: Vec<(u64, String)>,
}

impl<'a> ReceivePlan<'a> {
    fn new(redrive: Option<(&'a str, u32)>, hidden_until: Millis) -> Self {
        Self {
            redrive,
            hidden_until,
            received: Vec::new(),
            moved: Vec::new(),
        }
    }

    fn offer(&mut self, message: &Message) {
        match self.redrive {
            Some((target, max_receives)) if message.receive_count >= max_receives => {
                self.moved.push((message.seq, target.to_owned()));
            }
            _ => self.received.push((message.seq, self.hidden_until)),
        }
    }

    /// Offers the first visible messages of `queue` in enqueue order until `max` are received,
    /// visiting only the visible ones: the index must be up to `now`.
    fn by_index(&mut self, queue: &Queue, now: Millis, max: usize) {
        let fifo = queue.fifo();
        let retention = queue.settings.retention_ms;
        for seq in &queue.index.visible {
            if self.received.len() >= max {
                break;
            }
            let Some(message) = queue.messages.get(seq) else {
                continue;
            };
            if (fifo && queue.index.group_blocked(message)) || message.sent_ms + retention <= now {
                continue;
            }
            self.offer(message);
        }
    }

    /// [`ReceivePlan::by_index`] by looking at every message of the queue (also the store's
    /// tests' oracle for it).
    pub(super) fn by_scan(&mut self, queue: &Queue, now: Millis, max: usize) {
        let fifo = queue.fifo();
        let mut blocked: Vec<&str> = Vec::new();
        if fifo {
            for message in queue.messages.values().filter(|m| m.in_flight(now)) {
                blocked.extend(message.group_id.as_deref());
            }
        }
        for message in queue.messages.values() {
            if self.received.len() >= max {
                break;
            }
            let group = message.group_id.as_deref().unwrap_or_default();
            if (fifo && blocked.contains(&group)) || queue.expired(message.sent_ms, now) {
                continue;
            }
            if !message.visible(now) {
                if fifo {
                    blocked.push(group);
                }
                continue;
            }
            self.offer(message);
        }
    }

    fn into_mutation(self, queue: &str) -> Mutation {
        Mutation::Receive {
            queue: queue.to_owned(),
            received: self.received,
            moved: self.moved,
        }
    }
}

impl SqsStore {
    /// The dead-letter queue a receive from `queue` moves messages to, with maxReceiveCount.
    fn redrive_target(&self, queue: &Queue) -> Option<(&str, u32)> {
        let (arn, max_receives) = queue.settings.redrive.as_ref()?;
        let target = self.name_from_arn(arn)?;
        let (name, _) = self.queues.get_key_value(target)?;
        Some((name.as_str(), *max_receives))
    }

    /// Plans a receive of up to `max` messages, each hidden for `visibility_ms`: the first
    /// visible messages in enqueue order, skipping expired ones and, in a FIFO queue, those
    /// whose group has a message in flight or an earlier one delayed; a message already received
    /// maxReceiveCount times moves to the dead-letter queue instead.
    ///
    /// Visits only visible messages when the queue was brought up to `now` with
    /// [`SqsStore::queue_at`], as receives do; otherwise it scans the whole queue.
    pub fn plan_receive(
        &self,
        name: &str,
        now: Millis,
        max: usize,
        visibility_ms: Millis,
    ) -> ApiResult<Mutation> {
        self.plan(name, now + visibility_ms, |plan, queue| {
            if queue.index.horizon == now {
                plan.by_index(queue, now, max);
            } else {
                plan.by_scan(queue, now, max);
            }
        })
    }

    /// A receive from queue `name` hiding messages until `hidden_until`, filled by `fill`.
    pub(super) fn plan(
        &self,
        name: &str,
        hidden_until: Millis,
        fill: impl FnOnce(&mut ReceivePlan<'_>, &Queue),
    ) -> ApiResult<Mutation> {
        let queue = self.queue(name)?;
        let mut plan = ReceivePlan::new(self.redrive_target(queue), hidden_until);
        fill(&mut plan, queue);
        Ok(plan.into_mutation(name))
    }
}
