//! The SQS data model: queues and messages, as pure state.
//!
//! Invariants: no I/O, no clock (every call takes `now`), no HTTP types. Reads and decisions are
//! made by `&self` planning methods that return [`Mutation`] facts (which messages a receive
//! hands out, which move to a dead-letter queue, which are deleted); only [`SqsStore::apply`]
//! changes what a queue holds, and the write-ahead log records exactly those facts, so a replay
//! with the recorded times rebuilds the same queues. The one other change is expiry: messages
//! past their queue's retention, deduplication entries past their window and the names of
//! queues deleted long enough ago are dropped by [`SqsStore::tick`] and [`SqsStore::queue_at`]
//! as a function of `now` alone, never logged, as a replay reaches the same times again. A
//! message is in exactly one state: delayed, visible, or in flight (received and not yet
//! visible again).
//!
//! `queue` holds one queue with its parsed settings, `index` the derived index of where its
//! messages stand, `plan` the planning of receives against it.

mod index;
mod plan;
mod queue;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::queue::{Deduplicated, Queue};
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

/// Every state change of the SQS store, as resolved facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Mutation {
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
pub struct StoreSettings {
    /// Region in ARNs.
    pub region: String,
    /// Account id in ARNs and URLs.
    pub account_id: String,
}

/// All queues of one emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SqsStore {
    /// Settings.
    pub settings: StoreSettings,
    /// Queues by name: private, so that only [`SqsStore::apply`] and expiry change them.
    queues: BTreeMap<String, Queue>,
    /// When recently deleted queues were deleted.
    deleted: BTreeMap<String, Millis>,
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
    pub fn new(settings: StoreSettings) -> Self {
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

    /// Every queue, by name.
    pub fn queues(&self) -> &BTreeMap<String, Queue> {
        &self.queues
    }

    /// Whether a queue `name` was deleted too recently at `now` to create it again.
    pub fn deleted_recently(&self, name: &str, now: Millis) -> bool {
        self.deleted
            .get(name)
            .is_some_and(|at| *at + QUEUE_DELETED_RECENTLY_MS > now)
    }

    /// The queue `name`, or `QueueDoesNotExist`.
    pub fn queue(&self, name: &str) -> ApiResult<&Queue> {
        self.queues.get(name).ok_or_else(no_such_queue)
    }

    /// Trims expired messages and deduplication entries everywhere.
    pub fn tick(&mut self, now: Millis) {
        for queue in self.queues.values_mut() {
            queue.catch_up(now);
            queue.trim(now);
        }
        self.deleted
            .retain(|_, at| *at + QUEUE_DELETED_RECENTLY_MS > now);
    }

    /// Brings queue `name` up to `now` (trims expired messages from its front, makes the
    /// messages whose visibility time has come visible) and returns it.
    pub fn queue_at(&mut self, name: &str, now: Millis) -> ApiResult<&Queue> {
        let queue = self.queues.get_mut(name).ok_or_else(no_such_queue)?;
        queue.catch_up(now);
        queue.trim_front(now);
        Ok(queue)
    }

    /// Applies a fact at `now`.
    pub fn apply(&mut self, now: Millis, mutation: &Mutation) {
        if let Mutation::Send { queue, messages } = mutation {
            self.send(now, queue, messages.iter().cloned());
        } else {
            self.apply_other(now, mutation);
        }
    }

    /// [`SqsStore::apply`], taking the fact by value so sent messages are moved, not copied.
    pub fn apply_owned(&mut self, now: Millis, mutation: Mutation) {
        if let Mutation::Send { queue, messages } = mutation {
            self.send(now, &queue, messages.into_iter());
        } else {
            self.apply_other(now, &mutation);
        }
    }

    fn send(&mut self, now: Millis, queue: &str, messages: impl Iterator<Item = Message>) {
        let Some(queue) = self.queues.get_mut(queue) else {
            return;
        };
        queue.catch_up(now);
        for mut message in messages {
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
            queue.insert_message(message);
        }
    }

    fn apply_other(&mut self, now: Millis, mutation: &Mutation) {
        match mutation {
            Mutation::CreateQueue {
                name,
                attributes,
                tags,
            } => {
                self.deleted.remove(name);
                let queue = Queue::new(name.clone(), now, attributes.clone(), tags.clone());
                self.queues.insert(name.clone(), queue);
            }
            Mutation::DeleteQueue { name } => {
                if self.queues.remove(name).is_some() {
                    self.deleted.insert(name.clone(), now);
                }
            }
            Mutation::SetAttributes { queue, attributes } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue
                        .attributes
                        .extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                    queue.attributes.retain(|_, v| !v.is_empty());
                    queue.attributes_changed();
                    queue.modified_ms = now;
                }
            }
            Mutation::Tag { queue, tags } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue
                        .tags
                        .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            Mutation::Untag { queue, keys } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    for key in keys {
                        queue.tags.remove(key);
                    }
                }
            }
            Mutation::Send { .. } => unreachable!("sends are applied by SqsStore::send"),
            Mutation::Receive {
                queue: name,
                received,
                moved,
            } => {
                let mut moving = Vec::new();
                if let Some(queue) = self.queues.get_mut(name) {
                    queue.catch_up(now);
                    for (seq, until) in received {
                        queue.update_message(*seq, |message| {
                            message.receive_count += 1;
                            message.first_receive_ms.get_or_insert(now);
                            message.last_receive_ms = Some(now);
                            message.visible_ms = *until;
                        });
                    }
                    for (seq, target) in moved {
                        if let Some(message) = queue.remove_message(*seq) {
                            moving.push((message, target));
                        }
                    }
                }
                if moving.is_empty() {
                    return;
                }
                let source_arn = self.queue_arn(name);
                for (mut message, target) in moving {
                    if let Some(dlq) = self.queues.get_mut(target) {
                        dlq.catch_up(now);
                        message.seq = dlq.next_seq;
                        dlq.next_seq += 1;
                        message.visible_ms = now;
                        message.available_ms = now;
                        message.dead_letter_source_arn = Some(source_arn.clone());
                        dlq.insert_message(message);
                    }
                }
            }
            Mutation::Delete { queue, seqs } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.catch_up(now);
                    for seq in seqs {
                        queue.remove_message(*seq);
                    }
                }
            }
            Mutation::ChangeVisibility { queue, changes } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.catch_up(now);
                    for (seq, visible_ms) in changes {
                        queue.update_message(*seq, |message| message.visible_ms = *visible_ms);
                    }
                }
            }
            Mutation::Purge { queue } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.messages.clear();
                    queue.index.clear();
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
    Some(if queue.settings.deduplication_per_group {
        format!(
            "{}\u{0}{id}",
            message.group_id.as_deref().unwrap_or_default()
        )
    } else {
        id.to_owned()
    })
}
