//! Kinesis operations: decode the JSON body, validate it as AWS does, run it against the store,
//! and encode AWS's response shape. This module owns the service (the store behind its lock, the
//! token sealer, the clock, the optional write-ahead log), the dispatch on [`Action`] and the one
//! commit path; each family of operations lives in its own submodule.
//!
//! Invariants: every member is validated before the store is touched, and every violation of a
//! request is reported at once as AWS's `ValidationException`; state-dependent problems get
//! AWS's specific error types; a mutation is acknowledged only after it is durable (when a data
//! directory is in use); GetRecords never returns a record whose write is not yet durable.

mod account;
mod consumers;
mod put;
mod read;
mod request;
mod reshard;
mod resources;
mod retention;
mod shards;
mod stream_mode;
mod streams;
mod subscribe;
mod tags;

use std::sync::{Arc, Mutex, MutexGuard};

use super::action::Action;
use super::fanout::Hub;
use super::store::{Appended, KinesisStore, Mutation};
use crate::clock::{Clock, Millis};
use crate::error::ApiResult;
use crate::persist::{EntryRef, Wal};
use crate::request::decode;
use crate::seal::Sealer;

pub use put::{MAX_PUT_RECORDS_BYTES, MAX_RECORD_BYTES};
pub use subscribe::EventStream;

/// The Kinesis service of one emulator: the store behind a lock, the token sealer, the clock and
/// the optional write-ahead log.
#[derive(Debug)]
pub struct Kinesis {
    store: Mutex<KinesisStore>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    wal: Option<Arc<Wal>>,
    /// Enhanced fan-out subscriptions and the change signal they wait on.
    fanout: Hub,
}

/// A response body, and the log position that must be durable before it is sent.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

impl Reply {
    fn now(body: Vec<u8>) -> Self {
        Self {
            body,
            durable_at: None,
        }
    }
}

impl Kinesis {
    /// A service over `store`, reading time from `clock`, logging mutations to `wal` if given.
    pub fn new(store: KinesisStore, clock: Arc<dyn Clock>, wal: Option<Arc<Wal>>) -> Self {
        let sealer = Sealer::new(store.token_key);
        Self {
            store: Mutex::new(store),
            sealer,
            clock,
            wal,
            fanout: Hub::default(),
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, KinesisStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `action` on a JSON body; answers once the change it made is durable.
    pub async fn call(&self, action: Action, body: &[u8]) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body)?;
        if let (Some(lsn), Some(wal)) = (reply.durable_at, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(reply.body)
    }

    /// Drops expired records and finished deletions, and performs reshardings whose time came.
    pub fn tick(&self) {
        let now = self.clock.now_millis();
        if self.lock().tick(now) {
            // Shards closed: subscriptions reading them send their ChildShards now.
            self.fanout.changed();
        }
    }

    fn execute(&self, action: Action, body: &[u8]) -> ApiResult<Reply> {
        super::model::check(action.as_str(), body)?;
        match action {
            Action::CreateStream => self.create_stream(decode(body)?),
            Action::DeleteStream => self.delete_stream(decode(body)?),
            Action::DescribeStream => self.describe_stream(decode(body)?),
            Action::DescribeStreamSummary => self.describe_stream_summary(decode(body)?),
            Action::ListStreams => self.list_streams(decode(body)?),
            Action::ListShards => self.list_shards(decode(body)?),
            Action::PutRecord => self.put_record(decode(body)?),
            Action::PutRecords => self.put_records(body),
            Action::GetShardIterator => self.get_shard_iterator(decode(body)?),
            Action::GetRecords => self.get_records(decode(body)?),
            Action::IncreaseStreamRetentionPeriod => self.change_retention(decode(body)?, true),
            Action::DecreaseStreamRetentionPeriod => self.change_retention(decode(body)?, false),
            Action::SplitShard => self.split_shard(decode(body)?),
            Action::MergeShards => self.merge_shards(decode(body)?),
            Action::UpdateShardCount => self.update_shard_count(decode(body)?),
            Action::AddTagsToStream => self.add_tags(decode(body)?),
            Action::RemoveTagsFromStream => self.remove_tags(decode(body)?),
            Action::ListTagsForStream => self.list_tags(decode(body)?),
            Action::DescribeLimits => self.describe_limits(),
            Action::RegisterStreamConsumer => self.register_stream_consumer(decode(body)?),
            Action::DescribeStreamConsumer => self.describe_stream_consumer(decode(body)?),
            Action::ListStreamConsumers => self.list_stream_consumers(decode(body)?),
            Action::DeregisterStreamConsumer => self.deregister_stream_consumer(decode(body)?),
            Action::TagResource => self.tag_resource(decode(body)?),
            Action::UntagResource => self.untag_resource(decode(body)?),
            Action::ListTagsForResource => self.list_tags_for_resource(decode(body)?),
            Action::PutResourcePolicy => self.put_resource_policy(decode(body)?),
            Action::GetResourcePolicy => self.get_resource_policy(decode(body)?),
            Action::DeleteResourcePolicy => self.delete_resource_policy(decode(body)?),
            Action::UpdateStreamMode => self.update_stream_mode(decode(body)?),
            Action::DescribeAccountSettings => self.describe_account_settings(),
            Action::UpdateAccountSettings => self.update_account_settings(decode(body)?),
            Action::SubscribeToShard => Err(crate::error::ApiError::internal(
                "SubscribeToShard answers with an event stream: serve it with subscribe_to_shard",
            )),
        }
    }

    /// The one write path: applies `mutation` and logs it in the same frame it replays from;
    /// the reply must wait for the returned log position. On error nothing changed and nothing
    /// was logged.
    fn commit(
        &self,
        store: &mut KinesisStore,
        now: Millis,
        mutation: Mutation,
    ) -> ApiResult<(Vec<Appended>, Option<u64>)> {
        let Some(wal) = &self.wal else {
            let appended = store.apply(now, mutation, 0)?;
            self.fanout.changed();
            return Ok((appended, None));
        };
        let reservation = wal.reserve();
        let lsn = reservation.lsn();
        // Encoded before the store consumes the mutation; logged only once it applied.
        let frame = reservation.frame(now, EntryRef::Kinesis(&mutation));
        let appended = store.apply(now, mutation, lsn)?;
        reservation.commit(frame);
        self.fanout.changed();
        Ok((appended, Some(lsn)))
    }

    /// Commits `mutation` and answers as AWS does operations without output: an empty body
    /// (not `{}`; kinesalite's AWS recording asserts it).
    fn commit_reply(&self, mutation: Mutation) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let (_, durable_at) = self.commit(&mut store, now, mutation)?;
        Ok(Reply {
            body: Vec::new(),
            durable_at,
        })
    }
}

#[cfg(test)]
mod tests;
