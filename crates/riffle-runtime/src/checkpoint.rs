//! Durable shard checkpoints: in memory for tests, a file per mapping for real runs.
//!
//! Invariant (file store): a save returns only after the new state is on disk (temporary file,
//! fsync, rename, fsync of the directory), so after `kill -9` a mapping resumes from the last
//! checkpoint it reported saved. Saves that arrive while a write is under way are written
//! together by the next write (group commit): the shards of a mapping share fsyncs instead of
//! queueing one each.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use riffle_core::sequence::SequenceNumber;
use serde::{Deserialize, Serialize};

/// Where a shard stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardCheckpoint {
    /// Never read: start from the mapping's starting position.
    New,
    /// Every record up to and including this one is finished.
    At(String),
    /// The shard ended and every record is finished; its children may start.
    Finished,
}

impl ShardCheckpoint {
    /// The sequence number, if the checkpoint is one.
    pub fn sequence_number(&self) -> Option<SequenceNumber> {
        match self {
            Self::At(seq) => SequenceNumber::parse(seq),
            _ => None,
        }
    }
}

/// A failed checkpoint read or write.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint store: {0}")]
pub struct CheckpointError(pub String);

/// Persists the checkpoints of one mapping.
pub trait CheckpointStore: Send + Sync + 'static {
    /// The checkpoint of `shard_id` (`New` if none).
    fn load(
        &self,
        shard_id: &str,
    ) -> impl Future<Output = Result<ShardCheckpoint, CheckpointError>> + Send;
    /// Saves the checkpoint of `shard_id`.
    fn save(
        &self,
        shard_id: &str,
        checkpoint: ShardCheckpoint,
    ) -> impl Future<Output = Result<(), CheckpointError>> + Send;
}

/// Checkpoints in memory; clones share them, and tests can wait for a condition on them.
#[derive(Debug, Clone)]
pub struct MemoryCheckpoints {
    shards: Arc<Mutex<BTreeMap<String, ShardCheckpoint>>>,
    changed: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for MemoryCheckpoints {
    fn default() -> Self {
        Self {
            shards: Arc::default(),
            changed: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl MemoryCheckpoints {
    /// Every shard's checkpoint.
    pub fn snapshot(&self) -> BTreeMap<String, ShardCheckpoint> {
        self.shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until `condition` holds for the checkpoints (checked after every save).
    pub async fn wait_until(&self, condition: impl Fn(&BTreeMap<String, ShardCheckpoint>) -> bool) {
        let mut changes = self.changed.subscribe();
        loop {
            changes.borrow_and_update();
            if condition(&self.snapshot()) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

impl CheckpointStore for MemoryCheckpoints {
    async fn load(&self, shard_id: &str) -> Result<ShardCheckpoint, CheckpointError> {
        Ok(self
            .snapshot()
            .get(shard_id)
            .cloned()
            .unwrap_or(ShardCheckpoint::New))
    }

    async fn save(
        &self,
        shard_id: &str,
        checkpoint: ShardCheckpoint,
    ) -> Result<(), CheckpointError> {
        self.shards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shard_id.to_owned(), checkpoint);
        self.changed.send_modify(|version| *version += 1);
        Ok(())
    }
}

/// Checkpoints in one JSON file per mapping (`<dir>/<mapping>.checkpoints.json`).
#[derive(Debug, Clone)]
pub struct FileCheckpoints {
    path: PathBuf,
    shards: Arc<tokio::sync::Mutex<Option<Versioned>>>,
    /// Held by the one save that is writing the file.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The version of the map on disk.
    written: Arc<std::sync::atomic::AtomicU64>,
    /// Files written, for tests of the group commit.
    writes: Arc<std::sync::atomic::AtomicU64>,
    saved: Arc<tokio::sync::watch::Sender<BTreeMap<String, ShardCheckpoint>>>,
}

/// The checkpoints, and how many changes they have had.
#[derive(Debug, Default)]
struct Versioned {
    map: BTreeMap<String, ShardCheckpoint>,
    version: u64,
}

impl FileCheckpoints {
    /// The store of mapping `mapping_id` under `dir`.
    pub fn new(dir: impl Into<PathBuf>, mapping_id: &str) -> Self {
        let file: String = mapping_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            path: dir.into().join(format!("{file}.checkpoints.json")),
            shards: Arc::new(tokio::sync::Mutex::new(None)),
            writer: Arc::default(),
            written: Arc::default(),
            writes: Arc::default(),
            saved: Arc::new(tokio::sync::watch::Sender::new(BTreeMap::new())),
        }
    }

    /// Waits until `condition` holds for what this store has written to disk.
    pub async fn wait_until(&self, condition: impl Fn(&BTreeMap<String, ShardCheckpoint>) -> bool) {
        let mut saved = self.saved.subscribe();
        let _ = saved.wait_for(|map| condition(map)).await;
    }

    async fn loaded(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Versioned>>, CheckpointError> {
        let mut guard = self.shards.lock().await;
        if guard.is_none() {
            let map = match tokio::fs::read(&self.path).await {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                    CheckpointError(format!(
                        "{} is not a checkpoint file: {e}",
                        self.path.display()
                    ))
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
                Err(e) => return Err(CheckpointError(format!("{}: {e}", self.path.display()))),
            };
            *guard = Some(Versioned { map, version: 0 });
        }
        Ok(guard)
    }
}

impl CheckpointStore for FileCheckpoints {
    async fn load(&self, shard_id: &str) -> Result<ShardCheckpoint, CheckpointError> {
        let guard = self.loaded().await?;
        Ok(guard
            .as_ref()
            .and_then(|v| v.map.get(shard_id).cloned())
            .unwrap_or(ShardCheckpoint::New))
    }

    async fn save(
        &self,
        shard_id: &str,
        checkpoint: ShardCheckpoint,
    ) -> Result<(), CheckpointError> {
        use std::sync::atomic::Ordering;
        let mine = {
            let mut guard = self.loaded().await?;
            let state = guard.get_or_insert_with(Versioned::default);
            state.map.insert(shard_id.to_owned(), checkpoint);
            state.version += 1;
            state.version
        };
        // One writer at a time; whoever gets the turn writes everything saved so far, so the
        // saves that waited meanwhile find their change already on disk.
        let _turn = self.writer.lock().await;
        if self.written.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let (bytes, version, snapshot) = {
            let guard = self.loaded().await?;
            let state = guard.as_ref().expect("loaded above");
            let bytes = serde_json::to_vec_pretty(&state.map)
                .map_err(|e| CheckpointError(e.to_string()))?;
            (bytes, state.version, state.map.clone())
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| CheckpointError(e.to_string()))?
            .map_err(|e| CheckpointError(format!("{}: {e}", self.path.display())))?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.written.store(version, Ordering::Release);
        self.saved.send_replace(snapshot);
        Ok(())
    }
}

/// A file store or a memory store, chosen at run time (by whether a data directory was given).
#[derive(Debug, Clone)]
pub enum Checkpoints {
    /// Durable, in a file per mapping.
    File(FileCheckpoints),
    /// In memory, gone with the process.
    Memory(MemoryCheckpoints),
}

impl CheckpointStore for Checkpoints {
    async fn load(&self, shard_id: &str) -> Result<ShardCheckpoint, CheckpointError> {
        match self {
            Self::File(store) => store.load(shard_id).await,
            Self::Memory(store) => store.load(shard_id).await,
        }
    }

    async fn save(
        &self,
        shard_id: &str,
        checkpoint: ShardCheckpoint,
    ) -> Result<(), CheckpointError> {
        match self {
            Self::File(store) => store.save(shard_id, checkpoint).await,
            Self::Memory(store) => store.save(shard_id, checkpoint).await,
        }
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_checkpoints_survive_a_new_store_on_the_same_directory() {
        let dir = std::env::temp_dir().join(format!("riffle-checkpoints-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FileCheckpoints::new(&dir, "mapping/1");
        assert_eq!(
            store.load("shardId-000000000000").await.unwrap(),
            ShardCheckpoint::New
        );
        store
            .save("shardId-000000000000", ShardCheckpoint::At("42".into()))
            .await
            .unwrap();
        store
            .save("shardId-000000000001", ShardCheckpoint::Finished)
            .await
            .unwrap();
        let reopened = FileCheckpoints::new(&dir, "mapping/1");
        assert_eq!(
            reopened.load("shardId-000000000000").await.unwrap(),
            ShardCheckpoint::At("42".into())
        );
        assert_eq!(
            reopened.load("shardId-000000000001").await.unwrap(),
            ShardCheckpoint::Finished
        );
        std::fs::write(dir.join("mapping_1.checkpoints.json"), b"garbage").unwrap();
        let broken = FileCheckpoints::new(&dir, "mapping/1");
        assert!(
            broken.load("shardId-000000000000").await.is_err(),
            "a damaged file is an error, not a fresh start"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn saves_that_wait_for_a_write_share_the_next_one() {
        let dir =
            std::env::temp_dir().join(format!("riffle-checkpoints-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FileCheckpoints::new(&dir, "m");
        let saves: Vec<_> = (0..50)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .save(&format!("shard-{n:02}"), ShardCheckpoint::At(n.to_string()))
                        .await
                })
            })
            .collect();
        for save in saves {
            save.await.unwrap().unwrap();
        }
        let writes = store.writes.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            (1..=2).contains(&writes),
            "50 saves at once share the writes (the first may write alone): {writes} writes"
        );
        let reopened = FileCheckpoints::new(&dir, "m");
        for n in 0..50 {
            assert_eq!(
                reopened.load(&format!("shard-{n:02}")).await.unwrap(),
                ShardCheckpoint::At(n.to_string()),
                "every save is on disk when it returns"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
