//! The AWS side of the engine: a [`StreamSource`] over `aws-sdk-kinesis`, a
//! [`FailureDestination`] and a [`riffle_runtime::QueueSource`] ([`SqsQueueSource`]) over
//! `aws-sdk-sqs`, for the embedded emulator and real endpoints alike; and [`LambdaInvoker`], the
//! Invoke API over `aws-sdk-lambda` for functions that run elsewhere (AWS, `sam local
//! start-lambda`, `cargo lambda watch`).
//!
//! Invariant: a shard reader never skips or repeats a record across iterator expiry: it
//! remembers the last sequence number it returned and re-creates the iterator
//! `AFTER_SEQUENCE_NUMBER` it (or at its original start if it returned none).

pub mod clients;
pub mod invoke;
pub mod queue;
pub mod tools;

pub use clients::{Clients, KinesisClient, LambdaClient, SqsClient, clients, lambda_client};
pub use invoke::LambdaInvoker;
pub use queue::{QueueFacts, SqsQueueSource, queue_facts, queue_url};

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;
use riffle_runtime::{
    FailureDestination, ReadBatch, ShardInfo, ShardReader, SourceError, StartAt, StreamSource,
};

fn source_error<E: ProvideErrorMetadata + std::fmt::Debug>(error: E) -> SourceError {
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

/// A Kinesis stream read through the SDK.
#[derive(Debug, Clone)]
pub struct KinesisSource {
    client: aws_sdk_kinesis::Client,
    stream_arn: String,
}

impl KinesisSource {
    /// The stream `stream_arn` read with `client`.
    pub fn new(client: aws_sdk_kinesis::Client, stream_arn: impl Into<String>) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
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
        let mut reader = KinesisShardReader {
            client: self.client.clone(),
            stream_arn: self.stream_arn.clone(),
            shard_id: shard_id.to_owned(),
            start,
            last: None,
            iterator: None,
        };
        reader.iterator = Some(reader.new_iterator().await?);
        Ok(reader)
    }
}

/// Reads one shard, following `NextShardIterator`.
#[derive(Debug)]
pub struct KinesisShardReader {
    client: aws_sdk_kinesis::Client,
    stream_arn: String,
    shard_id: String,
    start: StartAt,
    last: Option<String>,
    iterator: Option<String>,
}

impl KinesisShardReader {
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

impl ShardReader for KinesisShardReader {
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
        let mut records = Vec::with_capacity(out.records.len());
        for record in out.records {
            let arrival_ms = record
                .approximate_arrival_timestamp
                .and_then(|t| t.to_millis().ok())
                .unwrap_or(0)
                .max(0) as Millis;
            let sequence_number = SequenceNumber::parse_owned(record.sequence_number)
                .map_err(|text| SourceError::Other(format!("malformed sequence number {text}")))?;
            records.push(StreamRecord {
                sequence_number,
                partition_key: record.partition_key.unwrap_or_default(),
                data: bytes::Bytes::from(record.data.into_inner()),
                arrival_ms,
            });
        }
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

/// Sends failure records to SQS queues named by ARN.
#[derive(Debug)]
pub struct SqsDestination {
    client: aws_sdk_sqs::Client,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsDestination {
    /// A destination sending with `client`.
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self {
            client,
            urls: Mutex::new(HashMap::new()),
        }
    }

    async fn url(&self, arn: &str) -> Result<String, String> {
        if let Some(url) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            return Ok(url.clone());
        }
        let mut parts = arn.split(':');
        let (account, name) = (parts.nth(4), parts.next());
        let (Some(account), Some(name)) = (account, name) else {
            return Err(format!("{arn} is not an SQS queue ARN"));
        };
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "resolving {arn}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        let url = out.queue_url().unwrap_or_default().to_owned();
        self.urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(arn.to_owned(), url.clone());
        Ok(url)
    }
}

impl FailureDestination for SqsDestination {
    async fn send(&self, arn: &str, body: String) -> Result<(), String> {
        let url = self.url(arn).await?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "sending to {arn}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })
    }
}
