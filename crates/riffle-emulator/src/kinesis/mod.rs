//! The Kinesis Data Streams API.
//!
//! [`Action`] is the closed set of operations, parsed once from `X-Amz-Target`; [`api`] holds the
//! service and one submodule per family of operations (streams, shards, put, read, retention,
//! reshard, tags) that decode, validate and answer requests; [`store`] holds the state and its
//! rules, changed only through `KinesisStore::apply`; [`keys`] holds the value types (hash keys,
//! sequence numbers) and [`limits`] the per-shard throughput buckets.

mod action;
pub mod api;
pub(crate) mod fanout;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod model;
pub mod store;

pub use action::Action;
pub use api::Kinesis;
