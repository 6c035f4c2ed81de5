//! The semantics of AWS Lambda event source mappings, as pure values and state machines.
//!
//! Nothing here performs I/O, reads a clock, spawns a task or knows which SDK or emulator is
//! behind the records: inputs (records polled, invocation outcomes, acknowledgements, time) go
//! in, effects (invoke this batch, checkpoint here, send this failure record, wake me at) come
//! out. `riffle-runtime` performs the effects. This keeps every decision testable on virtual
//! time and identical between tests and real runs.
//!
//! - [`config`]: raw mapping properties with AWS's names → validated configuration.
//! - [`digest`]: the MD5 digests SQS computes over bodies and message attributes.
//! - [`sequence`]: Kinesis sequence numbers, ordered numerically.
//! - [`record`]: a stream record as the engine sees it.
//! - [`event`]: the exact Kinesis event JSON and on-failure invocation record AWS sends.
//! - [`filter`]: FilterCriteria patterns, applied before batching.
//! - [`response`]: how a function's response is judged (ReportBatchItemFailures).
//! - [`shard`]: the shard state machine: lanes, batching, retries, bisect, record age,
//!   checkpoints and on-failure deliveries.
//! - [`sqs`]: SQS mappings: configuration, the SQS event, response judging.
//! - [`queue`]: the SQS poller: gathering batches, settling them, throttle retries, scaling.
//! - [`time`]: millisecond timestamps and their ISO-8601 form.

pub mod config;
pub mod digest;
pub mod event;
pub mod filter;
pub mod queue;
pub mod record;
pub mod response;
pub mod sequence;
pub mod shard;
pub mod sqs;
pub mod time;
