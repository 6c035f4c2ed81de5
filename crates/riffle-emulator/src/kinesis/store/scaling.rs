//! Capacity changes as the store performs them: UpdateShardCount with AWS's limits, and
//! UpdateStreamMode between PROVISIONED and ON_DEMAND.
//!
//! Invariants: a stream remembers when its shard count and its mode were changed, so AWS's
//! rolling 24-hour limits (ten shard count updates, two mode switches) hold across restarts
//! (the history is part of the stream, logged and snapshotted); every check runs before the
//! first change; switching mode keeps the stream's shards (AWS's on-demand scaling by traffic is
//! not emulated) and leaves it `UPDATING` for the status delay.

use serde::{Deserialize, Serialize};

use super::reshard::{begin, check_uniform, mark_updating};
use super::{KinesisStore, StreamMode};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// UpdateShardCount calls a stream takes per rolling 24 hours.
pub(crate) const MAX_SHARD_COUNT_UPDATES_PER_DAY: usize = 10;
/// Capacity mode switches a stream takes per rolling 24 hours.
pub(crate) const MAX_MODE_SWITCHES_PER_DAY: usize = 2;
/// Shards UpdateShardCount may scale a stream up to.
pub(crate) const MAX_SHARDS_PER_STREAM: u32 = 10_000;
const DAY_MS: Millis = 24 * 3_600_000;

/// When a stream's shard count and mode were changed (within the last 24 hours).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScalingHistory {
    /// Times of accepted UpdateShardCount calls.
    shard_count_updates: Vec<Millis>,
    /// Times of accepted UpdateStreamMode calls.
    mode_switches: Vec<Millis>,
}

/// Drops the times that have left the 24-hour window ending at `now`; how many are left.
fn recent(times: &mut Vec<Millis>, now: Millis) -> usize {
    times.retain(|t| t + DAY_MS > now);
    times.len()
}

/// UpdateShardCount of stream `name` to `target` open shards at `now`.
pub(super) fn update_shard_count(
    store: &mut KinesisStore,
    now: Millis,
    name: &str,
    target: u32,
) -> ApiResult<()> {
    let open = store.stream(name, now)?.open_shards().count() as u32;
    if target > open {
        store.ensure_shard_capacity(target - open)?;
    }
    let delay = store.settings.update_delay_ms;
    let (stream, account) = store.stream_and_account(name, now)?;
    stream.require_active(now, account)?;
    if stream.mode == StreamMode::OnDemand {
        return Err(ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "UpdateShardCount is not supported for stream {name} under account {account} \
                 because it is in ON_DEMAND capacity mode."
            ),
        ));
    }
    if recent(&mut stream.scaling.shard_count_updates, now) >= MAX_SHARD_COUNT_UPDATES_PER_DAY {
        return Err(ApiError::limit_exceeded(format!(
            "Stream {name} under account {account} has already been scaled \
             {MAX_SHARD_COUNT_UPDATES_PER_DAY} times in the last 24 hours, the most \
             UpdateShardCount allows per rolling 24-hour period."
        )));
    }
    if target > MAX_SHARDS_PER_STREAM && target > open {
        return Err(ApiError::limit_exceeded(format!(
            "UpdateShardCount cannot scale stream {name} under account {account} up to more than \
             {MAX_SHARDS_PER_STREAM} shards. Current open shard count: {open}, requested: \
             {target}."
        )));
    }
    let change = check_uniform(stream, target)?;
    stream.scaling.shard_count_updates.push(now);
    begin(stream, now, delay, change);
    Ok(())
}

/// UpdateStreamMode of stream `name` to `mode` at `now`.
pub(super) fn update_stream_mode(
    store: &mut KinesisStore,
    now: Millis,
    name: &str,
    mode: StreamMode,
) -> ApiResult<()> {
    let on_demand = store.on_demand_count();
    let limit = store.settings.on_demand_stream_limit;
    let delay = store.settings.update_delay_ms;
    let (stream, account) = store.stream_and_account(name, now)?;
    stream.require_active(now, account)?;
    if stream.mode == mode {
        return Err(ApiError::invalid_argument(format!(
            "Stream {name} under account {account} is already in {} mode.",
            mode.as_str()
        )));
    }
    if mode == StreamMode::OnDemand && on_demand >= limit as usize {
        return Err(ApiError::limit_exceeded(format!(
            "This request would exceed the on-demand stream limit of {limit} for the account \
             {account}."
        )));
    }
    if recent(&mut stream.scaling.mode_switches, now) >= MAX_MODE_SWITCHES_PER_DAY {
        return Err(ApiError::limit_exceeded(format!(
            "Stream {name} under account {account} has already switched capacity mode \
             {MAX_MODE_SWITCHES_PER_DAY} times in the last 24 hours, the most allowed per \
             rolling 24-hour period."
        )));
    }
    stream.mode = mode;
    stream.scaling.mode_switches.push(now);
    mark_updating(stream, now, delay);
    Ok(())
}
