//! Enhanced fan-out consumers as the store keeps them: each stream's registered consumers, their
//! `CREATING` → `ACTIVE` → `DELETING` life, the limit of 20 per stream, and the consumer ARN.
//!
//! Invariants: consumers live inside their [`Stream`], so deleting a stream deletes them; a
//! consumer's ARN carries its creation second, so a consumer registered again under the same
//! name has a new ARN and the old ARN no longer resolves; like every store change, registering
//! and deregistering are [`ConsumerMutation`]s applied through `KinesisStore::apply` and logged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Stream, StreamStatus};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Consumers a stream may have registered at once (AWS's limit; `DELETING` ones count until
/// they are gone).
pub(crate) const MAX_CONSUMERS_PER_STREAM: usize = 20;

/// Lifecycle status of a consumer as AWS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerStatus {
    /// Just registered; cannot subscribe yet.
    Creating,
    /// Can subscribe.
    Active,
    /// Deregistered; disappears once the status delay has passed.
    Deleting,
}

impl ConsumerStatus {
    /// AWS's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Active => "ACTIVE",
            Self::Deleting => "DELETING",
        }
    }
}

/// One registered consumer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consumer {
    /// The name it was registered under.
    pub name: String,
    /// When it was registered (its ARN carries the whole second).
    pub created_ms: Millis,
    /// Tags given at registration.
    pub tags: BTreeMap<String, String>,
    /// `CREATING` until, or `DELETING` until (then gone); `None` when `ACTIVE`.
    pub transient: Option<(ConsumerStatus, Millis)>,
}

impl Consumer {
    /// The status at `now`.
    pub(crate) fn status(&self, now: Millis) -> ConsumerStatus {
        match self.transient {
            Some((ConsumerStatus::Deleting, _)) => ConsumerStatus::Deleting,
            Some((status, until)) if now < until => status,
            _ => ConsumerStatus::Active,
        }
    }

    /// Whether a deregistration has completed by `now`.
    fn gone(&self, now: Millis) -> bool {
        matches!(self.transient, Some((ConsumerStatus::Deleting, until)) if now >= until)
    }

    /// The creation time in whole seconds, as in the ARN.
    pub(crate) fn created_secs(&self) -> u64 {
        self.created_ms / 1000
    }
}

/// The consumers of one stream, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Consumers {
    by_name: BTreeMap<String, Consumer>,
}

impl Consumers {
    /// Drops consumers whose deregistration has completed by `now`.
    pub(crate) fn purge(&mut self, now: Millis) {
        self.by_name.retain(|_, c| !c.gone(now));
    }

    /// The consumers registered at `now`, by name.
    pub(crate) fn iter(&self, now: Millis) -> impl Iterator<Item = &Consumer> {
        self.by_name.values().filter(move |c| !c.gone(now))
    }

    /// How many consumers are registered at `now` (`ConsumerCount`).
    pub(crate) fn count(&self, now: Millis) -> usize {
        self.iter(now).count()
    }

    /// The consumer `name`, if registered at `now`.
    pub(crate) fn get(&self, name: &str, now: Millis) -> Option<&Consumer> {
        self.by_name.get(name).filter(|c| !c.gone(now))
    }

    /// The consumer `name`, if registered at `now`, to change (its tags).
    pub(crate) fn get_mut(&mut self, name: &str, now: Millis) -> Option<&mut Consumer> {
        self.by_name.get_mut(name).filter(|c| !c.gone(now))
    }
}

/// A change to a stream's consumers, with everything needed to replay it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ConsumerMutation {
    /// RegisterStreamConsumer.
    Register {
        /// Stream name.
        stream: String,
        /// Consumer name.
        name: String,
        /// Tags.
        tags: BTreeMap<String, String>,
    },
    /// DeregisterStreamConsumer.
    Deregister {
        /// Stream name.
        stream: String,
        /// Consumer name.
        name: String,
    },
}

/// `ResourceNotFoundException` for a consumer, worded like the emulator's stream errors.
pub(crate) fn consumer_not_found(name: &str, stream: &str, account: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Consumer {name} under stream {stream} under account {account} not found."),
    )
}

/// Applies `mutation` to `stream` at `now`; every check runs before the change.
pub(super) fn apply(
    stream: &mut Stream,
    account: &str,
    now: Millis,
    mutation: ConsumerMutation,
    settings: (Millis, Millis),
) -> ApiResult<()> {
    let (create_delay, delete_delay) = settings;
    stream.consumers.purge(now);
    match mutation {
        ConsumerMutation::Register { name, tags, .. } => {
            match stream.status(now) {
                StreamStatus::Active | StreamStatus::Updating => {}
                other => {
                    return Err(ApiError::in_use(format!(
                        "Stream {} under account {account} not ACTIVE, instead in state {}",
                        stream.name,
                        other.as_str()
                    )));
                }
            }
            if stream.consumers.by_name.contains_key(&name) {
                return Err(ApiError::in_use(format!(
                    "Consumer {name} under stream {} under account {account} already exists.",
                    stream.name
                )));
            }
            if stream.consumers.by_name.len() >= MAX_CONSUMERS_PER_STREAM {
                return Err(ApiError::limit_exceeded(format!(
                    "Stream {} under account {account} already has \
                     {MAX_CONSUMERS_PER_STREAM} registered consumers, the most a stream may have.",
                    stream.name
                )));
            }
            let consumer = Consumer {
                name: name.clone(),
                created_ms: now,
                tags,
                transient: (create_delay > 0)
                    .then_some((ConsumerStatus::Creating, now + create_delay)),
            };
            stream.consumers.by_name.insert(name, consumer);
            Ok(())
        }
        ConsumerMutation::Deregister { name, .. } => {
            let stream_name = stream.name.clone();
            let consumer = stream
                .consumers
                .by_name
                .get_mut(&name)
                .ok_or_else(|| consumer_not_found(&name, &stream_name, account))?;
            if consumer.status(now) == ConsumerStatus::Deleting {
                return Ok(());
            }
            if delete_delay == 0 {
                stream.consumers.by_name.remove(&name);
            } else {
                consumer.transient = Some((ConsumerStatus::Deleting, now + delete_delay));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinesis::store::{KinesisStore, Mutation, StoreSettings, StreamMode};

    fn store(delay: Millis) -> KinesisStore {
        let mut settings = StoreSettings::new("us-east-1", "000000000000");
        settings.create_delay_ms = delay;
        settings.delete_delay_ms = delay;
        let mut store = KinesisStore::new(settings, [1; 16]);
        store.apply(0, create_stream(), 0).unwrap();
        store
    }

    /// CreateStream of the one-shard stream `s` every test uses.
    fn create_stream() -> Mutation {
        Mutation::CreateStream {
            name: "s".into(),
            shard_count: 1,
            mode: StreamMode::Provisioned,
            tags: BTreeMap::new(),
        }
    }

    fn register(name: &str) -> Mutation {
        Mutation::Consumer(ConsumerMutation::Register {
            stream: "s".into(),
            name: name.into(),
            tags: BTreeMap::new(),
        })
    }

    #[test]
    fn a_consumer_is_creating_then_active_then_deleting_then_gone() {
        let mut store = store(500);
        store.apply(1_000, register("c"), 0).unwrap();
        let status = |store: &KinesisStore, now| {
            store.streams["s"]
                .consumers
                .get("c", now)
                .map(|c| c.status(now))
        };
        assert_eq!(status(&store, 1_499), Some(ConsumerStatus::Creating));
        assert_eq!(status(&store, 1_500), Some(ConsumerStatus::Active));
        let deregister = Mutation::Consumer(ConsumerMutation::Deregister {
            stream: "s".into(),
            name: "c".into(),
        });
        store.apply(2_000, deregister, 0).unwrap();
        assert_eq!(status(&store, 2_499), Some(ConsumerStatus::Deleting));
        assert_eq!(status(&store, 2_500), None);
    }

    #[test]
    fn a_stream_takes_twenty_consumers_and_each_name_once() {
        let mut store = store(0);
        for i in 0..MAX_CONSUMERS_PER_STREAM {
            store.apply(1_000, register(&format!("c{i}")), 0).unwrap();
        }
        let err = store.apply(1_000, register("one-more"), 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::LimitExceededException);
        let err = store.apply(1_000, register("c0"), 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::ResourceInUseException);
        assert_eq!(
            err.message,
            "Consumer c0 under stream s under account 000000000000 already exists."
        );
    }

    #[test]
    fn deleting_the_stream_deletes_its_consumers() {
        let mut store = store(0);
        store.apply(1_000, register("c"), 0).unwrap();
        store
            .apply(2_000, Mutation::DeleteStream { name: "s".into() }, 0)
            .unwrap();
        store.apply(3_000, create_stream(), 0).unwrap();
        assert_eq!(store.streams["s"].consumers.count(3_000), 0);
    }
}
