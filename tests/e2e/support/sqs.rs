//! SQS calls the tests make again and again, each one SDK call with the test's inputs and
//! nothing added: create a queue, send, receive, delete, read an attribute.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::create_queue::{CreateQueueError, CreateQueueOutput};
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
use aws_sdk_sqs::operation::receive_message::{ReceiveMessageError, ReceiveMessageOutput};
use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageOutput};
use aws_sdk_sqs::operation::send_message_batch::{SendMessageBatchError, SendMessageBatchOutput};
use aws_sdk_sqs::types::{
    Message, MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use riffle_emulator::ManualClock;
use tokio::task::JoinHandle;

/// CreateQueue of `name` with `attributes`, as the SDK answers it.
pub(crate) async fn try_queue(
    client: &Client,
    name: &str,
    attributes: &[(QueueAttributeName, &str)],
) -> Result<CreateQueueOutput, SdkError<CreateQueueError>> {
    let mut request = client.create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes(key.clone(), *value);
    }
    request.send().await
}

/// Creates queue `name` with `attributes`; its URL.
pub(crate) async fn queue(
    client: &Client,
    name: &str,
    attributes: &[(QueueAttributeName, &str)],
) -> String {
    let out = try_queue(client, name, attributes).await.unwrap();
    out.queue_url.unwrap()
}

/// Creates queue `name` with one attribute set; its URL.
pub(crate) async fn queue_with(
    client: &Client,
    name: &str,
    attribute: QueueAttributeName,
    value: &str,
) -> String {
    queue(client, name, &[(attribute, value)]).await
}

/// Creates queue `name` tagged `key`=`value`; its URL.
pub(crate) async fn queue_tagged(client: &Client, name: &str, key: &str, value: &str) -> String {
    let request = client.create_queue().queue_name(name).tags(key, value);
    request.send().await.unwrap().queue_url.unwrap()
}

/// One SendMessageBatch entry.
pub(crate) fn batch_entry(
    id: impl Into<String>,
    body: impl Into<String>,
) -> SendMessageBatchRequestEntry {
    SendMessageBatchRequestEntry::builder()
        .id(id)
        .message_body(body)
        .build()
        .unwrap()
}

/// SendMessageBatch of `entries` to `url`, as the SDK answers it (entries may fail one by one).
pub(crate) async fn send_batch(
    client: &Client,
    url: &str,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> Result<SendMessageBatchOutput, SdkError<SendMessageBatchError>> {
    let request = client.send_message_batch().queue_url(url);
    request.set_entries(Some(entries)).send().await
}

/// SendMessage of `body` to `url`, as the SDK answers it.
pub(crate) async fn try_send(
    client: &Client,
    url: &str,
    body: impl Into<String>,
) -> Result<SendMessageOutput, SdkError<SendMessageError>> {
    let request = client.send_message().queue_url(url);
    request.message_body(body).send().await
}

/// SendMessage of `body` to `url`, which must succeed.
pub(crate) async fn send(client: &Client, url: &str, body: impl Into<String>) -> SendMessageOutput {
    try_send(client, url, body).await.expect("sent")
}

/// ReceiveMessage of up to `max` messages with every system attribute.
pub(crate) async fn receive(client: &Client, url: &str, max: i32) -> Vec<Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

/// ReceiveMessage of up to ten messages, no attributes asked for.
pub(crate) async fn receive_ten(client: &Client, url: &str) -> ReceiveMessageOutput {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
}

/// DeleteMessage of `handle`, which must succeed.
pub(crate) async fn delete(client: &Client, url: &str, handle: &str) {
    client
        .delete_message()
        .queue_url(url)
        .receipt_handle(handle)
        .send()
        .await
        .unwrap();
}

/// The attributes GetQueueAttributes answers for `name` (`All` for every one).
pub(crate) async fn attributes(
    client: &Client,
    url: &str,
    name: QueueAttributeName,
) -> HashMap<QueueAttributeName, String> {
    let request = client.get_queue_attributes().queue_url(url);
    let out = request.attribute_names(name).send().await.unwrap();
    out.attributes.unwrap()
}

/// The value of one queue attribute.
pub(crate) async fn attribute(client: &Client, url: &str, name: QueueAttributeName) -> String {
    attributes(client, url, name.clone()).await[&name].clone()
}

/// ApproximateNumberOfMessagesNotVisible: how many messages are in flight.
pub(crate) async fn in_flight(client: &Client, url: &str) -> String {
    attribute(
        client,
        url,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    )
    .await
}

/// ApproximateNumberOfMessagesDelayed: how many messages wait for their delay.
pub(crate) async fn delayed(client: &Client, url: &str) -> String {
    attribute(
        client,
        url,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    )
    .await
}

/// A message attribute of type String.
pub(crate) fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

/// A message attribute of type Binary.
pub(crate) fn binary_attribute(value: impl Into<Vec<u8>>) -> MessageAttributeValue {
    let value = aws_sdk_sqs::primitives::Blob::new(value);
    MessageAttributeValue::builder()
        .data_type("Binary")
        .binary_value(value)
        .build()
        .unwrap()
}

/// The bodies of `messages`, in order.
pub(crate) fn bodies(messages: &[Message]) -> Vec<&str> {
    messages.iter().filter_map(|m| m.body()).collect()
}

/// Starts a ReceiveMessage long poll on `url` (waiting `wait_seconds`, or the queue's
/// ReceiveMessageWaitTimeSeconds when `None`) and returns once the emulator has found the queue
/// empty and waits on `clock`: from then on only an arrival or the clock can end the poll, so
/// the test can make that event knowing the poll is already waiting (no sleeping or yielding to
/// get the order).
pub(crate) async fn long_poll(
    client: &Client,
    url: &str,
    wait_seconds: Option<i32>,
    clock: &ManualClock,
) -> JoinHandle<ReceiveMessageOutput> {
    let waiting = clock.sleepers();
    let request = client
        .receive_message()
        .queue_url(url)
        .set_wait_time_seconds(wait_seconds);
    let poll = tokio::spawn(async move { request.send().await.unwrap() });
    tokio::time::timeout(
        Duration::from_secs(10),
        clock.sleepers_at_least(waiting + 1),
    )
    .await
    .expect("the long poll waits on the clock");
    poll
}

/// One SendMessage whose parts a validation case changes; by default a valid one of body `x`.
pub(crate) struct SendCase {
    pub(crate) body: String,
    pub(crate) delay: Option<i32>,
    pub(crate) group_id: Option<&'static str>,
    pub(crate) deduplication_id: Option<&'static str>,
    pub(crate) attribute: Option<(&'static str, MessageAttributeValue)>,
}

impl Default for SendCase {
    fn default() -> Self {
        Self {
            body: "x".to_owned(),
            delay: None,
            group_id: None,
            deduplication_id: None,
            attribute: None,
        }
    }
}

impl SendCase {
    pub(crate) async fn send(
        self,
        client: &Client,
        url: &str,
    ) -> Result<SendMessageOutput, SdkError<SendMessageError>> {
        let request = client.send_message().queue_url(url).message_body(self.body);
        let mut request = request
            .set_delay_seconds(self.delay)
            .set_message_group_id(self.group_id.map(str::to_owned))
            .set_message_deduplication_id(self.deduplication_id.map(str::to_owned));
        if let Some((name, value)) = self.attribute {
            request = request.message_attributes(name, value);
        }
        request.send().await
    }
}

/// GetQueueUrl of `name`, which must succeed.
pub(crate) async fn url_of(client: &Client, name: &str) -> GetQueueUrlOutput {
    client
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap()
}

/// One ReceiveMessage whose parameters a test sets; unset ones are left out of the request.
#[derive(Default)]
pub(crate) struct Receive {
    max: Option<i32>,
    wait: Option<i32>,
    visibility: Option<i32>,
    /// MessageAttributeNames, as one name or pattern.
    attributes: Option<&'static str>,
    /// Whether to ask for every system attribute.
    system: bool,
}

impl Receive {
    /// Every message attribute and every system attribute.
    pub(crate) fn all_attributes() -> Self {
        Self::default().attributes("All").system()
    }

    /// MaxNumberOfMessages.
    pub(crate) fn max(self, max: i32) -> Self {
        Self {
            max: Some(max),
            ..self
        }
    }

    /// WaitTimeSeconds.
    pub(crate) fn wait(self, seconds: i32) -> Self {
        Self {
            wait: Some(seconds),
            ..self
        }
    }

    /// VisibilityTimeout.
    pub(crate) fn visibility(self, seconds: i32) -> Self {
        Self {
            visibility: Some(seconds),
            ..self
        }
    }

    /// MessageAttributeNames of one name or pattern.
    pub(crate) fn attributes(self, names: &'static str) -> Self {
        Self {
            attributes: Some(names),
            ..self
        }
    }

    /// Every system attribute.
    pub(crate) fn system(self) -> Self {
        Self {
            system: true,
            ..self
        }
    }

    /// The ReceiveMessage on `url`, as the SDK answers it.
    pub(crate) async fn try_receive(
        self,
        client: &Client,
        url: &str,
    ) -> Result<ReceiveMessageOutput, SdkError<ReceiveMessageError>> {
        let request = client.receive_message().queue_url(url);
        let mut request = request
            .set_max_number_of_messages(self.max)
            .set_wait_time_seconds(self.wait)
            .set_visibility_timeout(self.visibility);
        if let Some(names) = self.attributes {
            request = request.message_attribute_names(names);
        }
        if self.system {
            request = request.message_system_attribute_names(MessageSystemAttributeName::All);
        }
        request.send().await
    }

    /// The ReceiveMessage on `url`, which must succeed.
    pub(crate) async fn receive(self, client: &Client, url: &str) -> ReceiveMessageOutput {
        self.try_receive(client, url).await.unwrap()
    }
}
