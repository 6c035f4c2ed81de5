//! Firehose delivery streams to S3: settings, object keys, the Lambda transformation's event
//! and response rules, processing-failed records, compression, and the delivery machine that
//! uses them. Like [`crate::kinesis`] and [`crate::sqs`], nothing here does I/O or reads a
//! clock: records and results go in with `now`, actions (invoke, write, acknowledge) come out.
//!
//! - [`settings`]: a delivery stream's plain values → [`settings::DeliverySettings`], AWS's ranges.
//! - [`prefix`]: Prefix / ErrorOutputPrefix expressions, their rules, and AWS's key layout.
//! - [`transform`]: the KinesisFirehoseEvent Firehose sends and how a response is judged.
//! - [`error_record`]: the processing-failed record format, one JSON document per line.
//! - [`compression`]: GZIP, ZIP, Snappy and HADOOP_SNAPPY object bodies and their extensions.
//! - [`delivery`]: the machine: buffering, invocations, retries, writes, backup, counters.

pub mod compression;
pub mod delivery;
pub mod error_record;
pub mod prefix;
pub mod settings;
pub mod transform;
