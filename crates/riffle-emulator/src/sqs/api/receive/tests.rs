//! ReceiveMessage without HTTP (the long-poll wake-ups are tested in `sqs::long_poll`).

use serde_json::json;

use crate::sqs::api::testing::{call, queue, refused, send, service};

#[tokio::test]
async fn a_receive_is_validated_and_hides_what_it_hands_out() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    let error = refused(
        &sqs,
        "ReceiveMessage",
        json!({ "QueueUrl": url, "MaxNumberOfMessages": 11 }),
    )
    .await;
    assert_eq!(
        error.message,
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, \
         if provided."
    );
    send(&sqs, &url, "m").await;
    let received = call(&sqs, "ReceiveMessage", json!({ "QueueUrl": url })).await;
    assert_eq!(received["Messages"][0]["Body"], "m");
    let again = call(&sqs, "ReceiveMessage", json!({ "QueueUrl": url })).await;
    assert_eq!(again, json!({}), "the message is in flight");
}
