//! Invoking the function: the request the runtime sends through a `tower::Service`, and the
//! in-process invoker that runs a `lambda_runtime`-style handler directly.
//!
//! Invariant: whatever the handler does — returns, errs, panics, overruns its timeout — the
//! invoker answers with an [`Outcome`]; failures never escape as errors of the service.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use riffle_core::invocation::Outcome;
use riffle_core::time::Millis;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::{Service, ServiceExt};

/// One invocation of the function.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The function's name or ARN.
    pub function_arn: String,
    /// Lambda's request id for this invocation.
    pub request_id: String,
    /// The event JSON.
    pub payload: String,
    /// When the invocation times out, epoch ms.
    pub deadline_ms: Millis,
}

/// Runs a handler in process, as `lambda_runtime::run(service_fn(handler))` would. `T` is the
/// event type the handler takes: `KinesisEvent`, or `KinesisTimeWindowEvent` with tumbling
/// windows.
pub struct HandlerInvoker<S, T = KinesisEvent> {
    service: S,
    timeout: Duration,
    event: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for HandlerInvoker<S, T> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            timeout: self.timeout,
            event: PhantomData,
        }
    }
}

impl<S, T> std::fmt::Debug for HandlerInvoker<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerInvoker")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<S, T> HandlerInvoker<S, T> {
    /// An invoker for `service` that fails invocations running longer than `timeout`
    /// (`Sandbox.Timedout`, as Lambda reports a timeout).
    pub fn new(service: S, timeout: Duration) -> Self {
        Self {
            service,
            timeout,
            event: PhantomData,
        }
    }
}

impl<S, T, R, E> Service<InvokeRequest> for HandlerInvoker<S, T>
where
    T: DeserializeOwned + Send + 'static,
    S: Service<LambdaEvent<T>, Response = R, Error = E> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: Serialize + Send + 'static,
    E: Into<Diagnostic> + Send + 'static,
{
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InvokeRequest) -> Self::Future {
        let service = self.service.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let event: T = match serde_json::from_str(&request.payload) {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(error = %e, "the handler cannot deserialize the event");
                    return Ok(Outcome::function_error(
                        "Runtime.UnmarshalError",
                        format!("the event is not a {}", std::any::type_name::<E>()),
                    ));
                }
            };
            let mut context = Context::default();
            context.request_id = request.request_id.clone();
            context.deadline = request.deadline_ms;
            context.invoked_function_arn = request.function_arn.clone();
            let call = tokio::spawn(service.oneshot(LambdaEvent::new(event, context)));
            let outcome = match tokio::time::timeout(timeout, call).await {
                Err(_) => Outcome::function_error(
                    "Sandbox.Timedout",
                    format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
                ),
                Ok(Err(panicked)) => {
                    Outcome::function_error("Runtime.ExitError", format!("the handler {panicked}"))
                }
                Ok(Ok(Err(error))) => {
                    let diagnostic: Diagnostic = error.into();
                    Outcome::function_error(diagnostic.error_type, diagnostic.error_message)
                }
                Ok(Ok(Ok(response))) => match serde_json::to_vec(&response) {
                    Ok(body) => Outcome::Success(body),
                    Err(error) => Outcome::function_error(
                        "Runtime.SerializationError",
                        format!("the response could not be serialized: {error}"),
                    ),
                },
            };
            Ok(outcome)
        })
    }
}

/// A function as the runtime invokes it: a cloneable `tower::Service<InvokeRequest>` whose
/// every call ends in an [`Outcome`] (it never fails as a service).
pub trait Invoker:
    Service<InvokeRequest, Response = Outcome, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Invoker for T where
    T: Service<InvokeRequest, Response = Outcome, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The `n`th request id of mapping `mapping_id`: UUID-shaped like Lambda's, unique per mapping
/// and invocation, and stable across runs so journals and tests can name invocations.
pub fn request_id(mapping_id: &str, n: u64) -> String {
    let seed = mapping_id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    uuid_shaped(seed, 0x8, n)
}

/// A version 4 UUID's shape from `seed` (its first three groups) and `n` (its last two, so the
/// ids of one seed stay unique), with `variant` as the fourth group's first digit.
pub fn uuid_shaped(seed: u64, variant: u8, n: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{variant:x}{:03x}-{:012x}",
        (seed >> 32) as u32,
        (seed >> 16) as u16,
        seed & 0xfff,
        (n >> 48) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use riffle_core::examples;
    use riffle_core::kinesis::event::kinesis_event;

    const SECOND: Duration = Duration::from_secs(1);

    /// Invokes `invoker` with `payload` as request `req-1`; the handler's JSON answer (what it
    /// read of the event).
    async fn what_the_handler_saw(
        mut invoker: impl Service<InvokeRequest, Response = Outcome, Error = Infallible>,
        payload: String,
    ) -> serde_json::Value {
        let request = InvokeRequest {
            function_arn: "arn:aws:lambda:eu-west-1:111122223333:function:f".into(),
            request_id: "req-1".into(),
            payload,
            deadline_ms: 0,
        };
        let Outcome::Success(body) = invoker.call(request).await.unwrap() else {
            panic!("the handler succeeds");
        };
        serde_json::from_slice(&body).unwrap()
    }

    /// The engine sends `approximateArrivalTimestamp` as a JSON number (as AWS does), while
    /// `aws_lambda_events` serializes it as a string; handlers must still read it exactly.
    #[tokio::test]
    async fn handlers_receive_the_event_the_engine_sends_with_exact_fields() {
        let (record, source) = (examples::kinesis_record(), examples::kinesis_source());
        let payload = kinesis_event(&source, [&record]);
        let handler = tower::service_fn(|event: LambdaEvent<KinesisEvent>| async move {
            let record = &event.payload.records[0];
            let arrival = record.kinesis.approximate_arrival_timestamp.0;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "data": String::from_utf8(record.kinesis.data.0.clone()).unwrap(),
                "arrival_ms": arrival.timestamp_millis(),
                "event_id": record.event_id,
                "request_id": event.context.request_id,
            }))
        });
        let seen = what_the_handler_saw(HandlerInvoker::new(handler, SECOND), payload).await;
        assert_eq!(seen["data"], "{\"order\": 7}");
        assert_eq!(seen["arrival_ms"], 1_732_550_400_123i64);
        assert_eq!(
            seen["event_id"],
            "shardId-000000000003:49655502019283746571650018761293848571958377116573155330"
        );
        assert_eq!(seen["request_id"], "req-1");
    }

    /// The SQS event the engine writes by hand reads back through `aws_lambda_events`'
    /// `SqsEvent`, field for field.
    #[tokio::test]
    async fn sqs_handlers_read_every_field_of_the_event_the_engine_sends() {
        use aws_lambda_events::event::sqs::SqsEvent;
        use riffle_core::sqs::event::sqs_event;
        let mut message = examples::sqs_message();
        message.receipt_handle = "AQEB-handle".into();
        message.attributes = vec![
            ("ApproximateReceiveCount".into(), "2".into()),
            ("SentTimestamp".into(), "1732550400123".into()),
            ("MessageGroupId".into(), "g-1".into()),
        ];
        let payload = sqs_event(
            "arn:aws:sqs:eu-west-1:111122223333:jobs",
            "eu-west-1",
            &[message],
        );
        let handler = tower::service_fn(|event: LambdaEvent<SqsEvent>| async move {
            let m = &event.payload.records[0];
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "id": m.message_id, "receipt": m.receipt_handle, "body": m.body,
                "md5": m.md5_of_body, "md5_attributes": m.md5_of_message_attributes,
                "receives": m.attributes["ApproximateReceiveCount"],
                "group": m.attributes["MessageGroupId"],
                "author": m.message_attributes["Author"].string_value,
                "author_type": m.message_attributes["Author"].data_type,
                "source": m.event_source, "arn": m.event_source_arn, "region": m.aws_region,
            }))
        });
        let invoker = HandlerInvoker::<_, SqsEvent>::new(handler, SECOND);
        let seen = what_the_handler_saw(invoker, payload).await;
        assert_eq!(
            seen,
            serde_json::json!({
                "id": "c2a4f1de-7b0e-4b57-9a4e-1f2e3d4c5b6a", "receipt": "AQEB-handle",
                "body": "{\"order\": 7}", "md5": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "md5_attributes": "d25a6aea97eb8f585bfa92d314504a92", "receives": "2",
                "group": "g-1", "author": "Ada", "author_type": "String",
                "source": "aws:sqs", "arn": "arn:aws:sqs:eu-west-1:111122223333:jobs",
                "region": "eu-west-1",
            })
        );
    }

    /// The `errorType` of the function error `invoker` answers `request` with.
    async fn error_type(mut invoker: impl Invoker, request: InvokeRequest) -> String {
        match invoker.call(request).await.unwrap() {
            Outcome::FunctionError { error_type, .. } => error_type,
            other => panic!("expected a function error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn errors_timeouts_and_panics_are_function_errors() {
        let failing = tower::service_fn(|_: LambdaEvent<KinesisEvent>| async move {
            Err::<(), lambda_runtime::Error>("boom".into())
        });
        let slow = tower::service_fn(|_: LambdaEvent<KinesisEvent>| async move {
            std::future::pending::<()>().await;
            Ok::<(), lambda_runtime::Error>(())
        });
        let panicking = tower::service_fn(|_: LambdaEvent<KinesisEvent>| async move {
            panic!("handler bug");
            #[allow(unreachable_code)]
            Ok::<(), lambda_runtime::Error>(())
        });
        let request = || InvokeRequest {
            function_arn: "f".into(),
            request_id: "r".into(),
            payload: r#"{"Records":[]}"#.into(),
            deadline_ms: 0,
        };
        let short = Duration::from_millis(50);
        assert!(
            !error_type(HandlerInvoker::new(failing, short), request())
                .await
                .is_empty()
        );
        assert_eq!(
            error_type(HandlerInvoker::new(slow, short), request()).await,
            "Sandbox.Timedout"
        );
        assert_eq!(
            error_type(HandlerInvoker::new(panicking, short), request()).await,
            "Runtime.ExitError"
        );
        let malformed = InvokeRequest {
            payload: "not json".into(),
            ..request()
        };
        let ok = tower::service_fn(|_: LambdaEvent<KinesisEvent>| async move {
            Ok::<(), lambda_runtime::Error>(())
        });
        assert_eq!(
            error_type(HandlerInvoker::new(ok, short), malformed).await,
            "Runtime.UnmarshalError"
        );
    }
}
