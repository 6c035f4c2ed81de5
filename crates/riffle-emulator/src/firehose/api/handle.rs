//! The in-process handle the delivery glue (`riffle local`) runs delivery streams through: which
//! streams there are ([`Firehose::deliveries`], [`Firehose::changes`]), and per stream the
//! semantics of riffle-runtime's `RecordSource` ([`Firehose::read`], [`Firehose::acknowledge`],
//! [`Firehose::arrival`]) and `RecordIntake` ([`Firehose::accept`]), by delivery stream name.
//!
//! Invariants: `read` hands out only durable records, in position order; `acknowledge` and
//! `accept` return once their change is durable; `arrival` never misses a record appended after
//! it was called, and resolves when the stream is deleted (a reader then finds it gone);
//! errors are plain messages, as the runtime's traits carry them.

use riffle_core::firehose::delivery::SourceRecord;
use riffle_core::firehose::settings::RawDelivery;
use riffle_core::firehose::transform::KinesisRecordMetadata;
use tokio::sync::watch;

use super::Firehose;
use super::put::records_at;
use crate::clock::Millis;
use crate::firehose::store::{Mutation, StreamStatus};

/// What the glue needs to run one delivery stream.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStreamInfo {
    /// DeliveryStreamName.
    pub name: String,
    /// DeliveryStreamARN.
    pub arn: String,
    /// Its status now (records are accepted once `ACTIVE`).
    pub status: StreamStatus,
    /// VersionId.
    pub version: u64,
    /// The configuration as riffle-core's plain values (it passes `DeliverySettings::new`).
    pub raw: RawDelivery,
    /// The Kinesis stream read, for `KinesisStreamAsSource`.
    pub source_stream_arn: Option<String>,
    /// When it was created (epoch ms; a stream deleted and created again has a new time, and
    /// its positions start again at 0).
    pub created_ms: Millis,
}

impl Firehose {
    /// Every delivery stream, in name order.
    pub fn deliveries(&self) -> Vec<DeliveryStreamInfo> {
        let (store, now) = self.lock_now();
        store
            .streams
            .values()
            .map(|stream| {
                let arn = store.arn(&stream.name);
                let raw =
                    stream
                        .config
                        .raw(&stream.name, &arn, stream.version, &store.settings.region);
                DeliveryStreamInfo {
                    name: stream.name.clone(),
                    status: store.status(stream, now),
                    version: stream.version,
                    source_stream_arn: raw.source_stream_arn.clone(),
                    raw,
                    arn,
                    created_ms: stream.created_ms,
                }
            })
            .collect()
    }

    /// A counter that moves whenever a delivery stream is created, deleted, updated or becomes
    /// `ACTIVE`: reconcile with [`Firehose::deliveries`] when it does.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Up to `max` durable records of `name` at position `from` or later, oldest first.
    pub async fn read(
        &self,
        name: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<SourceRecord>, String> {
        let store = self.lock();
        let stream = store.stream(name).map_err(|e| e.message)?;
        let durable = self.durable_lsn();
        let start = stream.records.partition_point(|r| r.position < from);
        Ok(stream
            .records
            .range(start..)
            .take(max)
            .take_while(|r| r.lsn <= durable)
            .map(|r| SourceRecord {
                position: r.position,
                record_id: r.record_id.clone(),
                arrival: r.arrival,
                data: r.data.clone(),
                kinesis: r.kinesis.clone(),
            })
            .collect())
    }

    /// Every record of `name` below position `below` is delivered: forget it, durably.
    pub async fn acknowledge(&self, name: &str, below: u64) -> Result<(), String> {
        let durable_at = {
            let (mut store, now) = self.lock_now();
            let stream = store.stream(name).map_err(|e| e.message)?;
            if below <= stream.acknowledged {
                return Ok(());
            }
            let mutation = Mutation::Acknowledge {
                name: name.to_owned(),
                below,
            };
            self.commit(&mut store, now, mutation)
                .map_err(|e| e.message)?
        };
        self.durable(durable_at).await.map_err(|e| e.message)
    }

    /// Resolves once a durable record of `name` at position `from` or later is there (at once
    /// if one is), or once `name` is no delivery stream.
    pub async fn arrival(&self, name: &str, from: u64) {
        let mut appended = self.appended.subscribe();
        let mut durable = self.wal.as_ref().map(|wal| wal.durable_watch());
        loop {
            appended.borrow_and_update();
            if let Some(durable) = &mut durable {
                durable.borrow_and_update();
            }
            if self.has_arrived(name, from) {
                return;
            }
            let stopped = match &mut durable {
                Some(durable) => tokio::select! {
                    changed = appended.changed() => changed.is_err(),
                    changed = durable.changed() => changed.is_err(),
                },
                None => appended.changed().await.is_err(),
            };
            if stopped {
                return;
            }
        }
    }

    /// Accepts `records` read from the source Kinesis stream of `name`, durably, in order, all
    /// or none.
    pub async fn accept(
        &self,
        name: &str,
        records: Vec<(Vec<u8>, KinesisRecordMetadata)>,
    ) -> Result<(), String> {
        let durable_at = {
            let (mut store, now) = self.lock_now();
            let stream = store.stream(name).map_err(|e| e.message)?;
            if stream.config.source.is_none() {
                return Err(format!(
                    "Firehose {name} is a DirectPut delivery stream: it reads no Kinesis stream"
                ));
            }
            if records.is_empty() {
                return Ok(());
            }
            let records = records_at(
                &store,
                stream,
                now,
                records
                    .into_iter()
                    .map(|(data, kinesis)| (data, Some(kinesis))),
            );
            let mutation = Mutation::Append {
                name: name.to_owned(),
                records,
            };
            self.commit(&mut store, now, mutation)
                .map_err(|e| e.message)?
        };
        self.durable(durable_at).await.map_err(|e| e.message)
    }

    /// Whether `name` is gone or holds a durable record at `from` or later.
    fn has_arrived(&self, name: &str, from: u64) -> bool {
        let store = self.lock();
        let Some(stream) = store.streams.get(name) else {
            return true;
        };
        let start = stream.records.partition_point(|r| r.position < from);
        stream
            .records
            .get(start)
            .is_some_and(|r| r.lsn <= self.durable_lsn())
    }

    /// The highest log position on disk (every position, without a log).
    fn durable_lsn(&self) -> u64 {
        self.wal.as_ref().map_or(u64::MAX, |wal| wal.durable_lsn())
    }
}
