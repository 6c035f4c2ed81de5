//! TagQueue, UntagQueue and ListQueueTags.
//!
//! Invariant: a queue never holds more than [`MAX_TAGS_PER_QUEUE`] tags; a request that would
//! exceed it changes nothing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::request::{QueueUrlInput, body_of, invalid, missing};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::error::ApiResult;
use crate::sqs::store::Mutation;

/// Most tags per queue.
pub(crate) const MAX_TAGS_PER_QUEUE: usize = 50;

impl Sqs {
    pub(super) fn tag_queue(&self, input: TagInput, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let tags = input.tags.ok_or_else(|| missing("Tags"))?;
        validate_tags(&tags)?;
        let queue = store.queue(&name)?;
        let added = tags.keys().filter(|k| !queue.tags.contains_key(*k)).count();
        if queue.tags.len() + added > MAX_TAGS_PER_QUEUE {
            return Err(invalid(format!("Too many tags added for queue {name}.")));
        }
        let durable_at = self.commit(&mut store, now, Mutation::Tag { queue: name, tags });
        Ok(Reply::empty(durable_at))
    }

    pub(super) fn untag_queue(&self, input: UntagInput, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let keys = input.tag_keys.ok_or_else(|| missing("TagKeys"))?;
        let durable_at = self.commit(&mut store, now, Mutation::Untag { queue: name, keys });
        Ok(Reply::empty(durable_at))
    }

    pub(super) fn list_queue_tags(&self, input: QueueUrlInput, context: &RequestContext) -> Answer {
        let store = self.lock();
        let name = self.resolve(&store, input.queue_url.as_deref(), context)?;
        let tags = &store.queue(&name)?.tags;
        let body = if tags.is_empty() {
            json!({})
        } else {
            json!({ "Tags": tags })
        };
        Ok(Reply {
            body: body_of(&body),
            durable_at: None,
        })
    }
}

pub(super) fn validate_tags(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    if tags.len() > MAX_TAGS_PER_QUEUE {
        return Err(invalid("Too many tags added for queue."));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(invalid(format!("Tag key or value is invalid: {key}.")));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagInput {
    queue_url: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagInput {
    queue_url: Option<String>,
    tag_keys: Option<Vec<String>>,
}

#[cfg(test)]
mod tests;
