//! GetQueueAttributes and SetQueueAttributes: a queue's settings and message counts.
//!
//! Invariant: a read answers every settable attribute it holds (defaults filled in at creation)
//! plus the computed ones as of `now`; a write validates every attribute before it changes any.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, json};

use super::request::{body_of, missing, secs};
use super::{Answer, Reply, RequestContext, Sqs};
use crate::error::{ApiError, ErrorCode};
use crate::sqs::attributes::{is_known_attribute, validate_attributes};
use crate::sqs::store::Mutation;

impl Sqs {
    pub(super) fn get_queue_attributes(
        &self,
        input: GetQueueAttributesInput,
        context: &RequestContext,
    ) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let arn = store.queue_arn(&name);
        let queue = store.queue_at(&name, now)?;
        let requested = input.attribute_names.unwrap_or_default();
        let all = requested.iter().any(|n| n == "All");
        let (visible, in_flight, delayed) = queue.counts(now);
        let mut values: BTreeMap<String, String> = queue.attributes.clone();
        values.insert("QueueArn".into(), arn);
        values.insert("ApproximateNumberOfMessages".into(), visible.to_string());
        values.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            in_flight.to_string(),
        );
        values.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            delayed.to_string(),
        );
        values.insert("CreatedTimestamp".into(), secs(queue.created_ms));
        values.insert("LastModifiedTimestamp".into(), secs(queue.modified_ms));
        let mut out = Map::new();
        for requested_name in &requested {
            if requested_name == "All" {
                continue;
            }
            if !is_known_attribute(requested_name) {
                return Err(ApiError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {requested_name}."),
                ));
            }
        }
        for (key, value) in values {
            if all || requested.contains(&key) {
                out.insert(key, json!(value));
            }
        }
        let body = if out.is_empty() {
            json!({})
        } else {
            json!({ "Attributes": out })
        };
        Ok(Reply {
            body: body_of(&body),
            durable_at: None,
        })
    }

    pub(super) fn set_queue_attributes(
        &self,
        input: SetQueueAttributesInput,
        context: &RequestContext,
    ) -> Answer {
        let (mut store, now, name) = self.lock_queue(input.queue_url.as_deref(), context)?;
        let attributes = input.attributes.ok_or_else(|| missing("Attributes"))?;
        let fifo = store.queue(&name)?.fifo();
        let validated = validate_attributes(&store, &attributes, fifo, false, &name)?;
        let mutation = Mutation::SetAttributes {
            queue: name,
            attributes: validated,
        };
        let durable_at = self.commit(&mut store, now, mutation);
        Ok(Reply::empty(durable_at))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetQueueAttributesInput {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SetQueueAttributesInput {
    queue_url: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
}

#[cfg(test)]
mod tests;
