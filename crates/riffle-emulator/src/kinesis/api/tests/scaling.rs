//! UpdateStreamMode, and UpdateShardCount's limits.

use std::time::Duration;

use serde_json::json;

use super::Fixture;
use crate::error::ErrorCode;
use crate::kinesis::Action;

const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

fn mode(to: &str) -> String {
    json!({ "StreamARN": ARN, "StreamModeDetails": { "StreamMode": to } }).to_string()
}

fn scale(to: u32) -> String {
    json!({ "StreamName": "s", "TargetShardCount": to, "ScalingType": "UNIFORM_SCALING" })
        .to_string()
}

/// A fixture whose store keeps a stream `UPDATING` for `delay_ms` after a change.
fn with_update_delay(delay_ms: u64) -> Fixture {
    let f = Fixture::with_settings(|s| s.update_delay_ms = delay_ms);
    f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":2}"#);
    f
}

fn stream_mode(f: &Fixture) -> (String, String) {
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    let summary = &summary["StreamDescriptionSummary"];
    (
        summary["StreamModeDetails"]["StreamMode"]
            .as_str()
            .unwrap()
            .to_owned(),
        summary["StreamStatus"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_mode_switch_keeps_the_stream_updating_for_the_status_delay() {
    let f = with_update_delay(1_000);
    f.ok(Action::UpdateStreamMode, &mode("ON_DEMAND"));
    assert_eq!(stream_mode(&f), ("ON_DEMAND".into(), "UPDATING".into()));
    // Not ACTIVE: another change is refused until the delay has passed.
    let message = f.refused(
        Action::UpdateStreamMode,
        &mode("PROVISIONED"),
        ErrorCode::ResourceInUseException,
    );
    assert_eq!(
        message,
        "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING"
    );
    f.clock.advance(Duration::from_millis(1_000));
    assert_eq!(stream_mode(&f), ("ON_DEMAND".into(), "ACTIVE".into()));
    // Every description shows the mode; the shards are kept.
    let described = f.ok(Action::DescribeStream, r#"{"StreamName":"s"}"#);
    let described = &described["StreamDescription"];
    assert_eq!(
        described["StreamModeDetails"],
        json!({ "StreamMode": "ON_DEMAND" })
    );
    assert_eq!(described["Shards"].as_array().unwrap().len(), 2);
    let listed = f.ok(Action::ListStreams, "{}");
    assert_eq!(
        listed["StreamSummaries"][0]["StreamModeDetails"],
        json!({ "StreamMode": "ON_DEMAND" })
    );
    let limits = f.ok(Action::DescribeLimits, "{}");
    assert_eq!(limits["OnDemandStreamCount"], 1);
    f.ok(Action::UpdateStreamMode, &mode("PROVISIONED"));
    f.clock.advance(Duration::from_millis(1_000));
    assert_eq!(stream_mode(&f), ("PROVISIONED".into(), "ACTIVE".into()));
}

#[test]
fn a_stream_switches_mode_twice_per_rolling_day() {
    let f = Fixture::with_stream("s", 1);
    f.ok(Action::UpdateStreamMode, &mode("ON_DEMAND"));
    f.clock.advance(Duration::from_secs(3_600));
    f.ok(Action::UpdateStreamMode, &mode("PROVISIONED"));
    f.clock.advance(Duration::from_secs(3_600));
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            &mode("ON_DEMAND"),
            ErrorCode::LimitExceededException
        ),
        "Stream s under account 000000000000 has already switched capacity mode 2 times in the \
         last 24 hours, the most allowed per rolling 24-hour period."
    );
    // A day after the first switch, one is allowed again.
    f.clock.advance(Duration::from_secs(22 * 3_600));
    f.ok(Action::UpdateStreamMode, &mode("ON_DEMAND"));
}

#[test]
fn update_stream_mode_is_validated_in_awss_words() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            "{}",
            ErrorCode::ValidationException
        ),
        "2 validation errors detected: Value null at 'streamARN' failed to satisfy constraint: \
         Member must not be null; Value null at 'streamModeDetails' failed to satisfy \
         constraint: Member must not be null"
    );
    let bad = json!({ "StreamARN": ARN, "StreamModeDetails": { "StreamMode": "FAST" } });
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            &bad.to_string(),
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to \
         satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"
    );
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            &mode("PROVISIONED"),
            ErrorCode::InvalidArgumentException
        ),
        "Stream s under account 000000000000 is already in PROVISIONED mode."
    );
    let other = json!({
        "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/nope",
        "StreamModeDetails": { "StreamMode": "ON_DEMAND" },
    });
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            &other.to_string(),
            ErrorCode::ResourceNotFoundException
        ),
        "Stream nope under account 000000000000 not found."
    );
}

#[test]
fn switching_to_on_demand_counts_against_the_on_demand_stream_limit() {
    let f = Fixture::with_settings(|s| s.on_demand_stream_limit = 1);
    f.ok(
        Action::CreateStream,
        r#"{"StreamName":"od","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"#,
    );
    f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":1}"#);
    assert_eq!(
        f.refused(
            Action::UpdateStreamMode,
            &mode("ON_DEMAND"),
            ErrorCode::LimitExceededException
        ),
        "This request would exceed the on-demand stream limit of 1 for the account \
         000000000000."
    );
}

#[test]
fn an_on_demand_stream_has_four_shards_and_refuses_update_shard_count() {
    let f = Fixture::new();
    f.ok(
        Action::CreateStream,
        r#"{"StreamName":"s","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}"#,
    );
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 4);
    assert_eq!(
        f.refused(
            Action::UpdateShardCount,
            &scale(8),
            ErrorCode::ValidationException
        ),
        "UpdateShardCount is not supported for stream s under account 000000000000 because it \
         is in ON_DEMAND capacity mode."
    );
    // Back in PROVISIONED mode it scales.
    f.ok(Action::UpdateStreamMode, &mode("PROVISIONED"));
    f.ok(Action::UpdateShardCount, &scale(8));
}

#[test]
fn update_shard_count_takes_ten_calls_per_rolling_day() {
    let f = Fixture::with_stream("s", 1);
    for i in 0..10 {
        f.ok(
            Action::UpdateShardCount,
            &scale(if i % 2 == 0 { 2 } else { 1 }),
        );
        f.clock.advance(Duration::from_secs(60));
    }
    assert_eq!(
        f.refused(
            Action::UpdateShardCount,
            &scale(2),
            ErrorCode::LimitExceededException
        ),
        "Stream s under account 000000000000 has already been scaled 10 times in the last 24 \
         hours, the most UpdateShardCount allows per rolling 24-hour period."
    );
    // Once the first call is a day old, one more is allowed.
    f.clock.advance(Duration::from_secs(24 * 3_600 - 600));
    f.ok(Action::UpdateShardCount, &scale(2));
    f.refused(
        Action::UpdateShardCount,
        &scale(1),
        ErrorCode::LimitExceededException,
    );
}

#[test]
fn update_shard_count_stays_within_the_stream_and_account_limits() {
    let f = Fixture::with_settings(|s| s.shard_limit = 30_000);
    f.ok(
        Action::CreateStream,
        r#"{"StreamName":"s","ShardCount":6000}"#,
    );
    assert_eq!(
        f.refused(
            Action::UpdateShardCount,
            &scale(10_001),
            ErrorCode::LimitExceededException
        ),
        "UpdateShardCount cannot scale stream s under account 000000000000 up to more than \
         10000 shards. Current open shard count: 6000, requested: 10001."
    );
    // The account's shard limit (500 by default) counts the shards a scale-up adds.
    let f = Fixture::with_stream("s", 300);
    let message = f.refused(
        Action::UpdateShardCount,
        &scale(600),
        ErrorCode::LimitExceededException,
    );
    assert!(
        message.starts_with("This request would exceed the shard limit"),
        "{message}"
    );
    // Below half or over double is refused as before.
    f.refused(
        Action::UpdateShardCount,
        &scale(149),
        ErrorCode::InvalidArgumentException,
    );
    // The result is an even split, as AWS lays it out.
    f.ok(Action::UpdateShardCount, &scale(450));
    let summary = f.ok(Action::DescribeStreamSummary, r#"{"StreamName":"s"}"#);
    assert_eq!(summary["StreamDescriptionSummary"]["OpenShardCount"], 450);
}
