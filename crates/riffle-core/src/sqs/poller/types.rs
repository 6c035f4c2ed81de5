//! The poller machine's values: settings, the SQS calls it asks for and their per-entry
//! results, and its decisions.

use crate::filter::Filters;
use crate::invocation::MAX_PAYLOAD_BYTES;
use crate::sqs::config::{SqsFacts, SqsMappingConfig};
use crate::sqs::event::QueueMessage;
use crate::time::Millis;

use super::{MAX_POLLERS, Settled};

/// What the poller needs beyond the mapping's configuration.
#[derive(Debug, Clone)]
pub struct PollerSettings {
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
    /// one the poller asks for (see [`PollerSettings::receive_visibility_timeout_seconds`]).
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
    /// Wait after a failed receive before receiving again.
    pub error_pause_ms: Millis,
}

impl PollerSettings {
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
            max_payload_bytes: MAX_PAYLOAD_BYTES,
            report_batch_item_failures: config.report_batch_item_failures,
            filters: Filters::compile(&config.filter_patterns)?,
            visibility_timeout_ms: visibility_seconds * 1000,
            receive_visibility_timeout_seconds: receive_visibility,
            ceiling,
            maximum_concurrency_set: config.maximum_concurrency.is_some(),
            fifo: facts.fifo,
            error_pause_ms: 1000,
        })
    }
}

/// One ReceiveMessage call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// MaxNumberOfMessages, 1–10.
    pub max_messages: usize,
    /// WaitTimeSeconds, 0–20.
    pub wait_seconds: u32,
    /// VisibilityTimeout to ask for, when the poller extends the queue's.
    pub visibility_timeout_seconds: Option<u32>,
}

/// A message to delete or release: its id (for per-entry results) and this receive's handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEntry {
    /// MessageId.
    pub message_id: String,
    /// ReceiptHandle.
    pub receipt_handle: String,
}

impl From<&QueueMessage> for ReceiptEntry {
    fn from(message: &QueueMessage) -> Self {
        Self {
            message_id: message.message_id.clone(),
            receipt_handle: message.receipt_handle.clone(),
        }
    }
}

/// A per-entry failure of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    /// MessageId of the entry.
    pub message_id: String,
    /// SQS's error code.
    pub code: String,
    /// Whether SQS blamed the request (retrying it cannot help).
    pub sender_fault: bool,
}

/// What one poller saw and decided, as the user reads it back (the runtime journals it).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A receive returned messages.
    Received {
        /// How many.
        messages: usize,
    },
    /// A receive, delete or release failed.
    SourceFailed {
        /// The call.
        call: &'static str,
        /// The error.
        error: String,
    },
    /// Messages the filters dropped were deleted.
    Filtered {
        /// How many.
        messages: usize,
    },
    /// A batch was sent to the function.
    Invoked {
        /// Messages in it.
        messages: usize,
        /// Its first message id.
        first_message_id: String,
        /// Earlier throttled invocations of it.
        throttles: u32,
    },
    /// A throttled batch is invoked again later.
    Throttled {
        /// After this long.
        retry_in_ms: Millis,
    },
    /// A batch is done.
    Settled {
        /// How it ended.
        settled: Settled,
        /// Messages deleted.
        deleted: usize,
        /// Messages left to return to the queue after their visibility timeout.
        returned: usize,
    },
    /// Deleting some messages failed; they will be received again.
    DeleteFailed {
        /// The entries and SQS's codes.
        failures: Vec<EntryFailure>,
    },
    /// Uninvoked messages were handed back when the poller stopped.
    Released {
        /// How many.
        messages: usize,
    },
    /// The number of pollers changed.
    Scaled {
        /// The new target.
        pollers: usize,
    },
}

/// What a poller tells the mapping's [`super::Scaler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A receive asked for `requested` messages and got `got`.
    Received {
        /// MaxNumberOfMessages asked for.
        requested: usize,
        /// Messages returned.
        got: usize,
    },
    /// A batch failed in a way that makes Lambda back off (a throttle, or a function error
    /// without ReportBatchItemFailures).
    BackedOff,
}

/// Something the runtime must do for a poller, or record.
///
/// Every input of [`super::Poller`] ends with exactly one action (the last effect: Receive,
/// Invoke, Delete, Release, Wake, Retire or Stopped); the runtime performs it and reports its
/// result with the matching method. The effects before it are records (Journal, Scale, Deleted).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Record a decision in the mapping's journal.
    Journal(Decision),
    /// Feed a signal to the mapping's scaler (journal the change it reports).
    Scale(Signal),
    /// SQS deleted this many messages of a settled batch (for the counters).
    Deleted(usize),
    /// ReceiveMessage; report with [`super::Poller::received`], or
    /// [`super::Poller::receive_cancelled`] when shutdown interrupted it.
    Receive(ReceiveRequest),
    /// Invoke the function with this SQS event; report with
    /// [`super::Poller::invocation_finished`].
    Invoke {
        /// The event JSON.
        payload: String,
    },
    /// DeleteMessageBatch (at most 10 entries); report with [`super::Poller::deleted`].
    Delete(Vec<ReceiptEntry>),
    /// ChangeMessageVisibilityBatch to 0 (at most 10 entries); report with
    /// [`super::Poller::released`].
    Release(Vec<ReceiptEntry>),
    /// Call [`super::Poller::tick`] at `at` (or earlier, when shutdown interrupts the wait).
    Wake {
        /// When.
        at: Millis,
    },
    /// The poller holds nothing: ask the scaler whether it retires
    /// ([`super::Scaler::retire_poller`]); if it does not, report with [`super::Poller::stayed`].
    Retire,
    /// The mapping stops and the poller handed back everything it held: it is done
    /// ([`super::Scaler::poller_stopped`]).
    Stopped,
}
