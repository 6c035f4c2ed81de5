//! Receiving an object body: streamed from the connection to a file (so a large object costs
//! no memory), decoded from `aws-chunked` when the client sent it so (the SDKs' streaming
//! signatures and trailing checksums), with its MD5 and CRC32 computed on the way and checked
//! against `Content-MD5` and `x-amz-checksum-crc32` (header or trailer).
//!
//! Invariant: a body is accepted only whole and as the client digested it; otherwise the file
//! is removed and the request refused with S3's error (BadDigest, InvalidDigest,
//! IncompleteBody, EntityTooLarge).

use std::path::Path;

use axum::body::Body;
use axum::http::HeaderMap;
use base64::Engine as _;
use futures_util::StreamExt as _;
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt as _;

use super::error::{S3Code, S3Error};

/// S3's largest single PUT.
pub(crate) const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// A body received to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    pub size: u64,
    pub md5: [u8; 16],
}

/// Receives `body` into a new file at `path`.
pub(crate) async fn receive(
    body: Body,
    headers: &HeaderMap,
    path: &Path,
) -> Result<Received, S3Error> {
    let result = receive_inner(body, headers, path).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    result
}

async fn receive_inner(body: Body, headers: &HeaderMap, path: &Path) -> Result<Received, S3Error> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let chunked = header("x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-"))
        || header("content-encoding")
            .is_some_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"));
    let declared = if chunked {
        header("x-amz-decoded-content-length")
    } else {
        header("content-length")
    }
    .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PUT_BYTES) {
        return Err(S3Error::new(S3Code::EntityTooLarge)
            .with("ProposedSize", declared.unwrap_or_default().to_string())
            .with("MaxSizeAllowed", MAX_PUT_BYTES.to_string()));
    }
    let expected_md5 = match header("content-md5") {
        None => None,
        Some(value) => Some(
            decode_digest::<16>(value)
                .ok_or_else(|| S3Error::new(S3Code::InvalidDigest).with("Content-MD5", value))?,
        ),
    };
    let file = tokio::fs::File::create(path).await?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut decoder = chunked.then(Chunked::default);
    let mut md5 = Md5::new();
    let mut crc = crc32fast::Hasher::new();
    let mut size = 0u64;
    let mut decoded = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|_| S3Error::new(S3Code::IncompleteBody))?;
        let data: &[u8] = match &mut decoder {
            Some(decoder) => {
                decoded.clear();
                decoder.feed(&frame, &mut decoded)?;
                &decoded
            }
            None => &frame,
        };
        size += data.len() as u64;
        if size > MAX_PUT_BYTES {
            return Err(S3Error::new(S3Code::EntityTooLarge));
        }
        md5.update(data);
        crc.update(data);
        out.write_all(data).await?;
    }
    out.flush().await?;
    let mut trailers = Vec::new();
    if let Some(decoder) = decoder {
        if decoder.state != State::Done {
            return Err(S3Error::new(S3Code::IncompleteBody));
        }
        trailers = decoder.trailers;
    }
    if declared.is_some_and(|n| n != size) {
        return Err(S3Error::new(S3Code::IncompleteBody));
    }
    let md5: [u8; 16] = md5.finalize().into();
    if expected_md5.is_some_and(|e| e != md5) {
        return Err(S3Error::new(S3Code::BadDigest)
            .with("ExpectedDigest", header("content-md5").unwrap_or_default())
            .with(
                "CalculatedDigest",
                base64::engine::general_purpose::STANDARD.encode(md5),
            ));
    }
    let crc_claim = header("x-amz-checksum-crc32")
        .map(str::to_owned)
        .or_else(|| {
            trailers
                .iter()
                .find(|(name, _)| name == "x-amz-checksum-crc32")
                .map(|(_, value)| value.clone())
        });
    if let Some(claim) = crc_claim {
        let computed = crc.finalize().to_be_bytes();
        if decode_digest::<4>(&claim) != Some(computed) {
            return Err(S3Error::new(S3Code::BadDigest)
                .message("The CRC32 you specified did not match the calculated checksum."));
        }
    }
    Ok(Received { size, md5 })
}

fn decode_digest<const N: usize>(value: &str) -> Option<[u8; N]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    bytes.try_into().ok()
}

/// Longest chunk header or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Reading `<hex size>[;chunk-signature=…]\r\n`.
    #[default]
    Size,
    /// This many data bytes of the chunk remain.
    Data(u64),
    /// Reading the `\r\n` after a chunk's data.
    DataEnd,
    /// Reading trailer lines after the last (empty) chunk, until an empty line.
    Trailer,
    Done,
}

/// The `aws-chunked` content encoding, decoded incrementally (any split of the input gives the
/// same output).
#[derive(Debug, Default)]
pub(crate) struct Chunked {
    state: State,
    line: Vec<u8>,
    /// Trailing headers (`x-amz-checksum-*`), names lowercased.
    trailers: Vec<(String, String)>,
}

impl Chunked {
    /// Feeds `input`, appending decoded data to `out`.
    pub(crate) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), S3Error> {
        let malformed =
            || S3Error::new(S3Code::InvalidRequest).message("The aws-chunked body is malformed.");
        while !input.is_empty() {
            match self.state {
                State::Data(remaining) => {
                    let take = remaining.min(input.len() as u64) as usize;
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::Done => {
                    if input.iter().all(|b| b.is_ascii_whitespace()) {
                        return Ok(());
                    }
                    return Err(malformed());
                }
                State::Size | State::DataEnd | State::Trailer => {
                    let Some(end) = input.iter().position(|&b| b == b'\n') else {
                        self.line.extend_from_slice(input);
                        if self.line.len() > MAX_LINE {
                            return Err(malformed());
                        }
                        return Ok(());
                    };
                    self.line.extend_from_slice(&input[..end]);
                    input = &input[end + 1..];
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    let line = std::str::from_utf8(line).map_err(|_| malformed())?;
                    self.state = match self.state {
                        State::Size => {
                            let hex = line.split(';').next().unwrap_or("").trim();
                            match u64::from_str_radix(hex, 16).map_err(|_| malformed())? {
                                0 => State::Trailer,
                                n => State::Data(n),
                            }
                        }
                        State::DataEnd if line.is_empty() => State::Size,
                        State::DataEnd => return Err(malformed()),
                        _ if line.is_empty() => State::Done,
                        _ => {
                            let (name, value) = line.split_once(':').ok_or_else(malformed)?;
                            self.trailers
                                .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                            State::Trailer
                        }
                    };
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_split(body: &[u8], split: usize) -> Result<(Vec<u8>, Chunked), S3Error> {
        let mut decoder = Chunked::default();
        let mut out = Vec::new();
        for piece in body.chunks(split.max(1)) {
            decoder.feed(piece, &mut out)?;
        }
        Ok((out, decoder))
    }

    #[test]
    fn a_signed_chunked_body_decodes_the_same_whatever_the_split() {
        let body = b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=00\r\n\r\n";
        for split in 1..body.len() {
            let (out, decoder) = decode_split(body, split).unwrap();
            assert_eq!(out, b"hello world", "split {split}");
            assert_eq!(decoder.state, State::Done);
        }
    }

    #[test]
    fn an_unsigned_body_with_a_trailing_checksum_keeps_the_trailer() {
        let body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n";
        let (out, decoder) = decode_split(body, 4).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(decoder.state, State::Done);
        assert_eq!(
            decoder.trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "NSRBwg==".to_owned())]
        );
    }

    #[test]
    fn a_malformed_body_is_refused() {
        assert!(decode_split(b"zz\r\nabc\r\n", 100).is_err());
        // Data longer than its chunk size announces.
        assert!(decode_split(b"2\r\nabc\r\n0\r\n\r\n", 100).is_err());
        let (_, truncated) = decode_split(b"5\r\nabc", 100).unwrap();
        assert_ne!(truncated.state, State::Done);
    }

    async fn receive_bytes(
        headers: &[(&str, &str)],
        body: &'static [u8],
    ) -> Result<(Received, Vec<u8>), S3Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let received = receive(Body::from(body), &map, &path).await?;
        Ok((received, std::fs::read(&path).unwrap()))
    }

    #[tokio::test]
    async fn a_body_is_stored_with_its_md5_and_checked_against_content_md5() {
        // md5("abc") = 900150983cd24fb0d6963f7d28e17f72
        let (received, stored) =
            receive_bytes(&[("content-md5", "kAFQmDzST7DWlj99KOF/cg==")], b"abc")
                .await
                .unwrap();
        assert_eq!(stored, b"abc");
        assert_eq!(received.size, 3);
        assert_eq!(
            crate::s3::store::hex(&received.md5),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        let wrong = receive_bytes(&[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")], b"abc")
            .await
            .unwrap_err();
        assert_eq!(wrong.code, S3Code::BadDigest);
        let invalid = receive_bytes(&[("content-md5", "nope")], b"abc")
            .await
            .unwrap_err();
        assert_eq!(invalid.code, S3Code::InvalidDigest);
    }

    #[tokio::test]
    async fn a_chunked_body_is_decoded_and_its_trailing_crc32_checked() {
        let headers = [
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", "3"),
        ];
        let (received, stored) = receive_bytes(
            &headers,
            b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!(stored, b"abc");
        assert_eq!(received.size, 3);
        let bad = receive_bytes(
            &headers,
            b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        )
        .await
        .unwrap_err();
        assert_eq!(bad.code, S3Code::BadDigest);
        let short = receive_bytes(&headers, b"2\r\nab\r\n0\r\n\r\n")
            .await
            .unwrap_err();
        assert_eq!(short.code, S3Code::IncompleteBody);
    }
}
