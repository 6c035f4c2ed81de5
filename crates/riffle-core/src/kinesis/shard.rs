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

use crate::destination::DestinationKind;
use crate::invocation::{ENVELOPE_BYTES, Invocation, Outcome};
use crate::kinesis::event::{
    EventSource, FailureCondition, FailureRecord, ResponseContext, WindowFields,
};
use crate::kinesis::response::{Verdict, judge};
use crate::record::StreamRecord;
use crate::sequence::SequenceNumber;
use crate::time::Millis;

mod batching;
mod types;

use types::MAX_REASON_CHARS;
pub use types::{Backoff, BatchId, Decision, Discard, Effect, EventFormat, ShardSettings};

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

/// The state machine of one shard of a mapping, writing events in format `F`.
#[derive(Debug, Clone)]
pub struct Shard<F = EventSource> {
    settings: ShardSettings<F>,
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

impl<F: EventFormat> Shard<F> {
    /// A shard machine at `now`, resuming after `checkpoint` if there is one.
    pub fn new(
        settings: ShardSettings<F>,
        checkpoint: Option<SequenceNumber>,
        now: Millis,
    ) -> Self {
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
            let size = self.settings.source.record_len(&record) + 1;
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
            effects.push(Effect::Journal(Decision::Filtered { records: filtered }));
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
                effects.push(Effect::Journal(Decision::RetryScheduled {
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
                        effects.push(Effect::Journal(Decision::Succeeded {
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
                        effects.push(Effect::Journal(Decision::PartiallyFailed {
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
                    effects.push(Effect::Journal(Decision::Discarded {
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
                    effects.push(Effect::Journal(Decision::DeliveryFailed {
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
            effects.push(Effect::Journal(Decision::Failed {
                lane,
                reason,
                attempts: piece.attempts + 1,
            }));
            effects.push(Effect::Journal(Decision::Bisected {
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
            effects.push(Effect::Journal(Decision::Failed {
                lane,
                reason: reason.to_owned(),
                attempts: piece.attempts,
            }));
            effects.push(Effect::Journal(Decision::WindowStateDropped { lane }));
            self.lanes[lane].window = match piece.window {
                Some(call) if call.terminated_early => Some(OpenWindow {
                    index: call.index,
                    state: serde_json::json!({}),
                }),
                _ => None,
            };
            return;
        }
        effects.push(Effect::Journal(Decision::Failed {
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
        effects.push(Effect::Journal(Decision::RetryScheduled {
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
        let record = self.settings.source.failure_record(Discard {
            request_id: &piece.last_request_id,
            function_arn: &self.settings.function_arn,
            condition,
            invocations: piece.invocations.max(1),
            response: match condition {
                FailureCondition::RecordAgeExceeded => None,
                FailureCondition::RetryAttemptsExhausted => piece.last_response.as_ref(),
            },
            now,
            first,
            last,
            records: entries.len(),
            payload: (self.settings.destination == Some(DestinationKind::S3)).then(|| {
                let records = entries.iter().map(|e| &e.record);
                self.settings.source.event(records, 0)
            }),
        });
        if self.settings.destination.is_some() {
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
            effects.push(Effect::Journal(Decision::Discarded {
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
}

#[cfg(test)]
mod tests;
