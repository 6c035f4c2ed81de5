//! Enhanced fan-out through aws-sdk-kinesis: consumers registered, described, listed and kept
//! across a restart; SubscribeToShard's event stream decoded by the SDK itself (its CRC checks,
//! its initial-response handling), records in order, continuation numbers, the 5 s guard and
//! takeover. The emulator runs on a manual clock, so no test waits on wall time.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{
    ConsumerStatus, ShardIteratorType, StartingPosition, SubscribeToShardEvent,
    SubscribeToShardEventStream,
};
use riffle_emulator::{Config, ManualClock};

use crate::support::{self, T0, code, create_stream, kinesis};

mod clients;

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";

type Events = aws_sdk_kinesis::primitives::event_stream::EventReceiver<
    SubscribeToShardEventStream,
    aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError,
>;

async fn register(client: &Client, name: &str) -> String {
    let registered = client
        .register_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name(name)
        .send()
        .await
        .unwrap();
    registered.consumer().unwrap().consumer_arn().to_owned()
}

/// An emulator on a manual clock with stream `orders` (one shard) and consumer `fan`.
async fn fan() -> (riffle_emulator::Emulator, Client, ManualClock, String) {
    let (emulator, client, clock) = support::start_manual().await;
    create_stream(&client, "orders", 1).await;
    let consumer = register(&client, "fan").await;
    (emulator, client, clock, consumer)
}

async fn describe(
    client: &Client,
    arn: &str,
) -> aws_sdk_kinesis::operation::describe_stream_consumer::DescribeStreamConsumerOutput {
    client
        .describe_stream_consumer()
        .consumer_arn(arn)
        .send()
        .await
        .unwrap()
}

async fn deregister(client: &Client, arn: &str) {
    let deregistered = client.deregister_stream_consumer().consumer_arn(arn);
    deregistered.send().await.unwrap();
}

/// The ARNs of the stream's consumers, as ListStreamConsumers gives them.
async fn consumer_arns(client: &Client) -> Vec<String> {
    let listed = client
        .list_stream_consumers()
        .stream_arn(STREAM_ARN)
        .send()
        .await
        .unwrap();
    let consumers = listed.consumers().iter();
    consumers.map(|c| c.consumer_arn().to_owned()).collect()
}

fn position(kind: ShardIteratorType, sequence: Option<&str>) -> StartingPosition {
    StartingPosition::builder()
        .r#type(kind)
        .set_sequence_number(sequence.map(str::to_owned))
        .build()
        .unwrap()
}

/// Subscribes `consumer` to shard 0 from `kind` (after or at `sequence`, for the kinds that
/// take one).
async fn subscribe(
    client: &Client,
    consumer: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> Result<
    Events,
    aws_sdk_kinesis::error::SdkError<
        aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardError,
    >,
> {
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .subscribe_to_shard()
            .consumer_arn(consumer)
            .shard_id(kinesis::SHARD_0)
            .starting_position(position(kind, sequence))
            .send(),
    )
    .await
    .expect("send() returns once the initial response arrived");
    answer.map(|output| output.event_stream)
}

/// The next event, within a bound.
async fn next_event(events: &mut Events) -> SubscribeToShardEvent {
    let received = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within the bound")
        .expect("a well-formed event")
        .expect("the stream goes on");
    match received {
        SubscribeToShardEventStream::SubscribeToShardEvent(event) => event,
        other => panic!("unexpected {other:?}"),
    }
}

fn data(event: &SubscribeToShardEvent) -> Vec<String> {
    event
        .records()
        .iter()
        .map(|r| String::from_utf8(r.data().as_ref().to_vec()).unwrap())
        .collect()
}

#[tokio::test]
async fn consumers_are_registered_described_listed_and_deregistered() {
    let (_emulator, client, _clock) = support::start_manual().await;
    create_stream(&client, "orders", 1).await;
    let arn = register(&client, "lambda").await;
    assert_eq!(
        arn,
        format!("{STREAM_ARN}/consumer/lambda:{}", T0 / 1000),
        "the ARN carries the creation second"
    );
    let described = describe(&client, &arn).await;
    let description = described.consumer_description().unwrap();
    assert_eq!(description.consumer_status(), &ConsumerStatus::Active);
    assert_eq!(description.stream_arn(), STREAM_ARN);
    assert_eq!(consumer_arns(&client).await, [arn.as_str()]);
    let summary = kinesis::summary(&client, "orders").await;
    assert_eq!(
        summary
            .stream_description_summary()
            .unwrap()
            .consumer_count(),
        Some(1)
    );
    let again = client
        .register_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name("lambda")
        .send()
        .await;
    assert_eq!(code(&again), "ResourceInUseException");
    deregister(&client, &arn).await;
    let gone = client
        .describe_stream_consumer()
        .consumer_arn(&arn)
        .send()
        .await;
    assert_eq!(code(&gone), "ResourceNotFoundException");
}

#[tokio::test]
async fn subscribe_to_shard_delivers_records_in_order_with_continuations_and_one_subscriber() {
    let (_emulator, client, clock, consumer) = fan().await;
    let mut events = subscribe(&client, &consumer, ShardIteratorType::TrimHorizon, None)
        .await
        .unwrap();
    let first = next_event(&mut events).await;
    assert!(first.records().is_empty());
    assert!(!first.continuation_sequence_number().is_empty());

    let mut sequence_numbers = Vec::new();
    for i in 0..5 {
        let put = kinesis::try_put(&client, "orders", "k", format!("r{i}"))
            .await
            .unwrap();
        sequence_numbers.push(put.sequence_number().to_owned());
    }
    // Records are pushed as they are written; they may come in one event or several.
    let mut received = Vec::new();
    let mut continuation = String::new();
    while received.len() < 5 {
        let event = next_event(&mut events).await;
        received.extend(data(&event));
        continuation = event.continuation_sequence_number().to_owned();
        if let Some(last) = event.records().last() {
            assert_eq!(continuation, last.sequence_number());
        }
    }
    assert_eq!(received, ["r0", "r1", "r2", "r3", "r4"]);
    assert_eq!(continuation, sequence_numbers[4]);

    // The same consumer on the same shard within 5 s: refused.
    let second = subscribe(&client, &consumer, ShardIteratorType::Latest, None).await;
    assert_eq!(code(&second), "ResourceInUseException");

    // After 5 s a new subscription takes over, resuming after the continuation: nothing twice,
    // nothing missed.
    kinesis::try_put(&client, "orders", "k", "r5")
        .await
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let mut resumed = subscribe(
        &client,
        &consumer,
        ShardIteratorType::AfterSequenceNumber,
        Some(&continuation),
    )
    .await
    .unwrap();
    assert_eq!(data(&next_event(&mut resumed).await), ["r5"]);
    // The earlier subscription ends with ResourceInUseException (after any event it was sending).
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("the taken-over stream ends within the bound")
        {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    let error = ended.expect_err("taken over");
    let service = error.into_service_error();
    assert!(service.is_resource_in_use_exception(), "{service:?}");
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn consumers_survive_a_restart_with_a_data_dir() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("riffle-e2e-fanout-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let clock = ManualClock::new(T0);
    let config = || Config {
        data_dir: Some(dir.0.clone()),
        clock: Arc::new(clock.clone()),
        ..Config::default()
    };
    let (emulator, client) = support::start_with(config()).await;
    create_stream(&client, "orders", 1).await;
    let arn = register(&client, "kept").await;
    emulator.shutdown().await.unwrap();
    // From the snapshot a clean stop wrote.
    let (emulator, client) = support::start_with(config()).await;
    let described = describe(&client, &arn).await;
    assert_eq!(
        described.consumer_description().unwrap().consumer_name(),
        "kept"
    );
    // From the log alone: no clean stop, so no snapshot of the registration and deregistration.
    let logged = register(&client, "logged").await;
    deregister(&client, &arn).await;
    std::mem::forget(emulator);
    let (_emulator, client) = support::start_with(config()).await;
    assert_eq!(consumer_arns(&client).await, [logged.as_str()]);
}

#[tokio::test]
async fn shutdown_ends_open_subscriptions_promptly() {
    let (emulator, client, _clock, consumer) = fan().await;
    let mut events = subscribe(&client, &consumer, ShardIteratorType::Latest, None)
        .await
        .unwrap();
    next_event(&mut events).await;
    tokio::time::timeout(Duration::from_secs(10), emulator.shutdown())
        .await
        .expect("shutdown is not held up by the open subscription")
        .unwrap();
}

#[tokio::test]
async fn a_closed_shard_ends_its_subscription_with_the_child_shards() {
    let (_emulator, client, _clock, consumer) = fan().await;
    kinesis::try_put(&client, "orders", "k", "last")
        .await
        .unwrap();
    kinesis::try_split(
        &client,
        "orders",
        kinesis::SHARD_0,
        "170141183460469231731687303715884105728",
    )
    .await
    .unwrap();
    let mut events = subscribe(&client, &consumer, ShardIteratorType::TrimHorizon, None)
        .await
        .unwrap();
    let last = next_event(&mut events).await;
    assert_eq!(data(&last), ["last"]);
    let children: Vec<&str> = last.child_shards().iter().map(|c| c.shard_id()).collect();
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
    assert_eq!(
        last.continuation_sequence_number(),
        "",
        "none at the shard's end"
    );
    let end = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("the stream ends");
    assert!(matches!(end, Ok(None)), "{end:?}");
}

#[tokio::test]
async fn riffle_tail_reads_through_a_consumer() {
    let (emulator, client) = support::start().await;
    create_stream(&client, "orders", 2).await;
    register(&client, "tail").await;
    for i in 0..6 {
        kinesis::try_put(&client, "orders", format!("k{i}"), format!("r{i}"))
            .await
            .unwrap();
    }
    let endpoint = emulator.endpoint_url();
    let args = [
        "tail",
        "--stream",
        "orders",
        "--consumer",
        "tail",
        "--from-start",
        "--json",
        "--limit",
        "6",
    ];
    let tailed = support::cli::riffle(&endpoint, &args).await;
    let mut data: Vec<String> = support::cli::stdout(&tailed)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| r["data"].as_str().unwrap().to_owned())
        .collect();
    data.sort();
    let expected: Vec<String> = (0..6)
        .map(|i| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(format!("r{i}"))
        })
        .collect();
    assert_eq!(data, expected);
    let missing = support::cli::riffle(
        &endpoint,
        &["tail", "--stream", "orders", "--consumer", "nope"],
    )
    .await;
    support::cli::assert_fails_saying(&missing, "ResourceNotFoundException");
}
