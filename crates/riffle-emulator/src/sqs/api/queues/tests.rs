//! CreateQueue, GetQueueUrl, ListQueues, DeleteQueue and PurgeQueue without HTTP.

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, service};

#[tokio::test]
async fn create_queue_checks_names_and_answers_the_same_url_for_the_same_queue() {
    let sqs = service();
    let error = refused(&sqs, "CreateQueue", json!({ "QueueName": "bad name" })).await;
    assert_eq!(error.code, ErrorCode::InvalidParameterValue);
    assert_eq!(
        error.message,
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    );
    let url = queue(&sqs, "q", json!({ "VisibilityTimeout": "10" })).await;
    assert_eq!(url, "http://127.0.0.1:4566/000000000000/q");
    assert_eq!(
        queue(&sqs, "q", json!({ "VisibilityTimeout": "10" })).await,
        url
    );
    let error = refused(
        &sqs,
        "CreateQueue",
        json!({ "QueueName": "q", "Attributes": { "VisibilityTimeout": "11" } }),
    )
    .await;
    assert_eq!(error.code, ErrorCode::QueueNameExists);
    assert_eq!(
        error.message,
        "A queue already exists with the same name and a different value for attribute \
         VisibilityTimeout"
    );
    let found = call(&sqs, "GetQueueUrl", json!({ "QueueName": "q" })).await;
    assert_eq!(found["QueueUrl"], url.as_str());
}

#[tokio::test]
async fn list_queues_pages_with_a_token_and_checks_max_results() {
    let sqs = service();
    for name in ["a", "b", "c"] {
        queue(&sqs, name, json!({})).await;
    }
    let error = refused(&sqs, "ListQueues", json!({ "MaxResults": 0 })).await;
    assert_eq!(
        error.message,
        "Value 0 for parameter MaxResults is invalid. Reason: MaxResults must be an integer \
         between 1 and 1000."
    );
    let first = call(&sqs, "ListQueues", json!({ "MaxResults": 2 })).await;
    assert_eq!(first["QueueUrls"].as_array().unwrap().len(), 2);
    let token = first["NextToken"].as_str().unwrap();
    let rest = call(
        &sqs,
        "ListQueues",
        json!({ "MaxResults": 2, "NextToken": token }),
    )
    .await;
    assert_eq!(
        rest,
        json!({ "QueueUrls": ["http://127.0.0.1:4566/000000000000/c"] })
    );
    let all = call(&sqs, "ListQueues", json!({ "QueueNamePrefix": "b" })).await;
    assert_eq!(
        all,
        json!({ "QueueUrls": ["http://127.0.0.1:4566/000000000000/b"] })
    );
}

#[tokio::test]
async fn a_deleted_name_stays_taken_for_a_while_and_a_purge_waits_a_minute() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    call(&sqs, "PurgeQueue", json!({ "QueueUrl": url })).await;
    let error = refused(&sqs, "PurgeQueue", json!({ "QueueUrl": url })).await;
    assert_eq!(error.code, ErrorCode::PurgeQueueInProgress);
    call(&sqs, "DeleteQueue", json!({ "QueueUrl": url })).await;
    let error = refused(&sqs, "CreateQueue", json!({ "QueueName": "q" })).await;
    assert_eq!(error.code, ErrorCode::QueueDeletedRecently);
}
