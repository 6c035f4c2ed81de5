//! The operations AWS added after kinesalite's suite, through the SDK: tagging by resource ARN,
//! UpdateStreamMode, and resource policies.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::types::{StreamMode, StreamStatus};
use riffle_emulator::{Config, ManualClock};

use crate::support::{self, T0, code, create_stream, kinesis};

const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

/// The stream's resource policy, as GetResourcePolicy answers it.
async fn policy_of(client: &aws_sdk_kinesis::Client) -> String {
    let got = client.get_resource_policy().resource_arn(ARN).send().await;
    got.unwrap().policy().to_owned()
}

#[tokio::test]
async fn tags_by_arn_stream_mode_and_resource_policies_through_the_sdk() {
    let clock = ManualClock::new(T0);
    let (_emulator, client) = support::start_with(Config {
        clock: Arc::new(clock.clone()),
        status_delay: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    create_stream(&client, "s", 1).await;
    clock.advance(Duration::from_secs(1));

    // Tags by ARN are the stream's tags.
    client
        .tag_resource()
        .resource_arn(ARN)
        .tags("team", "data")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_tags_for_resource()
        .resource_arn(ARN)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, Option<&str>)> =
        tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("team", Some("data"))]);
    let by_name = client
        .list_tags_for_stream()
        .stream_name("s")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.tags().len(), 1);
    let unknown = client
        .list_tags_for_resource()
        .resource_arn("arn:aws:kinesis:us-east-1:000000000000:stream/nope")
        .send()
        .await;
    assert_eq!(code(&unknown), "ResourceNotFoundException");

    // UpdateStreamMode: UPDATING for the status delay, then ACTIVE in the new mode.
    client
        .update_stream_mode()
        .stream_arn(ARN)
        .stream_mode_details(kinesis::on_demand())
        .send()
        .await
        .unwrap();
    let summary = |client: aws_sdk_kinesis::Client| async move {
        let out = client
            .describe_stream_summary()
            .stream_name("s")
            .send()
            .await
            .unwrap();
        let summary = out.stream_description_summary().unwrap().clone();
        (
            summary.stream_status().clone(),
            summary
                .stream_mode_details()
                .map(|d| d.stream_mode().clone()),
        )
    };
    assert_eq!(
        summary(client.clone()).await,
        (StreamStatus::Updating, Some(StreamMode::OnDemand))
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        summary(client.clone()).await,
        (StreamStatus::Active, Some(StreamMode::OnDemand))
    );
    let refused = client
        .update_shard_count()
        .stream_name("s")
        .target_shard_count(8)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await;
    assert_eq!(code(&refused), "ValidationException");

    // Resource policies: stored as given, `{}` once deleted.
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    client
        .put_resource_policy()
        .resource_arn(ARN)
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(policy_of(&client).await, policy);
    client
        .delete_resource_policy()
        .resource_arn(ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(policy_of(&client).await, "{}");
    let invalid = client
        .put_resource_policy()
        .resource_arn(ARN)
        .policy("not json")
        .send()
        .await;
    assert_eq!(code(&invalid), "InvalidArgumentException");
}
