//! Resharding as the store performs it: the even split of the hash key space CreateStream and
//! UpdateShardCount use, SplitShard, MergeShards, and UNIFORM_SCALING as a series of splits and
//! merges.
//!
//! Invariants: the open shards of a stream always tile the whole hash key space without gaps or
//! overlaps; a resharded shard is closed, never removed, and its children name it as parent; every
//! check of a request runs before its first change.

use super::{Stream, StreamStatus};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::keys::{MAX_HASH_KEY, shard_id};

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

pub(super) fn split(
    stream: &mut Stream,
    now: Millis,
    ordinal: u32,
    key: u128,
    account: &str,
) -> ApiResult<()> {
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
    split_unchecked(stream, now, ordinal, (start, end), key);
    Ok(())
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

pub(super) fn merge(
    stream: &mut Stream,
    now: Millis,
    first: u32,
    second: u32,
    account: &str,
) -> ApiResult<()> {
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
    stream.close(first, now);
    stream.close(second, now);
    stream.add_shard(
        (a.0.min(b.0), a.1.max(b.1)),
        (Some(first), Some(second)),
        now,
    );
    Ok(())
}

/// UNIFORM_SCALING the way AWS does it: split open shards at the new boundaries, then merge the
/// pieces of each target range pairwise, so every child has at most two parents and the lineage
/// is made only of splits and merges.
pub(super) fn update_shard_count(
    stream: &mut Stream,
    now: Millis,
    target: u32,
    account: &str,
) -> ApiResult<()> {
    let open: Vec<(u32, u128, u128)> = stream
        .open_shards()
        .map(|s| (s.ordinal, s.starting_hash_key, s.ending_hash_key))
        .collect();
    let current = open.len() as u32;
    if target > current * 2 || target * 2 < current {
        return Err(ApiError::invalid_argument(format!(
            "UpdateShardCount cannot scale up over double your current open shard count or scale \
             down below half your current open shard count. Current open shard count: {current}, \
             requested: {target}."
        )));
    }
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
            merge(stream, now, merged, next, account)?;
            merged = stream.shards.len() as u32 - 1;
        }
    }
    Ok(())
}
