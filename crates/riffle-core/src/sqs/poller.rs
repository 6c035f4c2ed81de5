//! One SQS poller as a state machine, the counterpart of [`crate::kinesis::shard`]: results
//! in (receives, invocation outcomes, delete and release results, time, shutdown), effects out
//! (receive, invoke, delete, release, wake, journal). The runtime performs the effects and
//! feeds their results back; every decision is made here, on virtual time.
//!
//! A poller long-polls the queue, gathers a batch ([`Gatherer`]: batch size, batching window,
//! 6 MiB), invokes it, settles it ([`settle`]: delete what succeeded, retry throttles, give up
//! before the visibility timeout), deletes in calls of 10 (retrying entries SQS failed on its
//! side once), and on a FIFO queue hands back what it holds after a failed batch so a group's
//! later messages wait for its retry. After a failed receive it pauses. On shutdown it finishes
//! the batch it is invoking and hands back (visibility 0) what it held uninvoked. How many
//! pollers run is the [`Scaler`]'s decision, a machine shared by the mapping's pollers.
//!
//! Invariants:
//! - the engine deletes a message only when the function succeeded for it or a filter dropped
//!   it; a failed message is never deleted, it returns to the queue when its visibility timeout
//!   passes (and the queue's redrive policy, not the engine, moves it to a dead-letter queue);
//! - a received message is in exactly one batch, and a batch is invoked only while its
//!   messages are still hidden (throttle retries stop before the visibility timeout passes);
//! - a poller retires only between batches, holding nothing;
//! - the number of pollers stays within `[1, ceiling]`, where the ceiling is
//!   MaximumConcurrency (or 1 000). The function's reserved concurrency is deliberately not a
//!   cap: Lambda's SQS pollers do not account for it, so invocations beyond it are throttled
//!   (and retried until the visibility timeout is near, then returned to the queue).

use crate::invocation::Outcome;
use crate::sqs::event::{QueueMessage, sqs_event};
use crate::time::Millis;

mod gather;
mod scaler;
mod settle;
mod types;

use gather::{Gatherer, QueueBatch, Step};
pub use scaler::Scaler;
pub use settle::Settled;
use settle::{Settlement, settle};
pub use types::{
    Decision, Effect, EntryFailure, PollerSettings, ReceiptEntry, ReceiveRequest, Signal,
};

/// Longest wait SQS allows for one ReceiveMessage call.
pub const MAX_WAIT_SECONDS: u32 = 20;
/// Most messages one ReceiveMessage call returns.
pub const MAX_RECEIVE: usize = 10;
/// Pollers a mapping starts with, and the floor while messages flow.
pub const START_POLLERS: usize = 5;
/// The floor after a minute without messages (unless MaximumConcurrency is set).
pub const IDLE_POLLERS: usize = 2;
/// Most concurrent batches of one mapping without MaximumConcurrency.
pub const MAX_POLLERS: usize = 1000;
/// Pollers added per second while every poller finds a full receive: 300 a minute, the
/// current AWS figure (older docs say 60).
pub const GROWTH_PER_SECOND: usize = 5;
/// Without messages for this long, the floor drops from 5 to 2 pollers.
pub const IDLE_AFTER_MS: Millis = 60_000;
/// Throttle and invoke-service-error retries stop this long before the batch's visibility
/// timeout passes, so an invocation never runs on messages SQS may hand out again.
pub const VISIBILITY_MARGIN_MS: Millis = 1_000;

/// Most entries of one DeleteMessageBatch or ChangeMessageVisibilityBatch call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Calls per chunk of entries to delete: the first, and one retry of the entries SQS failed on
/// its side.
const DELETE_ATTEMPTS: u8 = 2;

/// What a poller does when its deletes are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterDelete {
    /// Messages the filters dropped: carry on.
    Filtered,
    /// A settled batch: count the deletes, and hand back what is held after a FIFO failure.
    Settled {
        /// Whether the batch failed.
        failed: bool,
    },
}

/// What a poller does when its releases are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterRelease {
    /// A FIFO hand-back: carry on.
    HandBack,
    /// Shutdown: stop.
    Stop,
}

/// Messages being deleted, one call of at most [`MAX_BATCH_ENTRIES`] at a time.
#[derive(Debug)]
struct Deleting {
    messages: Vec<QueueMessage>,
    /// Start of the chunk being deleted.
    chunk: usize,
    /// The message ids of the chunk a second attempt deletes (`None`: the whole chunk).
    retry: Option<Vec<String>>,
    attempt: u8,
    /// Entries in the call being made.
    sent: usize,
    deleted: usize,
    then: AfterDelete,
}

impl Deleting {
    /// The entries of the current attempt at the current chunk; counts them as sent.
    fn entries(&mut self) -> Vec<ReceiptEntry> {
        let end = (self.chunk + MAX_BATCH_ENTRIES).min(self.messages.len());
        let entries = entries(&self.messages[self.chunk..end], self.retry.as_deref());
        self.sent = entries.len();
        entries
    }
}

/// Messages being handed back, one call of at most [`MAX_BATCH_ENTRIES`] at a time.
#[derive(Debug)]
struct Releasing {
    messages: Vec<QueueMessage>,
    chunk: usize,
    then: AfterRelease,
}

#[derive(Debug)]
enum State {
    /// Between steps (never seen by the runtime).
    Ready,
    /// Asked whether to retire.
    Retiring,
    Receiving {
        requested: usize,
    },
    /// After a failed receive.
    Pausing {
        until: Millis,
    },
    Invoking(QueueBatch),
    /// A throttled batch waiting for its next invocation.
    Throttled {
        batch: QueueBatch,
        until: Millis,
    },
    Deleting(Deleting),
    Releasing(Releasing),
    Stopped,
}

/// The state machine of one poller of an SQS mapping. Each input pushes effects onto `out`,
/// ending with the one action the runtime performs next (see [`Effect`]).
#[derive(Debug)]
pub struct Poller {
    gatherer: Gatherer,
    state: State,
    stopping: bool,
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}

/// The receipt entries of `messages`, those named in `only` if given.
fn entries(messages: &[QueueMessage], only: Option<&[String]>) -> Vec<ReceiptEntry> {
    messages
        .iter()
        .filter(|m| only.is_none_or(|ids| ids.contains(&m.message_id)))
        .map(ReceiptEntry::from)
        .collect()
}

impl Poller {
    /// A poller that has not started.
    pub fn new() -> Self {
        Self {
            gatherer: Gatherer::new(),
            state: State::Ready,
            stopping: false,
        }
    }

    /// Messages held: in the batch being gathered and waiting for the next.
    pub fn held(&self) -> usize {
        self.gatherer.held()
    }

    /// Whether the mapping told this poller it stops.
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Whether the poller is done.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// The first step.
    pub fn start(&mut self, settings: &PollerSettings, now: Millis, out: &mut Vec<Effect>) {
        self.decide(settings, now, out);
    }

    /// The mapping is stopping. Pushes nothing: the poller finishes what the runtime is
    /// performing, and then hands back what it holds. A runtime that interrupts a receive or a
    /// wait for shutdown reports it with [`Poller::receive_cancelled`] or [`Poller::tick`].
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    /// The scaler kept this poller ([`Effect::Retire`]).
    pub fn stayed(&mut self, settings: &PollerSettings, now: Millis, out: &mut Vec<Effect>) {
        if matches!(self.state, State::Retiring) {
            self.state = State::Ready;
            self.step(settings, now, out);
        }
    }

    /// A receive returned `result` (the error's text on failure).
    pub fn received(
        &mut self,
        settings: &PollerSettings,
        result: Result<Vec<QueueMessage>, String>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let State::Receiving { requested } = self.state else {
            return;
        };
        self.state = State::Ready;
        let messages = match result {
            Ok(messages) => messages,
            Err(error) => {
                out.push(Effect::Journal(Decision::SourceFailed {
                    call: "ReceiveMessage",
                    error,
                }));
                if self.stopping {
                    self.decide(settings, now, out);
                } else {
                    let until = now + settings.error_pause_ms;
                    self.state = State::Pausing { until };
                    out.push(Effect::Wake { at: until });
                }
                return;
            }
        };
        let count = messages.len();
        out.push(Effect::Scale(Signal::Received {
            requested,
            got: count,
        }));
        if count > 0 {
            out.push(Effect::Journal(Decision::Received { messages: count }));
            let dropped = self.gatherer.received(settings, messages, now);
            if !dropped.is_empty() {
                out.push(Effect::Journal(Decision::Filtered {
                    messages: dropped.len(),
                }));
                self.delete(settings, dropped, AfterDelete::Filtered, now, out);
                return;
            }
        }
        self.decide(settings, now, out);
    }

    /// The runtime dropped the receive in flight because the mapping stops.
    pub fn receive_cancelled(
        &mut self,
        settings: &PollerSettings,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        if matches!(self.state, State::Receiving { .. }) {
            self.stopping = true;
            self.state = State::Ready;
            self.decide(settings, now, out);
        }
    }

    /// The invocation ended with `outcome`.
    pub fn invocation_finished(
        &mut self,
        settings: &PollerSettings,
        outcome: &Outcome,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let State::Invoking(mut batch) = std::mem::replace(&mut self.state, State::Ready) else {
            return;
        };
        match settle(settings, &mut batch, outcome, now) {
            Settlement::RetryAt { at } => {
                out.push(Effect::Journal(Decision::Throttled {
                    retry_in_ms: at - now,
                }));
                out.push(Effect::Scale(Signal::BackedOff));
                batch.payload = sqs_event(&settings.queue_arn, &settings.region, &batch.messages);
                self.state = State::Throttled { batch, until: at };
                out.push(Effect::Wake { at });
            }
            Settlement::Done {
                delete,
                returned,
                settled,
            } => {
                let failed = !matches!(settled, Settled::Success);
                let backs_off = match &settled {
                    Settled::FunctionError(_) | Settled::InvalidResponse(_) => {
                        !settings.report_batch_item_failures
                    }
                    Settled::GaveUp(_) => true,
                    Settled::Success | Settled::PartialFailure(_) => false,
                };
                if backs_off {
                    out.push(Effect::Scale(Signal::BackedOff));
                }
                out.push(Effect::Journal(Decision::Settled {
                    settled,
                    deleted: delete.len(),
                    returned: returned.len(),
                }));
                self.delete(settings, delete, AfterDelete::Settled { failed }, now, out);
            }
        }
    }

    /// A DeleteMessageBatch call returned `result`: the entries that failed, or the call's
    /// error.
    pub fn deleted(
        &mut self,
        settings: &PollerSettings,
        result: Result<Vec<EntryFailure>, String>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let State::Deleting(mut deleting) = std::mem::replace(&mut self.state, State::Ready) else {
            return;
        };
        let may_retry = deleting.attempt + 1 < DELETE_ATTEMPTS;
        match result {
            Ok(failures) => {
                deleting.deleted += deleting.sent - failures.len();
                let (retry, give_up): (Vec<_>, Vec<_>) = failures
                    .into_iter()
                    .partition(|f| !f.sender_fault && may_retry);
                if !give_up.is_empty() {
                    out.push(Effect::Journal(Decision::DeleteFailed {
                        failures: give_up,
                    }));
                }
                deleting.retry = Some(retry.into_iter().map(|f| f.message_id).collect());
            }
            // The whole chunk is tried again.
            Err(error) => {
                out.push(Effect::Journal(Decision::SourceFailed {
                    call: "DeleteMessageBatch",
                    error,
                }));
            }
        }
        if may_retry {
            deleting.attempt += 1;
            let entries = deleting.entries();
            if !entries.is_empty() {
                self.state = State::Deleting(deleting);
                out.push(Effect::Delete(entries));
                return;
            }
        }
        deleting.chunk += MAX_BATCH_ENTRIES;
        deleting.attempt = 0;
        deleting.retry = None;
        if deleting.chunk < deleting.messages.len() {
            let entries = deleting.entries();
            self.state = State::Deleting(deleting);
            out.push(Effect::Delete(entries));
            return;
        }
        match deleting.then {
            AfterDelete::Filtered => self.decide(settings, now, out),
            AfterDelete::Settled { failed } => {
                if deleting.deleted > 0 {
                    out.push(Effect::Deleted(deleting.deleted));
                }
                self.after_batch(settings, failed, now, out);
            }
        }
    }

    /// A ChangeMessageVisibilityBatch call returned `result`. Entries that failed return when
    /// their visibility timeout passes, so only a failed call is recorded.
    pub fn released(
        &mut self,
        settings: &PollerSettings,
        result: Result<Vec<EntryFailure>, String>,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        let State::Releasing(mut releasing) = std::mem::replace(&mut self.state, State::Ready)
        else {
            return;
        };
        if let Err(error) = result {
            out.push(Effect::Journal(Decision::SourceFailed {
                call: "ChangeMessageVisibilityBatch",
                error,
            }));
        }
        releasing.chunk += MAX_BATCH_ENTRIES;
        if releasing.chunk < releasing.messages.len() {
            self.send_release(releasing, out);
            return;
        }
        out.push(Effect::Journal(Decision::Released {
            messages: releasing.messages.len(),
        }));
        self.after_release(settings, releasing.then, now, out);
    }

    /// Time passed: a [`Effect::Wake`] is due, or shutdown interrupted the wait.
    pub fn tick(&mut self, settings: &PollerSettings, now: Millis, out: &mut Vec<Effect>) {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Pausing { until } if now < until && !self.stopping => {
                self.state = State::Pausing { until };
                out.push(Effect::Wake { at: until });
            }
            State::Pausing { .. } => self.decide(settings, now, out),
            // A throttled batch is retried even while the mapping stops: it is being invoked.
            State::Throttled { batch, until } if now < until => {
                self.state = State::Throttled { batch, until };
                out.push(Effect::Wake { at: until });
            }
            State::Throttled { batch, .. } => self.invoke(batch, out),
            other => self.state = other,
        }
    }

    /// What to do between batches: stop, offer to retire, or take the next step.
    fn decide(&mut self, settings: &PollerSettings, now: Millis, out: &mut Vec<Effect>) {
        if self.stopping {
            let held = self.gatherer.drain();
            self.release(settings, held, AfterRelease::Stop, now, out);
        } else if self.gatherer.held() == 0 {
            self.state = State::Retiring;
            out.push(Effect::Retire);
        } else {
            self.step(settings, now, out);
        }
    }

    /// Receive, or invoke the batch gathered.
    fn step(&mut self, settings: &PollerSettings, now: Millis, out: &mut Vec<Effect>) {
        match self.gatherer.step(settings, now) {
            Step::Receive {
                max_messages,
                wait_seconds,
            } => {
                self.state = State::Receiving {
                    requested: max_messages,
                };
                out.push(Effect::Receive(ReceiveRequest {
                    max_messages,
                    wait_seconds,
                    visibility_timeout_seconds: settings.receive_visibility_timeout_seconds,
                }));
            }
            Step::Invoke => {
                let batch = self.gatherer.take(settings, now);
                self.invoke(batch, out);
            }
        }
    }

    fn invoke(&mut self, mut batch: QueueBatch, out: &mut Vec<Effect>) {
        out.push(Effect::Journal(Decision::Invoked {
            messages: batch.messages.len(),
            first_message_id: batch.messages[0].message_id.clone(),
            throttles: batch.throttles,
        }));
        // Moved, not copied: only a throttle needs it again, and then it is rebuilt.
        let payload = std::mem::take(&mut batch.payload);
        self.state = State::Invoking(batch);
        out.push(Effect::Invoke { payload });
    }

    fn delete(
        &mut self,
        settings: &PollerSettings,
        messages: Vec<QueueMessage>,
        then: AfterDelete,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        if messages.is_empty() {
            match then {
                AfterDelete::Filtered => self.decide(settings, now, out),
                AfterDelete::Settled { failed } => self.after_batch(settings, failed, now, out),
            }
            return;
        }
        let mut deleting = Deleting {
            messages,
            chunk: 0,
            retry: None,
            attempt: 0,
            sent: 0,
            deleted: 0,
            then,
        };
        let entries = deleting.entries();
        self.state = State::Deleting(deleting);
        out.push(Effect::Delete(entries));
    }

    /// After a batch and its deletes: a FIFO poller hands back what it holds after a failure,
    /// so later messages of a failed group wait for its retry instead of overtaking it.
    fn after_batch(
        &mut self,
        settings: &PollerSettings,
        failed: bool,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        if failed && settings.fifo {
            let held = self.gatherer.drain();
            self.release(settings, held, AfterRelease::HandBack, now, out);
        } else {
            self.decide(settings, now, out);
        }
    }

    fn release(
        &mut self,
        settings: &PollerSettings,
        messages: Vec<QueueMessage>,
        then: AfterRelease,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        if messages.is_empty() {
            self.after_release(settings, then, now, out);
            return;
        }
        let releasing = Releasing {
            messages,
            chunk: 0,
            then,
        };
        self.send_release(releasing, out);
    }

    fn send_release(&mut self, releasing: Releasing, out: &mut Vec<Effect>) {
        let end = (releasing.chunk + MAX_BATCH_ENTRIES).min(releasing.messages.len());
        out.push(Effect::Release(entries(
            &releasing.messages[releasing.chunk..end],
            None,
        )));
        self.state = State::Releasing(releasing);
    }

    fn after_release(
        &mut self,
        settings: &PollerSettings,
        then: AfterRelease,
        now: Millis,
        out: &mut Vec<Effect>,
    ) {
        match then {
            AfterRelease::HandBack => self.decide(settings, now, out),
            AfterRelease::Stop => {
                self.state = State::Stopped;
                out.push(Effect::Stopped);
            }
        }
    }
}

#[cfg(test)]
mod tests;
