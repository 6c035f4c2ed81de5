//! Reading a queue without receiving from it: every message with its body, attributes and
//! state, for tools (`riffle dlq`) and tests. Served as `GET /_riffle/queues/{name}/messages`.
//!
//! Invariant: a peek changes nothing. No receive count goes up, no message is hidden, moved to
//! a dead-letter queue or trimmed, and nothing is logged; SQS itself has no such operation, so
//! this is Riffle's own route, not part of the SQS API.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::Sqs;
use super::digest::AttributeValue;
use super::store::{Message, SqsStore};
use crate::clock::Millis;
use crate::error::ApiResult;

/// What `GET /_riffle/queues/{name}/messages` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMessages {
    /// The queue's name.
    pub queue: String,
    /// The queue's ARN.
    pub queue_arn: String,
    /// When the emulator read the queue (epoch milliseconds).
    pub at: Millis,
    /// How many messages the queue holds (visible, in flight or delayed).
    pub total: usize,
    /// Those messages in enqueue order (the first `limit`, when one was asked for).
    pub messages: Vec<PeekedMessage>,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// A receive may hand it out.
    Visible,
    /// Received, and hidden until its visibility timeout ends.
    InFlight,
    /// Sent with a delay that has not ended yet.
    Delayed,
}

/// One message, as a peek sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeekedMessage {
    /// The MessageId.
    pub message_id: String,
    /// The body.
    pub body: String,
    /// MD5 of the body.
    pub md5_of_body: String,
    /// The system attributes a receive asking for `All` would return (`SentTimestamp`,
    /// `ApproximateReceiveCount`, `SenderId`, …), as SQS writes them: strings.
    pub attributes: BTreeMap<String, String>,
    /// The message attributes.
    pub message_attributes: BTreeMap<String, PeekedAttribute>,
    /// How many times it was received (`ApproximateReceiveCount`).
    pub receive_count: u32,
    /// When it was first sent (epoch ms; kept when a redrive moved it here).
    pub sent_timestamp: Millis,
    /// Visible, in flight or delayed.
    pub state: MessageState,
    /// When it becomes (or became) visible (epoch ms).
    pub visible_at: Millis,
}

/// A message attribute, as the Lambda SQS event writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeekedAttribute {
    /// `String`, `Number` or `Binary`, with any custom suffix.
    pub data_type: String,
    /// The value of a String or Number attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The value of a Binary attribute, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl SqsStore {
    /// The messages of queue `name` as of `now` (the first `limit` of them, if given), without
    /// receiving any (messages past the queue's retention, not yet trimmed, are left out as a
    /// receive would), or `QueueDoesNotExist`.
    pub fn peek(&self, name: &str, now: Millis, limit: Option<usize>) -> ApiResult<QueueMessages> {
        let queue = self.queue(name)?;
        let live = || {
            queue
                .messages
                .values()
                .filter(|m| !queue.expired(m.sent_ms, now))
        };
        let messages = live()
            .take(limit.unwrap_or(usize::MAX))
            .map(|m| peeked(m, now))
            .collect();
        Ok(QueueMessages {
            queue: name.to_owned(),
            queue_arn: self.queue_arn(name),
            at: now,
            total: live().count(),
            messages,
        })
    }
}

impl Sqs {
    /// The messages of queue `name` (the first `limit`), without receiving any
    /// ([`SqsStore::peek`]), once everything it shows is on disk (as a receive would answer
    /// only then).
    pub async fn peek(&self, name: &str, limit: Option<usize>) -> ApiResult<QueueMessages> {
        let (messages, logged) = {
            let (store, now) = self.lock_now();
            let logged = self
                .wal
                .as_ref()
                .map(|wal| wal.reserve().lsn().saturating_sub(1));
            (store.peek(name, now, limit)?, logged)
        };
        if let (Some(lsn), Some(wal)) = (logged, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(messages)
    }
}

fn peeked(message: &Message, now: Millis) -> PeekedMessage {
    let state = if message.in_flight(now) {
        MessageState::InFlight
    } else if message.delayed(now) {
        MessageState::Delayed
    } else {
        MessageState::Visible
    };
    let mut attributes = BTreeMap::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            attributes.insert(name.to_owned(), value);
        }
    };
    put(
        "AWSTraceHeader",
        message
            .system_attributes
            .get("AWSTraceHeader")
            .and_then(|v| v.string_value.clone()),
    );
    put(
        "ApproximateFirstReceiveTimestamp",
        message.first_receive_ms.map(|ms| ms.to_string()),
    );
    put(
        "ApproximateReceiveCount",
        Some(message.receive_count.to_string()),
    );
    put(
        "DeadLetterQueueSourceArn",
        message.dead_letter_source_arn.clone(),
    );
    put("MessageDeduplicationId", message.deduplication_id.clone());
    put("MessageGroupId", message.group_id.clone());
    put("SenderId", Some(message.sender_id.clone()));
    put("SentTimestamp", Some(message.sent_ms.to_string()));
    put("SequenceNumber", message.sequence_number.clone());
    PeekedMessage {
        message_id: message.id.clone(),
        body: message.body.clone(),
        md5_of_body: message.md5_body.clone(),
        attributes,
        message_attributes: message
            .attributes
            .iter()
            .map(|(name, value)| (name.clone(), attribute(value)))
            .collect(),
        receive_count: message.receive_count,
        sent_timestamp: message.sent_ms,
        state,
        visible_at: message.visible_ms.max(message.available_ms),
    }
}

fn attribute(value: &AttributeValue) -> PeekedAttribute {
    PeekedAttribute {
        data_type: value.data_type.clone(),
        string_value: value.string_value.clone(),
        binary_value: value
            .binary_value
            .as_ref()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
    }
}
