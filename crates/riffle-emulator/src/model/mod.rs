//! The generic request checker: a request body checked against its operation's input shape
//! from AWS's model before any handler decodes it. Each service brings its own table (Kinesis's
//! `kinesis/model/table.rs`, Firehose's `firehose/model/table.rs`, both written by
//! `scripts/input_shapes.py`); the checking is the same for all, because all are Coral services.
//!
//! Invariants, as AWS answers: a member of the wrong JSON type is a `SerializationException`
//! naming the first mismatch in Coral's (AWS's service framework) words; otherwise every
//! constraint violation of the whole input (required members, lengths, patterns, enums,
//! ranges, list and map sizes, nested members) is listed in one `ValidationException`, with
//! members spelt as AWS does (`streamName`, `records.1.member.data`). Members the model does
//! not know are ignored; at most ten violations are listed, as AWS does; a body that is not
//! JSON is left to the handler's decoder.

mod constraints;
mod shape;
mod types;

use serde_json::Value;

#[cfg(test)]
pub(crate) use constraints::blob_len;
pub(crate) use shape::{Kind, Member, Model, Shape};
#[cfg(test)]
pub(crate) use types::{base64, java_base64};

use crate::error::{ApiError, ApiResult, ErrorCode, Violations};

/// AWS lists at most this many violations (the first, in the model's member order).
const MAX_LISTED: usize = 10;

/// Checks `body` (JSON) against the input shape of `operation` in `model`.
pub(crate) fn check(model: &Model, operation: &str, body: &[u8]) -> ApiResult<()> {
    let Some(input) = model.input(operation) else {
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
    if let Err(message) = types::check(model, input, &value) {
        return Err(ApiError::new(ErrorCode::SerializationException, message));
    }
    let mut violations = Violations::default();
    constraints::check(model, input, &value, "", &mut violations);
    violations.truncate(MAX_LISTED);
    violations.finish()
}
