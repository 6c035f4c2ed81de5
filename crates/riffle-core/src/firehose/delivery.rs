//! One delivery stream to S3 as a state machine: records in (`put`), invocation outcomes
//! (`invoked`), write results (`written`) and time (`tick`) go in with `now`; [`Action`]s come
//! out. The engine performs them and reports back; every decision is made here.
//!
//! Records wait in the processor's buffer (if there is a transformation) until it holds
//! BufferSizeInMBs or its oldest record is BufferIntervalInSeconds old, whichever first; the
//! buffer is split into invocations of at most 6 MiB of event. Each invocation is judged
//! ([`crate::firehose::transform::judge`]); a failed one is retried NumberOfRetries times at
//! once, then its records become processing-failed records. `Ok` records are concatenated
//! (no delimiter, as Firehose does) into the destination buffer, flushed on the destination's
//! buffering hints; processing-failed lines and (with backup on) source records have buffers
//! of their own on the same rule. A failed write is retried with the same key and body after
//! a back-off (1 s doubling to 60 s), without end.
//!
//! Invariant (nothing is lost): every record put ends in exactly one of a written delivered
//! object, a written processing-failed object, or the `Dropped` count — and in a backup object
//! when backup is on; [`Action::Acknowledge`] never passes a record before that.

use std::collections::BTreeMap;

use base64::Engine as _;
use md5::{Digest, Md5};

use crate::destination::uuid_v4_shape;
use crate::firehose::error_record::{PROCESSING_FAILED_CODE, ProcessingFailedRecord};
use crate::firehose::prefix::object_name;
use crate::firehose::settings::{Buffering, DeliverySettings, S3Settings};
use crate::firehose::transform::{EventRecord, FirehoseEvent, RecordResult, judge, record_bytes};
use crate::invocation::{MAX_PAYLOAD_BYTES, Outcome};
use crate::time::Millis;

mod types;

pub use types::{Action, Counters, Decision, ObjectKind, SourceRecord};

/// First back-off after a failed write.
pub const WRITE_RETRY_MS: Millis = 1_000;
/// Longest back-off between write attempts.
pub const MAX_WRITE_RETRY_MS: Millis = 60_000;

/// Bytes waiting for one object.
#[derive(Debug, Default)]
struct Buffer {
    body: Vec<u8>,
    positions: Vec<u64>,
    oldest_arrival: Millis,
    since: Millis,
}

impl Buffer {
    fn push(&mut self, data: &[u8], position: u64, arrival: Millis, now: Millis) {
        if self.positions.is_empty() {
            self.since = now;
            self.oldest_arrival = arrival;
        }
        self.oldest_arrival = self.oldest_arrival.min(arrival);
        self.body.extend_from_slice(data);
        self.positions.push(position);
    }

    fn deadline(&self, hints: Buffering) -> Option<Millis> {
        (!self.positions.is_empty()).then(|| self.since + hints.interval_ms)
    }

    fn due(&self, hints: Buffering, now: Millis, draining: bool) -> bool {
        self.deadline(hints)
            .map(|d| if draining { now } else { d })
            .is_some_and(|d| now >= d || self.body.len() >= hints.size_bytes)
    }
}

/// Records waiting for the processor.
#[derive(Debug, Default)]
struct Pending {
    records: Vec<SourceRecord>,
    bytes: usize,
    since: Millis,
}

#[derive(Debug)]
struct InFlight {
    records: Vec<SourceRecord>,
    attempts: u32,
}

#[derive(Debug)]
struct PendingWrite {
    action: Action,
    positions: Vec<u64>,
    attempts: u32,
    retry_at: Option<Millis>,
    kind: ObjectKind,
    raw_bytes: usize,
}

/// The delivery machine of one stream.
#[derive(Debug)]
pub struct Delivery {
    settings: DeliverySettings,
    pending: Pending,
    delivered: Buffer,
    failed: Buffer,
    backup: Buffer,
    in_flight: BTreeMap<String, InFlight>,
    writes: BTreeMap<u64, PendingWrite>,
    /// Per unsettled position, the objects (or verdicts) it still waits for.
    outstanding: BTreeMap<u64, u32>,
    next_position: u64,
    acknowledged: u64,
    next_id: u64,
    counters: Counters,
    decisions: Vec<Decision>,
    /// Buffering hints no longer apply: every buffer goes out at once ([`Delivery::drain`]).
    draining: bool,
}

impl Delivery {
    /// A stream with nothing buffered.
    pub fn new(settings: DeliverySettings) -> Self {
        Self {
            settings,
            pending: Pending::default(),
            delivered: Buffer::default(),
            failed: Buffer::default(),
            backup: Buffer::default(),
            in_flight: BTreeMap::new(),
            writes: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            next_position: 0,
            acknowledged: 0,
            next_id: 0,
            counters: Counters::default(),
            decisions: Vec::new(),
            draining: false,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// What the machine has done.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The decisions made since the last call, oldest first.
    pub fn take_decisions(&mut self) -> Vec<Decision> {
        std::mem::take(&mut self.decisions)
    }

    /// Bytes buffered: waiting for the processor, for a delivered object, for a
    /// processing-failed object, for a backup object.
    pub fn buffered_bytes(&self) -> usize {
        self.pending.bytes
            + self.delivered.body.len()
            + self.failed.body.len()
            + self.backup.body.len()
    }

    /// Invocations and writes under way.
    pub fn in_flight(&self) -> (usize, usize) {
        (self.in_flight.len(), self.writes.len())
    }

    /// Whether every record put is settled.
    pub fn is_idle(&self) -> bool {
        self.outstanding.is_empty()
    }

    /// Records Firehose accepted.
    pub fn put(&mut self, records: Vec<SourceRecord>, now: Millis) -> Vec<Action> {
        for record in records {
            assert!(record.position >= self.next_position, "positions increase");
            self.next_position = record.position + 1;
            self.counters.records_in += 1;
            let backup = self.settings.backup.is_some();
            self.outstanding
                .insert(record.position, 1 + u32::from(backup));
            if backup {
                self.backup
                    .push(&record.data, record.position, record.arrival, now);
            }
            if self.settings.processor.is_some() {
                if self.pending.records.is_empty() {
                    self.pending.since = now;
                }
                self.pending.bytes += record.data.len();
                self.pending.records.push(record);
            } else {
                self.delivered
                    .push(&record.data, record.position, record.arrival, now);
            }
        }
        self.step(now)
    }

    /// How invocation `invocation_id` ended.
    pub fn invoked(&mut self, invocation_id: &str, outcome: &Outcome, now: Millis) -> Vec<Action> {
        let Some(flight) = self.in_flight.remove(invocation_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let ids: Vec<String> = flight.records.iter().map(|r| r.record_id.clone()).collect();
        let lambda_arn = self.lambda_arn();
        match judge(&ids, outcome) {
            Ok(results) => {
                let count = |f: fn(&RecordResult) -> bool| results.iter().filter(|r| f(r)).count();
                self.decisions.push(Decision::Transformed {
                    invocation_id: invocation_id.to_owned(),
                    ok: count(|r| matches!(r, RecordResult::Ok(_))),
                    dropped: count(|r| matches!(r, RecordResult::Dropped)),
                    failed: count(|r| matches!(r, RecordResult::ProcessingFailed)),
                });
                for (record, result) in flight.records.into_iter().zip(results) {
                    match result {
                        RecordResult::Ok(data) => {
                            self.counters.transformed += 1;
                            self.delivered
                                .push(&data, record.position, record.arrival, now);
                        }
                        RecordResult::Dropped => {
                            self.counters.dropped += 1;
                            self.settle(record.position);
                        }
                        RecordResult::ProcessingFailed => {
                            let message =
                                "The Lambda function returned ProcessingFailed for the record.";
                            self.fail(
                                &record,
                                flight.attempts,
                                (PROCESSING_FAILED_CODE, message),
                                now,
                                &lambda_arn,
                            );
                        }
                    }
                }
            }
            Err(error) => {
                self.counters.invocation_errors += 1;
                let retries = self.settings.processor.as_ref().map_or(0, |p| p.retries);
                self.decisions.push(Decision::InvocationFailed {
                    invocation_id: invocation_id.to_owned(),
                    code: error.code.to_owned(),
                    message: error.message.clone(),
                    retrying: flight.attempts <= retries,
                });
                if flight.attempts <= retries {
                    self.invoke(flight.records, flight.attempts + 1, &mut out);
                } else {
                    for record in &flight.records {
                        self.fail(
                            record,
                            flight.attempts,
                            (error.code, &error.message),
                            now,
                            &lambda_arn,
                        );
                    }
                }
            }
        }
        out.extend(self.step(now));
        out
    }

    /// How write `write_id` ended (`Err`: S3's error, for the journal).
    pub fn written(
        &mut self,
        write_id: u64,
        result: Result<(), String>,
        now: Millis,
    ) -> Vec<Action> {
        match result {
            Ok(()) => {
                if let Some(write) = self.writes.remove(&write_id) {
                    if let Action::Write { key, .. } = &write.action {
                        self.decisions.push(Decision::Written {
                            key: key.clone(),
                            object: write.kind,
                            records: write.positions.len(),
                        });
                    }
                    if write.kind == ObjectKind::Delivered {
                        self.counters.delivered_objects += 1;
                        self.counters.delivered_bytes += write.raw_bytes as u64;
                    }
                    for position in write.positions {
                        self.settle(position);
                    }
                }
            }
            Err(error) => {
                if let Some(write) = self.writes.get_mut(&write_id) {
                    self.counters.write_failures += 1;
                    let backoff = (WRITE_RETRY_MS << write.attempts.min(6)).min(MAX_WRITE_RETRY_MS);
                    write.attempts += 1;
                    write.retry_at = Some(now + backoff);
                    if let Action::Write { key, .. } = &write.action {
                        self.decisions.push(Decision::WriteFailed {
                            key: key.clone(),
                            error,
                            retry_in_ms: backoff,
                        });
                    }
                }
            }
        }
        self.step(now)
    }

    /// From now on, deliver without waiting for buffering hints (the stream is being deleted
    /// or Riffle is shutting down): what is buffered goes to the processor and to S3 at once.
    pub fn drain(&mut self, now: Millis) -> Vec<Action> {
        self.draining = true;
        self.step(now)
    }

    /// Time passed.
    pub fn tick(&mut self, now: Millis) -> Vec<Action> {
        self.step(now)
    }

    /// When the machine next has something to do without new input.
    pub fn next_wake(&self) -> Option<Millis> {
        let destination = self.settings.destination.buffering;
        let backup = self.settings.backup.as_ref().map(|b| b.buffering);
        let pending = self.settings.processor.as_ref().and_then(|p| {
            (!self.pending.records.is_empty()).then(|| self.pending.since + p.interval_ms)
        });
        [
            pending,
            self.delivered.deadline(destination),
            self.failed.deadline(destination),
            backup.and_then(|b| self.backup.deadline(b)),
        ]
        .into_iter()
        .chain(self.writes.values().map(|w| w.retry_at))
        .flatten()
        .min()
    }

    fn lambda_arn(&self) -> String {
        self.settings
            .processor
            .as_ref()
            .map(|p| p.lambda_arn.clone())
            .unwrap_or_default()
    }

    fn fail(
        &mut self,
        record: &SourceRecord,
        attempts: u32,
        error: (&str, &str),
        now: Millis,
        arn: &str,
    ) {
        self.counters.failed += 1;
        let line =
            ProcessingFailedRecord::new(&record.data, record.arrival, attempts, error, now, arn)
                .line();
        self.failed
            .push(line.as_bytes(), record.position, record.arrival, now);
    }

    fn settle(&mut self, position: u64) {
        if let Some(left) = self.outstanding.get_mut(&position) {
            *left -= 1;
            if *left == 0 {
                self.outstanding.remove(&position);
            }
        }
    }

    /// A derived id: a UUID-shaped digest of the stream, a purpose and a counter.
    fn derived(&self, purpose: &str, n: u64) -> [u8; 16] {
        let mut digest = Md5::new();
        digest.update(self.settings.stream_arn.as_bytes());
        digest.update(self.settings.version.to_le_bytes());
        digest.update(purpose.as_bytes());
        digest.update(n.to_le_bytes());
        digest.finalize().into()
    }

    fn invoke(&mut self, records: Vec<SourceRecord>, attempts: u32, out: &mut Vec<Action>) {
        self.next_id += 1;
        let invocation_id = uuid_v4_shape(self.derived("invocation", self.next_id));
        let encode = |r: &SourceRecord| EventRecord {
            record_id: r.record_id.clone(),
            approximate_arrival_timestamp: r.arrival,
            data: base64::engine::general_purpose::STANDARD.encode(&r.data),
            kinesis_record_metadata: r.kinesis.clone(),
        };
        let event = FirehoseEvent {
            invocation_id: invocation_id.clone(),
            delivery_stream_arn: self.settings.stream_arn.clone(),
            source_kinesis_stream_arn: self.settings.source_stream_arn.clone(),
            region: self.settings.region.clone(),
            records: records.iter().map(encode).collect(),
        };
        let payload = serde_json::to_string(&event).expect("plain fields serialize");
        self.counters.invocations += 1;
        self.decisions.push(Decision::Invoked {
            invocation_id: invocation_id.clone(),
            records: records.len(),
            attempt: attempts,
        });
        out.push(Action::Invoke {
            invocation_id: invocation_id.clone(),
            payload,
            records: records.len(),
        });
        self.in_flight
            .insert(invocation_id, InFlight { records, attempts });
    }

    /// Splits the processor's buffer into invocations of at most [`MAX_PAYLOAD_BYTES`].
    fn flush_pending(&mut self, out: &mut Vec<Action>) {
        let records = std::mem::take(&mut self.pending).records;
        let envelope = serde_json::to_string(&FirehoseEvent {
            invocation_id: uuid_v4_shape([0; 16]),
            delivery_stream_arn: self.settings.stream_arn.clone(),
            source_kinesis_stream_arn: self.settings.source_stream_arn.clone(),
            region: self.settings.region.clone(),
            records: Vec::new(),
        })
        .map_or(0, |s| s.len());
        let mut batch: Vec<SourceRecord> = Vec::new();
        let mut size = envelope;
        for record in records {
            let bytes = record_bytes(&EventRecord {
                record_id: record.record_id.clone(),
                approximate_arrival_timestamp: record.arrival,
                data: base64::engine::general_purpose::STANDARD.encode(&record.data),
                kinesis_record_metadata: record.kinesis.clone(),
            });
            if !batch.is_empty() && size + bytes > MAX_PAYLOAD_BYTES {
                self.invoke(std::mem::take(&mut batch), 1, out);
                size = envelope;
            }
            size += bytes;
            batch.push(record);
        }
        if !batch.is_empty() {
            self.invoke(batch, 1, out);
        }
    }

    fn write(&mut self, kind: ObjectKind, now: Millis, out: &mut Vec<Action>) {
        let (buffer, target): (Buffer, &S3Settings) = match kind {
            ObjectKind::Delivered => (
                std::mem::take(&mut self.delivered),
                &self.settings.destination,
            ),
            ObjectKind::ProcessingFailed => {
                (std::mem::take(&mut self.failed), &self.settings.destination)
            }
            ObjectKind::Backup => match &self.settings.backup {
                Some(backup) => (std::mem::take(&mut self.backup), backup),
                None => return,
            },
        };
        self.next_id += 1;
        let write_id = self.next_id;
        let digest = self.derived("object", write_id);
        let random: String = digest[..11]
            .iter()
            .map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[*b as usize % 36]))
            .collect();
        let prefixes = &target.prefixes;
        let prefix = match kind {
            ObjectKind::ProcessingFailed => &prefixes.error_prefix,
            _ => &prefixes.prefix,
        };
        let name = object_name(
            &self.settings.stream_name,
            self.settings.version,
            now,
            &uuid_v4_shape(digest),
        );
        let key = format!(
            "{}{name}{}",
            prefix.evaluate(buffer.oldest_arrival, &random),
            target.compression.extension()
        );
        let action = Action::Write {
            write_id,
            bucket: target.bucket.clone(),
            key,
            body: target.compression.compress(&buffer.body, &name),
            content_encoding: target.compression.content_encoding(),
            kind,
            records: buffer.positions.len(),
        };
        out.push(action.clone());
        self.writes.insert(
            write_id,
            PendingWrite {
                action,
                positions: buffer.positions,
                attempts: 0,
                retry_at: None,
                kind,
                raw_bytes: buffer.body.len(),
            },
        );
    }

    fn step(&mut self, now: Millis) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(processor) = &self.settings.processor
            && !self.pending.records.is_empty()
            && (self.draining
                || self.pending.bytes >= processor.buffer_bytes
                || now >= self.pending.since + processor.interval_ms)
        {
            self.flush_pending(&mut out);
        }
        let destination = self.settings.destination.buffering;
        if self.delivered.due(destination, now, self.draining) {
            self.write(ObjectKind::Delivered, now, &mut out);
        }
        if self.failed.due(destination, now, self.draining) {
            self.write(ObjectKind::ProcessingFailed, now, &mut out);
        }
        if let Some(backup) = self.settings.backup.as_ref().map(|b| b.buffering)
            && self.backup.due(backup, now, self.draining)
        {
            self.write(ObjectKind::Backup, now, &mut out);
        }
        for write in self.writes.values_mut() {
            if write.retry_at.is_some_and(|at| at <= now) {
                write.retry_at = None;
                out.push(write.action.clone());
            }
        }
        let below = self
            .outstanding
            .keys()
            .next()
            .copied()
            .unwrap_or(self.next_position);
        if below > self.acknowledged {
            self.acknowledged = below;
            out.push(Action::Acknowledge { below });
        }
        out
    }
}

#[cfg(test)]
mod tests;
