//! CreateQueue, GetQueueUrl, ListQueues, DeleteQueue and PurgeQueue: a queue's life.
//!
//! Invariant: CreateQueue of an existing name changes nothing and answers its URL when every
//! attribute it names has the same value, and `QueueNameExists` otherwise; a deleted name stays
//! unavailable for `QUEUE_DELETED_RECENTLY_MS`, a queue may be purged once per
//! `PURGE_INTERVAL_MS`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::request::{QueueUrlInput, body_of, check_max_results, invalid, missing};
use super::tags::validate_tags;
use super::{Answer, Reply, RequestContext, Sqs};
use crate::error::{ApiError, ErrorCode};
use crate::sqs::Action;
use crate::sqs::attributes::{default_attributes, validate_attributes};
use crate::sqs::store::{Mutation, PURGE_INTERVAL_MS, no_such_queue};

impl Sqs {
    pub(super) fn create_queue(&self, input: CreateQueueInput, context: &RequestContext) -> Answer {
        let name = input.queue_name.ok_or_else(|| missing("QueueName"))?;
        let attributes = input.attributes.unwrap_or_default();
        let declared_fifo = attributes.get("FifoQueue").map(String::as_str);
        let fifo_name = name.ends_with(".fifo");
        let stem = name.strip_suffix(".fifo").unwrap_or(&name);
        let valid_name = !name.is_empty()
            && name.len() <= 80
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !stem.is_empty();
        if !valid_name {
            return Err(invalid(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in \
                 length",
            ));
        }
        match (declared_fifo, fifo_name) {
            (Some("true"), false) => {
                return Err(invalid(
                    "The name of a FIFO queue can only include alphanumeric \
                    characters, hyphens, or underscores, must end with .fifo suffix and be 1 to \
                    80 in length.",
                ));
            }
            (None | Some("false"), true) => {
                return Err(invalid(
                    "The name of a FIFO queue can only include alphanumeric \
                    characters, hyphens, or underscores, must end with .fifo suffix and be 1 to \
                    80 in length. Set the FifoQueue attribute to true to create a FIFO queue.",
                ));
            }
            (Some(other), _) if other != "true" && other != "false" => {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeValue,
                    "Invalid value for the parameter FifoQueue.",
                ));
            }
            _ => {}
        }
        let tags = input.tags.unwrap_or_default();
        validate_tags(&tags)?;
        let (mut store, now) = self.lock_now();
        let validated = validate_attributes(&store, &attributes, fifo_name, true, &name)?;
        if let Some(existing) = store.queues().get(&name) {
            for (key, value) in &validated {
                if attributes.contains_key(key) && existing.attributes.get(key) != Some(value) {
                    return Err(ApiError::new(
                        ErrorCode::QueueNameExists,
                        format!(
                            "A queue already exists with the same name and a different value \
                             for attribute {key}"
                        ),
                    ));
                }
            }
            let url = self.queue_url(&store, context, &name);
            return Ok(Reply {
                body: body_of(&json!({ "QueueUrl": url })),
                durable_at: None,
            });
        }
        if store.deleted_recently(&name, now) {
            return Err(ApiError::new(
                ErrorCode::QueueDeletedRecently,
                "You must wait 60 seconds after deleting a queue before you can create another \
                 with the same name.",
            ));
        }
        let mut full = default_attributes(fifo_name);
        full.extend(validated);
        let mutation = Mutation::CreateQueue {
            name: name.clone(),
            attributes: full,
            tags,
        };
        let durable_at = self.commit(&mut store, now, mutation);
        let url = self.queue_url(&store, context, &name);
        Ok(Reply {
            body: body_of(&json!({ "QueueUrl": url })),
            durable_at,
        })
    }

    pub(super) fn get_queue_url(
        &self,
        input: GetQueueUrlInput,
        context: &RequestContext,
    ) -> Answer {
        let name = input.queue_name.ok_or_else(|| missing("QueueName"))?;
        let store = self.lock();
        if input
            .queue_owner_aws_account_id
            .is_some_and(|a| a != store.settings.account_id)
        {
            return Err(no_such_queue());
        }
        store.queue(&name)?;
        let url = self.queue_url(&store, context, &name);
        Ok(Reply {
            body: body_of(&json!({ "QueueUrl": url })),
            durable_at: None,
        })
    }

    pub(super) fn list_queues(&self, input: ListQueuesInput, context: &RequestContext) -> Answer {
        check_max_results(input.max_results)?;
        let store = self.lock();
        let prefix = input.queue_name_prefix.unwrap_or_default();
        let names = store.queues().keys().filter(|n| n.starts_with(&prefix));
        let paging = (input.max_results, input.next_token.as_deref());
        let (urls, next) = self.page(&store, context, Action::ListQueues, paging, names)?;
        let mut out = Map::new();
        if !urls.is_empty() {
            out.insert("QueueUrls".into(), json!(urls));
        }
        if let Some(token) = next {
            out.insert("NextToken".into(), json!(token));
        }
        Ok(Reply {
            body: body_of(&Value::Object(out)),
            durable_at: None,
        })
    }

    pub(super) fn delete_queue(&self, input: QueueUrlInput, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let durable_at = self.commit(&mut store, now, Mutation::DeleteQueue { name });
        Ok(Reply::empty(durable_at))
    }

    pub(super) fn purge_queue(&self, input: QueueUrlInput, context: &RequestContext) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let queue = store.queue(&name)?;
        if queue
            .last_purge_ms
            .is_some_and(|at| at + PURGE_INTERVAL_MS > now)
        {
            return Err(ApiError::new(
                ErrorCode::PurgeQueueInProgress,
                format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
            ));
        }
        let durable_at = self.commit(&mut store, now, Mutation::Purge { queue: name });
        Ok(Reply::empty(durable_at))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateQueueInput {
    queue_name: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "tags")]
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetQueueUrlInput {
    queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListQueuesInput {
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[cfg(test)]
mod tests;
