//! The Kinesis mapping engine end to end: the emulator, the SDK source and SQS destination
//! (riffle-aws), the runtime, and an in-process `service_fn` handler.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use lambda_runtime::LambdaEvent;
use riffle_aws::{KinesisSource, SqsDestination};
use riffle_core::config::{RawDestination, RawDestinationConfig};
use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_runtime::{
    HandlerInvoker, KinesisMapping, KinesisMappingOptions, MemoryCheckpoints, ShardCheckpoint,
};
use tokio::sync::{mpsc, watch};

use crate::support;
use crate::support::{kinesis, sqs};

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";

fn mapping_config(
    extra: impl FnOnce(&mut RawKinesisMapping),
) -> riffle_core::kinesis::config::KinesisMappingConfig {
    let mut raw = RawKinesisMapping {
        event_source_arn: Some(STREAM_ARN.into()),
        function_name: Some("consumer".into()),
        starting_position: Some("TRIM_HORIZON".into()),
        ..RawKinesisMapping::default()
    };
    extra(&mut raw);
    raw.validate(u64::MAX / 2).expect("valid mapping")
}

/// The test handler: reports each record's (key, data) on a channel, and fails the whole
/// invocation when a record's data is `poison`.
#[derive(Clone)]
struct Recorder {
    seen: mpsc::UnboundedSender<(String, String)>,
}

type HandlerFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), lambda_runtime::Error>> + Send>>;

impl lambda_runtime::Service<LambdaEvent<KinesisEvent>> for Recorder {
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = HandlerFuture;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<KinesisEvent>) -> HandlerFuture {
        let seen = self.seen.clone();
        Box::pin(async move {
            let records: Vec<(String, String)> = event
                .payload
                .records
                .iter()
                .map(|r| {
                    (
                        r.kinesis.partition_key.clone(),
                        String::from_utf8_lossy(&r.kinesis.data).into_owned(),
                    )
                })
                .collect();
            if records.iter().any(|(_, data)| data == "poison") {
                return Err(lambda_runtime::Error::from("poison record"));
            }
            for record in records {
                let _ = seen.send(record);
            }
            Ok(())
        })
    }
}

type TestMapping<C> = KinesisMapping<KinesisSource, HandlerInvoker<Recorder>, SqsDestination, C>;

/// Builds a mapping with a [`Recorder`] handler; returns it and the recorder's channel.
fn build_mapping<C: riffle_runtime::CheckpointStore>(
    endpoint: &str,
    config: riffle_core::kinesis::config::KinesisMappingConfig,
    checkpoints: C,
) -> (TestMapping<C>, mpsc::UnboundedReceiver<(String, String)>) {
    let (kinesis, sqs) = riffle_aws::clients(endpoint, "us-east-1");
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let handler = Recorder { seen: seen_tx };
    let mut options = KinesisMappingOptions::new(
        "m-1",
        "arn:aws:lambda:us-east-1:000000000000:function:consumer",
        "us-east-1",
    );
    options.idle_poll = Duration::from_millis(20);
    if riffle_core::kinesis::config::consumer_stream_arn(&config.event_source_arn).is_some() {
        // Pushed records must not wait for an idle poll: make one far longer than any test.
        options.idle_poll = Duration::from_secs(3600);
    }
    options.shard_discovery = Duration::from_millis(100);
    let source = KinesisSource::for_event_source(kinesis, &config.event_source_arn);
    let mapping = KinesisMapping::new(
        config,
        options,
        source,
        HandlerInvoker::new(handler, Duration::from_secs(3)),
        SqsDestination::new(sqs),
        checkpoints,
        Arc::new(riffle_emulator::SystemClock),
    );
    (mapping, seen_rx)
}

/// Starts a mapping built by [`build_mapping`]; returns its record channel, a stop switch and
/// its task.
async fn start_mapping<C: riffle_runtime::CheckpointStore>(
    endpoint: &str,
    config: riffle_core::kinesis::config::KinesisMappingConfig,
    checkpoints: C,
) -> (
    mpsc::UnboundedReceiver<(String, String)>,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (mapping, seen_rx) = build_mapping(endpoint, config, checkpoints);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        mapping.run(stopped).await.expect("mapping runs");
    });
    (seen_rx, stop, task)
}

/// `future`'s output, failing the test with `what` if it takes more than 20 seconds.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .unwrap_or_else(|_| panic!("not in time: {what}"))
}

async fn next_seen(seen: &mut mpsc::UnboundedReceiver<(String, String)>) -> (String, String) {
    within("a record reaches the handler", seen.recv())
        .await
        .unwrap()
}

/// Stops a mapping started by [`start_mapping`] and waits for its task.
async fn stop_mapping(stop: watch::Sender<bool>, task: tokio::task::JoinHandle<()>) {
    stop.send(true).unwrap();
    task.await.unwrap();
}

/// The middle of the hash key range: a split there gives two children of equal range.
const MIDDLE: &str = "170141183460469231731687303715884105728";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_is_bisected_to_the_on_failure_queue_while_its_neighbours_succeed() {
    poison_is_bisected(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_consumer_a_poison_record_is_bisected_while_its_neighbours_succeed() {
    poison_is_bisected(true).await;
}

/// Eight records, the sixth poison, bisected to the on-failure queue: polled, or pushed through
/// an enhanced fan-out consumer (then the idle poll is an hour, so only pushes can deliver).
async fn poison_is_bisected(through_consumer: bool) {
    let (emulator, kinesis) = support::start().await;
    let sqs = support::sqs_client(&emulator.endpoint_url());
    support::create_stream(&kinesis, "orders", 1).await;
    let source_arn = if through_consumer {
        riffle_aws::tools::kinesis::register_consumer(&kinesis, STREAM_ARN, "fan")
            .await
            .unwrap()
    } else {
        STREAM_ARN.to_owned()
    };
    let dlq = sqs::queue(&sqs, "orders-failures", &[]).await;
    for i in 0..8 {
        let data = if i == 5 {
            "poison".to_owned()
        } else {
            format!("r{i}")
        };
        kinesis::put(&kinesis, "orders", "k", data).await;
    }
    let config = mapping_config(|raw| {
        raw.event_source_arn = Some(source_arn.clone());
        raw.batch_size = Some(8);
        raw.bisect_batch_on_function_error = Some(true);
        raw.maximum_retry_attempts = Some(0);
        raw.destination_config = Some(RawDestinationConfig {
            on_failure: Some(RawDestination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:orders-failures".into()),
            }),
            on_success: None,
        });
    });
    let checkpoints = MemoryCheckpoints::default();
    let (mut seen, stop, task) =
        start_mapping(&emulator.endpoint_url(), config, checkpoints.clone()).await;
    let mut processed = Vec::new();
    for _ in 0..7 {
        processed.push(next_seen(&mut seen).await.1);
    }
    assert_eq!(
        processed,
        ["r0", "r1", "r2", "r3", "r4", "r6", "r7"],
        "in order, poison skipped"
    );
    let message = sqs::Receive::default().wait(20).receive(&sqs, &dlq).await;
    let body: serde_json::Value =
        serde_json::from_str(message.messages()[0].body().unwrap()).unwrap();
    assert_eq!(
        body["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(body["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(body["responseContext"]["functionError"], "Unhandled");
    assert_eq!(body["KinesisBatchInfo"]["batchSize"], 1);
    assert_eq!(body["KinesisBatchInfo"]["shardId"], "shardId-000000000000");
    assert_eq!(body["KinesisBatchInfo"]["streamArn"], STREAM_ARN);
    // The checkpoint reaches the last record once the failure record was delivered.
    let last = kinesis::iterator(
        &kinesis,
        "orders",
        "shardId-000000000000",
        aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon,
    )
    .await;

    let records = kinesis::records(&kinesis, &last).await;
    let last_sequence = records
        .records()
        .last()
        .unwrap()
        .sequence_number()
        .to_owned();
    let reached = ShardCheckpoint::At(last_sequence);
    let waited = checkpoints.wait_until(|c| c.get("shardId-000000000000") == Some(&reached));
    within("the checkpoint reaches the last record", waited).await;
    stop_mapping(stop, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_are_read_after_their_parent_and_key_order_holds_across_a_split() {
    let (emulator, kinesis) = support::start().await;
    support::create_stream(&kinesis, "orders", 1).await;
    // Four keys, one record of each per round.
    let put_rounds = |rounds: std::ops::Range<usize>| {
        let kinesis = kinesis.clone();
        async move {
            for round in rounds {
                for key in 0..4 {
                    let data = format!("k{key}-{round}");
                    kinesis::put(&kinesis, "orders", format!("k{key}"), data).await;
                }
            }
        }
    };
    put_rounds(0..3).await;
    kinesis::split(&kinesis, "orders", kinesis::SHARD_0, MIDDLE).await;
    put_rounds(3..6).await;
    let checkpoints = MemoryCheckpoints::default();
    let config = mapping_config(|raw| raw.parallelization_factor = Some(3));
    let (mut seen, stop, task) =
        start_mapping(&emulator.endpoint_url(), config, checkpoints.clone()).await;
    let mut per_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for _ in 0..24 {
        let (key, data) = next_seen(&mut seen).await;
        per_key.entry(key).or_default().push(data);
    }
    for (key, values) in per_key {
        let expected: Vec<String> = (0..6).map(|round| format!("{key}-{round}")).collect();
        assert_eq!(
            values, expected,
            "records of {key} in order across the split"
        );
    }
    let finished = checkpoints
        .wait_until(|c| c.get("shardId-000000000000") == Some(&ShardCheckpoint::Finished));
    within("the parent shard is marked finished", finished).await;
    stop_mapping(stop, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_mapping_resumes_from_its_durable_checkpoint() {
    let (emulator, kinesis) = support::start().await;
    support::create_stream(&kinesis, "orders", 1).await;
    let dir = std::env::temp_dir().join(format!("riffle-esm-checkpoints-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for i in 0..5 {
        kinesis::put(&kinesis, "orders", "k", format!("first-{i}")).await;
    }
    let store = riffle_runtime::FileCheckpoints::new(&dir, "m-1");
    let (mut seen, stop, task) = start_mapping(
        &emulator.endpoint_url(),
        mapping_config(|_| {}),
        store.clone(),
    )
    .await;
    for i in 0..5 {
        assert_eq!(next_seen(&mut seen).await.1, format!("first-{i}"));
    }
    // Wait until the checkpoint file holds the fifth record, then stop the mapping.
    let last = kinesis::put(&kinesis, "orders", "k", "marker")
        .await
        .sequence_number()
        .to_owned();
    assert_eq!(next_seen(&mut seen).await.1, "marker");
    let expected = ShardCheckpoint::At(last);
    let saved = store.wait_until(|c| c.get("shardId-000000000000") == Some(&expected));
    within("the checkpoint reaches the file", saved).await;
    let reread = riffle_runtime::FileCheckpoints::new(&dir, "m-1");
    let on_disk = riffle_runtime::CheckpointStore::load(&reread, "shardId-000000000000")
        .await
        .unwrap();
    assert_eq!(on_disk, expected, "a fresh store reads it back from disk");
    stop_mapping(stop, task).await;

    for i in 0..3 {
        kinesis::put(&kinesis, "orders", "k", format!("second-{i}")).await;
    }
    let store = riffle_runtime::FileCheckpoints::new(&dir, "m-1");
    let (mut seen, stop, task) =
        start_mapping(&emulator.endpoint_url(), mapping_config(|_| {}), store).await;
    for i in 0..3 {
        assert_eq!(
            next_seen(&mut seen).await.1,
            format!("second-{i}"),
            "nothing before the checkpoint is redelivered"
        );
    }
    stop_mapping(stop, task).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_and_enabling_resumes_from_the_checkpoint_with_aws_states() {
    use riffle_runtime::{MappingController, MappingState};
    let (emulator, kinesis) = support::start().await;
    support::create_stream(&kinesis, "orders", 1).await;
    let config = mapping_config(|raw| raw.enabled = Some(false));
    let (mapping, mut seen) = build_mapping(
        &emulator.endpoint_url(),
        config,
        MemoryCheckpoints::default(),
    );
    let controller = MappingController::create(mapping).await;
    assert_eq!(controller.state(), MappingState::Disabled);
    for i in 0..3 {
        kinesis::put(&kinesis, "orders", "k", format!("a{i}")).await;
    }
    controller.set_enabled(true).await.unwrap();
    assert_eq!(controller.state(), MappingState::Enabled);
    for i in 0..3 {
        assert_eq!(
            next_seen(&mut seen).await.1,
            format!("a{i}"),
            "records put while disabled are delivered"
        );
    }
    controller.set_enabled(false).await.unwrap();
    assert_eq!(controller.state().as_str(), "Disabled");
    for i in 0..2 {
        kinesis::put(&kinesis, "orders", "k", format!("b{i}")).await;
    }
    let mut updated = controller.mapping().config();
    updated.batch_size = 1;
    updated.enabled = true;
    controller.update(updated).await.unwrap();
    assert_eq!(controller.state(), MappingState::Enabled);
    assert_eq!(controller.mapping().config().batch_size, 1);
    for i in 0..2 {
        assert_eq!(
            next_seen(&mut seen).await.1,
            format!("b{i}"),
            "resumed after the checkpoint"
        );
    }
    controller.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_shards_of_a_latest_mapping_are_read_from_their_beginning() {
    let (emulator, kinesis) = support::start().await;
    support::create_stream(&kinesis, "orders", 1).await;
    let put = |data: String, hash_key: &'static str| {
        let kinesis = kinesis.clone();
        async move {
            kinesis::try_put_at(&kinesis, "orders", "k", hash_key, data)
                .await
                .unwrap()
        }
    };
    const LEFT: &str = "5";
    const RIGHT: &str = "170141183460469231731687303715884105733";
    let config = mapping_config(|raw| raw.starting_position = Some("LATEST".into()));
    let (mut seen, stop, task) = start_mapping(
        &emulator.endpoint_url(),
        config,
        MemoryCheckpoints::default(),
    )
    .await;
    // LATEST: the parent's iterator exists once a record written after it reaches the handler.
    let mut reading = false;
    for attempt in 0..100 {
        put(format!("warm-up-{attempt}"), LEFT).await;
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), seen.recv()).await {
            reading = true;
            break;
        }
    }
    assert!(reading, "the LATEST mapping reads the parent");
    for n in 0..10 {
        put(format!("parent-{n}"), LEFT).await;
    }
    kinesis::split(&kinesis, "orders", kinesis::SHARD_0, MIDDLE).await;
    // Straight after the split, before the mapping has finished the parent.
    for n in 0..100 {
        put(format!("left-{n}"), LEFT).await;
        put(format!("right-{n}"), RIGHT).await;
    }
    let mut order = Vec::new();
    while order.len() < 210 {
        let (_, data) = next_seen(&mut seen).await;
        if !data.starts_with("warm-up") {
            order.push(data);
        }
    }
    let parents: Vec<&String> = order.iter().take(10).collect();
    let expected: Vec<String> = (0..10).map(|n| format!("parent-{n}")).collect();
    assert_eq!(
        parents,
        expected.iter().collect::<Vec<_>>(),
        "parents first"
    );
    for side in ["left", "right"] {
        let child: Vec<&String> = order.iter().filter(|d| d.starts_with(side)).collect();
        let expected: Vec<String> = (0..100).map(|n| format!("{side}-{n}")).collect();
        assert_eq!(
            child,
            expected.iter().collect::<Vec<_>>(),
            "every record written to the {side} child, in order"
        );
    }
    stop_mapping(stop, task).await;
}

#[test]
fn riffle_validate_accepts_a_mapping_that_reads_through_a_stream_consumer() {
    let dir = std::env::temp_dir().join(format!("riffle-consumer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: orders
      ShardCount: 1
  Fan:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      StreamARN: !GetAtt Stream.Arn
      ConsumerName: fan
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Fan.ConsumerARN
            StartingPosition: LATEST
",
    )
    .unwrap();
    let output = std::process::Command::new(support::riffle_binary())
        .arg("validate")
        .arg("--template")
        .arg(&template)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        !stderr.contains("warning"),
        "a consumer of the template's own stream needs no warning: {stderr}"
    );
}
