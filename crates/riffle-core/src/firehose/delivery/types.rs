//! The delivery machine's values: the records it takes, the actions it asks for, its counters.

use crate::firehose::transform::KinesisRecordMetadata;
use crate::time::Millis;

/// A record Firehose accepted (PutRecord(Batch), or read from the source stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// Where the record sits in the stream's accepted records: strictly increasing, the unit
    /// of [`Action::Acknowledge`].
    pub position: u64,
    /// `recordId` in the transformation event (PutRecord's RecordId, or the Kinesis sequence
    /// number).
    pub record_id: String,
    /// When Firehose accepted it (epoch ms).
    pub arrival: Millis,
    /// The data.
    pub data: Vec<u8>,
    /// For a Kinesis source.
    pub kinesis: Option<KinesisRecordMetadata>,
}

/// What an object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// Records (transformed, if there is a processor), concatenated.
    Delivered,
    /// Processing-failed records, one JSON document per line.
    ProcessingFailed,
    /// Source records as received (S3BackupMode `Enabled`).
    Backup,
}

/// An effect for the engine to perform, then report back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Invoke the processor synchronously with `payload`; report with
    /// [`super::Delivery::invoked`].
    Invoke {
        /// The event's `invocationId`.
        invocation_id: String,
        /// The KinesisFirehoseEvent JSON (at most 6 MiB).
        payload: String,
        /// Records in it.
        records: usize,
    },
    /// PutObject; report with [`super::Delivery::written`]. A retry repeats the same id, key
    /// and body.
    Write {
        /// The write's id.
        write_id: u64,
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// The (compressed) body.
        body: Vec<u8>,
        /// `Content-Encoding` to store (`gzip` for GZIP).
        content_encoding: Option<&'static str>,
        /// What the object holds.
        kind: ObjectKind,
        /// Records in it.
        records: usize,
    },
    /// Every record with a position below `below` is settled durably (delivered, written as
    /// processing-failed, or dropped by the function, and backed up when backup is on): the
    /// source may forget it.
    Acknowledge {
        /// The first position not yet settled.
        below: u64,
    },
}

/// What the machine has done, for metrics and status rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records put.
    pub records_in: u64,
    /// Records the function returned `Ok`.
    pub transformed: u64,
    /// Records the function returned `Dropped`.
    pub dropped: u64,
    /// Records that ended processing-failed.
    pub failed: u64,
    /// Invocations made (retries included).
    pub invocations: u64,
    /// Invocations that failed (error, throttle, malformed response).
    pub invocation_errors: u64,
    /// Delivered objects written (not backup or processing-failed ones).
    pub delivered_objects: u64,
    /// Bytes of records in delivered objects, before compression.
    pub delivered_bytes: u64,
    /// Writes S3 refused (each retried).
    pub write_failures: u64,
}

/// What the machine decided, as `riffle explain` and the journal show it (drained with
/// [`super::Delivery::take_decisions`]). Serialized with `kind` in snake case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// A buffer of records went to the processor.
    Invoked {
        /// The event's invocationId.
        invocation_id: String,
        /// Records in it.
        records: usize,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An invocation failed as a whole.
    InvocationFailed {
        /// Its invocationId.
        invocation_id: String,
        /// Firehose's error code.
        code: String,
        /// The message.
        message: String,
        /// Whether it is invoked again (false: its records are processing-failed).
        retrying: bool,
    },
    /// An invocation's results were accepted.
    Transformed {
        /// Its invocationId.
        invocation_id: String,
        /// `Ok` records.
        ok: usize,
        /// `Dropped` records.
        dropped: usize,
        /// `ProcessingFailed` records.
        failed: usize,
    },
    /// An object was written.
    Written {
        /// Its key.
        key: String,
        /// What it holds.
        object: ObjectKind,
        /// Records in it.
        records: usize,
    },
    /// S3 refused a write; it is retried.
    WriteFailed {
        /// The key.
        key: String,
        /// S3's error.
        error: String,
        /// After this long.
        retry_in_ms: Millis,
    },
}
