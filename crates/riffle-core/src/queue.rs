//! The SQS poller's decisions: how a poller gathers a batch from receives, which messages a
//! batch's outcome deletes, how long a throttled batch is retried, and how many pollers run.
//! The runtime performs the receives, invocations and deletes; time enters as arguments.
//!
//! Invariants:
//! - the engine deletes a message only when the function succeeded for it or a filter dropped
//!   it; a failed message is never deleted, it returns to the queue when its visibility timeout
//!   passes (and the queue's redrive policy, not the engine, moves it to a dead-letter queue);
//! - a received message is in exactly one batch, and a batch is invoked only while its
//!   messages are still hidden (throttle retries stop before the visibility timeout passes);
//! - the number of pollers stays within `[1, ceiling]`, where the ceiling is
//!   MaximumConcurrency (or 1 000). The function's reserved concurrency is deliberately not a
//!   cap: Lambda's SQS pollers do not account for it, so invocations beyond it are throttled
//!   (and retried until the visibility timeout is near, then returned to the queue).

use std::collections::VecDeque;

use crate::filter::Filters;
use crate::shard::Outcome;
use crate::sqs::{
    QueueMessage, SqsFacts, SqsMappingConfig, SqsVerdict, judge_sqs, records_event, sqs_record_json,
};
use crate::time::Millis;

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

/// What the poller needs beyond the mapping's configuration.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Queue ARN (`eventSourceARN`).
    pub queue_arn: String,
    /// Region (`awsRegion`).
    pub region: String,
    /// Most messages per batch.
    pub batch_size: usize,
    /// MaximumBatchingWindowInSeconds, in ms.
    pub batching_window_ms: Millis,
    /// Payload limit of one invocation.
    pub max_payload_bytes: usize,
    /// Whether the function reports failed messages.
    pub report_batch_item_failures: bool,
    /// Compiled filters.
    pub filters: Filters,
    /// How long a received message stays hidden: the queue's visibility timeout, or the longer
    /// one the poller asks for (see [`QueueSettings::receive_visibility_timeout_seconds`]).
    pub visibility_timeout_ms: Millis,
    /// The VisibilityTimeout the poller passes to ReceiveMessage, if it overrides the queue's.
    pub receive_visibility_timeout_seconds: Option<u32>,
    /// Most concurrent batches: MaximumConcurrency (or 1 000). Not the function's reserved
    /// concurrency, which Lambda's SQS pollers do not account for.
    pub ceiling: usize,
    /// Whether MaximumConcurrency is set (the floor then stays at 5).
    pub maximum_concurrency_set: bool,
    /// Whether the queue is a FIFO queue.
    pub fifo: bool,
}

impl QueueSettings {
    /// Settings for `config` on the queue and function `facts` describe.
    ///
    /// The function's reserved concurrency plays no part, as on AWS: with reserved concurrency
    /// below what the pollers want, the invocations beyond it are throttled; only
    /// MaximumConcurrency caps the pollers.
    ///
    /// Lambda extends the visibility timeout of the messages it receives when a batching window
    /// is set and `window + function timeout` exceeds the queue's: they stay hidden for
    /// `window + timeout + 30 s`.
    pub fn new(config: &SqsMappingConfig, region: &str, facts: SqsFacts) -> Result<Self, String> {
        let function_timeout_seconds = facts.function_timeout_seconds;
        let window_seconds = config.batching_window_ms / 1000;
        let mut visibility_seconds = facts.visibility_timeout_seconds;
        let mut receive_visibility = None;
        if window_seconds > 0 && window_seconds + function_timeout_seconds > visibility_seconds {
            visibility_seconds = window_seconds + function_timeout_seconds + 30;
            receive_visibility = Some(visibility_seconds as u32);
        }
        let ceiling = config
            .maximum_concurrency
            .map_or(MAX_POLLERS, |c| c as usize)
            .max(1);
        Ok(Self {
            queue_arn: config.event_source_arn.clone(),
            region: region.to_owned(),
            batch_size: config.batch_size,
            batching_window_ms: config.batching_window_ms,
            max_payload_bytes: crate::config::MAX_PAYLOAD_BYTES,
            report_batch_item_failures: config.report_batch_item_failures,
            filters: Filters::compile(&config.filter_patterns)?,
            visibility_timeout_ms: visibility_seconds * 1000,
            receive_visibility_timeout_seconds: receive_visibility,
            ceiling,
            maximum_concurrency_set: config.maximum_concurrency.is_some(),
            fifo: facts.fifo,
        })
    }
}

/// A message waiting in a poller, with its event JSON already written.
#[derive(Debug, Clone)]
struct Held {
    message: QueueMessage,
    json: String,
    hidden_until: Millis,
}

/// A batch ready for the function.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueBatch {
    /// Its messages, in receive order.
    pub messages: Vec<QueueMessage>,
    /// The SQS event JSON.
    pub payload: String,
    /// When the first of its messages becomes visible again: the function must be done by then.
    pub hidden_until: Millis,
    /// Throttled or failed-to-reach invocations of it so far.
    pub throttles: u32,
}

/// What a poller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
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
pub struct Gatherer {
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
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages held, in this batch and waiting for the next.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes messages a receive returned at `now`. Returns the ones the filters drop: the
    /// runtime deletes them, as Lambda does.
    pub fn received(
        &mut self,
        settings: &QueueSettings,
        messages: Vec<QueueMessage>,
        now: Millis,
    ) -> Vec<QueueMessage> {
        let mut dropped = Vec::new();
        for message in messages {
            if !settings.filters.passes_message(&message) {
                dropped.push(message);
                continue;
            }
            let json = sqs_record_json(&settings.queue_arn, &settings.region, &message);
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
    fn admit(&mut self, settings: &QueueSettings, now: Millis) {
        while self.count < self.held.len() && self.count < settings.batch_size && !self.overflow {
            let size = self.held[self.count].json.len() + 1;
            let envelope = crate::event::ENVELOPE_BYTES;
            if self.count > 0 && envelope + self.bytes + size > settings.max_payload_bytes {
                self.overflow = true;
                break;
            }
            self.bytes += size;
            self.count += 1;
            self.window_start.get_or_insert(now);
        }
    }

    /// The next step at `now`.
    pub fn step(&self, settings: &QueueSettings, now: Millis) -> Step {
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

    /// When the batching window of the batch being gathered ends, if it has begun.
    pub fn window_end(&self, settings: &QueueSettings) -> Option<Millis> {
        self.window_start.map(|s| s + settings.batching_window_ms)
    }

    /// Takes the batch being gathered; messages that did not fit start the next one.
    pub fn take(&mut self, settings: &QueueSettings, now: Millis) -> QueueBatch {
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
    pub fn drain(&mut self) -> Vec<QueueMessage> {
        self.count = 0;
        self.bytes = 0;
        self.overflow = false;
        self.window_start = None;
        self.held.drain(..).map(|h| h.message).collect()
    }
}

/// Why a batch ended the way it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Every message succeeded.
    Success,
    /// The function reported these message ids as failed.
    PartialFailure(Vec<String>),
    /// The response failed the whole batch (ReportBatchItemFailures rules).
    InvalidResponse(String),
    /// The function failed: unhandled error, timeout, crash.
    FunctionError(String),
    /// The batch was throttled (or the invoke failed) until its visibility timeout was near;
    /// Lambda stops working on it and SQS hands it out again.
    GaveUp(String),
}

/// What to do with a batch after an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Delete `delete`; the rest of the batch returns to the queue when its visibility timeout
    /// passes.
    Done {
        /// Messages to delete.
        delete: Vec<QueueMessage>,
        /// Messages left to come back.
        returned: Vec<QueueMessage>,
        /// Why.
        settled: Settled,
    },
    /// Invoke the same batch again at `at` (a throttle or an invoke service error).
    RetryAt {
        /// When.
        at: Millis,
    },
}

/// Back-off between invocations of a throttled batch: 1 s, 2 s, 4 s, 8 s, then 8 s.
pub fn throttle_delay(throttles: u32) -> Millis {
    1000 << throttles.saturating_sub(1).min(3)
}

/// Decides what an invocation's `outcome` means for `batch` at `now`. When the batch is done
/// ([`Settlement::Done`]) its messages move into the settlement, leaving `batch.messages`
/// empty; a retry ([`Settlement::RetryAt`]) leaves the batch as it was.
pub fn settle(
    settings: &QueueSettings,
    batch: &mut QueueBatch,
    outcome: &Outcome,
    now: Millis,
) -> Settlement {
    let everything = |batch: &mut QueueBatch, settled| Settlement::Done {
        delete: Vec::new(),
        returned: std::mem::take(&mut batch.messages),
        settled,
    };
    match outcome {
        Outcome::Throttled | Outcome::ServiceError(_) => {
            batch.throttles += 1;
            let at = now + throttle_delay(batch.throttles);
            if at + VISIBILITY_MARGIN_MS <= batch.hidden_until {
                return Settlement::RetryAt { at };
            }
            let reason = match outcome {
                Outcome::ServiceError(error) => format!("invoke failed: {error}"),
                _ => "throttled".to_owned(),
            };
            everything(batch, Settled::GaveUp(reason))
        }
        Outcome::FunctionError { error_type, .. } => {
            everything(batch, Settled::FunctionError(error_type.clone()))
        }
        Outcome::Success(body) => {
            let verdict = if settings.report_batch_item_failures {
                let ids: Vec<&str> = batch
                    .messages
                    .iter()
                    .map(|m| m.message_id.as_str())
                    .collect();
                judge_sqs(body, &ids)
            } else {
                SqsVerdict::Success
            };
            match verdict {
                SqsVerdict::Success => Settlement::Done {
                    delete: std::mem::take(&mut batch.messages),
                    returned: Vec::new(),
                    settled: Settled::Success,
                },
                SqsVerdict::CompleteFailure(reason) => {
                    everything(batch, Settled::InvalidResponse(reason))
                }
                SqsVerdict::PartialFailure(failed) => {
                    let (returned, delete) = std::mem::take(&mut batch.messages)
                        .into_iter()
                        .partition(|m| failed.contains(&m.message_id));
                    Settlement::Done {
                        delete,
                        returned,
                        settled: Settled::PartialFailure(failed),
                    }
                }
            }
        }
    }
}

/// How many pollers (concurrent batches) a mapping runs.
///
/// Starts at 5. While every receive comes back full, adds 5 a second (300 a minute) up to the
/// ceiling. A receive that comes back empty retires one poller down to the floor: 5 while
/// messages flow, 2 after a minute without any (5 when MaximumConcurrency is set). A function
/// error (without ReportBatchItemFailures) or a throttle halves the count, down to the floor.
#[derive(Debug, Clone)]
pub struct Scaler {
    target: usize,
    ceiling: usize,
    maximum_concurrency_set: bool,
    last_growth: Millis,
    last_message: Millis,
}

impl Scaler {
    /// A scaler for `settings`, starting at `now`.
    pub fn new(settings: &QueueSettings, now: Millis) -> Self {
        Self {
            target: START_POLLERS.min(settings.ceiling),
            ceiling: settings.ceiling,
            maximum_concurrency_set: settings.maximum_concurrency_set,
            last_growth: now,
            last_message: now,
        }
    }

    /// Pollers that should run.
    pub fn target(&self) -> usize {
        self.target
    }

    fn floor(&self, now: Millis) -> usize {
        let idle = now.saturating_sub(self.last_message) >= IDLE_AFTER_MS;
        let floor = if idle && !self.maximum_concurrency_set {
            IDLE_POLLERS
        } else {
            START_POLLERS
        };
        floor.min(self.ceiling)
    }

    /// A receive asked for `requested` messages and got `got`. Returns whether the target
    /// changed.
    pub fn received(&mut self, requested: usize, got: usize, now: Millis) -> bool {
        let before = self.target;
        if got > 0 {
            self.last_message = now;
            self.target = self.target.max(self.floor(now));
        }
        if got > 0 && got >= requested {
            if now.saturating_sub(self.last_growth) >= 1000 {
                self.target = (self.target + GROWTH_PER_SECOND).min(self.ceiling);
                self.last_growth = now;
            }
        } else if got == 0 {
            self.target = self.target.saturating_sub(1).max(self.floor(now));
        }
        self.target != before
    }

    /// A batch failed in a way that makes Lambda back off. Returns whether the target changed.
    pub fn backed_off(&mut self, now: Millis) -> bool {
        let before = self.target;
        self.target = (self.target / 2).max(self.floor(now)).min(before);
        self.last_growth = now;
        self.target != before
    }
}

#[cfg(test)]
mod tests;
