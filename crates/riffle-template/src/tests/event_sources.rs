//! Event source ARNs Riffle cannot read.

use super::*;

#[test]
fn stream_consumer_arns_are_refused_as_enhanced_fan_out() {
    let consumer = "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/fan:1700000000";
    let source = sam(&format!(
        "{STREAM}{FUNCTION}      Events:
        Orders:
          Type: Kinesis
          Properties:
            Stream: !Sub '${{Stream.Arn}}/consumer/fan:1700000000'
            StartingPosition: LATEST
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: {consumer}
      FunctionName: !Ref Fn
      StartingPosition: LATEST
"
    ));
    let report = read_err(&source);
    let errors: Vec<&Diagnostic> = report.errors().collect();
    assert_eq!(errors.len(), 2, "{report}");
    let event = find(errors.iter().copied(), "unsupported Stream: Enhanced");
    assert_eq!(line(event), line_of(&source, "Stream: !Sub"));
    let resource = find(
        errors.iter().copied(),
        "unsupported EventSourceArn: Enhanced",
    );
    assert_eq!(line(resource), line_of(&source, "EventSourceArn:"));
    for error in errors {
        let text = error.to_string();
        assert!(
            text.contains("Enhanced fan-out consumers are not supported yet")
                && text.contains("Use the stream's ARN, arn:aws:kinesis:us-east-1:"),
            "{text}"
        );
    }
}
