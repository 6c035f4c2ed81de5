//! Resources addressed by ARN, as the store keeps what is attached to them: the tags
//! TagResource and UntagResource change on a stream or a consumer, and the resource policies
//! PutResourcePolicy and DeleteResourcePolicy attach (stored, never enforced).
//!
//! Invariants: everything attached to a stream or its consumers lives inside its [`Stream`], so
//! deleting the stream deletes it; a stream's tags are the ones AddTagsToStream and
//! ListTagsForStream see (tagging a stream by ARN is applied as `Mutation::AddTags`); a
//! consumer's policy is keyed by the consumer's name and creation time, so a consumer registered
//! again under the same name starts without the old one's policy; like every store change these
//! are [`ResourceMutation`]s applied through `KinesisStore::apply` and logged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::consumers::{Consumer, consumer_not_found};
use super::{KinesisStore, MAX_TAGS_PER_STREAM, Mutation, Stream};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult};

/// A stream or a consumer of this endpoint, as a resource ARN names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resource {
    /// `arn:…:stream/{stream}`.
    Stream {
        /// Stream name.
        stream: String,
    },
    /// `arn:…:stream/{stream}/consumer/{name}:{created_secs}`.
    Consumer {
        /// Stream name.
        stream: String,
        /// Consumer name.
        name: String,
        /// The creation second in the ARN (must be the registered consumer's).
        created_secs: u64,
    },
}

impl Resource {
    /// The stream the resource is, or belongs to.
    pub(crate) fn stream(&self) -> &str {
        match self {
            Self::Stream { stream } | Self::Consumer { stream, .. } => stream,
        }
    }
}

/// The resource policies attached to a stream and to its consumers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Policies {
    /// The stream's own policy.
    stream: Option<String>,
    /// Consumers' policies by consumer name and creation time.
    consumers: BTreeMap<(String, Millis), String>,
}

/// A change to what is attached to a resource, with everything needed to replay it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ResourceMutation {
    /// TagResource.
    Tag {
        /// The resource.
        resource: Resource,
        /// Tags to add or overwrite.
        tags: BTreeMap<String, String>,
    },
    /// UntagResource.
    Untag {
        /// The resource.
        resource: Resource,
        /// Keys to remove.
        keys: Vec<String>,
    },
    /// PutResourcePolicy.
    PutPolicy {
        /// The resource.
        resource: Resource,
        /// The policy document, as given.
        policy: String,
    },
    /// DeleteResourcePolicy.
    DeletePolicy {
        /// The resource.
        resource: Resource,
    },
}

/// The consumer a resource names, or AWS's not-found error.
fn consumer<'a>(
    stream: &'a mut Stream,
    account: &str,
    name: &str,
    created_secs: u64,
    now: Millis,
) -> ApiResult<&'a mut Consumer> {
    let stream_name = stream.name.clone();
    stream
        .consumers
        .get_mut(name, now)
        .filter(|c| c.created_secs() == created_secs)
        .ok_or_else(|| consumer_not_found(name, &stream_name, account))
}

/// Applies `mutation` at `now`; every check runs before the change.
pub(super) fn apply(
    store: &mut KinesisStore,
    now: Millis,
    mutation: ResourceMutation,
) -> ApiResult<()> {
    match mutation {
        ResourceMutation::Tag {
            resource: Resource::Stream { stream },
            tags,
        } => store
            .apply(now, Mutation::AddTags { stream, tags }, 0)
            .map(drop),
        ResourceMutation::Untag {
            resource: Resource::Stream { stream },
            keys,
        } => store
            .apply(now, Mutation::RemoveTags { stream, keys }, 0)
            .map(drop),
        ResourceMutation::Tag {
            resource:
                Resource::Consumer {
                    stream,
                    name,
                    created_secs,
                },
            tags,
        } => {
            let (stream, account) = store.stream_and_account(&stream, now)?;
            let stream_name = stream.name.clone();
            let consumer = consumer(stream, account, &name, created_secs, now)?;
            let added = tags
                .keys()
                .filter(|k| !consumer.tags.contains_key(*k))
                .count();
            if consumer.tags.len() + added > MAX_TAGS_PER_STREAM {
                return Err(ApiError::invalid_argument(format!(
                    "Failed to add tags to consumer {name} under stream {stream_name} under \
                     account {account} because a given resource cannot have more than \
                     {MAX_TAGS_PER_STREAM} tags associated with it."
                )));
            }
            consumer.tags.extend(tags);
            Ok(())
        }
        ResourceMutation::Untag {
            resource:
                Resource::Consumer {
                    stream,
                    name,
                    created_secs,
                },
            keys,
        } => {
            let (stream, account) = store.stream_and_account(&stream, now)?;
            let consumer = consumer(stream, account, &name, created_secs, now)?;
            for key in keys {
                consumer.tags.remove(&key);
            }
            Ok(())
        }
        ResourceMutation::PutPolicy { resource, policy } => {
            policy_slot(store, &resource, now)?.set(Some(policy));
            Ok(())
        }
        ResourceMutation::DeletePolicy { resource } => {
            policy_slot(store, &resource, now)?.set(None);
            Ok(())
        }
    }
}

/// Where the policy of `resource` is kept (policies of consumers no longer registered are
/// dropped on the way).
fn policy_slot<'a>(
    store: &'a mut KinesisStore,
    resource: &Resource,
    now: Millis,
) -> ApiResult<PolicySlot<'a>> {
    let (stream, account) = store.stream_and_account(resource.stream(), now)?;
    match resource {
        Resource::Stream { .. } => Ok(PolicySlot::Stream(&mut stream.policies.stream)),
        Resource::Consumer {
            name, created_secs, ..
        } => {
            let created_ms = consumer(stream, account, name, *created_secs, now)?.created_ms;
            let registered: Vec<(String, Millis)> = stream
                .consumers
                .iter(now)
                .map(|c| (c.name.clone(), c.created_ms))
                .collect();
            let policies = &mut stream.policies.consumers;
            policies.retain(|key, _| registered.contains(key));
            Ok(PolicySlot::Consumer(policies, (name.clone(), created_ms)))
        }
    }
}

/// A policy's place: the stream's own, or one consumer's entry.
enum PolicySlot<'a> {
    Stream(&'a mut Option<String>),
    Consumer(&'a mut BTreeMap<(String, Millis), String>, (String, Millis)),
}

impl PolicySlot<'_> {
    fn set(self, policy: Option<String>) {
        match (self, policy) {
            (Self::Stream(slot), policy) => *slot = policy,
            (Self::Consumer(map, key), Some(policy)) => {
                map.insert(key, policy);
            }
            (Self::Consumer(map, key), None) => {
                map.remove(&key);
            }
        }
    }
}

/// The tags of `resource` at `now`, or AWS's not-found error.
pub(crate) fn tags<'a>(
    store: &'a mut KinesisStore,
    resource: &Resource,
    now: Millis,
) -> ApiResult<&'a BTreeMap<String, String>> {
    let (stream, account) = store.stream_and_account(resource.stream(), now)?;
    match resource {
        Resource::Stream { .. } => Ok(&stream.tags),
        Resource::Consumer {
            name, created_secs, ..
        } => Ok(&consumer(stream, account, name, *created_secs, now)?.tags),
    }
}

/// The policy attached to `resource` at `now` (`None` if there is none), or AWS's not-found
/// error.
pub(crate) fn policy(
    store: &mut KinesisStore,
    resource: &Resource,
    now: Millis,
) -> ApiResult<Option<String>> {
    let (stream, account) = store.stream_and_account(resource.stream(), now)?;
    match resource {
        Resource::Stream { .. } => Ok(stream.policies.stream.clone()),
        Resource::Consumer {
            name, created_secs, ..
        } => {
            let created_ms = consumer(stream, account, name, *created_secs, now)?.created_ms;
            Ok(stream
                .policies
                .consumers
                .get(&(name.clone(), created_ms))
                .cloned())
        }
    }
}
