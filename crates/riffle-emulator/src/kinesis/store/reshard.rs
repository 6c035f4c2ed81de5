//! Resharding as the store performs it: the even split of the hash key space CreateStream and
//! UpdateShardCount use, SplitShard, MergeShards, and UNIFORM_SCALING as a series of splits and
//! merges, each taking effect when the stream's `UPDATING` time ends, as AWS's do.
//!
//! Invariants: the open shards of a stream always tile the whole hash key space without gaps or
//! overlaps; a resharded shard is closed, never removed, and its children name it as parent; every
//! check of a request runs when it is made, before its first change. A request accepted with a
//! status delay becomes the stream's [`PendingReshard`] (part of its snapshotted state): until the
//! delay ends the stream lists, and writes to, its old shards, still open and childless; the first
//! access at or after the end ([`settle`]) closes the parents and adds the children, dated at the
//! end, not at the access, so the shards depend only on the logged requests and their times.

use serde::{Deserialize, Serialize};

use super::{Stream, StreamStatus};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::keys::{MAX_HASH_KEY, shard_id};

/// An accepted resharding request, already checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reshard {
    /// SplitShard of `shard` at `key` (the second child's first hash key).
    Split {
        /// The shard to split.
        shard: u32,
        /// NewStartingHashKey.
        key: u128,
    },
    /// MergeShards of `shard` with the shard right above it, `adjacent`.
    Merge {
        /// The lower shard.
        shard: u32,
        /// The upper shard.
        adjacent: u32,
    },
    /// UpdateShardCount with UNIFORM_SCALING to `target` open shards.
    Uniform {
        /// Target number of open shards.
        target: u32,
    },
}

/// A resharding the stream is `UPDATING` for, and when it takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReshard {
    /// What happens.
    pub change: Reshard,
    /// When: the end of the `UPDATING` time.
    pub at: Millis,
}

impl Reshard {
    /// How many more open shards the stream has once it takes effect (negative: fewer).
    fn net_shards(self, open: usize) -> isize {
        match self {
            Self::Split { .. } => 1,
            Self::Merge { .. } => -1,
            Self::Uniform { target } => target as isize - open as isize,
        }
    }
}

impl Stream {
    /// Its open shards once its pending resharding, if any, has taken effect (for the account's
    /// shard limit, which counts the shards a request will make as soon as it is accepted).
    pub(crate) fn open_shard_count_after_pending(&self) -> usize {
        let open = self.open_shards().count();
        self.pending_reshard.map_or(open, |p| {
            open.saturating_add_signed(p.change.net_shards(open))
        })
    }
}

/// Starts an accepted (checked) resharding at `now`: at once when there is no status delay,
/// otherwise the stream is `UPDATING` for `delay` and the change waits for its end.
pub(super) fn begin(stream: &mut Stream, now: Millis, delay: Millis, change: Reshard) {
    if delay == 0 {
        perform(stream, now, change);
    } else {
        stream.pending_reshard = Some(PendingReshard {
            change,
            at: now + delay,
        });
        mark_updating(stream, now, delay);
    }
}

/// Performs the pending resharding if its time has come by `now`, dated at that time; whether
/// it did.
pub(super) fn settle(stream: &mut Stream, now: Millis) -> bool {
    match stream.pending_reshard {
        Some(pending) if pending.at <= now => {
            stream.pending_reshard = None;
            perform(stream, pending.at, pending.change);
            true
        }
        _ => false,
    }
}

fn perform(stream: &mut Stream, at: Millis, change: Reshard) {
    match change {
        Reshard::Split { shard, key } => {
            let range = range_of(stream, shard);
            split_unchecked(stream, at, shard, range, key);
        }
        Reshard::Merge { shard, adjacent } => merge_unchecked(stream, at, shard, adjacent),
        Reshard::Uniform { target } => uniform(stream, at, target),
    }
}

fn range_of(stream: &Stream, ordinal: u32) -> (u128, u128) {
    let shard = &stream.shards[ordinal as usize];
    (shard.starting_hash_key, shard.ending_hash_key)
}

/// Splits the whole hash key space into `n` even ranges, as CreateStream does.
pub(crate) fn even_ranges(n: u32) -> Vec<(u128, u128)> {
    if n <= 1 {
        return vec![(0, MAX_HASH_KEY)];
    }
    let n128 = u128::from(n);
    // floor(2^128 / n), computed without overflowing.
    let step = MAX_HASH_KEY / n128 + u128::from(MAX_HASH_KEY % n128 == n128 - 1);
    (0..n)
        .map(|i| {
            let start = step * u128::from(i);
            let end = if i + 1 == n {
                MAX_HASH_KEY
            } else {
                step * u128::from(i + 1) - 1
            };
            (start, end)
        })
        .collect()
}

/// Marks the stream `UPDATING` for `delay` (nothing when there is none).
pub(super) fn mark_updating(stream: &mut Stream, now: Millis, delay: Millis) {
    if delay > 0 {
        stream.transient = Some((StreamStatus::Updating, now + delay));
    }
}

fn open_shard(stream: &Stream, ordinal: u32, account: &str) -> ApiResult<(u128, u128)> {
    let shard = stream
        .shards
        .get(ordinal as usize)
        .filter(|s| s.is_open())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!(
                    "Could not find shard {} in stream {} under account {account}.",
                    shard_id(ordinal),
                    stream.name
                ),
            )
        })?;
    Ok((shard.starting_hash_key, shard.ending_hash_key))
}

/// Checks SplitShard of `ordinal` at `key` as AWS does.
pub(super) fn check_split(
    stream: &Stream,
    ordinal: u32,
    key: u128,
    account: &str,
) -> ApiResult<Reshard> {
    let (start, end) = open_shard(stream, ordinal, account)?;
    // AWS's bound, as its message words it: start + 1 < key < end.
    if key <= start.saturating_add(1) || key >= end {
        return Err(ApiError::invalid_argument(format!(
            "NewStartingHashKey {key} used in SplitShard() on shard {} in stream {} under account \
             {account} is not both greater than one plus the shard's StartingHashKey {start} and \
             less than the shard's EndingHashKey {end}.",
            shard_id(ordinal),
            stream.name
        )));
    }
    Ok(Reshard::Split {
        shard: ordinal,
        key,
    })
}

/// Splits the open shard `ordinal`, whose range is `(start, end)`, at `key` (start < key ≤ end):
/// UNIFORM_SCALING's boundaries may fall anywhere inside a shard, closer to its ends than
/// SplitShard allows a client.
fn split_unchecked(stream: &mut Stream, now: Millis, ordinal: u32, range: (u128, u128), key: u128) {
    let (start, end) = range;
    stream.close(ordinal, now);
    stream.add_shard((start, key - 1), (Some(ordinal), None), now);
    stream.add_shard((key, end), (Some(ordinal), None), now);
}

/// Checks MergeShards of `first` with `second` as AWS does.
pub(super) fn check_merge(
    stream: &Stream,
    first: u32,
    second: u32,
    account: &str,
) -> ApiResult<Reshard> {
    let a = open_shard(stream, first, account)?;
    let b = open_shard(stream, second, account)?;
    // AWS merges a shard with the one right above it only: its recorded answer refuses the
    // pair the other way round (kinesalite's mergeShards.js, "adjacency is inverted").
    if a.1.checked_add(1) != Some(b.0) {
        return Err(ApiError::invalid_argument(format!(
            "Shards {} and {} in stream {} under account {account} are not an adjacent pair of \
             shards eligible for merging",
            shard_id(first),
            shard_id(second),
            stream.name
        )));
    }
    Ok(Reshard::Merge {
        shard: first,
        adjacent: second,
    })
}

/// Merges the open shard `first` with the open shard right above it, `second`.
fn merge_unchecked(stream: &mut Stream, now: Millis, first: u32, second: u32) {
    let (a, b) = (range_of(stream, first), range_of(stream, second));
    stream.close(first, now);
    stream.close(second, now);
    stream.add_shard(
        (a.0.min(b.0), a.1.max(b.1)),
        (Some(first), Some(second)),
        now,
    );
}

/// Checks UpdateShardCount to `target` against AWS's bounds on the current open shards.
pub(super) fn check_uniform(stream: &Stream, target: u32) -> ApiResult<Reshard> {
    let current = stream.open_shards().count() as u32;
    if target > current * 2 || target * 2 < current {
        return Err(ApiError::invalid_argument(format!(
            "UpdateShardCount cannot scale up over double your current open shard count or scale \
             down below half your current open shard count. Current open shard count: {current}, \
             requested: {target}."
        )));
    }
    Ok(Reshard::Uniform { target })
}

/// UNIFORM_SCALING the way AWS does it: split open shards at the new boundaries, then merge the
/// pieces of each target range pairwise, so every child has at most two parents and the lineage
/// is made only of splits and merges.
fn uniform(stream: &mut Stream, now: Millis, target: u32) {
    let open: Vec<(u32, u128, u128)> = stream
        .open_shards()
        .map(|s| (s.ordinal, s.starting_hash_key, s.ending_hash_key))
        .collect();
    let targets = even_ranges(target);
    // Split every open shard at every target boundary inside it.
    for (ordinal, start, end) in open {
        let mut piece = ordinal;
        let mut range = (start, end);
        for &(boundary, _) in targets.iter().filter(|(b, _)| *b > start && *b <= end) {
            split_unchecked(stream, now, piece, range, boundary);
            range = (boundary, end);
            // The upper child is the last shard added; keep splitting it.
            piece = stream.shards.len() as u32 - 1;
        }
    }
    // Merge the pieces of each target range, left to right.
    for (start, end) in targets {
        let mut pieces: Vec<u32> = stream
            .open_shards()
            .filter(|s| s.starting_hash_key >= start && s.ending_hash_key <= end)
            .map(|s| s.ordinal)
            .collect();
        pieces.sort_by_key(|o| stream.shards[*o as usize].starting_hash_key);
        let mut merged = pieces[0];
        for next in pieces.into_iter().skip(1) {
            merge_unchecked(stream, now, merged, next);
            merged = stream.shards.len() as u32 - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{KinesisStore, Mutation, NewRecord, StoreSettings, StreamMode};
    use crate::clock::Millis;

    const T0: Millis = 1_700_000_000_000;

    fn store() -> KinesisStore {
        let mut settings = StoreSettings::new("us-east-1", "000000000000");
        settings.update_delay_ms = 500;
        KinesisStore::new(settings, [1; 16])
    }

    /// The logged requests: a stream, a split, writes during and after its UPDATING time, then
    /// a merge of the children.
    fn log() -> Vec<(Millis, Mutation)> {
        let put = |hash: u128| Mutation::PutRecords {
            stream: "s".into(),
            records: vec![NewRecord {
                partition_key: "k".into(),
                explicit_hash_key: Some(hash),
                data: "x".into(),
            }],
        };
        vec![
            (
                T0,
                Mutation::CreateStream {
                    name: "s".into(),
                    shard_count: 1,
                    mode: StreamMode::Provisioned,
                    tags: BTreeMap::new(),
                },
            ),
            (
                T0 + 1_000,
                Mutation::SplitShard {
                    stream: "s".into(),
                    shard: 0,
                    new_starting_hash_key: 1000,
                },
            ),
            (T0 + 1_200, put(0)),
            (T0 + 1_700, put(0)),
            (T0 + 5_000, put(5000)),
            (
                T0 + 9_000,
                Mutation::MergeShards {
                    stream: "s".into(),
                    shard: 1,
                    adjacent: 2,
                },
            ),
            (T0 + 9_100, put(7)),
        ]
    }

    fn shards(store: &KinesisStore) -> Vec<u8> {
        postcard::to_allocvec(&store.streams["s"]).unwrap()
    }

    #[test]
    fn a_resharding_takes_effect_at_the_end_of_updating_however_the_log_is_replayed() {
        // Live: reads and ticks between the requests settle the split as soon as they can.
        let mut live = store();
        let entries = log();
        for (i, (now, mutation)) in entries.iter().cloned().enumerate() {
            live.apply(now, mutation, 0).unwrap();
            live.tick(now + 1);
            let next = entries.get(i + 1).map_or(now + 1, |(t, _)| *t);
            let _ = live.stream("s", next - 1);
        }
        // Replay: only the logged requests, at their times.
        let mut replayed = store();
        for (now, mutation) in log() {
            replayed.apply(now, mutation, 0).unwrap();
        }
        // Restart during UPDATING: a snapshot taken then, and the rest of the log after it.
        let mut restarted = store();
        let mut entries = log().into_iter();
        for (now, mutation) in entries.by_ref().take(3) {
            restarted.apply(now, mutation, 0).unwrap();
        }
        assert!(restarted.streams["s"].pending_reshard.is_some());
        let bytes = postcard::to_allocvec(&restarted).unwrap();
        let mut restarted: KinesisStore = postcard::from_bytes(&bytes).unwrap();
        for (now, mutation) in entries {
            restarted.apply(now, mutation, 0).unwrap();
        }
        let end = T0 + 9_500;
        for store in [&mut live, &mut replayed, &mut restarted] {
            store.tick(end);
        }
        assert_eq!(shards(&live), shards(&replayed));
        assert_eq!(shards(&restarted), shards(&replayed));

        let stream = &replayed.streams["s"];
        let closed: Vec<Option<Millis>> = stream.shards.iter().map(|s| s.closed_ms).collect();
        assert_eq!(
            closed,
            [Some(T0 + 1_500), Some(T0 + 9_500), Some(T0 + 9_500), None]
        );
        // The write during the split's UPDATING stayed on the parent, the next went to the
        // lower child, one to the upper child, and the one during the merge's UPDATING to the
        // lower child again, not to the merged shard.
        let counts: Vec<u64> = stream.shards.iter().map(|s| s.last_counter).collect();
        assert_eq!(counts, [1, 2, 1, 0]);
    }
}
