//! DynamoDB operations: check the request against AWS's model, decode it, validate it as
//! DynamoDB does, run it against the store and encode DynamoDB's response shape. This module
//! owns the service (the store behind its lock, the clock, the optional write-ahead log), the
//! dispatch on [`Action`] and the one commit path; each family of operations has its own
//! submodule.
//!
//! Invariants: every request is checked and validated before the store is touched; every change
//! is a [`Mutation`] applied and logged in the same step ([`DynamoDb::commit`]); an answer waits
//! until its change is durable.

mod describe;
mod items;
mod request;
mod tables;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use super::action::Action;
use super::store::{DynamoStore, Mutation};
use crate::clock::{Clock, Millis};
use crate::error::ApiResult;
use crate::persist::{EntryRef, Wal};
use crate::request::decode;

/// The DynamoDB service of one emulator.
#[derive(Debug)]
pub struct DynamoDb {
    store: Mutex<DynamoStore>,
    clock: Arc<dyn Clock>,
    wal: Option<Arc<Wal>>,
}

/// A response body, and the log position that must be durable before it is sent.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

impl Reply {
    /// An answer that changed nothing.
    fn read(body: Vec<u8>) -> Self {
        Self {
            body,
            durable_at: None,
        }
    }
}

impl DynamoDb {
    /// A service over `store`, reading time from `clock`, logging mutations to `wal` if given.
    pub fn new(store: DynamoStore, clock: Arc<dyn Clock>, wal: Option<Arc<Wal>>) -> Self {
        Self {
            store: Mutex::new(store),
            clock,
            wal,
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, DynamoStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the store and reads the clock, in that order, so operations see time in the order
    /// they run.
    fn lock_now(&self) -> (MutexGuard<'_, DynamoStore>, Millis) {
        let store = self.lock();
        (store, self.clock.now_millis())
    }

    /// Runs `action` on a JSON body; answers once the change it made is durable.
    pub async fn call(&self, action: Action, body: &[u8]) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body)?;
        if let (Some(lsn), Some(wal)) = (reply.durable_at, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(reply.body)
    }

    fn execute(&self, action: Action, body: &[u8]) -> ApiResult<Reply> {
        super::model::check(action.as_str(), body)?;
        match action {
            Action::CreateTable => self.create_table(decode(body)?),
            Action::DescribeTable => self.describe_table(decode(body)?),
            Action::ListTables => self.list_tables(decode(body)?),
            Action::DeleteTable => self.delete_table(decode(body)?),
            Action::PutItem => self.put_item(decode(body)?),
            Action::GetItem => self.get_item(decode(body)?),
            Action::DeleteItem => self.delete_item(decode(body)?),
        }
    }

    /// The one write path: applies `mutation` and logs it in the same frame it replays from;
    /// returns the log position to wait for. On error nothing changed and nothing was logged.
    fn commit(
        &self,
        store: &mut DynamoStore,
        now: Millis,
        mutation: Mutation,
    ) -> ApiResult<Option<u64>> {
        match &self.wal {
            None => {
                store.apply(now, mutation)?;
                Ok(None)
            }
            Some(wal) => {
                let reservation = wal.reserve();
                let lsn = reservation.lsn();
                let frame = reservation.frame(now, EntryRef::DynamoDb(&mutation));
                store.apply(now, mutation)?;
                reservation.commit(frame);
                Ok(Some(lsn))
            }
        }
    }
}
