use serde_json::json;

use super::{Fixture, T0};
use crate::error::ErrorCode;
use crate::kinesis::Action;

#[test]
fn create_stream_validates_the_name_and_needs_a_shard_count_when_provisioned() {
    let f = Fixture::new();
    let message = f.refused(
        Action::CreateStream,
        r#"{"StreamName":"bad name","ShardCount":0}"#,
        ErrorCode::ValidationException,
    );
    assert_eq!(
        message,
        "2 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' \
         at 'shardCount' failed to satisfy constraint: Member must have value greater than or \
         equal to 1"
    );
    assert_eq!(
        f.refused(
            Action::CreateStream,
            r#"{"StreamName":"s"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "ShardCount is required for a stream in PROVISIONED mode."
    );
    assert_eq!(
        f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":2}"#),
        serde_json::Value::Null
    );
    assert_eq!(
        f.refused(
            Action::CreateStream,
            r#"{"StreamName":"s","ShardCount":2}"#,
            ErrorCode::ResourceInUseException
        ),
        "Stream s under account 000000000000 already exists."
    );
}

#[test]
fn describe_stream_summary_answers_awss_shape() {
    let f = Fixture::with_stream("s", 3);
    let summary =
        &f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#)["StreamDescriptionSummary"];
    assert_eq!(
        summary["StreamARN"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    );
    assert_eq!(summary["StreamStatus"], "ACTIVE");
    assert_eq!(summary["OpenShardCount"], 3);
    assert_eq!(summary["RetentionPeriodHours"], 24);
    assert_eq!(
        summary["StreamCreationTimestamp"],
        json!(T0 as f64 / 1000.0)
    );
}

#[test]
fn a_stream_is_named_by_name_or_arn_and_a_foreign_arn_is_not_found() {
    let f = Fixture::with_stream("s", 1);
    let by_arn = f.ok(
        Action::DescribeStream,
        r#"{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}"#,
    );
    assert_eq!(by_arn["StreamDescription"]["StreamName"], "s");
    assert_eq!(
        f.refused(
            Action::DescribeStream,
            r#"{"StreamARN":"arn:aws:kinesis:eu-west-1:111111111111:stream/s"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Stream s under account 111111111111 not found."
    );
    assert_eq!(
        f.refused(Action::DescribeStream, "{}", ErrorCode::ValidationException),
        "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: \
         Member must not be null",
        "as AWS's recording (kinesalite's suite) answers"
    );
    let message = f.refused(
        Action::DescribeStream,
        r#"{"StreamARN":"not-an-arn"}"#,
        ErrorCode::ValidationException,
    );
    assert!(
        message.ends_with(
            "Member must satisfy regular expression pattern: \
             arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"
        ),
        "{message}"
    );
}

#[test]
fn describe_stream_pages_its_shards() {
    let f = Fixture::with_stream("s", 3);
    let page =
        &f.ok(Action::DescribeStream, r#"{"StreamName":"s","Limit":2}"#)["StreamDescription"];
    assert_eq!(page["HasMoreShards"], true);
    assert_eq!(page["Shards"][1]["ShardId"], "shardId-000000000001");
    let rest = &f.ok(
        Action::DescribeStream,
        r#"{"StreamName":"s","ExclusiveStartShardId":"shardId-000000000001"}"#,
    )["StreamDescription"];
    assert_eq!(rest["HasMoreShards"], false);
    assert_eq!(rest["Shards"].as_array().unwrap().len(), 1);
}

#[test]
fn list_streams_pages_with_a_token_that_expires() {
    let f = Fixture::new();
    for name in ["a", "b", "c"] {
        f.ok(
            Action::CreateStream,
            &format!(r#"{{"StreamName":"{name}","ShardCount":1}}"#),
        );
    }
    let first = f.ok(Action::ListStreams, r#"{"Limit":2}"#);
    assert_eq!(first["StreamNames"], json!(["a", "b"]));
    assert_eq!(first["HasMoreStreams"], true);
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let second = f.ok(
        Action::ListStreams,
        &format!(r#"{{"NextToken":"{token}"}}"#),
    );
    assert_eq!(second["StreamNames"], json!(["c"]));
    assert_eq!(
        f.refused(
            Action::ListStreams,
            r#"{"NextToken":"forged"}"#,
            ErrorCode::InvalidArgumentException
        ),
        "Invalid NextToken: forged"
    );
    f.clock.advance(std::time::Duration::from_secs(301));
    assert_eq!(
        f.refused(
            Action::ListStreams,
            &format!(r#"{{"NextToken":"{token}"}}"#),
            ErrorCode::ExpiredNextTokenException
        ),
        format!("The NextToken has expired: {token}")
    );
}

#[test]
fn delete_stream_removes_it_and_describe_limits_counts_what_is_left() {
    let f = Fixture::with_stream("s", 2);
    f.ok(Action::CreateStream, r#"{"StreamName":"t","ShardCount":3}"#);
    assert_eq!(
        f.ok(Action::DeleteStream, r#"{"StreamName":"s"}"#),
        serde_json::Value::Null
    );
    assert_eq!(
        f.refused(
            Action::DeleteStream,
            r#"{"StreamName":"s"}"#,
            ErrorCode::ResourceNotFoundException
        ),
        "Stream s under account 000000000000 not found."
    );
    assert_eq!(
        f.ok(Action::DescribeLimits, "{}"),
        json!({
            "ShardLimit": 500,
            "OpenShardCount": 3,
            "OnDemandStreamCount": 0,
            "OnDemandStreamCountLimit": 50,
        })
    );
}
