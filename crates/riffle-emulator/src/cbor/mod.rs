//! Kinesis over CBOR (`application/x-amz-cbor-1.1`), the wire format the AWS SDKs for Java (v1
//! and v2) and the Kinesis Client Library use by default, translated at the wire boundary so
//! every handler stays JSON-typed: a CBOR request is read into the JSON text its handler takes
//! ([`decode`]), and the handler's JSON answer or error is written as CBOR ([`encode`]), both
//! driven by the shape table written from AWS's model ([`shape`], `model.rs`). SubscribeToShard
//! is read the same way ([`subscribe`]), and its event-stream payloads are written by the same
//! encoder ([`subscribe_to_shard_event`], [`plain_payload`]).
//!
//! Invariants: a request is answered in CBOR when it says `Content-Type:
//! application/x-amz-cbor-1.1`, or when it has no body and does not say AWS JSON 1.1 (AWS's
//! default, recorded by kinesalite); SQS never is. A JSON request never passes through here.
//! An empty or undecodable CBOR body is a `SerializationException`, and an unknown operation an
//! `UnknownOperationException`, each with `__type` alone, as AWS answers them; every other error
//! carries its message.

mod decode;
mod encode;
mod model;
mod shape;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::kinesis::api::EventStream;
use crate::kinesis::fanout::frame::Encoding;
use crate::kinesis::{Action, Kinesis};

/// The content type of CBOR requests and answers.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

/// Whether a request to `service` (the `X-Amz-Target` prefix) with this `Content-Type` and
/// body is answered in CBOR.
pub(crate) fn answers_in_cbor(
    service: &str,
    content_type: Option<&str>,
    body_is_empty: bool,
) -> bool {
    if matches!(service, "AmazonSQS" | "Firehose_20150804") {
        return false;
    }
    let mime = content_type
        .and_then(|value| value.split(';').next())
        .map_or("", str::trim);
    mime == CONTENT_TYPE || (body_is_empty && mime != "application/x-amz-json-1.1")
}

/// Runs `action` on a CBOR body: reads it into JSON for the handler, and writes its answer as
/// CBOR.
pub(crate) async fn call(kinesis: &Kinesis, action: Action, body: &[u8]) -> ApiResult<Vec<u8>> {
    let operation = shape::operation(action.as_str());
    let (input, output) = operation.map_or((None, None), |op| (op.input, op.output));
    if body.is_empty() {
        return Err(ApiError::new(ErrorCode::SerializationException, ""));
    }
    let json = decode::to_json(body, shape::at(input)).map_err(|why| {
        tracing::debug!(operation = action.as_str(), reason = %why.0, "undecodable CBOR request");
        ApiError::new(ErrorCode::SerializationException, "")
    })?;
    let answer = kinesis.call(action, &json).await?;
    if answer.is_empty() {
        // An operation without output answers an empty body in CBOR too.
        return Ok(answer);
    }
    encode::from_json(&answer, shape::at(output)).map_err(|e| {
        ApiError::new(
            ErrorCode::InternalFailure,
            format!(
                "the {} answer could not be written as CBOR: {e}",
                action.as_str()
            ),
        )
    })
}

/// A CBOR request of `operation` read into the JSON its handler takes, for the router's look at
/// it before the action runs (an injected throttle); `None` if it does not decode, which the
/// action itself then answers.
pub(crate) fn request_json(operation: &str, body: &[u8]) -> Option<Vec<u8>> {
    let input = shape::operation(operation)?.input;
    decode::to_json(body, shape::at(input)).ok()
}

/// Starts a SubscribeToShard subscription from a CBOR request: the request is read into JSON
/// as for every operation, and the subscription writes its event payloads in CBOR.
pub(crate) fn subscribe(kinesis: &Arc<Kinesis>, body: &[u8]) -> ApiResult<EventStream> {
    if body.is_empty() {
        return Err(ApiError::new(ErrorCode::SerializationException, ""));
    }
    let input = shape::operation(Action::SubscribeToShard.as_str()).and_then(|op| op.input);
    let json = decode::to_json(body, shape::at(input)).map_err(|why| {
        tracing::debug!(reason = %why.0, "undecodable CBOR SubscribeToShard request");
        ApiError::new(ErrorCode::SerializationException, "")
    })?;
    kinesis.subscribe_to_shard_in(&json, Encoding::Cbor)
}

/// A `SubscribeToShardEvent`'s JSON written as CBOR with its shape from AWS's model
/// (`SubscribeToShardOutput.EventStream.SubscribeToShardEvent`): Records' Data as byte
/// strings, ApproximateArrivalTimestamp as tag 1 epoch milliseconds.
pub(crate) fn subscribe_to_shard_event(json: &[u8]) -> Vec<u8> {
    let output = shape::operation(Action::SubscribeToShard.as_str()).and_then(|op| op.output);
    let event = shape::member(
        shape::member(shape::at(output), "EventStream"),
        "SubscribeToShardEvent",
    );
    encode::from_json(json, event).expect("the service writes valid events")
}

/// A payload without blobs or timestamps (the initial response, an exception's message) as
/// CBOR.
pub(crate) fn plain_payload(json: &[u8]) -> Vec<u8> {
    encode::from_json(json, None).expect("the service writes valid JSON")
}

/// The CBOR body of an error answer: `{"__type": type_name, "message": message}`, without the
/// message for an unknown operation or when there is none.
pub(crate) fn error_body(type_name: &str, code: ErrorCode, message: &str) -> Vec<u8> {
    let message = match code {
        ErrorCode::UnknownOperationException => "",
        _ => message,
    };
    encode::error(type_name, message)
}
