//! Running one SQS mapping: pollers that long-poll the queue, gather a batch, invoke the
//! function and delete what succeeded, as many of them as `riffle_core::sqs::poller::Scaler` says.
//!
//! Invariants: a message is deleted only after the function succeeded for it or a filter dropped
//! it (never after a failure: SQS's visibility timeout and redrive policy take it from there);
//! pollers above the scaler's target retire only between batches; on shutdown every poller
//! finishes the batch it is invoking and hands back (visibility 0) what it held uninvoked.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::Clock;
use riffle_core::invocation::Outcome;
use riffle_core::sqs::event::{QueueMessage, sqs_event};
use riffle_core::sqs::poller::{
    Decision, EntryFailure, Gatherer, PollerSettings, QueueBatch, ReceiptEntry, ReceiveRequest,
    Scaler, Settled, Settlement, Step, settle,
};
use riffle_core::time::Millis;
use tokio::sync::{Notify, watch};
use tower::{Service, ServiceExt};

use crate::invoke::InvokeRequest;
use crate::source::SourceError;

/// An SQS queue the mapping polls (over the SDK, or in memory for tests).
pub trait QueueSource: Send + Sync + 'static {
    /// ReceiveMessage asking for every system and message attribute.
    fn receive(
        &self,
        request: ReceiveRequest,
    ) -> impl Future<Output = Result<Vec<QueueMessage>, SourceError>> + Send;
    /// DeleteMessageBatch of at most 10 entries; returns the entries that failed.
    fn delete(
        &self,
        entries: Vec<ReceiptEntry>,
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SourceError>> + Send;
    /// ChangeMessageVisibilityBatch to 0 for at most 10 entries, so they can be received again
    /// at once; returns the entries that failed.
    fn release(
        &self,
        entries: Vec<ReceiptEntry>,
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SourceError>> + Send;
}

/// How a queue mapping runs, beyond its AWS configuration.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// The mapping's id (UUID on AWS), for logs.
    pub mapping_id: String,
    /// The function's ARN.
    pub function_arn: String,
    /// The function's timeout, for invocation deadlines.
    pub function_timeout: Duration,
    /// Wait after a failed receive or delete before trying again.
    pub error_pause: Duration,
}

impl QueueOptions {
    /// Options for mapping `mapping_id` of `function_arn`, whose timeout is `function_timeout`.
    pub fn new(
        mapping_id: impl Into<String>,
        function_arn: impl Into<String>,
        function_timeout: Duration,
    ) -> Self {
        Self {
            mapping_id: mapping_id.into(),
            function_arn: function_arn.into(),
            function_timeout,
            error_pause: Duration::from_secs(1),
        }
    }
}

/// One journal entry of a queue mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueJournalEvent {
    /// When, epoch ms.
    pub at: Millis,
    /// Which poller (0-based; the scaler's entries use the poller that observed the change).
    pub poller: usize,
    /// What.
    pub kind: Decision,
}

/// Counters of one queue mapping.
#[derive(Debug, Default)]
pub struct QueueMetrics {
    /// Messages received (counting receives of the same message again).
    pub polled: AtomicU64,
    /// Invocations.
    pub invocations: AtomicU64,
    /// Messages sent to the function (counting throttled attempts).
    pub invoked_messages: AtomicU64,
    /// Messages deleted after success.
    pub deleted: AtomicU64,
    /// Messages left to return to the queue after a failure.
    pub failed: AtomicU64,
    /// Messages deleted because the filters dropped them.
    pub filtered: AtomicU64,
    /// Invocations that failed (function error or invalid response).
    pub errors: AtomicU64,
    /// Throttled invocations.
    pub throttles: AtomicU64,
    /// Pollers running now.
    pub pollers: AtomicUsize,
    /// Age of the oldest message of the last receive (now − SentTimestamp), ms.
    pub oldest_message_age_ms: AtomicU64,
    /// Batches invoked and not yet settled (a throttled batch waiting to be invoked again
    /// counts).
    pub in_flight: AtomicUsize,
    holding: Mutex<std::collections::BTreeSet<usize>>,
    last_error: Mutex<Option<(Millis, String)>>,
}

impl QueueMetrics {
    /// The last problem (a failed batch, a source error, failed deletes) and when.
    pub fn last_error(&self) -> Option<(Millis, String)> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counts what a journal entry of `poller` says happened.
    fn observe(&self, at: Millis, poller: usize, kind: &Decision) {
        let mut holding = self.holding.lock().unwrap_or_else(|p| p.into_inner());
        let error = match kind {
            Decision::Invoked { .. } => {
                holding.insert(poller);
                None
            }
            Decision::Released { .. } => {
                holding.remove(&poller);
                None
            }
            Decision::Settled { settled, .. } => {
                holding.remove(&poller);
                match settled {
                    Settled::Success => None,
                    Settled::PartialFailure(ids) => {
                        Some(format!("{} message(s) reported failed", ids.len()))
                    }
                    Settled::InvalidResponse(why) => Some(format!("invalid response: {why}")),
                    Settled::FunctionError(why) => Some(why.clone()),
                    Settled::GaveUp(why) => Some(format!("gave up: {why}")),
                }
            }
            Decision::SourceFailed { call, error } => Some(format!("{call}: {error}")),
            Decision::DeleteFailed { failures } => {
                Some(format!("{} delete(s) failed", failures.len()))
            }
            Decision::Received { .. }
            | Decision::Filtered { .. }
            | Decision::Throttled { .. }
            | Decision::Scaled { .. } => None,
        };
        self.in_flight.store(holding.len(), Ordering::Relaxed);
        if let Some(error) = error {
            *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, error));
        }
    }
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(n as u64, Ordering::Relaxed);
}

/// The entries kept per queue mapping.
const JOURNAL_CAPACITY: usize = 10_000;

/// A running (or runnable) SQS mapping.
pub struct QueueMapping<Q, I> {
    inner: Arc<Inner<Q, I>>,
}

struct Inner<Q, I> {
    settings: PollerSettings,
    options: QueueOptions,
    source: Q,
    invoker: I,
    clock: Arc<dyn Clock>,
    scaler: Mutex<Scaler>,
    rescaled: Notify,
    live: AtomicUsize,
    journal: Mutex<std::collections::VecDeque<QueueJournalEvent>>,
    metrics: QueueMetrics,
    request_ids: AtomicU64,
}

impl<Q, I> QueueMapping<Q, I>
where
    Q: QueueSource,
    I: Service<InvokeRequest, Response = Outcome, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    I::Future: Send + 'static,
{
    /// A mapping with `settings` polling `source` and invoking `invoker`, on `clock`.
    pub fn new(
        settings: PollerSettings,
        options: QueueOptions,
        source: Q,
        invoker: I,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let scaler = Scaler::new(&settings, clock.now_millis());
        Self {
            inner: Arc::new(Inner {
                settings,
                options,
                source,
                invoker,
                clock,
                scaler: Mutex::new(scaler),
                rescaled: Notify::new(),
                live: AtomicUsize::new(0),
                journal: Mutex::default(),
                metrics: QueueMetrics::default(),
                request_ids: AtomicU64::new(0),
            }),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> &QueueMetrics {
        &self.inner.metrics
    }

    /// Journal entries, oldest first (the last 10 000).
    pub fn journal(&self) -> Vec<QueueJournalEvent> {
        self.inner.lock_journal().iter().cloned().collect()
    }

    /// Pollers the scaler wants now.
    pub fn target_pollers(&self) -> usize {
        self.inner.lock_scaler().target()
    }

    /// Runs until `shutdown` turns true, then waits for every poller to finish its batch.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let inner = &self.inner;
        let mut pollers: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        let mut next_id = 0;
        loop {
            if *shutdown.borrow() {
                break;
            }
            pollers.retain(|p| !p.is_finished());
            let target = inner.lock_scaler().target();
            while inner.live.load(Ordering::SeqCst) < target {
                inner.live.fetch_add(1, Ordering::SeqCst);
                let (task, stop) = (Arc::clone(inner), shutdown.clone());
                let id = next_id;
                next_id += 1;
                pollers.push(tokio::spawn(async move { task.poll(id, stop).await }));
            }
            inner
                .metrics
                .pollers
                .store(inner.live.load(Ordering::SeqCst), Ordering::Relaxed);
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = inner.rescaled.notified() => {}
            }
        }
        for poller in pollers {
            let _ = poller.await;
        }
    }
}

impl<Q, I> Inner<Q, I>
where
    Q: QueueSource,
    I: Service<InvokeRequest, Response = Outcome, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    I::Future: Send + 'static,
{
    fn lock_scaler(&self) -> std::sync::MutexGuard<'_, Scaler> {
        self.scaler.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_journal(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::VecDeque<QueueJournalEvent>> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, poller: usize, kind: Decision) {
        tracing::debug!(mapping = %self.options.mapping_id, poller, ?kind, "queue mapping decision");
        let at = self.clock.now_millis();
        self.metrics.observe(at, poller, &kind);
        let mut journal = self.lock_journal();
        if journal.len() == JOURNAL_CAPACITY {
            journal.pop_front();
        }
        journal.push_back(QueueJournalEvent { at, poller, kind });
    }

    /// Applies a scaler change: journal it and wake the supervisor to start pollers.
    fn rescale(&self, poller: usize, change: impl FnOnce(&mut Scaler) -> bool) {
        let (changed, target) = {
            let mut scaler = self.lock_scaler();
            (change(&mut scaler), scaler.target())
        };
        if changed {
            self.record(poller, Decision::Scaled { pollers: target });
            self.rescaled.notify_one();
        }
    }

    /// Whether this poller should retire: more pollers run than the target. Claims the
    /// retirement, so only as many retire as needed.
    fn retire(&self) -> bool {
        let target = self.lock_scaler().target();
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live > target).then(|| live - 1)
            })
            .is_ok()
    }

    async fn pause(&self, shutdown: &mut watch::Receiver<bool>) {
        let until = self.clock.now_millis() + self.options.error_pause.as_millis() as Millis;
        tokio::select! {
            _ = shutdown.changed() => {}
            () = self.clock.sleep_until(until) => {}
        }
    }

    /// One poller: receive, gather, invoke, settle, until shutdown or retirement.
    async fn poll(self: Arc<Self>, id: usize, mut shutdown: watch::Receiver<bool>) {
        let settings = &self.settings;
        let mut gatherer = Gatherer::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if gatherer.held() == 0 && self.retire() {
                self.metrics
                    .pollers
                    .store(self.live.load(Ordering::SeqCst), Ordering::Relaxed);
                return;
            }
            let now = self.clock.now_millis();
            match gatherer.step(settings, now) {
                Step::Receive {
                    max_messages,
                    wait_seconds,
                } => {
                    let request = ReceiveRequest {
                        max_messages,
                        wait_seconds,
                        visibility_timeout_seconds: settings.receive_visibility_timeout_seconds,
                    };
                    let received = tokio::select! {
                        received = self.source.receive(request) => received,
                        _ = shutdown.changed() => break,
                    };
                    match received {
                        Ok(messages) => {
                            self.received(id, &mut gatherer, max_messages, messages)
                                .await
                        }
                        Err(error) => {
                            self.record(
                                id,
                                Decision::SourceFailed {
                                    call: "ReceiveMessage",
                                    error: error.to_string(),
                                },
                            );
                            self.pause(&mut shutdown).await;
                        }
                    }
                }
                Step::Invoke => {
                    let batch = gatherer.take(settings, now);
                    let failed = self.invoke(id, batch).await;
                    if failed && settings.fifo {
                        // Later messages of a failed group must wait for its retry: hand back
                        // whatever this poller already holds instead of invoking it.
                        let held = gatherer.drain();
                        self.release(id, held).await;
                    }
                }
            }
        }
        let held = gatherer.drain();
        self.release(id, held).await;
        self.live.fetch_sub(1, Ordering::SeqCst);
    }

    async fn received(
        &self,
        id: usize,
        gatherer: &mut Gatherer,
        requested: usize,
        messages: Vec<QueueMessage>,
    ) {
        let now = self.clock.now_millis();
        let count = messages.len();
        self.rescale(id, |s| s.received(requested, count, now));
        if count == 0 {
            return;
        }
        add(&self.metrics.polled, count);
        let oldest = messages
            .iter()
            .filter_map(|m| {
                m.attributes
                    .iter()
                    .find(|(k, _)| k == "SentTimestamp")
                    .and_then(|(_, v)| v.parse::<Millis>().ok())
            })
            .min();
        if let Some(sent) = oldest {
            self.metrics
                .oldest_message_age_ms
                .store(now.saturating_sub(sent), Ordering::Relaxed);
        }
        self.record(id, Decision::Received { messages: count });
        let dropped = gatherer.received(&self.settings, messages, now);
        if !dropped.is_empty() {
            add(&self.metrics.filtered, dropped.len());
            self.record(
                id,
                Decision::Filtered {
                    messages: dropped.len(),
                },
            );
            self.delete(id, &dropped).await;
        }
    }

    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        crate::invoke::request_id(&self.options.mapping_id, n)
    }

    /// Invokes `batch` until it settles. Returns whether it failed.
    async fn invoke(&self, id: usize, mut batch: QueueBatch) -> bool {
        loop {
            let now = self.clock.now_millis();
            let request = InvokeRequest {
                function_arn: self.options.function_arn.clone(),
                request_id: self.request_id(),
                // Moved, not copied: only a throttle needs it again, and then it is rebuilt.
                payload: std::mem::take(&mut batch.payload),
                deadline_ms: now + self.options.function_timeout.as_millis() as Millis,
            };
            self.record(
                id,
                Decision::Invoked {
                    messages: batch.messages.len(),
                    first_message_id: batch.messages[0].message_id.clone(),
                    throttles: batch.throttles,
                },
            );
            add(&self.metrics.invocations, 1);
            add(&self.metrics.invoked_messages, batch.messages.len());
            let outcome = match self.invoker.clone().oneshot(request).await {
                Ok(outcome) => outcome,
                Err(never) => match never {},
            };
            let now = self.clock.now_millis();
            match settle(&self.settings, &mut batch, &outcome, now) {
                Settlement::RetryAt { at } => {
                    add(&self.metrics.throttles, 1);
                    self.record(
                        id,
                        Decision::Throttled {
                            retry_in_ms: at - now,
                        },
                    );
                    self.rescale(id, |s| s.backed_off(now));
                    batch.payload = sqs_event(
                        &self.settings.queue_arn,
                        &self.settings.region,
                        &batch.messages,
                    );
                    self.clock.sleep_until(at).await;
                }
                Settlement::Done {
                    delete,
                    returned,
                    settled,
                } => {
                    let failed = !matches!(settled, Settled::Success);
                    let backs_off = match &settled {
                        Settled::FunctionError(_) | Settled::InvalidResponse(_) => {
                            add(&self.metrics.errors, 1);
                            !self.settings.report_batch_item_failures
                        }
                        Settled::GaveUp(_) => {
                            add(&self.metrics.throttles, 1);
                            true
                        }
                        Settled::Success | Settled::PartialFailure(_) => false,
                    };
                    if backs_off {
                        self.rescale(id, |s| s.backed_off(now));
                    }
                    add(&self.metrics.failed, returned.len());
                    self.record(
                        id,
                        Decision::Settled {
                            settled,
                            deleted: delete.len(),
                            returned: returned.len(),
                        },
                    );
                    let deleted = self.delete(id, &delete).await;
                    add(&self.metrics.deleted, deleted);
                    return failed;
                }
            }
        }
    }

    /// Deletes `messages` in calls of 10, retrying entries SQS failed on its side once.
    /// Returns how many were deleted.
    async fn delete(&self, id: usize, messages: &[QueueMessage]) -> usize {
        let mut deleted = 0;
        for chunk in messages.chunks(10) {
            let mut entries: Vec<ReceiptEntry> = chunk.iter().map(ReceiptEntry::from).collect();
            for attempt in 0..2 {
                let count = entries.len();
                match self.source.delete(entries.clone()).await {
                    Ok(failures) => {
                        deleted += count - failures.len();
                        let (retry, give_up): (Vec<_>, Vec<_>) = failures
                            .into_iter()
                            .partition(|f| !f.sender_fault && attempt == 0);
                        if !give_up.is_empty() {
                            self.record(id, Decision::DeleteFailed { failures: give_up });
                        }
                        entries.retain(|e| retry.iter().any(|f| f.message_id == e.message_id));
                    }
                    Err(error) => {
                        self.record(
                            id,
                            Decision::SourceFailed {
                                call: "DeleteMessageBatch",
                                error: error.to_string(),
                            },
                        );
                    }
                }
                if entries.is_empty() {
                    break;
                }
            }
        }
        deleted
    }

    /// Hands `messages` back to the queue (visibility 0).
    async fn release(&self, id: usize, messages: Vec<QueueMessage>) {
        if messages.is_empty() {
            return;
        }
        for chunk in messages.chunks(10) {
            let entries = chunk.iter().map(ReceiptEntry::from).collect();
            if let Err(error) = self.source.release(entries).await {
                self.record(
                    id,
                    Decision::SourceFailed {
                        call: "ChangeMessageVisibilityBatch",
                        error: error.to_string(),
                    },
                );
            }
        }
        self.record(
            id,
            Decision::Released {
                messages: messages.len(),
            },
        );
    }
}

#[cfg(test)]
mod tests;
