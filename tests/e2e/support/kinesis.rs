//! Kinesis calls the tests make again and again, each one SDK call with the test's inputs and
//! nothing added: put a record, get an iterator, read a batch, describe a stream.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::SdkError;
use aws_sdk_kinesis::operation::create_stream::{CreateStreamError, CreateStreamOutput};
use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryOutput;
use aws_sdk_kinesis::operation::get_records::{GetRecordsError, GetRecordsOutput};
use aws_sdk_kinesis::operation::increase_stream_retention_period::{
    IncreaseStreamRetentionPeriodError, IncreaseStreamRetentionPeriodOutput,
};
use aws_sdk_kinesis::operation::list_shards::ListShardsOutput;
use aws_sdk_kinesis::operation::list_tags_for_stream::ListTagsForStreamOutput;
use aws_sdk_kinesis::operation::put_record::{PutRecordError, PutRecordOutput};
use aws_sdk_kinesis::operation::put_records::{PutRecordsError, PutRecordsOutput};
use aws_sdk_kinesis::operation::split_shard::{SplitShardError, SplitShardOutput};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, Record, ShardIteratorType, StreamDescriptionSummary, StreamMode,
    StreamModeDetails,
};

/// What the SDK answers for an operation: its output or its error.
type Answer<T, E> = Result<T, SdkError<E>>;

/// The first shard of every stream.
pub(crate) const SHARD_0: &str = "shardId-000000000000";

/// CreateStream of `name` with `shards` shards, as the SDK answers it.
pub(crate) async fn try_create(
    client: &Client,
    name: impl Into<String>,
    shards: i32,
) -> Answer<CreateStreamOutput, CreateStreamError> {
    let request = client.create_stream().stream_name(name);
    request.shard_count(shards).send().await
}

/// The mode details of an on-demand stream, for CreateStream and UpdateStreamMode.
pub(crate) fn on_demand() -> StreamModeDetails {
    StreamModeDetails::builder()
        .stream_mode(StreamMode::OnDemand)
        .build()
        .expect("on-demand mode details")
}

/// One PutRecords entry of `data` under `key`.
pub(crate) fn entry(key: impl Into<String>, data: impl Into<Vec<u8>>) -> PutRecordsRequestEntry {
    PutRecordsRequestEntry::builder()
        .partition_key(key)
        .data(Blob::new(data))
        .build()
        .expect("an entry")
}

/// PutRecord of `data` under `key`, as the SDK answers it.
pub(crate) async fn try_put(
    client: &Client,
    stream: &str,
    key: impl Into<String>,
    data: impl Into<Vec<u8>>,
) -> Answer<PutRecordOutput, PutRecordError> {
    client
        .put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(Blob::new(data))
        .send()
        .await
}

/// PutRecord of `data` under `key` with ExplicitHashKey `hash_key`, as the SDK answers it.
pub(crate) async fn try_put_at(
    client: &Client,
    stream: &str,
    key: &str,
    hash_key: &str,
    data: impl Into<Vec<u8>>,
) -> Answer<PutRecordOutput, PutRecordError> {
    let request = client.put_record().stream_name(stream).partition_key(key);
    let request = request.explicit_hash_key(hash_key).data(Blob::new(data));
    request.send().await
}

/// PutRecord of `data` under `key`, which must succeed.
pub(crate) async fn put(
    client: &Client,
    stream: &str,
    key: impl Into<String>,
    data: impl Into<Vec<u8>>,
) -> PutRecordOutput {
    try_put(client, stream, key, data).await.expect("put")
}

/// PutRecords of `entries`, as the SDK answers it (entries may fail one by one).
pub(crate) async fn put_records(
    client: &Client,
    stream: &str,
    entries: Vec<PutRecordsRequestEntry>,
) -> Answer<PutRecordsOutput, PutRecordsError> {
    let request = client.put_records().stream_name(stream);
    request.set_records(Some(entries)).send().await
}

/// A shard iterator of `kind` (one without a sequence number or timestamp) for `shard`.
pub(crate) async fn iterator(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
) -> String {
    iterator_from(client, stream, shard, kind, None).await
}

/// A shard iterator of `kind` at or after `sequence_number` for `shard`.
pub(crate) async fn iterator_at(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence_number: impl Into<String>,
) -> String {
    iterator_from(client, stream, shard, kind, Some(sequence_number.into())).await
}

async fn iterator_from(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence_number: Option<String>,
) -> String {
    let out = client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_starting_sequence_number(sequence_number)
        .send()
        .await
        .expect("an iterator");
    out.shard_iterator().expect("an iterator").to_owned()
}

/// A TRIM_HORIZON iterator for the first shard of `stream`.
pub(crate) async fn trim_horizon(client: &Client, stream: &str) -> String {
    iterator(client, stream, SHARD_0, ShardIteratorType::TrimHorizon).await
}

/// One GetRecords from TRIM_HORIZON of the first shard of `stream`.
pub(crate) async fn read_from_start(client: &Client, stream: &str) -> GetRecordsOutput {
    read(client, stream, SHARD_0, ShardIteratorType::TrimHorizon).await
}

/// GetRecords at `iterator` (with `limit` if given), as the SDK answers it.
pub(crate) async fn try_records(
    client: &Client,
    iterator: impl Into<String>,
    limit: Option<i32>,
) -> Answer<GetRecordsOutput, GetRecordsError> {
    let request = client.get_records().shard_iterator(iterator);
    request.set_limit(limit).send().await
}

/// GetRecords at `iterator`, which must succeed.
pub(crate) async fn records(client: &Client, iterator: impl Into<String>) -> GetRecordsOutput {
    try_records(client, iterator, None).await.expect("records")
}

/// One GetRecords from a fresh iterator of `kind` on `shard`.
pub(crate) async fn read(
    client: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
) -> GetRecordsOutput {
    let iterator = iterator(client, stream, shard, kind).await;
    records(client, &iterator).await
}

/// DescribeStreamSummary of `stream`, which must succeed.
pub(crate) async fn summary(client: &Client, stream: &str) -> DescribeStreamSummaryOutput {
    client
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .expect("described")
}

/// The StreamDescriptionSummary of `stream`.
pub(crate) async fn description(client: &Client, stream: &str) -> StreamDescriptionSummary {
    let out = summary(client, stream).await;
    out.stream_description_summary
        .expect("a stream description summary")
}

/// The names ListStreams answers.
pub(crate) async fn stream_names(client: &Client) -> Vec<String> {
    let out = client.list_streams().send().await.expect("listed");
    out.stream_names().to_vec()
}

/// Every record of `shard` from TRIM_HORIZON, oldest first, following NextShardIterator until
/// a read comes back empty.
pub(crate) async fn read_to_tip(client: &Client, stream: &str, shard: &str) -> Vec<Record> {
    let mut iterator = Some(iterator(client, stream, shard, ShardIteratorType::TrimHorizon).await);
    let mut out = Vec::new();
    while let Some(current) = iterator {
        let page = records(client, current).await;
        if page.records().is_empty() {
            break;
        }
        out.extend_from_slice(page.records());
        iterator = page.next_shard_iterator;
    }
    out
}

/// SplitShard of `shard` at `hash_key`, as the SDK answers it.
pub(crate) async fn try_split(
    client: &Client,
    stream: &str,
    shard: &str,
    hash_key: &str,
) -> Answer<SplitShardOutput, SplitShardError> {
    let request = client
        .split_shard()
        .stream_name(stream)
        .shard_to_split(shard);
    request.new_starting_hash_key(hash_key).send().await
}

/// SplitShard of `shard` at `hash_key`, which must succeed.
pub(crate) async fn split(client: &Client, stream: &str, shard: &str, hash_key: &str) {
    try_split(client, stream, shard, hash_key)
        .await
        .expect("split");
}

/// ListShards of `stream`, which must succeed.
pub(crate) async fn list_shards(client: &Client, stream: &str) -> ListShardsOutput {
    let request = client.list_shards().stream_name(stream);
    request.send().await.expect("listed")
}

/// ListTagsForStream of `stream`, which must succeed.
pub(crate) async fn tags(client: &Client, stream: &str) -> ListTagsForStreamOutput {
    let request = client.list_tags_for_stream().stream_name(stream);
    request.send().await.expect("tags")
}

/// IncreaseStreamRetentionPeriod of `stream` to `hours`, as the SDK answers it.
pub(crate) async fn increase_retention(
    client: &Client,
    stream: &str,
    hours: i32,
) -> Answer<IncreaseStreamRetentionPeriodOutput, IncreaseStreamRetentionPeriodError> {
    let request = client
        .increase_stream_retention_period()
        .stream_name(stream);
    request.retention_period_hours(hours).send().await
}

/// AddTagsToStream of `tags` to `stream`, which must succeed.
pub(crate) async fn add_tags(client: &Client, stream: &str, tags: &[(&str, &str)]) {
    let mut request = client.add_tags_to_stream().stream_name(stream);
    for (key, value) in tags {
        request = request.tags(*key, *value);
    }
    request.send().await.expect("tagged");
}

/// DeleteStream of `stream`, which must succeed.
pub(crate) async fn delete(client: &Client, stream: &str) {
    let request = client.delete_stream().stream_name(stream);
    request.send().await.expect("deleted");
}
