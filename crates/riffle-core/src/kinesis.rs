//! Kinesis mappings: configuration, the Kinesis event and failure records, how a response is
//! judged, and the shard state machine that uses them. Its SQS counterpart is [`crate::sqs`],
//! module for module.
//!
//! - [`config`]: raw mapping properties with AWS's names → [`config::KinesisMappingConfig`].
//! - [`event`]: the exact Kinesis event JSON and the on-failure invocation record AWS sends.
//! - [`response`]: how a function's response is judged (ReportBatchItemFailures).
//! - [`shard`]: the shard machine: lanes, batching, retries, bisect, record age, tumbling
//!   windows, checkpoints and on-failure deliveries.

pub mod config;
pub mod event;
pub mod response;
pub mod shard;
