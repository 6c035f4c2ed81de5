//! The checkpoint store suite: what a mapping's shard tasks rely on from a `CheckpointStore`
//! (resume where the last saved checkpoint says, per shard, after a restart).

use riffle_runtime::{CheckpointStore, ShardCheckpoint};

/// A store under test.
pub trait CheckpointFixture {
    /// The implementation under test.
    type Store: CheckpointStore;

    /// The store, as a mapping uses it.
    fn store(&self) -> &Self::Store;

    /// A second store over the same saved state, as a restarted mapping opens it (for a store
    /// that is not durable: one that shares the first's state).
    fn reopen(&self) -> Self::Store;
}

/// Runs the suite's checks as tests, each on a fresh fixture from `$make()` (an async fn).
#[macro_export]
macro_rules! checkpoint_store_suite {
    ($make:expr) => {
        $crate::__checks!($make; checkpoint:
            a_shard_never_saved_loads_as_new,
            every_kind_of_checkpoint_loads_back_as_saved,
            a_later_save_replaces_an_earlier_one,
            shards_keep_their_own_checkpoints,
            a_reopened_store_resumes_from_what_was_saved,
            concurrent_saves_of_many_shards_all_land,
        );
    };
}

fn at(sequence_number: &str) -> ShardCheckpoint {
    ShardCheckpoint::At(sequence_number.to_owned())
}

async fn load(store: &impl CheckpointStore, shard_id: &str) -> ShardCheckpoint {
    store.load(shard_id).await.expect("load")
}

async fn save(store: &impl CheckpointStore, shard_id: &str, checkpoint: ShardCheckpoint) {
    store.save(shard_id, checkpoint).await.expect("save");
}

/// A shard with no saved checkpoint is `New` (start at the mapping's starting position).
pub async fn a_shard_never_saved_loads_as_new<F: CheckpointFixture>(fixture: &F) {
    assert_eq!(
        load(fixture.store(), "shardId-000000000000").await,
        ShardCheckpoint::New
    );
}

/// `New`, `At(n)` and `Finished` each load back as saved.
pub async fn every_kind_of_checkpoint_loads_back_as_saved<F: CheckpointFixture>(fixture: &F) {
    let store = fixture.store();
    for checkpoint in [
        ShardCheckpoint::New,
        at("49590338271490256608559692538361571095921575989136588898"),
        ShardCheckpoint::Finished,
    ] {
        save(store, "shardId-000000000000", checkpoint.clone()).await;
        assert_eq!(load(store, "shardId-000000000000").await, checkpoint);
    }
}

/// The newest save of a shard is what loads.
pub async fn a_later_save_replaces_an_earlier_one<F: CheckpointFixture>(fixture: &F) {
    let store = fixture.store();
    save(store, "shardId-000000000000", at("100")).await;
    save(store, "shardId-000000000000", at("200")).await;
    assert_eq!(load(store, "shardId-000000000000").await, at("200"));
}

/// Saving one shard leaves the others as they were.
pub async fn shards_keep_their_own_checkpoints<F: CheckpointFixture>(fixture: &F) {
    let store = fixture.store();
    save(store, "shardId-000000000000", at("100")).await;
    save(store, "shardId-000000000001", ShardCheckpoint::Finished).await;
    assert_eq!(load(store, "shardId-000000000000").await, at("100"));
    assert_eq!(
        load(store, "shardId-000000000001").await,
        ShardCheckpoint::Finished
    );
    assert_eq!(
        load(store, "shardId-000000000002").await,
        ShardCheckpoint::New
    );
}

/// What a save reported saved is what a store opened afterwards loads.
pub async fn a_reopened_store_resumes_from_what_was_saved<F: CheckpointFixture>(fixture: &F) {
    save(fixture.store(), "shardId-000000000000", at("100")).await;
    save(
        fixture.store(),
        "shardId-000000000001",
        ShardCheckpoint::Finished,
    )
    .await;
    let reopened = fixture.reopen();
    assert_eq!(load(&reopened, "shardId-000000000000").await, at("100"));
    assert_eq!(
        load(&reopened, "shardId-000000000001").await,
        ShardCheckpoint::Finished
    );
}

/// Saves of many shards made at once (a mapping's shard tasks do) all land.
pub async fn concurrent_saves_of_many_shards_all_land<F: CheckpointFixture>(fixture: &F) {
    let store = fixture.store();
    let shards: Vec<String> = (0..32).map(|i| format!("shardId-{i:012}")).collect();
    let saves = shards
        .iter()
        .enumerate()
        .map(|(i, shard)| save(store, shard, at(&(1000 + i).to_string())));
    futures_util::future::join_all(saves).await;
    let reopened = fixture.reopen();
    for (i, shard) in shards.iter().enumerate() {
        assert_eq!(
            load(&reopened, shard).await,
            at(&(1000 + i).to_string()),
            "{shard}"
        );
    }
}
