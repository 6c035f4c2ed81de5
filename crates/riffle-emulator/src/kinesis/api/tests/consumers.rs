//! RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers and
//! DeregisterStreamConsumer on a manual clock.

use std::time::Duration;

use serde_json::json;

use super::{Fixture, T0};
use crate::error::ErrorCode;
use crate::kinesis::Action;

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

fn register(f: &Fixture, name: &str) -> serde_json::Value {
    f.ok(
        Action::RegisterStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN, "ConsumerName": name }).to_string(),
    )["Consumer"]
        .clone()
}

#[test]
fn a_registered_consumer_has_an_arn_with_its_creation_second() {
    let f = Fixture::with_stream("s", 1);
    let consumer = register(&f, "lambda");
    let arn = format!("{STREAM_ARN}/consumer/lambda:{}", T0 / 1000);
    assert_eq!(consumer["ConsumerARN"], json!(arn));
    assert_eq!(consumer["ConsumerStatus"], json!("ACTIVE"));
    assert_eq!(consumer["ConsumerName"], json!("lambda"));
    assert_eq!(
        consumer["ConsumerCreationTimestamp"],
        json!(T0 as f64 / 1000.0)
    );
    // By ARN, or by stream ARN and name: the same description, with the stream's ARN.
    let by_arn = f.ok(
        Action::DescribeStreamConsumer,
        &json!({ "ConsumerARN": arn }).to_string(),
    );
    let by_name = f.ok(
        Action::DescribeStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN, "ConsumerName": "lambda" }).to_string(),
    );
    assert_eq!(by_arn, by_name);
    assert_eq!(
        by_arn["ConsumerDescription"]["StreamARN"],
        json!(STREAM_ARN)
    );
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    assert_eq!(
        summary["StreamDescriptionSummary"]["ConsumerCount"],
        json!(1)
    );
}

#[test]
fn requests_are_validated_before_anything_is_looked_up() {
    let f = Fixture::new();
    let message = f.refused(
        Action::RegisterStreamConsumer,
        r#"{"ConsumerName":"bad name"}"#,
        ErrorCode::ValidationException,
    );
    assert!(
        message.starts_with("2 validation errors detected"),
        "{message}"
    );
    assert!(message.contains("'streamARN' failed to satisfy constraint: Member must not be null"));
    let message = f.refused(
        Action::DescribeStreamConsumer,
        r#"{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}"#,
        ErrorCode::ValidationException,
    );
    assert!(message.contains("at 'consumerARN'"), "{message}");
    f.refused(
        Action::DescribeStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN }).to_string(),
        ErrorCode::InvalidArgumentException,
    );
    f.refused(
        Action::ListStreamConsumers,
        &json!({ "StreamARN": STREAM_ARN, "MaxResults": 0 }).to_string(),
        ErrorCode::ValidationException,
    );
    // Valid requests for a stream that does not exist.
    let message = f.refused(
        Action::RegisterStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN, "ConsumerName": "c" }).to_string(),
        ErrorCode::ResourceNotFoundException,
    );
    assert_eq!(message, "Stream s under account 000000000000 not found.");
}

#[test]
fn a_consumer_is_creating_for_the_status_delay_and_deleting_before_it_is_gone() {
    let f = Fixture::new();
    f.kinesis.lock().settings.create_delay_ms = 1_000;
    f.kinesis.lock().settings.delete_delay_ms = 1_000;
    f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":1}"#);
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(register(&f, "c")["ConsumerStatus"], json!("CREATING"));
    let describe = json!({ "StreamARN": STREAM_ARN, "ConsumerName": "c" }).to_string();
    let status = |f: &Fixture| {
        f.ok(Action::DescribeStreamConsumer, &describe)["ConsumerDescription"]["ConsumerStatus"]
            .clone()
    };
    f.clock.advance(Duration::from_millis(999));
    assert_eq!(status(&f), json!("CREATING"));
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(status(&f), json!("ACTIVE"));
    f.ok(Action::DeregisterStreamConsumer, &describe);
    assert_eq!(status(&f), json!("DELETING"));
    f.clock.advance(Duration::from_secs(1));
    let message = f.refused(
        Action::DescribeStreamConsumer,
        &describe,
        ErrorCode::ResourceNotFoundException,
    );
    assert_eq!(
        message,
        "Consumer c under stream s under account 000000000000 not found."
    );
}

#[test]
fn an_arn_of_an_earlier_registration_no_longer_resolves() {
    let f = Fixture::with_stream("s", 1);
    let old = register(&f, "c")["ConsumerARN"]
        .as_str()
        .unwrap()
        .to_owned();
    f.ok(
        Action::DeregisterStreamConsumer,
        &json!({ "ConsumerARN": old }).to_string(),
    );
    f.clock.advance(Duration::from_secs(2));
    let new = register(&f, "c")["ConsumerARN"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old, new);
    f.refused(
        Action::DescribeStreamConsumer,
        &json!({ "ConsumerARN": old }).to_string(),
        ErrorCode::ResourceNotFoundException,
    );
    f.ok(
        Action::DescribeStreamConsumer,
        &json!({ "ConsumerARN": new }).to_string(),
    );
}

#[test]
fn list_stream_consumers_pages_with_next_token() {
    let f = Fixture::with_stream("s", 1);
    for name in ["a", "b", "c"] {
        register(&f, name);
    }
    let page = f.ok(
        Action::ListStreamConsumers,
        &json!({ "StreamARN": STREAM_ARN, "MaxResults": 2 }).to_string(),
    );
    let names = |page: &serde_json::Value| -> Vec<String> {
        page["Consumers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ConsumerName"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&page), ["a", "b"]);
    let token = page["NextToken"].as_str().unwrap();
    let rest = f.ok(
        Action::ListStreamConsumers,
        &json!({ "StreamARN": STREAM_ARN, "NextToken": token }).to_string(),
    );
    assert_eq!(names(&rest), ["c"]);
    assert!(rest.get("NextToken").is_none());
    f.refused(
        Action::ListStreamConsumers,
        &json!({ "StreamARN": STREAM_ARN, "NextToken": "forged" }).to_string(),
        ErrorCode::InvalidArgumentException,
    );
}

#[test]
fn a_stream_with_consumers_is_deleted_only_with_enforce_consumer_deletion() {
    let f = Fixture::with_stream("s", 1);
    register(&f, "c");
    let message = f.refused(
        Action::DeleteStream,
        r#"{"StreamName":"s"}"#,
        ErrorCode::ResourceInUseException,
    );
    assert!(message.contains("EnforceConsumerDeletion"), "{message}");
    f.ok(
        Action::DeleteStream,
        r#"{"StreamName":"s","EnforceConsumerDeletion":true}"#,
    );
    f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":1}"#);
    let listed = f.ok(
        Action::ListStreamConsumers,
        &json!({ "StreamARN": STREAM_ARN }).to_string(),
    );
    assert_eq!(
        listed["Consumers"],
        json!([]),
        "the consumers went with the stream"
    );
}
