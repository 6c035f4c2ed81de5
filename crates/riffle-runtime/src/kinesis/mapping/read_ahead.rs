//! The read-ahead task of a shard.

use std::sync::Arc;

use riffle_clock::Clock;
use riffle_core::time::Millis;
use tokio::sync::mpsc;

use crate::kinesis::source::{ReadBatch, ShardReader};
use crate::source::SourceError;

/// A shard's reads, made on a task of their own one batch ahead of the shard's machine: back to
/// back while records come, then once per idle interval (a pushing reader, which waits for
/// records itself, reads again at once); after an error, at most once a second. Each batch
/// comes with a time before which every record that arrived is known to be in it or before it
/// (tumbling windows close on that): when a polling read started, as a batch can wait in the
/// channel; when a pushing read returned, as it waited for what arrived meanwhile. The task ends
/// at the end of the shard, or when dropped.
pub(super) struct ReadAhead(tokio::task::JoinHandle<()>);

/// A read's result, with the time until which it is known to hold every record that arrived.
pub(super) type TimedRead = (Millis, Result<ReadBatch, SourceError>);

impl ReadAhead {
    pub(super) fn spawn<R: ShardReader>(
        mut reader: R,
        clock: Arc<dyn Clock>,
        limit: usize,
        idle: Millis,
    ) -> (mpsc::Receiver<TimedRead>, Self) {
        let (tx, rx) = mpsc::channel(1);
        let pushes = reader.pushes();
        let task = tokio::spawn(async move {
            loop {
                let started = clock.now_millis();
                let read = reader.read(limit).await;
                let (end, pause) = match &read {
                    Ok(batch) => (
                        batch.end_of_shard,
                        if batch.records.is_empty() && !pushes {
                            idle
                        } else {
                            0
                        },
                    ),
                    Err(_) => (false, idle.max(1_000)),
                };
                let known_until = if pushes { clock.now_millis() } else { started };
                if tx.send((known_until, read)).await.is_err() || end {
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
