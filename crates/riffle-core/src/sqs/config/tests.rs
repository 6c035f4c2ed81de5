//! Tests of SQS mapping validation.
use super::*;
use crate::config::{ConfigErrorKind, RawFilterCriteria};

fn facts() -> SqsFacts {
    SqsFacts {
        fifo: false,
        visibility_timeout_seconds: 30,
        function_timeout_seconds: 3,
    }
}

fn raw() -> RawSqsMapping {
    RawSqsMapping {
        event_source_arn: Some("arn:aws:sqs:us-east-1:000000000000:jobs".into()),
        function_name: Some("f".into()),
        ..RawSqsMapping::default()
    }
}

#[test]
fn defaults_are_aws_defaults() {
    let config = raw().validate(facts()).unwrap();
    assert_eq!((config.batch_size, config.batching_window_ms), (10, 0));
    assert!(config.enabled && !config.report_batch_item_failures);
    assert_eq!(config.maximum_concurrency, None);
}

#[test]
fn batch_size_over_ten_needs_a_batching_window_with_aws_message() {
    let mut config = raw();
    config.batch_size = Some(11);
    let errors = config.validate(facts()).unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    );
    config.maximum_batching_window_in_seconds = Some(1);
    assert_eq!(config.validate(facts()).unwrap().batch_size, 11);
}

#[test]
fn fifo_queues_take_at_most_ten_and_no_window() {
    let fifo = SqsFacts {
        fifo: true,
        ..facts()
    };
    let mut config = raw();
    config.batch_size = Some(11);
    config.maximum_batching_window_in_seconds = Some(1);
    let errors = config.validate(fifo).unwrap_err();
    let properties: Vec<&str> = errors.0.iter().map(|e| e.property).collect();
    assert_eq!(properties, ["BatchSize", "MaximumBatchingWindowInSeconds"]);
}

#[test]
fn visibility_timeout_shorter_than_the_function_timeout_is_refused() {
    let errors = raw()
        .validate(SqsFacts {
            visibility_timeout_seconds: 10,
            function_timeout_seconds: 30,
            ..facts()
        })
        .unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "Queue visibility timeout: 10 seconds is less than Function timeout: 30 seconds"
    );
}

#[test]
fn maximum_concurrency_and_stream_only_properties_are_checked() {
    let mut config = raw();
    config.scaling_config = Some(RawScalingConfig {
        maximum_concurrency: Some(1),
    });
    config.parallelization_factor = Some(serde_json::json!(2));
    config.destination_config = Some(serde_json::json!({"OnFailure": {}}));
    let errors = config.validate(facts()).unwrap_err();
    let properties: Vec<&str> = errors.0.iter().map(|e| e.property).collect();
    assert_eq!(
        properties,
        [
            "ParallelizationFactor",
            "DestinationConfig",
            "ScalingConfig"
        ]
    );
    assert_eq!(
        errors.0[1].message,
        "Unsupported DestinationConfig parameter for given event source mapping type."
    );
}

/// A pattern of `length` characters that matches bodies `{"k": "xx…"}`.
fn pattern_of_length(length: usize) -> String {
    let frame = r#"{"body":{"k":[""]}}"#.len();
    format!(r#"{{"body":{{"k":["{}"]}}}}"#, "x".repeat(length - frame))
}

fn with_filters(patterns: Vec<String>) -> RawSqsMapping {
    let mut raw = raw();
    raw.filter_criteria = Some(RawFilterCriteria {
        filters: Some(
            patterns
                .into_iter()
                .map(|p| crate::config::RawFilter { pattern: Some(p) })
                .collect(),
        ),
    });
    raw
}

#[test]
fn sqs_mappings_refuse_more_than_five_filters_as_kinesis_mappings_do() {
    let five = with_filters(vec![r#"{"body":{"k":["a"]}}"#.to_owned(); 5]);
    assert_eq!(five.validate(facts()).unwrap().filter_patterns.len(), 5);
    let six = with_filters(vec![r#"{"body":{"k":["a"]}}"#.to_owned(); 6]);
    let errors = six.validate(facts()).unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, ConfigErrorKind::InvalidParameterValue);
    assert_eq!(
        errors[0].message,
        "The number of filters (6) exceeds the limit of 5 per event source mapping."
    );
}

#[test]
fn sqs_filter_patterns_of_4096_characters_pass_and_longer_ones_fail_the_model_constraint() {
    let exact = pattern_of_length(4096);
    assert_eq!(exact.len(), 4096);
    let config = with_filters(vec![exact]).validate(facts()).unwrap();
    assert_eq!(config.filter_patterns.len(), 1);
    let long = pattern_of_length(4097);
    let errors = with_filters(vec![r#"{"body":["a"]}"#.to_owned(), long.clone()])
        .validate(facts())
        .unwrap_err()
        .0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, ConfigErrorKind::Validation);
    assert_eq!(
        errors[0].message,
        format!(
            "Value '{long}' at 'filterCriteria.filters.2.member.pattern' failed to satisfy \
             constraint: Member must have length less than or equal to 4096"
        )
    );
    // Characters, not bytes: 4096 two-byte characters are within the limit.
    let wide = format!(r#"{{"body":["{}"]}}"#, "é".repeat(4096 - 13));
    assert_eq!(wide.chars().count(), 4096);
    assert!(with_filters(vec![wide]).validate(facts()).is_ok());
}
