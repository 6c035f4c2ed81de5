//! Receipt handles: what one receive of a message hands out, sealed, and how a handle is
//! opened again.
//!
//! Invariant: a handle names its queue (by name and creation time), the message's position and
//! the receive count at that receive, so a handle from an earlier receive, or of a queue since
//! deleted and created again, is recognised; handles sealed as JSON by earlier versions still
//! open.

use serde::Deserialize;

use super::store::{Message, Queue};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::seal::Sealer;

/// The receipt handle of this receive of `message`: sealed queue name, queue creation time,
/// message position and receive count, so a handle from an earlier receive is stale.
pub(crate) fn handle(sealer: &Sealer, queue: &Queue, message: &Message) -> String {
    let mut payload = Vec::with_capacity(21 + queue.name.len());
    payload.push(RECEIPT_FORMAT);
    payload.extend_from_slice(&queue.created_ms.to_le_bytes());
    payload.extend_from_slice(&message.seq.to_le_bytes());
    payload.extend_from_slice(&message.receive_count.to_le_bytes());
    payload.extend_from_slice(queue.name.as_bytes());
    sealer.seal(&payload)
}

/// Opens a receipt handle: the queue it belongs to and the message it names, if current.
pub(crate) fn open(sealer: &Sealer, handle: &str, queue: &Queue) -> ApiResult<Option<u64>> {
    let invalid_handle = || {
        ApiError::new(
            ErrorCode::ReceiptHandleIsInvalid,
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    };
    let payload = sealer.open(handle).ok_or_else(invalid_handle)?;
    let receipt = ReceiptPayload::decode(&payload).ok_or_else(invalid_handle)?;
    if *receipt.queue != *queue.name.as_bytes() || receipt.queue_created_ms != queue.created_ms {
        return Err(invalid_handle());
    }
    Ok(queue
        .messages
        .get(&receipt.seq)
        .filter(|m| m.receive_count == receipt.receive_count)
        .map(|m| m.seq))
}

/// The first byte of the receipt handle payloads this version writes: then the queue's
/// creation time and the message position (u64), its receive count (u32), all little-endian,
/// then the queue name. Handles written by earlier versions hold the same facts as JSON (first
/// byte `{`) and are still accepted.
const RECEIPT_FORMAT: u8 = 2;

/// What a receipt handle encodes.
#[derive(Debug, PartialEq, Eq)]
struct ReceiptPayload<'a> {
    queue: std::borrow::Cow<'a, [u8]>,
    queue_created_ms: Millis,
    seq: u64,
    receive_count: u32,
}

impl<'a> ReceiptPayload<'a> {
    fn decode(payload: &'a [u8]) -> Option<Self> {
        match *payload.first()? {
            RECEIPT_FORMAT => {
                let rest = &payload[1..];
                let queue_created_ms = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
                let seq = u64::from_le_bytes(rest.get(8..16)?.try_into().ok()?);
                let receive_count = u32::from_le_bytes(rest.get(16..20)?.try_into().ok()?);
                Some(Self {
                    queue: rest[20..].into(),
                    queue_created_ms,
                    seq,
                    receive_count,
                })
            }
            b'{' => {
                #[derive(Deserialize)]
                struct Json {
                    queue: String,
                    queue_created_ms: Millis,
                    seq: u64,
                    receive_count: u32,
                }
                let json: Json = serde_json::from_slice(payload).ok()?;
                Some(Self {
                    queue: json.queue.into_bytes().into(),
                    queue_created_ms: json.queue_created_ms,
                    seq: json.seq,
                    receive_count: json.receive_count,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::sqs::api::testing::{call, service};

    #[tokio::test]
    async fn receipt_handles_name_the_receive_and_earlier_json_handles_still_work() {
        let sqs = service();
        let url = call(&sqs, "CreateQueue", json!({ "QueueName": "q" })).await["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let batch: Vec<Value> = (0..3)
            .map(|i| json!({ "Id": format!("e{i}"), "MessageBody": format!("m{i}") }))
            .collect();
        let sent = call(
            &sqs,
            "SendMessageBatch",
            json!({ "QueueUrl": url, "Entries": batch }),
        )
        .await;
        assert_eq!(sent["Successful"].as_array().unwrap().len(), 3);
        assert_eq!(sent["Failed"], json!([]));
        let received = call(
            &sqs,
            "ReceiveMessage",
            json!({ "QueueUrl": url, "MaxNumberOfMessages": 3, "AttributeNames": ["All"] }),
        )
        .await;
        let messages = received["Messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0]["Attributes"]["SenderId"], "AKID");
        assert_eq!(messages[0]["Attributes"]["ApproximateReceiveCount"], "1");
        let handle = messages[0]["ReceiptHandle"].as_str().unwrap();
        let payload = sqs.sealer.open(handle).unwrap();
        let receipt = ReceiptPayload::decode(&payload).unwrap();
        let queue_created_ms = sqs.lock().queues()["q"].created_ms;
        assert_eq!(
            receipt,
            ReceiptPayload {
                queue: b"q".as_slice().into(),
                queue_created_ms,
                seq: 1,
                receive_count: 1,
            }
        );
        // Handles as earlier versions sealed them (JSON): of the second message's receive,
        // and of an earlier receive of the third.
        let legacy = |seq: u64, receive_count: u32| {
            sqs.sealer.seal(
                &serde_json::to_vec(&json!({
                    "queue": "q",
                    "queue_created_ms": queue_created_ms,
                    "seq": seq,
                    "receive_count": receive_count,
                }))
                .unwrap(),
            )
        };
        let (legacy, stale) = (legacy(2, 1), legacy(3, 0));
        let deleted = call(
            &sqs,
            "DeleteMessageBatch",
            json!({ "QueueUrl": url, "Entries": [
                { "Id": "a", "ReceiptHandle": handle },
                { "Id": "b", "ReceiptHandle": legacy },
                { "Id": "c", "ReceiptHandle": stale },
                { "Id": "d", "ReceiptHandle": "not-a-handle" },
            ] }),
        )
        .await;
        assert_eq!(
            deleted["Successful"],
            json!([{ "Id": "a" }, { "Id": "b" }, { "Id": "c" }])
        );
        assert_eq!(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
        let store = sqs.lock();
        let left: Vec<u64> = store.queues()["q"].messages.keys().copied().collect();
        assert_eq!(left, [3], "the stale handle deletes nothing");
    }
}
