//! The requests riffle's command-line tools and `riffle local`'s set-up make, over the SDK, in
//! riffle's own types: the binary keeps what it prints and decides, this crate keeps the SDK.
//!
//! - [`kinesis`]: creating streams, putting records, listing shards and reading pages of them;
//! - [`consumer`]: reading a shard through an enhanced fan-out consumer (SubscribeToShard);
//! - [`sqs`]: creating queues, finding a queue's URL, receiving, deleting and handing back;
//! - [`lambda`]: a RequestResponse invoke and its answer;
//! - [`s3`]: creating buckets.
//!
//! Invariant: an error is text with the service's code when it sent one (`Code: message`),
//! otherwise the SDK's own description.

pub mod consumer;
pub mod kinesis;
pub mod lambda;
pub mod s3;
pub mod sqs;

/// The text of an SDK error, with its code when the service sent one.
pub(crate) fn sdk_error<E>(error: &aws_sdk_kinesis::error::SdkError<E>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or_default()
        ),
        None => format!("{error}"),
    }
}
