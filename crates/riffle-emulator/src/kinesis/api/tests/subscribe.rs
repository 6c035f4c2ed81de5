//! SubscribeToShard on a manual clock: the frames a subscription yields and when.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::Message;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use super::T0;
use crate::clock::{Clock as _, ManualClock};
use crate::error::ErrorCode;
use crate::kinesis::Action;
use crate::kinesis::api::{EventStream, Kinesis};
use crate::kinesis::store::{KinesisStore, StoreSettings};

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

struct Fan {
    kinesis: Arc<Kinesis>,
    clock: ManualClock,
    consumer_arn: String,
}

/// One frame, decoded (its CRCs checked by the SDK's decoder).
#[derive(Debug)]
enum Frame {
    Initial,
    Event(Value),
    Exception(ErrorCode, String),
}

impl Fan {
    /// Stream `s` with `shards` shards and an ACTIVE consumer `c`.
    fn new(shards: u32) -> Self {
        let clock = ManualClock::new(T0);
        let store = KinesisStore::new(StoreSettings::new("us-east-1", "000000000000"), [7; 16]);
        let kinesis = Arc::new(Kinesis::new(store, Arc::new(clock.clone()), None));
        let fan = Self {
            kinesis,
            clock,
            consumer_arn: String::new(),
        };
        fan.ok(
            Action::CreateStream,
            json!({ "StreamName": "s", "ShardCount": shards }),
        );
        let consumer = fan.ok(
            Action::RegisterStreamConsumer,
            json!({ "StreamARN": STREAM_ARN, "ConsumerName": "c" }),
        );
        Self {
            consumer_arn: consumer["Consumer"]["ConsumerARN"]
                .as_str()
                .unwrap()
                .to_owned(),
            ..fan
        }
    }

    fn ok(&self, action: Action, body: Value) -> Value {
        let reply = self
            .kinesis
            .execute(action, body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        if reply.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&reply.body).unwrap()
    }

    fn put(&self, data: &str) -> String {
        let put = self.ok(
            Action::PutRecord,
            json!({ "StreamName": "s", "PartitionKey": "k", "Data": base64(data) }),
        );
        put["SequenceNumber"].as_str().unwrap().to_owned()
    }

    fn subscribe(&self, position: Value) -> Result<EventStream, crate::error::ApiError> {
        let body = json!({
            "ConsumerARN": self.consumer_arn,
            "ShardId": "shardId-000000000000",
            "StartingPosition": position,
        });
        self.kinesis.subscribe_to_shard(body.to_string().as_bytes())
    }
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn decode(bytes: &[u8]) -> Frame {
    let mut buffer = bytes;
    let message: Message = match MessageFrameDecoder::new()
        .decode_frame(&mut buffer)
        .unwrap()
    {
        DecodedFrame::Complete(message) => message,
        DecodedFrame::Incomplete => panic!("one whole frame per chunk"),
    };
    assert!(buffer.is_empty(), "exactly one frame per chunk");
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .map(|h| h.value().as_string().unwrap().as_str().to_owned())
    };
    let payload: Value = serde_json::from_slice(message.payload()).unwrap();
    match header(":message-type").as_deref() {
        Some("event") if header(":event-type").as_deref() == Some("initial-response") => {
            Frame::Initial
        }
        Some("event") => {
            assert_eq!(
                header(":event-type").as_deref(),
                Some("SubscribeToShardEvent")
            );
            Frame::Event(payload)
        }
        Some("exception") => {
            let code = match header(":exception-type").as_deref() {
                Some("ResourceInUseException") => ErrorCode::ResourceInUseException,
                Some("ResourceNotFoundException") => ErrorCode::ResourceNotFoundException,
                other => panic!("unexpected exception {other:?}"),
            };
            Frame::Exception(code, payload["message"].as_str().unwrap().to_owned())
        }
        other => panic!("no :message-type {other:?}"),
    }
}

/// The next frame, which must come without the clock moving.
async fn next(events: &mut EventStream) -> Option<Frame> {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("a frame (or the end) without waiting")
        .map(|frame| decode(&frame.unwrap()))
}

async fn event(events: &mut EventStream) -> Value {
    match next(events).await {
        Some(Frame::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn data(event: &Value) -> Vec<String> {
    use base64::Engine as _;
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(r["Data"].as_str().unwrap())
                .unwrap();
            String::from_utf8(bytes).unwrap()
        })
        .collect()
}

/// Puts `last`, splits the only shard in two, and subscribes from the trim horizon: the
/// subscription and its first event, which carries `last`.
async fn split_after_last(fan: &Fan) -> (EventStream, Value) {
    fan.put("last");
    fan.ok(
        Action::SplitShard,
        json!({
            "StreamName": "s",
            "ShardToSplit": "shardId-000000000000",
            "NewStartingHashKey": "170141183460469231731687303715884105728",
        }),
    );
    let mut events = fan.subscribe(json!({ "Type": "TRIM_HORIZON" })).unwrap();
    next(&mut events).await;
    let e = event(&mut events).await;
    assert_eq!(data(&e), ["last"]);
    (events, e)
}

/// Puts `record`, lets five seconds pass (the limit between a consumer's subscriptions), and
/// resubscribes after `continuation`: the first event carries exactly `record`.
async fn assert_resumes_with(fan: &Fan, continuation: &str, record: &str) {
    fan.put(record);
    fan.clock.advance(Duration::from_secs(5));
    let mut events = fan
        .subscribe(json!({ "Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation }))
        .unwrap();
    next(&mut events).await;
    assert_eq!(data(&event(&mut events).await), [record]);
}

/// Polls `events` on a task and waits until it sleeps on the clock (the subscription waits).
async fn until_waiting(fan: &Fan, sleepers: usize) {
    tokio::time::timeout(
        Duration::from_secs(5),
        fan.clock.sleepers_at_least(sleepers),
    )
    .await
    .expect("the subscription waits on the clock");
}

#[tokio::test]
async fn the_initial_response_comes_first_then_an_event_at_once_then_records_as_they_arrive() {
    let fan = Fan::new(1);
    let first = fan.put("before");
    let mut events = fan.subscribe(json!({ "Type": "TRIM_HORIZON" })).unwrap();
    assert!(matches!(next(&mut events).await, Some(Frame::Initial)));
    let e = event(&mut events).await;
    assert_eq!(data(&e), ["before"]);
    assert_eq!(e["ContinuationSequenceNumber"], json!(first));
    assert_eq!(e["MillisBehindLatest"], json!(0));
    // Nothing new: the subscription waits, and a put wakes it without the clock moving.
    let waiter = tokio::spawn(async move {
        let e = event(&mut events).await;
        (e, events)
    });
    until_waiting(&fan, 1).await;
    let second = fan.put("after");
    let (e, _events) = waiter.await.unwrap();
    assert_eq!(data(&e), ["after"]);
    assert_eq!(e["ContinuationSequenceNumber"], json!(second));
}

#[tokio::test]
async fn an_idle_subscription_sends_an_event_every_five_seconds_and_ends_after_five_minutes() {
    let fan = Fan::new(1);
    let mut events = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    assert!(matches!(next(&mut events).await, Some(Frame::Initial)));
    let e = event(&mut events).await;
    assert!(data(&e).is_empty());
    let continuation = e["ContinuationSequenceNumber"].clone();
    assert!(
        continuation.is_string(),
        "an empty event still has a continuation"
    );
    let mut heartbeats = 0;
    let mut events = Some(events);
    loop {
        let mut stream = events.take().unwrap();
        let task = tokio::spawn(async move { (next(&mut stream).await, stream) });
        until_waiting(&fan, 1).await;
        let deadline = fan.clock.next_deadline().unwrap();
        assert!(
            deadline - fan.clock.now_millis() <= 5_000,
            "never more than five seconds without an event"
        );
        fan.clock.set(deadline);
        let (frame, stream) = task.await.unwrap();
        match frame {
            Some(Frame::Event(e)) => {
                assert!(data(&e).is_empty());
                assert_eq!(e["ContinuationSequenceNumber"], continuation);
                heartbeats += 1;
                events = Some(stream);
            }
            None => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        fan.clock.now_millis(),
        T0 + 300_000,
        "ends after five minutes"
    );
    assert_eq!(heartbeats, 59);
}

#[tokio::test]
async fn a_second_subscription_within_five_seconds_is_refused_and_a_later_one_takes_over() {
    let fan = Fan::new(1);
    let mut first = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    assert!(matches!(next(&mut first).await, Some(Frame::Initial)));
    event(&mut first).await;
    fan.clock.advance(Duration::from_millis(4_999));
    let refused = fan.subscribe(json!({ "Type": "LATEST" })).err().unwrap();
    assert_eq!(refused.code, ErrorCode::ResourceInUseException);
    assert_eq!(
        refused.message,
        "Another active subscription exists for this consumer: \
         000000000000:s:shardId-000000000000:c"
    );
    fan.clock.advance(Duration::from_millis(1));
    let mut second = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    match next(&mut first).await {
        Some(Frame::Exception(ErrorCode::ResourceInUseException, _)) => {}
        other => panic!("the first subscription ends with ResourceInUseException: {other:?}"),
    }
    assert!(next(&mut first).await.is_none());
    assert!(matches!(next(&mut second).await, Some(Frame::Initial)));
}

#[tokio::test]
async fn resubscribing_after_the_continuation_resumes_without_gaps_or_repeats() {
    let fan = Fan::new(1);
    for i in 0..3 {
        fan.put(&format!("r{i}"));
    }
    let mut events = fan.subscribe(json!({ "Type": "TRIM_HORIZON" })).unwrap();
    next(&mut events).await;
    let e = event(&mut events).await;
    assert_eq!(data(&e), ["r0", "r1", "r2"]);
    let continuation = e["ContinuationSequenceNumber"].as_str().unwrap().to_owned();
    drop(events);
    assert_resumes_with(&fan, &continuation, "r3").await;
    // From an empty shard's first continuation, too.
    let fan = Fan::new(1);
    let mut events = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    next(&mut events).await;
    let continuation = event(&mut events).await["ContinuationSequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(events);
    assert_resumes_with(&fan, &continuation, "first").await;
}

#[tokio::test]
async fn a_closed_shard_ends_with_its_child_shards() {
    let fan = Fan::new(1);
    let (mut events, e) = split_after_last(&fan).await;
    let children: Vec<&str> = e["ChildShards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ShardId"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
    assert!(e.get("ContinuationSequenceNumber").is_none());
    assert!(next(&mut events).await.is_none(), "the stream ends");
}

#[tokio::test]
async fn a_consumer_that_is_not_active_cannot_subscribe_and_deregistering_ends_a_subscription() {
    let fan = Fan::new(1);
    fan.kinesis.lock().settings.create_delay_ms = 1_000;
    let creating = fan.ok(
        Action::RegisterStreamConsumer,
        json!({ "StreamARN": STREAM_ARN, "ConsumerName": "d" }),
    );
    let arn = creating["Consumer"]["ConsumerARN"].as_str().unwrap();
    let body = json!({
        "ConsumerARN": arn, "ShardId": "shardId-000000000000",
        "StartingPosition": { "Type": "LATEST" },
    });
    let refused = fan
        .kinesis
        .subscribe_to_shard(body.to_string().as_bytes())
        .err()
        .unwrap();
    assert_eq!(refused.code, ErrorCode::ResourceInUseException);
    assert_eq!(
        refused.message,
        format!(
            "Consumer d with creation timestamp {} under stream: s , account 000000000000 is \
             not in ACTIVE status.",
            T0 / 1000
        )
    );
    let mut events = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    next(&mut events).await;
    event(&mut events).await;
    fan.ok(
        Action::DeregisterStreamConsumer,
        json!({ "ConsumerARN": fan.consumer_arn }),
    );
    match next(&mut events).await {
        Some(Frame::Exception(ErrorCode::ResourceNotFoundException, message)) => {
            assert_eq!(
                message,
                "Consumer c under stream s under account 000000000000 not found."
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(next(&mut events).await.is_none());
}

#[tokio::test]
async fn requests_are_validated_before_the_stream_starts() {
    let fan = Fan::new(1);
    let err = fan
        .kinesis
        .subscribe_to_shard(br#"{"ShardId":"shardId-000000000000"}"#)
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::ValidationException);
    assert!(
        err.message.starts_with("2 validation errors detected"),
        "{}",
        err.message
    );
    let err = fan
        .subscribe(json!({ "Type": "AT_SEQUENCE_NUMBER" }))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgumentException);
    let err = fan.subscribe(json!({ "Type": "SOMETIMES" })).err().unwrap();
    assert_eq!(err.code, ErrorCode::ValidationException);
}

#[tokio::test]
async fn closing_the_hub_ends_every_subscription() {
    let fan = Fan::new(1);
    let mut events = fan.subscribe(json!({ "Type": "LATEST" })).unwrap();
    next(&mut events).await;
    event(&mut events).await;
    let task = tokio::spawn(async move { next(&mut events).await.is_none() });
    until_waiting(&fan, 1).await;
    fan.kinesis.close_subscriptions();
    assert!(task.await.unwrap(), "the stream ends without another frame");
}

#[tokio::test]
async fn under_aws_limits_a_subscription_sends_two_mebibytes_a_second() {
    let fan = Fan::new(1);
    fan.kinesis.lock().settings.enforce_throughput = false;
    // Five records of 1 MiB - 1 byte (data plus the one-byte key): 5 MiB in all.
    let big = "x".repeat(1024 * 1024 - 1);
    for _ in 0..5 {
        fan.put(&big);
    }
    fan.kinesis.lock().settings.enforce_throughput = true;
    let mut events = fan.subscribe(json!({ "Type": "TRIM_HORIZON" })).unwrap();
    next(&mut events).await;
    // The burst: 2 MiB at once (two records in one event).
    assert_eq!(data(&event(&mut events).await).len(), 2);
    // Then the subscription waits on the clock until the bucket holds the next record.
    let task = tokio::spawn(async move {
        let e = event(&mut events).await;
        (e, events)
    });
    until_waiting(&fan, 1).await;
    let wake = fan.clock.next_deadline().unwrap();
    assert_eq!(wake, T0 + 500, "half a second for 1 MiB at 2 MiB/s");
    fan.clock.set(wake);
    let (e, mut events) = task.await.unwrap();
    assert_eq!(data(&e).len(), 1);
    let task = tokio::spawn(async move { event(&mut events).await });
    until_waiting(&fan, 1).await;
    let wake = fan.clock.next_deadline().unwrap();
    assert_eq!(wake, T0 + 1_000);
    fan.clock.set(wake);
    assert_eq!(data(&task.await.unwrap()).len(), 1);
}

#[tokio::test]
async fn a_shard_split_with_a_status_delay_ends_a_subscription_only_when_updating_ends() {
    let fan = Fan::new(1);
    fan.kinesis.lock().settings.update_delay_ms = 500;
    let (mut events, e) = split_after_last(&fan).await;
    assert!(e.get("ChildShards").is_none(), "still open while UPDATING");
    assert!(e.get("ContinuationSequenceNumber").is_some());
    fan.put("during");
    assert_eq!(data(&event(&mut events).await), ["during"]);
    let task = tokio::spawn(async move { (next(&mut events).await, events) });
    until_waiting(&fan, 1).await;
    // The end of UPDATING, seen by the emulator's periodic tick: the subscription is woken
    // before its next heartbeat is due.
    fan.clock.advance(Duration::from_millis(500));
    fan.kinesis.tick();
    let (frame, mut events) = task.await.unwrap();
    let Some(Frame::Event(e)) = frame else {
        panic!("expected an event, got {frame:?}");
    };
    assert!(data(&e).is_empty());
    assert_eq!(e["ChildShards"].as_array().unwrap().len(), 2);
    assert!(e.get("ContinuationSequenceNumber").is_none());
    assert!(next(&mut events).await.is_none(), "the stream ends");
}
