//! Kinesis operations: decode the JSON body, validate it as AWS does, run it against the store,
//! and encode AWS's response shape.
//!
//! Invariants: every member is validated before the store is touched, and every violation of a
//! request is reported at once as AWS's `ValidationException`; state-dependent problems get
//! AWS's specific error types; a mutation is acknowledged only after it is durable (when a data
//! directory is in use); GetRecords never returns a record whose write is not yet durable.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::action::Action;
use super::keys::{
    Sealer, SequenceNumber, is_sequence_number_shaped, parse_hash_key, parse_shard_id, push_padded,
    shard_id,
};
use super::store::{
    Appended, GET_RECORDS_MAX_BYTES, ITERATOR_LIFETIME_MS, KinesisStore, Mutation, NewRecord,
    Shard, Stream, StreamMode, append_raw, not_found,
};
use crate::clock::{Clock, Millis};
use crate::error::{ApiError, ApiResult, ErrorCode, Violations};
use crate::persist::{EntryRef, Reservation, Wal};

/// Largest record payload (the stream default `MaxRecordSizeInKiB` of 1024).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Largest PutRecords request, data plus partition keys.
pub const MAX_PUT_RECORDS_BYTES: usize = 5 * 1024 * 1024;

/// The Kinesis service of one emulator: the store behind a lock, the token sealer, the clock and
/// the optional write-ahead log.
#[derive(Debug)]
pub struct Kinesis {
    store: Mutex<KinesisStore>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    wal: Option<Arc<Wal>>,
}

/// A response body, and the log position that must be durable before it is sent.
struct Reply {
    body: Vec<u8>,
    durable_at: Option<u64>,
}

impl Reply {
    fn now(body: Vec<u8>) -> Self {
        Self {
            body,
            durable_at: None,
        }
    }
}

fn to_body(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("responses are plain JSON values")
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))
}

fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

/// Identifies a stream by name or ARN.
#[derive(Debug, Default, Deserialize)]
struct StreamIdent {
    #[serde(rename = "StreamName")]
    name: Option<String>,
    #[serde(rename = "StreamARN")]
    arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamModeDetails {
    stream_mode: Option<String>,
}

impl Kinesis {
    /// A service over `store`, reading time from `clock`, logging mutations to `wal` if given.
    pub fn new(store: KinesisStore, clock: Arc<dyn Clock>, wal: Option<Arc<Wal>>) -> Self {
        let sealer = Sealer::new(store.token_key);
        Self {
            store: Mutex::new(store),
            sealer,
            clock,
            wal,
        }
    }

    /// Locks the store (for snapshots and tests).
    pub fn lock(&self) -> MutexGuard<'_, KinesisStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `action` on a JSON body; answers once the change it made is durable.
    pub async fn call(&self, action: Action, body: &[u8]) -> ApiResult<Vec<u8>> {
        let reply = self.execute(action, body)?;
        if let (Some(lsn), Some(wal)) = (reply.durable_at, &self.wal) {
            wal.wait_durable(lsn).await?;
        }
        Ok(reply.body)
    }

    /// Drops expired records and finished deletions.
    pub fn tick(&self) {
        let now = self.clock.now_millis();
        self.lock().tick(now);
    }

    fn execute(&self, action: Action, body: &[u8]) -> ApiResult<Reply> {
        match action {
            Action::CreateStream => self.create_stream(decode(body)?),
            Action::DeleteStream => self.delete_stream(decode(body)?),
            Action::DescribeStream => self.describe_stream(decode(body)?),
            Action::DescribeStreamSummary => self.describe_stream_summary(decode(body)?),
            Action::ListStreams => self.list_streams(decode(body)?),
            Action::ListShards => self.list_shards(decode(body)?),
            Action::PutRecord => self.put_record(decode(body)?),
            Action::PutRecords => self.put_records(body),
            Action::GetShardIterator => self.get_shard_iterator(decode(body)?),
            Action::GetRecords => self.get_records(decode(body)?),
            Action::IncreaseStreamRetentionPeriod => self.change_retention(decode(body)?, true),
            Action::DecreaseStreamRetentionPeriod => self.change_retention(decode(body)?, false),
            Action::SplitShard => self.split_shard(decode(body)?),
            Action::MergeShards => self.merge_shards(decode(body)?),
            Action::UpdateShardCount => self.update_shard_count(decode(body)?),
            Action::AddTagsToStream => self.add_tags(decode(body)?),
            Action::RemoveTagsFromStream => self.remove_tags(decode(body)?),
            Action::ListTagsForStream => self.list_tags(decode(body)?),
            Action::DescribeLimits => self.describe_limits(),
        }
    }

    /// Applies `mutation` and logs it; the reply must wait for the returned log position.
    fn commit(
        &self,
        store: &mut KinesisStore,
        now: Millis,
        mutation: &Mutation,
    ) -> ApiResult<(Vec<Appended>, Option<u64>)> {
        let reservation = self.wal.as_ref().map(|wal| wal.reserve());
        let lsn = reservation.as_ref().map(Reservation::lsn);
        let appended = store.apply(now, mutation, lsn.unwrap_or(0))?;
        if let Some(reservation) = reservation {
            reservation.append(now, EntryRef::Kinesis(mutation));
        }
        Ok((appended, lsn))
    }

    fn commit_reply(&self, mutation: Mutation) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let (_, durable_at) = self.commit(&mut store, now, &mutation)?;
        Ok(Reply {
            body: b"{}".to_vec(),
            durable_at,
        })
    }

    /// Validates a stream identifier and returns the stream name.
    fn stream_name(
        &self,
        store: &KinesisStore,
        ident: &StreamIdent,
        v: &mut Violations,
    ) -> Option<String> {
        if let Some(name) = &ident.name {
            v.name("streamName", name);
        }
        if let Some(arn) = &ident.arn {
            v.length("streamARN", arn, 1, 2048);
        }
        match (&ident.name, &ident.arn) {
            (Some(name), None) => Some(name.clone()),
            (_, Some(arn)) => {
                let parsed = parse_stream_arn(arn);
                if parsed.is_none() {
                    v.failed(
                        "streamARN",
                        arn,
                        "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
                    );
                }
                let (region, account, name) = parsed?;
                if ident.name.as_deref().is_some_and(|n| n != name) {
                    v.failed(
                        "streamName",
                        ident.name.as_deref()?,
                        "match the stream in StreamARN",
                    );
                }
                if region != store.settings.region || account != store.settings.account_id {
                    // An ARN of another account or region names a stream this endpoint does
                    // not hold.
                    return Some(format!("{name}\u{0}{account}"));
                }
                Some(name.to_owned())
            }
            (None, None) => None,
        }
    }

    /// Resolves the stream a request names, after validation passed.
    fn require_stream(&self, name: Option<String>) -> ApiResult<String> {
        let name = name.ok_or_else(|| {
            ApiError::invalid_argument("Either StreamName or StreamARN should be provided.")
        })?;
        match name.split_once('\u{0}') {
            Some((name, account)) => Err(not_found(name, account)),
            None => Ok(name),
        }
    }

    fn create_stream(&self, input: CreateStreamInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        match &input.stream_name {
            Some(name) => v.name("streamName", name),
            None => v.missing("streamName"),
        }
        if let Some(count) = input.shard_count {
            v.range("shardCount", count, 1, 100_000);
        }
        let mode = input
            .stream_mode_details
            .as_ref()
            .map(|d| d.stream_mode.as_deref());
        match mode {
            Some(Some(m)) => v.one_of(
                "streamModeDetails.streamMode",
                m,
                &["PROVISIONED", "ON_DEMAND"],
            ),
            Some(None) => v.missing("streamModeDetails.streamMode"),
            None => {}
        }
        validate_tags(&mut v, input.tags.as_ref(), 200);
        v.finish()?;
        let mode = match mode {
            Some(Some("ON_DEMAND")) => StreamMode::OnDemand,
            _ => StreamMode::Provisioned,
        };
        let shard_count = match (mode, input.shard_count) {
            (StreamMode::Provisioned, Some(count)) => count as u32,
            (StreamMode::Provisioned, None) => {
                return Err(ApiError::invalid_argument(
                    "ShardCount is required for a stream in PROVISIONED mode.",
                ));
            }
            (StreamMode::OnDemand, None) => 4,
            (StreamMode::OnDemand, Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "ShardCount must not be specified for a stream in ON_DEMAND mode.",
                ));
            }
        };
        self.commit_reply(Mutation::CreateStream {
            name: input.stream_name.unwrap_or_default(),
            shard_count,
            mode,
            tags: input.tags.unwrap_or_default(),
        })
    }

    fn delete_stream(&self, input: StreamOnly) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        v.finish()?;
        self.commit_reply(Mutation::DeleteStream {
            name: self.require_stream(name)?,
        })
    }

    fn describe_stream(&self, input: DescribeStreamInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        if let Some(limit) = input.limit {
            v.range("limit", limit, 1, 10_000);
        }
        if let Some(id) = &input.exclusive_start_shard_id {
            v.name("exclusiveStartShardId", id);
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let arn = store.stream_arn(&name);
        let stream = store.stream(&name, now)?;
        let after = input
            .exclusive_start_shard_id
            .as_deref()
            .and_then(parse_shard_id);
        let limit = input.limit.unwrap_or(100) as usize;
        let shards: Vec<&Shard> = stream
            .live_shards(now)
            .filter(|s| after.is_none_or(|a| s.ordinal > a))
            .collect();
        let has_more = shards.len() > limit;
        let shards: Vec<Value> = shards
            .into_iter()
            .take(limit)
            .map(|s| shard_json(stream, s))
            .collect();
        Ok(Reply::now(to_body(&json!({
            "StreamDescription": {
                "StreamName": stream.name,
                "StreamARN": arn,
                "StreamStatus": stream.status(now).as_str(),
                "StreamModeDetails": { "StreamMode": stream.mode.as_str() },
                "Shards": shards,
                "HasMoreShards": has_more,
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": seconds(stream.created_ms),
                "EnhancedMonitoring": [{ "ShardLevelMetrics": [] }],
                "EncryptionType": "NONE",
            }
        }))))
    }

    fn describe_stream_summary(&self, input: StreamOnly) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        v.finish()?;
        let name = self.require_stream(name)?;
        let arn = store.stream_arn(&name);
        let stream = store.stream(&name, now)?;
        Ok(Reply::now(to_body(&json!({
            "StreamDescriptionSummary": {
                "StreamName": stream.name,
                "StreamARN": arn,
                "StreamStatus": stream.status(now).as_str(),
                "StreamModeDetails": { "StreamMode": stream.mode.as_str() },
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": seconds(stream.created_ms),
                "EnhancedMonitoring": [{ "ShardLevelMetrics": [] }],
                "EncryptionType": "NONE",
                "OpenShardCount": stream.open_shards().count(),
                "ConsumerCount": 0,
            }
        }))))
    }

    fn list_streams(&self, input: ListStreamsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut v = Violations::default();
        if let Some(limit) = input.limit {
            v.range("limit", limit, 1, 10_000);
        }
        if let Some(name) = &input.exclusive_start_stream_name {
            v.name("exclusiveStartStreamName", name);
        }
        if let Some(token) = &input.next_token {
            v.length("nextToken", token, 1, 1048576);
        }
        v.finish()?;
        let after = match &input.next_token {
            Some(token) => Some(self.open_token(token, "ListStreams", now)?.0),
            None => input.exclusive_start_stream_name.clone(),
        };
        let mut store = self.lock();
        store.tick(now);
        let limit = input.limit.unwrap_or(100) as usize;
        let names: Vec<&String> = store
            .streams
            .keys()
            .filter(|n| after.as_ref().is_none_or(|a| *n > a))
            .collect();
        let has_more = names.len() > limit;
        let page: Vec<&String> = names.into_iter().take(limit).collect();
        let summaries: Vec<Value> = page
            .iter()
            .map(|name| {
                let stream = &store.streams[*name];
                json!({
                    "StreamName": name,
                    "StreamARN": store.stream_arn(name),
                    "StreamStatus": stream.status(now).as_str(),
                    "StreamModeDetails": { "StreamMode": stream.mode.as_str() },
                    "StreamCreationTimestamp": seconds(stream.created_ms),
                })
            })
            .collect();
        let mut out = json!({
            "StreamNames": page,
            "HasMoreStreams": has_more,
            "StreamSummaries": summaries,
        });
        if let Some(last) = page.last().filter(|_| has_more) {
            out["NextToken"] = json!(self.seal_token(last, "ListStreams", now));
        }
        Ok(Reply::now(to_body(&out)))
    }

    /// Seals a pagination token: what to resume after, for which operation, issued when.
    fn seal_token(&self, resume_after: &str, operation: &str, now: Millis) -> String {
        let payload = serde_json::to_vec(&(resume_after, operation, now)).unwrap_or_default();
        self.sealer.seal(&payload)
    }

    fn open_token(&self, token: &str, operation: &str, now: Millis) -> ApiResult<(String, Millis)> {
        let invalid = || ApiError::invalid_argument(format!("Invalid NextToken: {token}"));
        let payload = self.sealer.open(token).ok_or_else(invalid)?;
        let (resume_after, op, issued): (String, String, Millis) =
            serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if op != operation {
            return Err(invalid());
        }
        if now.saturating_sub(issued) > ITERATOR_LIFETIME_MS {
            return Err(ApiError::new(
                ErrorCode::ExpiredNextTokenException,
                format!("The NextToken has expired: {token}"),
            ));
        }
        Ok((resume_after, issued))
    }

    fn list_shards(&self, input: ListShardsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        if let Some(max) = input.max_results {
            v.range("maxResults", max, 1, 10_000);
        }
        if let Some(id) = &input.exclusive_start_shard_id {
            v.name("exclusiveStartShardId", id);
        }
        if let Some(filter) = &input.shard_filter {
            match &filter.filter_type {
                Some(t) => v.one_of(
                    "shardFilter.type",
                    t,
                    &[
                        "AFTER_SHARD_ID",
                        "AT_TRIM_HORIZON",
                        "FROM_TRIM_HORIZON",
                        "AT_LATEST",
                        "AT_TIMESTAMP",
                        "FROM_TIMESTAMP",
                    ],
                ),
                None => v.missing("shardFilter.type"),
            }
        }
        v.finish()?;
        let (name, after) = match (&input.next_token, name) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_argument(
                    "NextToken and StreamName cannot be provided together.",
                ));
            }
            (Some(token), None) => {
                let (resume, _) = self.open_token(token, "ListShards", now)?;
                let (stream, ordinal) = resume.rsplit_once('/').ok_or_else(|| {
                    ApiError::invalid_argument(format!("Invalid NextToken: {token}"))
                })?;
                (stream.to_owned(), ordinal.parse::<u32>().ok())
            }
            (None, name) => (
                self.require_stream(name)?,
                input
                    .exclusive_start_shard_id
                    .as_deref()
                    .and_then(parse_shard_id),
            ),
        };
        let filter = input.shard_filter.as_ref();
        let filter_type = filter
            .and_then(|f| f.filter_type.as_deref())
            .unwrap_or("FROM_TRIM_HORIZON");
        let filter_time = filter
            .and_then(|f| f.timestamp)
            .map(|t| (t * 1000.0) as Millis);
        if matches!(filter_type, "AT_TIMESTAMP" | "FROM_TIMESTAMP") && filter_time.is_none() {
            return Err(ApiError::invalid_argument(format!(
                "Timestamp must be specified for ShardFilter type {filter_type}."
            )));
        }
        let filter_shard = match filter_type {
            "AFTER_SHARD_ID" => Some(
                filter
                    .and_then(|f| f.shard_id.as_deref())
                    .and_then(parse_shard_id)
                    .ok_or_else(|| {
                        ApiError::invalid_argument(
                            "ShardId must be specified for ShardFilter type AFTER_SHARD_ID.",
                        )
                    })?,
            ),
            _ => None,
        };
        let stream = store.stream(&name, now)?;
        let live: Vec<&Shard> = stream.live_shards(now).collect();
        let is_live =
            |ordinal: Option<u32>| ordinal.is_some_and(|o| live.iter().any(|s| s.ordinal == o));
        let selected: Vec<&Shard> = live
            .iter()
            .copied()
            .filter(|s| after.is_none_or(|a| s.ordinal > a))
            .filter(|s| match filter_type {
                "AFTER_SHARD_ID" => filter_shard.is_none_or(|f| s.ordinal > f),
                "AT_TRIM_HORIZON" => !is_live(s.parent) && !is_live(s.adjacent_parent),
                "AT_LATEST" => s.is_open(),
                "AT_TIMESTAMP" => {
                    let t = filter_time.unwrap_or(now);
                    (s.created_ms <= t || s.parent.is_none()) && s.closed_ms.is_none_or(|c| c > t)
                }
                "FROM_TIMESTAMP" => s.closed_ms.is_none_or(|c| c > filter_time.unwrap_or(now)),
                _ => true,
            })
            .collect();
        let max = input.max_results.unwrap_or(1000) as usize;
        let has_more = selected.len() > max;
        let page: Vec<Value> = selected
            .iter()
            .take(max)
            .map(|s| shard_json(stream, s))
            .collect();
        let mut out = json!({ "Shards": page });
        if has_more {
            let last = selected[max - 1].ordinal;
            out["NextToken"] = json!(self.seal_token(&format!("{name}/{last}"), "ListShards", now));
        }
        Ok(Reply::now(to_body(&out)))
    }

    fn put_record(&self, input: PutRecordInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        let record = validate_entry(
            &mut v,
            None,
            input.data.as_deref(),
            input.partition_key.clone(),
            input.explicit_hash_key.as_deref(),
            &mut BytesMut::new(),
        );
        if let Some(seq) = &input.sequence_number_for_ordering
            && !is_sequence_number_shaped(seq)
        {
            v.failed(
                "sequenceNumberForOrdering",
                seq,
                "satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
            );
        }
        v.finish()?;
        let record =
            record.map_err(|()| ApiError::internal("validation passed without a record"))?;
        let name = self.require_stream(name)?;
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        let stream = store.stream(&name, now)?;
        let index = writable_shard(stream, now, &record, &account)?;
        if enforce
            && !stream.shards[index]
                .throughput
                .try_write(now, record_size(&record))
        {
            return Err(throughput_exceeded_write(stream, index, &account));
        }
        let mutation = Mutation::PutRecords {
            stream: name,
            records: vec![record],
        };
        let (appended, durable_at) = self.commit(&mut store, now, &mutation)?;
        let appended = appended
            .into_iter()
            .next()
            .expect("one record in, one record out");
        Ok(Reply {
            body: to_body(&json!({
                "ShardId": appended.shard_id,
                "SequenceNumber": appended.sequence_number,
                "EncryptionType": "NONE",
            })),
            durable_at,
        })
    }

    fn put_records(&self, body: &[u8]) -> ApiResult<Reply> {
        let input: PutRecordsInput<'_> = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))?;
        let now = self.clock.now_millis();
        let mut v = Violations::default();
        let mut records = Vec::new();
        let mut total = 0usize;
        let count = input.records.as_ref().map_or(0, Vec::len);
        match input.records {
            None => v.missing("records"),
            Some(entries) if entries.is_empty() || entries.len() > 500 => {
                let constraint = if entries.is_empty() {
                    "have length greater than or equal to 1"
                } else {
                    "have length less than or equal to 500"
                };
                v.failed(
                    "records",
                    format!("[{} records]", entries.len()),
                    constraint,
                );
            }
            Some(entries) => {
                records.reserve(count);
                // Every record's data is decoded into one allocation and split off it.
                let encoded: usize = entries
                    .iter()
                    .map(|e| e.data.as_ref().map_or(0, |d| d.len()))
                    .sum();
                let mut buffer = BytesMut::with_capacity(encoded / 4 * 3 + 3 * count);
                for (i, entry) in entries.into_iter().enumerate() {
                    let record = validate_entry(
                        &mut v,
                        Some(i),
                        entry.data.as_deref(),
                        entry.partition_key,
                        entry.explicit_hash_key.as_deref(),
                        &mut buffer,
                    );
                    if let Ok(record) = record {
                        total += record_size(&record);
                        records.push(record);
                    }
                }
            }
        }
        let mut store = self.lock();
        let ident = StreamIdent {
            name: input.stream_name,
            arn: input.stream_arn,
        };
        let name = self.stream_name(&store, &ident, &mut v);
        v.finish()?;
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(ApiError::invalid_argument(
                "Records size exceeds 5 MB limit",
            ));
        }
        let name = self.require_stream(name)?;
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        let stream = store.stream(&name, now)?;
        // Decide each entry's fate first; only accepted entries are applied and logged.
        let mut fates: Vec<Result<usize, ApiError>> = Vec::with_capacity(records.len());
        for record in &records {
            let index = writable_shard(stream, now, record, &account)?;
            let shard = &mut stream.shards[index];
            fates.push(
                if !enforce || shard.throughput.try_write(now, record_size(record)) {
                    Ok(index)
                } else {
                    Err(throughput_exceeded_write(stream, index, &account))
                },
            );
        }
        let failed = fates.iter().filter(|f| f.is_err()).count();
        // The log gets exactly the accepted entries; replaying them routes each to the same
        // shard, because routing depends only on the hash key and the open shards.
        let reservation = self.wal.as_ref().map(|wal| wal.reserve());
        let lsn = reservation.as_ref().map(Reservation::lsn);
        if let Some(reservation) = reservation {
            // Log first (the reservation keeps the position), then move the records in.
            let logged: Vec<NewRecord> = records
                .iter()
                .zip(&fates)
                .filter(|(_, fate)| fate.is_ok())
                .map(|(r, _)| r.clone())
                .collect();
            let mutation = Mutation::PutRecords {
                stream: name,
                records: logged,
            };
            reservation.append(now, EntryRef::Kinesis(&mutation));
        }
        let created_secs = stream.created_ms / 1000;
        let mut body = Vec::with_capacity(64 + records.len() * 120);
        body.extend_from_slice(
            format!("{{\"FailedRecordCount\":{failed},\"Records\":[").as_bytes(),
        );
        for (i, (record, fate)) in records.into_iter().zip(fates).enumerate() {
            if i > 0 {
                body.push(b',');
            }
            match fate {
                Ok(index) => {
                    let (shard, counter) = append_raw(stream, index, now, record, lsn.unwrap_or(0));
                    let sequence_number = SequenceNumber {
                        stream_created_secs: created_secs,
                        shard,
                        counter,
                    };
                    body.extend_from_slice(b"{\"SequenceNumber\":\"");
                    sequence_number.write_to(&mut body);
                    body.extend_from_slice(b"\",\"ShardId\":\"shardId-");
                    push_padded(&mut body, u64::from(shard), 12);
                    body.extend_from_slice(b"\"}");
                }
                Err(e) => {
                    body.extend_from_slice(b"{\"ErrorCode\":");
                    write_json_string(&mut body, e.code.as_str());
                    body.extend_from_slice(b",\"ErrorMessage\":");
                    write_json_string(&mut body, &e.message);
                    body.push(b'}');
                }
            }
        }
        body.extend_from_slice(b"],\"EncryptionType\":\"NONE\"}");
        drop(store);
        Ok(Reply {
            body,
            durable_at: lsn,
        })
    }

    fn get_shard_iterator(&self, input: GetShardIteratorInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        match &input.shard_id {
            Some(id) => v.name("shardId", id),
            None => v.missing("shardId"),
        }
        const TYPES: [&str; 5] = [
            "AT_SEQUENCE_NUMBER",
            "AFTER_SEQUENCE_NUMBER",
            "TRIM_HORIZON",
            "LATEST",
            "AT_TIMESTAMP",
        ];
        match &input.shard_iterator_type {
            Some(t) => v.one_of("shardIteratorType", t, &TYPES),
            None => v.missing("shardIteratorType"),
        }
        if let Some(seq) = &input.starting_sequence_number
            && !is_sequence_number_shaped(seq)
        {
            v.failed(
                "startingSequenceNumber",
                seq,
                "satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
            );
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let iterator_type = input.shard_iterator_type.unwrap_or_default();
        let shard_name = input.shard_id.unwrap_or_default();
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        let stream = store.stream(&name, now)?;
        let ordinal = stream.shard(&shard_name, now, &account)?.ordinal;
        let shard = &stream.shards[ordinal as usize];
        let sequence = input.starting_sequence_number.as_deref();
        let position = match iterator_type.as_str() {
            "TRIM_HORIZON" => shard.first_counter(),
            "LATEST" => shard.last_counter + 1,
            "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
                let text = sequence.ok_or_else(|| {
                    ApiError::invalid_argument(format!(
                        "StartingSequenceNumber must be specified for shardIteratorType \
                         {iterator_type}."
                    ))
                })?;
                let seq = SequenceNumber::decode(text)
                    .filter(|s| s.stream_created_secs == stream.created_ms / 1000)
                    .ok_or_else(|| {
                        ApiError::invalid_argument(format!(
                            "StartingSequenceNumber {text} used in GetShardIterator on shard \
                             {shard_name} in stream {name} under account {account} is invalid."
                        ))
                    })?;
                if seq.shard != ordinal {
                    return Err(ApiError::invalid_argument(format!(
                        "Invalid StartingSequenceNumber. It encodes {}, while it was used in a \
                         call to a shard with {}",
                        shard_id(seq.shard),
                        shard_id(ordinal)
                    )));
                }
                let at = if iterator_type == "AT_SEQUENCE_NUMBER" {
                    seq.counter
                } else {
                    seq.counter.saturating_add(1)
                };
                // A sequence number beyond the newest record reads from the tip, like LATEST.
                at.clamp(1, shard.last_counter + 1)
            }
            _ => {
                let timestamp = input.timestamp.ok_or_else(|| {
                    ApiError::invalid_argument(
                        "Timestamp must be specified for shardIteratorType AT_TIMESTAMP.",
                    )
                })?;
                let ts = (timestamp * 1000.0).max(0.0) as Millis;
                if ts > now {
                    return Err(ApiError::invalid_argument(format!(
                        "The timestampInMillis parameter cannot be greater than the \
                         currentTimestampInMillis. timestampInMillis: {ts}, \
                         currentTimestampInMillis: {now}"
                    )));
                }
                shard
                    .records
                    .iter()
                    .find(|r| r.arrival_ms >= ts)
                    .map_or(shard.last_counter + 1, |r| r.counter)
            }
        };
        if sequence.is_some() && input.timestamp.is_some() {
            return Err(ApiError::invalid_argument(
                "Request must not contain both a StartingSequenceNumber and a Timestamp.",
            ));
        }
        if enforce
            && !stream.shards[ordinal as usize]
                .throughput
                .try_iterator_call(now)
        {
            return Err(ApiError::new(
                ErrorCode::ProvisionedThroughputExceededException,
                format!(
                    "Rate exceeded for shard {shard_name} in stream {name} under account {account}."
                ),
            ));
        }
        let iterator = self.seal_iterator(stream, ordinal, position, now);
        Ok(Reply::now(to_body(&json!({ "ShardIterator": iterator }))))
    }

    fn seal_iterator(&self, stream: &Stream, shard: u32, position: u64, now: Millis) -> String {
        let payload = IteratorPayload {
            stream: Cow::Borrowed(&stream.name),
            stream_created_ms: stream.created_ms,
            shard,
            position,
            issued_ms: now,
        };
        self.sealer
            .seal(&postcard::to_allocvec(&payload).expect("plain struct"))
    }

    fn get_records(&self, input: GetRecordsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut v = Violations::default();
        match &input.shard_iterator {
            Some(it) => v.length("shardIterator", it, 1, 512),
            None => v.missing("shardIterator"),
        }
        if let Some(limit) = input.limit.filter(|l| *l < 1) {
            v.range("limit", limit, 1, 10_000);
        }
        v.finish()?;
        if input.limit.is_some_and(|l| l > 10_000) {
            return Err(ApiError::invalid_argument(format!(
                "Limit {} is greater than the maximum of 10000.",
                input.limit.unwrap_or_default()
            )));
        }
        let token = input.shard_iterator.unwrap_or_default();
        let payload = self
            .sealer
            .open(&token)
            .and_then(|bytes| {
                postcard::from_bytes::<IteratorPayload<'_>>(&bytes)
                    .ok()
                    .map(IteratorPayload::into_owned)
            })
            .ok_or_else(|| ApiError::invalid_argument(format!("Invalid ShardIterator: {token}")))?;
        if now.saturating_sub(payload.issued_ms) > ITERATOR_LIFETIME_MS {
            return Err(ApiError::new(
                ErrorCode::ExpiredIteratorException,
                format!(
                    "Iterator expired. The iterator was created at time {} while right now it is \
                     {now} which is further in the future than the tolerated delay of \
                     {ITERATOR_LIFETIME_MS} milliseconds.",
                    payload.issued_ms
                ),
            ));
        }
        let limit = input.limit.unwrap_or(10_000) as usize;
        let durable = self.wal.as_ref().map_or(u64::MAX, |wal| wal.durable_lsn());
        let mut store = self.lock();
        let enforce = store.settings.enforce_throughput;
        let account = store.settings.account_id.clone();
        let stream = store.stream(&payload.stream, now)?;
        if stream.created_ms != payload.stream_created_ms {
            return Err(not_found(&payload.stream, &account));
        }
        let shard_name = shard_id(payload.shard);
        let ordinal = stream.shard(&shard_name, now, &account)?.ordinal;
        let shard = &mut stream.shards[ordinal as usize];
        if enforce && !shard.throughput.try_read_call(now) {
            return Err(ApiError::new(
                ErrorCode::ProvisionedThroughputExceededException,
                format!(
                    "Rate exceeded for shard {shard_name} in stream {} under account {account}.",
                    payload.stream
                ),
            ));
        }
        // Positions are clamped to the stored records: before them is the trim horizon, past
        // them is the tip (iterators are sealed, so only a sequence number can point past it).
        let start = payload
            .position
            .clamp(shard.first_counter(), shard.last_counter + 1);
        let mut bytes = 0usize;
        let mut out = Vec::new();
        let mut next = start;
        for record in shard.records.range(shard.index_of(start)..) {
            if out.len() >= limit
                || record.lsn > durable
                || (bytes + record.size() > GET_RECORDS_MAX_BYTES && !out.is_empty())
            {
                break;
            }
            bytes += record.size();
            next = record.counter + 1;
            out.push(record.clone());
        }
        if enforce {
            shard.throughput.charge_read(bytes);
        }
        let caught_up = next > shard.last_counter;
        let millis_behind = match shard.records.get(shard.index_of(next)) {
            Some(pending) if !caught_up => now.saturating_sub(pending.arrival_ms),
            _ => 0,
        };
        let closed = !shard.is_open();
        let stream = &*stream;
        let created_secs = stream.created_ms / 1000;
        let data_bytes: usize = out.iter().map(|r| r.data.len()).sum();
        let mut body = Vec::with_capacity(256 + data_bytes * 4 / 3 + out.len() * 160);
        body.extend_from_slice(b"{\"Records\":[");
        for (i, record) in out.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(b"{\"SequenceNumber\":\"");
            SequenceNumber {
                stream_created_secs: created_secs,
                shard: ordinal,
                counter: record.counter,
            }
            .write_to(&mut body);
            body.extend_from_slice(
                format!(
                    "\",\"ApproximateArrivalTimestamp\":{}.{:03},\"Data\":\"",
                    record.arrival_ms / 1000,
                    record.arrival_ms % 1000
                )
                .as_bytes(),
            );
            // Base64 never needs JSON escaping: encode straight into the body.
            let start = body.len();
            body.resize(
                start + base64_simd::STANDARD.encoded_length(record.data.len()),
                0,
            );
            let written = base64_simd::STANDARD
                .encode(
                    &record.data,
                    base64_simd::Out::from_slice(&mut body[start..]),
                )
                .len();
            body.truncate(start + written);
            body.extend_from_slice(b"\",\"PartitionKey\":");
            write_json_string(&mut body, &record.partition_key);
            body.push(b'}');
        }
        body.extend_from_slice(b"]");
        if closed && caught_up {
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
            body.extend_from_slice(b",\"ChildShards\":");
            body.extend_from_slice(&to_body(&children));
        } else {
            body.extend_from_slice(b",\"NextShardIterator\":");
            write_json_string(&mut body, &self.seal_iterator(stream, ordinal, next, now));
        }
        body.extend_from_slice(format!(",\"MillisBehindLatest\":{millis_behind}}}").as_bytes());
        Ok(Reply::now(body))
    }

    fn change_retention(&self, input: RetentionInput, increase: bool) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        match input.retention_period_hours {
            Some(hours) => v.range("retentionPeriodHours", hours, 1, 2_147_483_647),
            None => v.missing("retentionPeriodHours"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let hours = input.retention_period_hours.unwrap_or_default();
        if hours < 24 {
            return Err(ApiError::invalid_argument(format!(
                "Minimum allowed retention period is 24 hours. Requested retention period ({hours} \
                 hours) is too short."
            )));
        }
        if hours > 8760 {
            return Err(ApiError::invalid_argument(format!(
                "Maximum allowed retention period is 8760 hours. Requested retention period \
                 ({hours} hours) is too long."
            )));
        }
        let current = i64::from(store.stream(&name, now)?.retention_hours);
        if increase && hours < current {
            return Err(ApiError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be shorter \
                 than existing retention period ({current} hours). Use \
                 DecreaseRetentionPeriod API."
            )));
        }
        if !increase && hours > current {
            return Err(ApiError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {name} can not be longer \
                 than existing retention period ({current} hours). Use \
                 IncreaseRetentionPeriod API."
            )));
        }
        let mutation = Mutation::SetRetention {
            stream: name,
            hours: hours as u32,
        };
        let (_, durable_at) = self.commit(&mut store, now, &mutation)?;
        Ok(Reply {
            body: b"{}".to_vec(),
            durable_at,
        })
    }

    fn split_shard(&self, input: SplitShardInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.shard_to_split {
            Some(id) => v.name("shardToSplit", id),
            None => v.missing("shardToSplit"),
        }
        let key = match &input.new_starting_hash_key {
            Some(key) => {
                let parsed = parse_hash_key(key);
                if parsed.is_none() {
                    v.failed(
                        "newStartingHashKey",
                        key,
                        "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                    );
                }
                parsed
            }
            None => {
                v.missing("newStartingHashKey");
                None
            }
        };
        v.finish()?;
        let name = self.require_stream(name)?;
        let shard =
            self.shard_ordinal(&name, input.shard_to_split.as_deref().unwrap_or_default())?;
        self.commit_reply(Mutation::SplitShard {
            stream: name,
            shard,
            new_starting_hash_key: key.unwrap_or_default(),
        })
    }

    /// The ordinal of a shard named in a resharding request, or AWS's not-found error.
    fn shard_ordinal(&self, stream: &str, id: &str) -> ApiResult<u32> {
        let account = self.lock().settings.account_id.clone();
        parse_shard_id(id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Could not find shard {id} in stream {stream} under account {account}."),
            )
        })
    }

    fn merge_shards(&self, input: MergeShardsInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.shard_to_merge {
            Some(id) => v.name("shardToMerge", id),
            None => v.missing("shardToMerge"),
        }
        match &input.adjacent_shard_to_merge {
            Some(id) => v.name("adjacentShardToMerge", id),
            None => v.missing("adjacentShardToMerge"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let shard =
            self.shard_ordinal(&name, input.shard_to_merge.as_deref().unwrap_or_default())?;
        let adjacent = self.shard_ordinal(
            &name,
            input.adjacent_shard_to_merge.as_deref().unwrap_or_default(),
        )?;
        self.commit_reply(Mutation::MergeShards {
            stream: name,
            shard,
            adjacent,
        })
    }

    fn update_shard_count(&self, input: UpdateShardCountInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        match input.target_shard_count {
            Some(n) => v.range("targetShardCount", n, 1, 100_000),
            None => v.missing("targetShardCount"),
        }
        match &input.scaling_type {
            Some(t) => v.one_of("scalingType", t, &["UNIFORM_SCALING"]),
            None => v.missing("scalingType"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let target = input.target_shard_count.unwrap_or_default() as u32;
        let current = store.stream(&name, now)?.open_shards().count();
        let mutation = Mutation::UpdateShardCount {
            stream: name.clone(),
            target,
        };
        let (_, durable_at) = self.commit(&mut store, now, &mutation)?;
        Ok(Reply {
            body: to_body(&json!({
                "StreamName": name,
                "StreamARN": store.stream_arn(&name),
                "CurrentShardCount": current,
                "TargetShardCount": target,
            })),
            durable_at,
        })
    }

    fn add_tags(&self, input: AddTagsInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.tags {
            Some(_) => validate_tags(&mut v, input.tags.as_ref(), 200),
            None => v.missing("tags"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        self.commit_reply(Mutation::AddTags {
            stream: name,
            tags: input.tags.unwrap_or_default(),
        })
    }

    fn remove_tags(&self, input: RemoveTagsInput) -> ApiResult<Reply> {
        let mut v = Violations::default();
        let name = self.stream_name(&self.lock(), &input.ident, &mut v);
        match &input.tag_keys {
            Some(keys) if keys.is_empty() || keys.len() > 50 => v.failed(
                "tagKeys",
                format!("[{} keys]", keys.len()),
                "have length between 1 and 50",
            ),
            Some(keys) => {
                for (i, key) in keys.iter().enumerate() {
                    v.length(&format!("tagKeys.{}.member", i + 1), key, 1, 128);
                }
            }
            None => v.missing("tagKeys"),
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        self.commit_reply(Mutation::RemoveTags {
            stream: name,
            keys: input.tag_keys.unwrap_or_default(),
        })
    }

    fn list_tags(&self, input: ListTagsInput) -> ApiResult<Reply> {
        let now = self.clock.now_millis();
        let mut store = self.lock();
        let mut v = Violations::default();
        let name = self.stream_name(&store, &input.ident, &mut v);
        if let Some(limit) = input.limit {
            v.range("limit", limit, 1, 50);
        }
        if let Some(key) = &input.exclusive_start_tag_key {
            v.length("exclusiveStartTagKey", key, 1, 128);
        }
        v.finish()?;
        let name = self.require_stream(name)?;
        let stream = store.stream(&name, now)?;
        let limit = input.limit.unwrap_or(50) as usize;
        let tags: Vec<(&String, &String)> = stream
            .tags
            .iter()
            .filter(|(k, _)| {
                input
                    .exclusive_start_tag_key
                    .as_ref()
                    .is_none_or(|s| *k > s)
            })
            .collect();
        let has_more = tags.len() > limit;
        let tags: Vec<Value> = tags
            .into_iter()
            .take(limit)
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        Ok(Reply::now(to_body(
            &json!({ "Tags": tags, "HasMoreTags": has_more }),
        )))
    }

    fn describe_limits(&self) -> ApiResult<Reply> {
        let store = self.lock();
        let on_demand = store
            .streams
            .values()
            .filter(|s| s.mode == StreamMode::OnDemand)
            .count();
        Ok(Reply::now(to_body(&json!({
            "ShardLimit": store.settings.shard_limit,
            "OpenShardCount": store.open_shard_count(),
            "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": store.settings.on_demand_stream_limit,
        }))))
    }
}

/// Parses `arn:aws:kinesis:<region>:<account>:stream/<name>` into its parts.
fn parse_stream_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (arn_literal, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let name = resource.strip_prefix("stream/")?;
    let valid = arn_literal == "arn"
        && partition.starts_with("aws")
        && service == "kinesis"
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.chars().any(char::is_whitespace);
    valid.then_some((region, account, name))
}

/// Appends `text` as a JSON string literal.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
}

fn record_size(record: &NewRecord) -> usize {
    record.data.len() + record.partition_key.len()
}

/// The open shard a record goes to, after checking the stream accepts writes.
fn writable_shard(
    stream: &Stream,
    now: Millis,
    record: &NewRecord,
    account: &str,
) -> ApiResult<usize> {
    use super::store::StreamStatus;
    match stream.status(now) {
        StreamStatus::Active | StreamStatus::Updating => {}
        _ => return Err(not_found(&stream.name, account)),
    }
    let hash = record.hash_key();
    Ok(stream
        .shards
        .iter()
        .position(|s| s.is_open() && s.holds(hash))
        .expect("open shards always cover the whole hash key space"))
}

fn throughput_exceeded_write(stream: &Stream, index: usize, account: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ProvisionedThroughputExceededException,
        format!(
            "Rate exceeded for shard {} in stream {} under account {account}.",
            stream.shards[index].id(),
            stream.name
        ),
    )
}

/// Validates one record of PutRecord or PutRecords (`index` is its position in PutRecords),
/// decoding its data into `buffer` and splitting it off, so a batch's data shares one
/// allocation. Member names for error messages are only formatted when something fails.
fn validate_entry(
    v: &mut Violations,
    index: Option<usize>,
    data: Option<&str>,
    partition_key: Option<String>,
    explicit_hash_key: Option<&str>,
    buffer: &mut BytesMut,
) -> Result<NewRecord, ()> {
    let member = |field: &str| match index {
        Some(i) => format!("records.{}.member.{field}", i + 1),
        None => field.to_owned(),
    };
    let mut ok = true;
    let data = match data {
        None => {
            v.missing(&member("data"));
            ok = false;
            Bytes::new()
        }
        Some(text) => {
            buffer.clear();
            buffer.resize(base64::decoded_len_estimate(text.len()), 0);
            // SIMD base64 (the largest cost of PutRecords); same alphabet and padding rules.
            let decoded = base64_simd::STANDARD
                .decode(
                    text.as_bytes(),
                    base64_simd::Out::from_slice(&mut buffer[..]),
                )
                .map(|bytes| bytes.len());
            match decoded {
                Ok(n) if n > MAX_RECORD_BYTES => {
                    v.failed(
                        &member("data"),
                        "java.nio.HeapByteBuffer",
                        &format!("have length less than or equal to {MAX_RECORD_BYTES}"),
                    );
                    ok = false;
                    Bytes::new()
                }
                Ok(n) => {
                    buffer.truncate(n);
                    buffer.split().freeze()
                }
                Err(_) => {
                    v.failed(&member("data"), text, "be valid base64-encoded binary data");
                    ok = false;
                    Bytes::new()
                }
            }
        }
    };
    match &partition_key {
        None => {
            v.missing(&member("partitionKey"));
            ok = false;
        }
        // A key of 1 to 256 bytes has 1 to 256 characters; only longer ones need counting.
        Some(key) if !key.is_empty() && key.len() <= 256 => {}
        Some(key) => {
            let before = v.len();
            v.length(&member("partitionKey"), key, 1, 256);
            ok &= before == v.len();
        }
    }
    let explicit = match explicit_hash_key {
        Some(text) => match parse_hash_key(text) {
            Some(hash) => Some(hash),
            None => {
                v.failed(
                    &member("explicitHashKey"),
                    text,
                    "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                );
                ok = false;
                None
            }
        },
        None => None,
    };
    if !ok {
        return Err(());
    }
    Ok(NewRecord {
        partition_key: partition_key.unwrap_or_default(),
        explicit_hash_key: explicit,
        data,
    })
}

fn validate_tags(v: &mut Violations, tags: Option<&BTreeMap<String, String>>, max: usize) {
    let Some(tags) = tags else { return };
    if tags.is_empty() || tags.len() > max {
        v.failed(
            "tags",
            format!("[{} tags]", tags.len()),
            &format!("have between 1 and {max} entries"),
        );
    }
    for (key, value) in tags {
        v.length("tags.key", key, 1, 128);
        v.length("tags.value", value, 0, 256);
    }
}

fn hash_range_json(shard: &Shard) -> Value {
    json!({
        "StartingHashKey": shard.starting_hash_key.to_string(),
        "EndingHashKey": shard.ending_hash_key.to_string(),
    })
}

fn shard_json(stream: &Stream, shard: &Shard) -> Value {
    let mut range = json!({
        "StartingSequenceNumber": stream.sequence_number(shard.ordinal, 0),
    });
    if !shard.is_open() {
        range["EndingSequenceNumber"] =
            json!(stream.sequence_number(shard.ordinal, shard.last_counter));
    }
    let mut out = json!({
        "ShardId": shard.id(),
        "HashKeyRange": hash_range_json(shard),
        "SequenceNumberRange": range,
    });
    if let Some(parent) = shard.parent {
        out["ParentShardId"] = json!(shard_id(parent));
    }
    if let Some(adjacent) = shard.adjacent_parent {
        out["AdjacentParentShardId"] = json!(shard_id(adjacent));
    }
    out
}

/// What a shard iterator encodes.
#[derive(Debug, Serialize, Deserialize)]
struct IteratorPayload<'a> {
    #[serde(borrow)]
    stream: Cow<'a, str>,
    stream_created_ms: Millis,
    shard: u32,
    position: u64,
    issued_ms: Millis,
}

impl IteratorPayload<'_> {
    fn into_owned(self) -> IteratorPayload<'static> {
        IteratorPayload {
            stream: Cow::Owned(self.stream.into_owned()),
            ..self
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateStreamInput {
    stream_name: Option<String>,
    shard_count: Option<i64>,
    stream_mode_details: Option<StreamModeDetails>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct StreamOnly {
    #[serde(flatten)]
    ident: StreamIdent,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamInput {
    #[serde(flatten)]
    ident: StreamIdent,
    limit: Option<i64>,
    exclusive_start_shard_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsInput {
    limit: Option<i64>,
    exclusive_start_stream_name: Option<String>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShardFilter {
    #[serde(rename = "Type")]
    filter_type: Option<String>,
    shard_id: Option<String>,
    timestamp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    next_token: Option<String>,
    exclusive_start_shard_id: Option<String>,
    max_results: Option<i64>,
    shard_filter: Option<ShardFilter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordInput {
    #[serde(flatten)]
    ident: StreamIdent,
    data: Option<String>,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
    sequence_number_for_ordering: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsEntry<'a> {
    #[serde(borrow)]
    data: Option<Cow<'a, str>>,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PutRecordsInput<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<PutRecordsEntry<'a>>>,
    #[serde(rename = "StreamName")]
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_id: Option<String>,
    shard_iterator_type: Option<String>,
    starting_sequence_number: Option<String>,
    timestamp: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsInput {
    shard_iterator: Option<String>,
    limit: Option<i64>,
    #[serde(rename = "StreamARN")]
    _stream_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RetentionInput {
    #[serde(flatten)]
    ident: StreamIdent,
    retention_period_hours: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SplitShardInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_to_split: Option<String>,
    new_starting_hash_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MergeShardsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    shard_to_merge: Option<String>,
    adjacent_shard_to_merge: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateShardCountInput {
    #[serde(flatten)]
    ident: StreamIdent,
    target_shard_count: Option<i64>,
    scaling_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RemoveTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    #[serde(flatten)]
    ident: StreamIdent,
    exclusive_start_tag_key: Option<String>,
    limit: Option<i64>,
}
