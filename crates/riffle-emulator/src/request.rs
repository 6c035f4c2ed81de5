//! What every AWS JSON request shares, whichever service it is for: reading its body.
//!
//! Invariant: a blank body reads as `{}` (the SDKs send none for operations without members),
//! and a body that is not JSON of the operation's shape is AWS's `SerializationException`.

use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, ErrorCode};

/// Decodes a JSON request body into the operation's input.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::SerializationException, e.to_string()))
}
