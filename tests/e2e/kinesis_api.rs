//! Every Kinesis operation's happy path through aws-sdk-kinesis.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType, StreamMode, StreamStatus};

use crate::support::kinesis;
use crate::support::{self, T0, code, create_stream};

#[tokio::test]
async fn stream_lifecycle_create_describe_list_delete() {
    let (_emulator, client) = support::start().await;
    client
        .create_stream()
        .stream_name("orders")
        .shard_count(3)
        .tags("team", "payments")
        .send()
        .await
        .unwrap();
    let summary = kinesis::summary(&client, "orders").await;
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.stream_name(), "orders");
    assert_eq!(
        summary.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    );
    assert_eq!(summary.stream_status(), &StreamStatus::Active);
    assert_eq!(summary.open_shard_count(), 3);
    assert_eq!(summary.retention_period_hours(), 24);
    assert_eq!(
        summary.stream_mode_details().unwrap().stream_mode(),
        &StreamMode::Provisioned
    );

    let described = client.describe_stream().stream_name("orders").send().await;
    let described = described.unwrap();
    let description = described.stream_description().unwrap();
    assert_eq!(description.shards().len(), 3);
    assert!(!description.has_more_shards());
    assert_eq!(
        description.shards()[0]
            .hash_key_range()
            .unwrap()
            .starting_hash_key(),
        "0"
    );
    assert_eq!(
        description.shards()[2]
            .hash_key_range()
            .unwrap()
            .ending_hash_key(),
        "340282366920938463463374607431768211455"
    );

    let listed = client.list_streams().send().await.unwrap();
    assert_eq!(listed.stream_names(), ["orders"]);
    assert_eq!(
        listed.stream_summaries()[0].stream_status(),
        &StreamStatus::Active
    );

    let tags = kinesis::tags(&client, "orders").await;
    assert_eq!(tags.tags()[0].key(), "team");

    kinesis::delete(&client, "orders").await;
    let gone = client
        .describe_stream_summary()
        .stream_name("orders")
        .send()
        .await;
    assert_eq!(code(&gone), "ResourceNotFoundException");
    assert!(kinesis::stream_names(&client).await.is_empty());
}

#[tokio::test]
async fn on_demand_streams_start_with_four_shards() {
    let (_emulator, client) = support::start().await;
    client
        .create_stream()
        .stream_name("od")
        .stream_mode_details(kinesis::on_demand())
        .send()
        .await
        .unwrap();
    let summary = kinesis::summary(&client, "od").await;
    let summary = summary.stream_description_summary().unwrap();
    assert_eq!(summary.open_shard_count(), 4);
    assert_eq!(
        summary.stream_mode_details().unwrap().stream_mode(),
        &StreamMode::OnDemand
    );
    let limits = client.describe_limits().send().await.unwrap();
    assert_eq!(limits.on_demand_stream_count(), 1);
    assert_eq!(limits.open_shard_count(), 4);
    assert_eq!(limits.shard_limit(), 500);
}

#[tokio::test]
async fn list_streams_paginates_with_next_token_and_exclusive_start() {
    let (_emulator, client) = support::start().await;
    for name in ["a", "b", "c", "d", "e"] {
        create_stream(&client, name, 1).await;
    }
    let first = client.list_streams().limit(2).send().await.unwrap();
    assert_eq!(first.stream_names(), ["a", "b"]);
    assert!(first.has_more_streams());
    let request = client
        .list_streams()
        .next_token(first.next_token().unwrap());
    let second = request.limit(2).send().await.unwrap();
    assert_eq!(second.stream_names(), ["c", "d"]);
    let rest = client.list_streams().exclusive_start_stream_name("d");
    let rest = rest.send().await.unwrap();
    assert_eq!(rest.stream_names(), ["e"]);
    assert!(!rest.has_more_streams());
    assert_eq!(rest.next_token(), None);
}

#[tokio::test]
async fn put_record_then_get_records_round_trips_every_field() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let payload: Vec<u8> = (0..=255).collect();
    let put = kinesis::put(&client, "s", "key-1", payload.clone()).await;
    assert_eq!(put.shard_id(), "shardId-000000000000");
    assert_eq!(put.sequence_number().len(), 56);

    let out = kinesis::read_from_start(&client, "s").await;
    let record = &out.records()[0];
    assert_eq!(record.data().as_ref(), payload.as_slice());
    assert_eq!(record.partition_key(), Some("key-1"));
    assert_eq!(record.sequence_number(), put.sequence_number());
    let arrival = record
        .approximate_arrival_timestamp()
        .unwrap()
        .to_millis()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now - arrival).abs() < 60_000,
        "arrival {arrival} is about now {now}"
    );
    assert_eq!(out.millis_behind_latest(), Some(0));
    assert!(out.next_shard_iterator().is_some());
    assert!(out.child_shards().is_empty());
}

#[tokio::test]
async fn put_records_answers_each_entry_in_order_and_routes_by_key() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 4).await;
    let entries: Vec<PutRecordsRequestEntry> = (0..500)
        .map(|i| kinesis::entry(format!("pk-{i}"), format!("record {i}")))
        .collect();
    let out = kinesis::put_records(&client, "s", entries).await.unwrap();
    assert_eq!(out.failed_record_count(), Some(0));
    assert_eq!(out.records().len(), 500);
    let shards = client.list_shards().stream_name("s").send().await.unwrap();
    let mut per_shard: HashMap<String, Vec<String>> = HashMap::new();
    for (i, result) in out.records().iter().enumerate() {
        let shard_id = result.shard_id().unwrap();
        let shard = shards
            .shards()
            .iter()
            .find(|s| s.shard_id() == shard_id)
            .unwrap();
        let range = shard.hash_key_range().unwrap();
        let hash = u128::from_be_bytes(md5_of(&format!("pk-{i}")));
        let (lo, hi): (u128, u128) = (
            range.starting_hash_key().parse().unwrap(),
            range.ending_hash_key().parse().unwrap(),
        );
        assert!(
            lo <= hash && hash <= hi,
            "pk-{i} is in the shard holding its MD5"
        );
        per_shard
            .entry(shard_id.to_owned())
            .or_default()
            .push(result.sequence_number().unwrap().to_owned());
    }
    assert_eq!(per_shard.len(), 4, "500 keys spread over all four shards");
    for sequence_numbers in per_shard.values() {
        assert!(
            sequence_numbers.windows(2).all(|w| w[0] < w[1]),
            "increasing within a shard"
        );
    }
}

/// MD5, computed independently of the emulator (RFC 1321), to check key → shard routing.
fn md5_of(text: &str) -> [u8; 16] {
    let s: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let mut message = text.as_bytes().to_vec();
    let bit_len = (message.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_le_bytes());
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for chunk in message.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s[i]));
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
        ];
    }
    let mut out = [0u8; 16];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn explicit_hash_key_overrides_the_partition_key() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 2).await;
    for (hash_key, shard) in [
        ("0", "shardId-000000000000"),
        (
            "340282366920938463463374607431768211455",
            "shardId-000000000001",
        ),
    ] {
        let out = kinesis::try_put_at(&client, "s", "same-key", hash_key, "x")
            .await
            .unwrap();
        assert_eq!(out.shard_id(), shard);
    }
}

#[tokio::test]
async fn every_iterator_type_starts_where_aws_says() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    let mut sequence_numbers = Vec::new();
    for i in 0..5 {
        clock.advance(Duration::from_secs(1));
        let put = kinesis::put(&client, "s", "k", format!("r{i}")).await;
        sequence_numbers.push(put.sequence_number().to_owned());
    }
    let read = |kind: ShardIteratorType, seq: Option<&str>, at: Option<DateTime>| {
        let client = client.clone();
        let seq = seq.map(str::to_owned);
        async move {
            let it = client
                .get_shard_iterator()
                .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s")
                .shard_id("shardId-000000000000")
                .shard_iterator_type(kind)
                .set_starting_sequence_number(seq)
                .set_timestamp(at)
                .send()
                .await
                .unwrap();
            let out = kinesis::records(&client, it.shard_iterator().unwrap()).await;
            out.records()
                .iter()
                .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        read(ShardIteratorType::TrimHorizon, None, None).await,
        ["r0", "r1", "r2", "r3", "r4"]
    );
    assert!(read(ShardIteratorType::Latest, None, None).await.is_empty());
    assert_eq!(
        read(
            ShardIteratorType::AtSequenceNumber,
            Some(&sequence_numbers[2]),
            None
        )
        .await,
        ["r2", "r3", "r4"]
    );
    assert_eq!(
        read(
            ShardIteratorType::AfterSequenceNumber,
            Some(&sequence_numbers[2]),
            None
        )
        .await,
        ["r3", "r4"]
    );
    // Records arrived at T0+1s … T0+5s; AT_TIMESTAMP T0+3.5s starts at the one of T0+4s.
    let at = DateTime::from_millis(T0 as i64 + 3_500);
    assert_eq!(
        read(ShardIteratorType::AtTimestamp, None, Some(at)).await,
        ["r3", "r4"]
    );
}

#[tokio::test]
async fn latest_iterator_sees_records_put_after_it() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    let it = kinesis::iterator(&client, "s", kinesis::SHARD_0, ShardIteratorType::Latest).await;

    kinesis::put(&client, "s", "k", "new").await;
    let out = kinesis::records(&client, &it).await;
    assert_eq!(out.records().len(), 1);
    // Following NextShardIterator continues after what was read.
    let next = kinesis::records(&client, out.next_shard_iterator().unwrap()).await;
    assert!(next.records().is_empty());
}

#[tokio::test]
async fn get_records_honours_limit_and_reports_millis_behind_latest() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    for _ in 0..10 {
        kinesis::put(&client, "s", "k", "x").await;
    }
    clock.advance(Duration::from_secs(7));
    let it = kinesis::trim_horizon(&client, "s").await;

    let first = kinesis::try_records(&client, &it, Some(4)).await.unwrap();
    assert_eq!(first.records().len(), 4);
    assert_eq!(first.millis_behind_latest(), Some(7_000));
    let rest = kinesis::records(&client, first.next_shard_iterator().unwrap()).await;
    assert_eq!(rest.records().len(), 6);
    assert_eq!(rest.millis_behind_latest(), Some(0));
}

#[tokio::test]
async fn retention_trims_records_and_moves_trim_horizon() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    kinesis::put(&client, "s", "k", "old").await;
    clock.advance(Duration::from_secs(3600 * 12));
    kinesis::put(&client, "s", "k", "new").await;
    clock.advance(Duration::from_secs(3600 * 12 + 1));
    let out = kinesis::read_from_start(&client, "s").await;
    let data: Vec<&[u8]> = out.records().iter().map(|r| r.data().as_ref()).collect();
    assert_eq!(data, [b"new"]);
}

#[tokio::test]
async fn retention_period_can_be_increased_and_decreased() {
    let (_emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "s", 1).await;
    kinesis::increase_retention(&client, "s", 48).await.unwrap();
    kinesis::put(&client, "s", "k", "kept").await;
    clock.advance(Duration::from_secs(3600 * 30));
    let summary = kinesis::description(&client, "s").await;
    assert_eq!(summary.retention_period_hours(), 48);
    let out = kinesis::read_from_start(&client, "s").await;
    assert_eq!(
        out.records().len(),
        1,
        "48 h retention keeps a 30 h old record"
    );
    let request = client.decrease_stream_retention_period().stream_name("s");
    request.retention_period_hours(24).send().await.unwrap();
    let it = kinesis::trim_horizon(&client, "s").await;

    let out = kinesis::records(&client, &it).await;
    assert!(out.records().is_empty(), "24 h retention drops it");
}

#[tokio::test]
async fn tags_can_be_added_listed_paged_and_removed() {
    let (_emulator, client) = support::start().await;
    create_stream(&client, "s", 1).await;
    kinesis::add_tags(&client, "s", &[("a", "1"), ("b", "2"), ("c", "3")]).await;
    let request = client.list_tags_for_stream().stream_name("s");
    let page = request.limit(2).send().await.unwrap();
    let keys: Vec<&str> = page.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert!(page.has_more_tags());
    let request = client.list_tags_for_stream().stream_name("s");
    let rest = request.exclusive_start_tag_key("b").send().await.unwrap();
    assert_eq!(rest.tags()[0].value(), Some("3"));
    assert!(!rest.has_more_tags());
    client
        .remove_tags_from_stream()
        .stream_name("s")
        .tag_keys("a")
        .tag_keys("c")
        .send()
        .await
        .unwrap();
    let left = kinesis::tags(&client, "s").await;
    assert_eq!(left.tags().len(), 1);
    assert_eq!(left.tags()[0].key(), "b");
}

#[tokio::test]
async fn creating_status_lasts_the_configured_delay() {
    let clock = riffle_emulator::ManualClock::new(T0);
    let (_emulator, client) = support::start_with(riffle_emulator::Config {
        clock: std::sync::Arc::new(clock.clone()),
        status_delay: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    create_stream(&client, "s", 1).await;
    let status = |client: aws_sdk_kinesis::Client| async move {
        let out = kinesis::summary(&client, "s").await;
        out.stream_description_summary()
            .unwrap()
            .stream_status()
            .clone()
    };
    assert_eq!(status(client.clone()).await, StreamStatus::Creating);
    let early = kinesis::try_put(&client, "s", "k", "x").await;
    assert_eq!(code(&early), "ResourceNotFoundException");
    clock.advance(Duration::from_millis(500));
    assert_eq!(status(client.clone()).await, StreamStatus::Active);
    kinesis::split(&client, "s", "shardId-000000000000", "100").await;
    assert_eq!(status(client.clone()).await, StreamStatus::Updating);
    let again = kinesis::try_split(&client, "s", "shardId-000000000001", "50").await;
    assert_eq!(code(&again), "ResourceInUseException");
    clock.advance(Duration::from_millis(500));
    assert_eq!(status(client.clone()).await, StreamStatus::Active);
}
