//! ListShards: paging through a stream's shards with AWS's shard filters.

use serde::Deserialize;
use serde_json::{Value, json};

use super::request::{StreamIdent, shard_json, to_body};
use super::{Kinesis, Reply};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, Violations};
use crate::kinesis::keys::parse_shard_id;
use crate::kinesis::store::Shard;

impl Kinesis {
    pub(super) fn list_shards(&self, input: ListShardsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        // The checker has refused a malformed MaxResults, ExclusiveStartShardId or ShardFilter.
        v.finish()?;
        let (name, after) = match (&input.next_token, name) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "NextToken and StreamName cannot be provided together.",
                ));
            }
            (Some(token), None) => {
                let (resume, _) = self.open_token(token, "ListShards", now)?;
                let (stream, ordinal) = resume.rsplit_once('/').ok_or_else(|| {
                    ApiError::invalid_argument(format!("Invalid NextToken: {token}"))
                })?;
                (stream.to_owned(), ordinal.parse::<u32>().ok())
            }
            // AWS's recorded wording (kinesalite's listShards.js); it predates StreamARN, and
            // today's AWS is not known to word it otherwise.
            (None, None) => {
                return Err(ApiError::invalid_argument(
                    "Either NextToken or StreamName should be provided.",
                ));
            }
            (None, name) => (
                self.require_stream(name)?,
                input
                    .exclusive_start_shard_id
                    .as_deref()
                    .and_then(parse_shard_id),
            ),
        };
        let filter = input.shard_filter.as_ref();
        let filter_type = filter
            .and_then(|f| f.filter_type.as_deref())
            .unwrap_or("FROM_TRIM_HORIZON");
        let filter_time = filter
            .and_then(|f| f.timestamp)
            .map(|t| (t * 1000.0) as Millis);
        if matches!(filter_type, "AT_TIMESTAMP" | "FROM_TIMESTAMP") && filter_time.is_none() {
            return Err(ApiError::invalid_argument(format!(
                "Timestamp must be specified for ShardFilter type {filter_type}."
            )));
        }
        let filter_shard = match filter_type {
            "AFTER_SHARD_ID" => Some(
                filter
                    .and_then(|f| f.shard_id.as_deref())
                    .and_then(parse_shard_id)
                    .ok_or_else(|| {
                        ApiError::invalid_argument(
                            "ShardId must be specified for ShardFilter type AFTER_SHARD_ID.",
                        )
                    })?,
            ),
            _ => None,
        };
        let stream = store.stream(&name, now)?;
        let live: Vec<&Shard> = stream.live_shards(now).collect();
        let is_live =
            |ordinal: Option<u32>| ordinal.is_some_and(|o| live.iter().any(|s| s.ordinal == o));
        let selected: Vec<&Shard> = live
            .iter()
            .copied()
            .filter(|s| after.is_none_or(|a| s.ordinal > a))
            .filter(|s| match filter_type {
                "AFTER_SHARD_ID" => filter_shard.is_none_or(|f| s.ordinal > f),
                "AT_TRIM_HORIZON" => !is_live(s.parent) && !is_live(s.adjacent_parent),
                "AT_LATEST" => s.is_open(),
                "AT_TIMESTAMP" => {
                    let t = filter_time.unwrap_or(now);
                    (s.created_ms <= t || s.parent.is_none()) && s.closed_ms.is_none_or(|c| c > t)
                }
                "FROM_TIMESTAMP" => s.closed_ms.is_none_or(|c| c > filter_time.unwrap_or(now)),
                _ => true,
            })
            .collect();
        let max = input.max_results.unwrap_or(1000) as usize;
        let has_more = selected.len() > max;
        let page: Vec<Value> = selected
            .iter()
            .take(max)
            .map(|s| shard_json(stream, s))
            .collect();
        let mut out = json!({ "Shards": page });
        if has_more {
            let last = selected[max - 1].ordinal;
            out["NextToken"] = json!(self.seal_token(&format!("{name}/{last}"), "ListShards", now));
        }
        Ok(Reply::now(to_body(&out)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ShardFilter {
    #[serde(rename = "Type")]
    filter_type: Option<String>,
    shard_id: Option<String>,
    timestamp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListShardsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    next_token: Option<String>,
    exclusive_start_shard_id: Option<String>,
    max_results: Option<i64>,
    shard_filter: Option<ShardFilter>,
}
