//! Sealed tokens: opaque strings the emulator hands out and later takes back (Kinesis shard
//! iterators and pagination tokens; SQS may use it for receipt handles), sealed with the
//! emulator's secret key.
//!
//! Invariant: a token opens only with the key that sealed it and only unaltered; a tampered,
//! truncated or foreign token opens to `None`, never to a misread payload.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::{Digest, Md5};

/// Seals and opens opaque tokens with a secret key (a keyed MD5, truncated to 12 bytes).
#[derive(Debug, Clone)]
pub(crate) struct Sealer {
    key: [u8; 16],
}

const MAC_LEN: usize = 12;

impl Sealer {
    /// A sealer using `key`.
    pub(crate) fn new(key: [u8; 16]) -> Self {
        Self { key }
    }

    fn mac(&self, payload: &[u8]) -> [u8; 16] {
        let mut hasher = Md5::new();
        hasher.update(self.key);
        hasher.update(payload);
        hasher.update(self.key);
        hasher.finalize().into()
    }

    /// Seals `payload` into a URL-safe string.
    pub(crate) fn seal(&self, payload: &[u8]) -> String {
        let mut bytes = Vec::with_capacity(1 + payload.len() + MAC_LEN);
        bytes.push(1); // token format version
        bytes.extend_from_slice(payload);
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Opens a sealed token; `None` if it was not sealed by this key or was altered.
    pub(crate) fn open(&self, token: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() < 1 + MAC_LEN || bytes[0] != 1 {
            return None;
        }
        let (body, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        if self.mac(body)[..MAC_LEN] != *mac {
            return None;
        }
        Some(body[1..].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_reject_tampering_and_foreign_keys() {
        let sealer = Sealer::new([7; 16]);
        let token = sealer.seal(b"payload");
        assert_eq!(sealer.open(&token).as_deref(), Some(&b"payload"[..]));
        let mut chars: Vec<char> = token.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        assert_eq!(sealer.open(&chars.into_iter().collect::<String>()), None);
        assert_eq!(Sealer::new([8; 16]).open(&token), None);
        assert_eq!(sealer.open("not a token"), None);
    }
}
