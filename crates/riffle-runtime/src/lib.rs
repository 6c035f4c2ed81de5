//! Runs event source mappings, one module per source, mirrored: [`kinesis`] and [`sqs`] each
//! hold the performer of their riffle-core machine (`mapping`), their source boundary
//! (`source`) and its in-memory model (`memory`); the journal, the controller, checkpoints and
//! the invoker are shared.
//!
//! Kinesis ([`KinesisMapping`]): discovers shards, runs one task per shard (children only
//! after their parents finished), and performs the effects `riffle-core` decides — invocations,
//! failure deliveries, durable checkpoints — while recording metrics and a decision journal.
//!
//! The boundaries are traits so the same runtime drives the embedded emulator, real AWS, and
//! in-memory fakes: [`StreamSource`]/[`ShardReader`] (records), [`FailureDestination`] (SQS),
//! [`CheckpointStore`], the function as a `tower::Service<InvokeRequest>`, and the [`Clock`].
//!
//! Invariants: the runtime never re-derives policy (retry, bisect, discard are riffle-core's
//! decisions); a checkpoint is persisted before the next one is taken; a shard is marked finished
//! only after every record was finished, and a child shard starts only when all its listed
//! parents are finished.
//!
//! SQS ([`SqsMapping`]): pollers that receive, invoke and delete, scaled by
//! `riffle_core::sqs::poller::Scaler`, over a [`QueueSource`].

pub mod checkpoint;
pub mod controller;
pub mod firehose;
pub mod invoke;
pub mod journal;
pub mod kinesis;
#[cfg(test)]
mod scripted;
pub mod source;
pub mod sqs;

pub use checkpoint::{
    CheckpointStore, Checkpoints, FileCheckpoints, MemoryCheckpoints, ShardCheckpoint,
};
pub use controller::{Controlled, MappingController, MappingState};
pub use firehose::{FirehoseDelivery, FirehoseOptions};
pub use invoke::{HandlerInvoker, InvokeRequest};
pub use journal::{
    Journal, JournalKind, KinesisJournalEvent, KinesisMetrics, ShardStatus, SqsJournalEvent,
    SqsMetrics,
};
pub use kinesis::mapping::{
    FailureDestination, FailureMessage, KinesisMapping, KinesisMappingOptions, RuntimeError,
};
pub use kinesis::memory::{MemoryDestination, MemoryReader, MemoryStream};
pub use kinesis::source::{ReadBatch, ShardInfo, ShardReader, StartAt, StreamSource};
pub use riffle_clock::{Clock, ManualClock, SystemClock};
pub use source::SourceError;
pub use sqs::mapping::{SqsMapping, SqsMappingOptions};
pub use sqs::memory::MemoryQueue;
pub use sqs::source::QueueSource;
