//! A CBOR request body, read into the JSON text the operation's handler already takes.
//!
//! Invariants: byte strings become base64 text (the JSON form of a blob); a number in a
//! timestamp member (tagged 1 or not) is epoch milliseconds, as the AWS SDKs for Java write it,
//! and becomes epoch seconds; indefinite-length strings, byte strings, arrays and maps read as
//! their definite forms; anything else that is not one map with text keys, with nothing after
//! it, is refused.

use std::borrow::Cow;
use std::io::Write as _;

use minicbor::Decoder;
use minicbor::data::Type;
use riffle_core::json::write_string;

use super::shape::{At, Shape, element, member};

/// How deep requests nest at most (Kinesis's deepest input is four levels).
const MAX_DEPTH: u32 = 32;

/// Why a body is not a request (logged; AWS answers a bare `SerializationException`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotARequest(pub(crate) String);

impl From<minicbor::decode::Error> for NotARequest {
    fn from(e: minicbor::decode::Error) -> Self {
        Self(e.to_string())
    }
}

/// Reads one CBOR map shaped `shape` and writes it as JSON text.
pub(super) fn to_json(body: &[u8], shape: At) -> Result<Vec<u8>, NotARequest> {
    let mut reader = Reader {
        d: Decoder::new(body),
        out: Vec::with_capacity(body.len() + body.len() / 2 + 16),
    };
    while reader.d.datatype()? == Type::Tag {
        reader.d.tag()?; // such as 55799, "self-described CBOR"
    }
    if !matches!(reader.d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(NotARequest("the body is not a CBOR map".into()));
    }
    reader.value(shape, 0)?;
    if reader.d.position() != body.len() {
        return Err(NotARequest(format!(
            "{} bytes after the request's map",
            body.len() - reader.d.position()
        )));
    }
    Ok(reader.out)
}

struct Reader<'b> {
    d: Decoder<'b>,
    out: Vec<u8>,
}

impl<'b> Reader<'b> {
    fn value(&mut self, shape: At, depth: u32) -> Result<(), NotARequest> {
        if depth > MAX_DEPTH {
            return Err(NotARequest(format!("nested deeper than {MAX_DEPTH}")));
        }
        let timestamp = shape == Some(&Shape::Timestamp);
        match self.d.datatype()? {
            Type::Bool => {
                let b = self.d.bool()?;
                self.out
                    .extend_from_slice(if b { b"true" } else { b"false" });
            }
            Type::Null => {
                self.d.null()?;
                self.out.extend_from_slice(b"null");
            }
            Type::Undefined => {
                self.d.undefined()?;
                self.out.extend_from_slice(b"null");
            }
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                let n = self.d.u64()?;
                if timestamp {
                    write_millis(&mut self.out, i128::from(n));
                } else {
                    write!(self.out, "{n}").expect("writing to a Vec does not fail");
                }
            }
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
                let n = i128::from(self.d.int()?);
                if timestamp {
                    write_millis(&mut self.out, n);
                } else {
                    write!(self.out, "{n}").expect("writing to a Vec does not fail");
                }
            }
            Type::F16 | Type::F32 | Type::F64 => {
                let f = match self.d.datatype()? {
                    Type::F16 => f64::from(self.d.f16()?),
                    Type::F32 => f64::from(self.d.f32()?),
                    _ => self.d.f64()?,
                };
                let f = if timestamp { f / 1000.0 } else { f };
                let number = serde_json::Number::from_f64(f)
                    .ok_or_else(|| NotARequest(format!("{f} is not a JSON number")))?;
                write!(self.out, "{number}").expect("writing to a Vec does not fail");
            }
            Type::Bytes | Type::BytesIndef => {
                let data = self.bytes()?;
                self.out.push(b'"');
                let start = self.out.len();
                let len = base64_simd::STANDARD.encoded_length(data.len());
                self.out.resize(start + len, 0);
                let _ = base64_simd::STANDARD
                    .encode(&data, base64_simd::Out::from_slice(&mut self.out[start..]));
                self.out.push(b'"');
            }
            Type::String | Type::StringIndef => {
                let text = self.text()?;
                write_string(&mut self.out, &text);
            }
            Type::Array | Type::ArrayIndef => {
                let len = self.d.array()?;
                let inner = element(shape);
                self.out.push(b'[');
                let mut i = 0u64;
                while self.more(len, i)? {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(inner, depth + 1)?;
                    i += 1;
                }
                self.out.push(b']');
            }
            Type::Map | Type::MapIndef => {
                let len = self.d.map()?;
                self.out.push(b'{');
                let mut i = 0u64;
                while self.more(len, i)? {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    if !matches!(self.d.datatype()?, Type::String | Type::StringIndef) {
                        return Err(NotARequest(format!(
                            "a map key is {}, not text",
                            self.d.datatype()?
                        )));
                    }
                    let key = self.text()?;
                    write_string(&mut self.out, &key);
                    self.out.push(b':');
                    self.value(member(shape, &key), depth + 1)?;
                    i += 1;
                }
                self.out.push(b'}');
            }
            // Tag 1 marks a timestamp, which the model already says; other tags (such as
            // 55799, "self-described CBOR") add nothing the handler needs.
            Type::Tag => {
                self.d.tag()?;
                self.value(shape, depth + 1)?;
            }
            other => return Err(NotARequest(format!("unexpected {other}"))),
        }
        Ok(())
    }

    /// Whether item `i` of a container of `len` items (`None`: indefinite) follows; consumes
    /// the break that ends an indefinite container.
    fn more(&mut self, len: Option<u64>, i: u64) -> Result<bool, NotARequest> {
        match len {
            Some(n) => Ok(i < n),
            None if self.d.datatype()? == Type::Break => {
                self.d.set_position(self.d.position() + 1);
                Ok(false)
            }
            None => Ok(true),
        }
    }

    /// A byte string, definite or in chunks.
    fn bytes(&mut self) -> Result<Cow<'b, [u8]>, NotARequest> {
        if self.d.datatype()? == Type::Bytes {
            return Ok(self.d.bytes()?.into());
        }
        let mut bytes = Vec::new();
        for chunk in self.d.bytes_iter()? {
            bytes.extend_from_slice(chunk?);
        }
        Ok(bytes.into())
    }

    /// A text string, definite or in chunks.
    fn text(&mut self) -> Result<Cow<'b, str>, NotARequest> {
        if self.d.datatype()? == Type::String {
            return Ok(self.d.str()?.into());
        }
        let mut text = String::new();
        for chunk in self.d.str_iter()? {
            text.push_str(chunk?);
        }
        Ok(text.into())
    }
}

/// Writes epoch milliseconds as epoch seconds, exactly (`1545084650987` → `1545084650.987`).
fn write_millis(out: &mut Vec<u8>, ms: i128) {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    write!(out, "{sign}{}.{:03}", abs / 1000, abs % 1000).expect("writing to a Vec does not fail");
}
