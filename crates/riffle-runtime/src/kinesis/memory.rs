//! An in-memory Kinesis stream and failure destination, for the runtime's tests and the test
//! kit: the counterpart of [`crate::sqs::memory`]. They drive the real runtime on a manual
//! clock, without an emulator or a network.
//!
//! Invariant: the stream passes the stream source conformance suite (riffle-conformance) that
//! the SDK adapter over the emulator passes: records come back in sequence order, `After`
//! resumes right after a sequence number, a closed shard ends with `end_of_shard` once read to
//! its end, and shards list their lineage.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use riffle_core::record::StreamRecord;
use riffle_core::sequence::SequenceNumber;
use riffle_core::time::Millis;

use crate::kinesis::mapping::{FailureDestination, FailureMessage};
use crate::kinesis::source::{ReadBatch, ShardInfo, ShardReader, StartAt, StreamSource};
use crate::source::SourceError;

#[derive(Debug, Default)]
struct MemoryShard {
    info: Option<ShardInfo>,
    records: Vec<StreamRecord>,
    closed: bool,
}

/// A stream held in memory; clones share it.
#[derive(Debug, Clone)]
pub struct MemoryStream {
    shards: Arc<Mutex<Vec<MemoryShard>>>,
    retention_ms: Millis,
}

impl MemoryStream {
    /// A stream with `shards` open shards (`shardId-000000000000` …) and 24 h retention.
    pub fn new(shards: usize) -> Self {
        let stream = Self {
            shards: Arc::default(),
            retention_ms: 24 * 3_600_000,
        };
        for _ in 0..shards {
            stream.add_shard(None, None);
        }
        stream
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<MemoryShard>> {
        self.shards.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a shard with the given parents (as resharding does); returns its id.
    pub fn add_shard(&self, parent: Option<&str>, adjacent_parent: Option<&str>) -> String {
        let mut shards = self.lock();
        let shard_id = format!("shardId-{:012}", shards.len());
        shards.push(MemoryShard {
            info: Some(ShardInfo {
                shard_id: shard_id.clone(),
                parent: parent.map(str::to_owned),
                adjacent_parent: adjacent_parent.map(str::to_owned),
            }),
            ..MemoryShard::default()
        });
        shard_id
    }

    /// Closes shard number `shard`: no more writes; readers end after its last record.
    pub fn close(&self, shard: usize) {
        if let Some(shard) = self.lock().get_mut(shard) {
            shard.closed = true;
        }
    }

    /// Appends a record to shard number `shard`; returns its sequence number.
    pub fn put(
        &self,
        shard: usize,
        partition_key: &str,
        data: impl Into<Bytes>,
        arrival_ms: Millis,
    ) -> SequenceNumber {
        let mut shards = self.lock();
        let target = &mut shards[shard];
        assert!(!target.closed, "shard {shard} is closed");
        let sequence_number =
            SequenceNumber::parse(&format!("1{shard:04}{:020}", target.records.len() + 1))
                .expect("well-formed sequence number");
        target.records.push(StreamRecord {
            sequence_number: sequence_number.clone(),
            partition_key: partition_key.to_owned(),
            data: data.into(),
            arrival_ms,
        });
        sequence_number
    }
}

impl StreamSource for MemoryStream {
    type Reader = MemoryReader;

    async fn list_shards(&self) -> Result<Vec<ShardInfo>, SourceError> {
        Ok(self.lock().iter().filter_map(|s| s.info.clone()).collect())
    }

    async fn retention_ms(&self) -> Result<Millis, SourceError> {
        Ok(self.retention_ms)
    }

    async fn open(&self, shard_id: &str, start: StartAt) -> Result<MemoryReader, SourceError> {
        let shards = self.lock();
        let index = shards
            .iter()
            .position(|s| s.info.as_ref().is_some_and(|i| i.shard_id == shard_id))
            .ok_or_else(|| SourceError::NotFound(shard_id.to_owned()))?;
        let records = &shards[index].records;
        let position = match start {
            StartAt::TrimHorizon => 0,
            StartAt::Latest => records.len(),
            StartAt::AtTimestamp(at) => records
                .iter()
                .position(|r| r.arrival_ms >= at)
                .unwrap_or(records.len()),
            StartAt::After(seq) => records
                .iter()
                .position(|r| r.sequence_number > seq)
                .unwrap_or(records.len()),
        };
        Ok(MemoryReader {
            stream: self.clone(),
            shard: index,
            position,
        })
    }
}

/// Reads one shard of a [`MemoryStream`].
#[derive(Debug)]
pub struct MemoryReader {
    stream: MemoryStream,
    shard: usize,
    position: usize,
}

impl ShardReader for MemoryReader {
    async fn read(&mut self, limit: usize) -> Result<ReadBatch, SourceError> {
        let shards = self.stream.lock();
        let shard = &shards[self.shard];
        let end = (self.position + limit).min(shard.records.len());
        let records = shard.records[self.position..end].to_vec();
        self.position = end;
        let caught_up = end == shard.records.len();
        Ok(ReadBatch {
            records,
            millis_behind: if caught_up { 0 } else { 1 },
            end_of_shard: caught_up && shard.closed,
        })
    }
}

/// A failure destination that keeps what it receives; clones share it.
#[derive(Debug, Clone, Default)]
pub struct MemoryDestination {
    received: Arc<Mutex<Vec<FailureMessage>>>,
    refusals: Arc<Mutex<usize>>,
}

impl MemoryDestination {
    /// Every (destination ARN, body) received, in order.
    pub fn received(&self) -> Vec<(String, String)> {
        self.messages()
            .into_iter()
            .map(|m| (m.destination, m.body))
            .collect()
    }

    /// Every message received, with its S3 object key, in order.
    pub fn messages(&self) -> Vec<FailureMessage> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Refuses the next `n` deliveries (as an unavailable queue would).
    pub fn refuse_next(&self, n: usize) {
        *self.refusals.lock().unwrap_or_else(|p| p.into_inner()) = n;
    }
}

impl FailureDestination for MemoryDestination {
    async fn send(&self, message: FailureMessage) -> Result<(), String> {
        {
            let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
            if *refusals > 0 {
                *refusals -= 1;
                return Err("refused by the test".into());
            }
        }
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
        Ok(())
    }
}
