//! A handler's JSON answer, written as CBOR in one pass over its text (no JSON tree).
//!
//! Invariants: a blob member's base64 text becomes a CBOR byte string; a timestamp member's epoch
//! seconds become tag 1 with integer epoch milliseconds (what the AWS SDKs for Java read); every
//! other value keeps its JSON type. Maps and arrays are written with indefinite lengths, as a
//! streaming CBOR writer (Jackson's, which the SDKs for Java use) writes them; error bodies are
//! small definite maps.

use std::fmt;

use minicbor::Encoder;
use minicbor::data::Tag;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::shape::{At, Shape, element, member};

/// RFC 8949's tag for epoch-based date/time (AWS puts milliseconds under it).
const EPOCH_TAG: Tag = Tag::new(1);

type Out = Encoder<Vec<u8>>;

/// Writes the JSON text `json`, shaped `shape`, as CBOR.
pub(super) fn from_json(json: &[u8], shape: At) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Encoder::new(Vec::with_capacity(json.len()));
    let mut de = serde_json::Deserializer::from_slice(json);
    Value {
        shape,
        out: &mut out,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(out.into_writer())
}

/// An error body: `__type`, and `message` unless there is none.
pub(super) fn error(type_name: &str, message: &str) -> Vec<u8> {
    let mut out = Encoder::new(Vec::with_capacity(64 + message.len()));
    let fields = if message.is_empty() { 1 } else { 2 };
    let written = out
        .map(fields)
        .and_then(|o| o.str("__type")?.str(type_name));
    let written = written.and_then(|o| {
        if message.is_empty() {
            Ok(o)
        } else {
            o.str("message")?.str(message)
        }
    });
    written.expect("writing to a Vec does not fail");
    out.into_writer()
}

fn written<E: de::Error>(
    result: Result<&mut Out, minicbor::encode::Error<std::convert::Infallible>>,
) -> Result<(), E> {
    result.map(|_| ()).map_err(|e| E::custom(e))
}

/// One JSON value at `shape`, written to `out` as it is read.
struct Value<'a> {
    shape: At,
    out: &'a mut Out,
}

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Value<'_> {
    fn timestamp(&self) -> bool {
        self.shape == Some(&Shape::Timestamp)
    }

    fn millis<E: de::Error>(self, ms: i64) -> Result<(), E> {
        written(self.out.tag(EPOCH_TAG).and_then(|o| o.i64(ms)))
    }
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        written(self.out.bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        if self.timestamp() {
            return self.millis(v.saturating_mul(1000));
        }
        written(self.out.i64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        if self.timestamp() {
            let seconds = i64::try_from(v).unwrap_or(i64::MAX);
            return self.millis(seconds.saturating_mul(1000));
        }
        written(self.out.u64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if self.timestamp() {
            // Seconds with three decimals are exact milliseconds once rounded.
            return self.millis((v * 1000.0).round() as i64);
        }
        written(self.out.f64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.shape == Some(&Shape::Blob) {
            let bytes = base64_simd::STANDARD
                .decode_to_vec(v)
                .map_err(|_| E::custom(format!("a blob is not base64: {v:.40}")))?;
            return written(self.out.bytes(&bytes));
        }
        written(self.out.str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        written(self.out.null())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = element(self.shape);
        written(self.out.begin_array())?;
        while seq
            .next_element_seed(Value {
                shape: inner,
                out: self.out,
            })?
            .is_some()
        {}
        written(self.out.end())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        written(self.out.begin_map())?;
        while let Some(shape) = map.next_key_seed(Key {
            parent: self.shape,
            out: self.out,
        })? {
            map.next_value_seed(Value {
                shape,
                out: self.out,
            })?;
        }
        written(self.out.end())
    }
}

/// A map key: written, and answered with the shape of its value.
struct Key<'a> {
    parent: At,
    out: &'a mut Out,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = At;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<At, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = At;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<At, E> {
        written(self.out.str(v))?;
        Ok(member(self.parent, v))
    }
}
