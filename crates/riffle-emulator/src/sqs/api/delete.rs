//! DeleteMessage and DeleteMessageBatch.
//!
//! Invariant: a handle of an earlier receive of a message (stale) succeeds without deleting, as
//! SQS documents; a handle that is not one, or of another queue, fails with
//! `ReceiptHandleIsInvalid`.

use serde::Deserialize;

use super::request::{BatchInput, ReceiptEntry, missing, per_entry};
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
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let entries = input.into_entries()?;
        let queue = store.queue(&name)?;
        let (current, successful, failed) = per_entry(&entries, |entry| {
            receipt::open(
                &self.sealer,
                entry.receipt_handle.as_deref().unwrap_or_default(),
                queue,
            )
        });
        let seqs: Vec<u64> = current.into_iter().flatten().collect();
        let durable_at = if seqs.is_empty() {
            None
        } else {
            self.commit(&mut store, now, Mutation::Delete { queue: name, seqs })
        };
        Ok(Reply::batch(&successful, &failed, durable_at))
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
