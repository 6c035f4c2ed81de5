//! A Kinesis stream as a delivery stream's source: [`KinesisFeed`] is the "function" of an
//! internal Kinesis mapping that appends every batch it is given to the delivery stream
//! ([`RecordIntake`]), so reading a source stream (shards, resharding, StartingPosition,
//! checkpoints) is the mapping runtime's, written once.
//!
//! Invariant: a batch succeeds only once the intake durably accepted all of it; otherwise the
//! invocation fails and the mapping retries it, so a record read from the source stream is
//! never skipped (a crash between the two can deliver it twice, as Firehose may).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_lambda_events::event::kinesis::KinesisEvent;
use riffle_core::firehose::transform::KinesisRecordMetadata;
use riffle_core::invocation::Outcome;

use crate::invoke::InvokeRequest;

/// A record a delivery stream accepts from its source stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    /// The data.
    pub data: Vec<u8>,
    /// Where it was read.
    pub kinesis: KinesisRecordMetadata,
}

/// Where a Kinesis-source delivery stream's records go once read (the emulator's Firehose
/// store, in process).
pub trait RecordIntake: Clone + Send + Sync + 'static {
    /// Accepts `records` durably, in order, all or none.
    fn accept(&self, records: Vec<Intake>) -> impl Future<Output = Result<(), String>> + Send;
}

/// The records of a Kinesis mapping's event, as a delivery stream takes them.
pub fn intake(payload: &str) -> Result<Vec<Intake>, String> {
    let event: KinesisEvent =
        serde_json::from_str(payload).map_err(|e| format!("not a Kinesis event: {e}"))?;
    Ok(event
        .records
        .into_iter()
        .map(|record| {
            let shard_id = record
                .event_id
                .as_deref()
                .and_then(|id| id.split_once(':'))
                .map(|(shard, _)| shard.to_owned())
                .unwrap_or_default();
            let kinesis = record.kinesis;
            Intake {
                data: kinesis.data.0,
                kinesis: KinesisRecordMetadata {
                    shard_id,
                    partition_key: kinesis.partition_key,
                    approximate_arrival_timestamp: kinesis
                        .approximate_arrival_timestamp
                        .0
                        .timestamp_millis()
                        .max(0) as u64,
                    sequence_number: kinesis.sequence_number,
                    subsequence_number: 0,
                },
            }
        })
        .collect())
}

/// The internal mapping's function: appends each batch to the delivery stream.
#[derive(Debug, Clone)]
pub struct KinesisFeed<R> {
    intake: R,
}

impl<R: RecordIntake> KinesisFeed<R> {
    /// Appends through `intake`.
    pub fn new(intake: R) -> Self {
        Self { intake }
    }
}

impl<R: RecordIntake> tower::Service<InvokeRequest> for KinesisFeed<R> {
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InvokeRequest) -> Self::Future {
        let sink = self.intake.clone();
        Box::pin(async move {
            let outcome = match intake(&request.payload) {
                Err(message) => Outcome::function_error("Firehose.InvalidSourceRecord", message),
                Ok(records) => match sink.accept(records).await {
                    Ok(()) => Outcome::Success(Vec::new()),
                    Err(message) => Outcome::function_error("Firehose.ServiceUnavailable", message),
                },
            };
            Ok(outcome)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_event_becomes_records_with_their_kinesis_metadata() {
        let event = r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"user-42","sequenceNumber":"4965","data":"eyJvcmRlciI6IDd9","approximateArrivalTimestamp":1732550400.123},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000003:4965","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::111122223333:role/r","awsRegion":"eu-west-1","eventSourceARN":"arn:aws:kinesis:eu-west-1:111122223333:stream/orders"}]}"#;
        let records = intake(event).unwrap();
        assert_eq!(
            records,
            [Intake {
                data: br#"{"order": 7}"#.to_vec(),
                kinesis: KinesisRecordMetadata {
                    shard_id: "shardId-000000000003".into(),
                    partition_key: "user-42".into(),
                    approximate_arrival_timestamp: 1_732_550_400_123,
                    sequence_number: "4965".into(),
                    subsequence_number: 0,
                },
            }]
        );
        assert!(intake("{}").is_err(), "an event without Records is refused");
    }
}
