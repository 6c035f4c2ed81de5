//! The fixture the operation tests share: a service on a manual clock, driven without HTTP.

mod account;
mod consumers;
mod pending;
mod put;
mod read;
mod reshard;
mod resources;
mod retention;
mod scaling;
mod shards;
mod streams;
mod subscribe;
mod tags;

use std::sync::Arc;

use serde_json::Value;

use super::Kinesis;
use crate::clock::{ManualClock, Millis};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::Action;
use crate::kinesis::store::{KinesisStore, StoreSettings};

/// When every fixture's clock starts (epoch milliseconds, a whole second).
pub(super) const T0: Millis = 1_700_000_000_000;

/// A Kinesis service in memory (no log) whose clock moves only when a test moves it.
pub(super) struct Fixture {
    pub(super) kinesis: Kinesis,
    pub(super) clock: ManualClock,
}

impl Fixture {
    /// No streams, at [`T0`].
    pub(super) fn new() -> Self {
        Self::with_settings(|_| {})
    }

    /// No streams, at [`T0`], on a store whose settings `adjust` has changed.
    pub(super) fn with_settings(adjust: impl FnOnce(&mut StoreSettings)) -> Self {
        let clock = ManualClock::new(T0);
        let mut settings = StoreSettings::new("us-east-1", "000000000000");
        adjust(&mut settings);
        let store = KinesisStore::new(settings, [7; 16]);
        let kinesis = Kinesis::new(store, Arc::new(clock.clone()), None);
        Self { kinesis, clock }
    }

    /// One provisioned stream `name` with `shards` shards.
    pub(super) fn with_stream(name: &str, shards: u32) -> Self {
        let fixture = Self::new();
        fixture.ok(
            Action::CreateStream,
            &format!(r#"{{"StreamName":"{name}","ShardCount":{shards}}}"#),
        );
        fixture
    }

    /// Runs `action` on `body`; the answer parsed as JSON.
    pub(super) fn call(&self, action: Action, body: &str) -> ApiResult<Value> {
        let reply = self.kinesis.execute(action, body.as_bytes())?;
        assert_eq!(reply.durable_at, None, "no log, nothing to wait for");
        if reply.body.is_empty() {
            // Operations without output answer an empty body, as AWS does.
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&reply.body).expect("answers are JSON"))
    }

    /// Runs `action`, which must succeed.
    pub(super) fn ok(&self, action: Action, body: &str) -> Value {
        self.call(action, body)
            .unwrap_or_else(|e| panic!("{action:?} {body}: {e}"))
    }

    /// A `kind` iterator on shard `shard` of stream `s`.
    pub(super) fn iterator(&self, shard: &str, kind: &str) -> String {
        let body =
            format!(r#"{{"StreamName":"s","ShardId":"{shard}","ShardIteratorType":"{kind}"}}"#);
        self.ok(Action::GetShardIterator, &body)["ShardIterator"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// GetRecords on `iterator`, which must succeed.
    pub(super) fn get_records(&self, iterator: &str) -> Value {
        self.ok(
            Action::GetRecords,
            &format!(r#"{{"ShardIterator":"{iterator}"}}"#),
        )
    }

    /// Runs `action`, which must be refused with `code`; the message.
    pub(super) fn refused(&self, action: Action, body: &str, code: ErrorCode) -> String {
        match self.call(action, body) {
            Ok(answer) => panic!("{action:?} {body} succeeded: {answer}"),
            Err(ApiError { code: got, message }) => {
                assert_eq!(got, code, "{action:?} {body}: {message}");
                message
            }
        }
    }
}

#[test]
fn a_body_that_is_not_json_is_a_serialization_error() {
    let f = Fixture::new();
    f.refused(Action::ListStreams, "{", ErrorCode::SerializationException);
    // An empty or blank body reads as `{}`.
    assert_eq!(
        f.ok(Action::ListStreams, " ")["StreamNames"],
        serde_json::json!([])
    );
}
