//! Building a message from a send entry: the body and attribute checks SQS makes, the size
//! limit, delays, FIFO group and deduplication ids, digests, and message ids.
//!
//! Invariant: [`build_message`] either returns a message ready to enqueue (its position is
//! assigned when the store applies the send) or SQS's error for the entry, and takes a message
//! id only for a message it returns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;

use super::api::request::{bad_value, invalid, missing};
use super::digest::{AttributeValue, attributes_md5};
use super::store::{Message, Queue};
use crate::clock::Millis;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Largest message (body plus attributes) and largest batch, in bytes: 1 MiB, the maximum and
/// default of `MaximumMessageSize` since SQS raised it from 256 KiB.
pub(crate) const MAX_MESSAGE_BYTES: usize = 1_048_576;

/// Most message attributes per message.
pub(crate) const MAX_MESSAGE_ATTRIBUTES: usize = 10;

/// Message ids of one service: a per-start prefix and a counter.
#[derive(Debug)]
pub(crate) struct MessageIds {
    prefix: u64,
    next: AtomicU64,
}

impl MessageIds {
    /// Ids whose prefix mixes `key` with the start time `now`.
    pub(crate) fn new(key: &[u8; 16], now: Millis) -> Self {
        Self {
            prefix: u64::from_le_bytes(key[..8].try_into().expect("8 bytes")) ^ now.rotate_left(17),
            next: AtomicU64::new(0),
        }
    }

    /// A UUID-shaped id: `{p>>32:08x}-{p>>16:04x}-4{p:03x}-a{n>>48:03x}-{n:012x}` of the
    /// per-start prefix `p` and the counter `n`.
    pub(crate) fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let p = self.prefix;
        let mut id = String::with_capacity(36);
        push_hex(&mut id, p >> 32, 8);
        id.push('-');
        push_hex(&mut id, (p >> 16) & 0xffff, 4);
        id.push_str("-4");
        push_hex(&mut id, p & 0xfff, 3);
        id.push_str("-a");
        push_hex(&mut id, (n >> 48) & 0xfff, 3);
        id.push('-');
        push_hex(&mut id, n & 0xffff_ffff_ffff, 12);
        id
    }
}

/// Validates one message for `queue` and builds it (seq is assigned when applied).
pub(crate) fn build_message(
    queue: &Queue,
    entry: &SendEntry,
    now: Millis,
    sender_id: &str,
    ids: &MessageIds,
) -> ApiResult<Message> {
    let body = entry.message_body.as_deref().filter(|b| !b.is_empty());
    let body = body.ok_or_else(|| missing("MessageBody"))?;
    if !body.chars().all(valid_message_char) {
        return Err(ApiError::new(
            ErrorCode::InvalidMessageContents,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 \
             to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        ));
    }
    let attributes = decode_attributes(entry.message_attributes.as_ref(), false)?;
    let system_attributes = decode_attributes(entry.message_system_attributes.as_ref(), true)?;
    let size = body.len() + attributes.iter().map(|(k, v)| v.size(k)).sum::<usize>();
    let max_size = queue.maximum_message_size() as usize;
    if size > max_size {
        return Err(invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than \
             {max_size} bytes."
        )));
    }
    let fifo = queue.fifo();
    let delay = match entry.delay_seconds {
        Some(_) if fifo => {
            return Err(bad_value(
                "DelaySeconds",
                entry.delay_seconds.unwrap_or_default(),
                "The request include parameter that is not valid for this queue type.",
            ));
        }
        Some(d) if !(0..=900).contains(&d) => {
            return Err(bad_value(
                "DelaySeconds",
                d,
                "DelaySeconds must be >= 0 and <= 900.",
            ));
        }
        Some(d) => d as u64,
        None => queue.delay_seconds(),
    };
    for (parameter, value) in [
        ("MessageGroupId", &entry.message_group_id),
        ("MessageDeduplicationId", &entry.message_deduplication_id),
    ] {
        if let Some(value) = value
            && (value.is_empty()
                || value.len() > 128
                || !value.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(bad_value(
                parameter,
                value,
                "It must be 1 to 128 alphanumeric or punctuation characters.",
            ));
        }
    }
    let mut deduplication_id = entry.message_deduplication_id.clone();
    if fifo {
        if entry.message_group_id.is_none() {
            return Err(missing("MessageGroupId"));
        }
        if deduplication_id.is_none() {
            if queue.content_based_deduplication() {
                deduplication_id = Some(sha256_hex(body.as_bytes()));
            } else {
                return Err(invalid(
                    "The queue should either have ContentBasedDeduplication enabled or \
                     MessageDeduplicationId provided explicitly",
                ));
            }
        }
    } else if deduplication_id.is_some() {
        return Err(bad_value(
            "MessageDeduplicationId",
            deduplication_id.unwrap_or_default(),
            "The request include parameter that is not valid for this queue type",
        ));
    }
    let md5_attributes = attributes_md5(&attributes);
    Ok(Message {
        seq: 0,
        id: ids.next(),
        body: body.to_owned(),
        md5_body: riffle_core::digest::md5_hex(body.as_bytes()),
        attributes,
        md5_attributes,
        system_attributes,
        sent_ms: now,
        available_ms: now + delay * 1000,
        visible_ms: now + delay * 1000,
        receive_count: 0,
        first_receive_ms: None,
        last_receive_ms: None,
        sender_id: sender_id.to_owned(),
        group_id: entry.message_group_id.clone(),
        deduplication_id,
        sequence_number: None,
        dead_letter_source_arn: None,
    })
}

/// Lowercase hex SHA-256, which content-based deduplication uses as the deduplication id.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn fifo_sequence_number(seq: u64) -> String {
    format!("{}", 18_000_000_000_000_000_000u64 + seq)
}

fn valid_message_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Appends the `digits` lowest hex digits of `value`, lowercase, zero-padded.
fn push_hex(out: &mut String, value: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(HEX[((value >> (4 * i)) & 0xf) as usize] as char);
    }
}

/// Bytes the message attributes count toward the size limits, as SQS counts them: each
/// attribute's name, data type and value (a binary value by its decoded bytes).
pub(crate) fn attributes_size(attributes: Option<&BTreeMap<String, AttributeInput>>) -> usize {
    attributes.map_or(0, |attributes| {
        attributes
            .iter()
            .map(|(k, v)| {
                k.len()
                    + v.data_type.as_ref().map_or(0, String::len)
                    + v.string_value.as_ref().map_or(0, String::len)
                    + v.binary_value.as_deref().map_or(0, base64_decoded_len)
            })
            .sum()
    })
}

/// The number of bytes base64 `text` decodes to (for size accounting before decoding).
fn base64_decoded_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
    (text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1)).saturating_sub(padding)
}

/// Validates and decodes message (or system) attributes.
fn decode_attributes(
    given: Option<&BTreeMap<String, AttributeInput>>,
    system: bool,
) -> ApiResult<BTreeMap<String, AttributeValue>> {
    let mut out = BTreeMap::new();
    let Some(given) = given else { return Ok(out) };
    if given.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            given.len()
        )));
    }
    for (name, value) in given {
        if system {
            if name != "AWSTraceHeader" {
                return Err(invalid(format!(
                    "Message system attribute name '{name}' is invalid."
                )));
            }
        } else {
            let lower = name.to_ascii_lowercase();
            let valid_name = !name.is_empty()
                && name.len() <= 256
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..")
                && !lower.starts_with("aws.")
                && !lower.starts_with("amazon.");
            if !valid_name {
                return Err(invalid(format!(
                    "Message attribute name '{name}' is invalid."
                )));
            }
        }
        let data_type = value.data_type.clone().ok_or_else(|| {
            invalid(format!(
                "The message attribute '{name}' must contain a non-empty message attribute type."
            ))
        })?;
        let base = data_type.split('.').next().unwrap_or_default();
        if !matches!(base, "String" | "Number" | "Binary") || data_type.len() > 256 {
            return Err(invalid(format!(
                "The type of message attribute '{name}' is invalid. You must use only the \
                 following supported type prefixes: Binary, Number, String."
            )));
        }
        let attribute = if base == "Binary" {
            let encoded = value.binary_value.as_deref().ok_or_else(|| {
                invalid(format!(
                    "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                ))
            })?;
            let bytes = STANDARD.decode(encoded).map_err(|_| {
                ApiError::new(
                    ErrorCode::SerializationException,
                    format!("Invalid base64 in message attribute '{name}'."),
                )
            })?;
            AttributeValue {
                data_type,
                string_value: None,
                binary_value: Some(Bytes::from(bytes)),
            }
        } else {
            let text = value.string_value.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                invalid(format!("The message attribute '{name}' must contain a non-empty value of message attribute type '{base}'."))
            })?;
            if base == "Number" && text.parse::<f64>().is_err() {
                return Err(invalid(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            AttributeValue {
                data_type,
                string_value: Some(text),
                binary_value: None,
            }
        };
        out.insert(name.clone(), attribute);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributeInput {
    pub(crate) data_type: Option<String>,
    pub(crate) string_value: Option<String>,
    pub(crate) binary_value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendEntry {
    pub(crate) queue_url: Option<String>,
    pub(crate) message_body: Option<String>,
    pub(crate) delay_seconds: Option<i64>,
    pub(crate) message_attributes: Option<BTreeMap<String, AttributeInput>>,
    pub(crate) message_system_attributes: Option<BTreeMap<String, AttributeInput>>,
    pub(crate) message_deduplication_id: Option<String>,
    pub(crate) message_group_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_and_digests_are_lowercase_hex() {
        let ids = MessageIds::new(&[9; 16], 1_000_000);
        let id = ids.next();
        let p = ids.prefix;
        assert_eq!(
            id,
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                (p >> 32) as u32,
                (p >> 16) as u16,
                (p & 0xfff) as u16,
                0,
                0
            )
        );
    }
}
