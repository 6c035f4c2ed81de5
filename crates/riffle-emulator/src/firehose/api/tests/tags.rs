//! TagDeliveryStream, UntagDeliveryStream and ListTagsForDeliveryStream.

use serde_json::{Value, json};

use super::Fixture;
use crate::error::ErrorCode;
use crate::firehose::Action;

fn tags(range: std::ops::Range<usize>) -> Value {
    let tags: Vec<_> = range
        .map(|i| json!({ "Key": format!("k{i:02}"), "Value": "v" }))
        .collect();
    json!({ "DeliveryStreamName": "logs", "Tags": tags })
}

#[tokio::test]
async fn tags_are_added_listed_by_page_and_removed() {
    let f = Fixture::with_stream("logs").await;
    assert_eq!(f.ok(Action::TagDeliveryStream, tags(0..3)).await, json!({}));
    let list = Action::ListTagsForDeliveryStream;
    assert_eq!(
        f.ok(list, json!({ "DeliveryStreamName": "logs", "Limit": 2 }))
            .await,
        json!({
            "Tags": [{ "Key": "k00", "Value": "v" }, { "Key": "k01", "Value": "v" }],
            "HasMoreTags": true,
        })
    );
    let rest = json!({ "DeliveryStreamName": "logs", "ExclusiveStartTagKey": "k01" });
    assert_eq!(
        f.ok(list, rest).await,
        json!({ "Tags": [{ "Key": "k02", "Value": "v" }], "HasMoreTags": false })
    );
    let untag = json!({ "DeliveryStreamName": "logs", "TagKeys": ["k00", "absent"] });
    f.ok(Action::UntagDeliveryStream, untag).await;
    let all = f.ok(list, json!({ "DeliveryStreamName": "logs" })).await;
    assert_eq!(all["Tags"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn more_than_fifty_tags_are_refused_and_none_is_added() {
    let f = Fixture::with_stream("logs").await;
    f.ok(Action::TagDeliveryStream, tags(0..45)).await;
    f.refused(
        Action::TagDeliveryStream,
        tags(40..50 + 1),
        ErrorCode::LimitExceededException,
    )
    .await;
    let all = f
        .ok(
            Action::ListTagsForDeliveryStream,
            json!({ "DeliveryStreamName": "logs" }),
        )
        .await;
    assert_eq!(all["Tags"].as_array().unwrap().len(), 45);
    let missing = json!({ "DeliveryStreamName": "nope", "Tags": [{ "Key": "k" }] });
    f.refused(
        Action::TagDeliveryStream,
        missing,
        ErrorCode::ResourceNotFoundException,
    )
    .await;
}

#[tokio::test]
async fn tags_given_at_creation_are_listed() {
    let f = Fixture::new(std::time::Duration::ZERO);
    let body = json!({
        "DeliveryStreamName": "logs",
        "ExtendedS3DestinationConfiguration": super::extended(json!({})),
        "Tags": [{ "Key": "team", "Value": "data" }, { "Key": "empty" }],
    });
    f.ok(Action::CreateDeliveryStream, body).await;
    let all = f
        .ok(
            Action::ListTagsForDeliveryStream,
            json!({ "DeliveryStreamName": "logs" }),
        )
        .await;
    assert_eq!(
        all["Tags"],
        json!([{ "Key": "empty", "Value": "" }, { "Key": "team", "Value": "data" }])
    );
}
