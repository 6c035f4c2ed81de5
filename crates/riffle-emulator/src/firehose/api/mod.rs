//! Firehose operations: check the request against AWS's model, decode it, run it against the
//! store and encode AWS's response shape. This module owns the service (the store behind its
//! lock, the clock, the optional write-ahead log, and the signals the in-process handle waits
//! on), the dispatch on [`Action`] and the one commit path; each family of operations has its
//! own submodule, and `handle` is what the delivery glue reads records through.
//!
//! Invariants: every request is checked and validated before the store is touched; every change
//! is a [`Mutation`] applied and logged in the same step ([`Firehose::commit`]); an answer (and
//! an in-process acknowledge or accept) waits until its change is durable; a record becomes
//! readable in process only once durable; [`Firehose::changes`] moves whenever the set of
//! delivery streams, a configuration or a status changes.

mod describe;
mod handle;
mod put;
mod request;
mod streams;
mod tags;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::action::Action;
use super::store::{FirehoseStore, Mutation, StreamStatus};
use crate::clock::{Clock, Millis};
use crate::error::ApiResult;
use crate::persist::{EntryRef, Wal};
use crate::request::decode;

pub use handle::DeliveryStreamInfo;

/// The Firehose service of one emulator.
#[derive(Debug)]
pub struct Firehose {
    store: Mutex<FirehoseStore>,
    clock: Arc<dyn Clock>,
    wal: Option<Arc<Wal>>,
    /// Bumped when a stream is created, deleted, updated or becomes `ACTIVE`.
    changes: watch::Sender<u64>,
    /// Bumped on every committed mutation (records appended, streams deleted).
    appended: watch::Sender<u64>,
    /// The streams last seen `ACTIVE` (by [`Firehose::tick`]), to notice a status change.
    active: Mutex<BTreeSet<String>>,
}

/// A response body, and the log position that must be durable before it is sent.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

impl Firehose {
    /// A service over `store`, reading time from `clock`, logging mutations to `wal` if given.
    pub fn new(store: FirehoseStore, clock: Arc<dyn Clock>, wal: Option<Arc<Wal>>) -> Self {
        let now = clock.now_millis();
        let active = store
            .streams
            .values()
            .filter(|s| store.status(s, now) == StreamStatus::Active)
            .map(|s| s.name.clone())
            .collect();
        Self {
            store: Mutex::new(store),
            clock,
            wal,
            changes: watch::channel(0).0,
            appended: watch::channel(0).0,
            active: Mutex::new(active),
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, FirehoseStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the store and reads the clock, in that order, so operations see time in the order
    /// they run.
    fn lock_now(&self) -> (MutexGuard<'_, FirehoseStore>, Millis) {
        let store = self.lock();
        (store, self.clock.now_millis())
    }

    /// Runs `action` on a JSON body; answers once the change it made is durable.
    pub async fn call(&self, action: Action, body: &[u8]) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body)?;
        self.durable(reply.durable_at).await?;
        Ok(reply.body)
    }

    /// Notices streams whose `CREATING` time ended (and says so on [`Firehose::changes`]).
    pub fn tick(&self) {
        let (store, now) = self.lock_now();
        let active: BTreeSet<String> = store
            .streams
            .values()
            .filter(|s| store.status(s, now) == StreamStatus::Active)
            .map(|s| s.name.clone())
            .collect();
        drop(store);
        let mut seen = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if *seen != active {
            *seen = active;
            self.changes.send_modify(|n| *n += 1);
        }
    }

    fn execute(&self, action: Action, body: &[u8]) -> ApiResult<Reply> {
        super::model::check(action.as_str(), body)?;
        match action {
            Action::CreateDeliveryStream => self.create_delivery_stream(decode(body)?),
            Action::DescribeDeliveryStream => self.describe_delivery_stream(decode(body)?),
            Action::ListDeliveryStreams => self.list_delivery_streams(decode(body)?),
            Action::DeleteDeliveryStream => self.delete_delivery_stream(decode(body)?),
            Action::PutRecord => self.put_record(decode(body)?),
            Action::PutRecordBatch => self.put_record_batch(decode(body)?),
            Action::UpdateDestination => self.update_destination(decode(body)?),
            Action::TagDeliveryStream => self.tag_delivery_stream(decode(body)?),
            Action::UntagDeliveryStream => self.untag_delivery_stream(decode(body)?),
            Action::ListTagsForDeliveryStream => self.list_tags(decode(body)?),
        }
    }

    /// The one write path: applies `mutation` and logs it in the same frame it replays from;
    /// returns the log position to wait for. On error nothing changed and nothing was logged.
    fn commit(
        &self,
        store: &mut FirehoseStore,
        now: Millis,
        mutation: Mutation,
    ) -> ApiResult<Option<u64>> {
        let reshapes = !matches!(
            mutation,
            Mutation::Append { .. }
                | Mutation::Acknowledge { .. }
                | Mutation::Tag { .. }
                | Mutation::Untag { .. }
        );
        let lsn = match &self.wal {
            None => {
                store.apply(now, mutation, 0)?;
                None
            }
            Some(wal) => {
                let reservation = wal.reserve();
                let lsn = reservation.lsn();
                let frame = reservation.frame(now, EntryRef::Firehose(&mutation));
                store.apply(now, mutation, lsn)?;
                reservation.commit(frame);
                Some(lsn)
            }
        };
        if reshapes {
            let active = store
                .streams
                .values()
                .filter(|s| store.status(s, now) == StreamStatus::Active)
                .map(|s| s.name.clone())
                .collect();
            *self.active.lock().unwrap_or_else(|p| p.into_inner()) = active;
            self.changes.send_modify(|n| *n += 1);
        }
        self.appended.send_modify(|n| *n += 1);
        Ok(lsn)
    }

    /// Commits `mutation` under the lock and answers `body` once it is durable.
    fn commit_reply(&self, mutation: Mutation, body: Vec<u8>) -> ApiResult<Reply> {
        let (mut store, now) = self.lock_now();
        let durable_at = self.commit(&mut store, now, mutation)?;
        Ok(Reply { body, durable_at })
    }

    /// Waits until the log position `lsn` (if any) is on disk.
    async fn durable(&self, lsn: Option<u64>) -> ApiResult<()> {
        if let (Some(lsn), Some(wal)) = (lsn, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(())
    }
}
