//! The tools' Lambda request: one RequestResponse invoke, answered as it came.
//!
//! Invariant: a function error is an answer, not an error: only a failed request is `Err`.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

/// What a RequestResponse invoke answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `X-Amz-Function-Error`, when the function failed.
    pub function_error: Option<String>,
    /// The function's response (or error document).
    pub payload: Vec<u8>,
}

/// Why an invoke got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The service refused it: its error code and message.
    Service {
        /// The error code (`error` when it sent none).
        code: String,
        /// The message.
        message: String,
    },
    /// It did not reach the service (or its answer could not be read).
    Unreachable(String),
}

/// Invokes `function` (name or ARN) with `payload`, RequestResponse.
pub async fn invoke(
    client: &Client,
    function: &str,
    payload: String,
) -> Result<Answer, InvokeError> {
    let out = client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(service) => InvokeError::Service {
                code: service.code().unwrap_or("error").to_owned(),
                message: service.message().unwrap_or_default().to_owned(),
            },
            None => InvokeError::Unreachable(e.to_string()),
        })?;
    Ok(Answer {
        function_error: out.function_error,
        payload: out.payload.map(Blob::into_inner).unwrap_or_default(),
    })
}
