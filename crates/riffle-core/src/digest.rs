//! The MD5 digests SQS returns, computed exactly as AWS does, because SDKs that verify them
//! (the Java and .NET SDKs, botocore) fail the call on a mismatch.
//!
//! Message attributes: attributes sorted by name; each contributes its name, its data type (each
//! as a 4-byte big-endian length followed by the UTF-8 bytes), a transport byte (1 for String and
//! Number types, 2 for Binary), then the value as length and bytes. The digest is the lowercase
//! hex MD5 of that concatenation. System attributes use the same encoding.

use std::collections::BTreeMap;

use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// A message attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    /// `String`, `Number` or `Binary`, optionally with a `.custom` suffix.
    pub data_type: String,
    /// The value of a String or Number attribute.
    pub string_value: Option<String>,
    /// The value of a Binary attribute.
    pub binary_value: Option<Bytes>,
}

impl AttributeValue {
    /// Whether the data type is a binary type.
    pub fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }

    /// Bytes this attribute counts against the message size limit: name, type and value.
    pub fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + self.string_value.as_ref().map_or(0, String::len)
            + self.binary_value.as_ref().map_or(0, Bytes::len)
    }
}

/// Lowercase hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Md5::digest(bytes);
    let mut out = String::with_capacity(32);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

fn push_field(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

/// The MD5 of a set of message (or system) attributes; `None` when there are none.
pub fn attributes_md5(attributes: &BTreeMap<String, AttributeValue>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut buffer = Vec::new();
    for (name, value) in attributes {
        push_field(&mut buffer, name.as_bytes());
        push_field(&mut buffer, value.data_type.as_bytes());
        if value.is_binary() {
            buffer.push(2);
            push_field(
                &mut buffer,
                value.binary_value.as_deref().unwrap_or_default(),
            );
        } else {
            buffer.push(1);
            push_field(
                &mut buffer,
                value.string_value.as_deref().unwrap_or_default().as_bytes(),
            );
        }
    }
    Some(md5_hex(&buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(data_type: &str, value: &str) -> AttributeValue {
        AttributeValue {
            data_type: data_type.into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    #[test]
    fn body_digest_is_plain_md5() {
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_digest_matches_the_published_algorithm() {
        // Built by hand from the algorithm's definition, independently of `attributes_md5`.
        let mut expected = Vec::new();
        for (name, data_type, transport, value) in [
            ("a", "String", 1u8, &b"x"[..]),
            ("b", "Binary", 2u8, &[0u8, 1, 2][..]),
            ("c", "Number", 1u8, &b"42"[..]),
        ] {
            expected.extend_from_slice(&(name.len() as u32).to_be_bytes());
            expected.extend_from_slice(name.as_bytes());
            expected.extend_from_slice(&(data_type.len() as u32).to_be_bytes());
            expected.extend_from_slice(data_type.as_bytes());
            expected.push(transport);
            expected.extend_from_slice(&(value.len() as u32).to_be_bytes());
            expected.extend_from_slice(value);
        }
        let mut attributes = BTreeMap::new();
        attributes.insert("c".to_owned(), string("Number", "42"));
        attributes.insert("a".to_owned(), string("String", "x"));
        attributes.insert(
            "b".to_owned(),
            AttributeValue {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(Bytes::from_static(&[0, 1, 2])),
            },
        );
        assert_eq!(attributes_md5(&attributes), Some(md5_hex(&expected)));
        assert_eq!(attributes_md5(&BTreeMap::new()), None);
    }

    #[test]
    fn attribute_digest_matches_values_pinned_by_other_implementations() {
        // Test vectors from LocalStack's, sqslite's and a Node checksum library's test suites,
        // each of which checks against digests returned by SQS.
        type Case<'a> = (&'a [(&'a str, &'a str, &'a str)], &'a str);
        let cases: [Case<'_>; 3] = [
            (
                &[("timestamp", "Number", "1493147359900")],
                "235c5c510d26fb653d073faed50ae77c",
            ),
            (
                &[("ordinal", "Number", "1"), ("category", "String", "test")],
                "d21ae90c49061e927f57df5f5d72be1f",
            ),
            (
                &[("SellerName", "String", "Example Store")],
                "cd28f3b68aeee4b2eac9c66f2f694b58",
            ),
        ];
        for (attributes, expected) in cases {
            let map: BTreeMap<String, AttributeValue> = attributes
                .iter()
                .map(|(name, data_type, value)| ((*name).to_owned(), string(data_type, value)))
                .collect();
            assert_eq!(
                attributes_md5(&map).as_deref(),
                Some(expected),
                "{attributes:?}"
            );
        }
    }
}
