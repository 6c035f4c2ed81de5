//! A remote invoker: the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`,
//! RequestResponse) over aws-sdk-lambda, for real AWS Lambda, `sam local start-lambda` and
//! `cargo lambda watch`.
//!
//! Invariant: every answer becomes one `Outcome`, normalised across the conventions: a function
//! error is `X-Amz-Function-Error` on a 200 (AWS, SAM) or a 500 whose body is
//! `{"errorType", "errorMessage"}` (cargo-lambda's watch, the runtime interface emulator); a
//! 429 is a throttle; anything else that is not the function's answer is a service error. The
//! SDK's own retries are off: retrying is the mapping's decision.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use riffle_core::invocation::{Outcome, error_document};
use riffle_runtime::InvokeRequest;

/// An aws-sdk-lambda client for a local endpoint (`sam local start-lambda`, `cargo lambda
/// watch`): plain HTTP, placeholder credentials, no SDK retries. For real AWS, build the client
/// from your AWS configuration (with retries disabled) and pass it to [`LambdaInvoker::new`].
pub fn lambda_client(endpoint: &str, region: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_lambda::config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "riffle", "riffle", None, None, "riffle",
        ))
        .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// Invokes a function over the Invoke API; a `tower::Service<InvokeRequest>` like the local
/// runners.
#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function_name: String,
}

impl LambdaInvoker {
    /// Invokes `function_name` (a name, ARN or qualified ARN) through `client`.
    pub fn new(client: aws_sdk_lambda::Client, function_name: impl Into<String>) -> Self {
        Self {
            client,
            function_name: function_name.into(),
        }
    }

    /// Invokes the function with `request`'s payload and waits for its answer.
    pub async fn invoke(&self, request: InvokeRequest) -> Outcome {
        let result = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(request.payload))
            .send()
            .await;
        match result {
            Ok(output) => {
                let body = output.payload.map(Blob::into_inner).unwrap_or_default();
                match output.function_error {
                    Some(_) => match Outcome::from_error_document(&body) {
                        Outcome::FunctionError {
                            error_type,
                            error_message,
                            ..
                        } => Outcome::FunctionError {
                            error_type,
                            error_message,
                            status_code: output.status_code as u16,
                        },
                        other => other,
                    },
                    None => Outcome::Success(body),
                }
            }
            Err(SdkError::ServiceError(context)) => {
                let status = context.raw().status().as_u16();
                let body = context.raw().body().bytes().unwrap_or_default();
                let error = context.err();
                if status == 429 || error.is_too_many_requests_exception() {
                    return Outcome::Throttled;
                }
                if status == 500
                    && let Some((error_type, error_message)) = error_document(body)
                {
                    // cargo-lambda's watch and the runtime interface emulator answer a function
                    // error with a 500 carrying the error document.
                    return Outcome::function_error(error_type, error_message);
                }
                Outcome::ServiceError(format!(
                    "{} (HTTP {status}): {}",
                    error.code().unwrap_or("Unknown"),
                    error.message().unwrap_or_default()
                ))
            }
            Err(other) => Outcome::ServiceError(format!("the invoke did not complete: {other}")),
        }
    }
}

/// `errorType` of an error document, if `body` is one.
impl tower::Service<InvokeRequest> for LambdaInvoker {
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: InvokeRequest) -> Self::Future {
        let invoker = self.clone();
        Box::pin(async move { Ok(invoker.invoke(request).await) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;

    use super::*;

    type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

    /// A server that answers like AWS, SAM, cargo-lambda's watch or the RIE, by function name.
    async fn imitation() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let recorder = Arc::clone(&seen);
        let app = Router::new().route(
            "/2015-03-31/functions/{name}/invocations",
            post(
                move |Path(name): Path<String>, headers: HeaderMap, body: Bytes| {
                    let recorder = Arc::clone(&recorder);
                    async move {
                        let invocation_type = headers
                            .get("x-amz-invocation-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        recorder.lock().unwrap().push((
                            name.clone(),
                            invocation_type,
                            String::from_utf8_lossy(&body).into_owned(),
                        ));
                        let error = r#"{"errorType":"OrderRejected","errorMessage":"no"}"#;
                        let response: Response = match name.as_str() {
                            "ok" => (StatusCode::OK, r#"{"batchItemFailures":[]}"#).into_response(),
                            "aws-error" => (
                                StatusCode::OK,
                                [("x-amz-function-error", "Unhandled")],
                                error,
                            )
                                .into_response(),
                            "watch-error" => {
                                (StatusCode::INTERNAL_SERVER_ERROR, error).into_response()
                            }
                            "throttled" => (
                                StatusCode::TOO_MANY_REQUESTS,
                                [("x-amzn-errortype", "TooManyRequestsException")],
                                r#"{"Type":"User","message":"Rate Exceeded."}"#,
                            )
                                .into_response(),
                            "bare-429" => StatusCode::TOO_MANY_REQUESTS.into_response(),
                            _ => (
                                StatusCode::NOT_FOUND,
                                [("x-amzn-errortype", "ResourceNotFoundException")],
                                r#"{"Type":"User","message":"Function not found: missing"}"#,
                            )
                                .into_response(),
                        };
                        response
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, seen)
    }

    fn request() -> InvokeRequest {
        InvokeRequest {
            function_arn: String::new(),
            request_id: "r-1".into(),
            payload: r#"{"Records":[]}"#.into(),
            deadline_ms: 0,
        }
    }

    async fn outcome_of(endpoint: &str, function: &str) -> Outcome {
        LambdaInvoker::new(lambda_client(endpoint, "us-east-1"), function)
            .invoke(request())
            .await
    }

    #[tokio::test]
    async fn every_error_convention_is_normalised() {
        let (endpoint, seen) = imitation().await;
        assert_eq!(
            outcome_of(&endpoint, "ok").await,
            Outcome::Success(br#"{"batchItemFailures":[]}"#.to_vec())
        );
        let function_error = Outcome::function_error("OrderRejected", "no");
        assert_eq!(
            outcome_of(&endpoint, "aws-error").await,
            function_error,
            "AWS, SAM"
        );
        assert_eq!(
            outcome_of(&endpoint, "watch-error").await,
            function_error,
            "cargo lambda watch, RIE"
        );
        assert_eq!(outcome_of(&endpoint, "throttled").await, Outcome::Throttled);
        assert_eq!(outcome_of(&endpoint, "bare-429").await, Outcome::Throttled);
        assert!(matches!(
            outcome_of(&endpoint, "missing").await,
            Outcome::ServiceError(e) if e.starts_with("ResourceNotFoundException (HTTP 404)")
        ));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 6, "no SDK retries: one request per invoke");
        assert!(seen.iter().all(|(_, kind, body)| {
            kind.as_deref() == Some("RequestResponse") && body == r#"{"Records":[]}"#
        }));
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_service_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        assert!(matches!(
            outcome_of(&endpoint, "ok").await,
            Outcome::ServiceError(_)
        ));
    }
}
