//! Tests of how SQS batch responses are judged.
use super::*;

#[test]
fn responses_are_judged_by_the_sqs_rules() {
    let ids = ["a", "b", "c"];
    for body in [
        "",
        "null",
        "{}",
        r#"{"batchItemFailures":[]}"#,
        r#"{"batchItemFailures":null}"#,
    ] {
        assert_eq!(judge(body.as_bytes(), &ids), Verdict::Success, "{body}");
    }
    assert_eq!(
        judge(
            br#"{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"c"}]}"#,
            &ids
        ),
        Verdict::PartialFailure(vec!["b".into(), "c".into()])
    );
    for body in [
        "not json",
        r#"{"batchItemFailures":[{"foo":"notvalid"}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
        r#"{"batchItemFailures":[{"itemIdentifier":"z"}]}"#,
    ] {
        assert!(
            matches!(judge(body.as_bytes(), &ids), Verdict::CompleteFailure(_)),
            "{body}"
        );
    }
}
