//! Lambda's Invoke API over the functions riffle runs locally:
//! `POST /2015-03-31/functions/{name}/invocations`, answered as AWS answers (status codes,
//! `X-Amz-Function-Error`, `X-Amz-Executed-Version`, `X-Amz-Log-Result`, `x-amzn-ErrorType`,
//! error bodies; `RequestResponse`, `Event` and `DryRun`; the `$LATEST` qualifier), so
//! `aws lambda invoke --endpoint-url …`, aws-sdk-lambda and `riffle redrive` can invoke them.
//!
//! Invariants: an invocation through the API is the same invocation a mapping makes (the
//! function's [`LocalFunction`], its timeout and reserved concurrency); until the functions are
//! registered every request is answered 503 `ServiceException`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use riffle_core::invocation::MAX_PAYLOAD_BYTES;
use riffle_core::invocation::Outcome;
use riffle_core::time::Millis;
use riffle_runtime::InvokeRequest;
use serde_json::{Value, json};

use crate::LocalFunction;

/// The Invoke API: empty (answering 503) until [`InvokeApi::ready`] registers the functions.
#[derive(Clone, Default)]
pub struct InvokeApi {
    functions: Arc<OnceLock<BTreeMap<String, LocalFunction>>>,
    request_ids: Arc<AtomicU64>,
}

impl InvokeApi {
    /// The route, to merge into a server's router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(self.clone())
    }

    /// Registers the functions by key (their logical id); the route answers from now on.
    pub fn ready(&self, functions: BTreeMap<String, LocalFunction>) {
        let _ = self.functions.set(functions);
    }

    /// An invoker that finds the function each request names (by ARN, name or logical id,
    /// as the Invoke API does) among the functions registered with [`InvokeApi::ready`]: how
    /// a delivery stream's transformation reaches whichever local function its `LambdaArn`
    /// names, including streams created after start through the Firehose API.
    pub fn invoker(&self) -> crate::router::FunctionRouter {
        crate::router::FunctionRouter::new(self.functions.clone())
    }

    /// A request id in Lambda's format (a version 4 UUID), unique within this run.
    fn request_id(&self) -> String {
        use std::hash::BuildHasher as _;
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        let random = std::collections::hash_map::RandomState::new().hash_one((n, now_ms()));
        riffle_runtime::invoke::uuid_shaped(random, 0xa, n)
    }
}

fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// The query string's parameters, percent-decoded (`+` is a space).
pub fn query_pairs(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An error as Lambda's REST API sends it: the type in `x-amzn-ErrorType` (which the SDKs read)
/// and a `{"Type", "Message"}` body.
fn lambda_error(status: StatusCode, error_type: &str, message: &str, request_id: &str) -> Response {
    let body = json!({ "Type": "User", "Message": message, "message": message });
    let mut response = json_response(status, &body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// Finds the function `name` names: its name, its logical id, or its ARN (full or partial,
/// `123456789012:function:name`), optionally with the `$LATEST` qualifier. Local functions have
/// no other versions or aliases.
pub(crate) fn find_function<'a>(
    functions: &'a BTreeMap<String, LocalFunction>,
    name: &str,
    qualifier: Option<&str>,
) -> Result<&'a LocalFunction, String> {
    let (base, suffix) = match name.rsplit_once(":function:") {
        Some((_, rest)) => match rest.split_once(':') {
            Some((base, qualifier)) => (base, Some(qualifier)),
            None => (rest, None),
        },
        None => match name.split_once(':') {
            Some((base, qualifier)) => (base, Some(qualifier)),
            None => (name, None),
        },
    };
    let function = functions
        .get(base)
        .or_else(|| functions.values().find(|f| f.config().name == base))
        .ok_or_else(|| {
            format!(
                "Function not found: {name} (riffle local runs: {})",
                functions
                    .values()
                    .map(|f| f.config().name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    for qualifier in [suffix, qualifier].into_iter().flatten() {
        if qualifier != "$LATEST" {
            return Err(format!(
                "Function not found: {}:{qualifier} (riffle local runs $LATEST only)",
                function.config().arn()
            ));
        }
    }
    Ok(function)
}

async fn invoke(
    State(api): State<InvokeApi>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = query_pairs(query.as_deref());
    let request_id = api.request_id();
    let functions = match api.functions.get() {
        Some(functions) => functions,
        None => {
            return lambda_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                "riffle local is still starting its functions; try again shortly",
                &request_id,
            );
        }
    };
    let function = match find_function(functions, &name, query.get("Qualifier").map(String::as_str))
    {
        Ok(function) => function.clone(),
        Err(message) => {
            return lambda_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &message,
                &request_id,
            );
        }
    };
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    if !matches!(invocation_type, "RequestResponse" | "Event" | "DryRun") {
        return lambda_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!(
                "1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            ),
            &request_id,
        );
    }
    let payload = match to_bytes(body, MAX_PAYLOAD_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return lambda_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                &format!(
                    "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
                ),
                &request_id,
            );
        }
    };
    let payload = if payload.iter().all(u8::is_ascii_whitespace) {
        "{}".to_owned()
    } else {
        match std::str::from_utf8(&payload)
            .ok()
            .filter(|text| serde_json::from_str::<Value>(text).is_ok())
        {
            Some(text) => text.to_owned(),
            None => {
                return lambda_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload is not valid UTF-8 JSON",
                    &request_id,
                );
            }
        }
    };
    let timeout = function.config().timeout;
    let request = InvokeRequest {
        function_arn: function.config().arn(),
        request_id: request_id.clone(),
        payload,
        deadline_ms: now_ms() + timeout.as_millis() as Millis,
    };
    match invocation_type {
        "DryRun" => return with_request_id(StatusCode::NO_CONTENT.into_response(), &request_id),
        "Event" => {
            tokio::spawn(async move {
                let _ = function.invoke(request).await;
            });
            return with_request_id(StatusCode::ACCEPTED.into_response(), &request_id);
        }
        _ => {}
    }
    let outcome = function.invoke(request).await;
    let mut response = invoke_response(outcome, &request_id);
    let tail = headers
        .get("x-amz-log-type")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"Tail"));
    if tail && let Ok(value) = HeaderValue::from_str(&log_tail(&function, &request_id)) {
        response.headers_mut().insert("x-amz-log-result", value);
    }
    response
}

/// `X-Amz-Log-Result` for `LogType: Tail`: the invocation's log lines (with Lambda's START, END
/// and REPORT), their last 4 KB, base64-encoded.
fn log_tail(function: &LocalFunction, request_id: &str) -> String {
    use base64::Engine as _;
    let mut text = String::new();
    for line in function.logs().for_request(request_id) {
        text.push_str(&line.line);
        text.push('\n');
    }
    let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&text[start..])
}

/// How much of an invocation's log `LogType: Tail` returns, as Lambda does.
const LOG_TAIL_BYTES: usize = 4 * 1024;

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// AWS's answer to a RequestResponse invoke that ended in `outcome`.
fn invoke_response(outcome: Outcome, request_id: &str) -> Response {
    let mut response = match outcome {
        Outcome::Success(body) => (StatusCode::OK, body).into_response(),
        Outcome::FunctionError {
            error_type,
            error_message,
            ..
        } => {
            let message = if error_type == "Sandbox.Timedout" {
                format!("{request_id} {error_message}")
            } else {
                error_message
            };
            let body = json!({ "errorType": error_type, "errorMessage": message });
            let mut response = (StatusCode::OK, body.to_string()).into_response();
            response.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            response
        }
        Outcome::Throttled => {
            let body = json!({
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                "Type": "User",
                "message": "Rate Exceeded.",
            });
            let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, &body);
            response.headers_mut().insert(
                "x-amzn-errortype",
                HeaderValue::from_static("TooManyRequestsException"),
            );
            response
        }
        Outcome::ServiceError(message) => {
            match message.strip_prefix("RequestTooLargeException: ") {
                Some(message) => lambda_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    message,
                    request_id,
                ),
                None => lambda_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServiceException",
                    &message,
                    request_id,
                ),
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    with_request_id(response, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_percent_decoded() {
        let query = query_pairs(Some(
            "shard=shardId-000000000001&Qualifier=%24LATEST&x=a+b%2",
        ));
        assert_eq!(query["shard"], "shardId-000000000001");
        assert_eq!(query["Qualifier"], "$LATEST");
        assert_eq!(query["x"], "a b%2");
        assert!(query_pairs(None).is_empty());
    }

    async fn response_json(response: Response) -> Value {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn function_errors_are_answered_as_aws_does() {
        let response = invoke_response(
            Outcome::function_error("OrderRejected", "order 7 has no items"),
            "r-1",
        );
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-amz-function-error"], "Unhandled");
        assert_eq!(response.headers()["x-amzn-requestid"], "r-1");
        let body = response_json(response).await;
        assert_eq!(
            body,
            json!({"errorType": "OrderRejected", "errorMessage": "order 7 has no items"}),
            "the function's own error document"
        );
        let throttled = invoke_response(Outcome::Throttled, "r-2");
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            throttled.headers()["x-amzn-errortype"],
            "TooManyRequestsException"
        );
    }
}
