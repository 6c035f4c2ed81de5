//! DeleteMessage and DeleteMessageBatch.
//!
//! Invariant: a handle of an earlier receive of a message (stale) succeeds without deleting, as
//! SQS documents; a handle that is not one, or of another queue, fails with
//! `ReceiptHandleIsInvalid`.

use serde::Deserialize;

use super::request::{BatchInput, ReceiptEntry, missing};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::sqs::receipt;
use crate::sqs::store::Mutation;

impl Sqs {
    pub(super) fn delete_message(&self, input: ReceiptInput, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let handle = input
            .receipt_handle
            .ok_or_else(|| missing("ReceiptHandle"))?;
        let current = receipt::open(&self.sealer, &handle, store.queue(&name)?)?;
        // A stale handle (the message was received again since) succeeds without deleting,
        // as SQS documents.
        let durable_at = current.and_then(|seq| {
            self.commit(
                &mut store,
                now,
                Mutation::Delete {
                    queue: name,
                    seqs: vec![seq],
                },
            )
        });
        Ok(Reply::empty(durable_at))
    }

    pub(super) fn delete_message_batch(
        &self,
        input: BatchInput<ReceiptEntry>,
        context: &RequestContext,
    ) -> Answer {
        self.receipt_batch(
            input,
            context,
            |queue, entry, _| {
                let handle = entry.receipt_handle.as_deref().unwrap_or_default();
                receipt::open(&self.sealer, handle, queue)
            },
            |queue, current| {
                // Stale handles (`None`) succeed without deleting.
                let seqs: Vec<u64> = current.into_iter().flatten().collect();
                (!seqs.is_empty()).then_some(Mutation::Delete { queue, seqs })
            },
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ReceiptInput {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
}

#[cfg(test)]
mod tests;
