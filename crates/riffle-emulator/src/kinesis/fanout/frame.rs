//! The `application/vnd.amazon.eventstream` frames of a SubscribeToShard answer, written with
//! the SDK's own encoder (`aws-smithy-eventstream`: prelude and message CRC-32s).
//!
//! Invariants: every frame carries `:message-type`; events carry `:event-type`, exceptions
//! `:exception-type` and a `message`; payloads are in the request's [`Encoding`] and say so in
//! `:content-type`: JSON as the handlers write them, or CBOR written from that JSON once by the
//! CBOR encoder with AWS's shapes (Data a byte string, timestamps tag 1 epoch milliseconds).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use crate::cbor;
use crate::error::ApiError;

/// How a subscription writes its payloads: as its request was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// AWS JSON 1.1 (the Rust, JavaScript and Python SDKs).
    #[default]
    Json,
    /// `application/x-amz-cbor-1.1` (the AWS SDKs for Java, the KCL).
    Cbor,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Cbor => cbor::CONTENT_TYPE,
        }
    }
}

fn header(name: &'static str, value: &str) -> Header {
    Header::new(name, HeaderValue::String(value.to_owned().into()))
}

fn encode(message: &Message) -> Bytes {
    let mut out = Vec::with_capacity(message.payload().len() + 128);
    write_message_to(message, &mut out).expect("event payloads are far below the frame limit");
    Bytes::from(out)
}

/// The `initial-response` event every subscription starts with (an empty structure): the SDKs'
/// `send()` waits for it.
pub(crate) fn initial_response(encoding: Encoding) -> Bytes {
    let payload = match encoding {
        Encoding::Json => b"{}".to_vec(),
        Encoding::Cbor => cbor::plain_payload(b"{}"),
    };
    event(encoding, "initial-response", payload)
}

/// A `SubscribeToShardEvent` whose JSON is `json`.
pub(crate) fn subscribe_to_shard_event(encoding: Encoding, json: Vec<u8>) -> Bytes {
    let payload = match encoding {
        Encoding::Json => json,
        Encoding::Cbor => cbor::subscribe_to_shard_event(&json),
    };
    event(encoding, "SubscribeToShardEvent", payload)
}

fn event(encoding: Encoding, event_type: &str, payload: Vec<u8>) -> Bytes {
    let message = Message::new(payload)
        .add_header(header(":event-type", event_type))
        .add_header(header(":content-type", encoding.content_type()))
        .add_header(header(":message-type", "event"));
    encode(&message)
}

/// An exception frame ending a subscription: `:exception-type` is the AWS error code.
pub(crate) fn exception(encoding: Encoding, error: &ApiError) -> Bytes {
    let json = serde_json::to_vec(&serde_json::json!({ "message": error.message }))
        .expect("a string map encodes");
    let payload = match encoding {
        Encoding::Json => json,
        Encoding::Cbor => cbor::plain_payload(&json),
    };
    let message = Message::new(payload)
        .add_header(header(":exception-type", error.code.as_str()))
        .add_header(header(":content-type", encoding.content_type()))
        .add_header(header(":message-type", "exception"));
    encode(&message)
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};

    use super::*;
    use crate::error::ErrorCode;

    fn decode(bytes: &[u8]) -> Message {
        let mut decoder = MessageFrameDecoder::new();
        let mut buffer = bytes;
        match decoder
            .decode_frame(&mut buffer)
            .expect("the CRCs check out")
        {
            DecodedFrame::Complete(message) => message,
            DecodedFrame::Incomplete => panic!("a whole frame"),
        }
    }

    fn header_of<'m>(message: &'m Message, name: &str) -> &'m str {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str())
            .unwrap_or_else(|| panic!("no header {name}"))
    }

    #[test]
    fn the_initial_response_is_an_empty_json_event() {
        let message = decode(&initial_response(Encoding::Json));
        assert_eq!(header_of(&message, ":message-type"), "event");
        assert_eq!(header_of(&message, ":event-type"), "initial-response");
        assert_eq!(header_of(&message, ":content-type"), "application/json");
        assert_eq!(&message.payload()[..], b"{}");
    }

    #[test]
    fn an_exception_names_its_type_and_message() {
        let error = ApiError::in_use("Another active subscription exists");
        let message = decode(&exception(Encoding::Json, &error));
        assert_eq!(header_of(&message, ":message-type"), "exception");
        assert_eq!(
            header_of(&message, ":exception-type"),
            ErrorCode::ResourceInUseException.as_str()
        );
        let body: serde_json::Value = serde_json::from_slice(message.payload()).unwrap();
        assert_eq!(body["message"], "Another active subscription exists");
    }

    #[test]
    fn a_flipped_bit_fails_the_checksums() {
        let frame = subscribe_to_shard_event(Encoding::Json, br#"{"Records":[]}"#.to_vec());
        // Prelude (total length, headers length, prelude CRC), then headers, payload, message
        // CRC: a frame is exactly as long as its prelude says.
        assert_eq!(
            u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize,
            frame.len()
        );
        for at in [2, frame.len() - 6, frame.len() - 1] {
            let mut broken = frame.to_vec();
            broken[at] ^= 0x01;
            let mut decoder = MessageFrameDecoder::new();
            let mut buffer = &broken[..];
            assert!(
                !matches!(
                    decoder.decode_frame(&mut buffer),
                    Ok(DecodedFrame::Complete(_))
                ),
                "flipping byte {at} must not decode"
            );
        }
    }
}
