//! Reading a shard through an enhanced fan-out consumer: SubscribeToShard over the SDK, the
//! records pushed to the reader as they arrive.
//!
//! Invariant: no record is skipped or repeated across a subscription's end (AWS ends each after
//! five minutes) or failure. The reader resubscribes `AFTER_SEQUENCE_NUMBER` the last record it
//! received; if it received none, after the last `ContinuationSequenceNumber` (which moves on
//! while the shard is idle); if neither, at its original start. A record at or before the last
//! one received is dropped, whatever the server sends.

use std::collections::VecDeque;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::{ShardIteratorType, StartingPosition, SubscribeToShardEventStream};
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;
use riffle_runtime::{ReadBatch, SourceError, StartAt};

use crate::stream::{source_error, stream_record};

/// One shard read through a consumer with SubscribeToShard.
pub struct FanOutReader {
    client: aws_sdk_kinesis::Client,
    consumer_arn: String,
    shard_id: String,
    start: StartAt,
    /// The newest record received (returned or still pending).
    last: Option<SequenceNumber>,
    /// The newest `ContinuationSequenceNumber` received.
    continuation: Option<String>,
    /// The open subscription, if any.
    subscription: Option<SubscribeToShardOutput>,
    /// Records received and not yet returned (an event can hold more than a read's limit).
    pending: VecDeque<StreamRecord>,
    /// `MillisBehindLatest` of the newest event.
    millis_behind: Millis,
    /// The shard is closed and its last event (with its child shards) arrived.
    ended: bool,
}

impl std::fmt::Debug for FanOutReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOutReader")
            .field("consumer_arn", &self.consumer_arn)
            .field("shard_id", &self.shard_id)
            .field("last", &self.last)
            .field("continuation", &self.continuation)
            .field("subscribed", &self.subscription.is_some())
            .field("pending", &self.pending.len())
            .field("ended", &self.ended)
            .finish()
    }
}

impl FanOutReader {
    /// A reader of `shard_id` through `consumer_arn`, starting at `start`; it subscribes on
    /// its first read.
    pub fn new(
        client: aws_sdk_kinesis::Client,
        consumer_arn: &str,
        shard_id: &str,
        start: StartAt,
    ) -> Self {
        Self {
            client,
            consumer_arn: consumer_arn.to_owned(),
            shard_id: shard_id.to_owned(),
            start,
            last: None,
            continuation: None,
            subscription: None,
            pending: VecDeque::new(),
            millis_behind: 0,
            ended: false,
        }
    }

    /// Where the next subscription starts.
    fn position(&self) -> Result<StartingPosition, SourceError> {
        let after = |seq: &str| {
            StartingPosition::builder()
                .r#type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq)
        };
        let builder = match (&self.last, &self.continuation, &self.start) {
            (Some(last), _, _) => after(last.as_str()),
            (None, Some(continuation), _) => after(continuation),
            (None, None, StartAt::After(seq)) => after(seq.as_str()),
            (None, None, StartAt::TrimHorizon) => {
                StartingPosition::builder().r#type(ShardIteratorType::TrimHorizon)
            }
            (None, None, StartAt::Latest) => {
                StartingPosition::builder().r#type(ShardIteratorType::Latest)
            }
            (None, None, StartAt::AtTimestamp(at)) => StartingPosition::builder()
                .r#type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_millis(*at as i64)),
        };
        builder
            .build()
            .map_err(|e| SourceError::Other(format!("starting position: {e}")))
    }

    async fn subscribe(&mut self) -> Result<(), SourceError> {
        let output = self
            .client
            .subscribe_to_shard()
            .consumer_arn(&self.consumer_arn)
            .shard_id(&self.shard_id)
            .starting_position(self.position()?)
            .send()
            .await
            .map_err(source_error)?;
        self.subscription = Some(output);
        Ok(())
    }

    /// The next records, at most `limit`: waits for the next event when none is pending. An
    /// event without records (AWS sends one at least every five seconds) is an empty batch.
    pub async fn read(&mut self, limit: usize) -> Result<ReadBatch, SourceError> {
        loop {
            if !self.pending.is_empty() {
                let take = limit.max(1).min(self.pending.len());
                let records: Vec<StreamRecord> = self.pending.drain(..take).collect();
                return Ok(ReadBatch {
                    records,
                    millis_behind: self.millis_behind,
                    end_of_shard: self.ended && self.pending.is_empty(),
                });
            }
            if self.ended {
                return Ok(ReadBatch {
                    end_of_shard: true,
                    ..ReadBatch::default()
                });
            }
            if self.subscription.is_none() {
                self.subscribe().await?;
            }
            let Some(subscription) = self.subscription.as_mut() else {
                continue;
            };
            let event = match subscription.event_stream.recv().await {
                Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(event))) => event,
                Ok(Some(_)) => continue,
                // The subscription ended (after five minutes, or the server closed it):
                // resubscribe from where it got to.
                Ok(None) => {
                    self.subscription = None;
                    continue;
                }
                Err(error) => {
                    self.subscription = None;
                    let text = match error.code() {
                        Some(code) => format!("{code}: {}", error.message().unwrap_or_default()),
                        None => format!("{}", aws_sdk_kinesis::error::DisplayErrorContext(&error)),
                    };
                    return Err(match error.code() {
                        Some("ResourceNotFoundException") => SourceError::NotFound(text),
                        Some("ResourceInUseException" | "LimitExceededException") => {
                            SourceError::Throttled(text)
                        }
                        _ => SourceError::Other(text),
                    });
                }
            };
            self.millis_behind = event.millis_behind_latest.max(0) as Millis;
            if !event.continuation_sequence_number.is_empty() {
                self.continuation = Some(event.continuation_sequence_number);
            }
            for record in event.records {
                let record = stream_record(record)?;
                if self
                    .last
                    .as_ref()
                    .is_some_and(|last| record.sequence_number <= *last)
                {
                    continue;
                }
                self.last = Some(record.sequence_number.clone());
                self.pending.push_back(record);
            }
            if event.child_shards.is_some_and(|c| !c.is_empty()) {
                self.ended = true;
                self.subscription = None;
            }
            if self.pending.is_empty() {
                return Ok(ReadBatch {
                    records: Vec::new(),
                    millis_behind: self.millis_behind,
                    end_of_shard: self.ended,
                });
            }
        }
    }
}
