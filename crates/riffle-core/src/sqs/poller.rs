//! The SQS poller's decisions: how a poller gathers a batch from receives, which messages a
//! batch's outcome deletes, how long a throttled batch is retried, and how many pollers run.
//! The runtime performs the receives, invocations and deletes; time enters as arguments.
//!
//! Invariants:
//! - the engine deletes a message only when the function succeeded for it or a filter dropped
//!   it; a failed message is never deleted, it returns to the queue when its visibility timeout
//!   passes (and the queue's redrive policy, not the engine, moves it to a dead-letter queue);
//! - a received message is in exactly one batch, and a batch is invoked only while its
//!   messages are still hidden (throttle retries stop before the visibility timeout passes);
//! - the number of pollers stays within `[1, ceiling]`, where the ceiling is
//!   MaximumConcurrency (or 1 000). The function's reserved concurrency is deliberately not a
//!   cap: Lambda's SQS pollers do not account for it, so invocations beyond it are throttled
//!   (and retried until the visibility timeout is near, then returned to the queue).

use crate::time::Millis;

mod gather;
mod scaler;
mod settle;
mod types;

pub use gather::{Gatherer, QueueBatch, Step};
pub use scaler::Scaler;
pub use settle::{Settled, Settlement, settle, throttle_delay};
pub use types::{Decision, EntryFailure, PollerSettings, ReceiptEntry, ReceiveRequest};

/// Longest wait SQS allows for one ReceiveMessage call.
pub const MAX_WAIT_SECONDS: u32 = 20;
/// Most messages one ReceiveMessage call returns.
pub const MAX_RECEIVE: usize = 10;
/// Pollers a mapping starts with, and the floor while messages flow.
pub const START_POLLERS: usize = 5;
/// The floor after a minute without messages (unless MaximumConcurrency is set).
pub const IDLE_POLLERS: usize = 2;
/// Most concurrent batches of one mapping without MaximumConcurrency.
pub const MAX_POLLERS: usize = 1000;
/// Pollers added per second while every poller finds a full receive: 300 a minute, the
/// current AWS figure (older docs say 60).
pub const GROWTH_PER_SECOND: usize = 5;
/// Without messages for this long, the floor drops from 5 to 2 pollers.
pub const IDLE_AFTER_MS: Millis = 60_000;
/// Throttle and invoke-service-error retries stop this long before the batch's visibility
/// timeout passes, so an invocation never runs on messages SQS may hand out again.
pub const VISIBILITY_MARGIN_MS: Millis = 1_000;

#[cfg(test)]
mod tests;
