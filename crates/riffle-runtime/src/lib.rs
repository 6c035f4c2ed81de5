//! Runs event source mappings. Kinesis ([`Mapping`]): discovers shards, runs one task per shard (children only
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
//! SQS ([`QueueMapping`]): pollers that receive, invoke and delete, scaled by
//! `riffle_core::sqs::poller::Scaler`, over a [`QueueSource`].

pub mod checkpoint;
pub mod controller;
pub mod invoke;
pub mod journal;
pub mod mapping;
pub mod memory;
pub mod queue;
pub mod source;

pub use checkpoint::{
    CheckpointStore, Checkpoints, FileCheckpoints, MemoryCheckpoints, ShardCheckpoint,
};
pub use controller::{MappingController, MappingState};
pub use invoke::{HandlerInvoker, InvokeRequest};
pub use journal::{Journal, JournalEvent, JournalKind, Metrics, ShardStatus};
pub use mapping::{FailureDestination, Mapping, MappingOptions, RuntimeError};
pub use memory::{MemoryDestination, MemoryQueue, MemoryReader, MemoryStream};
pub use queue::{QueueJournalEvent, QueueMapping, QueueMetrics, QueueOptions, QueueSource};
pub use riffle_clock::{Clock, ManualClock, SystemClock};
pub use source::{ReadBatch, ShardInfo, ShardReader, SourceError, StartAt, StreamSource};

#[cfg(test)]
mod tests;
