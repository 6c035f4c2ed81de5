//! One delivery stream's task: reads what the stream accepted, feeds it to the machine, and
//! performs the machine's actions — invocations of the processor, object writes,
//! acknowledgements — reporting each result back with the clock's `now`.
//!
//! Invariant: reading pauses while the machine holds more than [`FirehoseOptions::max_buffered`]
//! bytes, so a stream whose writes fail holds a bounded amount in memory (the rest waits,
//! durably, in the source); on stop, everything buffered is delivered before the task ends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use riffle_core::firehose::delivery::{Action, Counters, Decision, Delivery};
use riffle_core::firehose::settings::DeliverySettings;
use riffle_core::invocation::Outcome;
use riffle_core::time::Millis;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use super::source::{ObjectSink, PutObject, RecordSource};

#[cfg(test)]
mod tests;
use crate::Clock;
use crate::invoke::{InvokeRequest, Invoker, request_id};

/// How a delivery stream runs.
#[derive(Debug, Clone)]
pub struct FirehoseOptions {
    /// The processor's timeout (its function's `Timeout`).
    pub function_timeout: Duration,
    /// Records read from the source at a time.
    pub read_batch: usize,
    /// Bytes the machine may hold before reading pauses.
    pub max_buffered: usize,
    /// Decisions kept for `riffle explain`.
    pub journal_capacity: usize,
}

impl Default for FirehoseOptions {
    fn default() -> Self {
        Self {
            function_timeout: Duration::from_secs(60),
            read_batch: 500,
            max_buffered: 512 * 1024 * 1024,
            journal_capacity: 1_000,
        }
    }
}

/// What a running delivery stream shows: counters, buffer fill, recent decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The machine's counters.
    pub counters: Counters,
    /// Bytes buffered.
    pub buffered_bytes: usize,
    /// Invocations under way.
    pub invocations_in_flight: usize,
    /// Writes under way or waiting to be retried.
    pub writes_in_flight: usize,
    /// Records acknowledged to the source (every position below it is settled).
    pub acknowledged: u64,
    /// Decisions, oldest first, with when they were made; at most `journal_capacity`.
    pub decisions: VecDeque<(Millis, Decision)>,
}

enum Done {
    Invoked(String, Outcome),
    Written(u64, Result<(), String>),
}

/// One delivery stream, performing its machine against `source`, `sink` and the processor.
pub struct FirehoseDelivery<S, K, I> {
    settings: DeliverySettings,
    source: Arc<S>,
    sink: K,
    processor: Option<I>,
    clock: Arc<dyn Clock>,
    options: FirehoseOptions,
    status: Arc<Mutex<DeliveryStatus>>,
}

impl<S: RecordSource, K: ObjectSink, I: Invoker> FirehoseDelivery<S, K, I> {
    /// A delivery stream with `settings`. `processor` invokes the transformation's function
    /// (`None`: no function can be invoked here, so a transformation's invocations fail and
    /// its records end processing-failed).
    pub fn new(
        settings: DeliverySettings,
        source: Arc<S>,
        sink: K,
        processor: Option<I>,
        clock: Arc<dyn Clock>,
        options: FirehoseOptions,
    ) -> Self {
        Self {
            settings,
            source,
            sink,
            processor,
            clock,
            options,
            status: Arc::default(),
        }
    }

    /// The status, updated as the stream runs.
    pub fn status(&self) -> Arc<Mutex<DeliveryStatus>> {
        self.status.clone()
    }

    /// Runs until `stop` turns true, then delivers what is buffered and returns. An error
    /// from the source (it could not be read or acknowledged) ends the run.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), String> {
        let mut machine = Delivery::new(self.settings.clone());
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut next = 0u64;
        let mut invocations = 0u64;
        let mut stopping = false;
        loop {
            let now = self.clock.now_millis();
            let mut actions = Vec::new();
            let mut read_more = false;
            if !stopping && machine.buffered_bytes() < self.options.max_buffered {
                let records = self.source.read(next, self.options.read_batch).await?;
                if let Some(last) = records.last() {
                    next = last.position + 1;
                    read_more = records.len() == self.options.read_batch;
                    actions.extend(machine.put(records, now));
                }
            }
            actions.extend(machine.tick(now));
            for action in actions {
                self.perform(action, &mut tasks, &mut invocations, now)
                    .await?;
            }
            self.publish(&mut machine);
            if stopping && machine.is_idle() && tasks.is_empty() {
                return Ok(());
            }
            if read_more {
                continue;
            }
            let wake = machine.next_wake();
            let can_read = !stopping && machine.buffered_bytes() < self.options.max_buffered;
            tokio::select! {
                Some(done) = tasks.join_next() => {
                    let now = self.clock.now_millis();
                    let actions = match done.map_err(|e| format!("a delivery task failed: {e}"))? {
                        Done::Invoked(id, outcome) => machine.invoked(&id, &outcome, now),
                        Done::Written(id, result) => machine.written(id, result, now),
                    };
                    for action in actions {
                        self.perform(action, &mut tasks, &mut invocations, now).await?;
                    }
                }
                () = self.source.arrival(next), if can_read => {}
                () = async {
                    match wake {
                        Some(at) => self.clock.sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {}
                changed = stop.changed(), if !stopping => {
                    if changed.is_err() || *stop.borrow() {
                        stopping = true;
                        let now = self.clock.now_millis();
                        for action in machine.drain(now) {
                            self.perform(action, &mut tasks, &mut invocations, now).await?;
                        }
                    }
                }
            }
            self.publish(&mut machine);
        }
    }

    async fn perform(
        &self,
        action: Action,
        tasks: &mut JoinSet<Done>,
        invocations: &mut u64,
        now: Millis,
    ) -> Result<(), String> {
        match action {
            Action::Invoke {
                invocation_id,
                payload,
                ..
            } => {
                *invocations += 1;
                let function_arn = self
                    .settings
                    .processor
                    .as_ref()
                    .map(|p| p.lambda_arn.clone())
                    .unwrap_or_default();
                let request = InvokeRequest {
                    function_arn,
                    request_id: request_id(&self.settings.stream_arn, *invocations),
                    payload,
                    deadline_ms: now + self.options.function_timeout.as_millis() as Millis,
                };
                let processor = self.processor.clone();
                tasks.spawn(async move {
                    let outcome = match processor {
                        Some(invoker) => match invoker.oneshot(request).await {
                            Ok(outcome) => outcome,
                            Err(never) => match never {},
                        },
                        None => Outcome::ServiceError(format!(
                            "no function {} runs here: only riffle local invokes \
                             transformations",
                            request.function_arn
                        )),
                    };
                    Done::Invoked(invocation_id, outcome)
                });
            }
            Action::Write {
                write_id,
                bucket,
                key,
                body,
                content_encoding,
                ..
            } => {
                let sink = self.sink.clone();
                let object = PutObject {
                    bucket,
                    key,
                    body,
                    content_encoding,
                };
                tasks.spawn(async move { Done::Written(write_id, sink.put(object).await) });
            }
            Action::Acknowledge { below } => {
                self.source.acknowledge(below).await?;
                self.status.lock().expect("status lock").acknowledged = below;
            }
        }
        Ok(())
    }

    fn publish(&self, machine: &mut Delivery) {
        let now = self.clock.now_millis();
        let decisions = machine.take_decisions();
        let (invocations, writes) = machine.in_flight();
        let mut status = self.status.lock().expect("status lock");
        status.counters = machine.counters();
        status.buffered_bytes = machine.buffered_bytes();
        status.invocations_in_flight = invocations;
        status.writes_in_flight = writes;
        for decision in decisions {
            if status.decisions.len() == self.options.journal_capacity {
                status.decisions.pop_front();
            }
            status.decisions.push_back((now, decision));
        }
    }
}
