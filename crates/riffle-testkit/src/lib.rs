//! Handler unit tests for stream- and queue-triggered Lambda functions.
//!
//! - [`events`]: realistic `aws_lambda_events` events — Kinesis, tumbling windows, SQS — and a
//!   `lambda_runtime::Context`, written by the same code the engine uses to build what it sends.
//! - [`response`]: what a response reports: `batchItemFailures`, tumbling-window `state`.
//! - [`sim`]: the real mapping semantics around your handler on virtual time: batching,
//!   retries, bisect, partial failures, on-failure destinations, visibility timeouts,
//!   dead-letter queues. You get a [`Trace`] of every invocation and decision.
//! - [`faults`]: failures injected without touching the handler.
//! - [`firehose`]: Firehose transformation events ([`FirehoseEventBuilder`]) and results;
//!   [`FirehoseSimulation`] runs a transformation through the real delivery machine.
//!
//! Run simulations from any `#[tokio::test]`: a simulation runs on a current-thread runtime of
//! its own with tokio's time paused, and advances its clock exactly when every task waits.
//!
//! Invariant: nothing here re-implements a mapping rule; the simulation runs `riffle-core` and
//! `riffle-runtime` unchanged with in-memory sources and a manual clock.

pub mod events;
pub mod faults;
pub mod firehose;
pub mod response;
pub mod sim;

pub use events::{KinesisEventBuilder, SqsEventBuilder, SqsMessage, context, lambda_event};
pub use faults::{Fault, Faults, RecordView};
pub use firehose::FirehoseEventBuilder;
pub use response::{assert_failed_items, failed_items, window_state};
pub use sim::{
    FirehoseSimulation, FirehoseTrace, KinesisSimulation, SqsSimulation, Trace, TraceInvocation,
    TraceRecord,
};

/// The name [`SqsSimulation`] had before it mirrored [`KinesisSimulation`].
#[deprecated(since = "0.1.0", note = "renamed `SqsSimulation`")]
pub type QueueSimulation<H> = SqsSimulation<H>;

/// What an invocation came to, as the engine sees it.
pub use riffle_core::invocation::Outcome;

#[cfg(test)]
mod tests;
