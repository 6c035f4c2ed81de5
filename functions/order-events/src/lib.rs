//! The order-events handler: reads order events from a Kinesis stream and reports each record it
//! cannot process as a batch item failure, so the event source mapping retries from the first
//! failure (and, with bisecting and an on-failure destination, isolates a poison record).
//!
//! A record is an order event in JSON: `{"orderId": "o-1", "amount_cents": 1250, "currency":
//! "EUR"}`. A record is a failure when it is not such JSON, or its amount is negative.

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use serde::Deserialize;

/// One order event as producers write it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderEvent {
    /// The order's id.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// Amount in the currency's minor unit.
    pub amount_cents: i64,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// Why a record could not be processed.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The data is not an order event.
    Malformed(String),
    /// The amount is negative.
    NegativeAmount(i64),
}

/// Processes one record.
pub fn process(record: &KinesisEventRecord) -> Result<OrderEvent, RecordError> {
    let event: OrderEvent = serde_json::from_slice(&record.kinesis.data)
        .map_err(|e| RecordError::Malformed(e.to_string()))?;
    if event.amount_cents < 0 {
        return Err(RecordError::NegativeAmount(event.amount_cents));
    }
    Ok(event)
}

/// The Lambda handler: processes every record and reports the failed ones by sequence number.
pub async fn handler(event: LambdaEvent<KinesisEvent>) -> Result<KinesisEventResponse, Error> {
    let mut response = KinesisEventResponse::default();
    for record in &event.payload.records {
        match process(record) {
            Ok(order) => tracing::info!(order_id = %order.order_id, "order processed"),
            Err(error) => {
                tracing::warn!(sequence_number = %record.kinesis.sequence_number, ?error, "record failed");
                let mut failure = KinesisBatchItemFailure::default();
                failure.item_identifier = Some(record.kinesis.sequence_number.clone());
                response.batch_item_failures.push(failure);
            }
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;

    fn record(sequence_number: &str, data: &str) -> KinesisEventRecord {
        let mut record = KinesisEventRecord::default();
        record.kinesis.sequence_number = sequence_number.to_owned();
        record.kinesis.partition_key = "order".to_owned();
        record.kinesis.data.0 = data.as_bytes().to_vec();
        record
    }

    fn event(records: Vec<KinesisEventRecord>) -> LambdaEvent<KinesisEvent> {
        let mut payload = KinesisEvent::default();
        payload.records = records;
        LambdaEvent::new(payload, Context::default())
    }

    #[tokio::test]
    async fn a_clean_batch_reports_no_failures() {
        let ok = r#"{"orderId":"o-1","amount_cents":1250,"currency":"EUR"}"#;
        let response = handler(event(vec![record("1", ok), record("2", ok)]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
    }

    #[tokio::test]
    async fn malformed_and_negative_records_are_reported_by_sequence_number() {
        let ok = r#"{"orderId":"o-1","amount_cents":1250,"currency":"EUR"}"#;
        let negative = r#"{"orderId":"o-2","amount_cents":-5,"currency":"EUR"}"#;
        let records = vec![
            record("1", ok),
            record("2", "not json"),
            record("3", negative),
        ];
        let response = handler(event(records)).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, [Some("2".to_owned()), Some("3".to_owned())]);
    }

    #[test]
    fn process_parses_an_order_event() {
        let parsed = process(&record(
            "1",
            r#"{"orderId":"o-9","amount_cents":0,"currency":"USD"}"#,
        ));
        assert_eq!(
            parsed,
            Ok(OrderEvent {
                order_id: "o-9".into(),
                amount_cents: 0,
                currency: "USD".into()
            })
        );
        assert_eq!(
            process(&record(
                "1",
                r#"{"orderId":"o-9","amount_cents":-1,"currency":"USD"}"#
            )),
            Err(RecordError::NegativeAmount(-1))
        );
    }
}
