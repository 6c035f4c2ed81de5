//! How a function's answer for an SQS batch is judged under ReportBatchItemFailures: success,
//! the messages that failed, or complete failure.
//!
//! Success: an empty or null body, `{}`, or a null or empty `batchItemFailures`. Partial failure:
//! every `itemIdentifier` is a message id of the batch. Complete failure: a body that is not
//! JSON, an identifier that is missing, null, empty, not a string or not in the batch.

use serde_json::Value;

use crate::invocation::batch_item_failures;

/// The verdict on a successful invocation of an SQS batch with ReportBatchItemFailures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every message succeeded: delete them all.
    Success,
    /// These message ids failed (they return to the queue); the rest are deleted.
    PartialFailure(Vec<String>),
    /// The whole batch failed.
    CompleteFailure(String),
}

/// Judges `body` for a batch of `message_ids`, by the SQS rules: success for an empty or null
/// body, `{}`, or a null or empty `batchItemFailures`; complete failure for a body that is not
/// JSON, an identifier that is missing, null, empty, not a string or not in the batch.
pub fn judge(body: &[u8], message_ids: &[&str]) -> Verdict {
    let items = match batch_item_failures(body, false) {
        Ok(items) if items.is_empty() => return Verdict::Success,
        Ok(items) => items,
        Err(reason) => return Verdict::CompleteFailure(reason),
    };
    let mut failed = Vec::new();
    for item in &items {
        match item.get("itemIdentifier") {
            Some(Value::String(id)) if message_ids.contains(&id.as_str()) => {
                if !failed.contains(id) {
                    failed.push(id.clone());
                }
            }
            _ => {
                return Verdict::CompleteFailure(format!(
                    "batch item failure {item} does not name a message of the batch"
                ));
            }
        }
    }
    Verdict::PartialFailure(failed)
}

#[cfg(test)]
mod tests;
