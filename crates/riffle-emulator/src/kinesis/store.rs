//! The Kinesis data model: streams, shards and records, as pure state.
//!
//! Invariants: the store performs no I/O and reads no clock (every operation takes `now`); it
//! never imports HTTP types; an operation either applies completely or returns an error and
//! changes nothing; every mutation a client could observe is described by a [`Mutation`] value,
//! which is what the write-ahead log records and replays, so replaying the log with the recorded
//! times rebuilds the same state.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::keys::{SequenceParts, partition_key_hash, shard_id};
use super::limits::Throughput;
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
pub use account::{AccountMutation, AccountSettings, CommitmentStatus, CommitmentView};
pub(crate) use consumers::consumer_not_found;
pub use consumers::{Consumer, ConsumerMutation, ConsumerStatus, Consumers};
pub(crate) use reshard::even_ranges;
pub use reshard::{PendingReshard, Reshard};
use reshard::{begin, check_merge, check_split, settle};
pub use resources::{Policies, Resource, ResourceMutation};
pub(crate) use resources::{policy as resource_policy, tags as resource_tags};
pub use scaling::ScalingHistory;
use sequence::append_batch;
pub(crate) use tags::MAX_TAGS_PER_STREAM;

/// How long a shard iterator stays valid.
pub(crate) const ITERATOR_LIFETIME_MS: Millis = 300_000;
/// Largest GetRecords response, in bytes of data and partition keys.
pub(crate) const GET_RECORDS_MAX_BYTES: usize = 10 * 1024 * 1024;
const HOUR_MS: Millis = 3_600_000;

/// Settings of the store that are not per stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSettings {
    /// AWS region in ARNs.
    pub region: String,
    /// AWS account id in ARNs.
    pub account_id: String,
    /// How long a new stream stays `CREATING`.
    pub create_delay_ms: Millis,
    /// How long a deleted stream stays `DELETING` before it disappears.
    pub delete_delay_ms: Millis,
    /// How long resharding and retention changes keep a stream `UPDATING`.
    pub update_delay_ms: Millis,
    /// Open shards allowed per account (AWS: 500 in the large regions, 200 elsewhere).
    pub shard_limit: u32,
    /// On-demand streams allowed per account.
    pub on_demand_stream_limit: u32,
    /// Whether AWS's per-shard throughput limits are enforced.
    pub enforce_throughput: bool,
}

impl StoreSettings {
    /// Settings with AWS's defaults for `region` and `account_id`, limits off, no delays.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
            create_delay_ms: 0,
            delete_delay_ms: 0,
            update_delay_ms: 0,
            shard_limit: 500,
            on_demand_stream_limit: 50,
            enforce_throughput: false,
        }
    }
}

/// Capacity mode of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMode {
    /// Shards are managed by the user.
    Provisioned,
    /// The service manages shards (the emulator starts with 4 and does not rescale).
    OnDemand,
}

impl StreamMode {
    /// AWS's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Provisioned => "PROVISIONED",
            Self::OnDemand => "ON_DEMAND",
        }
    }
}

/// Lifecycle status of a stream as AWS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamStatus {
    /// Just created; not yet writable.
    Creating,
    /// Deletion requested.
    Deleting,
    /// Readable and writable.
    Active,
    /// Resharding or changing settings; still readable and writable.
    Updating,
}

impl StreamStatus {
    /// AWS's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Deleting => "DELETING",
            Self::Active => "ACTIVE",
            Self::Updating => "UPDATING",
        }
    }
}

/// One stored record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Counter within the shard: its dense position, from 1.
    pub counter: u64,
    /// Sequence index within the stream (see [`SequenceParts`]).
    pub seq_ix: u64,
    /// Arrival time, epoch milliseconds.
    pub arrival_ms: Millis,
    /// The partition key the producer gave.
    pub partition_key: String,
    /// The payload.
    pub data: Bytes,
    /// Log sequence number of the write that stored it (0 when not persisted).
    #[serde(skip)]
    pub(crate) lsn: u64,
}

impl Record {
    /// Bytes the record counts against size limits: data plus partition key.
    pub(crate) fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// One shard of a stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shard {
    /// The number in the shard id.
    pub ordinal: u32,
    /// First hash key, inclusive.
    pub starting_hash_key: u128,
    /// Last hash key, inclusive.
    pub ending_hash_key: u128,
    /// The shard this one was split from, or the first of two merged.
    pub parent: Option<u32>,
    /// The second shard of a merge.
    pub adjacent_parent: Option<u32>,
    /// When the shard was created.
    pub created_ms: Millis,
    /// When the shard was closed by resharding, if it was.
    pub closed_ms: Option<Millis>,
    /// Counter of the last record ever written (0 if none).
    pub last_counter: u64,
    /// Records not yet trimmed, oldest first; `records[i]` has counter `first_counter + i`.
    pub records: VecDeque<Record>,
    /// Per-shard throughput state (not persisted).
    #[serde(skip)]
    pub(crate) throughput: Throughput,
}

impl Shard {
    fn new(
        ordinal: u32,
        range: (u128, u128),
        parents: (Option<u32>, Option<u32>),
        now: Millis,
    ) -> Self {
        Self {
            ordinal,
            starting_hash_key: range.0,
            ending_hash_key: range.1,
            parent: parents.0,
            adjacent_parent: parents.1,
            created_ms: now,
            closed_ms: None,
            last_counter: 0,
            records: VecDeque::new(),
            throughput: Throughput::default(),
        }
    }

    /// The shard id, `shardId-…`.
    pub(crate) fn id(&self) -> String {
        shard_id(self.ordinal)
    }

    /// Whether resharding has closed this shard.
    pub fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }

    /// Whether `hash` falls in this shard's range.
    pub(crate) fn holds(&self, hash: u128) -> bool {
        self.starting_hash_key <= hash && hash <= self.ending_hash_key
    }

    /// Counter of the oldest untrimmed record (the trim horizon); `last_counter + 1` if empty.
    pub(crate) fn first_counter(&self) -> u64 {
        self.records
            .front()
            .map_or(self.last_counter + 1, |r| r.counter)
    }

    /// The index in `records` of the record with `counter` (0 if it was trimmed).
    pub(crate) fn index_of(&self, counter: u64) -> usize {
        counter.saturating_sub(self.first_counter()) as usize
    }
}

/// A stream: its settings, shards (every shard ever created, by ordinal) and tags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    /// The stream name.
    pub name: String,
    /// When it was created.
    pub created_ms: Millis,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Retention in hours.
    pub retention_hours: u32,
    /// All shards, including closed ones, indexed by ordinal.
    pub shards: Vec<Shard>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// A transient status and when it ends (`CREATING`, `UPDATING`, `DELETING`).
    pub transient: Option<(StreamStatus, Millis)>,
    /// Registered enhanced fan-out consumers (`store/consumers.rs`).
    pub consumers: Consumers,
    /// Resource policies of the stream and its consumers (`store/resources.rs`).
    pub policies: Policies,
    /// When its shard count and mode were changed, for AWS's limits (`store/scaling.rs`).
    pub scaling: ScalingHistory,
    /// The sequence index of the newest record in any of its shards (0 if none).
    pub last_seq_ix: u64,
    /// The resharding it is `UPDATING` for, until it takes effect (`store/reshard.rs`).
    pub pending_reshard: Option<PendingReshard>,
}

impl Stream {
    /// The status at `now`.
    pub(crate) fn status(&self, now: Millis) -> StreamStatus {
        match self.transient {
            Some((status, until)) if now < until || status == StreamStatus::Deleting => status,
            _ => StreamStatus::Active,
        }
    }

    /// Retention in milliseconds.
    pub(crate) fn retention_ms(&self) -> Millis {
        Millis::from(self.retention_hours) * HOUR_MS
    }

    /// Shards visible at `now`: open ones, and closed ones whose records may still be unexpired.
    pub(crate) fn live_shards(&self, now: Millis) -> impl Iterator<Item = &Shard> {
        let retention = self.retention_ms();
        self.shards
            .iter()
            .filter(move |s| s.closed_ms.is_none_or(|closed| closed + retention > now))
    }

    /// Open shards, by ordinal.
    pub fn open_shards(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().filter(|s| s.is_open())
    }

    /// The open shard whose range holds `hash`.
    pub(crate) fn shard_for_hash(&self, hash: u128) -> usize {
        self.shards
            .iter()
            .position(|s| s.is_open() && s.holds(hash))
            .expect("open shards always cover the whole hash key space")
    }

    /// Finds a visible shard by id.
    pub(crate) fn shard(&self, id: &str, now: Millis, account: &str) -> ApiResult<&Shard> {
        super::keys::parse_shard_id(id)
            .and_then(|ordinal| self.shards.get(ordinal as usize))
            .filter(|s| s.closed_ms.is_none_or(|c| c + self.retention_ms() > now))
            .ok_or_else(|| {
                let id = super::keys::parse_shard_id(id).map_or(id.into(), shard_id);
                shard_not_found(&id, &self.name, account)
            })
    }

    /// Drops records older than the retention period.
    pub(crate) fn trim(&mut self, now: Millis) {
        let horizon = now.saturating_sub(self.retention_ms());
        for shard in &mut self.shards {
            while shard
                .records
                .front()
                .is_some_and(|r| r.arrival_ms < horizon)
            {
                shard.records.pop_front();
            }
        }
    }

    fn require_active(&self, now: Millis, account: &str) -> ApiResult<()> {
        match self.status(now) {
            StreamStatus::Active => Ok(()),
            other => Err(ApiError::in_use(format!(
                "Stream {} under account {account} not ACTIVE, instead in state {}",
                self.name,
                other.as_str()
            ))),
        }
    }

    /// `ResourceNotFoundException` unless the stream accepts writes (`ACTIVE` or `UPDATING`).
    pub(crate) fn require_writable(&self, now: Millis, account: &str) -> ApiResult<()> {
        match self.status(now) {
            StreamStatus::Active | StreamStatus::Updating => Ok(()),
            _ => Err(not_found(&self.name, account)),
        }
    }

    fn add_shard(
        &mut self,
        range: (u128, u128),
        parents: (Option<u32>, Option<u32>),
        now: Millis,
    ) -> u32 {
        let ordinal = self.shards.len() as u32;
        self.shards.push(Shard::new(ordinal, range, parents, now));
        ordinal
    }

    fn close(&mut self, ordinal: u32, now: Millis) {
        self.shards[ordinal as usize].closed_ms = Some(now);
    }
}

/// A record to append, as the producer gave it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRecord {
    /// Partition key.
    pub partition_key: String,
    /// Explicit hash key overriding the partition key's hash.
    pub explicit_hash_key: Option<u128>,
    /// Payload.
    pub data: Bytes,
}

impl NewRecord {
    /// The hash key that places the record.
    pub(crate) fn hash_key(&self) -> u128 {
        self.explicit_hash_key
            .unwrap_or_else(|| partition_key_hash(&self.partition_key))
    }
}

/// Where an appended record landed: the shard's ordinal, the record's counter in it and its
/// sequence number's parts (plain numbers, so answering PutRecords formats them straight into
/// the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Appended {
    /// The shard's ordinal.
    pub shard: u32,
    /// The record's counter within the shard.
    pub counter: u64,
    /// Its sequence number.
    pub sequence: SequenceParts,
}

impl Appended {
    /// The shard id, `shardId-…`.
    pub(crate) fn shard_id(&self) -> String {
        shard_id(self.shard)
    }
}

/// Every state change the store can make, with everything needed to replay it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Mutation {
    /// CreateStream.
    CreateStream {
        /// Name.
        name: String,
        /// Number of shards.
        shard_count: u32,
        /// Capacity mode.
        mode: StreamMode,
        /// Initial tags.
        tags: BTreeMap<String, String>,
    },
    /// DeleteStream.
    DeleteStream {
        /// Name.
        name: String,
    },
    /// PutRecord / PutRecords: the accepted records, in order.
    PutRecords {
        /// Stream name.
        stream: String,
        /// Records.
        records: Vec<NewRecord>,
    },
    /// Increase/DecreaseStreamRetentionPeriod.
    SetRetention {
        /// Stream name.
        stream: String,
        /// New retention.
        hours: u32,
    },
    /// SplitShard.
    SplitShard {
        /// Stream name.
        stream: String,
        /// Shard to split.
        shard: u32,
        /// First hash key of the second child.
        new_starting_hash_key: u128,
    },
    /// MergeShards.
    MergeShards {
        /// Stream name.
        stream: String,
        /// The shard to merge.
        shard: u32,
        /// The adjacent shard.
        adjacent: u32,
    },
    /// UpdateShardCount with UNIFORM_SCALING.
    UpdateShardCount {
        /// Stream name.
        stream: String,
        /// Target number of open shards.
        target: u32,
    },
    /// AddTagsToStream.
    AddTags {
        /// Stream name.
        stream: String,
        /// Tags to add or overwrite.
        tags: BTreeMap<String, String>,
    },
    /// RemoveTagsFromStream.
    RemoveTags {
        /// Stream name.
        stream: String,
        /// Keys to remove.
        keys: Vec<String>,
    },
    /// RegisterStreamConsumer / DeregisterStreamConsumer.
    Consumer(ConsumerMutation),
    /// TagResource, UntagResource, PutResourcePolicy, DeleteResourcePolicy (`store/resources.rs`).
    Resource(ResourceMutation),
    /// UpdateAccountSettings (`store/account.rs`).
    Account(AccountMutation),
    /// UpdateStreamMode (`store/scaling.rs`).
    StreamMode {
        /// Stream name.
        stream: String,
        /// The new capacity mode.
        mode: StreamMode,
    },
}

/// The whole Kinesis state of one emulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KinesisStore {
    /// Settings.
    pub settings: StoreSettings,
    /// Streams by name.
    pub streams: BTreeMap<String, Stream>,
    /// Account-level settings (`store/account.rs`).
    pub account: AccountSettings,
    /// Secret for sealing shard iterators and tokens.
    pub(crate) token_key: [u8; 16],
    /// A resharding took effect since the last [`tick`](Self::tick) (not persisted).
    #[serde(skip)]
    resharded: bool,
}

/// AWS's error for a shard (named as AWS writes it) that a stream does not hold.
pub(crate) fn shard_not_found(id: &str, stream: &str, account: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Shard {id} in stream {stream} under account {account} does not exist"),
    )
}

/// `ResourceNotFoundException` for a stream, in AWS's wording.
pub(crate) fn not_found(name: &str, account: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Stream {name} under account {account} not found."),
    )
}

impl KinesisStore {
    /// An empty store.
    pub fn new(settings: StoreSettings, token_key: [u8; 16]) -> Self {
        Self {
            settings,
            streams: BTreeMap::new(),
            account: AccountSettings::default(),
            token_key,
            resharded: false,
        }
    }

    /// The ARN of stream `name`.
    pub(crate) fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.settings.region, self.settings.account_id
        )
    }

    /// Removes streams whose deletion has completed, performs reshardings whose `UPDATING`
    /// time has ended and trims expired records; whether a resharding took effect since the last
    /// tick (here or on an access), which closes shards subscriptions may be reading.
    pub fn tick(&mut self, now: Millis) -> bool {
        self.streams.retain(
            |_, s| !matches!(s.transient, Some((StreamStatus::Deleting, until)) if now >= until),
        );
        let mut resharded = std::mem::take(&mut self.resharded);
        for stream in self.streams.values_mut() {
            resharded |= settle(stream, now);
            stream.trim(now);
            stream.consumers.purge(now);
        }
        resharded
    }

    /// The stream `name`, as seen at `now` (a fully deleted stream is gone).
    pub(crate) fn stream(&mut self, name: &str, now: Millis) -> ApiResult<&mut Stream> {
        Ok(self.stream_and_account(name, now)?.0)
    }

    /// Starts on active stream `name` the reshard `check` plans for it (and its account): at
    /// once without an update delay, else when the delay ends.
    fn reshard(
        &mut self,
        name: &str,
        now: Millis,
        check: impl FnOnce(&Stream, &str) -> ApiResult<Reshard>,
    ) -> ApiResult<Vec<Appended>> {
        let delay = self.settings.update_delay_ms;
        let (stream, account) = self.stream_and_account(name, now)?;
        stream.require_active(now, account)?;
        let change = check(stream, account)?;
        begin(stream, now, delay, change);
        Ok(Vec::new())
    }

    /// [`stream`](Self::stream), with the account id borrowed alongside it.
    pub(crate) fn stream_and_account(
        &mut self,
        name: &str,
        now: Millis,
    ) -> ApiResult<(&mut Stream, &str)> {
        let gone = matches!(
            self.streams.get(name).and_then(|s| s.transient),
            Some((StreamStatus::Deleting, until)) if now >= until
        );
        if gone {
            self.streams.remove(name);
        }
        let account = &self.settings.account_id;
        let stream = self
            .streams
            .get_mut(name)
            .ok_or_else(|| not_found(name, account))?;
        self.resharded |= settle(stream, now);
        stream.trim(now);
        Ok((stream, account))
    }

    /// Open shards across all streams (for the account's shard limit).
    pub(crate) fn open_shard_count(&self) -> usize {
        self.streams.values().map(|s| s.open_shards().count()).sum()
    }

    /// Open shards across all streams once their pending reshardings have taken effect (what
    /// the account's shard limit counts).
    fn committed_shard_count(&self) -> usize {
        self.streams
            .values()
            .map(Stream::open_shard_count_after_pending)
            .sum()
    }

    fn on_demand_count(&self) -> usize {
        self.streams
            .values()
            .filter(|s| s.mode == StreamMode::OnDemand)
            .count()
    }

    /// Applies a mutation at `now`. Every check runs before the first change, so on error
    /// nothing has changed.
    ///
    /// Replaying the write-ahead log calls this with each logged mutation and its time.
    /// The mutation is consumed: PutRecords moves its records into the shards without copying.
    pub(crate) fn apply(
        &mut self,
        now: Millis,
        mutation: Mutation,
        lsn: u64,
    ) -> ApiResult<Vec<Appended>> {
        match mutation {
            Mutation::CreateStream {
                name,
                shard_count,
                mode,
                tags,
            } => {
                self.create_stream(now, &name, shard_count, mode, tags)?;
                Ok(Vec::new())
            }
            Mutation::DeleteStream { name } => {
                let delay = self.settings.delete_delay_ms;
                let stream = self.stream(&name, now)?;
                if delay == 0 {
                    self.streams.remove(&name);
                } else {
                    stream.transient = Some((StreamStatus::Deleting, now + delay));
                }
                Ok(Vec::new())
            }
            Mutation::PutRecords { stream, records } => {
                let (stream, account) = self.stream_and_account(&stream, now)?;
                stream.require_writable(now, account)?;
                Ok(append_batch(stream, now, records, lsn))
            }
            Mutation::SetRetention { stream, hours } => {
                let delay = self.settings.update_delay_ms;
                let (stream, account) = self.stream_and_account(&stream, now)?;
                stream.require_active(now, account)?;
                // Asking for the current period changes nothing and leaves the stream ACTIVE:
                // AWS's recorded answers accept a decrease right after such a request
                // (kinesalite's increaseStreamRetentionPeriod.js, functionality).
                let unchanged = stream.retention_hours == hours;
                stream.retention_hours = hours;
                if delay > 0 && !unchanged {
                    stream.transient = Some((StreamStatus::Updating, now + delay));
                }
                Ok(Vec::new())
            }
            Mutation::SplitShard {
                stream,
                shard,
                new_starting_hash_key,
            } => {
                self.ensure_shard_capacity(1)?;
                self.reshard(&stream, now, |stream, account| {
                    check_split(stream, shard, new_starting_hash_key, account)
                })
            }
            Mutation::MergeShards {
                stream,
                shard,
                adjacent,
            } => self.reshard(&stream, now, |stream, account| {
                check_merge(stream, shard, adjacent, account)
            }),
            Mutation::UpdateShardCount {
                stream: name,
                target,
            } => {
                scaling::update_shard_count(self, now, &name, target)?;
                Ok(Vec::new())
            }
            Mutation::AddTags { stream, tags } => {
                let (stream, account) = self.stream_and_account(&stream, now)?;
                tags::add(stream, account, tags)?;
                Ok(Vec::new())
            }
            Mutation::RemoveTags { stream, keys } => {
                let (stream, account) = self.stream_and_account(&stream, now)?;
                tags::remove(stream, account, keys)?;
                Ok(Vec::new())
            }
            Mutation::Consumer(mutation) => {
                let delays = (self.settings.create_delay_ms, self.settings.delete_delay_ms);
                let name = match &mutation {
                    ConsumerMutation::Register { stream, .. }
                    | ConsumerMutation::Deregister { stream, .. } => stream.clone(),
                };
                let (stream, account) = self.stream_and_account(&name, now)?;
                consumers::apply(stream, account, now, mutation, delays)?;
                Ok(Vec::new())
            }
            Mutation::Resource(mutation) => {
                resources::apply(self, now, mutation)?;
                Ok(Vec::new())
            }
            Mutation::Account(mutation) => {
                self.account.apply(now, mutation);
                Ok(Vec::new())
            }
            Mutation::StreamMode { stream, mode } => {
                scaling::update_stream_mode(self, now, &stream, mode)?;
                Ok(Vec::new())
            }
        }
    }

    fn ensure_shard_capacity(&self, extra: u32) -> ApiResult<()> {
        let open = self.committed_shard_count();
        let limit = self.settings.shard_limit as usize;
        if open + extra as usize > limit {
            return Err(ApiError::limit_exceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current \
                 shard count for the account: {open}. Limit: {limit}. Number of additional \
                 shards that would have resulted from this request: {extra}. Refer to the AWS \
                 Service Limits page \
                 (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for \
                 current limits and how to request higher limits.",
                self.settings.account_id, self.settings.region
            )));
        }
        Ok(())
    }

    fn create_stream(
        &mut self,
        now: Millis,
        name: &str,
        shard_count: u32,
        mode: StreamMode,
        tags: BTreeMap<String, String>,
    ) -> ApiResult<()> {
        let account = self.settings.account_id.clone();
        if self.stream(name, now).is_ok() {
            return Err(ApiError::in_use(format!(
                "Stream {name} under account {account} already exists."
            )));
        }
        if mode == StreamMode::OnDemand
            && self.on_demand_count() >= self.settings.on_demand_stream_limit as usize
        {
            return Err(ApiError::limit_exceeded(format!(
                "This request would exceed the on-demand stream limit of {} for the account \
                 {account}.",
                self.settings.on_demand_stream_limit
            )));
        }
        self.ensure_shard_capacity(shard_count)?;
        let mut stream = Stream {
            name: name.to_owned(),
            created_ms: now,
            mode,
            retention_hours: 24,
            shards: Vec::new(),
            tags,
            consumers: Consumers::default(),
            policies: Policies::default(),
            scaling: ScalingHistory::default(),
            last_seq_ix: 0,
            pending_reshard: None,
            transient: (self.settings.create_delay_ms > 0)
                .then_some((StreamStatus::Creating, now + self.settings.create_delay_ms)),
        };
        for range in even_ranges(shard_count) {
            stream.add_shard(range, (None, None), now);
        }
        self.streams.insert(name.to_owned(), stream);
        Ok(())
    }
}

mod account;
mod consumers;
mod reshard;
mod resources;
mod scaling;
mod sequence;
mod tags;

#[cfg(test)]
mod tests;
