//! Kinesis requests of the tools: creating a stream and waiting for it, registering a stream
//! consumer and waiting for it, putting records, listing shards, and reading pages of a shard.
//!
//! Invariant: a stream [`create_stream`] returns is ACTIVE and keeps at least the retention
//! asked for; a consumer [`register_consumer`] returns is ACTIVE.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ConsumerStatus, PutRecordsRequestEntry, ShardIteratorType, StreamMode, StreamModeDetails,
    StreamStatus,
};

use super::sdk_error;

/// How a stream is named in a request.
#[derive(Debug, Clone, Copy)]
pub enum StreamRef<'a> {
    /// StreamName.
    Name(&'a str),
    /// StreamARN.
    Arn(&'a str),
}

/// What [`create_stream`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The stream was created.
    Created,
    /// It existed already, and is kept.
    Existed,
}

/// Why creating a stream failed, per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateStreamError {
    /// CreateStream failed.
    Create(String),
    /// DescribeStreamSummary failed (or answered without a description).
    Describe(String),
    /// IncreaseStreamRetentionPeriod failed.
    Retention(String),
    /// The stream did not become ACTIVE within a minute.
    NotActive,
}

/// Creates stream `name` (`shard_count` shards provisioned, or on demand without), keeps it
/// if it exists, waits until it is ACTIVE (polling every 100 ms, at most a minute), and raises
/// its retention to `retention_hours` if it is lower.
pub async fn create_stream(
    client: &Client,
    name: &str,
    shard_count: Option<u32>,
    retention_hours: u32,
) -> Result<Created, CreateStreamError> {
    let mut request = client.create_stream().stream_name(name);
    let mode = |mode| {
        StreamModeDetails::builder()
            .stream_mode(mode)
            .build()
            .map_err(|e| CreateStreamError::Create(e.to_string()))
    };
    request = match shard_count {
        Some(shards) => request
            .shard_count(shards as i32)
            .stream_mode_details(mode(StreamMode::Provisioned)?),
        None => request.stream_mode_details(mode(StreamMode::OnDemand)?),
    };
    let created = match request.send().await {
        Ok(_) => Created::Created,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Created::Existed
        }
        Err(e) => return Err(CreateStreamError::Create(sdk_error(&e))),
    };
    for _ in 0..600 {
        let summary = client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .map_err(|e| CreateStreamError::Describe(sdk_error(&e)))?;
        let description = summary.stream_description_summary.ok_or_else(|| {
            CreateStreamError::Describe("DescribeStreamSummary without a description".to_owned())
        })?;
        if description.stream_status == StreamStatus::Active {
            if description.retention_period_hours < retention_hours as i32 {
                client
                    .increase_stream_retention_period()
                    .stream_name(name)
                    .retention_period_hours(retention_hours as i32)
                    .send()
                    .await
                    .map_err(|e| CreateStreamError::Retention(sdk_error(&e)))?;
            }
            return Ok(created);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CreateStreamError::NotActive)
}

/// Registers consumer `name` of the stream `stream_arn`, or keeps it if it is registered
/// already, and waits until it is ACTIVE (polling every 100 ms, at most a minute). Returns its
/// ARN, which ends in its creation time.
pub async fn register_consumer(
    client: &Client,
    stream_arn: &str,
    name: &str,
) -> Result<String, String> {
    let registered = client
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name(name)
        .send()
        .await;
    match registered {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(format!("registering {name}: {}", sdk_error(&e))),
    }
    for _ in 0..600 {
        let described = client
            .describe_stream_consumer()
            .stream_arn(stream_arn)
            .consumer_name(name)
            .send()
            .await
            .map_err(|e| format!("describing {name}: {}", sdk_error(&e)))?;
        let consumer = described
            .consumer_description
            .ok_or_else(|| format!("DescribeStreamConsumer of {name} without a description"))?;
        if consumer.consumer_status == ConsumerStatus::Active {
            return Ok(consumer.consumer_arn);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "consumer {name} did not become ACTIVE within a minute"
    ))
}

/// PutRecord of `data` under `partition_key`; returns the shard id and sequence number.
pub async fn put_record(
    client: &Client,
    stream: &str,
    partition_key: String,
    data: Vec<u8>,
) -> Result<(String, String), String> {
    let out = client
        .put_record()
        .stream_name(stream)
        .partition_key(partition_key)
        .data(Blob::new(data))
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok((out.shard_id, out.sequence_number))
}

/// One record to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutEntry {
    /// PartitionKey.
    pub partition_key: String,
    /// Data.
    pub data: Vec<u8>,
}

impl PutEntry {
    /// What the entry counts against PutRecords' request limit: data and partition key.
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// PutRecords of `entries`; returns, per entry in order, whether Kinesis refused it.
pub async fn put_records(
    client: &Client,
    stream: &str,
    entries: &[PutEntry],
) -> Result<Vec<bool>, String> {
    let records = entries
        .iter()
        .map(|e| {
            PutRecordsRequestEntry::builder()
                .partition_key(e.partition_key.clone())
                .data(Blob::new(e.data.clone()))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = client
        .put_records()
        .stream_name(stream)
        .set_records(Some(records))
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(out
        .records()
        .iter()
        .map(|r| r.error_code().is_some())
        .collect())
}

/// A shard as ListShards lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedShard {
    /// ShardId.
    pub shard_id: String,
    /// It has an ending sequence number (resharding closed it).
    pub closed: bool,
}

/// One ListShards call (its first page) for stream `name`.
pub async fn list_shards(client: &Client, name: &str) -> Result<Vec<ListedShard>, String> {
    let out = client
        .list_shards()
        .stream_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(out
        .shards()
        .iter()
        .map(|shard| ListedShard {
            shard_id: shard.shard_id().to_owned(),
            closed: shard
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some(),
        })
        .collect())
}

/// Where a shard iterator starts.
#[derive(Debug, Clone, Copy)]
pub enum Position<'a> {
    /// TRIM_HORIZON.
    TrimHorizon,
    /// LATEST.
    Latest,
    /// AT_SEQUENCE_NUMBER.
    At(&'a str),
}

/// GetShardIterator of `shard_id` of `stream` at `position`.
pub async fn shard_iterator(
    client: &Client,
    stream: StreamRef<'_>,
    shard_id: &str,
    position: Position<'_>,
) -> Result<Option<String>, String> {
    let request = client.get_shard_iterator().shard_id(shard_id);
    let request = match stream {
        StreamRef::Name(name) => request.stream_name(name),
        StreamRef::Arn(arn) => request.stream_arn(arn),
    };
    let request = match position {
        Position::TrimHorizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        Position::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
        Position::At(sequence_number) => request
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(sequence_number),
    };
    let out = request.send().await.map_err(|e| sdk_error(&e))?;
    Ok(out.shard_iterator)
}

/// A record of a [`Page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    /// SequenceNumber.
    pub sequence_number: String,
    /// PartitionKey.
    pub partition_key: Option<String>,
    /// Data.
    pub data: Vec<u8>,
    /// ApproximateArrivalTimestamp, epoch ms.
    pub arrival_ms: Option<i64>,
}

impl From<aws_sdk_kinesis::types::Record> for PageRecord {
    fn from(r: aws_sdk_kinesis::types::Record) -> Self {
        Self {
            arrival_ms: r
                .approximate_arrival_timestamp
                .and_then(|t| t.to_millis().ok()),
            sequence_number: r.sequence_number,
            partition_key: r.partition_key,
            data: r.data.into_inner(),
        }
    }
}

/// One GetRecords answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The records.
    pub records: Vec<PageRecord>,
    /// NextShardIterator (none once a closed shard is read to its end).
    pub next_iterator: Option<String>,
    /// MillisBehindLatest.
    pub millis_behind: Option<i64>,
}

/// GetRecords at `iterator`, at most `limit` records (the service's default without).
pub async fn get_records(
    client: &Client,
    iterator: String,
    limit: Option<i32>,
) -> Result<Page, String> {
    let out = client
        .get_records()
        .shard_iterator(iterator)
        .set_limit(limit)
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(Page {
        millis_behind: out.millis_behind_latest,
        next_iterator: out.next_shard_iterator,
        records: out.records.into_iter().map(PageRecord::from).collect(),
    })
}
