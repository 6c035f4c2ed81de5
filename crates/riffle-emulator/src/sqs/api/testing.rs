//! Test helpers: a service on a manual clock, and calls by operation name with JSON bodies.

use std::sync::Arc;

use serde_json::Value;

use super::{RequestContext, Sqs};
use crate::clock::ManualClock;
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
    let context = RequestContext {
        host: "127.0.0.1:4566".into(),
        path: "/".into(),
        access_key: Some("AKID".into()),
    };
    let body = serde_json::to_vec(&body).unwrap();
    let action = operation.parse().unwrap();
    let out = sqs.call(action, &body, &context).await.unwrap();
    serde_json::from_slice(&out).unwrap()
}
