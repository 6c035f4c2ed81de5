//! The SQS data model: queues and messages, as pure state.
//!
//! Invariants: no I/O, no clock (every call takes `now`), no HTTP types. Reads and decisions are
//! made by `&self` planning methods that return [`SqsMutation`] facts (which messages a receive
//! hands out, which move to a dead-letter queue, which are deleted); only [`SqsStore::apply`]
//! changes state, and the write-ahead log records exactly those facts, so a replay with the
//! recorded times rebuilds the same queues. A message is in exactly one state: delayed, visible,
//! or in flight (received and not yet visible again).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::AttributeValue;
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// FIFO deduplication window.
pub const DEDUPLICATION_WINDOW_MS: Millis = 5 * 60 * 1000;
/// How long a deleted queue's name stays unavailable.
pub const QUEUE_DELETED_RECENTLY_MS: Millis = 60 * 1000;
/// How often a queue may be purged.
pub const PURGE_INTERVAL_MS: Millis = 60 * 1000;
/// Longest a message may stay in flight after it was received.
pub const MAX_VISIBILITY_MS: Millis = 12 * 60 * 60 * 1000;

/// One message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Position in the queue (enqueue order).
    pub seq: u64,
    /// The MessageId.
    pub id: String,
    /// The body.
    pub body: String,
    /// MD5 of the body.
    pub md5_body: String,
    /// Message attributes.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// MD5 of the message attributes.
    pub md5_attributes: Option<String>,
    /// System attributes (`AWSTraceHeader`).
    pub system_attributes: BTreeMap<String, AttributeValue>,
    /// When it was first enqueued (kept when moved to a dead-letter queue).
    pub sent_ms: Millis,
    /// When its delay ends.
    pub available_ms: Millis,
    /// When it is (or becomes) visible; later than now while in flight.
    pub visible_ms: Millis,
    /// How many times it was received.
    pub receive_count: u32,
    /// When it was first received.
    pub first_receive_ms: Option<Millis>,
    /// When it was last received.
    pub last_receive_ms: Option<Millis>,
    /// Who sent it.
    pub sender_id: String,
    /// FIFO message group.
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    pub deduplication_id: Option<String>,
    /// FIFO sequence number.
    pub sequence_number: Option<String>,
    /// The queue it was moved from, if a redrive moved it here.
    pub dead_letter_source_arn: Option<String>,
}

impl Message {
    /// Whether it has been received and is not visible again yet.
    pub fn in_flight(&self, now: Millis) -> bool {
        self.receive_count > 0 && self.visible_ms > now
    }

    /// Whether its delay has not ended yet.
    pub fn delayed(&self, now: Millis) -> bool {
        self.receive_count == 0 && self.available_ms > now
    }

    /// Whether a receive may hand it out.
    pub fn visible(&self, now: Millis) -> bool {
        self.visible_ms <= now
    }
}

/// A FIFO deduplication entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deduplicated {
    /// When the original was sent.
    pub at_ms: Millis,
    /// The original's MessageId.
    pub message_id: String,
    /// The original's sequence number.
    pub sequence_number: String,
}

/// One queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queue {
    /// The name.
    pub name: String,
    /// When it was created.
    pub created_ms: Millis,
    /// When its attributes last changed.
    pub modified_ms: Millis,
    /// Settable attributes with their current values (defaults filled in), as AWS strings.
    pub attributes: BTreeMap<String, String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Messages by enqueue order.
    pub messages: BTreeMap<u64, Message>,
    /// The next enqueue position.
    pub next_seq: u64,
    /// FIFO deduplication entries by key.
    pub deduplication: BTreeMap<String, Deduplicated>,
    /// When it was last purged.
    pub last_purge_ms: Option<Millis>,
}

impl Queue {
    /// Whether this is a FIFO queue.
    pub fn fifo(&self) -> bool {
        self.attributes
            .get("FifoQueue")
            .is_some_and(|v| v == "true")
    }

    /// A numeric attribute.
    pub fn number(&self, name: &str) -> u64 {
        self.attributes
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }

    /// The dead-letter target ARN and maxReceiveCount of the RedrivePolicy, if set.
    pub fn redrive(&self) -> Option<(String, u32)> {
        let policy: serde_json::Value =
            serde_json::from_str(self.attributes.get("RedrivePolicy")?).ok()?;
        let target = policy.get("deadLetterTargetArn")?.as_str()?.to_owned();
        let max = match policy.get("maxReceiveCount")? {
            serde_json::Value::Number(n) => n.as_u64()?,
            serde_json::Value::String(s) => s.parse().ok()?,
            _ => return None,
        };
        Some((target, max as u32))
    }

    /// Whether a message sent at `sent_ms` has outlived the retention period at `now`.
    pub fn expired(&self, sent_ms: Millis, now: Millis) -> bool {
        sent_ms + self.number("MessageRetentionPeriod") * 1000 <= now
    }

    /// Drops expired messages from the front: cheap enough for every request. Messages are in
    /// send order except those moved in by a redrive, which the periodic full trim catches and
    /// receives skip meanwhile.
    fn trim_front(&mut self, now: Millis) {
        let retention = self.number("MessageRetentionPeriod") * 1000;
        while let Some(entry) = self.messages.first_entry() {
            if entry.get().sent_ms + retention > now {
                break;
            }
            entry.remove();
        }
    }

    fn trim(&mut self, now: Millis) {
        let retention = self.number("MessageRetentionPeriod") * 1000;
        self.messages.retain(|_, m| m.sent_ms + retention > now);
        self.deduplication
            .retain(|_, d| d.at_ms + DEDUPLICATION_WINDOW_MS > now);
    }

    /// Counts of visible, in-flight and delayed messages.
    pub fn counts(&self, now: Millis) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for message in self.messages.values() {
            if message.in_flight(now) {
                counts.1 += 1;
            } else if message.delayed(now) {
                counts.2 += 1;
            } else {
                counts.0 += 1;
            }
        }
        counts
    }

    /// The earliest time after `now` at which a message becomes visible.
    pub fn next_visible_at(&self, now: Millis) -> Option<Millis> {
        self.messages
            .values()
            .map(|m| m.visible_ms)
            .filter(|t| *t > now)
            .min()
    }
}

/// Every state change of the SQS store, as resolved facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SqsMutation {
    /// A queue was created.
    CreateQueue {
        /// Name.
        name: String,
        /// Settable attributes with defaults filled in.
        attributes: BTreeMap<String, String>,
        /// Tags.
        tags: BTreeMap<String, String>,
    },
    /// A queue was deleted.
    DeleteQueue {
        /// Name.
        name: String,
    },
    /// Attributes were set.
    SetAttributes {
        /// Queue.
        queue: String,
        /// New values.
        attributes: BTreeMap<String, String>,
    },
    /// Tags were added or overwritten.
    Tag {
        /// Queue.
        queue: String,
        /// Tags.
        tags: BTreeMap<String, String>,
    },
    /// Tags were removed.
    Untag {
        /// Queue.
        queue: String,
        /// Keys.
        keys: Vec<String>,
    },
    /// Messages were enqueued (their seq fields are assigned on apply) and FIFO deduplication
    /// entries recorded.
    Send {
        /// Queue.
        queue: String,
        /// The messages.
        messages: Vec<Message>,
    },
    /// A receive handed out messages and moved others to their dead-letter queue.
    Receive {
        /// Queue.
        queue: String,
        /// Messages handed out, and until when they are invisible.
        received: Vec<(u64, Millis)>,
        /// Messages moved to the dead-letter queue (queue name).
        moved: Vec<(u64, String)>,
    },
    /// Messages were deleted.
    Delete {
        /// Queue.
        queue: String,
        /// Their positions.
        seqs: Vec<u64>,
    },
    /// Visibility timeouts were changed.
    ChangeVisibility {
        /// Queue.
        queue: String,
        /// Message positions and when they become visible.
        changes: Vec<(u64, Millis)>,
    },
    /// The queue was purged of every message enqueued before.
    Purge {
        /// Queue.
        queue: String,
    },
}

/// Settings of the SQS store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SqsSettings {
    /// Region in ARNs.
    pub region: String,
    /// Account id in ARNs and URLs.
    pub account_id: String,
}

/// All queues of one emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SqsStore {
    /// Settings.
    pub settings: SqsSettings,
    /// Queues by name.
    pub queues: BTreeMap<String, Queue>,
    /// When recently deleted queues were deleted.
    pub deleted: BTreeMap<String, Millis>,
}

/// AWS's error for a queue that does not exist.
pub fn no_such_queue() -> ApiError {
    ApiError::new(
        ErrorCode::QueueDoesNotExist,
        "The specified queue does not exist.",
    )
}

impl SqsStore {
    /// An empty store.
    pub fn new(settings: SqsSettings) -> Self {
        Self {
            settings,
            queues: BTreeMap::new(),
            deleted: BTreeMap::new(),
        }
    }

    /// The ARN of queue `name`.
    pub fn queue_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.settings.region, self.settings.account_id
        )
    }

    /// The queue name an ARN of this account and region names.
    pub fn name_from_arn<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let prefix = format!(
            "arn:aws:sqs:{}:{}:",
            self.settings.region, self.settings.account_id
        );
        arn.strip_prefix(prefix.as_str()).filter(|n| !n.is_empty())
    }

    /// The queue `name`, or `QueueDoesNotExist`.
    pub fn queue(&self, name: &str) -> ApiResult<&Queue> {
        self.queues.get(name).ok_or_else(no_such_queue)
    }

    /// Trims expired messages and deduplication entries everywhere.
    pub fn tick(&mut self, now: Millis) {
        for queue in self.queues.values_mut() {
            queue.trim(now);
        }
        self.deleted
            .retain(|_, at| *at + QUEUE_DELETED_RECENTLY_MS > now);
    }

    /// Trims queue `name` and returns it.
    pub fn queue_at(&mut self, name: &str, now: Millis) -> ApiResult<&Queue> {
        let queue = self.queues.get_mut(name).ok_or_else(no_such_queue)?;
        queue.trim_front(now);
        Ok(queue)
    }

    /// Plans a receive of up to `max` messages, each hidden for `visibility_ms`.
    pub fn plan_receive(
        &self,
        name: &str,
        now: Millis,
        max: usize,
        visibility_ms: Millis,
    ) -> ApiResult<SqsMutation> {
        let queue = self.queue(name)?;
        let redrive = queue.redrive().and_then(|(arn, max_receives)| {
            let target = self.name_from_arn(&arn)?;
            self.queues
                .contains_key(target)
                .then(|| (target.to_owned(), max_receives))
        });
        let fifo = queue.fifo();
        let mut blocked: Vec<&str> = Vec::new();
        if fifo {
            for message in queue.messages.values().filter(|m| m.in_flight(now)) {
                blocked.extend(message.group_id.as_deref());
            }
        }
        let mut received = Vec::new();
        let mut moved = Vec::new();
        for message in queue.messages.values() {
            if received.len() >= max {
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
            if let Some((target, max_receives)) = &redrive
                && message.receive_count >= *max_receives
            {
                moved.push((message.seq, target.clone()));
                continue;
            }
            received.push((message.seq, now + visibility_ms));
        }
        Ok(SqsMutation::Receive {
            queue: name.to_owned(),
            received,
            moved,
        })
    }

    /// Applies a fact at `now`.
    pub fn apply(&mut self, now: Millis, mutation: &SqsMutation) {
        match mutation {
            SqsMutation::CreateQueue {
                name,
                attributes,
                tags,
            } => {
                self.deleted.remove(name);
                self.queues.insert(
                    name.clone(),
                    Queue {
                        name: name.clone(),
                        created_ms: now,
                        modified_ms: now,
                        attributes: attributes.clone(),
                        tags: tags.clone(),
                        messages: BTreeMap::new(),
                        next_seq: 1,
                        deduplication: BTreeMap::new(),
                        last_purge_ms: None,
                    },
                );
            }
            SqsMutation::DeleteQueue { name } => {
                if self.queues.remove(name).is_some() {
                    self.deleted.insert(name.clone(), now);
                }
            }
            SqsMutation::SetAttributes { queue, attributes } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue
                        .attributes
                        .extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                    queue.attributes.retain(|_, v| !v.is_empty());
                    queue.modified_ms = now;
                }
            }
            SqsMutation::Tag { queue, tags } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue
                        .tags
                        .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            SqsMutation::Untag { queue, keys } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    for key in keys {
                        queue.tags.remove(key);
                    }
                }
            }
            SqsMutation::Send { queue, messages } => {
                let Some(queue) = self.queues.get_mut(queue) else {
                    return;
                };
                for message in messages {
                    let mut message = message.clone();
                    message.seq = queue.next_seq;
                    queue.next_seq += 1;
                    if let (Some(key), Some(sequence_number)) =
                        (deduplication_key(queue, &message), &message.sequence_number)
                    {
                        queue.deduplication.insert(
                            key,
                            Deduplicated {
                                at_ms: now,
                                message_id: message.id.clone(),
                                sequence_number: sequence_number.clone(),
                            },
                        );
                    }
                    queue.messages.insert(message.seq, message);
                }
            }
            SqsMutation::Receive {
                queue: name,
                received,
                moved,
            } => {
                let source_arn = self.queue_arn(name);
                let mut moving = Vec::new();
                if let Some(queue) = self.queues.get_mut(name) {
                    for (seq, until) in received {
                        if let Some(message) = queue.messages.get_mut(seq) {
                            message.receive_count += 1;
                            message.first_receive_ms.get_or_insert(now);
                            message.last_receive_ms = Some(now);
                            message.visible_ms = *until;
                        }
                    }
                    for (seq, target) in moved {
                        if let Some(message) = queue.messages.remove(seq) {
                            moving.push((message, target.clone()));
                        }
                    }
                }
                for (mut message, target) in moving {
                    if let Some(dlq) = self.queues.get_mut(&target) {
                        message.seq = dlq.next_seq;
                        dlq.next_seq += 1;
                        message.visible_ms = now;
                        message.available_ms = now;
                        message.dead_letter_source_arn = Some(source_arn.clone());
                        dlq.messages.insert(message.seq, message);
                    }
                }
            }
            SqsMutation::Delete { queue, seqs } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    for seq in seqs {
                        queue.messages.remove(seq);
                    }
                }
            }
            SqsMutation::ChangeVisibility { queue, changes } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    for (seq, visible_ms) in changes {
                        if let Some(message) = queue.messages.get_mut(seq) {
                            message.visible_ms = *visible_ms;
                        }
                    }
                }
            }
            SqsMutation::Purge { queue } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.messages.clear();
                    queue.last_purge_ms = Some(now);
                }
            }
        }
    }
}

/// The FIFO deduplication key of a message in `queue` (per queue or per message group).
pub fn deduplication_key(queue: &Queue, message: &Message) -> Option<String> {
    let id = message.deduplication_id.as_deref()?;
    if !queue.fifo() {
        return None;
    }
    let per_group = queue
        .attributes
        .get("DeduplicationScope")
        .is_some_and(|s| s == "messageGroup");
    Some(if per_group {
        format!(
            "{}\u{0}{id}",
            message.group_id.as_deref().unwrap_or_default()
        )
    } else {
        id.to_owned()
    })
}
