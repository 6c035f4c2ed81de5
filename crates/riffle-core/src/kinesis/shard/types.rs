//! The shard machine's values: settings, the event format it is given, back-off, the effects it
//! asks for and its decisions.

use crate::destination::DestinationKind;
use crate::filter::Filters;
use crate::invocation::MAX_PAYLOAD_BYTES;
use crate::kinesis::config::KinesisMappingConfig;
use crate::kinesis::event::{
    EventSource, FailureCondition, FailureRecord, ResponseContext, WindowFields,
};
use crate::record::StreamRecord;
use crate::sequence::SequenceNumber;
use crate::time::Millis;

/// Identifies a batch (an invocation or a failure delivery) within a shard.
pub type BatchId = u64;

/// Retry back-off: `initial_ms`, doubling per retry, capped at `max_ms`.
///
/// AWS does not document its schedule; with the defaults (0.5 s doubling to 16 s) a batch that
/// always fails is invoked 8 times within 60 s, which is what AWS was recorded doing with
/// infinite retries and a 60 s record age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial_ms: Millis,
    /// Largest delay.
    pub max_ms: Millis,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial_ms: 500,
            max_ms: 16_000,
        }
    }
}

impl Backoff {
    /// The delay before retry number `step` (0 = first retry).
    pub fn delay(&self, step: u32) -> Millis {
        self.initial_ms
            .saturating_mul(1u64 << step.min(32))
            .min(self.max_ms)
    }
}

/// How a stream's records become the event a function receives, and the record sent when a
/// batch is discarded: what the shard machine needs of an event source's format, so another
/// stream (DynamoDB Streams, enhanced fan-out) brings its own format and reuses the machine.
/// The machine is generic over it, so the hot path calls it directly.
pub trait EventFormat: Clone + std::fmt::Debug {
    /// The exact length of `record`'s JSON in the event (without the separating comma).
    fn record_len(&self, record: &StreamRecord) -> usize;
    /// The event for `records`, `{"Records":[…]}`, written into a buffer of `capacity` bytes.
    fn event<'a>(
        &self,
        records: impl IntoIterator<Item = &'a StreamRecord>,
        capacity: usize,
    ) -> String;
    /// `event` with a tumbling window's fields added.
    fn windowed(&self, event: &str, window: &WindowFields<'_>) -> String;
    /// An upper bound of the bytes [`EventFormat::windowed`] adds for the window from `start_ms`
    /// to `end_ms` whose state serializes to `state_bytes` bytes.
    fn window_fields_len(&self, start_ms: Millis, end_ms: Millis, state_bytes: usize) -> usize;
    /// The on-failure record of a discarded batch.
    fn failure_record(&self, discard: Discard<'_>) -> FailureRecord;
}

/// What the machine knows about a discarded batch, for [`EventFormat::failure_record`].
#[derive(Debug, Clone)]
pub struct Discard<'a> {
    /// Request id of the last invocation.
    pub request_id: &'a str,
    /// The function's ARN.
    pub function_arn: &'a str,
    /// Why.
    pub condition: FailureCondition,
    /// Invocations of the batch (at least 1).
    pub invocations: u32,
    /// The last invocation's response, if the record carries one.
    pub response: Option<&'a ResponseContext>,
    /// When.
    pub now: Millis,
    /// The first discarded record.
    pub first: &'a StreamRecord,
    /// The last discarded record.
    pub last: &'a StreamRecord,
    /// Records discarded.
    pub records: usize,
    /// The discarded records' event, for destinations that keep it (S3).
    pub payload: Option<String>,
}

/// Everything a shard machine needs to know about its mapping.
#[derive(Debug, Clone)]
pub struct ShardSettings<F = EventSource> {
    /// Most records per batch.
    pub batch_size: usize,
    /// Batching window, from the end of the previous invocation.
    pub batching_window_ms: Millis,
    /// Lanes per shard.
    pub parallelization_factor: usize,
    /// Split failing batches in two.
    pub bisect_on_function_error: bool,
    /// Retries after the first invocation; `None` = until the records expire.
    pub maximum_retry_attempts: Option<u32>,
    /// Records older than this are discarded with `RecordAgeExceeded`. With
    /// MaximumRecordAgeInSeconds −1 this is the stream's retention: a record about to leave the
    /// stream is reported rather than lost silently.
    pub maximum_record_age_ms: Millis,
    /// Whether responses are judged for batch item failures.
    pub report_batch_item_failures: bool,
    /// The on-failure destination's kind, if one is configured.
    pub destination: Option<DestinationKind>,
    /// Retry back-off for failed, throttled and undeliverable batches.
    pub backoff: Backoff,
    /// Largest event payload.
    pub max_payload_bytes: usize,
    /// The event format, with the fields repeated in every record of the event.
    pub source: F,
    /// The function's ARN, for failure records.
    pub function_arn: String,
    /// Most records held in memory per shard before polling pauses.
    pub buffer_limit: usize,
    /// FilterCriteria; records that do not pass are finished without an invocation.
    pub filters: Filters,
    /// Tumbling window length, when windows are on.
    pub tumbling_window_ms: Option<Millis>,
}

impl<F: EventFormat> ShardSettings<F> {
    /// Settings for `config`; `retention_ms` is the stream's retention period.
    pub fn new(
        config: &KinesisMappingConfig,
        source: F,
        function_arn: String,
        retention_ms: Millis,
    ) -> Self {
        Self {
            batch_size: config.batch_size,
            batching_window_ms: config.batching_window_ms,
            parallelization_factor: config.parallelization_factor.max(1),
            bisect_on_function_error: config.bisect_on_function_error,
            maximum_retry_attempts: config.maximum_retry_attempts,
            maximum_record_age_ms: config.maximum_record_age_ms.unwrap_or(retention_ms),
            report_batch_item_failures: config.report_batch_item_failures,
            destination: config
                .on_failure_destination
                .as_deref()
                .and_then(DestinationKind::of),
            backoff: Backoff::default(),
            max_payload_bytes: MAX_PAYLOAD_BYTES,
            source,
            function_arn,
            buffer_limit: (config.batch_size * config.parallelization_factor.max(1) * 2)
                .max(10_000),
            filters: Filters::compile(&config.filter_patterns)
                .expect("a validated configuration's filter patterns compile"),
            tumbling_window_ms: config.tumbling_window_ms,
        }
    }
}

/// The longest function error message a journal reason keeps, in characters.
pub(super) const MAX_REASON_CHARS: usize = 1_024;

/// Something the runtime must do, or record.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Invoke the function with `payload` and report back with [`super::Shard::invocation_finished`].
    Invoke {
        /// Lane.
        lane: usize,
        /// Batch id.
        batch: BatchId,
        /// The Kinesis event JSON.
        payload: String,
        /// Records in it.
        records: usize,
        /// First and last sequence numbers (none for a window's empty final invocation).
        range: Option<(SequenceNumber, SequenceNumber)>,
        /// Invocations of this batch so far (0 on the first).
        previous_invocations: u32,
        /// Arrival time of the batch's last record (for IteratorAge).
        last_arrival_ms: Option<Millis>,
    },
    /// Send `record` to the on-failure destination and report back with
    /// [`super::Shard::delivery_finished`].
    Deliver {
        /// Lane.
        lane: usize,
        /// Delivery id.
        delivery: BatchId,
        /// The invocation record.
        record: FailureRecord,
    },
    /// Persist the shard checkpoint: every record up to and including this one is done.
    Checkpoint(SequenceNumber),
    /// A decision worth recording in the journal.
    Journal(Decision),
}

/// A decision of the shard machine, as the user reads it back (the runtime journals it).
/// Serialized as the control API's journal shows it: `kind` (snake case) and the fields, a
/// range as `first_sequence_number`/`last_sequence_number`, a scheduled time as `retry_at`
/// (ms) and `retry_time` (ISO 8601).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// The batch succeeded.
    Succeeded {
        /// Lane.
        lane: usize,
        /// Records.
        records: usize,
    },
    /// The function reported failed items; processing resumes at `resume_at`.
    PartiallyFailed {
        /// Lane.
        lane: usize,
        /// First record to retry.
        resume_at: SequenceNumber,
        /// Records that succeeded.
        succeeded: usize,
    },
    /// The batch failed as a whole.
    Failed {
        /// Lane.
        lane: usize,
        /// Why (error type or response problem).
        reason: String,
        /// Failed invocations of this batch so far.
        attempts: u32,
    },
    /// The failed batch was split in two.
    Bisected {
        /// Lane.
        lane: usize,
        /// Records in the left half (processed first).
        left: usize,
        /// Records in the right half.
        right: usize,
    },
    /// The batch will be retried at `at`.
    RetryScheduled {
        /// Lane.
        lane: usize,
        /// When.
        #[serde(flatten, with = "crate::time::retry_at_time")]
        at: Millis,
        /// Why.
        reason: String,
    },
    /// Records did not pass the filters and were skipped (finished without an invocation).
    Filtered {
        /// How many.
        records: usize,
    },
    /// A window's final invocation could not succeed within the retry policy; its state was
    /// dropped and the next window starts fresh.
    WindowStateDropped {
        /// Lane.
        lane: usize,
    },
    /// Records were discarded to the on-failure destination (or dropped without one).
    Discarded {
        /// Lane.
        lane: usize,
        /// Why.
        condition: FailureCondition,
        /// First and last sequence numbers.
        #[serde(flatten, with = "crate::sequence::range")]
        range: (SequenceNumber, SequenceNumber),
        /// Records.
        records: usize,
        /// Whether a destination received the failure record.
        delivered: bool,
    },
    /// Delivering a failure record failed; it will be retried.
    DeliveryFailed {
        /// Lane.
        lane: usize,
        /// When it is retried.
        #[serde(flatten, with = "crate::time::retry_at_time")]
        retry_at: Millis,
    },
}
