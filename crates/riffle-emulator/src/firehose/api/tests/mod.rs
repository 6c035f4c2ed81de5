//! The fixture the operation tests share: a Firehose service on a manual clock, driven through
//! [`Firehose::call`] without HTTP.

mod handle;
mod put;
mod streams;
mod tags;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::Firehose;
use crate::clock::{ManualClock, Millis};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::firehose::Action;
use crate::firehose::store::{FirehoseStore, StoreSettings};

/// When every fixture's clock starts (epoch milliseconds, a whole second).
pub(super) const T0: Millis = 1_700_000_000_000;

/// The account in ARNs and messages.
pub(super) const ACCOUNT: &str = "111122223333";

/// A Firehose service in memory (no log) whose clock moves only when a test moves it.
pub(super) struct Fixture {
    pub(super) firehose: Firehose,
    pub(super) clock: ManualClock,
}

/// An ExtendedS3DestinationConfiguration to bucket `archive`, with `extra` members.
pub(super) fn extended(extra: Value) -> Value {
    let mut config = json!({
        "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose"),
        "BucketARN": "arn:aws:s3:::archive",
    });
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        config[key] = value;
    }
    config
}

impl Fixture {
    /// No streams, at [`T0`], streams `CREATING` for `create_delay`.
    pub(super) fn new(create_delay: Duration) -> Self {
        let clock = ManualClock::new(T0);
        let mut settings = StoreSettings::new("eu-west-1", ACCOUNT);
        settings.create_delay_ms = create_delay.as_millis() as Millis;
        let store = FirehoseStore::new(settings, [7; 16]);
        let firehose = Firehose::new(store, Arc::new(clock.clone()), None);
        Self { firehose, clock }
    }

    /// One `ACTIVE` DirectPut stream `name` to bucket `archive`.
    pub(super) async fn with_stream(name: &str) -> Self {
        let fixture = Self::new(Duration::ZERO);
        fixture.create(name, json!({})).await;
        fixture
    }

    /// Creates DirectPut stream `name` whose extended destination has `extra` members.
    pub(super) async fn create(&self, name: &str, extra: Value) -> Value {
        let body = json!({
            "DeliveryStreamName": name,
            "ExtendedS3DestinationConfiguration": extended(extra),
        });
        self.ok(Action::CreateDeliveryStream, body).await
    }

    /// Runs `action` on `body`; the answer parsed as JSON.
    pub(super) async fn call(&self, action: Action, body: Value) -> ApiResult<Value> {
        let reply = self
            .firehose
            .call(action, body.to_string().as_bytes())
            .await?;
        Ok(serde_json::from_slice(&reply).expect("answers are JSON"))
    }

    /// Runs `action`, which must succeed.
    pub(super) async fn ok(&self, action: Action, body: Value) -> Value {
        let text = body.to_string();
        self.call(action, body)
            .await
            .unwrap_or_else(|e| panic!("{action:?} {text}: {e}"))
    }

    /// Runs `action`, which must be refused with `code`; the message.
    pub(super) async fn refused(&self, action: Action, body: Value, code: ErrorCode) -> String {
        let text = body.to_string();
        match self.call(action, body).await {
            Ok(answer) => panic!("{action:?} {text} succeeded: {answer}"),
            Err(ApiError { code: got, message }) => {
                assert_eq!(got, code, "{action:?} {text}: {message}");
                message
            }
        }
    }

    /// DescribeDeliveryStream's `DeliveryStreamDescription` of `name`.
    pub(super) async fn describe(&self, name: &str) -> Value {
        let body = json!({ "DeliveryStreamName": name });
        self.ok(Action::DescribeDeliveryStream, body).await["DeliveryStreamDescription"].take()
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_serialization_error() {
    let f = Fixture::new(Duration::ZERO);
    let err = f
        .firehose
        .call(Action::ListDeliveryStreams, b"{")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SerializationException);
    let blank = f
        .firehose
        .call(Action::ListDeliveryStreams, b" ")
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&blank).unwrap(),
        json!({ "DeliveryStreamNames": [], "HasMoreDeliveryStreams": false })
    );
}
