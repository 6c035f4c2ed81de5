//! What the Kinesis operations share: decoding a request body, resolving the stream a request
//! names (by name or ARN), sealing pagination tokens, and writing shards as JSON.
//!
//! Invariant: a stream ARN of another region or account resolves to a stream this endpoint does
//! not hold (AWS's not-found error), never to a local stream of the same name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Kinesis;
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::kinesis::keys::shard_id;
use crate::kinesis::store::{ITERATOR_LIFETIME_MS, KinesisStore, Shard, Stream, not_found};

pub(super) fn to_body(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

pub(super) fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// Identifies a stream by name or ARN.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StreamIdent {
    #[serde(rename = "StreamName")]
    pub(super) name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub(super) arn: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StreamOnly {
    #[serde(flatten)]
    pub(super) ident: StreamIdent,
}

impl Kinesis {
    /// Resolves a stream identifier the model-driven checker has validated (lengths and
    /// patterns of `StreamName` and `StreamARN`) to the stream name; what the checker cannot
    /// see is reported in `v`: an ARN that matches AWS's pattern but is not one this endpoint
    /// can take apart (such as one with extra `:` parts), and a `StreamName` that is not the
    /// stream of the `StreamARN` given with it.
    pub(super) fn stream_name(
        &self,
        store: &KinesisStore,
        ident: &StreamIdent,
        v: &mut Violations,
    ) -> Option<String> {
        match (&ident.name, &ident.arn) {
            (Some(name), None) => Some(name.clone()),
            (_, Some(arn)) => {
                let parsed = parse_stream_arn(arn);
                if parsed.is_none() {
                    v.failed(
                        "streamARN",
                        arn,
                        "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
                    );
                }
                let (region, account, name) = parsed?;
                if ident.name.as_deref().is_some_and(|n| n != name) {
                    v.failed(
                        "streamName",
                        ident.name.as_deref()?,
                        "match the stream in StreamARN",
                    );
                }
                if region != store.settings.region || account != store.settings.account_id {
                    // An ARN of another account or region names a stream this endpoint does
                    // not hold.
                    return Some(format!("{name}\u{0}{account}"));
                }
                Some(name.to_owned())
            }
            (None, None) => None,
        }
    }

    /// Resolves the stream a request names, after validation passed.
    pub(super) fn require_stream(&self, name: Option<String>) -> ApiResult<String> {
        let name = name.ok_or_else(|| {
            ApiError::invalid_argument("Either StreamName or StreamARN should be provided.")
        })?;
        match name.split_once('\u{0}') {
            Some((name, account)) => Err(not_found(name, account)),
            None => Ok(name),
        }
    }

    /// The stream a request names, for a request with no other member to check first: its
    /// identifier resolved ([`Self::stream_name`]), any violation answered, then
    /// [`Self::require_stream`].
    pub(super) fn named_stream(
        &self,
        store: &KinesisStore,
        ident: &StreamIdent,
    ) -> ApiResult<String> {
        let mut v = Violations::default();
        let name = self.stream_name(store, ident, &mut v);
        v.finish()?;
        self.require_stream(name)
    }

    /// Seals a pagination token: what to resume after, for which operation, issued when.
    pub(super) fn seal_token(&self, resume_after: &str, operation: &str, now: Millis) -> String {
        let payload = serde_json::to_vec(&(resume_after, operation, now)).unwrap_or_default();
        self.sealer.seal(&payload)
    }

    pub(super) fn open_token(
        &self,
        token: &str,
        operation: &str,
        now: Millis,
    ) -> ApiResult<(String, Millis)> {
        let invalid = || ApiError::invalid_argument(format!("Invalid NextToken: {token}"));
        let payload = self.sealer.open(token).ok_or_else(invalid)?;
        let (resume_after, op, issued): (String, String, Millis) =
            serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if op != operation {
            return Err(invalid());
        }
        if now.saturating_sub(issued) > ITERATOR_LIFETIME_MS {
            return Err(ApiError::new(
                ErrorCode::ExpiredNextTokenException,
                format!("The NextToken has expired: {token}"),
            ));
        }
        Ok((resume_after, issued))
    }
}

/// Splits `arn:aws…:kinesis:<region>:<account>:<resource>` into its region, account and
/// resource (after the fifth `:`), if its fixed parts and 12-digit account are AWS's.
pub(super) fn split_kinesis_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (literal, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = literal == "arn"
        && partition.starts_with("aws")
        && service == "kinesis"
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    valid.then_some((region, account, resource))
}

/// Whether an ARN's stream name is one AWS's ARN patterns admit (`stream/\S+`).
pub(super) fn valid_arn_stream_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace)
}

/// Parses `arn:aws:kinesis:<region>:<account>:stream/<name>` into its parts.
fn parse_stream_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let (region, account, resource) = split_kinesis_arn(arn)?;
    let name = resource.strip_prefix("stream/")?;
    valid_arn_stream_name(name).then_some((region, account, name))
}

pub(super) fn validate_tags(
    v: &mut Violations,
    tags: Option<&BTreeMap<String, String>>,
    max: usize,
) {
    let Some(tags) = tags else { return };
    if tags.is_empty() || tags.len() > max {
        v.failed(
            "tags",
            format!("[{} tags]", tags.len()),
            &format!("have between 1 and {max} entries"),
        );
    }
    for (key, value) in tags {
        v.length("tags.key", key, 1, 128);
        v.length("tags.value", value, 0, 256);
    }
}

pub(super) fn hash_range_json(shard: &Shard) -> Value {
    json!({
        "StartingHashKey": shard.starting_hash_key.to_string(),
        "EndingHashKey": shard.ending_hash_key.to_string(),
    })
}

pub(super) fn shard_json(stream: &Stream, shard: &Shard) -> Value {
    let (start, end) = stream.sequence_range(shard.ordinal);
    let mut range = json!({ "StartingSequenceNumber": start });
    if let Some(end) = end {
        range["EndingSequenceNumber"] = json!(end);
    }
    let mut out = json!({
        "ShardId": shard.id(),
        "HashKeyRange": hash_range_json(shard),
        "SequenceNumberRange": range,
    });
    if let Some(parent) = shard.parent {
        out["ParentShardId"] = json!(shard_id(parent));
    }
    if let Some(adjacent) = shard.adjacent_parent {
        out["AdjacentParentShardId"] = json!(shard_id(adjacent));
    }
    out
}
