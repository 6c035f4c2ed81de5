//! Resharding through the SDK: lineage, closed shards, ChildShards, ListShards filters.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{ScalingType, ShardFilter, ShardFilterType, ShardIteratorType};

use crate::support::kinesis;
use crate::support::{self, code, create_stream, message, shard_ids};

async fn read_all(client: &Client, stream: &str, shard: &str) -> (Vec<String>, Vec<String>) {
    let it = kinesis::iterator(client, stream, shard, ShardIteratorType::TrimHorizon).await;

    let mut token = Some(it);
    let mut data = Vec::new();
    // A closed shard ends with a null NextShardIterator; an open one with an empty read.
    for _ in 0..10 {
        let Some(current) = token else { break };
        let out = kinesis::records(client, current).await;
        data.extend(
            out.records()
                .iter()
                .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap()),
        );
        if out.next_shard_iterator().is_none() {
            let children = out
                .child_shards()
                .iter()
                .map(|c| c.shard_id().to_owned())
                .collect();
            return (data, children);
        }
        if out.records().is_empty() {
            return (data, Vec::new());
        }
        token = out.next_shard_iterator().map(str::to_owned);
    }
    panic!("shard {shard} did not end within ten reads");
}

#[tokio::test]
async fn split_shard_closes_parent_which_ends_with_child_shards() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    kinesis::put(&client, "s", "k", "before").await;
    kinesis::split(
        &client,
        "s",
        "shardId-000000000000",
        "170141183460469231731687303715884105728",
    )
    .await;
    let shards = client.list_shards().stream_name("s").send().await.unwrap();
    let shards = shards.shards();
    assert_eq!(shards.len(), 3);
    let parent = &shards[0];
    assert!(
        parent
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_some()
    );
    for child in &shards[1..] {
        assert_eq!(child.parent_shard_id(), Some("shardId-000000000000"));
        assert!(
            child
                .sequence_number_range()
                .unwrap()
                .ending_sequence_number()
                .is_none()
        );
    }
    assert_eq!(
        shards[1].hash_key_range().unwrap().ending_hash_key(),
        "170141183460469231731687303715884105727"
    );
    assert_eq!(
        shards[2].hash_key_range().unwrap().starting_hash_key(),
        "170141183460469231731687303715884105728"
    );

    let (data, children) = read_all(&client, "s", "shardId-000000000000").await;
    assert_eq!(data, ["before"]);
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);

    // New writes go to the children.
    let put = kinesis::put(&client, "s", "k", "after").await;
    assert_ne!(put.shard_id(), "shardId-000000000000");
    let (data, children) = read_all(&client, "s", put.shard_id()).await;
    assert_eq!(data, ["after"]);
    assert!(children.is_empty());
}

#[tokio::test]
async fn merge_shards_records_both_parents() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 2).await;
    client
        .merge_shards()
        .stream_name("s")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000001")
        .send()
        .await
        .unwrap();
    let shards = client.list_shards().stream_name("s").send().await.unwrap();
    let child = shards.shards().last().unwrap();
    assert_eq!(child.shard_id(), "shardId-000000000002");
    assert_eq!(child.parent_shard_id(), Some("shardId-000000000000"));
    assert_eq!(
        child.adjacent_parent_shard_id(),
        Some("shardId-000000000001")
    );
    let (_, children) = read_all(&client, "s", "shardId-000000000001").await;
    assert_eq!(children, ["shardId-000000000002"]);
}

#[tokio::test]
async fn resharding_errors_are_aws_errors() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 3).await;
    let request = client.merge_shards().stream_name("s");
    let request = request.shard_to_merge("shardId-000000000000");
    let out = request
        .adjacent_shard_to_merge("shardId-000000000002")
        .send()
        .await;
    assert_eq!(code(&out), "InvalidArgumentException");
    assert!(message(&out).contains("not an adjacent pair"));
    let out = kinesis::try_split(&client, "s", "shardId-000000000000", "0").await;
    assert_eq!(code(&out), "InvalidArgumentException");
    let out = kinesis::try_split(&client, "s", "shardId-000000000007", "5").await;
    assert_eq!(code(&out), "ResourceNotFoundException");
    let request = client.update_shard_count().stream_name("s");
    let request = request.target_shard_count(7);
    let out = request
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await;
    assert_eq!(code(&out), "InvalidArgumentException");
    assert_eq!(shard_ids(&client, "s").await.len(), 3, "nothing changed");
}

#[tokio::test]
async fn update_shard_count_scales_uniformly_with_aws_lineage() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 5).await;
    let request = client.update_shard_count().stream_name("s");
    let request = request.target_shard_count(3);
    let out = request
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.current_shard_count(), out.target_shard_count()),
        (Some(5), Some(3))
    );
    let at_latest = ShardFilter::builder().r#type(ShardFilterType::AtLatest);
    let request = client.list_shards().stream_name("s");
    let open = request
        .shard_filter(at_latest.build().unwrap())
        .send()
        .await;
    let open = open.unwrap();
    assert_eq!(open.shards().len(), 3);
    let all = client.list_shards().stream_name("s").send().await.unwrap();
    for shard in all.shards() {
        let parents = [shard.parent_shard_id(), shard.adjacent_parent_shard_id()];
        assert!(parents.iter().flatten().count() <= 2);
    }
    let summary = kinesis::description(&client, "s").await;
    assert_eq!(summary.open_shard_count(), 3);
}

#[tokio::test]
async fn list_shards_pages_and_filters() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 4).await;
    kinesis::split(&client, "s", "shardId-000000000000", "1000").await;
    let request = client.list_shards().stream_name("s");
    let first = request.max_results(4).send().await.unwrap();
    assert_eq!(first.shards().len(), 4);
    let token = first.next_token().unwrap();
    let request = client.list_shards().stream_name("s");
    let both = request.next_token(token).send().await;
    assert_eq!(code(&both), "InvalidArgumentException");
    let rest = client.list_shards().next_token(token).send().await.unwrap();
    let ids: Vec<&str> = rest.shards().iter().map(|s| s.shard_id()).collect();
    assert_eq!(ids, ["shardId-000000000004", "shardId-000000000005"]);
    assert!(rest.next_token().is_none());

    let filtered = |kind: ShardFilterType| {
        let client = client.clone();
        async move {
            let mut filter = ShardFilter::builder().r#type(kind.clone());
            if kind == ShardFilterType::AfterShardId {
                filter = filter.shard_id("shardId-000000000003");
            }
            let request = client.list_shards().stream_name("s");
            let out = request
                .shard_filter(filter.build().unwrap())
                .send()
                .await
                .unwrap();
            out.shards()
                .iter()
                .map(|s| s.shard_id().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(filtered(ShardFilterType::AtLatest).await.len(), 5);
    assert_eq!(filtered(ShardFilterType::AtTrimHorizon).await.len(), 4);
    assert_eq!(filtered(ShardFilterType::FromTrimHorizon).await.len(), 6);
    assert_eq!(
        filtered(ShardFilterType::AfterShardId).await,
        ["shardId-000000000004", "shardId-000000000005"]
    );
    let request = client.list_shards().stream_name("s");
    let after = request
        .exclusive_start_shard_id("shardId-000000000004")
        .send()
        .await
        .unwrap();
    assert_eq!(after.shards().len(), 1);
}
