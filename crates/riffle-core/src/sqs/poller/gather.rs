//! Gathering: one poller's batch in the making, by size, batching window and payload limit.

use std::collections::VecDeque;

use crate::invocation::{ENVELOPE_BYTES, records_event};
use crate::sqs::event::{QueueMessage, record_json};
use crate::time::Millis;

use super::{MAX_RECEIVE, MAX_WAIT_SECONDS, PollerSettings};

/// A message waiting in a poller, with its event JSON already written.
#[derive(Debug, Clone)]
struct Held {
    message: QueueMessage,
    json: String,
    hidden_until: Millis,
}

/// A batch ready for the function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueBatch {
    /// Its messages, in receive order.
    pub(crate) messages: Vec<QueueMessage>,
    /// The SQS event JSON.
    pub(crate) payload: String,
    /// When the first of its messages becomes visible again: the function must be done by then.
    pub(crate) hidden_until: Millis,
    /// Throttled or failed-to-reach invocations of it so far.
    pub(crate) throttles: u32,
}

/// What a poller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// ReceiveMessage with at most `max_messages`, long polling up to `wait_seconds`.
    Receive {
        /// 1–10.
        max_messages: usize,
        /// 0–20.
        wait_seconds: u32,
    },
    /// Invoke the batch [`Gatherer::take`] returns.
    Invoke,
}

/// One poller's batch in the making: messages received but not yet invoked.
///
/// The batching window starts when the first message of a batch is received: a lone message
/// waits up to the window for company, and an idle queue is long-polled without a deadline.
#[derive(Debug, Default)]
pub(crate) struct Gatherer {
    held: VecDeque<Held>,
    /// Messages of the batch being gathered (a prefix of `held`); the rest wait for the next.
    count: usize,
    bytes: usize,
    /// Whether the next message did not fit in the payload limit.
    overflow: bool,
    window_start: Option<Millis>,
}

impl Gatherer {
    /// An empty gatherer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Messages held, in this batch and waiting for the next.
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes messages a receive returned at `now`. Returns the ones the filters drop: the
    /// runtime deletes them, as Lambda does.
    pub(crate) fn received(
        &mut self,
        settings: &PollerSettings,
        messages: Vec<QueueMessage>,
        now: Millis,
    ) -> Vec<QueueMessage> {
        let mut dropped = Vec::new();
        for message in messages {
            if !settings.filters.passes_message(&message) {
                dropped.push(message);
                continue;
            }
            let json = record_json(&settings.queue_arn, &settings.region, &message);
            self.held.push_back(Held {
                message,
                json,
                hidden_until: now + settings.visibility_timeout_ms,
            });
        }
        self.admit(settings, now);
        dropped
    }

    /// Moves held messages into the batch while they fit.
    fn admit(&mut self, settings: &PollerSettings, now: Millis) {
        while self.count < self.held.len() && self.count < settings.batch_size && !self.overflow {
            let size = self.held[self.count].json.len() + 1;
            if self.count > 0 && ENVELOPE_BYTES + self.bytes + size > settings.max_payload_bytes {
                self.overflow = true;
                break;
            }
            self.bytes += size;
            self.count += 1;
            self.window_start.get_or_insert(now);
        }
    }

    /// The next step at `now`.
    pub(crate) fn step(&self, settings: &PollerSettings, now: Millis) -> Step {
        let full = self.count == settings.batch_size || self.overflow;
        let window_end = self.window_start.map(|s| s + settings.batching_window_ms);
        if self.count > 0 && (full || window_end.is_some_and(|end| now >= end)) {
            return Step::Invoke;
        }
        let wanted = settings.batch_size - self.count;
        let wait_seconds = match window_end {
            None => MAX_WAIT_SECONDS,
            Some(end) => end
                .saturating_sub(now)
                .div_ceil(1000)
                .min(MAX_WAIT_SECONDS as u64) as u32,
        };
        Step::Receive {
            max_messages: wanted.clamp(1, MAX_RECEIVE),
            wait_seconds,
        }
    }

    /// Takes the batch being gathered; messages that did not fit start the next one.
    pub(crate) fn take(&mut self, settings: &PollerSettings, now: Millis) -> QueueBatch {
        let taken: Vec<Held> = self.held.drain(..self.count).collect();
        self.count = 0;
        self.bytes = 0;
        self.overflow = false;
        self.window_start = None;
        self.admit(settings, now);
        let hidden_until = taken.iter().map(|h| h.hidden_until).min().unwrap_or(now);
        let payload = records_event(&taken.iter().map(|h| h.json.as_str()).collect::<Vec<_>>());
        QueueBatch {
            messages: taken.into_iter().map(|h| h.message).collect(),
            payload,
            hidden_until,
            throttles: 0,
        }
    }

    /// Every message held, for the runtime to release when it stops.
    pub(crate) fn drain(&mut self) -> Vec<QueueMessage> {
        self.count = 0;
        self.bytes = 0;
        self.overflow = false;
        self.window_start = None;
        self.held.drain(..).map(|h| h.message).collect()
    }
}
