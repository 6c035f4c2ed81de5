//! DeleteMessage and DeleteMessageBatch without HTTP (receipt handles: `sqs::receipt`).

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, send, service};

#[tokio::test]
async fn a_delete_needs_a_handle_and_removes_the_message() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    let error = refused(&sqs, "DeleteMessage", json!({ "QueueUrl": url })).await;
    assert_eq!(error.code, ErrorCode::MissingParameter);
    assert_eq!(
        error.message,
        "The request must contain the parameter ReceiptHandle."
    );
    send(&sqs, &url, "m").await;
    let received = call(&sqs, "ReceiveMessage", json!({ "QueueUrl": url })).await;
    let handle = received["Messages"][0]["ReceiptHandle"].clone();
    let deleted = call(
        &sqs,
        "DeleteMessage",
        json!({ "QueueUrl": url, "ReceiptHandle": handle }),
    )
    .await;
    assert_eq!(deleted, json!({}));
    assert!(sqs.lock().queues()["q"].messages.is_empty());
}
