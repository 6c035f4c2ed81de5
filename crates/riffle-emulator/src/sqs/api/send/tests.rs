//! SendMessage and SendMessageBatch without HTTP.

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, service};

#[tokio::test]
async fn a_send_is_validated_and_a_bad_batch_entry_fails_alone() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    let error = refused(&sqs, "SendMessage", json!({ "QueueUrl": url })).await;
    assert_eq!(error.code, ErrorCode::MissingParameter);
    assert_eq!(
        error.message,
        "The request must contain the parameter MessageBody."
    );
    let error = refused(
        &sqs,
        "SendMessage",
        json!({ "QueueUrl": url, "MessageBody": "x", "DelaySeconds": 901 }),
    )
    .await;
    assert_eq!(
        error.message,
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and \
         <= 900."
    );
    let sent = call(
        &sqs,
        "SendMessageBatch",
        json!({ "QueueUrl": url, "Entries": [
            { "Id": "ok", "MessageBody": "hello" },
            { "Id": "bad", "MessageBody": "x", "DelaySeconds": -1 },
        ] }),
    )
    .await;
    assert_eq!(sent["Successful"][0]["Id"], "ok");
    assert_eq!(
        sent["Successful"][0]["MD5OfMessageBody"],
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(sent["Failed"][0]["Id"], "bad");
    assert_eq!(sent["Failed"][0]["Code"], "InvalidParameterValue");
    assert_eq!(sqs.lock().queues()["q"].messages.len(), 1);
}

#[tokio::test]
async fn a_fifo_duplicate_answers_the_original_message_id() {
    let sqs = service();
    let url = queue(
        &sqs,
        "f.fifo",
        json!({ "FifoQueue": "true", "ContentBasedDeduplication": "true" }),
    )
    .await;
    let body = json!({ "QueueUrl": url, "MessageBody": "once", "MessageGroupId": "g" });
    let first = call(&sqs, "SendMessage", body.clone()).await;
    let again = call(&sqs, "SendMessage", body).await;
    assert_eq!(first["MessageId"], again["MessageId"]);
    assert_eq!(first["SequenceNumber"], "18000000000000000001");
    assert_eq!(sqs.lock().queues()["f.fifo"].messages.len(), 1);
}
