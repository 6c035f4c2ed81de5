//! Operations on a resource named by ARN (a stream or a consumer): TagResource, UntagResource,
//! ListTagsForResource, PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy.
//!
//! Invariants: `ResourceARN` is validated against AWS's pattern with the other members, all
//! violations at once; an ARN of another region or account, or of a consumer whose creation
//! second is not the registered one's, names a resource this endpoint does not hold
//! (`ResourceNotFoundException`); a policy is stored as given once it parses as JSON and is
//! never enforced.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::consumers::ConsumerArn;
use super::request::{split_kinesis_arn, to_body, valid_arn_stream_name, validate_tags};
use super::{Kinesis, Reply};
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::kinesis::store::{
    KinesisStore, Mutation, Resource, ResourceMutation, consumer_not_found, not_found,
    resource_policy, resource_tags,
};

const RESOURCE_ARN_PATTERN: &str =
    "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";

/// Parses a `ResourceARN` into its region, account and resource part (after the fifth `:`), if
/// it matches AWS's pattern.
fn parse_resource_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let (region, account, resource) = split_kinesis_arn(arn)?;
    let (_, name) = resource.split_once("stream/")?;
    valid_arn_stream_name(name).then_some((region, account, resource))
}

impl Kinesis {
    /// Validates `ResourceARN`; the resource it names, or the error to answer once every
    /// member is valid (not found, or — if `ResourceARN` was invalid — never reached, as the
    /// violation is answered first).
    fn resource(
        &self,
        store: &KinesisStore,
        arn: Option<&String>,
        v: &mut Violations,
    ) -> ApiResult<Resource> {
        let invalid = || ApiError::internal("ResourceARN failed validation");
        let Some(arn) = arn else {
            v.missing("resourceARN");
            return Err(invalid());
        };
        let before = v.len();
        v.length("resourceARN", arn, 1, 2048);
        let Some((region, account, path)) = parse_resource_arn(arn) else {
            if v.len() == before {
                v.failed("resourceARN", arn, RESOURCE_ARN_PATTERN);
            }
            return Err(invalid());
        };
        let here = region == store.settings.region && account == store.settings.account_id;
        if let Some(consumer) = ConsumerArn::parse(arn) {
            return if here {
                Ok(Resource::Consumer {
                    stream: consumer.stream,
                    name: consumer.name,
                    created_secs: consumer.created_secs,
                })
            } else {
                Err(consumer_not_found(
                    &consumer.name,
                    &consumer.stream,
                    &consumer.account,
                ))
            };
        }
        match path.strip_prefix("stream/") {
            Some(stream) if here && !stream.contains('/') => Ok(Resource::Stream {
                stream: stream.to_owned(),
            }),
            Some(stream) if !stream.contains('/') => Err(not_found(stream, account)),
            _ => Err(ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Resource {arn} under account {account} not found."),
            )),
        }
    }

    /// The resource of a request that has no member but `ResourceARN`.
    fn only_resource(&self, store: &KinesisStore, input: &ResourceOnly) -> ApiResult<Resource> {
        let mut v = Violations::default();
        let resource = self.resource(store, input.resource_arn.as_ref(), &mut v);
        v.finish()?;
        resource
    }

    pub(super) fn tag_resource(&self, input: TagResourceInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let resource = self.resource(&self.lock(), input.resource_arn.as_ref(), &mut v);
        match &input.tags {
            Some(_) => validate_tags(&mut v, input.tags.as_ref(), 200),
            None => v.missing("tags"),
        }
        v.finish()?;
        let resource = resource?;
        self.commit_reply(Mutation::Resource(ResourceMutation::Tag {
            resource,
            tags: input.tags.unwrap_or_default(),
        }))
    }

    pub(super) fn untag_resource(&self, input: UntagResourceInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let resource = self.resource(&self.lock(), input.resource_arn.as_ref(), &mut v);
        match &input.tag_keys {
            Some(keys) if keys.is_empty() || keys.len() > 50 => v.failed(
                "tagKeys",
                format!("[{} keys]", keys.len()),
                "have length between 1 and 50",
            ),
            Some(keys) => {
                for (i, key) in keys.iter().enumerate() {
                    v.length(&format!("tagKeys.{}.member", i + 1), key, 1, 128);
                }
            }
            None => v.missing("tagKeys"),
        }
        v.finish()?;
        let resource = resource?;
        self.commit_reply(Mutation::Resource(ResourceMutation::Untag {
            resource,
            keys: input.tag_keys.unwrap_or_default(),
        }))
    }

    pub(super) fn list_tags_for_resource(&self, input: ResourceOnly) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let resource = self.only_resource(&store, &input)?;
        let tags: Vec<Value> = resource_tags(&mut store, &resource, now)?
            .iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        Ok(Reply::now(to_body(&json!({ "Tags": tags }))))
    }

    pub(super) fn put_resource_policy(&self, input: PutPolicyInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let resource = self.resource(&self.lock(), input.resource_arn.as_ref(), &mut v);
        if input.policy.is_none() {
            v.missing("policy");
        }
        v.finish()?;
        let resource = resource?;
        let policy = input.policy.unwrap_or_default();
        if !serde_json::from_str::<Value>(&policy).is_ok_and(|p| p.is_object()) {
            return Err(ApiError::invalid_argument(
                "Policy document is not a valid JSON object.",
            ));
        }
        self.commit_reply(Mutation::Resource(ResourceMutation::PutPolicy {
            resource,
            policy,
        }))
    }

    pub(super) fn get_resource_policy(&self, input: ResourceOnly) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let resource = self.only_resource(&store, &input)?;
        // A resource without a policy answers an empty policy document, as AWS does.
        let policy = resource_policy(&mut store, &resource, now)?.unwrap_or_else(|| "{}".into());
        Ok(Reply::now(to_body(&json!({ "Policy": policy }))))
    }

    pub(super) fn delete_resource_policy(&self, input: ResourceOnly) -> ApiResult<Reply> {
        let resource = self.only_resource(&self.lock(), &input)?;
        self.commit_reply(Mutation::Resource(ResourceMutation::DeletePolicy {
            resource,
        }))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PutPolicyInput {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    policy: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ResourceOnly {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
}
