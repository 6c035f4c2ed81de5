//! SQS mappings: configuration, the SQS event, how a response is judged, and the poller that
//! uses them. Its Kinesis counterpart is [`crate::kinesis`], module for module.
//!
//! - [`config`]: raw mapping properties with AWS's names → [`config::SqsMappingConfig`].
//! - [`event`]: the exact SQS event JSON.
//! - [`response`]: how a function's response is judged (ReportBatchItemFailures).
//! - [`poller`]: the poller: gathering batches, settling them, throttle retries, scaling.

pub mod config;
pub mod event;
pub mod poller;
pub mod response;
