//! SQS requests of the tools: creating a queue (or bringing an existing one to its
//! attributes), finding a queue's URL, receiving, deleting and handing messages back.
//!
//! Invariant: an existing queue keeps `FifoQueue` (it cannot change); every other attribute
//! [`create_queue`] is given is set.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};

use super::sdk_error;

/// What [`create_queue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The queue was created.
    Created,
    /// It existed with other settings, which were brought to the ones asked for.
    Updated,
}

/// Why creating a queue failed, per step (each the SDK's description of its error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateQueueError {
    /// CreateQueue failed.
    Create(String),
    /// GetQueueUrl of the existing queue failed.
    Find(String),
    /// SetQueueAttributes of the existing queue failed.
    Update(String),
}

/// Creates queue `name` with `attributes` (CreateQueue's names and values); if a queue of
/// that name exists with other settings, sets them instead.
pub async fn create_queue(
    client: &Client,
    name: &str,
    attributes: Vec<(&str, String)>,
) -> Result<Created, CreateQueueError> {
    let attributes: Vec<(QueueAttributeName, String)> = attributes
        .into_iter()
        .map(|(name, value)| (QueueAttributeName::from(name), value))
        .collect();
    let mut request = client.create_queue().queue_name(name);
    for (name, value) in &attributes {
        request = request.attributes(name.clone(), value.clone());
    }
    match request.send().await {
        Ok(_) => Ok(Created::Created),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| CreateQueueError::Find(e.to_string()))?
                .queue_url
                .unwrap_or_default();
            let mut update = client.set_queue_attributes().queue_url(url);
            for (name, value) in attributes {
                if name != QueueAttributeName::FifoQueue {
                    update = update.attributes(name, value);
                }
            }
            update
                .send()
                .await
                .map_err(|e| CreateQueueError::Update(e.to_string()))?;
            Ok(Created::Updated)
        }
        Err(e) => Err(CreateQueueError::Create(e.to_string())),
    }
}

/// The URL of `queue`: a URL (as it is), an ARN (GetQueueUrl with its owner), or a name.
pub async fn queue_url(client: &Client, queue: &str) -> Result<String, String> {
    if queue.starts_with("http://") || queue.starts_with("https://") {
        Ok(queue.to_owned())
    } else if queue.starts_with("arn:") {
        crate::queue_url(client, queue)
            .await
            .map_err(|e| e.to_string())
    } else {
        Ok(client
            .get_queue_url()
            .queue_name(queue)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?
            .queue_url
            .unwrap_or_default())
    }
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// MessageId.
    pub message_id: String,
    /// ReceiptHandle.
    pub receipt_handle: Option<String>,
    /// Body.
    pub body: String,
}

/// ReceiveMessage of up to `max` messages (clamped to 1–10) from `url`, hidden for
/// `visibility_seconds`, waiting up to `wait_seconds`, with every system attribute.
pub async fn receive(
    client: &Client,
    url: &str,
    max: usize,
    visibility_seconds: i32,
    wait_seconds: i32,
) -> Result<Vec<Received>, String> {
    let out = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max.clamp(1, 10) as i32)
        .visibility_timeout(visibility_seconds)
        .wait_time_seconds(wait_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(out
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| Received {
            message_id: m.message_id.unwrap_or_default(),
            receipt_handle: m.receipt_handle,
            body: m.body.unwrap_or_default(),
        })
        .collect())
}

/// SendMessage of `body` to `url` (with `group_id` for a FIFO queue); returns the MessageId.
pub async fn send(
    client: &Client,
    url: &str,
    body: &str,
    group_id: Option<&str>,
) -> Result<String, String> {
    let out = client
        .send_message()
        .queue_url(url)
        .message_body(body)
        .set_message_group_id(group_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(out.message_id.unwrap_or_default())
}

/// DeleteMessage of the message received with `receipt_handle`.
pub async fn delete(client: &Client, url: &str, receipt_handle: &str) -> Result<(), String> {
    client
        .delete_message()
        .queue_url(url)
        .receipt_handle(receipt_handle)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error(&e))
}

/// ChangeMessageVisibility to 0 of the message received with `receipt_handle`.
pub async fn hand_back(client: &Client, url: &str, receipt_handle: &str) -> Result<(), String> {
    client
        .change_message_visibility()
        .queue_url(url)
        .receipt_handle(receipt_handle)
        .visibility_timeout(0)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error(&e))
}

/// ChangeMessageVisibilityBatch to 0 of up to 10 messages by their receipt handles.
pub async fn hand_back_batch(
    client: &Client,
    url: &str,
    receipt_handles: &[String],
) -> Result<(), String> {
    let entries = receipt_handles
        .iter()
        .enumerate()
        .filter_map(|(i, receipt)| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .build()
                .ok()
        });
    client
        .change_message_visibility_batch()
        .queue_url(url)
        .set_entries(Some(entries.collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error(&e))
}
