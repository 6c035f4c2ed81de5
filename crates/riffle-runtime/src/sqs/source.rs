//! The SQS source boundary: receive, delete and hand back messages. Its Kinesis counterpart is
//! [`crate::kinesis::source`].

use std::future::Future;

use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::{EntryFailure, ReceiptEntry, ReceiveRequest};

use crate::source::SourceError;

/// An SQS queue the mapping polls (over the SDK, or in memory for tests).
pub trait QueueSource: Send + Sync + 'static {
    /// ReceiveMessage asking for every system and message attribute.
    fn receive(
        &self,
        request: ReceiveRequest,
    ) -> impl Future<Output = Result<Vec<QueueMessage>, SourceError>> + Send;
    /// DeleteMessageBatch of at most 10 entries; returns the entries that failed.
    fn delete(
        &self,
        entries: Vec<ReceiptEntry>,
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SourceError>> + Send;
    /// ChangeMessageVisibilityBatch to 0 for at most 10 entries, so they can be received again
    /// at once; returns the entries that failed.
    fn release(
        &self,
        entries: Vec<ReceiptEntry>,
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SourceError>> + Send;
}
