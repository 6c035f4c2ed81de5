//! Resharding requests: SplitShard, MergeShards and UpdateShardCount (the store does the
//! splitting and merging; this validates and answers).

use serde::Deserialize;
use serde_json::json;

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::keys::{MAX_HASH_KEY, parse_hash_key, parse_shard_id};
use crate::kinesis::store::Mutation;

impl Kinesis {
    pub(super) fn split_shard(&self, input: SplitShardInput) -> ApiResult<Reply> {
        // The model-driven checker has already refused a missing or malformed member.
        let name = self.named_stream(&self.lock(), &input.ident)?;
        let shard = self.shard_ordinal(&name, &input.shard_to_split)?;
        // The model's pattern `0|([1-9]\d{0,38})` admits 39-digit keys above 2^128 - 1. AWS's
        // recorded answer (kinesalite's splitShard.js, "hash much too big") refuses such a key
        // as outside the shard's range, naming it as given; today's AWS is not known to differ.
        // 2^128 - 1 is itself outside every shard's open range, so it stands in for them.
        let given = &input.new_starting_hash_key;
        let key = parse_hash_key(given);
        self.commit_reply(Mutation::SplitShard {
            stream: name,
            shard,
            new_starting_hash_key: key.unwrap_or(MAX_HASH_KEY),
        })
        .map_err(|mut e| {
            if key.is_none() {
                let shown = format!("NewStartingHashKey {MAX_HASH_KEY} ");
                e.message = e
                    .message
                    .replacen(&shown, &format!("NewStartingHashKey {given} "), 1);
            }
            e
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
        // The model-driven checker has already refused a missing or malformed member.
        let name = self.named_stream(&self.lock(), &input.ident)?;
        let shard = self.shard_ordinal(&name, &input.shard_to_merge)?;
        let adjacent = self.shard_ordinal(&name, &input.adjacent_shard_to_merge)?;
        self.commit_reply(Mutation::MergeShards {
            stream: name,
            shard,
            adjacent,
        })
    }

    pub(super) fn update_shard_count(&self, input: UpdateShardCountInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let name = self.named_stream(&store, &input.ident)?;
        // The checker has refused a count outside 1-100000 and any scaling type but
        // UNIFORM_SCALING, the only one.
        let target = input.target_shard_count as u32;
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
    shard_to_split: String,
    new_starting_hash_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MergeShardsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_to_merge: String,
    adjacent_shard_to_merge: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateShardCountInput {
    #[serde(flatten)]
    ident: StreamIdent,
    target_shard_count: i64,
}
