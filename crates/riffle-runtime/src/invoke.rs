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
use riffle_core::shard::Outcome;
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
                    return Ok(function_error("Runtime.UnmarshalError"));
                }
            };
            let mut context = Context::default();
            context.request_id = request.request_id.clone();
            context.deadline = request.deadline_ms;
            context.invoked_function_arn = request.function_arn.clone();
            let call = tokio::spawn(service.oneshot(LambdaEvent::new(event, context)));
            let outcome = match tokio::time::timeout(timeout, call).await {
                Err(_) => function_error("Sandbox.Timedout"),
                Ok(Err(_panicked)) => function_error("Runtime.ExitError"),
                Ok(Ok(Err(error))) => {
                    let diagnostic: Diagnostic = error.into();
                    function_error(&diagnostic.error_type)
                }
                Ok(Ok(Ok(response))) => match serde_json::to_vec(&response) {
                    Ok(body) => Outcome::Success(body),
                    Err(_) => function_error("Runtime.SerializationError"),
                },
            };
            Ok(outcome)
        })
    }
}

fn function_error(error_type: &str) -> Outcome {
    Outcome::FunctionError {
        error_type: error_type.to_owned(),
        status_code: 200,
    }
}
