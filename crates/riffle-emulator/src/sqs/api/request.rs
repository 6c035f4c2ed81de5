//! What every SQS action shares about its request: decoding the JSON 1.0 body, SQS's wording
//! for missing and invalid parameters, the shape checks and per-entry answers of batches, and
//! how a receipt-handle batch (delete, change visibility) is planned and committed.
//!
//! Invariant: a batch's shape (1 to 10 entries, distinct well-formed ids) is checked before any
//! entry is, and each entry's result lands in `Successful` or `Failed` in request order.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::{Answer, Reply, RequestContext, Sqs};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::sqs::reply;
use crate::sqs::store::{Mutation, Queue};

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameterValue, message)
}

pub(crate) fn missing(parameter: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MissingParameter,
        format!("The request must contain the parameter {parameter}."),
    )
}

pub(crate) fn bad_value(parameter: &str, value: impl std::fmt::Display, reason: &str) -> ApiError {
    invalid(format!(
        "Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    ))
}

pub(crate) fn secs(ms: Millis) -> String {
    (ms / 1000).to_string()
}

pub(crate) fn body_of(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

pub(crate) fn check_batch_ids<'a>(
    ids: impl ExactSizeIterator<Item = Option<&'a str>>,
) -> ApiResult<()> {
    let count = ids.len();
    if count == 0 {
        return Err(ApiError::new(
            ErrorCode::EmptyBatchRequest,
            "There should be at least one SendMessageBatchRequestEntry in the request.",
        ));
    }
    if count > 10 {
        return Err(ApiError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are 10. You have sent {count}."),
        ));
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        let id = id.unwrap_or_default();
        let valid = !id.is_empty()
            && id.len() <= 80
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(ApiError::new(
                ErrorCode::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and \
                 underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(ApiError::new(
                ErrorCode::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

/// A batch request: the queue and its entries.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchInput<E> {
    pub(crate) queue_url: Option<String>,
    entries: Option<Vec<E>>,
}

/// An entry of a batch request, which names itself with an id unique in the batch.
pub(crate) trait BatchEntry {
    /// The entry's `Id`.
    fn id(&self) -> Option<&str>;
}

impl<E: BatchEntry> BatchInput<E> {
    /// The entries, once the batch's shape is checked ([`check_batch_ids`]).
    pub(crate) fn into_entries(self) -> ApiResult<Vec<E>> {
        let entries = self.entries.unwrap_or_default();
        check_batch_ids(entries.iter().map(E::id))?;
        Ok(entries)
    }
}

impl BatchEntry for ReceiptEntry {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Checks a list action's `MaxResults`, when given.
pub(crate) fn check_max_results(max_results: Option<i64>) -> ApiResult<()> {
    match max_results {
        Some(max) if !(1..=1000).contains(&max) => Err(bad_value(
            "MaxResults",
            max,
            "MaxResults must be an integer between 1 and 1000.",
        )),
        _ => Ok(()),
    }
}

impl Sqs {
    /// Runs a receipt-handle batch: locks the store, checks the batch's shape, plans each entry
    /// with `plan` against the queue the batch names (at the time read under the lock), and
    /// commits what `change` makes of the queue's name and the planned values, if anything.
    pub(super) fn receipt_batch<T>(
        &self,
        input: BatchInput<ReceiptEntry>,
        context: &RequestContext,
        mut plan: impl FnMut(&Queue, &ReceiptEntry, Millis) -> ApiResult<T>,
        change: impl FnOnce(String, Vec<T>) -> Option<Mutation>,
    ) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let entries = input.into_entries()?;
        let queue = store.queue(&name)?;
        let mut planned = Vec::with_capacity(entries.len());
        let (mut successful, mut failed) = (Vec::with_capacity(entries.len() * 12), Vec::new());
        for entry in &entries {
            let id = entry.id.as_deref().unwrap_or_default();
            match plan(queue, entry, now) {
                Ok(value) => {
                    planned.push(value);
                    reply::batch_success(reply::entry(&mut successful), id);
                }
                Err(e) => reply::batch_failure(reply::entry(&mut failed), id, &e),
            }
        }
        let durable_at = change(name, planned).and_then(|m| self.commit(&mut store, now, m));
        Ok(Reply::batch(&successful, &failed, durable_at))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueueUrlInput {
    pub(crate) queue_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReceiptEntry {
    pub(crate) id: Option<String>,
    pub(crate) receipt_handle: Option<String>,
    pub(crate) visibility_timeout: Option<i64>,
}
