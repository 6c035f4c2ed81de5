//! AWS::Lambda::EventSourceMapping resources.

use super::*;

#[test]
fn event_source_mapping_resources_are_read_like_events() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}{FUNCTION}  StreamMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 1700000000
      TumblingWindowInSeconds: '30'
      Tags: [{{Key: team, Value: a}}]
  QueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !GetAtt Fn.Arn
      BatchSize: 5
      ScalingConfig: {{MaximumConcurrency: '4'}}
      Enabled: false
"
    ));
    let app = read_ok(&source).application;
    let stream_mapping = &app.mappings[0];
    assert_eq!(stream_mapping.logical_id, "StreamMapping");
    assert_eq!(stream_mapping.function, "Fn");
    let MappingConfig::Kinesis(config) = &stream_mapping.config else {
        panic!("a Kinesis mapping");
    };
    assert_eq!(
        config.starting_position,
        StartingPosition::AtTimestamp(1_700_000_000_000)
    );
    assert_eq!(config.tumbling_window_ms, Some(30_000));
    let MappingConfig::Sqs(config) = &app.mappings[1].config else {
        panic!("an SQS mapping");
    };
    assert_eq!(config.maximum_concurrency, Some(4));
    assert!(!config.enabled);
    assert_eq!(
        app.mappings[1].properties["FunctionName"],
        json!("riffle-Fn")
    );
}

#[test]
fn event_source_mapping_resources_report_what_they_cannot_run() {
    let source = sam(&format!(
        "{STREAM}{FUNCTION}  Unknown:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: not-in-this-template
      StartingPosition: LATEST
  Scaling:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: LATEST
      ScalingConfig: {{MaximumConcurrency: 2}}
      Topics: [t]
  Dynamo:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x
      FunctionName: !Ref Fn
  Future:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Stream.Arn
      FunctionName: !Ref Fn
      StartingPosition: AT_TIMESTAMP
      StartingPositionTimestamp: 4102444800
"
    ));
    let report = read_err(&source);
    let function = find(report.errors(), "not-in-this-template");
    assert_eq!(line(function), line_of(&source, "not-in-this-template"));
    assert_error_at(&report, &source, "ScalingConfig", "ScalingConfig");
    assert_error_at(&report, &source, "Topics", "Topics");
    assert_error_at(&report, &source, "dynamodb source", "arn:aws:dynamodb");
    let future = find(report.errors(), "cannot be in the future");
    assert_eq!(line(future), line_of(&source, "4102444800"));
}
