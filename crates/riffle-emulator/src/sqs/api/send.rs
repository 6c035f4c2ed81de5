//! SendMessage and SendMessageBatch: validate every entry, assign FIFO sequence numbers, drop
//! duplicates within the deduplication window, and enqueue the rest in one logged fact.
//!
//! Invariant: a batch is rejected whole only for its shape (ids, size); an invalid entry fails
//! alone and the others are sent. The per-message work is one `Message` built and moved into
//! the store, and its answer written straight into the reply bytes.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::request::{BatchEntry, BatchInput};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::clock::Millis;
use crate::error::{ApiError, ErrorCode};
use crate::sqs::message::{
    AttributeInput, MAX_MESSAGE_BYTES, SendEntry, attributes_size, build_message,
    fifo_sequence_number,
};
use crate::sqs::reply;
use crate::sqs::store::{DEDUPLICATION_WINDOW_MS, Message, Mutation, SqsStore, deduplication_key};

impl Sqs {
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
        let queue = store.queues().get(name).expect("resolved queue exists");
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
            let mutation = Mutation::Send {
                queue: name.to_owned(),
                messages: accepted,
            };
            let lsn = self.commit(store, now, mutation);
            self.arrivals.wake(name);
            lsn
        };
        (results, durable_at)
    }

    pub(super) fn send_message(&self, input: SendEntry, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let account = store.settings.account_id.clone();
        let sender = context.access_key.as_deref().unwrap_or(&account);
        let queue = store.queue_at(&name, now)?;
        let message = build_message(queue, &input, now, sender, &self.ids)?;
        let (body, durable_at) = self.enqueue(&mut store, &name, now, vec![(None, message)]);
        Ok(Reply { body, durable_at })
    }

    pub(super) fn send_message_batch(
        &self,
        input: BatchInput<SendBatchEntry>,
        context: &RequestContext,
    ) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let entries = input.into_entries()?;
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
        let sender = context.access_key.as_deref().unwrap_or(&account);
        let queue = store.queue_at(&name, now)?;
        let mut built = Vec::with_capacity(entries.len());
        let mut failed = Vec::new();
        for entry in entries {
            let id = entry.id.unwrap_or_default();
            match build_message(queue, &entry.entry, now, sender, &self.ids) {
                Ok(message) => built.push((Some(id), message)),
                Err(e) => reply::batch_failure(reply::entry(&mut failed), &id, &e),
            }
        }
        let (successful, durable_at) = self.enqueue(&mut store, &name, now, built);
        Ok(Reply::batch(&successful, &failed, durable_at))
    }
}

/// An entry of SendMessageBatch: its id and a message as SendMessage takes it.
#[derive(Debug)]
pub(super) struct SendBatchEntry {
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

impl BatchEntry for SendBatchEntry {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

#[cfg(test)]
mod tests;
