//! The read-ahead task of a shard.

use std::sync::Arc;

use riffle_clock::Clock;
use riffle_core::time::Millis;
use tokio::sync::mpsc;

use crate::kinesis::source::{ReadBatch, ShardReader};
use crate::source::SourceError;

/// A shard's reads, made on a task of their own one batch ahead of the shard's machine: back to
/// back while records come, then once per idle interval; after an error, at most once a second.
/// Each batch comes with the time its read started: a batch can wait in the channel, and only
/// records that arrived before its read are known to be in it (tumbling windows close on that).
/// The task ends at the end of the shard, or when dropped.
pub(super) struct ReadAhead(tokio::task::JoinHandle<()>);

/// A read's result, with the time the read started.
pub(super) type TimedRead = (Millis, Result<ReadBatch, SourceError>);

impl ReadAhead {
    pub(super) fn spawn<R: ShardReader>(
        mut reader: R,
        clock: Arc<dyn Clock>,
        limit: usize,
        idle: Millis,
    ) -> (mpsc::Receiver<TimedRead>, Self) {
        let (tx, rx) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            loop {
                let started = clock.now_millis();
                let read = reader.read(limit).await;
                let (end, pause) = match &read {
                    Ok(batch) => (
                        batch.end_of_shard,
                        if batch.records.is_empty() { idle } else { 0 },
                    ),
                    Err(_) => (false, idle.max(1_000)),
                };
                if tx.send((started, read)).await.is_err() || end {
                    return;
                }
                if pause > 0 {
                    clock.sleep_until(started + pause).await;
                }
            }
        });
        (rx, Self(task))
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.0.abort();
    }
}
