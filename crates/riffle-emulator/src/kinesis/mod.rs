//! The Kinesis Data Streams API.
//!
//! [`store`] holds the state and its rules, [`api`] decodes, validates and answers requests,
//! [`keys`] holds the value types (hash keys, sequence numbers, sealed tokens) and [`limits`]
//! the per-shard throughput buckets.

pub mod action;
pub mod api;
pub mod keys;
pub mod limits;
pub mod store;

pub use action::Action;
pub use api::Kinesis;
