//! The machine writes whatever event format it is given: a toy format stands in for another
//! stream's (DynamoDB Streams, enhanced fan-out) without a change to the machine.

use super::*;
use crate::kinesis::config::RawKinesisMapping;

/// `{"Records":[{"n":"<sequence number>"},…]}`; failure records as Kinesis writes them, for a
/// shard named `plain`.
#[derive(Debug, Clone)]
struct Plain;

impl EventFormat for Plain {
    fn record_len(&self, record: &StreamRecord) -> usize {
        r#"{"n":""}"#.len() + record.sequence_number.as_str().len()
    }

    fn event<'a>(
        &self,
        records: impl IntoIterator<Item = &'a StreamRecord>,
        capacity: usize,
    ) -> String {
        let mut out = String::with_capacity(capacity);
        out.push_str("{\"Records\":[");
        for (i, record) in records.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(r#"{{"n":"{}"}}"#, record.sequence_number));
        }
        out.push_str("]}");
        out
    }

    fn windowed(&self, event: &str, _: &WindowFields<'_>) -> String {
        event.to_owned()
    }

    fn window_fields_len(&self, _: Millis, _: Millis, _: usize) -> usize {
        0
    }

    fn failure_record(&self, discard: Discard<'_>) -> FailureRecord {
        let source = EventSource {
            shard_id: "plain".into(),
            ..settings().source
        };
        source.failure_record(discard)
    }
}

#[test]
fn the_machine_invokes_with_and_discards_in_the_format_it_is_given() {
    let config = RawKinesisMapping {
        event_source_arn: Some("arn:aws:kinesis:us-east-1:000000000000:stream/s".into()),
        function_name: Some("f".into()),
        starting_position: Some("TRIM_HORIZON".into()),
        maximum_retry_attempts: Some(0),
        destination_config: Some(crate::config::RawDestinationConfig {
            on_failure: Some(crate::config::RawDestination {
                destination: Some("arn:aws:sqs:us-east-1:000000000000:dlq".into()),
            }),
            on_success: None,
        }),
        ..RawKinesisMapping::default()
    }
    .validate(T0)
    .unwrap();
    let settings = ShardSettings::new(&config, Plain, "arn:f".into(), 86_400_000);
    let mut shard = Shard::new(settings, None, T0);
    let effects = shard.records_polled(vec![record(7, "k", T0), record(9, "k", T0)], T0);
    let Some(Effect::Invoke { batch, payload, .. }) = effects.last() else {
        panic!("{effects:?}");
    };
    assert_eq!(payload, r#"{"Records":[{"n":"7"},{"n":"9"}]}"#);
    let invocation = Invocation {
        request_id: "req".into(),
        outcome: Outcome::function_error("Error", ""),
    };
    let effects = shard.invocation_finished(0, *batch, invocation, T0);
    let delivered = effects.iter().find_map(|e| match e {
        Effect::Deliver { record, .. } => Some(record),
        _ => None,
    });
    let record = delivered.unwrap_or_else(|| panic!("{effects:?}"));
    assert_eq!(
        (
            record.shard_id.as_str(),
            record.batch_size,
            record.start_sequence_number.as_str()
        ),
        ("plain", 2, "7")
    );
}
