//! The SQS service: the store behind its lock, the sealer, the clock and the log; the one
//! dispatch on [`Action`]; and what every action shares (applying and logging facts, queue URLs,
//! page tokens). Each family of actions has its own module.
//!
//! Invariants: validation finishes before anything changes; every change is a
//! [`Mutation`] applied to the store and logged in the same step ([`Sqs::commit`]); a reply
//! waits until its facts are durable (with a data directory); the store is locked before the
//! clock is read, so operations see time in the order they run.

mod attributes;
mod delete;
mod queues;
mod receive;
mod redrive;
pub(super) mod request;
mod send;
mod tags;
mod visibility;

#[cfg(test)]
pub(super) mod testing;

use std::sync::{Arc, Mutex, MutexGuard};

use self::request::{invalid, missing};
use super::Action;
use super::long_poll::Arrivals;
use super::message::MessageIds;
use super::store::{Mutation, SqsStore, no_such_queue};
use crate::clock::{Clock, Millis};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::persist::{EntryRef, Wal};
use crate::request::decode;
use crate::seal::Sealer;

/// Facts about the HTTP request an operation needs.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// `host:port` the client addressed, used in queue URLs.
    pub host: String,
    /// The request path (`/<account>/<queue>` when a client posts to the queue URL).
    pub path: String,
    /// Access key id from the SigV4 `Authorization` header, used as `SenderId`.
    pub access_key: Option<String>,
}

/// The SQS service of one emulator.
#[derive(Debug)]
pub struct Sqs {
    store: Mutex<SqsStore>,
    pub(super) sealer: Sealer,
    clock: Arc<dyn Clock>,
    pub(super) wal: Option<Arc<Wal>>,
    /// Per queue, the long polls waiting for messages.
    pub(super) arrivals: Arrivals,
    ids: MessageIds,
}

/// What a reply needs: its body and whether it must wait for the log.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

/// What an action's handler answers: its reply, or SQS's error.
type Answer = ApiResult<Reply>;

impl Reply {
    /// A batch answer of the `Successful` and `Failed` entries written.
    fn batch(successful: &[u8], failed: &[u8], durable_at: Option<u64>) -> Self {
        Self {
            body: super::reply::batch(successful, failed),
            durable_at,
        }
    }

    /// An empty answer (`{}`), after the log position `durable_at` if given.
    fn empty(durable_at: Option<u64>) -> Self {
        Self {
            body: b"{}".to_vec(),
            durable_at,
        }
    }
}

impl Sqs {
    /// A service over `store` using `key` to seal receipt handles and tokens.
    pub fn new(
        store: SqsStore,
        key: [u8; 16],
        clock: Arc<dyn Clock>,
        wal: Option<Arc<Wal>>,
    ) -> Self {
        let ids = MessageIds::new(&key, clock.now_millis());
        Self {
            store: Mutex::new(store),
            sealer: Sealer::new(key),
            clock,
            wal,
            arrivals: Arrivals::default(),
            ids,
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, SqsStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the store and reads the clock, in that order, so that the operations on the store
    /// see time in the order they run (two requests reading the clock before taking the lock
    /// could otherwise apply in the opposite order).
    pub(in crate::sqs) fn lock_now(&self) -> (MutexGuard<'_, SqsStore>, Millis) {
        let store = self.lock();
        (store, self.clock.now_millis())
    }

    /// [`Sqs::lock_now`], and the queue a request names ([`Sqs::resolve`]).
    fn lock_queue(
        &self,
        url: Option<&str>,
        context: &RequestContext,
    ) -> ApiResult<(MutexGuard<'_, SqsStore>, Millis, String)> {
        let (store, now) = self.lock_now();
        let name = self.resolve(&store, url, context)?;
        Ok((store, now, name))
    }

    /// Trims expired messages.
    pub fn tick(&self) {
        let (mut store, now) = self.lock_now();
        store.tick(now);
    }

    /// Runs `action` on a JSON body.
    pub async fn call(
        &self,
        action: Action,
        body: &[u8],
        context: &RequestContext,
    ) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body, context).await?;
        if let (Some(lsn), Some(wal)) = (reply.durable_at, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(reply.body)
    }

    /// The one dispatch on the action. Only ReceiveMessage waits (a long poll); every other
    /// action finishes without yielding.
    async fn execute(&self, action: Action, body: &[u8], context: &RequestContext) -> Answer {
        match action {
            Action::CreateQueue => self.create_queue(decode(body)?, context),
            Action::GetQueueUrl => self.get_queue_url(decode(body)?, context),
            Action::ListQueues => self.list_queues(decode(body)?, context),
            Action::DeleteQueue => self.delete_queue(decode(body)?, context),
            Action::PurgeQueue => self.purge_queue(decode(body)?, context),
            Action::GetQueueAttributes => self.get_queue_attributes(decode(body)?, context),
            Action::SetQueueAttributes => self.set_queue_attributes(decode(body)?, context),
            Action::SendMessage => self.send_message(decode(body)?, context),
            Action::SendMessageBatch => self.send_message_batch(decode(body)?, context),
            Action::ReceiveMessage => self.receive_message(decode(body)?, context).await,
            Action::DeleteMessage => self.delete_message(decode(body)?, context),
            Action::DeleteMessageBatch => self.delete_message_batch(decode(body)?, context),
            Action::ChangeMessageVisibility => self.change_visibility(decode(body)?, context),
            Action::ChangeMessageVisibilityBatch => {
                self.change_visibility_batch(decode(body)?, context)
            }
            Action::TagQueue => self.tag_queue(decode(body)?, context),
            Action::UntagQueue => self.untag_queue(decode(body)?, context),
            Action::ListQueueTags => self.list_queue_tags(decode(body)?, context),
            Action::ListDeadLetterSourceQueues => {
                self.list_dead_letter_sources(decode(body)?, context)
            }
        }
    }

    /// Applies facts and logs them; returns the log position the reply must wait for.
    fn commit(&self, store: &mut SqsStore, now: Millis, mutation: Mutation) -> Option<u64> {
        let Some(wal) = &self.wal else {
            store.apply_owned(now, mutation);
            return None;
        };
        let reservation = wal.reserve();
        let lsn = reservation.lsn();
        store.apply(now, &mutation);
        reservation.append(now, EntryRef::Sqs(&mutation));
        Some(lsn)
    }

    fn queue_url(&self, store: &SqsStore, context: &RequestContext, name: &str) -> String {
        format!(
            "http://{}/{}/{name}",
            context.host, store.settings.account_id
        )
    }

    /// The queue a `QueueUrl` (or, without one, the request path) names.
    fn resolve(
        &self,
        store: &SqsStore,
        url: Option<&str>,
        context: &RequestContext,
    ) -> ApiResult<String> {
        let url = match url {
            Some(url) if !url.is_empty() => url,
            _ if context.path.trim_matches('/').contains('/') => context.path.as_str(),
            _ => return Err(missing("QueueUrl")),
        };
        let path = url.split_once("://").map_or(url, |(_, rest)| {
            rest.split_once('/').map_or("", |(_, path)| path)
        });
        let mut segments = path.trim_matches('/').rsplitn(2, '/');
        let (name, account) = (segments.next().unwrap_or_default(), segments.next());
        match account {
            Some(account) if account == store.settings.account_id && !name.is_empty() => {
                store.queue(name)?;
                Ok(name.to_owned())
            }
            Some(_) => Err(no_such_queue()),
            None => Err(ApiError::new(
                ErrorCode::InvalidAddress,
                format!("The address {url} is not valid for this endpoint."),
            )),
        }
    }

    /// One page of a list of queues (in name order) that resumes after the name sealed in
    /// `next_token` (a token of `action`): the URLs of the first `max_results` (1000 without),
    /// and, when `max_results` was given and more remain, the token of the next page.
    fn page<'a>(
        &self,
        store: &SqsStore,
        context: &RequestContext,
        action: Action,
        (max_results, next_token): (Option<i64>, Option<&str>),
        names: impl Iterator<Item = &'a String>,
    ) -> ApiResult<(Vec<String>, Option<String>)> {
        let after = match next_token {
            Some(token) => Some(self.open_token(token, action)?),
            None => None,
        };
        let names: Vec<&String> = names
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let limit = max_results.unwrap_or(1000) as usize;
        let urls = names
            .iter()
            .take(limit)
            .map(|n| self.queue_url(store, context, n))
            .collect();
        let next = (max_results.is_some() && names.len() > limit)
            .then(|| self.seal_token(names[limit - 1], action));
        Ok((urls, next))
    }

    /// A page token: where the next page of `action` starts after, sealed.
    fn seal_token(&self, after: &str, action: Action) -> String {
        self.sealer
            .seal(&serde_json::to_vec(&(after, action.as_str())).unwrap_or_default())
    }

    /// Opens a page token of `action`: the name the next page starts after.
    fn open_token(&self, token: &str, action: Action) -> ApiResult<String> {
        let bad = || invalid(format!("Invalid NextToken value {token}"));
        let payload = self.sealer.open(token).ok_or_else(bad)?;
        let (after, op): (String, String) = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if op == action.as_str() {
            Ok(after)
        } else {
            Err(bad())
        }
    }
}
