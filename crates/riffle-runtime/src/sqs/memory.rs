//! An in-memory SQS queue on the injected clock, for the runtime's tests and the test kit: the
//! counterpart of [`crate::kinesis::memory`].
//!
//! Invariant: it passes the queue source conformance suite (riffle-conformance) that the SDK
//! adapter over the emulator passes.

use std::sync::{Arc, Mutex};

use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::{EntryFailure, ReceiptEntry, ReceiveRequest};
use riffle_core::time::Millis;

use crate::source::SourceError;
use crate::sqs::source::QueueSource;

/// One message of a [`MemoryQueue`].
#[derive(Debug, Clone)]
struct Held {
    id: String,
    body: String,
    group: Option<String>,
    sequence: u64,
    sent_ms: Millis,
    first_receive_ms: Option<Millis>,
    receive_count: u32,
    hidden_until: Millis,
    receipt: Option<String>,
}

#[derive(Debug)]
struct QueueState {
    arn: String,
    fifo: bool,
    visibility_timeout_ms: Millis,
    redrive: Option<(MemoryQueue, u32)>,
    messages: Vec<Held>,
    next: u64,
    deleted: Vec<String>,
    receives: u64,
}

/// An SQS queue held in memory, on the runtime's clock; clones share it.
///
/// It keeps what the engine relies on: a received message stays hidden for the visibility
/// timeout (or the receive's own), a delete with a stale receipt handle deletes nothing, a
/// message received `maxReceiveCount` times moves to the dead-letter queue on its next receive,
/// long polls wait for a message (on the clock, never in real time), and a FIFO queue hands out
/// a message group's messages in order and none of a group while one of it is in flight.
#[derive(Debug, Clone)]
pub struct MemoryQueue {
    state: Arc<Mutex<QueueState>>,
    clock: Arc<dyn riffle_clock::Clock>,
    arrived: Arc<tokio::sync::Notify>,
}

impl MemoryQueue {
    /// A standard queue named `name` with a visibility timeout of `visibility_timeout_ms`.
    pub fn new(
        name: &str,
        visibility_timeout_ms: Millis,
        clock: Arc<dyn riffle_clock::Clock>,
    ) -> Self {
        Self {
            state: Arc::new(Mutex::new(QueueState {
                arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
                fifo: name.ends_with(".fifo"),
                visibility_timeout_ms,
                redrive: None,
                messages: Vec::new(),
                next: 0,
                deleted: Vec::new(),
                receives: 0,
            })),
            clock,
            arrived: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The queue's ARN.
    pub fn arn(&self) -> String {
        self.lock().arn.clone()
    }

    /// Moves messages received more than `max_receive_count` times to `dead_letter`.
    pub fn redrive_to(&self, dead_letter: &MemoryQueue, max_receive_count: u32) {
        self.lock().redrive = Some((dead_letter.clone(), max_receive_count));
    }

    /// Sends a message; returns its id.
    pub fn send(&self, body: impl Into<String>) -> String {
        self.send_to_group(body, None)
    }

    /// Sends a message to a FIFO message group (`None` on a standard queue); returns its id.
    pub fn send_to_group(&self, body: impl Into<String>, group: Option<&str>) -> String {
        let now = self.clock.now_millis();
        let id = {
            let mut state = self.lock();
            state.next += 1;
            let id = format!("00000000-0000-4000-8000-{:012x}", state.next);
            let sequence = state.next;
            state.messages.push(Held {
                id: id.clone(),
                body: body.into(),
                group: group.map(str::to_owned),
                sequence,
                sent_ms: now,
                first_receive_ms: None,
                receive_count: 0,
                hidden_until: now,
                receipt: None,
            });
            id
        };
        self.arrived.notify_waiters();
        id
    }

    /// Bodies of the messages still in the queue (visible or not), in send order.
    pub fn bodies(&self) -> Vec<String> {
        self.lock()
            .messages
            .iter()
            .map(|m| m.body.clone())
            .collect()
    }

    /// Ids of deleted messages, in delete order.
    pub fn deleted(&self) -> Vec<String> {
        self.lock().deleted.clone()
    }

    /// ReceiveMessage calls so far that returned at least one message.
    pub fn receives(&self) -> u64 {
        self.lock().receives
    }

    /// The earliest time a hidden message becomes visible, for long polls to wake at.
    fn take_visible(
        &self,
        max: usize,
        visibility_ms: Option<Millis>,
    ) -> (Vec<QueueMessage>, Option<Millis>) {
        let now = self.clock.now_millis();
        let mut state = self.lock();
        // Messages out of receives go to the dead-letter queue when they would be received again.
        if let Some((dead_letter, max_receives)) = state.redrive.clone() {
            let (dead, kept): (Vec<Held>, Vec<Held>) = std::mem::take(&mut state.messages)
                .into_iter()
                .partition(|m| m.hidden_until <= now && m.receive_count >= max_receives);
            state.messages = kept;
            for message in dead {
                dead_letter.send_to_group(message.body, message.group.as_deref());
            }
        }
        let visibility = visibility_ms.unwrap_or(state.visibility_timeout_ms);
        let fifo = state.fifo;
        let mut blocked: Vec<String> = Vec::new();
        let mut taken = Vec::new();
        let mut next_visible: Option<Millis> = None;
        for message in &mut state.messages {
            let hidden = message.hidden_until > now;
            if hidden {
                next_visible = Some(
                    next_visible.map_or(message.hidden_until, |t| t.min(message.hidden_until)),
                );
            }
            if fifo {
                let group = message.group.clone().unwrap_or_default();
                if hidden || blocked.contains(&group) {
                    if !blocked.contains(&group) {
                        blocked.push(group);
                    }
                    continue;
                }
            } else if hidden {
                continue;
            }
            if taken.len() == max {
                continue;
            }
            message.receive_count += 1;
            message.first_receive_ms.get_or_insert(now);
            message.hidden_until = now + visibility;
            let receipt = format!("{}#{}", message.id, message.receive_count);
            message.receipt = Some(receipt.clone());
            // Lambda's order (riffle-aws's ATTRIBUTE_ORDER): the FIFO attributes sit between
            // SentTimestamp and SenderId, the first receive time comes last.
            let mut attributes = vec![
                (
                    "ApproximateReceiveCount".to_owned(),
                    message.receive_count.to_string(),
                ),
                ("SentTimestamp".to_owned(), message.sent_ms.to_string()),
            ];
            if let Some(group) = &message.group {
                attributes.push((
                    "SequenceNumber".to_owned(),
                    format!("{:020}", message.sequence),
                ));
                attributes.push(("MessageGroupId".to_owned(), group.clone()));
            }
            attributes.push(("SenderId".to_owned(), "AIDAIENQZJOLO23YVJ4VO".to_owned()));
            if message.group.is_some() {
                attributes.push(("MessageDeduplicationId".to_owned(), message.id.clone()));
            }
            attributes.push((
                "ApproximateFirstReceiveTimestamp".to_owned(),
                message.first_receive_ms.unwrap_or(now).to_string(),
            ));
            taken.push(QueueMessage {
                message_id: message.id.clone(),
                receipt_handle: receipt,
                md5_of_body: riffle_core::digest::md5_hex(message.body.as_bytes()),
                body: message.body.clone(),
                attributes,
                message_attributes: Vec::new(),
                md5_of_message_attributes: None,
            });
        }
        if !taken.is_empty() {
            state.receives += 1;
        }
        (taken, next_visible)
    }
}

impl QueueSource for MemoryQueue {
    async fn receive(&self, request: ReceiveRequest) -> Result<Vec<QueueMessage>, SourceError> {
        let visibility = request
            .visibility_timeout_seconds
            .map(|s| Millis::from(s) * 1000);
        let deadline = self.clock.now_millis() + Millis::from(request.wait_seconds) * 1000;
        loop {
            let arrived = self.arrived.notified();
            let (messages, next_visible) = self.take_visible(request.max_messages, visibility);
            let now = self.clock.now_millis();
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            let wake = next_visible.map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                () = arrived => {}
                () = self.clock.sleep_until(wake) => {}
            }
        }
    }

    async fn delete(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        let mut state = self.lock();
        for entry in entries {
            // A stale receipt handle deletes nothing and still succeeds, as on SQS.
            if let Some(at) = state
                .messages
                .iter()
                .position(|m| m.receipt.as_deref() == Some(entry.receipt_handle.as_str()))
            {
                let message = state.messages.remove(at);
                state.deleted.push(message.id);
            }
        }
        Ok(Vec::new())
    }

    async fn release(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        let now = self.clock.now_millis();
        let mut failed = Vec::new();
        {
            let mut state = self.lock();
            for entry in entries {
                match state
                    .messages
                    .iter_mut()
                    .find(|m| m.receipt.as_deref() == Some(entry.receipt_handle.as_str()))
                {
                    Some(message) => message.hidden_until = now,
                    // A handle from an earlier receive has expired: SQS refuses the entry
                    // (InvalidParameterValue, "The receipt handle has expired.").
                    None => failed.push(EntryFailure {
                        message_id: entry.message_id,
                        code: "InvalidParameterValue".to_owned(),
                        sender_fault: true,
                    }),
                }
            }
        }
        self.arrived.notify_waiters();
        Ok(failed)
    }
}
