//! Invalid settings: riffle-core's rules, on the property they name.

use super::*;

/// A Kinesis event on the template's `Stream` (`Stream: !GetAtt Stream.Arn`) with `properties`
/// after it, in `resources`.
fn stream_event(resources: &str, properties: &str) -> String {
    kinesis_event(
        resources,
        &format!("            Stream: !GetAtt Stream.Arn\n{properties}"),
    )
}

#[test]
fn invalid_settings_name_the_resource_the_property_and_aws_rule() {
    let source = stream_event(
        STREAM,
        "            StartingPosition: LATEST
            ParallelizationFactor: 11
",
    );
    let report = read_err(&source);
    assert_eq!(report.errors().count(), 1, "{report}");
    let error = report.errors().next().unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "template.yaml:{}:36: error: Fn: Properties.Events.Orders.Properties.ParallelizationFactor: \
             Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have \
             value less than or equal to 10 (ValidationException)",
            line_of(&source, "ParallelizationFactor")
        )
    );
    assert!(matches!(
        error.problem,
        Problem::MappingRule {
            property: "ParallelizationFactor",
            ..
        }
    ));
}

/// rust-notes §7: `sam validate --lint` passed all of these.
#[test]
fn what_sam_validate_lint_misses_is_caught_all_at_once() {
    let source = stream_event(
        STREAM,
        "            StartingPosition: BOGUS
            MaximumRetryAttempts: 20000
            ParallelizationFactor: 11
            BisectBatchOnFunctionErrorX: true
",
    );
    let report = read_err(&source);
    let starting = find(report.errors(), "StartingPosition");
    assert_eq!(line(starting), line_of(&source, "BOGUS"));
    assert!(starting.to_string().contains(
        "Value 'BOGUS' at 'startingPosition' failed to satisfy constraint: Member must satisfy \
         enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]"
    ));
    let retries = find(report.errors(), "maximumRetryAttempts");
    assert_eq!(line(retries), line_of(&source, "20000"));
    assert!(retries.to_string().contains("less than or equal to 10000"));
    assert_error_at(&report, &source, "parallelizationFactor", ": 11");
    let typo = find(report.errors(), "BisectBatchOnFunctionErrorX");
    assert_eq!(line(typo), line_of(&source, "BisectBatchOnFunctionErrorX"));
    assert!(typo.to_string().contains(
        "property BisectBatchOnFunctionErrorX not defined for resource of type Kinesis (did you \
         mean BisectBatchOnFunctionError?)"
    ));
    assert_eq!(typo.resource.as_deref(), Some("Fn"));
    assert_eq!(report.errors().count(), 4, "{report}");
}

#[test]
fn sqs_rules_use_the_template_queue_and_function() {
    let source = sam(&format!(
        "{QUEUE}  Fifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 900
{FUNCTION}      Timeout: 120
      Events:
        Big:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 100
        Ordered:
          Type: SQS
          Properties:
            Queue: !GetAtt Fifo.Arn
            BatchSize: 20
            MaximumBatchingWindowInSeconds: 5
            StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let window = find(
        report.errors(),
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    );
    assert_eq!(line(window), line_of(&source, "Big:"));
    let visibility = find(
        report.errors(),
        "Queue visibility timeout: 60 seconds is less than Function timeout: 120 seconds",
    );
    assert_eq!(
        line(visibility),
        line_of(&source, "Queue: !GetAtt Queue.Arn")
    );
    let fifo_batch = find(report.errors(), "at 'batchSize'");
    assert_eq!(line(fifo_batch), line_of(&source, "BatchSize: 20"));
    find(
        report.errors(),
        "MaximumBatchingWindowInSeconds is not supported for FIFO queues",
    );
    let stream_only = find(report.errors(), "Unsupported StartingPosition parameter");
    assert_eq!(
        line(stream_only),
        line_of(&source, "StartingPosition: LATEST")
    );
}

#[test]
fn sam_destination_type_is_removed_and_checked() {
    let source = stream_event(
        &[STREAM, QUEUE].concat(),
        "            StartingPosition: TRIM_HORIZON
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Queue.Arn
",
    );
    let app = read_ok(&source).application;
    assert_eq!(
        app.mappings[0].properties["DestinationConfig"],
        json!({"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:jobs"}})
    );

    let report = read_err(&source.replace("Type: SQS", "Type: Lambda"));
    let error = find(report.errors(), "The only valid values for 'Type'");
    assert_eq!(line(error), line_of(&source, "Type: SQS"));
}

#[test]
fn nested_misspellings_and_wrong_types_are_located() {
    let source = stream_event(
        &[STREAM, QUEUE].concat(),
        "            StartingPosition: TRIM_HORIZON
            BatchSize: many
            FunctionResponseTypes: ReportBatchItemFailures
            DestinationConfig:
              OnFailure:
                Destinaton: !GetAtt Queue.Arn
",
    );
    let report = read_err(&source);
    let batch = find(report.errors(), "BatchSize");
    assert!(
        batch
            .to_string()
            .contains("expected an integer, found the string \"many\"")
    );
    assert_eq!(line(batch), line_of(&source, "BatchSize"));
    assert!(
        find(report.errors(), "FunctionResponseTypes")
            .to_string()
            .contains("a list of strings")
    );
    let nested = find(report.errors(), "Destinaton");
    assert_eq!(line(nested), line_of(&source, "DestinationConfig"));
    assert!(nested.to_string().contains("unknown field `Destinaton`"));
}

#[test]
fn a_stream_name_where_an_arn_belongs_gets_a_hint() {
    let source = kinesis_event(
        STREAM,
        "            Stream: !Ref Stream
            StartingPosition: LATEST
",
    );
    let report = read_err(&source);
    let error = find(report.errors(), "use !GetAtt Stream.Arn");
    assert_eq!(line(error), line_of(&source, "Stream: !Ref Stream"));
    assert_eq!(report.errors().count(), 1, "{report}");
}

#[test]
fn missing_stream_and_duplicate_mappings_are_errors() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        First:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
        Second:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: TRIM_HORIZON
        NoStream:
          Type: Kinesis
          Properties:
            StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let duplicate = find(report.errors(), "ResourceConflictException");
    assert_eq!(line(duplicate), line_of(&source, "Second:"));
    assert!(duplicate.to_string().contains("FnFirst"));
    find(report.errors(), "missing required property Stream");
}

#[test]
fn external_sources_are_warnings() {
    let source = kinesis_event(
        "",
        "            Stream: arn:aws:kinesis:us-east-1:000000000000:stream/elsewhere
            StartingPosition: LATEST
            KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/k
",
    );
    let template = read_ok(&source);
    let warning = find(&template.warnings, "is not a stream of this template");
    assert_eq!(line(warning), line_of(&source, "stream/elsewhere"));
    find(&template.warnings, "KmsKeyArn is ignored locally");
    assert_eq!(template.application.mappings.len(), 1);
}
