//! The failure-inspector handler: reads the invocation records Lambda sends to the order-events
//! mapping's on-failure queue and reports each failed batch — which shard, which sequence range,
//! why, after how many invocations — so an operator can fetch and replay exactly those records.
//!
//! A message that is not an invocation record is reported as a batch item failure: it returns to
//! the queue and, after the queue's maxReceiveCount, moves to its dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use serde::Deserialize;

/// The parts of an on-failure invocation record this function reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureRecord {
    /// Why and how often.
    pub request_context: RequestContext,
    /// Which records.
    #[serde(rename = "KinesisBatchInfo")]
    pub kinesis_batch_info: KinesisBatchInfo,
}

/// `requestContext`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// `RetryAttemptsExhausted` or `RecordAgeExceeded`.
    pub condition: String,
    /// Invocations of the batch.
    pub approximate_invoke_count: u32,
}

/// `KinesisBatchInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisBatchInfo {
    /// The shard.
    pub shard_id: String,
    /// First failed record.
    pub start_sequence_number: String,
    /// Last failed record.
    pub end_sequence_number: String,
    /// Records in the range.
    pub batch_size: u32,
    /// The stream.
    pub stream_arn: String,
}

/// One line for the operator.
pub fn describe(record: &FailureRecord) -> String {
    let info = &record.kinesis_batch_info;
    format!(
        "{} record(s) {}..{} of {} on {} failed: {} after {} invocation(s)",
        info.batch_size,
        info.start_sequence_number,
        info.end_sequence_number,
        info.shard_id,
        info.stream_arn,
        record.request_context.condition,
        record.request_context.approximate_invoke_count
    )
}

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for message in &event.payload.records {
        let body = message.body.as_deref().unwrap_or_default();
        match serde_json::from_str::<FailureRecord>(body) {
            Ok(record) => tracing::warn!("{}", describe(&record)),
            Err(error) => {
                tracing::error!(message_id = ?message.message_id, %error, "not an invocation record");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::service_fn;
    use riffle_testkit::{
        SqsEventBuilder, SqsMessage, SqsSimulation, assert_failed_items, lambda_event,
    };
    use serde_json::json;

    /// An invocation record as Lambda writes it (the engine's own output, see
    /// `riffle_core::kinesis::event::FailureRecord::to_json`).
    fn invocation_record() -> serde_json::Value {
        json!({
            "requestContext": {
                "requestId": "0d5c1d8e-5a7b-4c2e-9a1f-2b3c4d5e6f70",
                "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:order-events",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 4
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": null},
            "version": "1.0",
            "timestamp": "2025-11-25T16:35:01.512Z",
            "KinesisBatchInfo": {
                "shardId": "shardId-000000000001",
                "startSequenceNumber": "49655502019283746571650018761293848571958377116573155330",
                "endSequenceNumber": "49655502019283746571650018761293848571958377116573155331",
                "approximateArrivalOfFirstRecord": "2025-11-25T16:34:58.101Z",
                "approximateArrivalOfLastRecord": "2025-11-25T16:34:58.907Z",
                "batchSize": 2,
                "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/order-events"
            }
        })
    }

    #[tokio::test]
    async fn invocation_records_are_described_and_anything_else_is_reported() {
        let builder = SqsEventBuilder::new()
            .message(SqsMessage::json(&invocation_record()))
            .message(SqsMessage::new("hello"));
        let response = handler(lambda_event(builder.build())).await.unwrap();
        assert_failed_items(&response, &[&builder.message_ids()[1]]);
        let record: FailureRecord = serde_json::from_value(invocation_record()).unwrap();
        assert_eq!(
            describe(&record),
            "2 record(s) 49655502019283746571650018761293848571958377116573155330..49655502019283746571650018761293848571958377116573155331 of shardId-000000000001 on arn:aws:kinesis:us-east-1:000000000000:stream/order-events failed: RetryAttemptsExhausted after 4 invocation(s)"
        );
    }

    /// Under the template's mapping and queue, invocation records are read and deleted; a stray
    /// message comes back after each visibility timeout and lands in the dead-letter queue after
    /// the queue's maxReceiveCount, without holding up the others.
    #[tokio::test]
    async fn a_stray_message_ends_in_the_dead_letter_queue_and_the_rest_are_deleted() {
        let mut sim = SqsSimulation::new(
            service_fn(handler),
            json!({"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}),
        )
        .visibility_timeout(std::time::Duration::from_secs(60))
        .redrive(3);
        sim.send_json(&invocation_record());
        sim.send("hello");
        sim.send_json(&invocation_record());
        let trace = sim.run().await;
        assert!(trace.finished);
        assert_eq!(trace.dead_letters, ["hello"]);
        assert_eq!(trace.processed().len(), 2);
        trace.assert_nothing_lost();
    }
}
