//! ChangeMessageVisibility and ChangeMessageVisibilityBatch.
//!
//! Invariant: only a message in flight under a current receipt handle changes, and never to
//! stay hidden longer than `MAX_VISIBILITY_MS` after its last receive.

use serde::Deserialize;

use super::request::{BatchInput, ReceiptEntry, bad_value, missing};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::sqs::receipt;
use crate::sqs::store::{MAX_VISIBILITY_MS, Mutation, Queue};

impl Sqs {
    /// Plans one visibility change; `Ok((seq, visible_ms))`.
    fn plan_visibility(
        &self,
        queue: &Queue,
        handle: &str,
        timeout: Option<i64>,
        now: Millis,
    ) -> ApiResult<(u64, Millis)> {
        let timeout = timeout.ok_or_else(|| missing("VisibilityTimeout"))?;
        if !(0..=43_200).contains(&timeout) {
            return Err(bad_value(
                "VisibilityTimeout",
                timeout,
                "Must be >= 0 and <= 43200.",
            ));
        }
        let seq = receipt::open(&self.sealer, handle, queue)?
            .ok_or_else(|| bad_value("ReceiptHandle", handle, "The receipt handle has expired."))?;
        let message = &queue.messages[&seq];
        if !message.in_flight(now) {
            return Err(ApiError::new(
                ErrorCode::MessageNotInflight,
                "Message does not exist or is not available for visibility timeout change.",
            ));
        }
        let until = now + timeout as u64 * 1000;
        if until > message.last_receive_ms.unwrap_or(now) + MAX_VISIBILITY_MS {
            return Err(bad_value(
                "VisibilityTimeout",
                timeout,
                "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
            ));
        }
        Ok((seq, until))
    }

    pub(super) fn change_visibility(
        &self,
        input: VisibilityInput,
        context: &RequestContext,
    ) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let handle = input
            .receipt_handle
            .ok_or_else(|| missing("ReceiptHandle"))?;
        let change =
            self.plan_visibility(store.queue(&name)?, &handle, input.visibility_timeout, now)?;
        self.arrivals.wake(&name);
        let mutation = Mutation::ChangeVisibility {
            queue: name,
            changes: vec![change],
        };
        let durable_at = self.commit(&mut store, now, mutation);
        Ok(Reply::empty(durable_at))
    }

    pub(super) fn change_visibility_batch(
        &self,
        input: BatchInput<ReceiptEntry>,
        context: &RequestContext,
    ) -> Answer {
        self.receipt_batch(
            input,
            context,
            |queue, entry, now| {
                let handle = entry.receipt_handle.as_deref().unwrap_or_default();
                self.plan_visibility(queue, handle, entry.visibility_timeout, now)
            },
            |queue, changes| {
                if changes.is_empty() {
                    return None;
                }
                self.arrivals.wake(&queue);
                Some(Mutation::ChangeVisibility { queue, changes })
            },
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VisibilityInput {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[cfg(test)]
mod tests;
