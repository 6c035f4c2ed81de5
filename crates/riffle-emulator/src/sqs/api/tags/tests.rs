//! TagQueue, UntagQueue and ListQueueTags without HTTP.

use std::collections::BTreeMap;

use serde_json::json;

use crate::error::ErrorCode;
use crate::sqs::api::testing::{call, queue, refused, service};

#[tokio::test]
async fn tags_are_added_listed_removed_and_capped() {
    let sqs = service();
    let url = queue(&sqs, "q", json!({})).await;
    call(
        &sqs,
        "TagQueue",
        json!({ "QueueUrl": url, "Tags": { "team": "a", "env": "dev" } }),
    )
    .await;
    call(
        &sqs,
        "UntagQueue",
        json!({ "QueueUrl": url, "TagKeys": ["env"] }),
    )
    .await;
    let listed = call(&sqs, "ListQueueTags", json!({ "QueueUrl": url })).await;
    assert_eq!(listed, json!({ "Tags": { "team": "a" } }));
    let many: BTreeMap<String, String> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    let error = refused(&sqs, "TagQueue", json!({ "QueueUrl": url, "Tags": many })).await;
    assert_eq!(error.code, ErrorCode::InvalidParameterValue);
    assert_eq!(error.message, "Too many tags added for queue q.");
}
