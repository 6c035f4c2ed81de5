//! Running one SQS mapping: one task per poller performing the effects of its
//! `riffle_core::sqs::poller::Poller` machine (receive, invoke, delete, release, wait) and
//! feeding their results back, as many tasks as the mapping's `Scaler` says, with the journal
//! and counters of what the machines decided.
//!
//! Invariant: the runtime never re-derives policy — gathering, settling, retries, back-off,
//! FIFO hand-back, retirement and release on shutdown are the machines' decisions. It only
//! tells a poller that the mapping stops, interrupting its receive or wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_clock::Clock;
use riffle_core::sqs::event::QueueMessage;
use riffle_core::sqs::poller::{Decision, Effect, Poller, PollerSettings, Scaler, Signal};
use riffle_core::time::Millis;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::invoke::{InvokeRequest, Invoker};
use crate::journal::{Journal, SqsJournalEvent, SqsMetrics};
use crate::sqs::source::QueueSource;

/// How a queue mapping runs, beyond its AWS configuration.
#[derive(Debug, Clone)]
pub struct SqsMappingOptions {
    /// The mapping's id (UUID on AWS), for logs.
    pub mapping_id: String,
    /// The function's ARN.
    pub function_arn: String,
    /// The function's timeout, for invocation deadlines.
    pub function_timeout: Duration,
}

impl SqsMappingOptions {
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
        }
    }
}

/// A running (or runnable) SQS mapping.
pub struct SqsMapping<Q, I> {
    inner: Arc<Inner<Q, I>>,
}

struct Inner<Q, I> {
    settings: PollerSettings,
    options: SqsMappingOptions,
    source: Q,
    invoker: I,
    clock: Arc<dyn Clock>,
    scaler: Mutex<Scaler>,
    rescaled: Notify,
    journal: Journal<SqsJournalEvent>,
    metrics: SqsMetrics,
    request_ids: AtomicU64,
}

impl<Q, I> SqsMapping<Q, I>
where
    Q: QueueSource,
    I: Invoker,
{
    /// A mapping with `settings` polling `source` and invoking `invoker`, on `clock`.
    pub fn new(
        settings: PollerSettings,
        options: SqsMappingOptions,
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
                journal: Journal::default(),
                metrics: SqsMetrics::default(),
                request_ids: AtomicU64::new(0),
            }),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> &SqsMetrics {
        &self.inner.metrics
    }

    /// Journal entries, oldest first (the last 10 000).
    pub fn journal(&self) -> Vec<SqsJournalEvent> {
        self.inner.journal.entries(None)
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
            while inner.lock_scaler().start_poller() {
                let (task, stop) = (Arc::clone(inner), shutdown.clone());
                let id = next_id;
                next_id += 1;
                pollers.push(tokio::spawn(async move { task.poll(id, stop).await }));
            }
            inner.store_pollers();
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
    I: Invoker,
{
    fn lock_scaler(&self) -> std::sync::MutexGuard<'_, Scaler> {
        self.scaler.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store_pollers(&self) {
        let live = self.lock_scaler().live();
        self.metrics.pollers.store(live, Ordering::Relaxed);
    }

    fn record(&self, poller: usize, kind: Decision) {
        tracing::debug!(mapping = %self.options.mapping_id, poller, ?kind, "queue mapping decision");
        let at = self.clock.now_millis();
        self.metrics.observe(at, poller, &kind);
        self.journal.push(SqsJournalEvent { at, poller, kind });
    }

    /// Feeds a poller's signal to the scaler: journal a change and wake the supervisor to
    /// start pollers.
    fn rescale(&self, poller: usize, signal: Signal) {
        let now = self.clock.now_millis();
        let change = self.lock_scaler().signal(signal, now);
        if let Some(decision) = change {
            self.record(poller, decision);
            self.rescaled.notify_one();
        }
    }

    /// Records the records among `effects` and returns the action that ends them.
    fn perform_records(&self, poller: usize, effects: &mut Vec<Effect>) -> Effect {
        let mut action = None;
        for effect in effects.drain(..) {
            match effect {
                Effect::Journal(decision) => self.record(poller, decision),
                Effect::Scale(signal) => self.rescale(poller, signal),
                Effect::Deleted(messages) => SqsMetrics::add(&self.metrics.deleted, messages),
                other => action = Some(other),
            }
        }
        action.expect("every input of a poller machine ends with an action")
    }

    /// Age of the oldest message of a receive (now − SentTimestamp), for the gauge.
    fn observe_age(&self, messages: &[QueueMessage], now: Millis) {
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
    }

    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        crate::invoke::request_id(&self.options.mapping_id, n)
    }

    /// One poller: performs its machine's effects until it stops or retires. Shutdown
    /// interrupts a receive or a wait; everything else runs to completion.
    async fn poll(self: Arc<Self>, id: usize, mut shutdown: watch::Receiver<bool>) {
        let settings = &self.settings;
        let mut poller = Poller::new();
        let mut effects = Vec::with_capacity(8);
        let notice = |poller: &mut Poller, shutdown: &watch::Receiver<bool>| {
            if *shutdown.borrow() {
                poller.stop();
            }
        };
        notice(&mut poller, &shutdown);
        poller.start(settings, self.clock.now_millis(), &mut effects);
        loop {
            match self.perform_records(id, &mut effects) {
                Effect::Receive(request) => {
                    let received = tokio::select! {
                        received = self.source.receive(request) => Some(received),
                        _ = shutdown.changed() => None,
                    };
                    let now = self.clock.now_millis();
                    match received {
                        Some(received) => {
                            notice(&mut poller, &shutdown);
                            if let Ok(messages) = &received
                                && !messages.is_empty()
                            {
                                self.observe_age(messages, now);
                            }
                            let received = received.map_err(|e| e.to_string());
                            poller.received(settings, received, now, &mut effects);
                        }
                        None => poller.receive_cancelled(settings, now, &mut effects),
                    }
                }
                Effect::Invoke { payload } => {
                    let now = self.clock.now_millis();
                    let request = InvokeRequest {
                        function_arn: self.options.function_arn.clone(),
                        request_id: self.request_id(),
                        payload,
                        deadline_ms: now + self.options.function_timeout.as_millis() as Millis,
                    };
                    let outcome = match self.invoker.clone().oneshot(request).await {
                        Ok(outcome) => outcome,
                        Err(never) => match never {},
                    };
                    notice(&mut poller, &shutdown);
                    let now = self.clock.now_millis();
                    poller.invocation_finished(settings, &outcome, now, &mut effects);
                }
                Effect::Delete(entries) => {
                    let result = self.source.delete(entries).await;
                    notice(&mut poller, &shutdown);
                    let now = self.clock.now_millis();
                    poller.deleted(
                        settings,
                        result.map_err(|e| e.to_string()),
                        now,
                        &mut effects,
                    );
                }
                Effect::Release(entries) => {
                    let result = self.source.release(entries).await;
                    notice(&mut poller, &shutdown);
                    let now = self.clock.now_millis();
                    let result = result.map_err(|e| e.to_string());
                    poller.released(settings, result, now, &mut effects);
                }
                Effect::Wake { at } => {
                    if poller.is_stopping() {
                        self.clock.sleep_until(at).await;
                    } else {
                        tokio::select! {
                            () = self.clock.sleep_until(at) => notice(&mut poller, &shutdown),
                            _ = shutdown.changed() => poller.stop(),
                        }
                    }
                    poller.tick(settings, self.clock.now_millis(), &mut effects);
                }
                Effect::Retire => {
                    if self.lock_scaler().retire_poller() {
                        self.store_pollers();
                        return;
                    }
                    poller.stayed(settings, self.clock.now_millis(), &mut effects);
                }
                Effect::Stopped => {
                    self.lock_scaler().poller_stopped();
                    return;
                }
                Effect::Journal(_) | Effect::Scale(_) | Effect::Deleted(_) => {
                    unreachable!("records are performed before the action")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
