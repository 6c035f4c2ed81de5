//! The Kinesis source boundary: list a stream's shards and read one shard in order. Its SQS
//! counterpart is [`crate::sqs::source`].

use std::future::Future;

use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;

use crate::source::SourceError;

/// A shard and its lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// `shardId-…`.
    pub shard_id: String,
    /// The shard it was split from, or the first of two merged.
    pub parent: Option<String>,
    /// The second shard of a merge.
    pub adjacent_parent: Option<String>,
}

/// Where to start reading a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record.
    TrimHorizon,
    /// After the newest record.
    Latest,
    /// The first record that arrived at or after this time.
    AtTimestamp(Millis),
    /// Right after this record (resuming from a checkpoint).
    After(SequenceNumber),
}

/// One read of a shard.
#[derive(Debug, Clone, Default)]
pub struct ReadBatch {
    /// Records, in sequence order.
    pub records: Vec<StreamRecord>,
    /// How far behind the tip the reader is (0 = caught up).
    pub millis_behind: Millis,
    /// The shard is closed and everything was read.
    pub end_of_shard: bool,
}

/// A stream.
pub trait StreamSource: Send + Sync + 'static {
    /// Reader of one shard.
    type Reader: ShardReader;

    /// Every shard still listed, with its lineage.
    fn list_shards(&self) -> impl Future<Output = Result<Vec<ShardInfo>, SourceError>> + Send;

    /// The stream's retention period.
    fn retention_ms(&self) -> impl Future<Output = Result<Millis, SourceError>> + Send;

    /// Opens a reader on `shard_id` starting at `start`.
    fn open(
        &self,
        shard_id: &str,
        start: StartAt,
    ) -> impl Future<Output = Result<Self::Reader, SourceError>> + Send;
}

/// Reads one shard in order, hiding iterator expiry.
pub trait ShardReader: Send + 'static {
    /// The next records, at most `limit`. A polling reader answers at once, with what is there;
    /// a pushing reader ([`ShardReader::pushes`]) waits until records (or a keep-alive) come.
    fn read(&mut self, limit: usize)
    -> impl Future<Output = Result<ReadBatch, SourceError>> + Send;

    /// Whether records are pushed to this reader (an enhanced fan-out subscription): reads
    /// wait for records rather than answering at once, so the mapping reads again at once
    /// instead of pausing for its idle poll interval.
    fn pushes(&self) -> bool {
        false
    }
}
