//! How a function's answer is judged: success, partial failure (ReportBatchItemFailures), or
//! complete failure, following the Lambda documentation's tables and AWS's recorded behaviour.
//!
//! Success: a null or empty body, `""`, `[]`, `{}`, or an object whose `batchItemFailures` is
//! null or empty. Partial failure: every `itemIdentifier` is a sequence number of the batch; the
//! lowest one is where processing resumes. Complete failure: anything else — an identifier that
//! is null, empty, not a string, or not in the batch, a wrong key name, a body that is not JSON,
//! or another JSON value.

use serde_json::Value;

use crate::invocation::batch_item_failures;
use crate::sequence::SequenceNumber;

/// The verdict on one successful (HTTP 200, no function error) invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every record succeeded.
    Success,
    /// Records from this sequence number on must be retried; earlier ones succeeded.
    PartialFailure(SequenceNumber),
    /// The whole batch failed.
    CompleteFailure(String),
}

/// Judges `body` for a batch holding `sequence_numbers` with ReportBatchItemFailures enabled.
pub fn judge(body: &[u8], sequence_numbers: &[SequenceNumber]) -> Verdict {
    let failures = match batch_item_failures(body, true) {
        Ok(failures) => failures,
        Err(reason) => return Verdict::CompleteFailure(reason),
    };
    let mut lowest: Option<SequenceNumber> = None;
    for item in &failures {
        let identifier = item.get("itemIdentifier");
        let Some(Value::String(text)) = identifier else {
            return Verdict::CompleteFailure(format!(
                "a batch item failure has no string itemIdentifier: {item}"
            ));
        };
        let Some(sequence_number) =
            SequenceNumber::parse(text).filter(|s| sequence_numbers.contains(s))
        else {
            return Verdict::CompleteFailure(format!(
                "itemIdentifier {text:?} is not a sequence number of the batch"
            ));
        };
        if lowest.as_ref().is_none_or(|l| sequence_number < *l) {
            lowest = Some(sequence_number);
        }
    }
    lowest.map_or(Verdict::Success, Verdict::PartialFailure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Vec<SequenceNumber> {
        ["10", "20", "30"]
            .iter()
            .map(|s| SequenceNumber::parse(s).unwrap())
            .collect()
    }

    #[test]
    fn success_shapes_from_the_docs_and_aws_observations() {
        for body in [
            "",
            "null",
            "{}",
            "\"\"",
            "[]",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            assert_eq!(judge(body.as_bytes(), &batch()), Verdict::Success, "{body}");
        }
    }

    #[test]
    fn the_lowest_reported_sequence_number_is_where_processing_resumes() {
        let body = r#"{"batchItemFailures":[{"itemIdentifier":"30"},{"itemIdentifier":"20"}]}"#;
        assert_eq!(
            judge(body.as_bytes(), &batch()),
            Verdict::PartialFailure(SequenceNumber::parse("20").unwrap())
        );
    }

    #[test]
    fn complete_failure_shapes_from_the_docs_and_aws_observations() {
        for body in [
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":123}]}"#,
            r#"{"batchItemFailures":[{"itemId":"20"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"25"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"20"},{"itemIdentifier":"nope"}]}"#,
            r#"{"batchItemFailures":"20"}"#,
            "not json",
            "42",
            "\"ok\"",
        ] {
            assert!(
                matches!(
                    judge(body.as_bytes(), &batch()),
                    Verdict::CompleteFailure(_)
                ),
                "{body}"
            );
        }
    }
}
