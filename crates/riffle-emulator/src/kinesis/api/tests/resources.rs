//! TagResource, UntagResource, ListTagsForResource and the resource policy operations.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Fixture, T0};
use crate::clock::ManualClock;
use crate::error::ErrorCode;
use crate::kinesis::Action;
use crate::kinesis::api::Kinesis;
use crate::kinesis::store::{KinesisStore, StoreSettings};
use crate::persist::{self, State, StateRef};
use crate::sqs::store::{SqsStore, StoreSettings as SqsSettings};

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";

fn body(arn: &str, rest: Value) -> String {
    let mut body = json!({ "ResourceARN": arn });
    body.as_object_mut()
        .unwrap()
        .extend(rest.as_object().unwrap().clone());
    body.to_string()
}

/// A stream `s` with a registered consumer `c`; the consumer's ARN.
fn with_consumer() -> (Fixture, String) {
    let f = Fixture::with_stream("s", 1);
    let out = f.ok(
        Action::RegisterStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN, "ConsumerName": "c" }).to_string(),
    );
    let arn = out["Consumer"]["ConsumerARN"].as_str().unwrap().to_owned();
    (f, arn)
}

#[test]
fn a_stream_tagged_by_arn_has_the_tags_of_add_tags_to_stream() {
    let f = Fixture::with_stream("s", 1);
    f.ok(
        Action::TagResource,
        &body(STREAM_ARN, json!({ "Tags": { "b": "2", "a": "1" } })),
    );
    f.ok(
        Action::AddTagsToStream,
        r#"{"StreamName":"s","Tags":{"c":"3"}}"#,
    );
    let listed = f.ok(Action::ListTagsForResource, &body(STREAM_ARN, json!({})));
    assert_eq!(
        listed,
        json!({ "Tags": [
            { "Key": "a", "Value": "1" },
            { "Key": "b", "Value": "2" },
            { "Key": "c", "Value": "3" },
        ]})
    );
    f.ok(
        Action::UntagResource,
        &body(STREAM_ARN, json!({ "TagKeys": ["a", "c"] })),
    );
    let by_stream = f.ok(Action::ListTagsForStream, r#"{"StreamName":"s"}"#);
    assert_eq!(by_stream["Tags"], json!([{ "Key": "b", "Value": "2" }]));
}

#[test]
fn a_consumer_is_tagged_by_its_arn_apart_from_its_stream() {
    let (f, arn) = with_consumer();
    f.ok(
        Action::TagResource,
        &body(&arn, json!({ "Tags": { "k": "v" } })),
    );
    assert_eq!(
        f.ok(Action::ListTagsForResource, &body(&arn, json!({}))),
        json!({ "Tags": [{ "Key": "k", "Value": "v" }] })
    );
    assert_eq!(
        f.ok(Action::ListTagsForResource, &body(STREAM_ARN, json!({}))),
        json!({ "Tags": [] })
    );
    f.ok(
        Action::UntagResource,
        &body(&arn, json!({ "TagKeys": ["k"] })),
    );
    assert_eq!(
        f.ok(Action::ListTagsForResource, &body(&arn, json!({}))),
        json!({ "Tags": [] })
    );
}

#[test]
fn a_resource_takes_at_most_fifty_tags() {
    let (f, arn) = with_consumer();
    let tags: BTreeMap<String, String> =
        (0..50).map(|i| (format!("k{i}"), String::new())).collect();
    f.ok(Action::TagResource, &body(&arn, json!({ "Tags": tags })));
    f.ok(
        Action::TagResource,
        &body(STREAM_ARN, json!({ "Tags": tags })),
    );
    // Overwriting an existing key adds nothing.
    f.ok(
        Action::TagResource,
        &body(&arn, json!({ "Tags": { "k0": "x" } })),
    );
    assert_eq!(
        f.refused(
            Action::TagResource,
            &body(&arn, json!({ "Tags": { "one-more": "" } })),
            ErrorCode::InvalidArgumentException
        ),
        "Failed to add tags to consumer c under stream s under account 000000000000 because a \
         given resource cannot have more than 50 tags associated with it."
    );
    assert_eq!(
        f.refused(
            Action::TagResource,
            &body(STREAM_ARN, json!({ "Tags": { "one-more": "" } })),
            ErrorCode::InvalidArgumentException
        ),
        "Failed to add tags to stream s under account 000000000000 because a given stream cannot \
         have more than 10 tags associated with it."
    );
}

#[test]
fn resource_requests_are_validated_in_awss_words() {
    let f = Fixture::with_stream("s", 1);
    assert_eq!(
        f.refused(Action::TagResource, "{}", ErrorCode::ValidationException),
        "2 validation errors detected: Value null at 'tags' failed to satisfy constraint: \
         Member must not be null; Value null at 'resourceARN' failed to satisfy constraint: \
         Member must not be null"
    );
    assert_eq!(
        f.refused(
            Action::ListTagsForResource,
            &body("arn:aws:sqs:us-east-1:000000000000:stream/s", json!({})),
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value 'arn:aws:sqs:us-east-1:000000000000:stream/s' at \
         'resourceARN' failed to satisfy constraint: Member must satisfy regular expression \
         pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"
    );
    assert_eq!(
        f.refused(
            Action::UntagResource,
            &body(STREAM_ARN, json!({ "TagKeys": [] })),
            ErrorCode::ValidationException
        ),
        "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    );
    f.refused(
        Action::PutResourcePolicy,
        &body(STREAM_ARN, json!({})),
        ErrorCode::ValidationException,
    );
}

#[test]
fn unknown_resources_are_not_found() {
    let (f, arn) = with_consumer();
    let missing = [
        (
            "arn:aws:kinesis:us-east-1:000000000000:stream/nope".to_owned(),
            "Stream nope under account 000000000000 not found.",
        ),
        (
            "arn:aws:kinesis:us-east-1:111111111111:stream/s".to_owned(),
            "Stream s under account 111111111111 not found.",
        ),
        (
            "arn:aws:kinesis:eu-west-1:000000000000:stream/s".to_owned(),
            "Stream s under account 000000000000 not found.",
        ),
        (
            format!("{STREAM_ARN}/consumer/c:1"),
            "Consumer c under stream s under account 000000000000 not found.",
        ),
        (
            format!("{STREAM_ARN}/consumer/other:{}", T0 / 1000),
            "Consumer other under stream s under account 000000000000 not found.",
        ),
    ];
    for (arn, message) in missing {
        for (action, rest) in [
            (Action::ListTagsForResource, json!({})),
            (Action::TagResource, json!({ "Tags": { "k": "v" } })),
            (Action::UntagResource, json!({ "TagKeys": ["k"] })),
            (Action::PutResourcePolicy, json!({ "Policy": "{}" })),
            (Action::GetResourcePolicy, json!({})),
            (Action::DeleteResourcePolicy, json!({})),
        ] {
            let got = f.refused(
                action,
                &body(&arn, rest),
                ErrorCode::ResourceNotFoundException,
            );
            assert_eq!(got, message, "{action:?} {arn}");
        }
    }
    // The consumer's own ARN resolves.
    f.ok(Action::GetResourcePolicy, &body(&arn, json!({})));
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;

#[test]
fn a_policy_is_stored_as_given_returned_and_deleted() {
    let (f, consumer) = with_consumer();
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(STREAM_ARN, json!({}))),
        json!({ "Policy": "{}" })
    );
    f.ok(
        Action::PutResourcePolicy,
        &body(STREAM_ARN, json!({ "Policy": POLICY })),
    );
    f.ok(
        Action::PutResourcePolicy,
        &body(&consumer, json!({ "Policy": r#"{"Statement":[]}"# })),
    );
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(STREAM_ARN, json!({}))),
        json!({ "Policy": POLICY })
    );
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(&consumer, json!({}))),
        json!({ "Policy": r#"{"Statement":[]}"# })
    );
    f.ok(Action::DeleteResourcePolicy, &body(STREAM_ARN, json!({})));
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(STREAM_ARN, json!({}))),
        json!({ "Policy": "{}" })
    );
    // Deleting when there is none is not an error.
    f.ok(Action::DeleteResourcePolicy, &body(STREAM_ARN, json!({})));
}

#[test]
fn a_policy_must_be_a_json_object() {
    let f = Fixture::with_stream("s", 1);
    for bad in ["not json", "[1]", "{\"a\":"] {
        assert_eq!(
            f.refused(
                Action::PutResourcePolicy,
                &body(STREAM_ARN, json!({ "Policy": bad })),
                ErrorCode::InvalidArgumentException
            ),
            "Policy document is not a valid JSON object."
        );
    }
}

#[test]
fn policies_go_with_their_stream_and_consumer() {
    let (f, consumer) = with_consumer();
    f.ok(
        Action::PutResourcePolicy,
        &body(STREAM_ARN, json!({ "Policy": POLICY })),
    );
    f.ok(
        Action::PutResourcePolicy,
        &body(&consumer, json!({ "Policy": POLICY })),
    );
    // A consumer registered again (a second later: a new ARN) starts without a policy.
    f.ok(
        Action::DeregisterStreamConsumer,
        &json!({ "ConsumerARN": consumer }).to_string(),
    );
    f.clock.advance(Duration::from_secs(1));
    let again = f.ok(
        Action::RegisterStreamConsumer,
        &json!({ "StreamARN": STREAM_ARN, "ConsumerName": "c" }).to_string(),
    );
    let again = again["Consumer"]["ConsumerARN"].as_str().unwrap();
    assert_ne!(again, consumer);
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(again, json!({}))),
        json!({ "Policy": "{}" })
    );
    // A stream created again under the same name starts without one either.
    f.ok(
        Action::DeleteStream,
        r#"{"StreamName":"s","EnforceConsumerDeletion":true}"#,
    );
    f.ok(Action::CreateStream, r#"{"StreamName":"s","ShardCount":1}"#);
    assert_eq!(
        f.ok(Action::GetResourcePolicy, &body(STREAM_ARN, json!({}))),
        json!({ "Policy": "{}" })
    );
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "riffle-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir, clock: &ManualClock) -> (Kinesis, Arc<persist::Wal>, State) {
    let fresh = || State {
        kinesis: KinesisStore::new(StoreSettings::new("us-east-1", "000000000000"), [7; 16]),
        sqs: SqsStore::new(SqsSettings {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }),
        firehose: crate::firehose::store::FirehoseStore::new(
            crate::firehose::store::StoreSettings::new("us-east-1", "000000000000"),
            [7; 16],
        ),
        dynamodb: crate::dynamodb::store::DynamoStore::new(
            crate::dynamodb::store::StoreSettings::new("us-east-1", "000000000000"),
        ),
    };
    let (state, wal) = persist::open(&dir.0, fresh).unwrap();
    let kinesis = Kinesis::new(
        state.kinesis.clone(),
        Arc::new(clock.clone()),
        Some(Arc::clone(&wal)),
    );
    (kinesis, wal, state)
}

async fn call(kinesis: &Kinesis, action: Action, body: &str) -> Value {
    let out = kinesis.call(action, body.as_bytes()).await.unwrap();
    if out.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test]
async fn policies_survive_a_restart_from_the_log_and_from_the_snapshot() {
    let dir = TempDir::new("policies");
    let clock = ManualClock::new(T0);
    let (kinesis, wal, state) = open(&dir, &clock);
    call(
        &kinesis,
        Action::CreateStream,
        r#"{"StreamName":"s","ShardCount":1}"#,
    )
    .await;
    let policy = body(STREAM_ARN, json!({ "Policy": POLICY }));
    call(&kinesis, Action::PutResourcePolicy, &policy).await;
    let get = body(STREAM_ARN, json!({}));
    // Restart without a clean stop: the log is replayed.
    drop((kinesis, wal, state));
    let (kinesis, wal, state) = open(&dir, &clock);
    assert_eq!(
        call(&kinesis, Action::GetResourcePolicy, &get).await,
        json!({ "Policy": POLICY })
    );
    // A clean stop writes a snapshot that holds the policy.
    wal.close(&StateRef {
        kinesis: &kinesis.lock(),
        sqs: &state.sqs,
        firehose: &state.firehose,
        dynamodb: &state.dynamodb,
    })
    .unwrap();
    drop((kinesis, wal, state));
    let (kinesis, _wal, _state) = open(&dir, &clock);
    assert_eq!(
        call(&kinesis, Action::GetResourcePolicy, &get).await,
        json!({ "Policy": POLICY })
    );
}
