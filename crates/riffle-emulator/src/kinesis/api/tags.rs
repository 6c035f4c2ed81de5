//! AddTagsToStream, RemoveTagsFromStream and ListTagsForStream (the model-driven checker has
//! already refused a missing or malformed member; the store checks tag characters and limits).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::request::{StreamIdent, to_body};
use super::{Kinesis, Reply};
use crate::error::ApiResult;
use crate::kinesis::store::Mutation;

impl Kinesis {
    pub(super) fn add_tags(&self, input: AddTagsInput) -> ApiResult<Reply> {
        let name = self.named_stream(&self.lock(), &input.ident)?;
        self.commit_reply(Mutation::AddTags {
            stream: name,
            tags: input.tags,
        })
    }

    pub(super) fn remove_tags(&self, input: RemoveTagsInput) -> ApiResult<Reply> {
        let name = self.named_stream(&self.lock(), &input.ident)?;
        self.commit_reply(Mutation::RemoveTags {
            stream: name,
            keys: input.tag_keys,
        })
    }

    pub(super) fn list_tags(&self, input: ListTagsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let name = self.named_stream(&store, &input.ident)?;
        let stream = store.stream(&name, now)?;
        let limit = input.limit.unwrap_or(50) as usize;
        let tags: Vec<(&String, &String)> = stream
            .tags
            .iter()
            .filter(|(k, _)| {
                input
                    .exclusive_start_tag_key
                    .as_ref()
                    .is_none_or(|s| *k > s)
            })
            .collect();
        let has_more = tags.len() > limit;
        let tags: Vec<Value> = tags
            .into_iter()
            .take(limit)
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        Ok(Reply::now(to_body(
            &json!({ "Tags": tags, "HasMoreTags": has_more }),
        )))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AddTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RemoveTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    tag_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    exclusive_start_tag_key: Option<String>,
    limit: Option<i64>,
}
