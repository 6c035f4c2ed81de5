//! SubscribeToShard: validating the request, resolving the consumer and the starting position,
//! starting the subscription in the hub, and reading the shard for it (the subscription's
//! [`Source`]).
//!
//! Invariants: the model-driven checker validates the request first, as for every operation;
//! every refusal happens before the first frame (an ordinary error answer, in the request's
//! encoding); after it, errors are exception frames; the consumer must be `ACTIVE`; a subscription reads
//! only durable records, of the stream it started on (a re-created stream of the same name ends
//! it), and ends when its consumer is deregistered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::Kinesis;
use super::consumers::{ConsumerArn, check_consumer_arn};
use super::request::{hash_range_json, seconds, to_body};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, Violations};
use crate::kinesis::Action;
use crate::kinesis::fanout::frame::Encoding;
use crate::kinesis::fanout::subscription::{Batch, Cursor, Source, Subscription};
use crate::kinesis::keys::shard_id;
use crate::kinesis::store::{
    Consumer, ConsumerStatus, Shard, Stream, consumer_not_found, not_found,
};

/// Most records in one event.
const MAX_EVENT_RECORDS: usize = 10_000;

/// The frames of a subscription, the body of a SubscribeToShard answer.
pub type EventStream =
    Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>>;

impl Kinesis {
    /// Starts a SubscribeToShard subscription from a JSON body: its frames, or the error to
    /// answer instead.
    pub fn subscribe_to_shard(self: &Arc<Self>, body: &[u8]) -> ApiResult<EventStream> {
        self.subscribe_to_shard_in(body, Encoding::Json)
    }

    /// [`subscribe_to_shard`](Self::subscribe_to_shard) from the JSON form of a request, the
    /// events' payloads written in `encoding`.
    pub(crate) fn subscribe_to_shard_in(
        self: &Arc<Self>,
        body: &[u8],
        encoding: Encoding,
    ) -> ApiResult<EventStream> {
        crate::kinesis::model::check(Action::SubscribeToShard.as_str(), body)?;
        let input: SubscribeInput = crate::request::decode(body)?;
        let (arn, shard_name, start) = validate(&input)?;
        let consumer_arn = input.consumer_arn.unwrap_or_default();
        let mut store = self.lock();
        let now = self.clock.now_millis();
        let limited = store.settings.enforce_throughput;
        let (region, account) = (
            store.settings.region.clone(),
            store.settings.account_id.clone(),
        );
        if arn.region != region || arn.account != account {
            return Err(consumer_not_found(&arn.name, &arn.stream, &arn.account));
        }
        let (stream, _) = store.stream_and_account(&arn.stream, now)?;
        let consumer = stream
            .consumers
            .get(&arn.name, now)
            .filter(|c| c.created_secs() == arn.created_secs)
            .ok_or_else(|| consumer_not_found(&arn.name, &arn.stream, &account))?;
        require_active(consumer, &stream.name, &account, now)?;
        let consumer_created_ms = consumer.created_ms;
        let ordinal = stream.shard(&shard_name, now, &account)?.ordinal;
        let shard = &stream.shards[ordinal as usize];
        let position = start.position(stream, shard, &shard_name, &account, now)?;
        let cursor = Cursor {
            stream: stream.name.clone(),
            stream_created_ms: stream.created_ms,
            consumer: arn.name.clone(),
            consumer_created_ms,
            shard: ordinal,
            position,
        };
        let in_use = format!(
            "Another active subscription exists for this consumer: {account}:{}:{}:{}",
            arn.stream,
            shard_id(ordinal),
            arn.name
        );
        let signals = self
            .fanout
            .start(&consumer_arn, ordinal, now)
            .map_err(|()| ApiError::in_use(in_use.clone()))?;
        drop(store);
        let subscription =
            Subscription::new(Arc::clone(self), cursor, signals, now, limited, in_use)
                .with_encoding(encoding);
        Ok(Box::pin(subscription.into_stream()))
    }

    /// Ends every subscription (the emulator is shutting down).
    pub fn close_subscriptions(&self) {
        self.fanout.close();
    }
}

impl Source for Kinesis {
    fn now(&self) -> Millis {
        self.clock.now_millis()
    }

    fn sleep_until(&self, deadline: Millis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.clock.sleep_until(deadline)
    }

    fn durability(&self) -> Option<watch::Receiver<u64>> {
        self.wal.as_ref().map(|wal| wal.durable_watch())
    }

    fn read(&self, cursor: &Cursor, now: Millis, max_bytes: usize) -> ApiResult<Batch> {
        let durable = self.wal.as_ref().map_or(u64::MAX, |wal| wal.durable_lsn());
        let mut store = self.lock();
        let (stream, account) = store.stream_and_account(&cursor.stream, now)?;
        if stream.created_ms != cursor.stream_created_ms {
            return Err(not_found(&cursor.stream, account));
        }
        let consumer = stream
            .consumers
            .get(&cursor.consumer, now)
            .filter(|c| c.created_ms == cursor.consumer_created_ms)
            .ok_or_else(|| consumer_not_found(&cursor.consumer, &cursor.stream, account))?;
        require_active(consumer, &stream.name, account, now)?;
        let stream: &Stream = stream;
        let shard = &stream.shards[cursor.shard as usize];
        let start = cursor
            .position
            .clamp(shard.first_counter(), shard.last_counter + 1);
        let mut records = Vec::new();
        let (mut bytes, mut next, mut awaiting_durability) = (0usize, start, false);
        let mut blocked_bytes = None;
        for record in shard.records.range(shard.index_of(start)..) {
            if record.lsn > durable {
                awaiting_durability = true;
                break;
            }
            if records.len() >= MAX_EVENT_RECORDS {
                break;
            }
            if bytes + record.size() > max_bytes {
                if records.is_empty() {
                    blocked_bytes = Some(record.size());
                }
                break;
            }
            bytes += record.size();
            next = record.counter + 1;
            records.push(json!({
                "SequenceNumber": stream.sequence_number(cursor.shard, record.counter),
                "ApproximateArrivalTimestamp": seconds(record.arrival_ms),
                "Data": STANDARD.encode(&record.data),
                "PartitionKey": record.partition_key,
            }));
        }
        let caught_up = next > shard.last_counter;
        let millis_behind = match shard.records.get(shard.index_of(next)) {
            Some(pending) if !caught_up => now.saturating_sub(pending.arrival_ms),
            _ => 0,
        };
        let shard_ended = !shard.is_open() && caught_up;
        let count = records.len();
        let mut event = json!({
            "Records": records,
            "MillisBehindLatest": millis_behind,
        });
        if shard_ended {
            // The last event of a closed shard: its children, and no continuation (AWS sends
            // none there; KCL reads its absence as the shard's end).
            event["ChildShards"] = child_shards(stream, cursor.shard);
        } else {
            event["ContinuationSequenceNumber"] =
                json!(stream.sequence_number(cursor.shard, next - 1));
        }
        Ok(Batch {
            payload: to_body(&event),
            records: count,
            bytes,
            next_position: next,
            awaiting_durability,
            blocked_bytes,
            shard_ended,
        })
    }
}

/// `ResourceInUseException` unless the consumer is `ACTIVE`, in AWS's words.
fn require_active(consumer: &Consumer, stream: &str, account: &str, now: Millis) -> ApiResult<()> {
    if consumer.status(now) == ConsumerStatus::Active {
        return Ok(());
    }
    Err(ApiError::in_use(format!(
        "Consumer {} with creation timestamp {} under stream: {stream} , account {account} is \
         not in ACTIVE status.",
        consumer.name,
        consumer.created_secs()
    )))
}

/// The `ChildShards` of the closed shard `ordinal`, as GetRecords and SubscribeToShard give them
/// at its end.
pub(super) fn child_shards(stream: &Stream, ordinal: u32) -> Value {
    let children: Vec<Value> = stream
        .shards
        .iter()
        .filter(|s| s.parent == Some(ordinal) || s.adjacent_parent == Some(ordinal))
        .map(|s| {
            let parents: Vec<String> = s
                .parent
                .into_iter()
                .chain(s.adjacent_parent)
                .map(shard_id)
                .collect();
            json!({
                "ShardId": s.id(),
                "ParentShards": parents,
                "HashKeyRange": hash_range_json(s),
            })
        })
        .collect();
    Value::Array(children)
}

/// A validated `StartingPosition`.
enum Start {
    TrimHorizon,
    Latest,
    At(String),
    After(String),
    Timestamp(f64),
}

impl Start {
    /// The first record counter to send, as GetShardIterator positions its iterators.
    fn position(
        &self,
        stream: &Stream,
        shard: &Shard,
        shard_name: &str,
        account: &str,
        now: Millis,
    ) -> ApiResult<u64> {
        let sequence = |text: &str, after: bool| -> ApiResult<u64> {
            super::read::position_of(shard, text, after).map_err(|refusal| {
                refusal.error(text, "SubscribeToShard", shard_name, &stream.name, account)
            })
        };
        match self {
            Self::TrimHorizon => Ok(shard.first_counter()),
            Self::Latest => Ok(shard.last_counter + 1),
            Self::At(text) => sequence(text, false),
            Self::After(text) => sequence(text, true),
            Self::Timestamp(timestamp) => {
                let ts = (timestamp * 1000.0).max(0.0) as Millis;
                if ts > now {
                    return Err(ApiError::invalid_argument(format!(
                        "The timestampInMillis parameter cannot be greater than the \
                         currentTimestampInMillis. timestampInMillis: {ts}, \
                         currentTimestampInMillis: {now}"
                    )));
                }
                Ok(shard
                    .records
                    .iter()
                    .find(|r| r.arrival_ms >= ts)
                    .map_or(shard.last_counter + 1, |r| r.counter))
            }
        }
    }
}

/// The consumer ARN's parts, the shard id and the start of a request the model-driven checker
/// has validated (required members, lengths, patterns, the iterator type); what it cannot see
/// is checked here: a consumer ARN it cannot take apart, and which members a type needs.
fn validate(input: &SubscribeInput) -> ApiResult<(ConsumerArn, String, Start)> {
    let mut v = Violations::default();
    let arn = input
        .consumer_arn
        .as_deref()
        .and_then(|arn| check_consumer_arn(&mut v, arn));
    v.finish()?;
    let position = input
        .starting_position
        .as_ref()
        .ok_or_else(|| ApiError::internal("validated without a starting position"))?;
    let kind = position.kind.as_deref().unwrap_or_default();
    let needs = |what: &str| {
        ApiError::invalid_argument(format!(
            "{what} must be specified for StartingPosition type {kind}."
        ))
    };
    if position.sequence_number.is_some() && position.timestamp.is_some() {
        return Err(ApiError::invalid_argument(
            "StartingPosition must not contain both a SequenceNumber and a Timestamp.",
        ));
    }
    let start = match kind {
        "TRIM_HORIZON" => Start::TrimHorizon,
        "LATEST" => Start::Latest,
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
            let seq = position
                .sequence_number
                .clone()
                .ok_or_else(|| needs("SequenceNumber"))?;
            if kind == "AT_SEQUENCE_NUMBER" {
                Start::At(seq)
            } else {
                Start::After(seq)
            }
        }
        _ => Start::Timestamp(position.timestamp.ok_or_else(|| needs("Timestamp"))?),
    };
    let arn = arn.ok_or_else(|| ApiError::internal("validated without a consumer ARN"))?;
    Ok((arn, input.shard_id.clone().unwrap_or_default(), start))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartingPosition {
    #[serde(rename = "Type")]
    kind: Option<String>,
    sequence_number: Option<String>,
    timestamp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubscribeInput {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
    shard_id: Option<String>,
    starting_position: Option<StartingPosition>,
    #[serde(rename = "StreamId")]
    _stream_id: Option<String>,
    #[serde(rename = "DryRun")]
    _dry_run: Option<bool>,
}
