//! The generic request checker: a Kinesis request body checked against its operation's input
//! shape from AWS's model (`table.rs`, written by `scripts/input_shapes.py`) before any handler
//! decodes it.
//!
//! Invariants, as AWS answers: a member of the wrong JSON type is a `SerializationException`
//! naming the first mismatch in Coral's (AWS's service framework) words; otherwise every
//! constraint violation of the whole input (required members, lengths, patterns, enums,
//! ranges, list and map sizes, nested members) is listed in one `ValidationException`, with
//! members spelt as AWS does (`streamName`, `records.1.member.data`). Members the model does
//! not know are ignored; at most ten violations are listed, as AWS does; a body that is not JSON is left to the handler's decoder.

mod constraints;
mod shape;
mod table;
#[cfg(test)]
mod tests;
mod types;

use serde_json::Value;

use crate::error::{ApiError, ApiResult, ErrorCode, Violations};

/// AWS lists at most this many violations (the first, in the model's member order).
const MAX_LISTED: usize = 10;

/// Checks `body` (JSON) against the input shape of `operation`.
pub(crate) fn check(operation: &str, body: &[u8]) -> ApiResult<()> {
    let Some(input) = shape::input(operation) else {
        return Ok(());
    };
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(_) => return Ok(()),
        }
    };
    if let Err(message) = types::check(input, &value) {
        return Err(ApiError::new(ErrorCode::SerializationException, message));
    }
    let mut violations = Violations::default();
    constraints::check(input, &value, "", &mut violations);
    violations.truncate(MAX_LISTED);
    violations.finish()
}
