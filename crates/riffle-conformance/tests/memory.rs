//! The suites against the in-memory models of `riffle-runtime` (`MemoryStream`, `MemoryQueue`,
//! `MemoryCheckpoints`) and the file checkpoint store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use riffle_clock::ManualClock;
use riffle_conformance::T0;
use riffle_conformance::checkpoint::CheckpointFixture;
use riffle_conformance::queue::{Kind, MAX_RECEIVES, PerKind, QueueFixture, VISIBILITY_MS};
use riffle_conformance::stream::{SHARDS, StreamFixture};
use riffle_core::sequence::SequenceNumber;
use riffle_runtime::{Clock, FileCheckpoints, MemoryCheckpoints, MemoryQueue, MemoryStream};

struct Stream {
    stream: MemoryStream,
    clock: ManualClock,
}

/// `shardId-000000000007` → 7: the model numbers its shards in creation order.
fn index_of(shard_id: &str) -> usize {
    shard_id["shardId-".len()..].parse().expect("a shard id")
}

impl StreamFixture for Stream {
    type Source = MemoryStream;

    fn source(&self) -> &MemoryStream {
        &self.stream
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }

    async fn put(&self, shard_id: &str, partition_key: &str, data: &[u8]) -> SequenceNumber {
        let now = self.clock.now_millis();
        self.stream
            .put(index_of(shard_id), partition_key, data.to_vec(), now)
    }

    async fn split(&self, shard_id: &str) -> [String; 2] {
        self.stream.close(index_of(shard_id));
        [
            self.stream.add_shard(Some(shard_id), None),
            self.stream.add_shard(Some(shard_id), None),
        ]
    }
}

async fn stream() -> Stream {
    Stream {
        stream: MemoryStream::new(SHARDS),
        clock: ManualClock::new(T0),
    }
}

mod stream_source {
    riffle_conformance::stream_source_suite!(super::stream);
}

struct Queues {
    sources: PerKind<MemoryQueue>,
    dlqs: PerKind<MemoryQueue>,
    clock: ManualClock,
}

impl QueueFixture for Queues {
    type Source = MemoryQueue;

    fn source(&self, kind: Kind) -> &MemoryQueue {
        self.sources.of(kind)
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }

    async fn send(&self, kind: Kind, body: &str, group: Option<&str>) -> String {
        self.source(kind).send_to_group(body, group)
    }

    async fn dead_letters(&self, kind: Kind) -> Vec<String> {
        self.dlqs.of(kind).bodies()
    }
}

async fn queues() -> Queues {
    let clock = ManualClock::new(T0);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let queue = |name: &str| MemoryQueue::new(name, VISIBILITY_MS, Arc::clone(&shared));
    let queues = Queues {
        sources: PerKind {
            standard: queue("conformance"),
            fifo: queue("conformance.fifo"),
        },
        dlqs: PerKind {
            standard: queue("conformance-dlq"),
            fifo: queue("conformance-dlq.fifo"),
        },
        clock,
    };
    for kind in [Kind::Standard, Kind::Fifo] {
        let dlq = queues.dlqs.of(kind);
        queues.sources.of(kind).redrive_to(dlq, MAX_RECEIVES);
    }
    queues
}

mod queue_source {
    riffle_conformance::queue_source_suite!(super::queues);
}

struct InMemory(MemoryCheckpoints);

impl CheckpointFixture for InMemory {
    type Store = MemoryCheckpoints;

    fn store(&self) -> &MemoryCheckpoints {
        &self.0
    }

    fn reopen(&self) -> MemoryCheckpoints {
        self.0.clone()
    }
}

async fn memory_checkpoints() -> InMemory {
    InMemory(MemoryCheckpoints::default())
}

mod memory_checkpoint_store {
    riffle_conformance::checkpoint_store_suite!(super::memory_checkpoints);
}

/// A file store in a directory of its own, removed when the check ends.
struct InFile {
    dir: std::path::PathBuf,
    store: FileCheckpoints,
}

const MAPPING: &str = "9f4c2a70-conformance";

impl CheckpointFixture for InFile {
    type Store = FileCheckpoints;

    fn store(&self) -> &FileCheckpoints {
        &self.store
    }

    fn reopen(&self) -> FileCheckpoints {
        FileCheckpoints::new(&self.dir, MAPPING)
    }
}

impl Drop for InFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn file_checkpoints() -> InFile {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "riffle-conformance-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    InFile {
        store: FileCheckpoints::new(&dir, MAPPING),
        dir,
    }
}

mod file_checkpoint_store {
    riffle_conformance::checkpoint_store_suite!(super::file_checkpoints);
}
