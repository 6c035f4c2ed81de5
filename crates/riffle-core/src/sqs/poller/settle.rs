//! Settling: what an invocation's outcome means for a batch — which messages are deleted,
//! which return to the queue, and when a throttled batch is invoked again.

use crate::invocation::Outcome;
use crate::sqs::event::QueueMessage;
use crate::sqs::response::{Verdict, judge};
use crate::time::Millis;

use super::{PollerSettings, QueueBatch, VISIBILITY_MARGIN_MS};

/// Why a batch ended the way it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Every message succeeded.
    Success,
    /// The function reported these message ids as failed.
    PartialFailure(Vec<String>),
    /// The response failed the whole batch (ReportBatchItemFailures rules).
    InvalidResponse(String),
    /// The function failed: unhandled error, timeout, crash.
    FunctionError(String),
    /// The batch was throttled (or the invoke failed) until its visibility timeout was near;
    /// Lambda stops working on it and SQS hands it out again.
    GaveUp(String),
}

/// What to do with a batch after an invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Settlement {
    /// Delete `delete`; the rest of the batch returns to the queue when its visibility timeout
    /// passes.
    Done {
        /// Messages to delete.
        delete: Vec<QueueMessage>,
        /// Messages left to come back.
        returned: Vec<QueueMessage>,
        /// Why.
        settled: Settled,
    },
    /// Invoke the same batch again at `at` (a throttle or an invoke service error).
    RetryAt {
        /// When.
        at: Millis,
    },
}

/// Back-off between invocations of a throttled batch: 1 s, 2 s, 4 s, 8 s, then 8 s.
pub(crate) fn throttle_delay(throttles: u32) -> Millis {
    1000 << throttles.saturating_sub(1).min(3)
}

/// Decides what an invocation's `outcome` means for `batch` at `now`. When the batch is done
/// ([`Settlement::Done`]) its messages move into the settlement, leaving `batch.messages`
/// empty; a retry ([`Settlement::RetryAt`]) leaves the batch as it was.
pub(crate) fn settle(
    settings: &PollerSettings,
    batch: &mut QueueBatch,
    outcome: &Outcome,
    now: Millis,
) -> Settlement {
    let everything = |batch: &mut QueueBatch, settled| Settlement::Done {
        delete: Vec::new(),
        returned: std::mem::take(&mut batch.messages),
        settled,
    };
    match outcome {
        Outcome::Throttled | Outcome::ServiceError(_) => {
            batch.throttles += 1;
            let at = now + throttle_delay(batch.throttles);
            if at + VISIBILITY_MARGIN_MS <= batch.hidden_until {
                return Settlement::RetryAt { at };
            }
            let reason = match outcome {
                Outcome::ServiceError(error) => format!("invoke failed: {error}"),
                _ => "throttled".to_owned(),
            };
            everything(batch, Settled::GaveUp(reason))
        }
        Outcome::FunctionError { error_type, .. } => {
            everything(batch, Settled::FunctionError(error_type.clone()))
        }
        Outcome::Success(body) => {
            let verdict = if settings.report_batch_item_failures {
                let ids: Vec<&str> = batch
                    .messages
                    .iter()
                    .map(|m| m.message_id.as_str())
                    .collect();
                judge(body, &ids)
            } else {
                Verdict::Success
            };
            match verdict {
                Verdict::Success => Settlement::Done {
                    delete: std::mem::take(&mut batch.messages),
                    returned: Vec::new(),
                    settled: Settled::Success,
                },
                Verdict::CompleteFailure(reason) => {
                    everything(batch, Settled::InvalidResponse(reason))
                }
                Verdict::PartialFailure(failed) => {
                    let (returned, delete) = std::mem::take(&mut batch.messages)
                        .into_iter()
                        .partition(|m| failed.contains(&m.message_id));
                    Settlement::Done {
                        delete,
                        returned,
                        settled: Settled::PartialFailure(failed),
                    }
                }
            }
        }
    }
}
