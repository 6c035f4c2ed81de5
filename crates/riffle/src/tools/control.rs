//! The client side of `riffle local`'s control API (`local/control.rs`): a JSON GET with the
//! errors a user can act on — nothing listening, an endpoint that is an emulator without
//! `riffle local`, a route's own error message. [`get`] is the plain GET under it (`riffle dlq`
//! reads the emulator's queue peek with it).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long a control request may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An answer of the control API that is not the JSON asked for.
#[derive(Debug)]
pub(crate) enum ControlError {
    /// Nothing answered (or not over HTTP).
    Unreachable(String),
    /// The route's own error message (`{"error", "message"}`): an unknown mapping (with the
    /// known ones), a bad parameter, still starting.
    Refused(String),
    /// Something answered, but not as riffle local's control API does.
    NotControl(String),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(message) | Self::Refused(message) | Self::NotControl(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ControlError {}

/// Percent-encodes one path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `GET {endpoint}{path}` over plain HTTP: the status and the body, or why nothing answered
/// (the innermost cause, e.g. "Connection refused (os error 111)").
pub(crate) async fn get(endpoint: &str, path: &str) -> Result<(u16, Bytes), String> {
    let endpoint = endpoint.trim_end_matches('/');
    if !endpoint.starts_with("http://") {
        return Err(format!("{endpoint} is not a plain http:// endpoint"));
    }
    send(axum::http::Method::GET, endpoint, path, None).await
}

/// `{method} {endpoint}{path}` with a JSON `body` (if any) over plain HTTP: the status and the
/// answer's body, or why nothing answered.
async fn send(
    method: axum::http::Method,
    endpoint: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Bytes), String> {
    let uri: axum::http::Uri = format!("{endpoint}{path}")
        .parse()
        .map_err(|e| format!("{endpoint}{path} is not a URL: {e}"))?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut builder = axum::http::Request::builder().method(method).uri(uri);
    if body.is_some() {
        builder = builder.header(axum::http::header::CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(Full::new(Bytes::from(
            body.map(Value::to_string).unwrap_or_default(),
        )))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                detail = cause.to_string();
                source = cause.source();
            }
            detail
        })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok::<_, String>((status, body))
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
}

/// `{method} {endpoint}{path}` with a JSON `body`, answered with JSON by riffle local (2xx).
pub(crate) async fn send_json(
    method: axum::http::Method,
    endpoint: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ControlError> {
    let endpoint = endpoint.trim_end_matches('/');
    if !endpoint.starts_with("http://") {
        return Err(ControlError::Unreachable(format!(
            "{endpoint}: riffle local's control API is plain http://"
        )));
    }
    let answer = send(method, endpoint, path, body).await;
    interpret(endpoint, path, answer)
}

/// `GET {endpoint}{path}`, answered with JSON by riffle local.
pub(crate) async fn get_json(endpoint: &str, path: &str) -> Result<Value, ControlError> {
    send_json(axum::http::Method::GET, endpoint, path, None).await
}

/// What an answer of the control API (or of something else) means.
fn interpret(
    endpoint: &str,
    path: &str,
    answer: Result<(u16, Bytes), String>,
) -> Result<Value, ControlError> {
    let (status, body) = answer.map_err(|detail| {
        ControlError::Unreachable(format!(
            "cannot reach riffle local at {endpoint} ({detail}). Is `riffle local` running? It \
             serves this on its emulator's port (default http://127.0.0.1:4566), or on \
             --control-port (default 4567) when it runs with --endpoint-url; pass that address \
             as --endpoint-url"
        ))
    })?;
    let value: Option<Value> = serde_json::from_slice(&body).ok();
    match (status, value) {
        (200..=299, Some(value)) => Ok(value),
        (_, Some(value)) if value["error"].is_string() => Err(ControlError::Refused(
            value["message"]
                .as_str()
                .or(value["error"].as_str())
                .unwrap_or_default()
                .to_owned(),
        )),
        _ => Err(ControlError::NotControl(format!(
            "{endpoint} answered HTTP {status} to {path}, which is not riffle local's control \
             API: is it a bare `riffle emulator`, or another service? (With `riffle local \
             --endpoint-url`, the control API listens on --control-port, default 4567.)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(
            super::encode("shardId-000000000001"),
            "shardId-000000000001"
        );
        assert_eq!(super::encode("a b/c:$"), "a%20b%2Fc%3A%24");
    }
}
