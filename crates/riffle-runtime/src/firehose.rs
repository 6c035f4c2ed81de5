//! Runs Firehose delivery streams: the performer of riffle-core's
//! [`riffle_core::firehose::delivery::Delivery`] machine ([`delivery`]), its source boundary
//! ([`source`]: the records a delivery stream accepted, and the object store it writes to) and
//! their in-memory models ([`memory`]); a Kinesis source stream is read by an internal
//! Kinesis mapping whose function is [`feed::KinesisFeed`]. It mirrors the mapping runtimes in [`crate::kinesis`] and
//! [`crate::sqs`]: the function is a `tower::Service<InvokeRequest>`, time is the injected
//! [`crate::Clock`].
//!
//! Invariant: the runtime never re-derives policy (buffering, retries, what is processing-failed
//! are the machine's decisions), and the source forgets a record only after the machine's
//! `Acknowledge` passed it — after every object holding it was written.

pub mod delivery;
pub mod feed;
pub mod memory;
pub mod source;

pub use delivery::{DeliveryStatus, FirehoseDelivery, FirehoseOptions};
pub use feed::{Intake, KinesisFeed, RecordIntake};
pub use memory::{MemoryObjects, MemoryRecords};
pub use source::{ObjectSink, PutObject, RecordSource};
