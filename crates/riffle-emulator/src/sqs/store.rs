//! The SQS data model: queues and messages, as pure state.
//!
//! Invariants: no I/O, no clock (every call takes `now`), no HTTP types. Reads and decisions are
//! made by `&self` planning methods that return [`SqsMutation`] facts (which messages a receive
//! hands out, which move to a dead-letter queue, which are deleted); only [`SqsStore::apply`]
//! changes state, and the write-ahead log records exactly those facts, so a replay with the
//! recorded times rebuilds the same queues. A message is in exactly one state: delayed, visible,
//! or in flight (received and not yet visible again).
//!
//! Each queue also keeps a derived index, never persisted and rebuilt on load: the positions of
//! messages that are visible, the hidden ones (in flight or delayed) by the time they become
//! visible, and for FIFO queues the message groups with messages in flight or delayed. It is
//! brought up to `now` ([`Queue::catch_up`]) before every receive and every applied fact, so a
//! receive visits only visible messages and the next visibility time is the first hidden entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    settings: QueueSettings,
    /// Which messages are visible and when the hidden ones become visible.
    #[serde(skip)]
    index: MessageIndex,
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
struct QueueSettings {
    fifo: bool,
    retention_ms: Millis,
    visibility_timeout_seconds: u64,
    delay_seconds: u64,
    maximum_message_size: u64,
    receive_wait_seconds: u64,
    content_based_deduplication: bool,
    deduplication_per_group: bool,
    /// The RedrivePolicy's target ARN and maxReceiveCount.
    redrive: Option<(String, u32)>,
}

impl QueueSettings {
    fn parse(attributes: &BTreeMap<String, String>) -> Self {
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

/// Where each message of a queue stands, derived from its timestamps at `horizon`.
///
/// Invariants (after [`Queue::catch_up`] to `now`, which every receive and every applied fact
/// does first): every message is in exactly one of `visible` (its `visible_ms <= horizon`) and
/// `hidden` (keyed by its `visible_ms`, later than `horizon`); for a FIFO queue, `in_flight`
/// counts the hidden messages with a receive per group, and `delayed` holds the positions of the
/// hidden messages never received per group.
#[derive(Debug, Clone, Default)]
struct MessageIndex {
    horizon: Millis,
    visible: BTreeSet<u64>,
    hidden: BTreeSet<(Millis, u64)>,
    in_flight: HashMap<String, usize>,
    delayed: HashMap<String, BTreeSet<u64>>,
}

impl MessageIndex {
    fn insert(&mut self, message: &Message) {
        if message.visible_ms <= self.horizon {
            self.visible.insert(message.seq);
        } else {
            self.hide(message);
        }
    }

    fn hide(&mut self, message: &Message) {
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
    fn remove(&mut self, message: &Message) {
        if !self.visible.remove(&message.seq)
            && self.hidden.remove(&(message.visible_ms, message.seq))
        {
            self.unhide_group(message);
        }
    }

    fn unhide_group(&mut self, message: &Message) {
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

    fn clear(&mut self) {
        self.visible.clear();
        self.hidden.clear();
        self.in_flight.clear();
        self.delayed.clear();
    }

    /// Whether a receive must pass over `message` of a FIFO queue because its group has a
    /// message in flight, or an earlier message still delayed.
    fn group_blocked(&self, message: &Message) -> bool {
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

impl Queue {
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
    fn attributes_changed(&mut self) {
        self.settings = QueueSettings::parse(&self.attributes);
    }

    /// Rebuilds the index from the messages, as of `now`.
    fn rebuild_index(&mut self, now: Millis) {
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
    pub fn catch_up(&mut self, now: Millis) {
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
    fn insert_message(&mut self, message: Message) {
        self.index.insert(&message);
        self.messages.insert(message.seq, message);
    }

    fn remove_message(&mut self, seq: u64) -> Option<Message> {
        let message = self.messages.remove(&seq)?;
        self.index.remove(&message);
        Some(message)
    }

    /// Changes message `seq` (its timestamps or receive count), keeping the index in step.
    fn update_message(&mut self, seq: u64, change: impl FnOnce(&mut Message)) {
        if let Some(message) = self.messages.get_mut(&seq) {
            self.index.remove(message);
            change(message);
            self.index.insert(message);
        }
    }

    /// Drops expired messages from the front: cheap enough for every request. Messages are in
    /// send order except those moved in by a redrive, which the periodic full trim catches and
    /// receives skip meanwhile.
    fn trim_front(&mut self, now: Millis) {
        let retention = self.settings.retention_ms;
        while let Some((&seq, message)) = self.messages.first_key_value() {
            if message.sent_ms + retention > now {
                break;
            }
            self.remove_message(seq);
        }
    }

    fn trim(&mut self, now: Millis) {
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

/// What a receive hands out: each message offered is received (hidden until `hidden_until`), or
/// moved to the dead-letter queue when it was received maxReceiveCount times already.
struct ReceivePlan<'a> {
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

    fn into_mutation(self, queue: &str) -> SqsMutation {
        SqsMutation::Receive {
            queue: queue.to_owned(),
            received: self.received,
            moved: self.moved,
        }
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
    ) -> ApiResult<SqsMutation> {
        let queue = self.queue(name)?;
        if queue.index.horizon != now {
            return self.plan_receive_by_scan(name, now, max, visibility_ms);
        }
        let mut plan = ReceivePlan::new(self.redrive_target(queue), now + visibility_ms);
        let fifo = queue.fifo();
        let retention = queue.settings.retention_ms;
        for seq in &queue.index.visible {
            if plan.received.len() >= max {
                break;
            }
            let Some(message) = queue.messages.get(seq) else {
                continue;
            };
            if (fifo && queue.index.group_blocked(message)) || message.sent_ms + retention <= now {
                continue;
            }
            plan.offer(message);
        }
        Ok(plan.into_mutation(name))
    }

    /// [`SqsStore::plan_receive`] by looking at every message of the queue.
    fn plan_receive_by_scan(
        &self,
        name: &str,
        now: Millis,
        max: usize,
        visibility_ms: Millis,
    ) -> ApiResult<SqsMutation> {
        let queue = self.queue(name)?;
        let mut plan = ReceivePlan::new(self.redrive_target(queue), now + visibility_ms);
        let fifo = queue.fifo();
        let mut blocked: Vec<&str> = Vec::new();
        if fifo {
            for message in queue.messages.values().filter(|m| m.in_flight(now)) {
                blocked.extend(message.group_id.as_deref());
            }
        }
        for message in queue.messages.values() {
            if plan.received.len() >= max {
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
            plan.offer(message);
        }
        Ok(plan.into_mutation(name))
    }

    /// Applies a fact at `now`.
    pub fn apply(&mut self, now: Millis, mutation: &SqsMutation) {
        if let SqsMutation::Send { queue, messages } = mutation {
            self.send(now, queue, messages.iter().cloned());
        } else {
            self.apply_other(now, mutation);
        }
    }

    /// [`SqsStore::apply`], taking the fact by value so sent messages are moved, not copied.
    pub fn apply_owned(&mut self, now: Millis, mutation: SqsMutation) {
        if let SqsMutation::Send { queue, messages } = mutation {
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

    fn apply_other(&mut self, now: Millis, mutation: &SqsMutation) {
        match mutation {
            SqsMutation::CreateQueue {
                name,
                attributes,
                tags,
            } => {
                self.deleted.remove(name);
                let mut queue = Queue {
                    name: name.clone(),
                    created_ms: now,
                    modified_ms: now,
                    attributes: attributes.clone(),
                    tags: tags.clone(),
                    messages: BTreeMap::new(),
                    next_seq: 1,
                    deduplication: BTreeMap::new(),
                    last_purge_ms: None,
                    settings: QueueSettings::default(),
                    index: MessageIndex::default(),
                };
                queue.attributes_changed();
                queue.rebuild_index(now);
                self.queues.insert(name.clone(), queue);
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
                    queue.attributes_changed();
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
            SqsMutation::Send { .. } => unreachable!("sends are applied by SqsStore::send"),
            SqsMutation::Receive {
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
            SqsMutation::Delete { queue, seqs } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.catch_up(now);
                    for seq in seqs {
                        queue.remove_message(*seq);
                    }
                }
            }
            SqsMutation::ChangeVisibility { queue, changes } => {
                if let Some(queue) = self.queues.get_mut(queue) {
                    queue.catch_up(now);
                    for (seq, visible_ms) in changes {
                        queue.update_message(*seq, |message| message.visible_ms = *visible_ms);
                    }
                }
            }
            SqsMutation::Purge { queue } => {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn store() -> SqsStore {
        SqsStore::new(SqsSettings {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        })
    }

    fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut map: BTreeMap<String, String> = [
            ("DelaySeconds", "0"),
            ("MaximumMessageSize", "1048576"),
            ("MessageRetentionPeriod", "345600"),
            ("ReceiveMessageWaitTimeSeconds", "0"),
            ("VisibilityTimeout", "30"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        map
    }

    fn message(now: Millis, delay_ms: Millis, group: Option<String>) -> Message {
        Message {
            seq: 0,
            id: String::new(),
            body: "b".into(),
            md5_body: String::new(),
            attributes: BTreeMap::new(),
            md5_attributes: None,
            system_attributes: BTreeMap::new(),
            sent_ms: now,
            available_ms: now + delay_ms,
            visible_ms: now + delay_ms,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            sender_id: String::new(),
            group_id: group,
            deduplication_id: None,
            sequence_number: None,
            dead_letter_source_arn: None,
        }
    }

    /// The index agrees with the messages' timestamps as of `now`.
    fn check_index(queue: &Queue, now: Millis) {
        let mut visible = BTreeSet::new();
        let mut hidden = BTreeSet::new();
        for message in queue.messages.values() {
            if message.visible_ms <= now {
                visible.insert(message.seq);
            } else {
                hidden.insert((message.visible_ms, message.seq));
            }
        }
        assert_eq!(
            queue.index.visible, visible,
            "visible messages of {}",
            queue.name
        );
        assert_eq!(
            queue.index.hidden, hidden,
            "hidden messages of {}",
            queue.name
        );
        let expected = queue
            .messages
            .values()
            .map(|m| m.visible_ms)
            .filter(|t| *t > now)
            .min();
        assert_eq!(queue.next_visible_at(now), expected);
    }

    /// Random sends (some delayed), receives, deletes, visibility changes, redrives, purges,
    /// retention changes and time steps: every receive the index plans is the one a scan of the
    /// whole queue plans, and the index always matches the messages.
    #[test]
    fn receives_from_the_index_match_a_scan_of_the_whole_queue() {
        for (seed, fifo) in (1..=40u64).map(|s| (s * 7919, s % 2 == 0)) {
            let mut rng = Rng(seed);
            let mut store = store();
            let mut now: Millis = 1_000_000;
            let suffix = if fifo { ".fifo" } else { "" };
            let (name, dlq) = (format!("q{suffix}"), format!("dlq{suffix}"));
            let fifo_attribute: &[(&str, &str)] = if fifo { &[("FifoQueue", "true")] } else { &[] };
            store.apply(
                now,
                &SqsMutation::CreateQueue {
                    name: dlq.clone(),
                    attributes: attributes(fifo_attribute),
                    tags: BTreeMap::new(),
                },
            );
            let policy = format!(
                r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#,
                store.queue_arn(&dlq)
            );
            let mut pairs = vec![("RedrivePolicy", policy.as_str())];
            pairs.extend_from_slice(fifo_attribute);
            store.apply(
                now,
                &SqsMutation::CreateQueue {
                    name: name.clone(),
                    attributes: attributes(&pairs),
                    tags: BTreeMap::new(),
                },
            );
            for _ in 0..600 {
                match rng.below(10) {
                    0..=2 => {
                        let messages = (0..1 + rng.below(4))
                            .map(|_| {
                                let delay = if rng.below(5) == 0 {
                                    rng.below(5_000)
                                } else {
                                    0
                                };
                                let group = fifo.then(|| format!("g{}", rng.below(4)));
                                message(now, delay, group)
                            })
                            .collect();
                        let queue = name.clone();
                        if rng.below(2) == 0 {
                            store.apply(now, &SqsMutation::Send { queue, messages });
                        } else {
                            store.apply_owned(now, SqsMutation::Send { queue, messages });
                        }
                    }
                    3..=5 => {
                        let target = if rng.below(4) == 0 { &dlq } else { &name };
                        store.queue_at(target, now).unwrap();
                        let max = 1 + rng.below(10) as usize;
                        let visibility = rng.below(3) * 2_000;
                        let fast = store.plan_receive(target, now, max, visibility).unwrap();
                        let scan = store
                            .plan_receive_by_scan(target, now, max, visibility)
                            .unwrap();
                        assert_eq!(
                            format!("{fast:?}"),
                            format!("{scan:?}"),
                            "seed {seed} at {now}"
                        );
                        store.apply(now, &fast);
                    }
                    6 => {
                        let queue = &store.queues[&name];
                        let seqs: Vec<u64> = queue
                            .messages
                            .keys()
                            .copied()
                            .filter(|_| rng.below(3) == 0)
                            .collect();
                        store.apply(
                            now,
                            &SqsMutation::Delete {
                                queue: name.clone(),
                                seqs,
                            },
                        );
                    }
                    7 => {
                        let queue = &store.queues[&name];
                        let mut changes: Vec<(u64, Millis)> = Vec::new();
                        for m in queue.messages.values() {
                            if m.in_flight(now) && rng.below(3) == 0 {
                                changes.push((m.seq, now + rng.below(3) * 1_000));
                            }
                        }
                        store.apply(
                            now,
                            &SqsMutation::ChangeVisibility {
                                queue: name.clone(),
                                changes,
                            },
                        );
                    }
                    8 => match rng.below(20) {
                        0 => store.apply(
                            now,
                            &SqsMutation::Purge {
                                queue: name.clone(),
                            },
                        ),
                        1 => store.apply(
                            now,
                            &SqsMutation::SetAttributes {
                                queue: name.clone(),
                                attributes: attributes(&[(
                                    "MessageRetentionPeriod",
                                    ["60", "345600"][rng.below(2) as usize],
                                )])
                                .into_iter()
                                .filter(|(k, _)| k == "MessageRetentionPeriod")
                                .collect(),
                            },
                        ),
                        2 => store.tick(now),
                        _ => {}
                    },
                    _ => now += rng.below(4_000),
                }
                for queue in [&name, &dlq] {
                    store.queues.get_mut(queue.as_str()).unwrap().catch_up(now);
                    check_index(&store.queues[queue.as_str()], now);
                }
            }
        }
    }

    #[test]
    fn a_clock_that_goes_back_rebuilds_the_index() {
        let mut store = store();
        store.apply(
            10_000,
            &SqsMutation::CreateQueue {
                name: "q".into(),
                attributes: attributes(&[]),
                tags: BTreeMap::new(),
            },
        );
        store.apply(
            10_000,
            &SqsMutation::Send {
                queue: "q".into(),
                messages: vec![message(10_000, 2_000, None)],
            },
        );
        store.queue_at("q", 12_000).unwrap();
        assert_eq!(store.queues["q"].index.visible.len(), 1);
        store.queue_at("q", 11_000).unwrap();
        check_index(&store.queues["q"], 11_000);
        let plan = store.plan_receive("q", 11_000, 10, 0).unwrap();
        let SqsMutation::Receive { received, .. } = plan else {
            unreachable!()
        };
        assert!(
            received.is_empty(),
            "the message is still delayed at 11 000"
        );
    }

    #[test]
    fn a_loaded_snapshot_rebuilds_the_index() {
        let mut store = store();
        store.apply(
            10_000,
            &SqsMutation::CreateQueue {
                name: "q".into(),
                attributes: attributes(&[]),
                tags: BTreeMap::new(),
            },
        );
        store.apply(
            10_000,
            &SqsMutation::Send {
                queue: "q".into(),
                messages: vec![message(10_000, 0, None), message(10_000, 5_000, None)],
            },
        );
        let bytes = postcard::to_allocvec(&store).unwrap();
        let mut loaded: SqsStore = postcard::from_bytes(&bytes).unwrap();
        loaded.queue_at("q", 11_000).unwrap();
        check_index(&loaded.queues["q"], 11_000);
        assert_eq!(loaded.queues["q"].next_visible_at(11_000), Some(15_000));
    }
}
