//! Event sources that are not plain streams and queues: enhanced fan-out consumers.

use super::*;

const CONSUMER: &str = "  Fan:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      StreamARN: !GetAtt Stream.Arn
      ConsumerName: fan
";

/// A template with [`STREAM`], consumer `Fan` and a LATEST mapping of `Fn` reading `stream`.
fn consumer_event(stream: &str) -> String {
    kinesis_event(
        &format!("{STREAM}{CONSUMER}"),
        &format!("            Stream: {stream}\n            StartingPosition: LATEST\n"),
    )
}

/// The one error of `source` containing `needle`, which must also say `says`.
#[track_caller]
fn error_saying(source: &str, needle: &str, says: &str) -> Diagnostic {
    let report = read_err(source);
    let error = find(report.errors(), needle).clone();
    assert!(error.to_string().contains(says), "{error}");
    error
}

#[test]
fn a_stream_consumer_is_read_and_its_arn_is_a_mappings_stream() {
    let stream = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
    let arn = format!("{stream}/consumer/fan:{}", NOW / 1000);
    let resource = sam(&format!(
        "{STREAM}{CONSUMER}{BARE_FUNCTION}  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt [Fan, ConsumerARN]
      FunctionName: !Ref Fn
      StartingPosition: LATEST
"
    ));
    for source in [
        consumer_event("!Ref Fan"),
        consumer_event("!GetAtt Fan.ConsumerARN"),
        resource,
    ] {
        let template = read_ok(&source);
        assert!(template.warnings.is_empty(), "{:?}", template.warnings);
        let app = template.application;
        assert_eq!(app.consumers.len(), 1);
        let consumer = &app.consumers[0];
        assert_eq!(
            (consumer.logical_id.as_str(), consumer.name.as_str()),
            ("Fan", "fan")
        );
        assert_eq!(consumer.stream_arn, stream);
        assert_eq!(consumer.arn, arn);
        assert_eq!(app.consumer_by_arn(&arn), Some(consumer));
        assert_eq!(app.mappings.len(), 1);
        assert_eq!(app.mappings[0].event_source_arn, arn);
    }
}

#[test]
fn a_consumer_the_template_does_not_declare_is_read_through_if_it_exists() {
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/fan:1700000000";
    let source = kinesis_event(
        "",
        &format!("            Stream: {arn}\n            StartingPosition: LATEST\n"),
    );
    let template = read_ok(&source);
    assert_eq!(template.application.mappings[0].event_source_arn, arn);
    let warning = find(
        &template.warnings,
        "is not a stream consumer of this template",
    );
    assert!(
        warning.to_string().contains("Riffle does not register it"),
        "{warning}"
    );
}

#[test]
fn a_stream_consumer_needs_a_stream_arn_and_a_valid_name() {
    let source = sam(&format!(
        "{STREAM}  NoStream:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      ConsumerName: lonely
  BadName:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      StreamARN: !GetAtt Stream.Arn
      ConsumerName: 'has space'
  NotAStream:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      StreamARN: !Ref Stream
      ConsumerName: fan
      Shards: 2
"
    ));
    let report = read_err(&source);
    assert_error_at(
        &report,
        &source,
        "required property StreamARN",
        "  NoStream:",
    );
    assert_error_at(
        &report,
        &source,
        "invalid value has space",
        "ConsumerName: 'has space'",
    );
    assert_error_at(
        &report,
        &source,
        "must be a Kinesis stream ARN",
        "StreamARN: !Ref Stream",
    );
    assert_error_at(&report, &source, "Shards", "Shards: 2");
    assert_eq!(report.errors().count(), 4, "{report}");
}

#[test]
fn a_consumers_name_as_a_mappings_stream_says_which_attribute_to_use() {
    let source = consumer_event("!GetAtt Fan.ConsumerName");
    let says = "use !GetAtt Fan.ConsumerARN or !Ref Fan";
    let error = error_saying(&source, "ConsumerARN", says);
    let at = line_of(&source, "Stream: !GetAtt Fan.ConsumerName");
    assert_eq!(line(&error), at);
}

#[test]
fn a_consumer_attribute_riffle_does_not_know_is_reported_with_the_known_ones() {
    let source = consumer_event("!GetAtt Fan.Arn");
    error_saying(&source, "Fan.Arn", "ConsumerARN, ConsumerName, StreamARN");
}
