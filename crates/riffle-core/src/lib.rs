//! The semantics of AWS Lambda event source mappings, as pure values and state machines.
//!
//! Nothing here performs I/O, reads a clock, spawns a task or knows which SDK or emulator is
//! behind the records: inputs (records polled, invocation outcomes, acknowledgements, time) go
//! in, effects (invoke this batch, checkpoint here, send this failure record, wake me at) come
//! out. `riffle-runtime` performs the effects. This keeps every decision testable on virtual
//! time and identical between tests and real runs.
//!
//! One module per event source, mirrored: [`kinesis`] and [`sqs`] each hold `config`, `event`,
//! `response` and their machine (`kinesis::shard`, `sqs::poller`). Shared by every source:
//!
//! - [`config`]: destinations, filter criteria and the errors validation reports.
//! - [`destination`]: which kind of on-failure destination an ARN names, and S3's key layout.
//! - [`invocation`]: the payload envelope and limit, and how an invocation ended ([`invocation::Outcome`]).
//! - [`filter`]: FilterCriteria patterns, applied before batching, and their limits.
//! - [`firehose`]: Firehose delivery to S3 with a Lambda transformation, as a machine.
//! - [`json`]: the one hand-written JSON string escaper and decimal writer.
//! - [`digest`]: the MD5 digests SQS computes over bodies and message attributes.
//! - [`sequence`]: Kinesis sequence numbers, ordered numerically.
//! - [`record`]: a stream record as the engine sees it.
//! - [`time`]: millisecond timestamps and their ISO-8601 form.
//!
//! With the `testscript` feature (tests only), `testscript` holds what every scenario script
//! of the machines shares, here and in `riffle-runtime` and `riffle-testkit`.

pub mod config;
pub mod destination;
pub mod digest;
#[cfg(any(test, feature = "testscript"))]
pub mod examples;
pub mod fault;
pub mod filter;
pub mod firehose;
pub mod invocation;
pub mod json;
pub mod kinesis;
pub mod record;
pub mod sequence;
pub mod sqs;
pub mod time;

#[cfg(any(test, feature = "testscript"))]
pub mod testscript;
