//! One shard of a Kinesis mapping as a state machine: records in, effects out.
//!
//! A shard holds `ParallelizationFactor` lanes. A record goes to the lane its partition key hashes
//! to, so one key is always in one lane, in sequence order. Each lane runs one batch at a time:
//! it gathers up to `BatchSize` records (and at most 6 MiB of event JSON), waits for the batching
//! window that starts when its previous invocation finished, splits off records older than the
//! age limit, invokes, and then succeeds, retries with back-off, bisects, resumes after a partial
//! failure, or discards to the on-failure destination.
//!
//! Invariants (each pinned by a test in `tests.rs`):
//! - Order: a lane never hands a record to the function while an earlier record of the same lane
//!   (so of the same partition key) is unfinished.
//! - Nothing silently lost: every polled record ends processed, or discarded with a failure
//!   record that was delivered (or, without a destination, reported as dropped).
//! - On-failure before checkpoint: the checkpoint passes a discarded record only after its
//!   failure record was acknowledged.
//! - The shard checkpoint is the highest sequence number below which every polled record is done,
//!   whatever lane it is in.

use std::collections::VecDeque;

use crate::config::{KinesisMappingConfig, MAX_PAYLOAD_BYTES};
use crate::event::{
    ENVELOPE_BYTES, EventSource, FailureCondition, FailureRecord, ResponseContext, WindowFields,
    kinesis_event_with_capacity, record_json_len, window_fields_len, windowed_event,
};
use crate::filter::Filters;
use crate::record::StreamRecord;
use crate::response::{Verdict, judge};
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

/// Everything a shard machine needs to know about its mapping.
#[derive(Debug, Clone)]
pub struct ShardSettings {
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
    /// Whether an on-failure destination is configured.
    pub has_destination: bool,
    /// Retry back-off for failed, throttled and undeliverable batches.
    pub backoff: Backoff,
    /// Largest event payload.
    pub max_payload_bytes: usize,
    /// Fields repeated in every record of the event.
    pub source: EventSource,
    /// The function's ARN, for failure records.
    pub function_arn: String,
    /// Most records held in memory per shard before polling pauses.
    pub buffer_limit: usize,
    /// FilterCriteria; records that do not pass are finished without an invocation.
    pub filters: Filters,
    /// Tumbling window length, when windows are on.
    pub tumbling_window_ms: Option<Millis>,
}

impl ShardSettings {
    /// Settings for `config`; `retention_ms` is the stream's retention period.
    pub fn new(
        config: &KinesisMappingConfig,
        source: EventSource,
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
            has_destination: config.on_failure_destination.is_some(),
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
const MAX_REASON_CHARS: usize = 1_024;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned this body (HTTP 200, no function error).
    Success(Vec<u8>),
    /// The function failed: an unhandled error, a timeout, a crash. Counts as an attempt.
    FunctionError {
        /// `errorType` (e.g. `Sandbox.Timedout`), for the journal.
        error_type: String,
        /// `errorMessage`, for the journal and the Invoke API's answer.
        error_message: String,
        /// HTTP status of the invoke (200 for function errors).
        status_code: u16,
    },
    /// The invocation was throttled; the function never saw the batch.
    Throttled,
    /// The invoke failed before reaching the function.
    ServiceError(String),
}

impl Outcome {
    /// An unhandled function error (HTTP 200, as Lambda answers one).
    pub fn function_error(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self::FunctionError {
            error_type: error_type.into(),
            error_message: error_message.into(),
            status_code: 200,
        }
    }

    /// The function error a runtime reported with `body`, its error document
    /// (`{"errorType": …, "errorMessage": …}`); a body that is not one becomes the message of an
    /// `Unhandled` error.
    pub fn from_error_document(body: &[u8]) -> Self {
        let (error_type, error_message) = error_document(body).unwrap_or_else(|| {
            (
                "Unhandled".to_owned(),
                String::from_utf8_lossy(body).into_owned(),
            )
        });
        Self::function_error(error_type, error_message)
    }
}

/// `errorType` and `errorMessage` of a Lambda error document, if `body` is one (a JSON object with
/// at least one of them).
pub fn error_document(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    match (field("errorType"), field("errorMessage")) {
        (None, None) => None,
        (error_type, message) => Some((
            error_type.unwrap_or_else(|| "Unhandled".to_owned()),
            message.unwrap_or_default(),
        )),
    }
}

/// The result of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Lambda's request id for it.
    pub request_id: String,
    /// What happened.
    pub outcome: Outcome,
}

/// Something the runtime must do, or record.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Invoke the function with `payload` and report back with [`Shard::invocation_finished`].
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
    /// [`Shard::delivery_finished`].
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
    Journal(JournalEntry),
}

/// A decision of the engine, as the user reads it back.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalEntry {
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
        retry_at: Millis,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    ordinal: u64,
    record: StreamRecord,
    size: usize,
}

/// A batch being worked on, with its attempt counters.
#[derive(Debug, Clone)]
struct Piece {
    entries: Vec<Entry>,
    /// Failed invocations counted against MaximumRetryAttempts.
    attempts: u32,
    /// Invocations that reached the function (`approximateInvokeCount`).
    invocations: u32,
    /// Consecutive back-offs taken.
    backoff_step: u32,
    last_request_id: String,
    last_response: Option<ResponseContext>,
    /// The tumbling window this invocation belongs to, when windows are on.
    window: Option<WindowCall>,
}

/// How an invocation relates to its tumbling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WindowCall {
    index: u64,
    final_invoke: bool,
    terminated_early: bool,
}

/// A lane's open tumbling window and the state the function returned for it.
#[derive(Debug, Clone)]
struct OpenWindow {
    index: u64,
    state: serde_json::Value,
}

/// Largest window state carried between invocations; bigger ends the window early.
pub const MAX_WINDOW_STATE_BYTES: usize = 1024 * 1024;

impl Piece {
    fn new(entries: Vec<Entry>) -> Self {
        Self {
            entries,
            attempts: 0,
            invocations: 0,
            backoff_step: 0,
            last_request_id: String::new(),
            last_response: None,
            window: None,
        }
    }

    fn final_for(index: u64, terminated_early: bool) -> Self {
        Self {
            window: Some(WindowCall {
                index,
                final_invoke: true,
                terminated_early,
            }),
            ..Self::new(Vec::new())
        }
    }

    fn range(&self) -> Option<(SequenceNumber, SequenceNumber)> {
        let first = &self.entries.first()?.record.sequence_number;
        let last = &self.entries.last()?.record.sequence_number;
        Some((first.clone(), last.clone()))
    }
}

#[derive(Debug, Clone)]
enum LaneState {
    Idle,
    Invoking {
        batch: BatchId,
        piece: Piece,
    },
    Waiting {
        until: Millis,
        piece: Piece,
    },
    Delivering {
        delivery: BatchId,
        entries: Vec<Entry>,
        record: FailureRecord,
        retry_at: Option<Millis>,
    },
}

#[derive(Debug, Clone)]
struct Lane {
    pending: VecDeque<Entry>,
    /// Pieces to process before `pending`, last first (bisected halves, remainders).
    queued: Vec<Piece>,
    state: LaneState,
    /// The open tumbling window, if any.
    window: Option<OpenWindow>,
    /// When the batching window started: the end of the previous invocation.
    window_start: Millis,
}

/// The state machine of one shard of a mapping.
#[derive(Debug, Clone)]
pub struct Shard {
    settings: ShardSettings,
    lanes: Vec<Lane>,
    /// Polled records in sequence order: ordinal, sequence number, done.
    log: VecDeque<(u64, SequenceNumber, bool)>,
    next_ordinal: u64,
    next_batch: BatchId,
    checkpoint: Option<SequenceNumber>,
    buffered: usize,
    ended: bool,
    /// The latest time at which the reader was known to have seen every record (caught up).
    caught_up_at: Millis,
}

/// The lane of a partition key: FNV-1a of its bytes, modulo the lane count.
pub fn lane_of(partition_key: &str, lanes: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in partition_key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % lanes.max(1) as u64) as usize
}

impl Shard {
    /// A shard machine at `now`, resuming after `checkpoint` if there is one.
    pub fn new(settings: ShardSettings, checkpoint: Option<SequenceNumber>, now: Millis) -> Self {
        let lanes = (0..settings.parallelization_factor)
            .map(|_| Lane {
                pending: VecDeque::new(),
                queued: Vec::new(),
                window: None,
                state: LaneState::Idle,
                window_start: now,
            })
            .collect();
        Self {
            settings,
            lanes,
            log: VecDeque::new(),
            next_ordinal: 0,
            next_batch: 1,
            checkpoint,
            buffered: 0,
            ended: false,
            caught_up_at: 0,
        }
    }

    /// The last checkpoint.
    pub fn checkpoint(&self) -> Option<&SequenceNumber> {
        self.checkpoint.as_ref()
    }

    /// Records read and not yet handed to the function.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Whether the runtime should poll more records now.
    pub fn wants_records(&self) -> bool {
        !self.ended && self.buffered < self.settings.buffer_limit
    }

    /// Whether the shard has ended and every record is done.
    pub fn is_finished(&self) -> bool {
        self.ended && self.log.is_empty()
    }

    /// Records polled from the shard, in sequence order.
    pub fn records_polled(&mut self, records: Vec<StreamRecord>, now: Millis) -> Vec<Effect> {
        let mut filtered = 0;
        for record in records {
            let ordinal = self.next_ordinal;
            self.next_ordinal += 1;
            if !self.settings.filters.passes(&record) {
                self.log
                    .push_back((ordinal, record.sequence_number.clone(), true));
                filtered += 1;
                continue;
            }
            let size = record_json_len(&self.settings.source, &record) + 1;
            self.log
                .push_back((ordinal, record.sequence_number.clone(), false));
            let lane = lane_of(&record.partition_key, self.lanes.len());
            self.lanes[lane].pending.push_back(Entry {
                ordinal,
                record,
                size,
            });
            self.buffered += 1;
        }
        let mut effects = Vec::new();
        if filtered > 0 {
            effects.push(Effect::Journal(JournalEntry::Filtered {
                records: filtered,
            }));
        }
        effects.extend(self.drive(now));
        effects
    }

    /// The shard is closed and every record has been polled.
    pub fn shard_ended(&mut self, now: Millis) -> Vec<Effect> {
        self.ended = true;
        self.drive(now)
    }

    /// A read that started at `at` reached the tip of the shard: every record that arrived
    /// before `at` has been polled. Tumbling windows that ended before it can be closed (`now`
    /// is the time the machine learns it, which may be later).
    pub fn caught_up(&mut self, at: Millis, now: Millis) -> Vec<Effect> {
        self.caught_up_at = self.caught_up_at.max(at.min(now));
        self.drive(now)
    }

    /// Time passed.
    pub fn tick(&mut self, now: Millis) -> Vec<Effect> {
        self.drive(now)
    }

    /// When the machine next needs a [`Shard::tick`], if ever (without new input).
    pub fn next_wake(&self) -> Option<Millis> {
        self.lanes
            .iter()
            .filter_map(|lane| match &lane.state {
                LaneState::Waiting { until, .. } => Some(*until),
                LaneState::Delivering { retry_at, .. } => *retry_at,
                LaneState::Idle if lane.queued.is_empty() && !lane.pending.is_empty() => {
                    Some(lane.window_start + self.settings.batching_window_ms)
                }
                LaneState::Idle | LaneState::Invoking { .. } => None,
            })
            .min()
    }

    /// An invocation finished.
    pub fn invocation_finished(
        &mut self,
        lane_index: usize,
        batch: BatchId,
        invocation: Invocation,
        now: Millis,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(lane) = self.lanes.get_mut(lane_index) else {
            return effects;
        };
        let piece = match std::mem::replace(&mut lane.state, LaneState::Idle) {
            LaneState::Invoking {
                batch: current,
                piece,
            } if current == batch => piece,
            other => {
                lane.state = other;
                return effects;
            }
        };
        let mut piece = piece;
        piece.last_request_id = invocation.request_id;
        let settings = &self.settings;
        match invocation.outcome {
            Outcome::Throttled | Outcome::ServiceError(_) => {
                let reason = match &invocation.outcome {
                    Outcome::ServiceError(e) => format!("invoke failed before the function: {e}"),
                    _ => "throttled".to_owned(),
                };
                let until = now + settings.backoff.delay(piece.backoff_step);
                piece.backoff_step += 1;
                effects.push(Effect::Journal(JournalEntry::RetryScheduled {
                    lane: lane_index,
                    at: until,
                    reason,
                }));
                lane.state = LaneState::Waiting { until, piece };
            }
            Outcome::Success(body) => {
                piece.invocations += 1;
                lane.window_start = now;
                piece.last_response = Some(ResponseContext {
                    status_code: 200,
                    executed_version: "$LATEST".into(),
                    function_error: None,
                });
                let returned_state = piece.window.map(|_| {
                    serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v.get("state").filter(|s| s.is_object()).cloned())
                });
                let verdict = if returned_state == Some(None) {
                    Verdict::CompleteFailure("the response has no state object".into())
                } else if settings.report_batch_item_failures {
                    let sequence_numbers: Vec<SequenceNumber> = piece
                        .entries
                        .iter()
                        .map(|e| e.record.sequence_number.clone())
                        .collect();
                    judge(&body, &sequence_numbers)
                } else {
                    Verdict::Success
                };
                if let (Verdict::Success, Some(call), Some(Some(state))) =
                    (&verdict, piece.window, returned_state)
                {
                    let state_bytes = state.to_string().len();
                    lane.window = match (call.final_invoke, call.terminated_early) {
                        (true, false) => None,
                        (true, true) => Some(OpenWindow {
                            index: call.index,
                            state: serde_json::json!({}),
                        }),
                        (false, _) => Some(OpenWindow {
                            index: call.index,
                            state,
                        }),
                    };
                    if !call.final_invoke && state_bytes > MAX_WINDOW_STATE_BYTES {
                        lane.queued.push(Piece::final_for(call.index, true));
                    }
                }
                match verdict {
                    Verdict::Success => {
                        effects.push(Effect::Journal(JournalEntry::Succeeded {
                            lane: lane_index,
                            records: piece.entries.len(),
                        }));
                        let done: Vec<u64> = piece.entries.iter().map(|e| e.ordinal).collect();
                        self.finish(&done);
                    }
                    Verdict::PartialFailure(resume_at) => {
                        let split = piece
                            .entries
                            .iter()
                            .position(|e| e.record.sequence_number == resume_at)
                            .unwrap_or(0);
                        let done: Vec<u64> =
                            piece.entries.drain(..split).map(|e| e.ordinal).collect();
                        effects.push(Effect::Journal(JournalEntry::PartiallyFailed {
                            lane: lane_index,
                            resume_at,
                            succeeded: done.len(),
                        }));
                        self.finish(&done);
                        self.retry_or_discard(
                            lane_index,
                            piece,
                            "batch item failures",
                            now,
                            &mut effects,
                        );
                    }
                    Verdict::CompleteFailure(reason) => {
                        self.function_failed(lane_index, piece, reason, now, &mut effects);
                    }
                }
            }
            Outcome::FunctionError {
                error_type,
                error_message,
                status_code,
            } => {
                piece.invocations += 1;
                lane.window_start = now;
                piece.last_response = Some(ResponseContext {
                    status_code,
                    executed_version: "$LATEST".into(),
                    function_error: Some("Unhandled".into()),
                });
                let reason = if error_message.is_empty() {
                    error_type
                } else {
                    // The journal keeps the reason; a function can answer with a large body.
                    let cut = error_message
                        .char_indices()
                        .nth(MAX_REASON_CHARS)
                        .map_or(error_message.len(), |(i, _)| i);
                    let more = if cut < error_message.len() { "…" } else { "" };
                    format!("{error_type}: {}{more}", &error_message[..cut])
                };
                self.function_failed(lane_index, piece, reason, now, &mut effects);
            }
        }
        effects.extend(self.drive(now));
        effects
    }

    /// A failure record was delivered (`ok`) or could not be.
    pub fn delivery_finished(
        &mut self,
        lane_index: usize,
        delivery: BatchId,
        ok: bool,
        now: Millis,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(lane) = self.lanes.get_mut(lane_index) else {
            return effects;
        };
        match &mut lane.state {
            LaneState::Delivering {
                delivery: current,
                entries,
                record,
                retry_at,
            } if *current == delivery => {
                if ok {
                    let done: Vec<u64> = entries.iter().map(|e| e.ordinal).collect();
                    effects.push(Effect::Journal(JournalEntry::Discarded {
                        lane: lane_index,
                        condition: record.condition,
                        range: (
                            entries[0].record.sequence_number.clone(),
                            entries[entries.len() - 1].record.sequence_number.clone(),
                        ),
                        records: entries.len(),
                        delivered: true,
                    }));
                    lane.state = LaneState::Idle;
                    self.finish(&done);
                } else {
                    let at = now + self.settings.backoff.delay(2);
                    *retry_at = Some(at);
                    effects.push(Effect::Journal(JournalEntry::DeliveryFailed {
                        lane: lane_index,
                        retry_at: at,
                    }));
                }
            }
            _ => return effects,
        }
        effects.extend(self.drive(now));
        effects
    }

    /// A failed invocation (function error or a response that fails the whole batch).
    fn function_failed(
        &mut self,
        lane: usize,
        mut piece: Piece,
        reason: String,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        if self.settings.bisect_on_function_error && piece.entries.len() > 1 {
            // Split point: the left half gets the extra record of an odd batch. Halves start
            // with fresh counters: splitting does not consume the retry quota.
            let right = piece.entries.split_off(piece.entries.len().div_ceil(2));
            effects.push(Effect::Journal(JournalEntry::Failed {
                lane,
                reason,
                attempts: piece.attempts + 1,
            }));
            effects.push(Effect::Journal(JournalEntry::Bisected {
                lane,
                left: piece.entries.len(),
                right: right.len(),
            }));
            // Both halves stay in the batch's tumbling window: they carry its window, state
            // and flags, and only the right half can be the window's final invocation.
            let window = piece.window;
            let mut left = Piece::new(piece.entries);
            left.window = window.map(|call| WindowCall {
                final_invoke: false,
                ..call
            });
            let mut right = Piece::new(right);
            right.window = window;
            let queued = &mut self.lanes[lane].queued;
            queued.push(right);
            queued.push(left);
            return;
        }
        self.retry_or_discard(lane, piece, &reason, now, effects);
    }

    /// Counts a failed attempt; retries after back-off or discards when the quota is spent.
    fn retry_or_discard(
        &mut self,
        lane: usize,
        mut piece: Piece,
        reason: &str,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        piece.attempts += 1;
        if piece.entries.is_empty()
            && self
                .settings
                .maximum_retry_attempts
                .is_some_and(|max| piece.attempts > max)
        {
            // A window's final invocation has no records to discard: drop its state.
            effects.push(Effect::Journal(JournalEntry::Failed {
                lane,
                reason: reason.to_owned(),
                attempts: piece.attempts,
            }));
            effects.push(Effect::Journal(JournalEntry::WindowStateDropped { lane }));
            self.lanes[lane].window = match piece.window {
                Some(call) if call.terminated_early => Some(OpenWindow {
                    index: call.index,
                    state: serde_json::json!({}),
                }),
                _ => None,
            };
            return;
        }
        effects.push(Effect::Journal(JournalEntry::Failed {
            lane,
            reason: reason.to_owned(),
            attempts: piece.attempts,
        }));
        if self
            .settings
            .maximum_retry_attempts
            .is_some_and(|max| piece.attempts > max)
        {
            let entries = std::mem::take(&mut piece.entries);
            self.discard(
                lane,
                entries,
                &piece,
                FailureCondition::RetryAttemptsExhausted,
                now,
                effects,
            );
            return;
        }
        let until = now + self.settings.backoff.delay(piece.backoff_step);
        piece.backoff_step += 1;
        effects.push(Effect::Journal(JournalEntry::RetryScheduled {
            lane,
            at: until,
            reason: reason.to_owned(),
        }));
        self.lanes[lane].state = LaneState::Waiting { until, piece };
    }

    /// Discards `entries`: to the destination if there is one (the lane waits for the
    /// acknowledgement), otherwise reported as dropped and done at once.
    fn discard(
        &mut self,
        lane: usize,
        entries: Vec<Entry>,
        piece: &Piece,
        condition: FailureCondition,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        let first = &entries[0].record;
        let last = &entries[entries.len() - 1].record;
        let record = FailureRecord {
            request_id: piece.last_request_id.clone(),
            function_arn: self.settings.function_arn.clone(),
            condition,
            approximate_invoke_count: piece.invocations.max(1),
            response: match condition {
                FailureCondition::RecordAgeExceeded => None,
                FailureCondition::RetryAttemptsExhausted => piece.last_response.clone(),
            },
            timestamp_ms: now,
            shard_id: self.settings.source.shard_id.clone(),
            start_sequence_number: first.sequence_number.to_string(),
            end_sequence_number: last.sequence_number.to_string(),
            first_arrival_ms: first.arrival_ms,
            last_arrival_ms: last.arrival_ms,
            batch_size: entries.len(),
            stream_arn: self.settings.source.stream_arn.clone(),
        };
        if self.settings.has_destination {
            let delivery = self.next_batch;
            self.next_batch += 1;
            effects.push(Effect::Deliver {
                lane,
                delivery,
                record: record.clone(),
            });
            self.lanes[lane].state = LaneState::Delivering {
                delivery,
                entries,
                record,
                retry_at: None,
            };
        } else {
            effects.push(Effect::Journal(JournalEntry::Discarded {
                lane,
                condition,
                range: (first.sequence_number.clone(), last.sequence_number.clone()),
                records: entries.len(),
                delivered: false,
            }));
            let done: Vec<u64> = entries.iter().map(|e| e.ordinal).collect();
            self.finish(&done);
        }
    }

    /// Marks records done and advances the checkpoint over the done prefix.
    fn finish(&mut self, ordinals: &[u64]) {
        let Some(base) = self.log.front().map(|(o, _, _)| *o) else {
            return;
        };
        for ordinal in ordinals {
            if let Some(slot) = self.log.get_mut((ordinal - base) as usize) {
                slot.2 = true;
            }
        }
        self.buffered = self.buffered.saturating_sub(ordinals.len());
    }

    /// Starts whatever work every lane can start at `now`, and reports checkpoint progress.
    fn drive(&mut self, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        for lane in 0..self.lanes.len() {
            self.drive_lane(lane, now, &mut effects);
        }
        let mut advanced = None;
        while self.log.front().is_some_and(|(_, _, done)| *done) {
            advanced = self.log.pop_front().map(|(_, seq, _)| seq);
        }
        if let Some(seq) = advanced {
            self.checkpoint = Some(seq.clone());
            effects.push(Effect::Checkpoint(seq));
        }
        effects
    }

    fn drive_lane(&mut self, index: usize, now: Millis, effects: &mut Vec<Effect>) {
        loop {
            let lane = &mut self.lanes[index];
            let piece = match std::mem::replace(&mut lane.state, LaneState::Idle) {
                LaneState::Idle => match lane.queued.pop() {
                    Some(piece) => piece,
                    None => match self.next_batch_from_pending(index, now) {
                        Some(piece) => piece,
                        None => return,
                    },
                },
                LaneState::Waiting { until, piece } if now >= until => piece,
                LaneState::Delivering {
                    delivery,
                    entries,
                    record,
                    retry_at: Some(at),
                } if now >= at => {
                    effects.push(Effect::Deliver {
                        lane: index,
                        delivery,
                        record: record.clone(),
                    });
                    self.lanes[index].state = LaneState::Delivering {
                        delivery,
                        entries,
                        record,
                        retry_at: None,
                    };
                    return;
                }
                other => {
                    lane.state = other;
                    return;
                }
            };
            let mut piece = piece;
            // Records older than the age limit are split off and discarded before invoking.
            let limit = self.settings.maximum_record_age_ms;
            let expired = piece
                .entries
                .iter()
                .take_while(|e| now.saturating_sub(e.record.arrival_ms) > limit)
                .count();
            if expired > 0 {
                let rest = piece.entries.split_off(expired);
                let expired_entries = std::mem::replace(&mut piece.entries, rest);
                if !piece.entries.is_empty() {
                    let remainder = piece.clone();
                    self.lanes[index].queued.push(remainder);
                }
                self.discard(
                    index,
                    expired_entries,
                    &piece,
                    FailureCondition::RecordAgeExceeded,
                    now,
                    effects,
                );
                continue;
            }
            let batch = self.next_batch;
            self.next_batch += 1;
            let size = ENVELOPE_BYTES + piece.entries.iter().map(|e| e.size).sum::<usize>();
            let mut payload = kinesis_event_with_capacity(
                &self.settings.source,
                piece.entries.iter().map(|e| &e.record),
                size,
            );
            if let (Some(call), Some(length)) = (piece.window, self.settings.tumbling_window_ms) {
                let state = self.lanes[index]
                    .window
                    .as_ref()
                    .filter(|w| w.index == call.index)
                    .map_or_else(|| serde_json::json!({}), |w| w.state.clone());
                let start_ms = call.index * length;
                let window = WindowFields {
                    start_ms,
                    end_ms: start_ms + length,
                    state: &state,
                    final_invoke: call.final_invoke,
                    terminated_early: call.terminated_early,
                };
                payload = windowed_event(&payload, &self.settings.source, &window);
            }
            effects.push(Effect::Invoke {
                lane: index,
                batch,
                payload,
                records: piece.entries.len(),
                range: piece.range(),
                previous_invocations: piece.invocations,
                last_arrival_ms: piece.entries.last().map(|e| e.record.arrival_ms),
            });
            self.lanes[index].state = LaneState::Invoking { batch, piece };
            return;
        }
    }

    /// Takes the next batch from a lane's pending records if it is due: full, over the payload
    /// limit, or its batching window has passed.
    fn next_batch_from_pending(&mut self, index: usize, now: Millis) -> Option<Piece> {
        let settings = &self.settings;
        let caught_up_at = self.caught_up_at;
        let lane = &mut self.lanes[index];
        let tumbling = settings.tumbling_window_ms;
        let window_of = |entry: &Entry| tumbling.map(|w| entry.record.arrival_ms / w.max(1));
        // A tumbling window closes with a final invocation once its records are all handled
        // and it is over: later records were polled, or the reader caught up past its end.
        if let (Some(open), Some(length)) = (&lane.window, tumbling) {
            let later_records = lane
                .pending
                .front()
                .is_some_and(|e| window_of(e) > Some(open.index));
            let over = caught_up_at >= (open.index + 1) * length;
            if later_records || (lane.pending.is_empty() && over) {
                return Some(Piece::final_for(open.index, false));
            }
        }
        let first_window = window_of(lane.pending.front()?);
        let mut count = 0;
        let mut bytes = ENVELOPE_BYTES;
        if let (Some(window), Some(length)) = (first_window, tumbling) {
            // The payload limit counts what a windowed event adds, the state it carries above all.
            let state_bytes = lane
                .window
                .as_ref()
                .filter(|open| open.index == window)
                .map_or(2, |open| open.state.to_string().len());
            bytes += window_fields_len(
                &settings.source,
                window * length,
                (window + 1) * length,
                state_bytes,
            );
        }
        for entry in &lane.pending {
            if count == settings.batch_size
                || (count > 0 && bytes + entry.size > settings.max_payload_bytes)
                || window_of(entry) != first_window
            {
                break;
            }
            bytes += entry.size;
            count += 1;
        }
        let full = count == settings.batch_size || count < lane.pending.len();
        let window_passed = now >= lane.window_start + settings.batching_window_ms;
        if !full && !window_passed {
            return None;
        }
        let mut piece = Piece::new(lane.pending.drain(..count).collect());
        if let (Some(index), Some(length)) = (first_window, tumbling) {
            let rest_of_window = lane
                .pending
                .front()
                .is_some_and(|e| window_of(e) == Some(index));
            let final_invoke = !rest_of_window && caught_up_at >= (index + 1) * length;
            if lane.window.as_ref().is_none_or(|w| w.index != index) {
                lane.window = Some(OpenWindow {
                    index,
                    state: serde_json::json!({}),
                });
            }
            piece.window = Some(WindowCall {
                index,
                final_invoke,
                terminated_early: false,
            });
        }
        Some(piece)
    }
}

/// Adds the tumbling window fields to a Kinesis event.
#[cfg(test)]
mod tests;
