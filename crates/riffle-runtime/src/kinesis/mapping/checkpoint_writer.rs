//! The checkpoint writer of one shard task: saves the newest checkpoint handed over, off the
//! shard task.
//!
//! Invariant: checkpoints are saved in the order they were taken, the newest winning; a
//! checkpoint is journaled only once saved.

use tokio::sync::watch;

use crate::checkpoint::ShardCheckpoint;

/// Persists one shard's checkpoints off the shard task, which hands over each new checkpoint
/// and goes on; the writer saves the newest it has (a save that fails is journaled and tried
/// again a second later) and journals it once saved. A crash loses at most the checkpoints not
/// yet saved: the shard resumes from the last saved one, at least once as before. The shard task
/// waits for the writer only to finish a shard and when it stops.
pub(super) struct CheckpointWriter {
    pub(super) latest: watch::Sender<(u64, Option<ShardCheckpoint>)>,
    pub(super) saved: watch::Receiver<u64>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl CheckpointWriter {
    /// Hands over the shard's newest checkpoint.
    pub(super) fn save(&self, checkpoint: ShardCheckpoint) {
        self.latest.send_modify(|(version, latest)| {
            *version += 1;
            *latest = Some(checkpoint);
        });
    }

    /// Waits until everything handed over is saved.
    pub(super) async fn flush(&mut self) {
        let target = self.latest.borrow().0;
        let _ = self.saved.wait_for(|saved| *saved >= target).await;
    }
}

impl Drop for CheckpointWriter {
    fn drop(&mut self) {
        self.task.abort();
    }
}
