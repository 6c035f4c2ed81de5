//! Where a mapping starts reading the shards a reshard creates.

use std::time::Duration;

use riffle_clock::ManualClock;
use riffle_core::invocation::Outcome;

use super::{T0, config, start, start_with};
use crate::{CheckpointStore, JournalKind, MemoryCheckpoints, MemoryStream, ShardCheckpoint};

const PARENT: &str = "shardId-000000000000";

fn starts(journal: &[JournalKind]) -> Vec<String> {
    journal
        .iter()
        .filter_map(|k| match k {
            JournalKind::ShardStarted { from } => Some(from.clone()),
            _ => None,
        })
        .collect()
}

/// A mapping at LATEST over `stream` whose function succeeds.
fn start_latest(stream: &MemoryStream) -> super::Harness {
    start(
        stream.clone(),
        config(|raw| raw.starting_position = Some("LATEST".into())),
        |_| Outcome::Success(Vec::new()),
    )
}

/// Runs the clock until `n` shard tasks have journaled where they start.
async fn wait_for_starts(harness: &super::Harness, n: usize) {
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(5), |h| {
            starts(&(h.journal)()).len() == n
        })
        .await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn child_shards_of_a_latest_mapping_are_read_from_their_beginning() {
    let stream = MemoryStream::new(1);
    stream.put(0, "k", "before-the-mapping", T0);
    let harness = start_latest(&stream);
    wait_for_starts(&harness, 1).await;
    ManualClock::settle().await;
    stream.put(0, "k", "parent", T0);
    // Split while the mapping runs; the children take writes before the parent is finished.
    stream.close(0);
    let left = stream.add_shard(Some(PARENT), None);
    let right = stream.add_shard(Some(PARENT), None);
    stream.put(1, "k", "left", T0);
    stream.put(2, "k", "right", T0);
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(30), |h| {
            h.seen().iter().map(|s| s.data.len()).sum::<usize>() == 3
        })
        .await;
    let seen: Vec<Vec<String>> = harness.seen().into_iter().map(|s| s.data).collect();
    assert_eq!(seen[0], ["parent"], "the parent first, from LATEST");
    let mut children: Vec<String> = seen[1..].iter().flatten().cloned().collect();
    children.sort();
    assert_eq!(
        children,
        ["left", "right"],
        "nothing written to a child is lost"
    );
    assert_eq!(
        starts(&(harness.journal)()),
        ["Latest", "TrimHorizon", "TrimHorizon"],
        "children {left} and {right} open at TRIM_HORIZON"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn shards_open_when_a_latest_mapping_starts_keep_its_position() {
    // Resharded before the mapping existed: the closed parent and its open children hold
    // records from before the mapping, which LATEST skips.
    let stream = MemoryStream::new(1);
    stream.put(0, "k", "old-parent", T0);
    stream.close(0);
    stream.add_shard(Some(PARENT), None);
    stream.put(1, "k", "old-child", T0);
    let harness = start_latest(&stream);
    wait_for_starts(&harness, 2).await;
    ManualClock::settle().await;
    stream.put(1, "k", "new-child", T0);
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(10), |h| {
            !h.seen().is_empty()
        })
        .await;
    let seen: Vec<String> = harness.seen().into_iter().flat_map(|s| s.data).collect();
    assert_eq!(seen, ["new-child"]);
    assert_eq!(starts(&(harness.journal)()), ["Latest", "Latest"]);
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn children_of_a_parent_read_before_a_restart_are_read_from_their_beginning() {
    // The mapping read the parent, stopped; the shard was split while it was stopped.
    let stream = MemoryStream::new(1);
    let read = stream.put(0, "k", "read-before", T0);
    stream.close(0);
    stream.add_shard(Some(PARENT), None);
    stream.put(1, "k", "child", T0);
    let checkpoints = MemoryCheckpoints::default();
    checkpoints
        .save(PARENT, ShardCheckpoint::At(read.to_string()))
        .await
        .unwrap();
    let harness = start_with(
        stream,
        config(|raw| raw.starting_position = Some("LATEST".into())),
        checkpoints,
        |_| Outcome::Success(Vec::new()),
    );
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(10), |h| {
            !h.seen().is_empty()
        })
        .await;
    let seen: Vec<String> = harness.seen().into_iter().flat_map(|s| s.data).collect();
    assert_eq!(seen, ["child"]);
    assert_eq!(starts(&(harness.journal)())[1], "TrimHorizon");
    harness.stop().await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_child_of_a_merge_under_an_at_timestamp_mapping_is_read_from_its_beginning() {
    let stream = MemoryStream::new(2);
    let harness = start(
        stream.clone(),
        config(|raw| {
            raw.starting_position = Some("AT_TIMESTAMP".into());
            raw.starting_position_timestamp = Some((T0 / 1_000) as f64);
        }),
        |_| Outcome::Success(Vec::new()),
    );
    wait_for_starts(&harness, 2).await;
    ManualClock::settle().await;
    // Merged while running; the child takes a write (stamped before the mapping's timestamp,
    // which AT_TIMESTAMP would skip) before both parents are finished.
    stream.close(0);
    stream.close(1);
    stream.add_shard(Some(PARENT), Some("shardId-000000000001"));
    stream.put(2, "k", "merged", T0 - 5_000);
    harness
        .run_until(Duration::from_millis(100), Duration::from_secs(30), |h| {
            !h.seen().is_empty()
        })
        .await;
    let seen: Vec<String> = harness.seen().into_iter().flat_map(|s| s.data).collect();
    assert_eq!(seen, ["merged"]);
    assert_eq!(starts(&(harness.journal)())[2], "TrimHorizon");
    harness.stop().await;
}
