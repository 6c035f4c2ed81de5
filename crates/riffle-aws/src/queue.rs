//! An SQS queue as the source of an SQS mapping: a [`QueueSource`] over `aws-sdk-sqs`, and the
//! look-ups validation needs (the queue's URL from its ARN, whether it is FIFO, its visibility
//! timeout).
//!
//! Invariants: a received message reaches the engine with every system attribute SQS returned,
//! as strings keyed by AWS's names and in the order Lambda writes them, and with its message
//! attributes sorted by name (binary values base64); a batch entry's result is reported under
//! the message id it was sent for, never under the batch entry id.

use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, ChangeMessageVisibilityBatchRequestEntry,
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use base64::Engine as _;
use riffle_core::sqs::config::SqsFacts;
use riffle_core::sqs::event::{EventAttribute, QueueMessage};
use riffle_core::sqs::poller::{EntryFailure, ReceiptEntry, ReceiveRequest};
use riffle_runtime::{QueueSource, SourceError};

/// Most entries SQS takes in one batch call.
const MAX_BATCH_ENTRIES: usize = 10;

/// System attributes in the order Lambda writes them in the SQS event: AWS's documented
/// standard-queue event (`ApproximateReceiveCount`, `SentTimestamp`, `SenderId`,
/// `ApproximateFirstReceiveTimestamp`) with the FIFO attributes where AWS's FIFO example puts
/// them; the two attributes neither example shows come last. Anything else SQS adds later
/// follows, sorted by name.
const ATTRIBUTE_ORDER: [MessageSystemAttributeName; 9] = [
    MessageSystemAttributeName::ApproximateReceiveCount,
    MessageSystemAttributeName::SentTimestamp,
    MessageSystemAttributeName::SequenceNumber,
    MessageSystemAttributeName::MessageGroupId,
    MessageSystemAttributeName::SenderId,
    MessageSystemAttributeName::MessageDeduplicationId,
    MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
    MessageSystemAttributeName::AwsTraceHeader,
    MessageSystemAttributeName::DeadLetterQueueSourceArn,
];

/// An SQS queue read, deleted from and released through the SDK.
#[derive(Debug, Clone)]
pub struct SqsQueueSource {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueueSource {
    /// The queue at `queue_url`, used through `client`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The queue named by `queue_arn` (its URL resolved with GetQueueUrl).
    pub async fn for_arn(
        client: aws_sdk_sqs::Client,
        queue_arn: &str,
    ) -> Result<Self, SourceError> {
        let queue_url = queue_url(&client, queue_arn).await?;
        Ok(Self::new(client, queue_url))
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

impl QueueSource for SqsQueueSource {
    async fn receive(&self, request: ReceiveRequest) -> Result<Vec<QueueMessage>, SourceError> {
        let call = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(request.max_messages.clamp(1, MAX_BATCH_ENTRIES) as i32)
            .wait_time_seconds(request.wait_seconds.min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .set_visibility_timeout(
                request
                    .visibility_timeout_seconds
                    .map(|s| i32::try_from(s).unwrap_or(i32::MAX)),
            );
        let out = call.send().await.map_err(sqs_error)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(queue_message)
            .collect())
    }

    async fn delete(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        in_batches(&entries, |ids| async move {
            let requests = ids.into_iter().map(|(id, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(id)
                    .receipt_handle(handle)
                    .build()
            });
            let call = self.client.delete_message_batch();
            let call = call
                .queue_url(&self.queue_url)
                .set_entries(Some(built(requests)?));
            Ok(call.send().await.map_err(sqs_error)?.failed)
        })
        .await
    }

    async fn release(&self, entries: Vec<ReceiptEntry>) -> Result<Vec<EntryFailure>, SourceError> {
        in_batches(&entries, |ids| async move {
            let requests = ids.into_iter().map(|(id, handle)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(id)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
            });
            let call = self.client.change_message_visibility_batch();
            let call = call
                .queue_url(&self.queue_url)
                .set_entries(Some(built(requests)?));
            Ok(call.send().await.map_err(sqs_error)?.failed)
        })
        .await
    }
}

/// Sends `entries` in batches of at most [`MAX_BATCH_ENTRIES`] through `send_batch`, which is
/// given each entry's id (its position in the batch) and receipt handle and returns the batch's
/// failed entries; the failures of every batch, named by message id.
async fn in_batches<'a, Fut>(
    entries: &'a [ReceiptEntry],
    mut send_batch: impl FnMut(Vec<(String, &'a str)>) -> Fut,
) -> Result<Vec<EntryFailure>, SourceError>
where
    Fut: Future<Output = Result<Vec<BatchResultErrorEntry>, SourceError>>,
{
    let mut failures = Vec::new();
    for chunk in entries.chunks(MAX_BATCH_ENTRIES) {
        let ids = chunk
            .iter()
            .enumerate()
            .map(|(i, entry)| (i.to_string(), entry.receipt_handle.as_str()))
            .collect();
        let failed = send_batch(ids).await?;
        failures.extend(entry_failures(chunk, &failed));
    }
    Ok(failures)
}

/// Batch request entries, or the first one the SDK could not build.
fn built<T>(
    entries: impl Iterator<Item = Result<T, aws_sdk_sqs::error::BuildError>>,
) -> Result<Vec<T>, SourceError> {
    entries
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SourceError::Other(e.to_string()))
}

/// Per-entry failures of a batch call whose entry ids were the positions in `chunk`.
fn entry_failures(chunk: &[ReceiptEntry], failed: &[BatchResultErrorEntry]) -> Vec<EntryFailure> {
    failed
        .iter()
        .map(|failure| EntryFailure {
            message_id: failure
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|i| chunk.get(i))
                .map_or_else(|| failure.id().to_owned(), |e| e.message_id.clone()),
            code: failure.code().to_owned(),
            sender_fault: failure.sender_fault(),
        })
        .collect()
}

/// What a mapping needs to know about its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFacts {
    /// QueueArn (`eventSourceARN`).
    pub queue_arn: String,
    /// Whether it is a FIFO queue.
    pub fifo: bool,
    /// Its VisibilityTimeout, seconds.
    pub visibility_timeout_seconds: u64,
}

impl QueueFacts {
    /// The facts validation needs, for a function whose timeout is `function_timeout_seconds`.
    pub fn sqs_facts(&self, function_timeout_seconds: u64) -> SqsFacts {
        SqsFacts {
            fifo: self.fifo,
            visibility_timeout_seconds: self.visibility_timeout_seconds,
            function_timeout_seconds,
        }
    }
}

/// Reads the ARN, FIFO flag and visibility timeout of the queue at `queue_url` with
/// GetQueueAttributes.
pub async fn queue_facts(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Result<QueueFacts, SourceError> {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .attribute_names(QueueAttributeName::FifoQueue)
        .send()
        .await
        .map_err(sqs_error)?;
    let attributes = out.attributes.unwrap_or_default();
    let queue_arn = attributes
        .get(&QueueAttributeName::QueueArn)
        .cloned()
        .ok_or_else(|| SourceError::Other(format!("{queue_url} returned no QueueArn")))?;
    let visibility = attributes
        .get(&QueueAttributeName::VisibilityTimeout)
        .ok_or_else(|| SourceError::Other(format!("{queue_url} returned no VisibilityTimeout")))?;
    let visibility_timeout_seconds = visibility.parse().map_err(|_| {
        SourceError::Other(format!(
            "{queue_url} returned VisibilityTimeout {visibility}"
        ))
    })?;
    let fifo = attributes
        .get(&QueueAttributeName::FifoQueue)
        .is_some_and(|v| v == "true");
    Ok(QueueFacts {
        queue_arn,
        fifo,
        visibility_timeout_seconds,
    })
}

/// The account and name of an SQS queue ARN (`arn:aws:sqs:region:account:name`).
pub fn parse_queue_arn(queue_arn: &str) -> Option<(&str, &str)> {
    let mut parts = queue_arn.splitn(6, ':');
    let (arn, _partition, service, _region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (account, name) = (parts.next()?, parts.next()?);
    (arn == "arn" && service == "sqs" && !account.is_empty() && !name.is_empty())
        .then_some((account, name))
}

/// Resolves the URL of the queue named by `queue_arn` with GetQueueUrl (its name and owner).
pub async fn queue_url(
    client: &aws_sdk_sqs::Client,
    queue_arn: &str,
) -> Result<String, SourceError> {
    let (account, name) = parse_queue_arn(queue_arn)
        .ok_or_else(|| SourceError::Other(format!("{queue_arn} is not an SQS queue ARN")))?;
    let out = client
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(sqs_error)?;
    out.queue_url
        .ok_or_else(|| SourceError::Other(format!("GetQueueUrl returned no URL for {queue_arn}")))
}

/// An SDK error as the runtime classifies it: a missing queue, throttling, or anything else.
fn sqs_error<E: ProvideErrorMetadata + std::fmt::Debug>(error: E) -> SourceError {
    let text = match error.message() {
        Some(message) => format!("{}: {message}", error.code().unwrap_or("error")),
        None => format!("{error:?}"),
    };
    match error.code() {
        Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue") => {
            SourceError::NotFound(text)
        }
        Some("RequestThrottled" | "ThrottlingException" | "OverLimit" | "KmsThrottled") => {
            SourceError::Throttled(text)
        }
        _ => SourceError::Other(text),
    }
}

/// A received message as the engine hands it to the function.
pub fn queue_message(message: Message) -> QueueMessage {
    let mut system = message.attributes.unwrap_or_default();
    let mut attributes: Vec<(String, String)> = Vec::with_capacity(system.len());
    for name in &ATTRIBUTE_ORDER {
        if let Some(value) = system.remove(name) {
            attributes.push((name.as_str().to_owned(), value));
        }
    }
    let mut rest: Vec<(String, String)> = system
        .into_iter()
        .map(|(name, value)| (name.as_str().to_owned(), value))
        .collect();
    rest.sort();
    attributes.extend(rest);
    let mut message_attributes: Vec<(String, EventAttribute)> = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name, event_attribute(value)))
        .collect();
    message_attributes.sort_by(|a, b| a.0.cmp(&b.0));
    let md5_of_message_attributes = message
        .md5_of_message_attributes
        .filter(|_| !message_attributes.is_empty());
    QueueMessage {
        message_id: message.message_id.unwrap_or_default(),
        receipt_handle: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        md5_of_body: message.md5_of_body.unwrap_or_default(),
        attributes,
        message_attributes,
        md5_of_message_attributes,
    }
}

fn event_attribute(value: MessageAttributeValue) -> EventAttribute {
    EventAttribute {
        data_type: value.data_type,
        string_value: value.string_value,
        binary_value: value
            .binary_value
            .map(|blob| base64::engine::general_purpose::STANDARD.encode(blob.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::primitives::Blob;

    #[test]
    fn system_attributes_come_in_lambdas_order_and_message_attributes_by_name() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("r-1")
            .body("hello")
            .md5_of_body("5d41402abc4b2a76b9719d911017c592")
            .attributes(
                MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
                "1700000000005",
            )
            .attributes(MessageSystemAttributeName::SenderId, "AIDAEXAMPLE")
            .attributes(MessageSystemAttributeName::MessageDeduplicationId, "d-1")
            .attributes(MessageSystemAttributeName::MessageGroupId, "g-1")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000000")
            .attributes(
                MessageSystemAttributeName::SequenceNumber,
                "18849496460467696128",
            )
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .message_attributes(
                "Pages",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value("6")
                    .build()
                    .unwrap(),
            )
            .message_attributes(
                "Author",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("Ada")
                    .build()
                    .unwrap(),
            )
            .message_attributes(
                "Cover",
                MessageAttributeValue::builder()
                    .data_type("Binary.png")
                    .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                    .build()
                    .unwrap(),
            )
            .md5_of_message_attributes("0123456789abcdef0123456789abcdef")
            .build();
        let converted = queue_message(message);
        let names: Vec<&str> = converted
            .attributes
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SequenceNumber",
                "MessageGroupId",
                "SenderId",
                "MessageDeduplicationId",
                "ApproximateFirstReceiveTimestamp",
            ]
        );
        let names: Vec<&str> = converted
            .message_attributes
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(names, ["Author", "Cover", "Pages"]);
        assert_eq!(
            converted.message_attributes[1].1,
            EventAttribute {
                data_type: "Binary.png".into(),
                string_value: None,
                binary_value: Some("AAEC/w==".into()),
            }
        );
        assert_eq!(
            converted.md5_of_message_attributes.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            (converted.message_id.as_str(), converted.body.as_str()),
            ("m-1", "hello")
        );
    }

    #[test]
    fn a_message_without_attributes_has_no_attribute_digest() {
        let converted = queue_message(Message::builder().message_id("m").body("b").build());
        assert!(converted.attributes.is_empty() && converted.message_attributes.is_empty());
        assert_eq!(converted.md5_of_message_attributes, None);
    }

    #[test]
    fn batch_failures_are_reported_under_message_ids() {
        let chunk: Vec<ReceiptEntry> = ["m-0", "m-1", "m-2"]
            .iter()
            .map(|id| ReceiptEntry {
                message_id: (*id).into(),
                receipt_handle: format!("r-{id}"),
            })
            .collect();
        let failed = [aws_sdk_sqs::types::BatchResultErrorEntry::builder()
            .id("2")
            .code("ReceiptHandleIsInvalid")
            .sender_fault(true)
            .build()
            .unwrap()];
        assert_eq!(
            entry_failures(&chunk, &failed),
            [EntryFailure {
                message_id: "m-2".into(),
                code: "ReceiptHandleIsInvalid".into(),
                sender_fault: true,
            }]
        );
    }

    #[test]
    fn queue_arns_name_their_account_and_queue() {
        assert_eq!(
            parse_queue_arn("arn:aws:sqs:us-east-1:000000000000:jobs.fifo"),
            Some(("000000000000", "jobs.fifo"))
        );
        assert_eq!(
            parse_queue_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders"),
            None
        );
        assert_eq!(parse_queue_arn("jobs"), None);
    }
}
