//! The Lambda Runtime API (2018-06-01) as a function's execution environments call it, on one
//! loopback port per function. Each environment gets its own base path,
//! `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/env/N` (lambda_runtime accepts a base path, as
//! cargo-lambda's watch uses), so the host always knows which process took which invocation.
//!
//! Invariant: an invocation is handed to exactly one `/next` call, and completed at most once —
//! by `/response`, `/error`, the environment's exit, or its timeout, whichever comes first; a late
//! `/response` for a finished invocation gets 400 and changes nothing.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use riffle_core::invocation::MAX_PAYLOAD_BYTES;

use crate::function::{Completion, Shared};

type AppState = Arc<Shared>;

/// The router for one function.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/env/{env}/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/env/{env}/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route(
            "/env/{env}/2018-06-01/runtime/invocation/{id}/error",
            post(error),
        )
        .route("/env/{env}/2018-06-01/runtime/init/error", post(init_error))
        // The response handler enforces the 6 MB limit itself, so that an oversized response
        // completes its invocation with Lambda's error instead of being refused unseen.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": message });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn next(State(shared): State<AppState>, Path(env): Path<u64>) -> Response {
    let Some(dispatch) = shared.next_for(env).await else {
        return error_body(
            StatusCode::FORBIDDEN,
            "InvalidEnvironment",
            "this execution environment has been shut down",
        );
    };
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static(""));
    headers.insert(
        "lambda-runtime-aws-request-id",
        header(&dispatch.request_id),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        header(&dispatch.deadline_ms.to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header(&dispatch.function_arn),
    );
    headers.insert("lambda-runtime-trace-id", header(&dispatch.trace_id));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, headers, dispatch.payload).into_response()
}

async fn response(
    State(shared): State<AppState>,
    Path((env, id)): Path<(u64, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await;
    let Ok(body) = body else {
        let size = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .map_or_else(
                || "more than the limit".to_owned(),
                |n| format!("{n} bytes"),
            );
        let message = format!(
            "Response payload size ({size}) exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
        );
        shared.complete(
            env,
            &id,
            Completion::Error {
                error_type: "Function.ResponseSizeTooLarge".into(),
                body: serde_json::json!({
                    "errorType": "Function.ResponseSizeTooLarge",
                    "errorMessage": message,
                })
                .to_string()
                .into_bytes(),
            },
        );
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    };
    acknowledged(shared.complete(env, &id, Completion::Response(body.to_vec())))
}

fn error_type_of(headers: &HeaderMap, body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        })
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unhandled".to_owned())
}

async fn error(
    State(shared): State<AppState>,
    Path((env, id)): Path<(u64, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = error_document(body).await;
    let completion = Completion::Error {
        error_type: error_type_of(&headers, &body),
        body: body.to_vec(),
    };
    acknowledged(shared.complete(env, &id, completion))
}

async fn init_error(
    State(shared): State<AppState>,
    Path(env): Path<u64>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = error_document(body).await;
    shared.init_failed(env, error_type_of(&headers, &body), body.to_vec());
    accepted()
}

/// An error document the runtime posted. It is small; one past the limit is dropped, never
/// buffered whole.
async fn error_document(body: Body) -> axum::body::Bytes {
    axum::body::to_bytes(body, MAX_PAYLOAD_BYTES)
        .await
        .unwrap_or_default()
}

/// The runtime API's answer to a report: 202 when it settled a pending invocation, or AWS's
/// `InvalidRequestID` when the request id named none.
fn acknowledged(settled: bool) -> Response {
    if settled {
        accepted()
    } else {
        error_body(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        )
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}
