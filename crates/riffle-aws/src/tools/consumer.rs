//! Reading a shard through an enhanced fan-out consumer, for `riffle tail --consumer`: finding
//! the consumer's ARN, SubscribeToShard, and the subscription's events in riffle's own types.
//!
//! Invariant: an event's records are handed over in order with its continuation, so a caller
//! that resubscribes `AFTER_SEQUENCE_NUMBER` the last continuation misses and repeats nothing;
//! the last event of a closed shard has no continuation and names the child shards.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata as _;
use aws_sdk_kinesis::primitives::event_stream::EventReceiver;
use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError;
use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition, SubscribeToShardEventStream};

use super::kinesis::PageRecord;
use super::sdk_error;

/// The ARN of consumer `name` of stream `stream` (DescribeStreamSummary, then
/// DescribeStreamConsumer).
pub async fn consumer_arn(client: &Client, stream: &str, name: &str) -> Result<String, String> {
    let summary = client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    let stream_arn = summary
        .stream_description_summary()
        .map(|s| s.stream_arn().to_owned())
        .ok_or_else(|| format!("DescribeStreamSummary of {stream} answered no description"))?;
    let described = client
        .describe_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    described
        .consumer_description()
        .map(|c| c.consumer_arn().to_owned())
        .ok_or_else(|| format!("DescribeStreamConsumer of {name} answered no description"))
}

/// Where a subscription starts.
#[derive(Debug, Clone, Copy)]
pub enum StartAt<'a> {
    /// TRIM_HORIZON.
    TrimHorizon,
    /// LATEST.
    Latest,
    /// AFTER_SEQUENCE_NUMBER (a continuation).
    After(&'a str),
}

/// Why SubscribeToShard (or a subscription) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeError {
    /// `ResourceInUseException`: another subscription of the consumer to the shard, less than
    /// five seconds ago (retry later), or this one was taken over.
    InUse(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InUse(message) | Self::Other(message) => f.write_str(message),
        }
    }
}

/// One event of a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOutEvent {
    /// The records, in order.
    pub records: Vec<PageRecord>,
    /// ContinuationSequenceNumber (none at the end of a closed shard).
    pub continuation: Option<String>,
    /// MillisBehindLatest.
    pub millis_behind: i64,
    /// ChildShards' ids (at the end of a closed shard).
    pub child_shards: Vec<String>,
}

/// A running subscription.
#[derive(Debug)]
pub struct Subscription {
    events: EventReceiver<SubscribeToShardEventStream, SubscribeToShardEventStreamError>,
}

/// SubscribeToShard of `consumer_arn` to `shard_id` from `start`.
pub async fn subscribe(
    client: &Client,
    consumer_arn: &str,
    shard_id: &str,
    start: StartAt<'_>,
) -> Result<Subscription, SubscribeError> {
    let position = match start {
        StartAt::TrimHorizon => StartingPosition::builder().r#type(ShardIteratorType::TrimHorizon),
        StartAt::Latest => StartingPosition::builder().r#type(ShardIteratorType::Latest),
        StartAt::After(sequence) => StartingPosition::builder()
            .r#type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(sequence),
    }
    .build()
    .map_err(|e| SubscribeError::Other(e.to_string()))?;
    let answer = client
        .subscribe_to_shard()
        .consumer_arn(consumer_arn)
        .shard_id(shard_id)
        .starting_position(position)
        .send()
        .await;
    match answer {
        Ok(output) => Ok(Subscription {
            events: output.event_stream,
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Err(SubscribeError::InUse(sdk_error(&e)))
        }
        Err(e) => Err(SubscribeError::Other(sdk_error(&e))),
    }
}

impl Subscription {
    /// The next event; `None` once the subscription ended (after five minutes, or after the
    /// last event of a closed shard).
    pub async fn next(&mut self) -> Result<Option<FanOutEvent>, SubscribeError> {
        loop {
            let received = match self.events.recv().await {
                Ok(received) => received,
                Err(e) => {
                    let in_use = e
                        .as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception());
                    let text = match e.as_service_error() {
                        Some(s) => format!(
                            "{}: {}",
                            s.code().unwrap_or("error"),
                            s.message().unwrap_or_default()
                        ),
                        None => e.to_string(),
                    };
                    return Err(if in_use {
                        SubscribeError::InUse(text)
                    } else {
                        SubscribeError::Other(text)
                    });
                }
            };
            let Some(received) = received else {
                return Ok(None);
            };
            let SubscribeToShardEventStream::SubscribeToShardEvent(event) = received else {
                continue;
            };
            return Ok(Some(FanOutEvent {
                continuation: Some(event.continuation_sequence_number).filter(|c| !c.is_empty()),
                millis_behind: event.millis_behind_latest,
                child_shards: event
                    .child_shards
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.shard_id)
                    .collect(),
                records: event.records.into_iter().map(PageRecord::from).collect(),
            }));
        }
    }
}
