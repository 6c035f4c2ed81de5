//! GetQueueAttributes and SetQueueAttributes without HTTP.

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, service};

#[tokio::test]
async fn attributes_are_validated_set_and_read_back_with_counts() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    let error = refused(
        &sqs,
        "GetQueueAttributes",
        json!({ "QueueUrl": url, "AttributeNames": ["Nope"] }),
    )
    .await;
    assert_eq!(error.code, ErrorCode::InvalidAttributeName);
    assert_eq!(error.message, "Unknown Attribute Nope.");
    let error = refused(
        &sqs,
        "SetQueueAttributes",
        json!({ "QueueUrl": url, "Attributes": { "VisibilityTimeout": "43201" } }),
    )
    .await;
    assert_eq!(error.code, ErrorCode::InvalidAttributeValue);
    assert_eq!(
        error.message,
        "Invalid value for the parameter VisibilityTimeout."
    );
    call(
        &sqs,
        "SetQueueAttributes",
        json!({ "QueueUrl": url, "Attributes": { "VisibilityTimeout": "5" } }),
    )
    .await;
    let read = call(
        &sqs,
        "GetQueueAttributes",
        json!({
            "QueueUrl": url,
            "AttributeNames": ["VisibilityTimeout", "ApproximateNumberOfMessages", "QueueArn"],
        }),
    )
    .await;
    assert_eq!(
        read,
        json!({ "Attributes": {
            "ApproximateNumberOfMessages": "0",
            "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
            "VisibilityTimeout": "5",
        } })
    );
}
