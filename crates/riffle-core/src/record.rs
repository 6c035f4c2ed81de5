//! A stream record as the engine sees it.

use bytes::Bytes;

use crate::sequence::SequenceNumber;
use crate::time::Millis;

/// One Kinesis record read from a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// Its sequence number.
    pub sequence_number: SequenceNumber,
    /// Its partition key.
    pub partition_key: String,
    /// Its payload, raw.
    pub data: Bytes,
    /// `ApproximateArrivalTimestamp`, epoch milliseconds.
    pub arrival_ms: Millis,
}
