//! One queue: its attributes as AWS strings, the settings the hot paths read parsed from them
//! once per change, its messages, deduplication entries, and the index derived from them.
//!
//! Invariant: `settings` always reflects `attributes`, and the index always reflects the
//! messages as of its horizon: every change to either goes through the methods here, which the
//! store's `apply` calls; a loaded snapshot rebuilds both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::index::MessageIndex;
use super::{DEDUPLICATION_WINDOW_MS, Message};
use crate::clock::Millis;

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
#[serde(from = "QueueData")]
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
    /// The attributes the hot paths read, parsed once per change.
    #[serde(skip)]
    pub(super) settings: QueueSettings,
    /// Which messages are visible and when the hidden ones become visible.
    #[serde(skip)]
    pub(super) index: MessageIndex,
}

/// [`Queue`] as stored: the same fields in the same order, without the derived ones.
#[derive(Deserialize)]
struct QueueData {
    name: String,
    created_ms: Millis,
    modified_ms: Millis,
    attributes: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    messages: BTreeMap<u64, Message>,
    next_seq: u64,
    deduplication: BTreeMap<String, Deduplicated>,
    last_purge_ms: Option<Millis>,
}

impl From<QueueData> for Queue {
    fn from(data: QueueData) -> Self {
        let mut queue = Queue {
            name: data.name,
            created_ms: data.created_ms,
            modified_ms: data.modified_ms,
            attributes: data.attributes,
            tags: data.tags,
            messages: data.messages,
            next_seq: data.next_seq,
            deduplication: data.deduplication,
            last_purge_ms: data.last_purge_ms,
            settings: QueueSettings::default(),
            index: MessageIndex::default(),
        };
        queue.settings = QueueSettings::parse(&queue.attributes);
        queue.rebuild_index(0);
        queue
    }
}

/// The attributes receives and sends read on every call, parsed from [`Queue::attributes`].
#[derive(Debug, Clone, Default)]
pub(super) struct QueueSettings {
    pub(super) fifo: bool,
    pub(super) retention_ms: Millis,
    pub(super) visibility_timeout_seconds: u64,
    pub(super) delay_seconds: u64,
    pub(super) maximum_message_size: u64,
    pub(super) receive_wait_seconds: u64,
    pub(super) content_based_deduplication: bool,
    pub(super) deduplication_per_group: bool,
    /// The RedrivePolicy's target ARN and maxReceiveCount.
    pub(super) redrive: Option<(String, u32)>,
}

impl QueueSettings {
    pub(super) fn parse(attributes: &BTreeMap<String, String>) -> Self {
        let number = |name: &str| -> u64 {
            attributes
                .get(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        let is = |name: &str, value: &str| attributes.get(name).is_some_and(|v| v == value);
        Self {
            fifo: is("FifoQueue", "true"),
            retention_ms: number("MessageRetentionPeriod") * 1000,
            visibility_timeout_seconds: number("VisibilityTimeout"),
            delay_seconds: number("DelaySeconds"),
            maximum_message_size: number("MaximumMessageSize"),
            receive_wait_seconds: number("ReceiveMessageWaitTimeSeconds"),
            content_based_deduplication: is("ContentBasedDeduplication", "true"),
            deduplication_per_group: is("DeduplicationScope", "messageGroup"),
            redrive: attributes
                .get("RedrivePolicy")
                .and_then(|policy| parse_redrive(policy)),
        }
    }
}

fn parse_redrive(policy: &str) -> Option<(String, u32)> {
    let policy: serde_json::Value = serde_json::from_str(policy).ok()?;
    let target = policy.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let max = match policy.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((target, max as u32))
}

impl Queue {
    /// A new, empty queue created at `now`.
    pub(super) fn new(
        name: String,
        now: Millis,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Self {
        let mut queue = Queue {
            name,
            created_ms: now,
            modified_ms: now,
            attributes,
            tags,
            messages: BTreeMap::new(),
            next_seq: 1,
            deduplication: BTreeMap::new(),
            last_purge_ms: None,
            settings: QueueSettings::default(),
            index: MessageIndex::default(),
        };
        queue.attributes_changed();
        queue.rebuild_index(now);
        queue
    }

    /// Whether this is a FIFO queue.
    pub fn fifo(&self) -> bool {
        self.settings.fifo
    }

    /// A numeric attribute.
    pub fn number(&self, name: &str) -> u64 {
        self.attributes
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }

    /// VisibilityTimeout, seconds.
    pub fn visibility_timeout_seconds(&self) -> u64 {
        self.settings.visibility_timeout_seconds
    }

    /// DelaySeconds, seconds.
    pub fn delay_seconds(&self) -> u64 {
        self.settings.delay_seconds
    }

    /// MaximumMessageSize, bytes.
    pub fn maximum_message_size(&self) -> u64 {
        self.settings.maximum_message_size
    }

    /// ReceiveMessageWaitTimeSeconds, seconds.
    pub fn receive_wait_seconds(&self) -> u64 {
        self.settings.receive_wait_seconds
    }

    /// Whether ContentBasedDeduplication is on.
    pub fn content_based_deduplication(&self) -> bool {
        self.settings.content_based_deduplication
    }

    /// The dead-letter target ARN and maxReceiveCount of the RedrivePolicy, if set.
    pub fn redrive(&self) -> Option<(String, u32)> {
        self.settings.redrive.clone()
    }

    /// Whether a message sent at `sent_ms` has outlived the retention period at `now`.
    pub fn expired(&self, sent_ms: Millis, now: Millis) -> bool {
        sent_ms + self.settings.retention_ms <= now
    }

    /// Re-reads the settings after the attributes changed.
    pub(super) fn attributes_changed(&mut self) {
        self.settings = QueueSettings::parse(&self.attributes);
    }

    /// Rebuilds the index from the messages, as of `now`.
    pub(super) fn rebuild_index(&mut self, now: Millis) {
        let mut index = MessageIndex {
            horizon: now,
            ..MessageIndex::default()
        };
        for message in self.messages.values() {
            index.insert(message);
        }
        self.index = index;
    }

    /// Brings the index up to `now`: messages whose visibility time has come become visible.
    /// A clock that went back rebuilds it.
    pub(super) fn catch_up(&mut self, now: Millis) {
        if now < self.index.horizon {
            self.rebuild_index(now);
            return;
        }
        self.index.horizon = now;
        while let Some(&(at, seq)) = self.index.hidden.first() {
            if at > now {
                break;
            }
            self.index.hidden.pop_first();
            if let Some(message) = self.messages.get(&seq) {
                self.index.unhide_group(message);
            }
            self.index.visible.insert(seq);
        }
    }

    /// Adds `message` at its position.
    pub(super) fn insert_message(&mut self, message: Message) {
        self.index.insert(&message);
        self.messages.insert(message.seq, message);
    }

    pub(super) fn remove_message(&mut self, seq: u64) -> Option<Message> {
        let message = self.messages.remove(&seq)?;
        self.index.remove(&message);
        Some(message)
    }

    /// Changes message `seq` (its timestamps or receive count), keeping the index in step.
    pub(super) fn update_message(&mut self, seq: u64, change: impl FnOnce(&mut Message)) {
        if let Some(message) = self.messages.get_mut(&seq) {
            self.index.remove(message);
            change(message);
            self.index.insert(message);
        }
    }

    /// Drops expired messages from the front: cheap enough for every request. Messages are in
    /// send order except those moved in by a redrive, which the periodic full trim catches and
    /// receives skip meanwhile.
    pub(super) fn trim_front(&mut self, now: Millis) {
        let retention = self.settings.retention_ms;
        while let Some((&seq, message)) = self.messages.first_key_value() {
            if message.sent_ms + retention > now {
                break;
            }
            self.remove_message(seq);
        }
    }

    pub(super) fn trim(&mut self, now: Millis) {
        let retention = self.settings.retention_ms;
        let expired: Vec<u64> = self
            .messages
            .values()
            .filter(|m| m.sent_ms + retention <= now)
            .map(|m| m.seq)
            .collect();
        for seq in expired {
            self.remove_message(seq);
        }
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

    /// Whether some message was visible when the index was last brought up to date.
    pub fn has_visible(&self) -> bool {
        !self.index.visible.is_empty()
    }

    /// The earliest time after `now` at which a message becomes visible.
    pub fn next_visible_at(&self, now: Millis) -> Option<Millis> {
        if now < self.index.horizon {
            // Only when the clock went back since the index was brought up to date.
            return self
                .messages
                .values()
                .map(|m| m.visible_ms)
                .filter(|t| *t > now)
                .min();
        }
        self.index
            .hidden
            .range((now + 1, 0)..)
            .next()
            .map(|(at, _)| *at)
    }
}
