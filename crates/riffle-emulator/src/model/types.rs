//! The type pass: each JSON value against its shape's type, with Coral's words for the first
//! mismatch (`class java.lang.Boolean can not be converted to an String`, ...). `null` is an
//! absent member of any type.

use serde_json::{Map, Value};

use super::shape::{Kind, Member, Model, Shape};

const NUMBER: &str = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
const LIST_HERE: &str = "Start of list found where not expected";
const MAP_HERE: &str = "Start of structure or map found where not expected.";

/// The first type mismatch below `value`, in AWS's words.
pub(super) fn check(model: &Model, shape: &Shape, value: &Value) -> Result<(), String> {
    match (&shape.kind, value) {
        (_, Value::Null) => Ok(()),
        (Kind::Structure(members), Value::Object(map)) => structure(model, members, map),
        (Kind::Structure(_), Value::Array(_)) => Err(LIST_HERE.into()),
        (Kind::Structure(_), _) => Err("Expected null".into()),
        (Kind::Map(_, values), Value::Object(map)) => {
            let values = model.shape(*values);
            map.values().try_for_each(|v| check(model, values, v))
        }
        (Kind::Map(..), Value::Array(_)) => Err(LIST_HERE.into()),
        (Kind::Map(..), _) => Err("Expected map or null".into()),
        (Kind::List(member), Value::Array(items)) => {
            let member = model.shape(*member);
            items.iter().try_for_each(|v| check(model, member, v))
        }
        (Kind::List(_), Value::Object(_)) => Err(MAP_HERE.into()),
        (Kind::List(_), _) => Err("Expected list or null".into()),
        (_, Value::Array(_)) => Err(LIST_HERE.into()),
        (_, Value::Object(_)) => Err(MAP_HERE.into()),
        (Kind::String, Value::String(_)) => Ok(()),
        (Kind::String, Value::Bool(_)) => Err(convert("class java.lang.Boolean", "an String")),
        (Kind::String, Value::Number(_)) => Err(convert(NUMBER, "an String")),
        (Kind::Boolean, Value::Bool(_)) => Ok(()),
        (Kind::Boolean, Value::String(s)) => Err(convert(&format!("'{s}'"), "an Boolean")),
        (Kind::Boolean, Value::Number(n)) if n.is_f64() => Ok(()),
        (Kind::Boolean, Value::Number(_)) => Err(convert(NUMBER, "an Boolean")),
        (Kind::Integer | Kind::Long | Kind::Double | Kind::Timestamp, Value::Number(_)) => Ok(()),
        (kind @ (Kind::Integer | Kind::Long | Kind::Double | Kind::Timestamp), other) => {
            let class = if other.is_string() {
                "class java.lang.String"
            } else {
                "class java.lang.Boolean"
            };
            Err(match kind {
                Kind::Integer => convert(class, "an Integer"),
                Kind::Long => convert(class, "an Long"),
                Kind::Double => convert(class, "an Double"),
                _ => format!("{class} can not be converted to milliseconds since epoch"),
            })
        }
        (Kind::Blob, Value::String(s)) => {
            base64(s).map_err(|why| format!("'{s}' can not be converted to a Blob: {why}"))
        }
        (Kind::Blob, Value::Bool(_)) => Err(convert("class java.lang.Boolean", "a Blob")),
        (Kind::Blob, Value::Number(_)) => Err(convert(NUMBER, "a Blob")),
    }
}

fn structure(model: &Model, members: &[Member], map: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in map {
        if let Some(member) = members.iter().find(|m| m.name == key) {
            check(model, model.shape(member.shape), value)?;
        }
    }
    Ok(())
}

fn convert(what: &str, to: &str) -> String {
    format!("{what} can not be converted to {to}")
}

/// Checks base64 text as Java's decoder does, in its words.
///
/// Every PutRecords entry's data passes here, so valid text (nearly all of it) takes the SIMD
/// check, and only the unused bits of its last character are left to look at; what the SIMD
/// check refuses goes through [`java_base64`] for Java's message. The two agree on every text
/// (a property test says so).
pub(crate) fn base64(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    if base64_simd::STANDARD.check(bytes).is_err() {
        return java_base64(bytes);
    }
    last_bits(bytes)
}

/// Java's decoder's checks byte by byte: length, alphabet, then the last character's unused
/// bits.
pub(crate) fn java_base64(bytes: &[u8]) -> Result<(), String> {
    if !bytes.len().is_multiple_of(4) {
        return Err(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            bytes.len()
        ));
    }
    let (body, _) = unpadded(bytes);
    if let Some(&bad) = body.iter().find(|&&b| sextet(b).is_none()) {
        return Err(format!("Invalid Base64 character: '{}'", char::from(bad)));
    }
    last_bits(bytes)
}

/// Padded text must leave the bits of its last character that no byte uses at zero.
fn last_bits(bytes: &[u8]) -> Result<(), String> {
    let (body, pads) = unpadded(bytes);
    if let (Some(&last), 1 | 2) = (body.last(), pads) {
        let unused = if pads == 1 { 0b11 } else { 0b1111 };
        if sextet(last).is_some_and(|v| v & unused != 0) {
            return Err("Invalid last non-pad Base64 character dectected".into());
        }
    }
    Ok(())
}

/// The text before its padding (at most two `=`), and how many there were.
pub(super) fn unpadded(bytes: &[u8]) -> (&[u8], usize) {
    let pads = bytes
        .iter()
        .rev()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    (&bytes[..bytes.len() - pads], pads)
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}
