//! ListDeadLetterSourceQueues without HTTP.

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, service};

#[tokio::test]
async fn the_sources_of_a_dead_letter_queue_are_listed() {
    let sqs = service();
    let dlq = queue(&sqs, "dlq", json!({})).await;
    let policy =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2}"#;
    let source = queue(&sqs, "src", json!({ "RedrivePolicy": policy })).await;
    queue(&sqs, "other", json!({})).await;
    let error = refused(
        &sqs,
        "ListDeadLetterSourceQueues",
        json!({ "QueueUrl": dlq, "MaxResults": 1001 }),
    )
    .await;
    assert_eq!(error.code, ErrorCode::InvalidParameterValue);
    let listed = call(
        &sqs,
        "ListDeadLetterSourceQueues",
        json!({ "QueueUrl": dlq }),
    )
    .await;
    assert_eq!(listed, json!({ "queueUrls": [source] }));
}
