//! TagDeliveryStream, UntagDeliveryStream and ListTagsForDeliveryStream.
//!
//! Invariant: a stream carries at most 50 tags (the store refuses more, changing none); tags are
//! listed in key order, paged after `ExclusiveStartTagKey`.

use std::collections::BTreeMap;

use serde_json::json;

use super::request::{ListTagsInput, TagInput, UntagInput, to_body};
use super::{Firehose, Reply};
use crate::error::ApiResult;
use crate::firehose::store::{MAX_TAGS, Mutation};

impl Firehose {
    pub(super) fn tag_delivery_stream(&self, input: TagInput) -> ApiResult<Reply> {
        let tags: BTreeMap<String, String> = input
            .tags
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect();
        let mutation = Mutation::Tag {
            name: input.delivery_stream_name,
            tags,
        };
        self.commit_reply(mutation, b"{}".to_vec())
    }

    pub(super) fn untag_delivery_stream(&self, input: UntagInput) -> ApiResult<Reply> {
        let mutation = Mutation::Untag {
            name: input.delivery_stream_name,
            keys: input.tag_keys,
        };
        self.commit_reply(mutation, b"{}".to_vec())
    }

    pub(super) fn list_tags(&self, input: ListTagsInput) -> ApiResult<Reply> {
        let store = self.lock();
        let stream = store.stream(&input.delivery_stream_name)?;
        let limit = input.limit.unwrap_or(MAX_TAGS);
        let after = input.exclusive_start_tag_key;
        let tags: Vec<(&String, &String)> = stream
            .tags
            .iter()
            .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
            .collect();
        let more = tags.len() > limit;
        let page: Vec<_> = tags
            .into_iter()
            .take(limit)
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        Ok(Reply {
            body: to_body(&json!({ "Tags": page, "HasMoreTags": more })),
            durable_at: None,
        })
    }
}
