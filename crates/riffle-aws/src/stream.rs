//! Reading a Kinesis stream through the SDK: [`KinesisSource`] lists shards and opens a
//! [`KinesisShardReader`] on each, polling with GetRecords or, when the mapping's source is a
//! stream consumer, pushed by SubscribeToShard ([`crate::fanout`]).
//!
//! Invariant: a shard reader never skips or repeats a record across iterator expiry or a
//! subscription's end: it remembers the last sequence number it received and resumes
//! `AFTER_SEQUENCE_NUMBER` it (or at its original start if it received none).

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;
use riffle_runtime::{ReadBatch, ShardInfo, ShardReader, SourceError, StartAt, StreamSource};

use crate::fanout::FanOutReader;

pub(crate) fn source_error<E: ProvideErrorMetadata + std::fmt::Debug>(error: E) -> SourceError {
    let text = error
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{error:?}"));
    match error.code() {
        Some("ResourceNotFoundException") => SourceError::NotFound(text),
        Some("ProvisionedThroughputExceededException" | "LimitExceededException") => {
            SourceError::Throttled(text)
        }
        _ => SourceError::Other(text),
    }
}

/// A Kinesis stream read through the SDK: polled with GetRecords, or pushed through an enhanced
/// fan-out consumer with SubscribeToShard.
#[derive(Debug, Clone)]
pub struct KinesisSource {
    client: aws_sdk_kinesis::Client,
    stream_arn: String,
    consumer_arn: Option<String>,
}

impl KinesisSource {
    /// The stream `stream_arn` polled with `client`.
    pub fn new(client: aws_sdk_kinesis::Client, stream_arn: impl Into<String>) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
            consumer_arn: None,
        }
    }

    /// The stream of the consumer `consumer_arn`, read through it with `client`.
    pub fn through_consumer(
        client: aws_sdk_kinesis::Client,
        stream_arn: impl Into<String>,
        consumer_arn: impl Into<String>,
    ) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
            consumer_arn: Some(consumer_arn.into()),
        }
    }

    /// A mapping's source: a stream ARN is polled, a stream consumer ARN read through the
    /// consumer, as Lambda does.
    pub fn for_event_source(client: aws_sdk_kinesis::Client, event_source_arn: &str) -> Self {
        match riffle_core::kinesis::config::consumer_stream_arn(event_source_arn) {
            Some(stream) => Self::through_consumer(client, stream, event_source_arn),
            None => Self::new(client, event_source_arn),
        }
    }
}

impl StreamSource for KinesisSource {
    type Reader = KinesisShardReader;

    async fn list_shards(&self) -> Result<Vec<ShardInfo>, SourceError> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_arn(&self.stream_arn),
            };
            let page = request.send().await.map_err(source_error)?;
            shards.extend(page.shards().iter().map(|s| ShardInfo {
                shard_id: s.shard_id().to_owned(),
                parent: s.parent_shard_id().map(str::to_owned),
                adjacent_parent: s.adjacent_parent_shard_id().map(str::to_owned),
            }));
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    async fn retention_ms(&self) -> Result<Millis, SourceError> {
        let out = self
            .client
            .describe_stream_summary()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(source_error)?;
        let hours = out
            .stream_description_summary()
            .map_or(24, |s| s.retention_period_hours());
        Ok(hours.max(1) as Millis * 3_600_000)
    }

    async fn open(
        &self,
        shard_id: &str,
        start: StartAt,
    ) -> Result<KinesisShardReader, SourceError> {
        if let Some(consumer_arn) = &self.consumer_arn {
            let reader = FanOutReader::new(self.client.clone(), consumer_arn, shard_id, start);
            return Ok(KinesisShardReader::FanOut(Box::new(reader)));
        }
        let mut reader = PollingReader {
            client: self.client.clone(),
            stream_arn: self.stream_arn.clone(),
            shard_id: shard_id.to_owned(),
            start,
            last: None,
            iterator: None,
        };
        reader.iterator = Some(reader.new_iterator().await?);
        Ok(KinesisShardReader::Polling(reader))
    }
}

/// Reads one shard through the SDK.
#[derive(Debug)]
pub enum KinesisShardReader {
    /// With GetRecords.
    Polling(PollingReader),
    /// Pushed by SubscribeToShard through a consumer.
    FanOut(Box<FanOutReader>),
}

impl ShardReader for KinesisShardReader {
    async fn read(&mut self, limit: usize) -> Result<ReadBatch, SourceError> {
        match self {
            Self::Polling(reader) => reader.read(limit).await,
            Self::FanOut(reader) => reader.read(limit).await,
        }
    }

    fn pushes(&self) -> bool {
        matches!(self, Self::FanOut(_))
    }
}

/// Reads one shard with GetRecords, following `NextShardIterator`.
#[derive(Debug)]
pub struct PollingReader {
    client: aws_sdk_kinesis::Client,
    stream_arn: String,
    shard_id: String,
    start: StartAt,
    last: Option<String>,
    iterator: Option<String>,
}

impl PollingReader {
    async fn new_iterator(&self) -> Result<String, SourceError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&self.shard_id);
        let request = match (&self.last, &self.start) {
            (Some(last), _) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(last),
            (None, StartAt::After(seq)) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq.as_str()),
            (None, StartAt::TrimHorizon) => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            (None, StartAt::Latest) => request.shard_iterator_type(ShardIteratorType::Latest),
            (None, StartAt::AtTimestamp(at)) => request
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_millis(*at as i64)),
        };
        let out = request.send().await.map_err(source_error)?;
        out.shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| SourceError::Other("no shard iterator returned".into()))
    }
}

impl PollingReader {
    async fn read(&mut self, limit: usize) -> Result<ReadBatch, SourceError> {
        let Some(iterator) = self.iterator.clone() else {
            return Ok(ReadBatch {
                end_of_shard: true,
                ..ReadBatch::default()
            });
        };
        let response = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(limit.min(10_000) as i32)
            .send()
            .await;
        let out = match response {
            Ok(out) => out,
            Err(error) if error.code() == Some("ExpiredIteratorException") => {
                self.iterator = Some(self.new_iterator().await?);
                return Ok(ReadBatch::default());
            }
            Err(error) => return Err(source_error(error)),
        };
        self.iterator = out.next_shard_iterator;
        let millis_behind = out.millis_behind_latest.unwrap_or(0).max(0) as Millis;
        let records = out
            .records
            .into_iter()
            .map(stream_record)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(last) = records.last() {
            self.last = Some(last.sequence_number.to_string());
        }
        Ok(ReadBatch {
            records,
            millis_behind,
            end_of_shard: self.iterator.is_none(),
        })
    }
}

/// A record as the SDK gives it, as the engine takes it.
pub(crate) fn stream_record(
    record: aws_sdk_kinesis::types::Record,
) -> Result<StreamRecord, SourceError> {
    let arrival_ms = record
        .approximate_arrival_timestamp
        .and_then(|t| t.to_millis().ok())
        .unwrap_or(0)
        .max(0) as Millis;
    let sequence_number = SequenceNumber::parse_owned(record.sequence_number)
        .map_err(|text| SourceError::Other(format!("malformed sequence number {text}")))?;
    Ok(StreamRecord {
        sequence_number,
        partition_key: record.partition_key.unwrap_or_default(),
        data: bytes::Bytes::from(record.data.into_inner()),
        arrival_ms,
    })
}
