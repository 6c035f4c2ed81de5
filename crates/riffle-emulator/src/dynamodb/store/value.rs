//! DynamoDB's typed attribute values: the `AttributeValue` union as the wire carries it (and as
//! the log stores it), with DynamoDB's rules for numbers, sets and empty values, and its item
//! size accounting.
//!
//! Invariants: a value that passed [`AttributeValue::validate`] holds numbers in their
//! normalised form (at most 38 significant digits, magnitude in 1e-130..1e126, no leading or
//! trailing zeros), sets that are non-empty and free of duplicates; [`item_size`] counts as
//! DynamoDB bills (names' UTF-8 bytes plus each value's size).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One DynamoDB attribute value, externally tagged as DynamoDB's JSON spells it (`{"S":"x"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeValue {
    /// A string.
    S(String),
    /// A number, as a decimal string.
    N(String),
    /// Binary (base64 on the wire).
    B(#[serde(with = "b64")] Vec<u8>),
    /// A string set.
    SS(Vec<String>),
    /// A number set.
    NS(Vec<String>),
    /// A binary set.
    BS(#[serde(with = "b64_list")] Vec<Vec<u8>>),
    /// A map of named values.
    M(BTreeMap<String, AttributeValue>),
    /// A list of values.
    L(Vec<AttributeValue>),
    /// Null (`true` is its only value).
    #[serde(rename = "NULL")]
    Null(bool),
    /// A boolean.
    #[serde(rename = "BOOL")]
    Bool(bool),
}

/// Decodes a value from DynamoDB's JSON, refusing (as a `ValidationException` message) a value
/// with no type or more than one, at any depth, before serde sees it.
pub fn from_json(value: serde_json::Value) -> Result<AttributeValue, String> {
    fn shape(value: &serde_json::Value) -> Result<(), String> {
        let Some(map) = value.as_object() else {
            return Err(
                "Supplied AttributeValue is empty, must contain exactly one of the \
                        supported datatypes"
                    .to_owned(),
            );
        };
        let set: Vec<_> = map.iter().filter(|(_, v)| !v.is_null()).collect();
        match set.as_slice() {
            [] => Err(
                "Supplied AttributeValue is empty, must contain exactly one of the \
                       supported datatypes"
                    .to_owned(),
            ),
            [(kind, inner)] => match (kind.as_str(), inner) {
                ("L", serde_json::Value::Array(items)) => items.iter().try_for_each(shape),
                ("M", serde_json::Value::Object(map)) => map.values().try_for_each(shape),
                _ => Ok(()),
            },
            _ => Err(
                "Supplied AttributeValue has more than one datatypes set, must contain \
                      exactly one of the supported datatypes"
                    .to_owned(),
            ),
        }
    }
    shape(&value)?;
    let value = strip_nulls(value);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Drops members sent as JSON null (the SDKs never do; hand-written JSON may).
fn strip_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, strip_nulls(v)))
            .collect(),
        serde_json::Value::Array(items) => items.into_iter().map(strip_nulls).collect(),
        other => other,
    }
}

/// Decodes and validates an item (`Item`, `Key`) from DynamoDB's JSON.
pub fn item_from_json(map: serde_json::Map<String, serde_json::Value>) -> Result<Item, String> {
    map.into_iter()
        .map(|(name, value)| {
            let mut value = from_json(value)?;
            value.validate()?;
            Ok((name, value))
        })
        .collect()
}

/// An item: attribute names to values.
pub type Item = BTreeMap<String, AttributeValue>;

/// "One or more parameter values were invalid: " and `what`.
pub(crate) fn invalid(what: impl std::fmt::Display) -> String {
    format!("One or more parameter values were invalid: {what}")
}

impl AttributeValue {
    /// The type's one-letter (or two) name as DynamoDB's messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::S(_) => "S",
            Self::N(_) => "N",
            Self::B(_) => "B",
            Self::SS(_) => "SS",
            Self::NS(_) => "NS",
            Self::BS(_) => "BS",
            Self::M(_) => "M",
            Self::L(_) => "L",
            Self::Null(_) => "NULL",
            Self::Bool(_) => "BOOL",
        }
    }

    /// Checks the value as DynamoDB does and normalises its numbers; the error is a
    /// `ValidationException` message.
    pub fn validate(&mut self) -> Result<(), String> {
        match self {
            Self::N(n) => *n = normalise_number(n)?,
            Self::NS(ns) => {
                if ns.is_empty() {
                    return Err(invalid("An number set  may not be empty"));
                }
                for n in ns.iter_mut() {
                    *n = normalise_number(n)?;
                }
                no_duplicates(ns, |n| n.clone())?;
            }
            Self::SS(ss) => {
                if ss.is_empty() {
                    return Err(invalid("An string set  may not be empty"));
                }
                no_duplicates(ss, |s| s.clone())?;
            }
            Self::BS(bs) => {
                if bs.is_empty() {
                    return Err(invalid("Binary sets should not be empty"));
                }
                no_duplicates(bs, |b| base64::engine::general_purpose::STANDARD.encode(b))?;
            }
            Self::Null(false) => {
                return Err(invalid(
                    "Null attribute value types must have the value of true",
                ));
            }
            Self::M(map) => {
                for value in map.values_mut() {
                    value.validate()?;
                }
            }
            Self::L(list) => {
                for value in list {
                    value.validate()?;
                }
            }
            Self::S(_) | Self::B(_) | Self::Null(true) | Self::Bool(_) => {}
        }
        Ok(())
    }

    /// The value's size as DynamoDB counts it towards the 400 KB item limit.
    pub fn size(&self) -> usize {
        match self {
            Self::S(s) => s.len(),
            Self::N(n) => number_size(n),
            Self::B(b) => b.len(),
            Self::SS(ss) => ss.iter().map(String::len).sum(),
            Self::NS(ns) => ns.iter().map(|n| number_size(n)).sum(),
            Self::BS(bs) => bs.iter().map(Vec::len).sum(),
            Self::M(map) => {
                3 + map
                    .iter()
                    .map(|(name, value)| 1 + name.len() + value.size())
                    .sum::<usize>()
            }
            Self::L(list) => 3 + list.iter().map(|value| 1 + value.size()).sum::<usize>(),
            Self::Null(_) | Self::Bool(_) => 1,
        }
    }
}

/// An item's size: each attribute's name (UTF-8 bytes) plus its value's size.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value.size())
        .sum()
}

/// The largest item DynamoDB stores.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

fn no_duplicates<T>(set: &[T], show: impl Fn(&T) -> String) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    if set.iter().all(|member| seen.insert(show(member))) {
        return Ok(());
    }
    let shown: Vec<String> = set.iter().map(show).collect();
    Err(invalid(format!(
        "Input collection [{}] contains duplicates.",
        shown.join(", ")
    )))
}

/// A number's size: about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

/// A number in DynamoDB's normalised decimal form, or why DynamoDB refuses it.
pub fn normalise_number(text: &str) -> Result<String, String> {
    const NOT_A_NUMBER: &str = "A value provided cannot be converted into a number";
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => {
            let exp: i64 = rest[at + 1..]
                .parse()
                .map_err(|_| NOT_A_NUMBER.to_owned())?;
            (&rest[..at], exp)
        }
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(NOT_A_NUMBER.to_owned());
    }
    // digits × 10^(point - digits.len()).
    let all: String = format!("{int}{frac}");
    let lead = all.bytes().take_while(|&b| b == b'0').count();
    let digits = all[lead..].trim_end_matches('0');
    if digits.is_empty() {
        return Ok("0".to_owned());
    }
    if digits.len() > 38 {
        return Err("Attempting to store more than 38 significant digits in a Number".to_owned());
    }
    // The decimal exponent of the first significant digit (d.ddd × 10^magnitude).
    let magnitude = int.len() as i64 - lead as i64 - 1 + exponent;
    if magnitude >= 126 {
        return Err(
            "Number overflow. Attempting to store a number with magnitude larger than supported \
             range"
                .to_owned(),
        );
    }
    if magnitude < -130 {
        return Err(
            "Number underflow. Attempting to store a number with magnitude smaller than \
             supported range"
                .to_owned(),
        );
    }
    let point = magnitude + 1; // digits before the decimal point
    let len = digits.len() as i64;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point >= len {
        format!("{digits}{}", "0".repeat((point - len) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    Ok(if negative { format!("-{body}") } else { body })
}

mod b64 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

mod b64_list {
    use super::*;

    pub(super) fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let engine = base64::engine::general_purpose::STANDARD;
        s.collect_seq(list.iter().map(|b| engine.encode(b)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .into_iter()
            .map(|t| base64::engine::general_purpose::STANDARD.decode(t))
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_as_dynamodb_stores_them() {
        for (given, stored) in [
            ("1", "1"),
            ("01.50", "1.5"),
            ("-0.0", "0"),
            ("1e3", "1000"),
            ("1.25E-2", "0.0125"),
            ("+7", "7"),
            ("-12.340", "-12.34"),
        ] {
            assert_eq!(normalise_number(given).unwrap(), stored, "{given}");
        }
    }

    #[test]
    fn numbers_dynamodb_cannot_hold_are_refused_in_its_words() {
        assert_eq!(
            normalise_number("1x").unwrap_err(),
            "A value provided cannot be converted into a number"
        );
        assert!(normalise_number("").is_err() && normalise_number(".").is_err());
        let digits39 = "1".repeat(39);
        assert_eq!(
            normalise_number(&digits39).unwrap_err(),
            "Attempting to store more than 38 significant digits in a Number"
        );
        assert!(normalise_number(&"1".repeat(38)).is_ok());
        assert!(
            normalise_number("1e126")
                .unwrap_err()
                .starts_with("Number overflow")
        );
        assert!(normalise_number("9.9e125").is_ok());
        assert!(
            normalise_number("1e-131")
                .unwrap_err()
                .starts_with("Number underflow")
        );
        assert!(normalise_number("1e-130").is_ok());
    }

    #[test]
    fn sets_must_be_non_empty_and_free_of_duplicates() {
        let mut empty = AttributeValue::SS(vec![]);
        assert_eq!(
            empty.validate().unwrap_err(),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        let mut dup = AttributeValue::NS(vec!["1".into(), "1.0".into()]);
        assert_eq!(
            dup.validate().unwrap_err(),
            "One or more parameter values were invalid: Input collection [1, 1] contains \
             duplicates."
        );
        let mut nested = AttributeValue::L(vec![AttributeValue::M(BTreeMap::from([(
            "n".to_owned(),
            AttributeValue::N("002".into()),
        )]))]);
        nested.validate().unwrap();
        assert_eq!(
            nested,
            AttributeValue::L(vec![AttributeValue::M(BTreeMap::from([(
                "n".to_owned(),
                AttributeValue::N("2".into())
            )]))])
        );
    }

    #[test]
    fn values_read_and_write_dynamodbs_json() {
        let json =
            r#"{"a":{"S":"x"},"b":{"B":"AAE="},"c":{"NULL":true},"d":{"L":[{"BOOL":false}]}}"#;
        let item: Item = serde_json::from_str(json).unwrap();
        assert_eq!(item["b"], AttributeValue::B(vec![0, 1]));
        assert_eq!(serde_json::to_string(&item).unwrap(), json);
    }

    #[test]
    fn sizes_count_names_and_values_as_dynamodb_bills() {
        let item: Item = serde_json::from_str(
            r#"{"id":{"S":"abc"},"n":{"N":"123"},"ok":{"BOOL":true},"l":{"L":[{"S":"xy"}]}}"#,
        )
        .unwrap();
        // id 2+3, n 1+(2+1), ok 2+1, l 1+(3+1+2)
        assert_eq!(item_size(&item), 5 + 4 + 3 + 7);
    }
}
