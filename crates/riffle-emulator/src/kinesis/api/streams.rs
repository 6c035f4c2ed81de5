//! Stream lifecycle and description: CreateStream, DeleteStream, DescribeStream,
//! DescribeStreamSummary, ListStreams and DescribeLimits.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::request::{StreamIdent, StreamOnly, seconds, shard_json, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult};
use crate::kinesis::keys::parse_shard_id;
use crate::kinesis::store::{Mutation, Shard, Stream, StreamMode, StreamStatus};

impl Kinesis {
    pub(super) fn create_stream(&self, input: CreateStreamInput) -> ApiResult<Reply> {
        // The model-driven checker has already refused a missing or malformed member.
        let mode = input.stream_mode_details.map(|d| d.stream_mode);
        let mode = match mode.as_deref() {
            Some("ON_DEMAND") => StreamMode::OnDemand,
            _ => StreamMode::Provisioned,
        };
        let shard_count = match (mode, input.shard_count) {
            (StreamMode::Provisioned, Some(count)) => count as u32,
            (StreamMode::Provisioned, None) => {
                return Err(ApiError::invalid_argument(
                    "ShardCount is required for a stream in PROVISIONED mode.",
                ));
            }
            (StreamMode::OnDemand, None) => 4,
            (StreamMode::OnDemand, Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "ShardCount must not be specified for a stream in ON_DEMAND mode.",
                ));
            }
        };
        self.commit_reply(Mutation::CreateStream {
            name: input.stream_name,
            shard_count,
            mode,
            tags: input.tags.unwrap_or_default(),
        })
    }

    pub(super) fn delete_stream(
        &self,
        input: super::consumers::DeleteStreamInput,
    ) -> ApiResult<Reply> {
        let name = self.named_stream(&self.lock(), &input.ident)?;
        self.delete_stream_and_consumers(name, input.enforce_consumer_deletion == Some(true))
    }

    pub(super) fn describe_stream(&self, input: DescribeStreamInput) -> ApiResult<Reply> {
        let after = input
            .exclusive_start_shard_id
            .as_deref()
            .and_then(parse_shard_id);
        let limit = input.limit.unwrap_or(100) as usize;
        self.describe(
            &input.ident,
            "StreamDescription",
            |stream, now, description| {
                // A stream being created or deleted shows no shards, as AWS's recorded answers do
                // (kinesalite's createStream.js and deleteStream.js, functionality).
                let settled = !matches!(
                    stream.status(now),
                    StreamStatus::Creating | StreamStatus::Deleting
                );
                let shards: Vec<&Shard> = stream
                    .live_shards(now)
                    .filter(|s| settled && after.is_none_or(|a| s.ordinal > a))
                    .collect();
                description["HasMoreShards"] = json!(shards.len() > limit);
                let shards: Vec<Value> = shards
                    .into_iter()
                    .take(limit)
                    .map(|s| shard_json(stream, s))
                    .collect();
                description["Shards"] = json!(shards);
            },
        )
    }

    pub(super) fn describe_stream_summary(&self, input: StreamOnly) -> ApiResult<Reply> {
        self.describe(
            &input.ident,
            "StreamDescriptionSummary",
            |stream, now, summary| {
                summary["OpenShardCount"] = json!(stream.open_shards().count());
                summary["ConsumerCount"] = json!(stream.consumers.count(now));
            },
        )
    }

    /// Answers `{key: description}` for the stream `ident` names: the fields DescribeStream
    /// and DescribeStreamSummary share, and those `complete` adds (at the time read under the
    /// store's lock).
    fn describe(
        &self,
        ident: &StreamIdent,
        key: &str,
        complete: impl FnOnce(&Stream, Millis, &mut Value),
    ) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let name = self.named_stream(&store, ident)?;
        let arn = store.stream_arn(&name);
        let stream = store.stream(&name, now)?;
        let mut description = json!({
            "StreamName": stream.name,
            "StreamARN": arn,
            "StreamStatus": stream.status(now).as_str(),
            "StreamModeDetails": { "StreamMode": stream.mode.as_str() },
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": seconds(stream.created_ms),
            "EnhancedMonitoring": [{ "ShardLevelMetrics": [] }],
            "EncryptionType": "NONE",
        });
        complete(stream, now, &mut description);
        Ok(Reply::now(to_body(&json!({ key: description }))))
    }

    pub(super) fn list_streams(&self, input: ListStreamsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let after = match &input.next_token {
            Some(token) => Some(self.open_token(token, "ListStreams", now)?.0),
            None => input.exclusive_start_stream_name.clone(),
        };
        let mut store = self.lock();
        store.tick(now);
        let limit = input.limit.unwrap_or(100) as usize;
        let names: Vec<&String> = store
            .streams
            .keys()
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let has_more = names.len() > limit;
        let page: Vec<&String> = names.into_iter().take(limit).collect();
        let summaries: Vec<Value> = page
            .iter()
            .map(|name| {
                let stream = &store.streams[*name];
                json!({
                    "StreamName": name,
                    "StreamARN": store.stream_arn(name),
                    "StreamStatus": stream.status(now).as_str(),
                    "StreamModeDetails": { "StreamMode": stream.mode.as_str() },
                    "StreamCreationTimestamp": seconds(stream.created_ms),
                })
            })
            .collect();
        let mut out = json!({
            "StreamNames": page,
            "HasMoreStreams": has_more,
            "StreamSummaries": summaries,
        });
        if let Some(last) = page.last().filter(|_| has_more) {
            out["NextToken"] = json!(self.seal_token(last, "ListStreams", now));
        }
        Ok(Reply::now(to_body(&out)))
    }

    pub(super) fn describe_limits(&self) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        store.tick(now);
        let on_demand = store
            .streams
            .values()
            .filter(|s| s.mode == StreamMode::OnDemand)
            .count();
        Ok(Reply::now(to_body(&json!({
            "ShardLimit": store.settings.shard_limit,
            "OpenShardCount": store.open_shard_count(),
            "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": store.settings.on_demand_stream_limit,
        }))))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StreamModeDetails {
    stream_mode: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateStreamInput {
    stream_name: String,
    shard_count: Option<i64>,
    stream_mode_details: Option<StreamModeDetails>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DescribeStreamInput {
    #[serde(flatten)]
    ident: StreamIdent,
    limit: Option<i64>,
    exclusive_start_shard_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListStreamsInput {
    limit: Option<i64>,
    exclusive_start_stream_name: Option<String>,
    next_token: Option<String>,
}
