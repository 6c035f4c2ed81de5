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

/// A record's sequence number as the emulator writes it (AWS's current layout, see
/// `keys::SequenceParts`), for fuzz targets and tests that make up their own: the shard's
/// creation second and ordinal, the per-stream sequence index, the record's arrival second.
pub fn sequence_number(
    shard_created_secs: u64,
    shard: u32,
    seq_ix: u64,
    record_secs: u64,
) -> String {
    keys::SequenceParts {
        shard_created_secs,
        shard,
        seq_ix,
        record_secs,
    }
    .encode()
}
