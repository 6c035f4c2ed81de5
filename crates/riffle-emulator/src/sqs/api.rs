//! SQS operations: decode the JSON 1.0 body, validate as SQS does, plan against the store, apply
//! and log the resulting facts, and encode SQS's response shapes.
//!
//! Invariants: validation finishes before anything changes; a reply waits until its facts are
//! durable (with a data directory); a long poll registers for wake-ups before it looks at the
//! queue, so a message sent between the look and the wait is never missed, and it sleeps on the
//! injected clock until the next message becomes visible rather than polling.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use super::Action;
use super::digest::{AttributeValue, attributes_md5};
use super::reply::{self, SystemAttributes};
use super::store::{
    DEDUPLICATION_WINDOW_MS, MAX_VISIBILITY_MS, Message, PURGE_INTERVAL_MS,
    QUEUE_DELETED_RECENTLY_MS, Queue, SqsMutation, SqsStore, deduplication_key, no_such_queue,
};
use crate::clock::{Clock, Millis};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::keys::Sealer;
use crate::persist::{EntryRef, Wal};

/// Largest message (body plus attributes) and largest batch, in bytes: 1 MiB, the maximum and
/// default of `MaximumMessageSize` since SQS raised it from 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
/// Most message attributes per message.
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// Most tags per queue.
pub const MAX_TAGS_PER_QUEUE: usize = 50;

const READ_ONLY_ATTRIBUTES: [&str; 6] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// Facts about the HTTP request an operation needs.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// `host:port` the client addressed, used in queue URLs.
    pub host: String,
    /// The request path (`/<account>/<queue>` when a client posts to the queue URL).
    pub path: String,
    /// Access key id from the SigV4 `Authorization` header, used as `SenderId`.
    pub access_key: Option<String>,
}

/// The SQS service of one emulator.
#[derive(Debug)]
pub struct Sqs {
    store: Mutex<SqsStore>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    pub(super) wal: Option<Arc<Wal>>,
    /// Per queue, the long polls waiting for messages: woken one at a time when messages may
    /// have become receivable, each passing the wake-up on if messages remain after its receive.
    arrivals: Mutex<HashMap<String, Arc<Notify>>>,
    id_prefix: u64,
    ids: AtomicU64,
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValue, message)
}

fn missing(parameter: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingParameter,
        format!("The request must contain the parameter {parameter}."),
    )
}

fn bad_value(parameter: &str, value: impl std::fmt::Display, reason: &str) -> ApiError {
    invalid(format!(
        "Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    ))
}

fn secs(ms: Millis) -> String {
    (ms / 1000).to_string()
}

fn body_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

/// What a reply needs: its body and whether it must wait for the log.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

impl Sqs {
    /// A service over `store` using `key` to seal receipt handles and tokens.
    pub fn new(
        store: SqsStore,
        key: [u8; 16],
        clock: Arc<dyn Clock>,
        wal: Option<Arc<Wal>>,
    ) -> Self {
        let id_prefix = u64::from_le_bytes(key[..8].try_into().expect("8 bytes"))
            ^ clock.now_millis().rotate_left(17);
        Self {
            store: Mutex::new(store),
            sealer: Sealer::new(key),
            clock,
            wal,
            arrivals: Mutex::new(HashMap::new()),
            id_prefix,
            ids: AtomicU64::new(0),
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, SqsStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The wake-up of long polls on queue `name`.
    fn arrivals(&self, name: &str) -> Arc<Notify> {
        let mut arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(arrivals.entry(name.to_owned()).or_default())
    }

    /// Messages may have become receivable on queue `name`: wakes one of its long polls (or
    /// the next to wait, if none waits now).
    fn wake(&self, name: &str) {
        let arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(arrival) = arrivals.get(name) {
            arrival.notify_one();
        }
    }

    /// Locks the store and reads the clock, in that order, so that the operations on the store
    /// see time in the order they run (two requests reading the clock before taking the lock
    /// could otherwise apply in the opposite order).
    pub(super) fn lock_now(&self) -> (MutexGuard<'_, SqsStore>, Millis) {
        let store = self.lock();
        (store, self.clock.now_millis())
    }

    /// Trims expired messages.
    pub fn tick(&self) {
        let (mut store, now) = self.lock_now();
        store.tick(now);
    }

    /// Runs `action` on a JSON body.
    pub async fn call(
        &self,
        action: Action,
        body: &[u8],
        context: &RequestContext,
    ) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body, context).await?;
        if let (Some(lsn), Some(wal)) = (reply.durable_at, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(reply.body)
    }

    /// The one dispatch on the action. Only ReceiveMessage waits (a long poll); every other
    /// action finishes without yielding.
    async fn execute(
        &self,
        action: Action,
        body: &[u8],
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        match action {
            Action::CreateQueue => self.create_queue(decode(body)?, context),
            Action::GetQueueUrl => self.get_queue_url(decode(body)?, context),
            Action::ListQueues => self.list_queues(decode(body)?, context),
            Action::DeleteQueue => self.delete_queue(decode(body)?, context),
            Action::PurgeQueue => self.purge_queue(decode(body)?, context),
            Action::GetQueueAttributes => self.get_queue_attributes(decode(body)?, context),
            Action::SetQueueAttributes => self.set_queue_attributes(decode(body)?, context),
            Action::SendMessage => self.send_message(decode(body)?, context),
            Action::SendMessageBatch => self.send_message_batch(decode(body)?, context),
            Action::ReceiveMessage => self.receive_message(decode(body)?, context).await,
            Action::DeleteMessage => self.delete_message(decode(body)?, context),
            Action::DeleteMessageBatch => self.delete_message_batch(decode(body)?, context),
            Action::ChangeMessageVisibility => self.change_visibility(decode(body)?, context),
            Action::ChangeMessageVisibilityBatch => {
                self.change_visibility_batch(decode(body)?, context)
            }
            Action::TagQueue => self.tag_queue(decode(body)?, context),
            Action::UntagQueue => self.untag_queue(decode(body)?, context),
            Action::ListQueueTags => self.list_queue_tags(decode(body)?, context),
            Action::ListDeadLetterSourceQueues => {
                self.list_dead_letter_sources(decode(body)?, context)
            }
        }
    }

    /// Applies facts and logs them; returns the log position the reply must wait for.
    fn commit(&self, store: &mut SqsStore, now: Millis, mutation: SqsMutation) -> Option<u64> {
        let Some(wal) = &self.wal else {
            store.apply_owned(now, mutation);
            return None;
        };
        let reservation = wal.reserve();
        let lsn = reservation.lsn();
        store.apply(now, &mutation);
        reservation.append(now, EntryRef::Sqs(&mutation));
        Some(lsn)
    }

    fn empty_reply(durable_at: Option<u64>) -> Reply {
        Reply {
            body: b"{}".to_vec(),
            durable_at,
        }
    }

    fn queue_url(&self, store: &SqsStore, context: &RequestContext, name: &str) -> String {
        format!(
            "http://{}/{}/{name}",
            context.host, store.settings.account_id
        )
    }

    /// The queue a `QueueUrl` (or, without one, the request path) names.
    fn resolve(
        &self,
        store: &SqsStore,
        url: Option<&str>,
        context: &RequestContext,
    ) -> ApiResult<String> {
        let url = match url {
            Some(url) if !url.is_empty() => url,
            _ if context.path.trim_matches('/').contains('/') => context.path.as_str(),
            _ => return Err(missing("QueueUrl")),
        };
        let path = url.split_once("://").map_or(url, |(_, rest)| {
            rest.split_once('/').map_or("", |(_, path)| path)
        });
        let mut segments = path.trim_matches('/').rsplitn(2, '/');
        let (name, account) = (segments.next().unwrap_or_default(), segments.next());
        match account {
            Some(account) if account == store.settings.account_id && !name.is_empty() => {
                store.queue(name)?;
                Ok(name.to_owned())
            }
            Some(_) => Err(no_such_queue()),
            None => Err(ApiError::new(
                ErrorCode::InvalidAddress,
                format!("The address {url} is not valid for this endpoint."),
            )),
        }
    }

    /// A UUID-shaped id: `{p>>32:08x}-{p>>16:04x}-4{p:03x}-a{n>>48:03x}-{n:012x}` of the
    /// per-start prefix `p` and the counter `n`.
    fn next_message_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let p = self.id_prefix;
        let mut id = String::with_capacity(36);
        push_hex(&mut id, p >> 32, 8);
        id.push('-');
        push_hex(&mut id, (p >> 16) & 0xffff, 4);
        id.push_str("-4");
        push_hex(&mut id, p & 0xfff, 3);
        id.push_str("-a");
        push_hex(&mut id, (n >> 48) & 0xfff, 3);
        id.push('-');
        push_hex(&mut id, n & 0xffff_ffff_ffff, 12);
        id
    }

    fn create_queue(&self, input: CreateQueueInput, context: &RequestContext) -> ApiResult<Reply> {
        let name = input.queue_name.ok_or_else(|| missing("QueueName"))?;
        let attributes = input.attributes.unwrap_or_default();
        let declared_fifo = attributes.get("FifoQueue").map(String::as_str);
        let fifo_name = name.ends_with(".fifo");
        let stem = name.strip_suffix(".fifo").unwrap_or(&name);
        let valid_name = !name.is_empty()
            && name.len() <= 80
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !stem.is_empty();
        if !valid_name {
            return Err(invalid(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in \
                 length",
            ));
        }
        match (declared_fifo, fifo_name) {
            (Some("true"), false) => {
                return Err(invalid(
                    "The name of a FIFO queue can only include alphanumeric \
                    characters, hyphens, or underscores, must end with .fifo suffix and be 1 to \
                    80 in length.",
                ));
            }
            (None | Some("false"), true) => {
                return Err(invalid(
                    "The name of a FIFO queue can only include alphanumeric \
                    characters, hyphens, or underscores, must end with .fifo suffix and be 1 to \
                    80 in length. Set the FifoQueue attribute to true to create a FIFO queue.",
                ));
            }
            (Some(other), _) if other != "true" && other != "false" => {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeValue,
                    "Invalid value for the parameter FifoQueue.",
                ));
            }
            _ => {}
        }
        let tags = input.tags.unwrap_or_default();
        validate_tags(&tags)?;
        let (mut store, now) = self.lock_now();
        let validated = validate_attributes(&store, &attributes, fifo_name, true, &name)?;
        if let Some(existing) = store.queues.get(&name) {
            for (key, value) in &validated {
                if attributes.contains_key(key) && existing.attributes.get(key) != Some(value) {
                    return Err(ApiError::new(
                        ErrorCode::QueueNameExists,
                        format!(
                            "A queue already exists with the same name and a different value \
                             for attribute {key}"
                        ),
                    ));
                }
            }
            let url = self.queue_url(&store, context, &name);
            return Ok(Reply {
                body: body_of(&json!({ "QueueUrl": url })),
                durable_at: None,
            });
        }
        if store
            .deleted
            .get(&name)
            .is_some_and(|at| *at + QUEUE_DELETED_RECENTLY_MS > now)
        {
            return Err(ApiError::new(
                ErrorCode::QueueDeletedRecently,
                "You must wait 60 seconds after deleting a queue before you can create another \
                 with the same name.",
            ));
        }
        let mut full = default_attributes(fifo_name);
        full.extend(validated);
        let mutation = SqsMutation::CreateQueue {
            name: name.clone(),
            attributes: full,
            tags,
        };
        let durable_at = self.commit(&mut store, now, mutation);
        let url = self.queue_url(&store, context, &name);
        Ok(Reply {
            body: body_of(&json!({ "QueueUrl": url })),
            durable_at,
        })
    }

    fn get_queue_url(&self, input: GetQueueUrlInput, context: &RequestContext) -> ApiResult<Reply> {
        let name = input.queue_name.ok_or_else(|| missing("QueueName"))?;
        let store = self.lock();
        if input
            .queue_owner_aws_account_id
            .is_some_and(|a| a != store.settings.account_id)
        {
            return Err(no_such_queue());
        }
        store.queue(&name)?;
        let url = self.queue_url(&store, context, &name);
        Ok(Reply {
            body: body_of(&json!({ "QueueUrl": url })),
            durable_at: None,
        })
    }

    fn list_queues(&self, input: ListQueuesInput, context: &RequestContext) -> ApiResult<Reply> {
        if let Some(max) = input.max_results
            && !(1..=1000).contains(&max)
        {
            return Err(bad_value(
                "MaxResults",
                max,
                "MaxResults must be an integer between 1 and 1000.",
            ));
        }
        let store = self.lock();
        let after = match &input.next_token {
            Some(token) => Some(self.open_token(token, "ListQueues")?),
            None => None,
        };
        let prefix = input.queue_name_prefix.unwrap_or_default();
        let names: Vec<&String> = store
            .queues
            .keys()
            .filter(|n| n.starts_with(&prefix))
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let limit = input.max_results.unwrap_or(1000) as usize;
        let page: Vec<String> = names
            .iter()
            .take(limit)
            .map(|n| self.queue_url(&store, context, n))
            .collect();
        let mut out = Map::new();
        if !page.is_empty() {
            out.insert("QueueUrls".into(), json!(page));
        }
        if input.max_results.is_some() && names.len() > limit {
            out.insert(
                "NextToken".into(),
                json!(self.seal_token(names[limit - 1], "ListQueues")),
            );
        }
        Ok(Reply {
            body: body_of(&Value::Object(out)),
            durable_at: None,
        })
    }

    fn seal_token(&self, after: &str, operation: &str) -> String {
        self.sealer
            .seal(&serde_json::to_vec(&(after, operation)).unwrap_or_default())
    }

    fn open_token(&self, token: &str, operation: &str) -> ApiResult<String> {
        let bad = || invalid(format!("Invalid NextToken value {token}"));
        let payload = self.sealer.open(token).ok_or_else(bad)?;
        let (after, op): (String, String) = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if op == operation {
            Ok(after)
        } else {
            Err(bad())
        }
    }

    fn delete_queue(&self, input: QueueUrlInput, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let durable_at = self.commit(&mut store, now, SqsMutation::DeleteQueue { name });
        Ok(Self::empty_reply(durable_at))
    }

    fn purge_queue(&self, input: QueueUrlInput, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let queue = store.queue(&name)?;
        if queue
            .last_purge_ms
            .is_some_and(|at| at + PURGE_INTERVAL_MS > now)
        {
            return Err(ApiError::new(
                ErrorCode::PurgeQueueInProgress,
                format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
            ));
        }
        let durable_at = self.commit(&mut store, now, SqsMutation::Purge { queue: name });
        Ok(Self::empty_reply(durable_at))
    }

    fn get_queue_attributes(
        &self,
        input: GetQueueAttributesInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let arn = store.queue_arn(&name);
        let queue = store.queue_at(&name, now)?;
        let requested = input.attribute_names.unwrap_or_default();
        let all = requested.iter().any(|n| n == "All");
        let (visible, in_flight, delayed) = queue.counts(now);
        let mut values: BTreeMap<String, String> = queue.attributes.clone();
        values.insert("QueueArn".into(), arn);
        values.insert("ApproximateNumberOfMessages".into(), visible.to_string());
        values.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            in_flight.to_string(),
        );
        values.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            delayed.to_string(),
        );
        values.insert("CreatedTimestamp".into(), secs(queue.created_ms));
        values.insert("LastModifiedTimestamp".into(), secs(queue.modified_ms));
        let mut out = Map::new();
        for requested_name in &requested {
            if requested_name == "All" {
                continue;
            }
            if !is_known_attribute(requested_name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {requested_name}."),
                ));
            }
        }
        for (key, value) in values {
            if all || requested.contains(&key) {
                out.insert(key, json!(value));
            }
        }
        let body = if out.is_empty() {
            json!({})
        } else {
            json!({ "Attributes": out })
        };
        Ok(Reply {
            body: body_of(&body),
            durable_at: None,
        })
    }

    fn set_queue_attributes(
        &self,
        input: SetQueueAttributesInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let attributes = input.attributes.ok_or_else(|| missing("Attributes"))?;
        let fifo = store.queue(&name)?.fifo();
        let validated = validate_attributes(&store, &attributes, fifo, false, &name)?;
        let mutation = SqsMutation::SetAttributes {
            queue: name,
            attributes: validated,
        };
        let durable_at = self.commit(&mut store, now, mutation);
        Ok(Self::empty_reply(durable_at))
    }

    /// Validates one message for `queue` and builds it (seq is assigned when applied).
    fn build_message(
        &self,
        queue: &Queue,
        entry: &SendEntry,
        now: Millis,
        context: &RequestContext,
        account: &str,
    ) -> ApiResult<Message> {
        let body = entry.message_body.as_deref().filter(|b| !b.is_empty());
        let body = body.ok_or_else(|| missing("MessageBody"))?;
        if !body.chars().all(valid_message_char) {
            return Err(ApiError::new(
                ErrorCode::InvalidMessageContents,
                "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 \
                 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            ));
        }
        let attributes = decode_attributes(entry.message_attributes.as_ref(), false)?;
        let system_attributes = decode_attributes(entry.message_system_attributes.as_ref(), true)?;
        let size = body.len() + attributes.iter().map(|(k, v)| v.size(k)).sum::<usize>();
        let max_size = queue.maximum_message_size() as usize;
        if size > max_size {
            return Err(invalid(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than \
                 {max_size} bytes."
            )));
        }
        let fifo = queue.fifo();
        let delay = match entry.delay_seconds {
            Some(_) if fifo => {
                return Err(bad_value(
                    "DelaySeconds",
                    entry.delay_seconds.unwrap_or_default(),
                    "The request include parameter that is not valid for this queue type.",
                ));
            }
            Some(d) if !(0..=900).contains(&d) => {
                return Err(bad_value(
                    "DelaySeconds",
                    d,
                    "DelaySeconds must be >= 0 and <= 900.",
                ));
            }
            Some(d) => d as u64,
            None => queue.delay_seconds(),
        };
        for (parameter, value) in [
            ("MessageGroupId", &entry.message_group_id),
            ("MessageDeduplicationId", &entry.message_deduplication_id),
        ] {
            if let Some(value) = value
                && (value.is_empty()
                    || value.len() > 128
                    || !value.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(bad_value(
                    parameter,
                    value,
                    "It must be 1 to 128 alphanumeric or punctuation characters.",
                ));
            }
        }
        let mut deduplication_id = entry.message_deduplication_id.clone();
        if fifo {
            if entry.message_group_id.is_none() {
                return Err(missing("MessageGroupId"));
            }
            if deduplication_id.is_none() {
                if queue.content_based_deduplication() {
                    deduplication_id = Some(sha256_hex(body.as_bytes()));
                } else {
                    return Err(invalid(
                        "The queue should either have ContentBasedDeduplication enabled or \
                         MessageDeduplicationId provided explicitly",
                    ));
                }
            }
        } else if deduplication_id.is_some() {
            return Err(bad_value(
                "MessageDeduplicationId",
                deduplication_id.unwrap_or_default(),
                "The request include parameter that is not valid for this queue type",
            ));
        }
        let md5_attributes = attributes_md5(&attributes);
        Ok(Message {
            seq: 0,
            id: self.next_message_id(),
            body: body.to_owned(),
            md5_body: riffle_core::digest::md5_hex(body.as_bytes()),
            attributes,
            md5_attributes,
            system_attributes,
            sent_ms: now,
            available_ms: now + delay * 1000,
            visible_ms: now + delay * 1000,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            sender_id: context
                .access_key
                .clone()
                .unwrap_or_else(|| account.to_owned()),
            group_id: entry.message_group_id.clone(),
            deduplication_id,
            sequence_number: None,
            dead_letter_source_arn: None,
        })
    }

    /// Sends validated entries: assigns FIFO sequence numbers, drops duplicates within the
    /// deduplication window, applies and logs. Writes each entry's result (comma-separated, in
    /// order; with its batch entry id when it has one) and returns them with the log position
    /// to wait for.
    fn enqueue(
        &self,
        store: &mut SqsStore,
        name: &str,
        now: Millis,
        messages: Vec<(Option<String>, Message)>,
    ) -> (Vec<u8>, Option<u64>) {
        let queue = store.queues.get(name).expect("resolved queue exists");
        let fifo = queue.fifo();
        let mut next_seq = queue.next_seq;
        let mut planned: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut results = Vec::with_capacity(messages.len() * 160);
        let mut accepted = Vec::with_capacity(messages.len());
        for (id, mut message) in messages {
            if fifo {
                message.sequence_number = Some(fifo_sequence_number(next_seq));
                if let Some(key) = deduplication_key(queue, &message) {
                    let earlier = queue
                        .deduplication
                        .get(&key)
                        .filter(|d| d.at_ms + DEDUPLICATION_WINDOW_MS > now)
                        .map(|d| (d.message_id.clone(), d.sequence_number.clone()))
                        .or_else(|| planned.get(&key).cloned());
                    if let Some((message_id, sequence_number)) = earlier {
                        message.id = message_id;
                        message.sequence_number = Some(sequence_number);
                        reply::send_result(reply::entry(&mut results), &message, id.as_deref());
                        continue;
                    }
                    planned.insert(
                        key,
                        (
                            message.id.clone(),
                            message.sequence_number.clone().unwrap_or_default(),
                        ),
                    );
                }
            }
            next_seq += 1;
            reply::send_result(reply::entry(&mut results), &message, id.as_deref());
            accepted.push(message);
        }
        let durable_at = if accepted.is_empty() {
            None
        } else {
            let mutation = SqsMutation::Send {
                queue: name.to_owned(),
                messages: accepted,
            };
            let lsn = self.commit(store, now, mutation);
            self.wake(name);
            lsn
        };
        (results, durable_at)
    }

    fn send_message(&self, input: SendEntry, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let account = store.settings.account_id.clone();
        let message =
            self.build_message(store.queue_at(&name, now)?, &input, now, context, &account)?;
        let (body, durable_at) = self.enqueue(&mut store, &name, now, vec![(None, message)]);
        Ok(Reply { body, durable_at })
    }

    fn send_message_batch(
        &self,
        input: SendBatchInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()))?;
        let total: usize = entries
            .iter()
            .map(|e| {
                e.entry.message_body.as_ref().map_or(0, String::len)
                    + attributes_size(e.entry.message_attributes.as_ref())
            })
            .sum();
        if total > MAX_MESSAGE_BYTES {
            return Err(ApiError::new(
                ErrorCode::BatchRequestTooLong,
                format!(
                    "Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes. You have sent \
                     {total} bytes."
                ),
            ));
        }
        let account = store.settings.account_id.clone();
        let queue = store.queue_at(&name, now)?;
        let mut built = Vec::with_capacity(entries.len());
        let mut failed = Vec::new();
        for entry in entries {
            let id = entry.id.unwrap_or_default();
            match self.build_message(queue, &entry.entry, now, context, &account) {
                Ok(message) => built.push((Some(id), message)),
                Err(e) => reply::batch_failure(reply::entry(&mut failed), &id, &e),
            }
        }
        let (successful, durable_at) = self.enqueue(&mut store, &name, now, built);
        Ok(Reply {
            body: reply::batch(&successful, &failed),
            durable_at,
        })
    }

    async fn receive_message(
        &self,
        input: ReceiveInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let max = input.max_number_of_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(bad_value(
                "MaxNumberOfMessages",
                max,
                "Must be between 1 and 10, if provided.",
            ));
        }
        if let Some(v) = input.visibility_timeout
            && !(0..=43_200).contains(&v)
        {
            return Err(bad_value(
                "VisibilityTimeout",
                v,
                "Must be >= 0 and <= 43200, if provided.",
            ));
        }
        if let Some(w) = input.wait_time_seconds
            && !(0..=20).contains(&w)
        {
            return Err(bad_value(
                "WaitTimeSeconds",
                w,
                "Must be >= 0 and <= 20, if provided.",
            ));
        }
        let mut system = SystemAttributes::default();
        for name in input
            .attribute_names
            .iter()
            .chain(&input.message_system_attribute_names)
            .flatten()
        {
            if name == "All" {
                system.extend(SystemAttributes::ALL);
            } else if !system.insert(name) && !is_known_attribute(name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
        }
        let attribute_filter = input.message_attribute_names.unwrap_or_default();
        let (name, wait_ms, visibility_ms) = {
            let store = self.lock();
            let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
            let queue = store.queue(&name)?;
            let wait = input
                .wait_time_seconds
                .map_or(queue.receive_wait_seconds(), |w| w as u64);
            let visibility = input
                .visibility_timeout
                .map_or(queue.visibility_timeout_seconds(), |v| v as u64);
            (name, wait * 1000, visibility * 1000)
        };
        let deadline = self.clock.now_millis() + wait_ms;
        let arrivals = self.arrivals(&name);
        loop {
            let arrival = arrivals.notified();
            tokio::pin!(arrival);
            arrival.as_mut().enable();
            let mut body = Vec::new();
            let (durable_at, wake_at, now) = {
                let (mut store, now) = self.lock_now();
                store.queue_at(&name, now)?;
                let plan = store.plan_receive(&name, now, max as usize, visibility_ms)?;
                let SqsMutation::Receive {
                    received, moved, ..
                } = &plan
                else {
                    unreachable!("plan_receive plans a receive")
                };
                let seqs: Vec<u64> = received.iter().map(|(seq, _)| *seq).collect();
                let mut targets: Vec<String> = moved.iter().map(|(_, t)| t.clone()).collect();
                targets.dedup();
                let durable_at = if seqs.is_empty() && targets.is_empty() {
                    None
                } else {
                    self.commit(&mut store, now, plan)
                };
                for target in &targets {
                    self.wake(target);
                }
                let queue = store.queue(&name)?;
                let messages = seqs.iter().filter_map(|seq| queue.messages.get(seq));
                let mut any = false;
                for (i, message) in messages.enumerate() {
                    body.extend_from_slice(if i == 0 { b"{\"Messages\":[" } else { b"," });
                    let handle = self.receipt_handle(queue, message);
                    reply::received(&mut body, message, &handle, system, &attribute_filter);
                    any = true;
                }
                if any {
                    body.extend_from_slice(b"]}");
                    if queue.has_visible() {
                        // Pass the wake-up on: another long poll may take the rest.
                        arrivals.notify_one();
                    }
                }
                // Only an empty receive needs to know when to wake.
                let wake_at = if any {
                    None
                } else {
                    queue.next_visible_at(now)
                };
                (durable_at, wake_at, now)
            };
            if !body.is_empty() || now >= deadline {
                if body.is_empty() {
                    body.extend_from_slice(b"{}");
                }
                return Ok(Reply { body, durable_at });
            }
            let wake = wake_at.map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                () = &mut arrival => {}
                () = self.clock.sleep_until(wake) => {}
            }
        }
    }

    /// The receipt handle of this receive of `message`: sealed queue name, queue creation time,
    /// message position and receive count, so a handle from an earlier receive is stale.
    fn receipt_handle(&self, queue: &Queue, message: &Message) -> String {
        let mut payload = Vec::with_capacity(21 + queue.name.len());
        payload.push(RECEIPT_FORMAT);
        payload.extend_from_slice(&queue.created_ms.to_le_bytes());
        payload.extend_from_slice(&message.seq.to_le_bytes());
        payload.extend_from_slice(&message.receive_count.to_le_bytes());
        payload.extend_from_slice(queue.name.as_bytes());
        self.sealer.seal(&payload)
    }

    /// Opens a receipt handle: the queue it belongs to and the message it names, if current.
    fn open_receipt(&self, handle: &str, queue: &Queue) -> ApiResult<Option<u64>> {
        let invalid_handle = || {
            ApiError::new(
                ErrorCode::ReceiptHandleIsInvalid,
                format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
            )
        };
        let payload = self.sealer.open(handle).ok_or_else(invalid_handle)?;
        let receipt = ReceiptPayload::decode(&payload).ok_or_else(invalid_handle)?;
        if *receipt.queue != *queue.name.as_bytes() || receipt.queue_created_ms != queue.created_ms
        {
            return Err(invalid_handle());
        }
        Ok(queue
            .messages
            .get(&receipt.seq)
            .filter(|m| m.receive_count == receipt.receive_count)
            .map(|m| m.seq))
    }

    fn delete_message(&self, input: ReceiptInput, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let handle = input
            .receipt_handle
            .ok_or_else(|| missing("ReceiptHandle"))?;
        let current = self.open_receipt(&handle, store.queue(&name)?)?;
        // A stale handle (the message was received again since) succeeds without deleting,
        // as SQS documents.
        let durable_at = current.and_then(|seq| {
            self.commit(
                &mut store,
                now,
                SqsMutation::Delete {
                    queue: name,
                    seqs: vec![seq],
                },
            )
        });
        Ok(Self::empty_reply(durable_at))
    }

    fn delete_message_batch(
        &self,
        input: ReceiptBatchInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()))?;
        let queue = store.queue(&name)?;
        let (current, successful, failed) = per_entry(&entries, |entry| {
            self.open_receipt(entry.receipt_handle.as_deref().unwrap_or_default(), queue)
        });
        let seqs: Vec<u64> = current.into_iter().flatten().collect();
        let durable_at = if seqs.is_empty() {
            None
        } else {
            self.commit(&mut store, now, SqsMutation::Delete { queue: name, seqs })
        };
        Ok(Reply {
            body: reply::batch(&successful, &failed),
            durable_at,
        })
    }

    /// Plans one visibility change; `Ok((seq, visible_ms))`.
    fn plan_visibility(
        &self,
        queue: &Queue,
        handle: &str,
        timeout: Option<i64>,
        now: Millis,
    ) -> ApiResult<(u64, Millis)> {
        let timeout = timeout.ok_or_else(|| missing("VisibilityTimeout"))?;
        if !(0..=43_200).contains(&timeout) {
            return Err(bad_value(
                "VisibilityTimeout",
                timeout,
                "Must be >= 0 and <= 43200.",
            ));
        }
        let seq = self
            .open_receipt(handle, queue)?
            .ok_or_else(|| bad_value("ReceiptHandle", handle, "The receipt handle has expired."))?;
        let message = &queue.messages[&seq];
        if !message.in_flight(now) {
            return Err(ApiError::new(
                ErrorCode::MessageNotInflight,
                "Message does not exist or is not available for visibility timeout change.",
            ));
        }
        let until = now + timeout as u64 * 1000;
        if until > message.last_receive_ms.unwrap_or(now) + MAX_VISIBILITY_MS {
            return Err(bad_value(
                "VisibilityTimeout",
                timeout,
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ));
        }
        Ok((seq, until))
    }

    fn change_visibility(
        &self,
        input: VisibilityInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let handle = input
            .receipt_handle
            .ok_or_else(|| missing("ReceiptHandle"))?;
        let change =
            self.plan_visibility(store.queue(&name)?, &handle, input.visibility_timeout, now)?;
        self.wake(&name);
        let mutation = SqsMutation::ChangeVisibility {
            queue: name,
            changes: vec![change],
        };
        let durable_at = self.commit(&mut store, now, mutation);
        Ok(Self::empty_reply(durable_at))
    }

    fn change_visibility_batch(
        &self,
        input: VisibilityBatchInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let entries = input.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(|e| e.id.as_deref()))?;
        let queue = store.queue(&name)?;
        let (changes, successful, failed) = per_entry(&entries, |entry| {
            let handle = entry.receipt_handle.as_deref().unwrap_or_default();
            self.plan_visibility(queue, handle, entry.visibility_timeout, now)
        });
        let durable_at = if changes.is_empty() {
            None
        } else {
            self.wake(&name);
            self.commit(
                &mut store,
                now,
                SqsMutation::ChangeVisibility {
                    queue: name,
                    changes,
                },
            )
        };
        Ok(Reply {
            body: reply::batch(&successful, &failed),
            durable_at,
        })
    }

    fn tag_queue(&self, input: TagInput, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let tags = input.tags.ok_or_else(|| missing("Tags"))?;
        validate_tags(&tags)?;
        let queue = store.queue(&name)?;
        let added = tags.keys().filter(|k| !queue.tags.contains_key(*k)).count();
        if queue.tags.len() + added > MAX_TAGS_PER_QUEUE {
            return Err(invalid(format!("Too many tags added for queue {name}.")));
        }
        let durable_at = self.commit(&mut store, now, SqsMutation::Tag { queue: name, tags });
        Ok(Self::empty_reply(durable_at))
    }

    fn untag_queue(&self, input: UntagInput, context: &RequestContext) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let keys = input.tag_keys.ok_or_else(|| missing("TagKeys"))?;
        let durable_at = self.commit(&mut store, now, SqsMutation::Untag { queue: name, keys });
        Ok(Self::empty_reply(durable_at))
    }

    fn list_queue_tags(&self, input: QueueUrlInput, context: &RequestContext) -> ApiResult<Reply> {
        let store = self.lock();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let tags = &store.queue(&name)?.tags;
        let body = if tags.is_empty() {
            json!({})
        } else {
            json!({ "Tags": tags })
        };
        Ok(Reply {
            body: body_of(&body),
            durable_at: None,
        })
    }

    fn list_dead_letter_sources(
        &self,
        input: ListDeadLetterSourcesInput,
        context: &RequestContext,
    ) -> ApiResult<Reply> {
        if let Some(max) = input.max_results
            && !(1..=1000).contains(&max)
        {
            return Err(bad_value(
                "MaxResults",
                max,
                "MaxResults must be an integer between 1 and 1000.",
            ));
        }
        let store = self.lock();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let arn = store.queue_arn(&name);
        let after = match &input.next_token {
            Some(token) => Some(self.open_token(token, "ListDeadLetterSourceQueues")?),
            None => None,
        };
        let sources: Vec<&String> = store
            .queues
            .values()
            .filter(|q| q.redrive().is_some_and(|(target, _)| target == arn))
            .map(|q| &q.name)
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let limit = input.max_results.unwrap_or(1000) as usize;
        let urls: Vec<String> = sources
            .iter()
            .take(limit)
            .map(|n| self.queue_url(&store, context, n))
            .collect();
        let mut out = json!({ "queueUrls": urls });
        if input.max_results.is_some() && sources.len() > limit {
            out["NextToken"] =
                json!(self.seal_token(sources[limit - 1], "ListDeadLetterSourceQueues"));
        }
        Ok(Reply {
            body: body_of(&out),
            durable_at: None,
        })
    }
}

/// Lowercase hex SHA-256, which content-based deduplication uses as the deduplication id.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn fifo_sequence_number(seq: u64) -> String {
    format!("{}", 18_000_000_000_000_000_000u64 + seq)
}

fn valid_message_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn is_known_attribute(name: &str) -> bool {
    default_attributes(true).contains_key(name)
        || READ_ONLY_ATTRIBUTES.contains(&name)
        || matches!(
            name,
            "Policy"
                | "RedrivePolicy"
                | "RedriveAllowPolicy"
                | "KmsMasterKeyId"
                | "KmsDataKeyReusePeriodSeconds"
        )
}

fn default_attributes(fifo: bool) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if fifo {
        for (k, v) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            map.insert(k.to_owned(), v.to_owned());
        }
    }
    map
}

/// Validates settable attributes; returns them normalized.
fn validate_attributes(
    store: &SqsStore,
    given: &BTreeMap<String, String>,
    fifo: bool,
    creating: bool,
    queue_name: &str,
) -> ApiResult<BTreeMap<String, String>> {
    let bad = |name: &str| {
        ApiError::new(
            ErrorCode::InvalidAttributeValue,
            format!("Invalid value for the parameter {name}."),
        )
    };
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let range = |min: u64, max: u64| -> ApiResult<()> {
            match value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(bad(name)),
            }
        };
        let boolean = || {
            if value == "true" || value == "false" {
                Ok(())
            } else {
                Err(bad(name))
            }
        };
        let fifo_only = || {
            if fifo {
                Ok(())
            } else {
                Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ))
            }
        };
        match name.as_str() {
            "DelaySeconds" => range(0, 900)?,
            "MaximumMessageSize" => range(1024, MAX_MESSAGE_BYTES as u64)?,
            "MessageRetentionPeriod" => range(60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => range(0, 20)?,
            "VisibilityTimeout" => range(0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => range(60, 86_400)?,
            "SqsManagedSseEnabled" => boolean()?,
            "KmsMasterKeyId" => {}
            "Policy" => {
                if !value.is_empty() && serde_json::from_str::<Value>(value).is_err() {
                    return Err(bad(name));
                }
            }
            "FifoQueue" => {
                if !creating {
                    return Err(ApiError::new(
                        ErrorCode::InvalidAttributeValue,
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type \
                         is not supported.",
                    ));
                }
            }
            "ContentBasedDeduplication" => {
                fifo_only()?;
                boolean()?;
            }
            "DeduplicationScope" => {
                fifo_only()?;
                if value != "messageGroup" && value != "queue" {
                    return Err(bad(name));
                }
            }
            "FifoThroughputLimit" => {
                fifo_only()?;
                if value != "perQueue" && value != "perMessageGroupId" {
                    return Err(bad(name));
                }
            }
            "RedrivePolicy" => {
                if !value.is_empty() {
                    validate_redrive_policy(store, value, fifo, queue_name)?;
                }
            }
            "RedriveAllowPolicy" => {
                if !value.is_empty() {
                    validate_redrive_allow_policy(value)?;
                }
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {other}."),
                ));
            }
        }
        out.insert(name.clone(), value.clone());
    }
    Ok(out)
}

fn validate_redrive_policy(
    store: &SqsStore,
    value: &str,
    fifo: bool,
    queue_name: &str,
) -> ApiResult<()> {
    let bad = |reason: &str| {
        ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}"),
        )
    };
    let policy: Value =
        serde_json::from_str(value).map_err(|_| bad("Redrive policy is not a valid JSON map."))?;
    let target = policy
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        })?;
    let max = match policy.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: maxReceiveCount."))?;
    if !(1..=1000).contains(&max) {
        return Err(bad(
            "Invalid value for maxReceiveCount: must be an integer from 1 to 1000.",
        ));
    }
    let target_name = store
        .name_from_arn(target)
        .ok_or_else(|| bad("Dead-letter target does not exist."))?;
    let dlq = store
        .queues
        .get(target_name)
        .ok_or_else(|| bad("Dead-letter target does not exist."))?;
    if dlq.fifo() != fifo {
        return Err(bad(if fifo {
            "Dead-letter queue of a FIFO queue must be a FIFO queue."
        } else {
            "Dead-letter queue of a standard queue must be a standard queue."
        }));
    }
    if let Some(allow) = dlq.attributes.get("RedriveAllowPolicy")
        && let Ok(allow) = serde_json::from_str::<Value>(allow)
    {
        let source_arn = store.queue_arn(queue_name);
        let permitted = match allow.get("redrivePermission").and_then(Value::as_str) {
            Some("denyAll") => false,
            Some("byQueue") => allow
                .get("sourceQueueArns")
                .and_then(Value::as_array)
                .is_some_and(|arns| arns.iter().any(|a| a.as_str() == Some(&source_arn))),
            _ => true,
        };
        if !permitted {
            return Err(bad(
                "Dead-letter target owner doesn't allow this source queue to use it as dead-letter queue.",
            ));
        }
    }
    Ok(())
}

fn validate_redrive_allow_policy(value: &str) -> ApiResult<()> {
    let bad = |reason: &str| {
        ApiError::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter RedriveAllowPolicy is invalid. Reason: {reason}"),
        )
    };
    let policy: Value =
        serde_json::from_str(value).map_err(|_| bad("Amazon SQS can't parse the policy."))?;
    match policy.get("redrivePermission").and_then(Value::as_str) {
        Some("allowAll" | "denyAll") => Ok(()),
        Some("byQueue") => match policy.get("sourceQueueArns").and_then(Value::as_array) {
            Some(arns) if (1..=10).contains(&arns.len()) => Ok(()),
            _ => Err(bad(
                "You must specify 1 to 10 source queue ARNs when redrivePermission is byQueue.",
            )),
        },
        _ => Err(bad(
            "redrivePermission must be allowAll, denyAll or byQueue.",
        )),
    }
}

fn validate_tags(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    if tags.len() > MAX_TAGS_PER_QUEUE {
        return Err(invalid("Too many tags added for queue."));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(invalid(format!("Tag key or value is invalid: {key}.")));
        }
    }
    Ok(())
}

fn check_batch_ids<'a>(ids: impl ExactSizeIterator<Item = Option<&'a str>>) -> ApiResult<()> {
    let count = ids.len();
    if count == 0 {
        return Err(ApiError::new(
            ErrorCode::EmptyBatchRequest,
            "There should be at least one SendMessageBatchRequestEntry in the request.",
        ));
    }
    if count > 10 {
        return Err(ApiError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are 10. You have sent {count}."),
        ));
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        let id = id.unwrap_or_default();
        let valid = !id.is_empty()
            && id.len() <= 80
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(ApiError::new(
                ErrorCode::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and \
                 underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(ApiError::new(
                ErrorCode::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

/// Plans each entry of a receipt-handle batch: the planned values, and the `Successful` and
/// `Failed` entries of the answer, written.
fn per_entry<T>(
    entries: &[ReceiptEntry],
    mut plan: impl FnMut(&ReceiptEntry) -> ApiResult<T>,
) -> (Vec<T>, Vec<u8>, Vec<u8>) {
    let mut planned = Vec::with_capacity(entries.len());
    let (mut successful, mut failed) = (Vec::with_capacity(entries.len() * 12), Vec::new());
    for entry in entries {
        let id = entry.id.as_deref().unwrap_or_default();
        match plan(entry) {
            Ok(value) => {
                planned.push(value);
                reply::batch_success(reply::entry(&mut successful), id);
            }
            Err(e) => reply::batch_failure(reply::entry(&mut failed), id, &e),
        }
    }
    (planned, successful, failed)
}

/// Appends the `digits` lowest hex digits of `value`, lowercase, zero-padded.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(HEX[((value >> (4 * i)) & 0xf) as usize] as char);
    }
}

/// Bytes the message attributes count toward the size limits, as SQS counts them: each
/// attribute's name, data type and value (a binary value by its decoded bytes).
fn attributes_size(attributes: Option<&BTreeMap<String, AttributeInput>>) -> usize {
    attributes.map_or(0, |attributes| {
        attributes
            .iter()
            .map(|(k, v)| {
                k.len()
                    + v.data_type.as_ref().map_or(0, String::len)
                    + v.string_value.as_ref().map_or(0, String::len)
                    + v.binary_value.as_deref().map_or(0, base64_decoded_len)
            })
            .sum()
    })
}

/// The number of bytes base64 `text` decodes to (for size accounting before decoding).
fn base64_decoded_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
    (text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1)).saturating_sub(padding)
}

/// Validates and decodes message (or system) attributes.
fn decode_attributes(
    given: Option<&BTreeMap<String, AttributeInput>>,
    system: bool,
) -> ApiResult<BTreeMap<String, AttributeValue>> {
    let mut out = BTreeMap::new();
    let Some(given) = given else { return Ok(out) };
    if given.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            given.len()
        )));
    }
    for (name, value) in given {
        if system {
            if name != "AWSTraceHeader" {
                return Err(invalid(format!(
                    "Message system attribute name '{name}' is invalid."
                )));
            }
        } else {
            let lower = name.to_ascii_lowercase();
            let valid_name = !name.is_empty()
                && name.len() <= 256
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..")
                && !lower.starts_with("aws.")
                && !lower.starts_with("amazon.");
            if !valid_name {
                return Err(invalid(format!(
                    "Message attribute name '{name}' is invalid."
                )));
            }
        }
        let data_type = value.data_type.clone().ok_or_else(|| {
            invalid(format!(
                "The message attribute '{name}' must contain a non-empty message attribute type."
            ))
        })?;
        let base = data_type.split('.').next().unwrap_or_default();
        if !matches!(base, "String" | "Number" | "Binary") || data_type.len() > 256 {
            return Err(invalid(format!(
                "The type of message attribute '{name}' is invalid. You must use only the \
                 following supported type prefixes: Binary, Number, String."
            )));
        }
        let attribute = if base == "Binary" {
            let encoded = value.binary_value.as_deref().ok_or_else(|| {
                invalid(format!(
                    "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                ))
            })?;
            let bytes = STANDARD.decode(encoded).map_err(|_| {
                ApiError::new(
                    ErrorCode::SerializationException,
                    format!("Invalid base64 in message attribute '{name}'."),
                )
            })?;
            AttributeValue {
                data_type,
                string_value: None,
                binary_value: Some(Bytes::from(bytes)),
            }
        } else {
            let text = value.string_value.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                invalid(format!("The message attribute '{name}' must contain a non-empty value of message attribute type '{base}'."))
            })?;
            if base == "Number" && text.parse::<f64>().is_err() {
                return Err(invalid(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            AttributeValue {
                data_type,
                string_value: Some(text),
                binary_value: None,
            }
        };
        out.insert(name.clone(), attribute);
    }
    Ok(out)
}

/// The first byte of the receipt handle payloads this version writes: then the queue's
/// creation time and the message position (u64), its receive count (u32), all little-endian,
/// then the queue name. Handles written by earlier versions hold the same facts as JSON (first
/// byte `{`) and are still accepted.
const RECEIPT_FORMAT: u8 = 2;

/// What a receipt handle encodes.
#[derive(Debug, PartialEq, Eq)]
struct ReceiptPayload<'a> {
    queue: std::borrow::Cow<'a, [u8]>,
    queue_created_ms: Millis,
    seq: u64,
    receive_count: u32,
}

impl<'a> ReceiptPayload<'a> {
    fn decode(payload: &'a [u8]) -> Option<Self> {
        match *payload.first()? {
            RECEIPT_FORMAT => {
                let rest = &payload[1..];
                let queue_created_ms = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
                let seq = u64::from_le_bytes(rest.get(8..16)?.try_into().ok()?);
                let receive_count = u32::from_le_bytes(rest.get(16..20)?.try_into().ok()?);
                Some(Self {
                    queue: rest[20..].into(),
                    queue_created_ms,
                    seq,
                    receive_count,
                })
            }
            b'{' => {
                #[derive(Deserialize)]
                struct Json {
                    queue: String,
                    queue_created_ms: Millis,
                    seq: u64,
                    receive_count: u32,
                }
                let json: Json = serde_json::from_slice(payload).ok()?;
                Some(Self {
                    queue: json.queue.into_bytes().into(),
                    queue_created_ms: json.queue_created_ms,
                    seq: json.seq,
                    receive_count: json.receive_count,
                })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateQueueInput {
    queue_name: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "tags")]
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetQueueUrlInput {
    queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQueuesInput {
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueueUrlInput {
    queue_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetQueueAttributesInput {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetQueueAttributesInput {
    queue_url: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeInput {
    data_type: Option<String>,
    string_value: Option<String>,
    binary_value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendEntry {
    queue_url: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<BTreeMap<String, AttributeInput>>,
    message_system_attributes: Option<BTreeMap<String, AttributeInput>>,
    message_deduplication_id: Option<String>,
    message_group_id: Option<String>,
}

/// An entry of SendMessageBatch: its id and a message as SendMessage takes it.
#[derive(Debug)]
struct SendBatchEntry {
    id: Option<String>,
    entry: SendEntry,
}

impl<'de> Deserialize<'de> for SendBatchEntry {
    /// The members listed once rather than through `#[serde(flatten)]`, which buffers every
    /// entry into an intermediate map of its own before deserializing it again.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Flat {
            id: Option<String>,
            message_body: Option<String>,
            delay_seconds: Option<i64>,
            message_attributes: Option<BTreeMap<String, AttributeInput>>,
            message_system_attributes: Option<BTreeMap<String, AttributeInput>>,
            message_deduplication_id: Option<String>,
            message_group_id: Option<String>,
        }
        let flat = Flat::deserialize(deserializer)?;
        Ok(Self {
            id: flat.id,
            entry: SendEntry {
                queue_url: None,
                message_body: flat.message_body,
                delay_seconds: flat.delay_seconds,
                message_attributes: flat.message_attributes,
                message_system_attributes: flat.message_system_attributes,
                message_deduplication_id: flat.message_deduplication_id,
                message_group_id: flat.message_group_id,
            },
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendBatchInput {
    queue_url: Option<String>,
    entries: Option<Vec<SendBatchEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveInput {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
    #[serde(rename = "ReceiveRequestAttemptId")]
    _receive_request_attempt_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptInput {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptEntry {
    id: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptBatchInput {
    queue_url: Option<String>,
    entries: Option<Vec<ReceiptEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VisibilityInput {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VisibilityBatchInput {
    queue_url: Option<String>,
    entries: Option<Vec<ReceiptEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    queue_url: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagInput {
    queue_url: Option<String>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListDeadLetterSourcesInput {
    queue_url: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::sqs::store::SqsSettings;

    fn service() -> Sqs {
        let store = SqsStore::new(SqsSettings {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        });
        Sqs::new(store, [9; 16], Arc::new(ManualClock::new(1_000_000)), None)
    }

    async fn call(sqs: &Sqs, operation: &str, body: Value) -> Value {
        let context = RequestContext {
            host: "127.0.0.1:4566".into(),
            path: "/".into(),
            access_key: Some("AKID".into()),
        };
        let body = serde_json::to_vec(&body).unwrap();
        let action = operation.parse().unwrap();
        let out = sqs.call(action, &body, &context).await.unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[tokio::test]
    async fn receipt_handles_name_the_receive_and_earlier_json_handles_still_work() {
        let sqs = service();
        let url = call(&sqs, "CreateQueue", json!({ "QueueName": "q" })).await["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let batch: Vec<Value> = (0..3)
            .map(|i| json!({ "Id": format!("e{i}"), "MessageBody": format!("m{i}") }))
            .collect();
        let sent = call(
            &sqs,
            "SendMessageBatch",
            json!({ "QueueUrl": url, "Entries": batch }),
        )
        .await;
        assert_eq!(sent["Successful"].as_array().unwrap().len(), 3);
        assert_eq!(sent["Failed"], json!([]));
        let received = call(
            &sqs,
            "ReceiveMessage",
            json!({ "QueueUrl": url, "MaxNumberOfMessages": 3, "AttributeNames": ["All"] }),
        )
        .await;
        let messages = received["Messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0]["Attributes"]["SenderId"], "AKID");
        assert_eq!(messages[0]["Attributes"]["ApproximateReceiveCount"], "1");
        let handle = messages[0]["ReceiptHandle"].as_str().unwrap();
        let payload = sqs.sealer.open(handle).unwrap();
        let receipt = ReceiptPayload::decode(&payload).unwrap();
        let queue_created_ms = sqs.lock().queues["q"].created_ms;
        assert_eq!(
            receipt,
            ReceiptPayload {
                queue: b"q".as_slice().into(),
                queue_created_ms,
                seq: 1,
                receive_count: 1,
            }
        );
        // A handle as earlier versions sealed it (JSON), for the second message.
        let legacy = sqs.sealer.seal(
            &serde_json::to_vec(&json!({
                "queue": "q",
                "queue_created_ms": queue_created_ms,
                "seq": 2,
                "receive_count": 1,
            }))
            .unwrap(),
        );
        let stale = sqs.sealer.seal(
            &serde_json::to_vec(&json!({
                "queue": "q",
                "queue_created_ms": queue_created_ms,
                "seq": 3,
                "receive_count": 0,
            }))
            .unwrap(),
        );
        let deleted = call(
            &sqs,
            "DeleteMessageBatch",
            json!({ "QueueUrl": url, "Entries": [
                { "Id": "a", "ReceiptHandle": handle },
                { "Id": "b", "ReceiptHandle": legacy },
                { "Id": "c", "ReceiptHandle": stale },
                { "Id": "d", "ReceiptHandle": "not-a-handle" },
            ] }),
        )
        .await;
        assert_eq!(
            deleted["Successful"],
            json!([{ "Id": "a" }, { "Id": "b" }, { "Id": "c" }])
        );
        assert_eq!(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
        let store = sqs.lock();
        let left: Vec<u64> = store.queues["q"].messages.keys().copied().collect();
        assert_eq!(left, [3], "the stale handle deletes nothing");
    }

    /// Long polls are woken one at a time: each takes what it asked for and wakes the next
    /// while messages remain, so every waiter of the queue is served at once and none of
    /// another queue is woken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_send_wakes_as_many_long_polls_as_its_messages_serve() {
        let sqs = Arc::new(service());
        let mut urls = Vec::new();
        for name in ["a", "b"] {
            let created = call(&sqs, "CreateQueue", json!({ "QueueName": name })).await;
            urls.push(created["QueueUrl"].as_str().unwrap().to_owned());
        }
        let mut polls = Vec::new();
        for url in [&urls[0], &urls[0], &urls[0], &urls[1]] {
            let (sqs, url) = (Arc::clone(&sqs), url.clone());
            polls.push(tokio::spawn(async move {
                let body = json!({
                    "QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 20,
                });
                call(&sqs, "ReceiveMessage", body).await
            }));
        }
        // The manual clock never moves: a long poll returns only when woken.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let batch: Vec<Value> = (0..3)
            .map(|i| json!({ "Id": format!("e{i}"), "MessageBody": format!("m{i}") }))
            .collect();
        call(
            &sqs,
            "SendMessageBatch",
            json!({ "QueueUrl": urls[0], "Entries": batch }),
        )
        .await;
        let other = polls.pop().unwrap();
        let mut bodies = Vec::new();
        for poll in polls {
            let answer = tokio::time::timeout(std::time::Duration::from_secs(5), poll)
                .await
                .expect("every long poll of the queue is served")
                .unwrap();
            bodies.push(answer["Messages"][0]["Body"].as_str().unwrap().to_owned());
        }
        bodies.sort();
        assert_eq!(bodies, ["m0", "m1", "m2"]);
        assert!(
            !other.is_finished(),
            "the other queue's long poll still waits"
        );
        other.abort();
    }

    #[test]
    fn message_ids_and_digests_are_lowercase_hex() {
        let sqs = service();
        let id = sqs.next_message_id();
        let p = sqs.id_prefix;
        assert_eq!(
            id,
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                (p >> 32) as u32,
                (p >> 16) as u16,
                (p & 0xfff) as u16,
                0,
                0
            )
        );
    }
}
