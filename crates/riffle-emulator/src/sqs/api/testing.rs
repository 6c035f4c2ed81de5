//! Test helpers: a service on a manual clock, and calls by operation name with JSON bodies.

use std::sync::Arc;

use serde_json::Value;

use super::{RequestContext, Sqs};
use crate::clock::ManualClock;
use crate::error::{ApiError, ApiResult};
use crate::sqs::store::{SqsStore, StoreSettings};

/// A service with no queues, no log and a clock that never moves.
pub(crate) fn service() -> Sqs {
    let store = SqsStore::new(StoreSettings {
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
    });
    Sqs::new(store, [9; 16], Arc::new(ManualClock::new(1_000_000)), None)
}

/// Calls `operation` with `body` as access key `AKID`; panics on an error answer.
pub(crate) async fn call(sqs: &Sqs, operation: &str, body: Value) -> Value {
    match try_call(sqs, operation, body).await {
        Ok(answer) => answer,
        Err(error) => panic!("{operation}: {error:?}"),
    }
}

/// Calls `operation` with `body`; the answer, or the error SQS would send.
pub(crate) async fn try_call(sqs: &Sqs, operation: &str, body: Value) -> ApiResult<Value> {
    let context = RequestContext {
        host: "127.0.0.1:4566".into(),
        path: "/".into(),
        access_key: Some("AKID".into()),
    };
    let body = serde_json::to_vec(&body).unwrap();
    let out = sqs.call(operation.parse()?, &body, &context).await?;
    Ok(serde_json::from_slice(&out).unwrap())
}

/// Calls `operation` with `body`, which must fail; the error SQS would send.
pub(crate) async fn refused(sqs: &Sqs, operation: &str, body: Value) -> ApiError {
    match try_call(sqs, operation, body).await {
        Ok(answer) => panic!("{operation} answered {answer}"),
        Err(error) => error,
    }
}

/// Sends a message of `body` to the queue at `url`.
pub(crate) async fn send(sqs: &Sqs, url: &str, body: &str) {
    let request = serde_json::json!({ "QueueUrl": url, "MessageBody": body });
    call(sqs, "SendMessage", request).await;
}

/// Creates queue `name` with `attributes`; its URL.
pub(crate) async fn queue(sqs: &Sqs, name: &str, attributes: Value) -> String {
    let created = call(
        sqs,
        "CreateQueue",
        serde_json::json!({ "QueueName": name, "Attributes": attributes }),
    )
    .await;
    created["QueueUrl"].as_str().unwrap().to_owned()
}
