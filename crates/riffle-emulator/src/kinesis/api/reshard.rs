//! Resharding requests: SplitShard, MergeShards and UpdateShardCount (the store does the
//! splitting and merging; this validates and answers).

use serde::Deserialize;
use serde_json::json;

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::kinesis::keys::{parse_hash_key, parse_shard_id};
use crate::kinesis::store::Mutation;

impl Kinesis {
    pub(super) fn split_shard(&self, input: SplitShardInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.shard_to_split {
            Some(id) => v.name("shardToSplit", id),
            None => v.missing("shardToSplit"),
        }
        let key = match &input.new_starting_hash_key {
            Some(key) => {
                let parsed = parse_hash_key(key);
                if parsed.is_none() {
                    v.failed(
                        "newStartingHashKey",
                        key,
                        "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                    );
                }
                parsed
            }
            None => {
                v.missing("newStartingHashKey");
                None
            }
        };
        v.finish()?;
        let name = self.require_stream(name)?;
        let shard =
            self.shard_ordinal(&name, input.shard_to_split.as_deref().unwrap_or_default())?;
        self.commit_reply(Mutation::SplitShard {
            stream: name,
            shard,
            new_starting_hash_key: key.unwrap_or_default(),
        })
    }

    /// The ordinal of a shard named in a resharding request, or AWS's not-found error.
    pub(super) fn shard_ordinal(&self, stream: &str, id: &str) -> ApiResult<u32> {
        let account = self.lock().settings.account_id.clone();
        parse_shard_id(id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Could not find shard {id} in stream {stream} under account {account}."),
            )
        })
    }

    pub(super) fn merge_shards(&self, input: MergeShardsInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.shard_to_merge {
            Some(id) => v.name("shardToMerge", id),
            None => v.missing("shardToMerge"),
        }
        match &input.adjacent_shard_to_merge {
            Some(id) => v.name("adjacentShardToMerge", id),
            None => v.missing("adjacentShardToMerge"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let shard =
            self.shard_ordinal(&name, input.shard_to_merge.as_deref().unwrap_or_default())?;
        let adjacent = self.shard_ordinal(
            &name,
            input.adjacent_shard_to_merge.as_deref().unwrap_or_default(),
        )?;
        self.commit_reply(Mutation::MergeShards {
            stream: name,
            shard,
            adjacent,
        })
    }

    pub(super) fn update_shard_count(&self, input: UpdateShardCountInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        match input.target_shard_count {
            Some(n) => v.range("targetShardCount", n, 1, 100_000),
            None => v.missing("targetShardCount"),
        }
        match &input.scaling_type {
            Some(t) => v.one_of("scalingType", t, &["UNIFORM_SCALING"]),
            None => v.missing("scalingType"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let target = input.target_shard_count.unwrap_or_default() as u32;
        let current = store.stream(&name, now)?.open_shards().count();
        let mutation = Mutation::UpdateShardCount {
            stream: name.clone(),
            target,
        };
        let (_, durable_at) = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: to_body(&json!({
                "StreamName": name,
                "StreamARN": store.stream_arn(&name),
                "CurrentShardCount": current,
                "TargetShardCount": target,
            })),
            durable_at,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SplitShardInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_to_split: Option<String>,
    new_starting_hash_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MergeShardsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_to_merge: Option<String>,
    adjacent_shard_to_merge: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateShardCountInput {
    #[serde(flatten)]
    ident: StreamIdent,
    target_shard_count: Option<i64>,
    scaling_type: Option<String>,
}
