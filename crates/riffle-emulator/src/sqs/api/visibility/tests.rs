//! ChangeMessageVisibility and ChangeMessageVisibilityBatch without HTTP.

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, send, service};

#[tokio::test]
async fn only_a_message_in_flight_changes_and_within_the_limit() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    send(&sqs, &url, "m").await;
    let receive = json!({ "QueueUrl": url, "VisibilityTimeout": 30 });
    let received = call(&sqs, "ReceiveMessage", receive.clone()).await;
    let handle = received["Messages"][0]["ReceiptHandle"].clone();
    let change = |timeout: i64| json!({ "QueueUrl": url, "ReceiptHandle": handle, "VisibilityTimeout": timeout });
    let error = refused(&sqs, "ChangeMessageVisibility", change(43_201)).await;
    assert_eq!(
        error.message,
        "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= \
         43200."
    );
    call(&sqs, "ChangeMessageVisibility", change(0)).await;
    let error = refused(&sqs, "ChangeMessageVisibility", change(10)).await;
    assert_eq!(error.code, ErrorCode::MessageNotInflight);
    let again = call(&sqs, "ReceiveMessage", receive).await;
    assert_eq!(again["Messages"][0]["Body"], "m", "visible again at once");
}
