//! Reading a handler's response the way the engine does.
//!
//! Invariant: these read the serialized response, so they see what Lambda would see (field
//! names, nulls), whatever type the handler returned.

use serde::Serialize;
use serde_json::Value;

/// The `itemIdentifier`s of `batchItemFailures`, in order (empty for a success).
///
/// ```
/// use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
///
/// let mut response = SqsBatchResponse::default();
/// let mut failure = BatchItemFailure::default();
/// failure.item_identifier = "m-2".into();
/// response.batch_item_failures.push(failure);
/// assert_eq!(riffle_testkit::failed_items(&response), ["m-2"]);
/// ```
pub fn failed_items(response: &impl Serialize) -> Vec<String> {
    let value = serde_json::to_value(response).expect("the response serializes");
    value
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| match &item["itemIdentifier"] {
                    Value::String(id) => id.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that exactly `expected` were reported as failed, in any order.
///
/// ```
/// let response = serde_json::json!({"batchItemFailures": [{"itemIdentifier": "49"}]});
/// riffle_testkit::assert_failed_items(&response, &["49"]);
/// ```
#[track_caller]
pub fn assert_failed_items(response: &impl Serialize, expected: &[&str]) {
    let mut failed = failed_items(response);
    failed.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(failed, expected, "batchItemFailures");
}

/// The tumbling-window `state` of a response (`None` when absent, which the engine treats as a
/// failure).
///
/// ```
/// use std::collections::HashMap;
/// use aws_lambda_events::event::kinesis::KinesisTimeWindowEventResponse;
///
/// let mut response = KinesisTimeWindowEventResponse::default();
/// response.time_window_event_response_properties.state =
///     HashMap::from([("total".to_owned(), "6".to_owned())]);
/// assert_eq!(
///     riffle_testkit::window_state(&response),
///     Some(serde_json::json!({"total": "6"}))
/// );
/// ```
pub fn window_state(response: &impl Serialize) -> Option<Value> {
    let value = serde_json::to_value(response).expect("the response serializes");
    value.get("state").filter(|s| !s.is_null()).cloned()
}
