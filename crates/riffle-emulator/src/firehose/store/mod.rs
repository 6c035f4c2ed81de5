//! The Firehose data model: delivery streams, their configuration and tags, and the records
//! each has accepted and not yet delivered, as pure state.
//!
//! Invariants: no I/O, no clock (every call takes `now`), no HTTP types; every change is a
//! [`Mutation`] applied by [`FirehoseStore::apply`], which either applies completely or returns
//! an error and changes nothing, and the write-ahead log records exactly those mutations, so
//! replaying it with the recorded times rebuilds the same streams. A stream's record positions
//! strictly increase and are never reused while the stream exists; records below the
//! acknowledged position are gone; deleting a stream drops its records with it.

mod config;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use riffle_core::firehose::transform::KinesisRecordMetadata;
use serde::{Deserialize, Serialize};

pub use self::config::{
    BufferingHints, CloudWatchLoggingOptions, DestinationKind, EncryptionConfiguration,
    KinesisSource, KmsEncryptionConfig, ProcessingConfiguration, Processor, ProcessorParameter,
    S3Config, StreamConfig, StreamEncryption,
};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Tags a delivery stream may carry.
pub const MAX_TAGS: usize = 50;

/// Settings of the store that are not per stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSettings {
    /// AWS region in ARNs.
    pub region: String,
    /// AWS account id in ARNs and messages.
    pub account_id: String,
    /// How long a new delivery stream stays `CREATING`.
    pub create_delay_ms: Millis,
}

impl StoreSettings {
    /// Settings for `region` and `account_id`, streams `ACTIVE` at once.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            account_id: account_id.into(),
            create_delay_ms: 0,
        }
    }
}

/// A delivery stream's lifecycle status as Firehose reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamStatus {
    /// Just created: not yet accepting records.
    Creating,
    /// Accepting and delivering records.
    Active,
}

impl StreamStatus {
    /// Firehose's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Active => "ACTIVE",
        }
    }
}

/// One accepted record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its position in the stream's accepted records.
    pub position: u64,
    /// The RecordId PutRecord(Batch) answered (or the Kinesis sequence number).
    pub record_id: String,
    /// When Firehose accepted it (epoch ms).
    pub arrival: Millis,
    /// The data.
    pub data: Vec<u8>,
    /// For a record read from the source Kinesis stream.
    pub kinesis: Option<KinesisRecordMetadata>,
    /// Log sequence number of the write that stored it (0 when not persisted).
    #[serde(skip)]
    pub(crate) lsn: u64,
}

/// One delivery stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryStream {
    /// DeliveryStreamName.
    pub name: String,
    /// What it was configured with (and updated to).
    pub config: StreamConfig,
    /// VersionId: 1 at creation, +1 per UpdateDestination.
    pub version: u64,
    /// When it was created.
    pub created_ms: Millis,
    /// When UpdateDestination last changed it.
    pub updated_ms: Option<Millis>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Accepted records not yet acknowledged, in position order.
    pub records: VecDeque<Record>,
    /// The position the next record gets.
    pub next_position: u64,
    /// Every record below this position was acknowledged.
    pub acknowledged: u64,
}

impl DeliveryStream {
    /// Its status at `now`, given how long creation takes.
    pub fn status(&self, now: Millis, create_delay_ms: Millis) -> StreamStatus {
        if now < self.created_ms + create_delay_ms {
            StreamStatus::Creating
        } else {
            StreamStatus::Active
        }
    }
}

/// A change to the store: what the write-ahead log records and replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Mutation {
    /// CreateDeliveryStream.
    Create {
        /// The name.
        name: String,
        /// The configuration (already validated).
        config: StreamConfig,
        /// Its tags.
        tags: BTreeMap<String, String>,
    },
    /// DeleteDeliveryStream: the stream and its records go.
    Delete {
        /// The name.
        name: String,
    },
    /// UpdateDestination: the destination becomes `destination`, the version `version + 1`.
    UpdateDestination {
        /// The name.
        name: String,
        /// The version the update was made against.
        version: u64,
        /// The merged destination (already validated).
        destination: S3Config,
    },
    /// TagDeliveryStream.
    Tag {
        /// The name.
        name: String,
        /// Tags added or overwritten.
        tags: BTreeMap<String, String>,
    },
    /// UntagDeliveryStream.
    Untag {
        /// The name.
        name: String,
        /// Keys removed (absent ones are ignored).
        keys: Vec<String>,
    },
    /// Records accepted, in order, at the stream's next positions.
    Append {
        /// The name.
        name: String,
        /// The records (their `position`s continue the stream's).
        records: Vec<Record>,
    },
    /// Every record below `below` was delivered.
    Acknowledge {
        /// The name.
        name: String,
        /// The first position still needed.
        below: u64,
    },
}

/// Every delivery stream of the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirehoseStore {
    /// Settings.
    pub settings: StoreSettings,
    /// Delivery streams by name.
    pub streams: BTreeMap<String, DeliveryStream>,
    /// The key RecordIds are derived with (random per data directory).
    pub id_key: [u8; 16],
}

impl FirehoseStore {
    /// An empty store.
    pub fn new(settings: StoreSettings, id_key: [u8; 16]) -> Self {
        Self {
            settings,
            streams: BTreeMap::new(),
            id_key,
        }
    }

    /// `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:firehose:{}:{}:deliverystream/{name}",
            self.settings.region, self.settings.account_id
        )
    }

    /// The stream `name`, or Firehose's ResourceNotFoundException.
    pub fn stream(&self, name: &str) -> ApiResult<&DeliveryStream> {
        self.streams.get(name).ok_or_else(|| self.not_found(name))
    }

    /// The stream's status at `now`.
    pub fn status(&self, stream: &DeliveryStream, now: Millis) -> StreamStatus {
        stream.status(now, self.settings.create_delay_ms)
    }

    /// Firehose's ResourceNotFoundException for `name`.
    pub fn not_found(&self, name: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ResourceNotFoundException,
            format!(
                "Firehose {name} under account {} not found.",
                self.settings.account_id
            ),
        )
    }

    fn stream_mut(&mut self, name: &str) -> ApiResult<&mut DeliveryStream> {
        let error = self.not_found(name);
        self.streams.get_mut(name).ok_or(error)
    }

    /// Applies `mutation` at `now`; records it appends carry `lsn` (the log position of its
    /// frame, 0 without a log). On error nothing changed.
    pub fn apply(&mut self, now: Millis, mutation: Mutation, lsn: u64) -> ApiResult<()> {
        match mutation {
            Mutation::Create { name, config, tags } => {
                if self.streams.contains_key(&name) {
                    return Err(ApiError::in_use(format!(
                        "Firehose {name} under accountId {} already exists",
                        self.settings.account_id
                    )));
                }
                let stream = DeliveryStream {
                    name: name.clone(),
                    config,
                    version: 1,
                    created_ms: now,
                    updated_ms: None,
                    tags,
                    records: VecDeque::new(),
                    next_position: 0,
                    acknowledged: 0,
                };
                self.streams.insert(name, stream);
            }
            Mutation::Delete { name } => {
                self.stream(&name)?;
                self.streams.remove(&name);
            }
            Mutation::UpdateDestination {
                name,
                version,
                destination,
            } => {
                let stream = self.stream_mut(&name)?;
                if stream.version != version {
                    return Err(concurrent_modification(&name, stream.version, version));
                }
                stream.config.destination = destination;
                stream.version += 1;
                stream.updated_ms = Some(now);
            }
            Mutation::Tag { name, tags } => {
                let stream = self.stream_mut(&name)?;
                let added = tags
                    .keys()
                    .filter(|k| !stream.tags.contains_key(*k))
                    .count();
                if stream.tags.len() + added > MAX_TAGS {
                    return Err(too_many_tags(&name, stream.tags.len() + added));
                }
                stream.tags.extend(tags);
            }
            Mutation::Untag { name, keys } => {
                let stream = self.stream_mut(&name)?;
                for key in keys {
                    stream.tags.remove(&key);
                }
            }
            Mutation::Append { name, mut records } => {
                let stream = self.stream_mut(&name)?;
                let expected = stream.next_position;
                let dense = records
                    .iter()
                    .zip(expected..)
                    .all(|(record, position)| record.position == position);
                if !dense {
                    return Err(ApiError::internal(format!(
                        "records appended to {name} do not continue at position {expected}"
                    )));
                }
                stream.next_position += records.len() as u64;
                for record in &mut records {
                    record.lsn = lsn;
                }
                stream.records.extend(records);
            }
            Mutation::Acknowledge { name, below } => {
                let stream = self.stream_mut(&name)?;
                let below = below.min(stream.next_position);
                while stream.records.front().is_some_and(|r| r.position < below) {
                    stream.records.pop_front();
                }
                stream.acknowledged = stream.acknowledged.max(below);
            }
        }
        Ok(())
    }
}

/// ConcurrentModificationException: `given` is not the stream's version `current`.
pub(crate) fn concurrent_modification(name: &str, current: u64, given: u64) -> ApiError {
    ApiError::new(
        ErrorCode::ConcurrentModificationException,
        format!(
            "Cannot update Firehose {name}: its VersionId is {current}, not the \
             CurrentDeliveryStreamVersionId {given} given."
        ),
    )
}

/// LimitExceededException: the stream would carry `count` tags.
pub(crate) fn too_many_tags(name: &str, count: usize) -> ApiError {
    ApiError::limit_exceeded(format!(
        "Firehose {name} cannot have more than {MAX_TAGS} tags; the request would give it \
         {count}."
    ))
}
