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
    use lambda_runtime::service_fn;
    use riffle_testkit::{
        Fault, Faults, KinesisEventBuilder, KinesisSimulation, assert_failed_items, lambda_event,
    };
    use serde_json::json;

    fn order(id: &str, amount_cents: i64) -> serde_json::Value {
        json!({"orderId": id, "amount_cents": amount_cents, "currency": "EUR"})
    }

    #[tokio::test]
    async fn a_clean_batch_reports_no_failures() {
        let event = KinesisEventBuilder::new()
            .json_record("o-1", &order("o-1", 1250))
            .json_record("o-2", &order("o-2", 99))
            .build();
        let response = handler(lambda_event(event)).await.unwrap();
        assert_failed_items(&response, &[]);
    }

    #[tokio::test]
    async fn malformed_and_negative_records_are_reported_by_sequence_number() {
        let builder = KinesisEventBuilder::new()
            .json_record("o-1", &order("o-1", 1250))
            .record("o-2", "not json")
            .json_record("o-3", &order("o-3", -5));
        let seqs = builder.sequence_numbers();
        let response = handler(lambda_event(builder.build())).await.unwrap();
        assert_failed_items(&response, &[&seqs[1], &seqs[2]]);
    }

    #[test]
    fn process_parses_an_order_event() {
        let event = KinesisEventBuilder::new()
            .json_record("o-9", &order("o-9", 0))
            .json_record("o-9", &order("o-9", -1))
            .build();
        assert_eq!(
            process(&event.records[0]),
            Ok(OrderEvent {
                order_id: "o-9".into(),
                amount_cents: 0,
                currency: "EUR".into()
            })
        );
        assert_eq!(
            process(&event.records[1]),
            Err(RecordError::NegativeAmount(-1))
        );
    }

    /// The mapping of the repository's template.yaml, as `riffle local` reads it.
    fn template_mapping() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let source = std::fs::read_to_string(path).expect("the repository's template.yaml");
        let template = riffle_template::read(&source, &riffle_template::Options::new(path, 0))
            .expect("template.yaml reads");
        (template.application.mappings.into_iter())
            .find(|m| m.logical_id == "OrderEventsFunctionOrders")
            .expect("the order events mapping")
            .properties
    }

    /// Puts 40 orders over seven keys, the 18th replaced by `bad`: the bad record's sequence
    /// number.
    fn put_orders_around<H>(sim: &mut KinesisSimulation<H>, bad: &str) -> String {
        let mut bad_sequence = String::new();
        for n in 0..40 {
            let id = format!("o-{}", n % 7);
            if n == 17 {
                bad_sequence = sim.put(&id, bad);
            } else {
                sim.put_json(&id, &order(&id, n));
            }
        }
        bad_sequence
    }

    /// Under the template's mapping, a reported record is retried from its position: its batch
    /// is split at it, so only it and the records behind it in that batch are retried, and when
    /// the retries run out they all go to the failure queue together, as on Lambda. Records
    /// before it, and every later batch, are processed.
    #[tokio::test]
    async fn a_reported_record_takes_the_rest_of_its_batch_to_the_failure_queue() {
        let mut sim = KinesisSimulation::new(service_fn(handler), template_mapping());
        let poison = put_orders_around(&mut sim, "{not an order");
        let trace = sim.run().await;
        assert!(trace.finished);
        let first = trace
            .invocations
            .iter()
            .find(|i| i.ids().contains(&poison.as_str()))
            .expect("the poison record was invoked");
        let from = first.ids().iter().position(|id| *id == poison).unwrap();
        let expected: Vec<&str> = first.ids()[from..].to_vec();
        trace.assert_in_destination(&expected, "RetryAttemptsExhausted");
        assert_eq!(
            trace
                .invocations
                .iter()
                .filter(|i| i.ids().contains(&poison.as_str()))
                .count(),
            4,
            "MaximumRetryAttempts 3: four invocations, the first one the whole batch"
        );
        trace.assert_nothing_lost();
        trace.assert_order_per_key();
    }

    /// If processing a record crashes the function instead (an unhandled error, a timeout),
    /// BisectBatchOnFunctionError halves the batch until that record is alone: it goes to the
    /// failure queue by itself and all its neighbours are processed.
    #[tokio::test]
    async fn a_crashing_record_is_bisected_out_alone() {
        let mut sim = KinesisSimulation::new(service_fn(handler), template_mapping())
            .shards(2)
            .faults(Faults::new().when_record(
                |r| r.data == b"crash",
                Fault::Error("Runtime.ExitError".into()),
            ));
        let crash = put_orders_around(&mut sim, "crash");
        let trace = sim.run().await;
        trace.assert_in_destination(&[&crash], "RetryAttemptsExhausted");
        assert_eq!(trace.processed().len(), 39, "every neighbour was processed");
        assert!(trace.bisects() > 0);
        trace.assert_nothing_lost();
        trace.assert_order_per_key();
    }
}
