//! One SubscribeToShard subscription as a state machine that yields frames: the
//! `initial-response`, then a `SubscribeToShardEvent` at once and whenever records become
//! durable, at least every [`HEARTBEAT_MS`], until the shard ends (an event with `ChildShards`),
//! [`SUBSCRIPTION_LIFETIME_MS`] pass, another subscription takes over, the consumer or stream
//! goes away (an exception frame), or the hub closes.
//!
//! Invariants: the subscription reads the store only through its [`Source`] and waits only on
//! the hub's signals, the log's durability signal and the source's clock; it marks the signals
//! seen before it reads, so a change between its read and its wait is never missed; the position
//! moves past exactly the records it sent, so `ContinuationSequenceNumber` resumes without gaps
//! or repeats; under AWS limits it sends at most 2 MiB/s (a [`FanOutBucket`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use super::frame::{self, Encoding};
use super::{HEARTBEAT_MS, SUBSCRIPTION_LIFETIME_MS, Signals};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult};
use crate::kinesis::limits::FanOutBucket;

/// Most record bytes (data plus partition keys) in one event: more than the largest record
/// (1 MiB of data and a 256-character key), so every record fits.
pub(crate) const MAX_EVENT_BYTES: usize = 2 * 1024 * 1024;

/// Where a subscription reads: the stream (and its creation time, so a re-created stream of the
/// same name is not read), the consumer, the shard, and the next record counter to send.
#[derive(Debug, Clone)]
pub(crate) struct Cursor {
    pub(crate) stream: String,
    pub(crate) stream_created_ms: Millis,
    pub(crate) consumer: String,
    pub(crate) consumer_created_ms: Millis,
    pub(crate) shard: u32,
    pub(crate) position: u64,
}

/// One read of the shard from a cursor.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The event's JSON.
    pub(crate) payload: Vec<u8>,
    /// Records in it.
    pub(crate) records: usize,
    /// Their bytes (data plus partition keys).
    pub(crate) bytes: usize,
    /// The counter after the last record in it.
    pub(crate) next_position: u64,
    /// A record is stored but not yet durable.
    pub(crate) awaiting_durability: bool,
    /// No record was taken because the next one, of this many bytes, exceeds `max_bytes`.
    pub(crate) blocked_bytes: Option<usize>,
    /// The shard is closed and this event reaches its end (it carries `ChildShards`).
    pub(crate) shard_ended: bool,
}

/// What a subscription reads from: the Kinesis service in the emulator, a fake in tests.
pub(crate) trait Source: Send + Sync + 'static {
    /// The clock's time.
    fn now(&self) -> Millis;
    /// Completes once the clock reads `deadline`.
    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
    /// The log's durable position, if records become readable only once durable.
    fn durability(&self) -> Option<watch::Receiver<u64>>;
    /// Reads up to `max_bytes` of durable records from `cursor` at `now` and writes the event;
    /// an error ends the subscription.
    fn read(&self, cursor: &Cursor, now: Millis, max_bytes: usize) -> ApiResult<Batch>;
}

/// The hub's signals a subscription watches.
struct Watchers {
    changes: watch::Receiver<u64>,
    closed: watch::Receiver<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Initial,
    Streaming,
    Done,
}

/// A running subscription.
pub(crate) struct Subscription<S: Source> {
    source: Arc<S>,
    cursor: Cursor,
    signals: Watchers,
    durability: Option<watch::Receiver<u64>>,
    bucket: Option<FanOutBucket>,
    started_ms: Millis,
    last_event_ms: Option<Millis>,
    phase: Phase,
    takeover: Option<tokio::sync::oneshot::Receiver<()>>,
    taken_over: bool,
    taken_over_message: String,
    encoding: Encoding,
}

impl<S: Source> Subscription<S> {
    /// A subscription from `cursor`, started at `started_ms`; `limited` applies AWS's 2 MiB/s.
    pub(crate) fn new(
        source: Arc<S>,
        cursor: Cursor,
        signals: Signals,
        started_ms: Millis,
        limited: bool,
        taken_over_message: String,
    ) -> Self {
        let durability = source.durability();
        let takeover = Some(signals.takeover);
        let signals = Watchers {
            changes: signals.changes,
            closed: signals.closed,
        };
        Self {
            source,
            cursor,
            signals,
            durability,
            bucket: limited.then(FanOutBucket::default),
            started_ms,
            last_event_ms: None,
            phase: Phase::Initial,
            takeover,
            taken_over: false,
            taken_over_message,
            encoding: Encoding::Json,
        }
    }

    /// The same subscription, writing its payloads in `encoding` (JSON unless told).
    pub(crate) fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The frames of the subscription as a stream (the HTTP response body).
    pub(crate) fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static
    {
        futures_util::stream::unfold(self, |mut sub| async move {
            sub.next_frame().await.map(|frame| (Ok(frame), sub))
        })
    }

    /// The next frame, or `None` once the subscription has ended.
    pub(crate) async fn next_frame(&mut self) -> Option<Bytes> {
        match self.phase {
            Phase::Done => return None,
            Phase::Initial => {
                self.phase = Phase::Streaming;
                return Some(frame::initial_response(self.encoding));
            }
            Phase::Streaming => {}
        }
        loop {
            if *self.signals.closed.borrow() {
                return self.end(None);
            }
            if let Some(signal) = &mut self.takeover {
                use tokio::sync::oneshot::error::TryRecvError;
                match signal.try_recv() {
                    Ok(()) => (self.takeover, self.taken_over) = (None, true),
                    // The hub is gone with the service; nothing can take over any more.
                    Err(TryRecvError::Closed) => self.takeover = None,
                    Err(TryRecvError::Empty) => {}
                }
            }
            if self.taken_over {
                let error = ApiError::in_use(self.taken_over_message.clone());
                return self.end(Some(error));
            }
            let now = self.source.now();
            let expires = self.started_ms + SUBSCRIPTION_LIFETIME_MS;
            if now >= expires {
                return self.end(None);
            }
            self.signals.changes.borrow_and_update();
            if let Some(durable) = &mut self.durability {
                durable.borrow_and_update();
            }
            let budget = match &mut self.bucket {
                Some(bucket) => bucket.available(now),
                None => MAX_EVENT_BYTES as f64,
            };
            let max_bytes = budget.clamp(0.0, MAX_EVENT_BYTES as f64) as usize;
            let batch = match self.source.read(&self.cursor, now, max_bytes) {
                Ok(batch) => batch,
                Err(error) => return self.end(Some(error)),
            };
            let heartbeat_due = self
                .last_event_ms
                .is_none_or(|last| now >= last + HEARTBEAT_MS);
            if batch.records > 0 || batch.shard_ended || heartbeat_due {
                if let Some(bucket) = &mut self.bucket {
                    bucket.charge(batch.bytes);
                }
                self.cursor.position = batch.next_position;
                self.last_event_ms = Some(now);
                if batch.shard_ended {
                    self.phase = Phase::Done;
                }
                return Some(frame::subscribe_to_shard_event(
                    self.encoding,
                    batch.payload,
                ));
            }
            let mut wake_at = expires.min(self.last_event_ms.unwrap_or(now) + HEARTBEAT_MS);
            if let (Some(bucket), Some(needed)) = (&self.bucket, batch.blocked_bytes) {
                wake_at = wake_at.min(bucket.ready_at(now, needed));
            }
            self.wait(wake_at, batch.awaiting_durability).await;
        }
    }

    fn end(&mut self, error: Option<ApiError>) -> Option<Bytes> {
        self.phase = Phase::Done;
        let encoding = self.encoding;
        error.map(|e| frame::exception(encoding, &e))
    }

    /// Waits for a store change, durability (if a record waits for it), `wake_at`, a takeover
    /// or the hub closing, whichever comes first.
    async fn wait(&mut self, wake_at: Millis, awaiting_durability: bool) {
        let Self {
            source,
            signals,
            durability,
            takeover,
            ..
        } = self;
        let durable = async {
            match (durability.as_mut(), awaiting_durability) {
                (Some(durable), true) => {
                    let _ = durable.changed().await;
                }
                _ => std::future::pending().await,
            }
        };
        let taken_over = async {
            match takeover.as_mut() {
                Some(signal) => signal.await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            _ = signals.changes.changed() => None,
            () = durable => None,
            () = source.sleep_until(wake_at) => None,
            won = taken_over => Some(won),
            _ = signals.closed.wait_for(|closed| *closed) => None,
        };
        if let Some(won) = outcome {
            // Either way the signal is spent: taken over, or the hub is gone and nothing can
            // take over any more.
            self.takeover = None;
            self.taken_over = won;
        }
    }
}
