//! Event filtering: the pattern language Lambda applies to records before batching, on the
//! base64-decoded, JSON-parsed `data` of Kinesis records and on the `body` and metadata of SQS
//! messages.
//!
//! A pattern is a JSON object. Each key names a field; its value is either a nested object
//! (match inside that field) or a list of matchers, any one of which must match (OR). Every key
//! of a pattern must match (AND); a record passes if any of the mapping's patterns matches.
//! A field holding a list matches if any element matches.
//!
//! The matchers are exactly the rows of Lambda's filter-rule syntax table (Lambda Developer
//! Guide, "Filter rule syntax"), nothing more: literal strings, numbers, booleans and `null`
//! (Null, Empty `""`, Equals; exact, and numbers compare by their JSON text, so `300` does not
//! match `300.0`), `{"equals-ignore-case": s}`, `{"anything-but": v | [v…]}` (Not),
//! `{"numeric": [op, n (, op, n)]}` with `=`, `<`, `<=`, `>`, `>=` (Numeric equals and range),
//! `{"exists": bool}` (Exists, Does not exist), `{"prefix": s}` (Begins with) and
//! `{"suffix": s}` (Ends with). EventBridge's other operators — `wildcard`, `cidr`, `$or`,
//! and `anything-but` with `prefix`, `suffix`, `wildcard` or `equals-ignore-case` — are not in
//! Lambda's table and are refused like any malformed pattern.
//!
//! Records whose `data` is not JSON are dropped by a pattern that names `data`, and matched on
//! their metadata (`partitionKey`, `sequenceNumber`) otherwise, as Lambda documents.
//!
//! The limits on FilterCriteria (five filters, 4 096 characters a pattern) are validated here
//! for every kind of mapping ([`filter_patterns`]).
//!
//! Invariant: a pattern that does not compile is rejected when the mapping is created
//! (`Invalid filter pattern definition.`), never silently treated as match-all.

use serde_json::{Map, Value};

use crate::config::{Collector, ConfigError, ConfigErrorKind, RawFilterCriteria};
use crate::record::StreamRecord;
use crate::sqs::event::QueueMessage;

/// One compiled matcher.
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Value>),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
}

/// A compiled pattern: field → nested pattern or matchers.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Object(Vec<(String, Node)>),
    Matchers(Vec<Matcher>),
}

/// The compiled filters of a mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    patterns: Vec<Node>,
}

fn invalid() -> String {
    "Invalid filter pattern definition.".to_owned()
}

fn compile_node(value: &Value) -> Result<Node, String> {
    match value {
        Value::Object(map) => {
            let mut fields = Vec::new();
            for (key, value) in map {
                fields.push((key.clone(), compile_node(value)?));
            }
            Ok(Node::Object(fields))
        }
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(compile_matcher)
            .collect::<Result<_, _>>()
            .map(Node::Matchers),
        _ => Err(invalid()),
    }
}

fn compile_matcher(item: &Value) -> Result<Matcher, String> {
    let Value::Object(map) = item else {
        return Ok(Matcher::Exact(item.clone()));
    };
    let (kind, argument) = map
        .iter()
        .next()
        .filter(|_| map.len() == 1)
        .ok_or_else(invalid)?;
    Ok(match (kind.as_str(), argument) {
        ("prefix", Value::String(s)) => Matcher::Prefix(s.clone()),
        ("suffix", Value::String(s)) => Matcher::Suffix(s.clone()),
        ("equals-ignore-case", Value::String(s)) => Matcher::EqualsIgnoreCase(s.to_lowercase()),
        ("exists", Value::Bool(b)) => Matcher::Exists(*b),
        ("anything-but", Value::Array(values))
            if !values.is_empty() && values.iter().all(|v| v.is_string() || v.is_number()) =>
        {
            Matcher::AnythingBut(values.clone())
        }
        ("anything-but", value @ (Value::String(_) | Value::Number(_))) => {
            Matcher::AnythingBut(vec![value.clone()])
        }
        ("numeric", Value::Array(parts))
            if !parts.is_empty() && parts.len() % 2 == 0 && parts.len() <= 4 =>
        {
            let mut conditions = Vec::new();
            for pair in parts.chunks(2) {
                let (Value::String(op), Value::Number(n)) = (&pair[0], &pair[1]) else {
                    return Err(invalid());
                };
                if !matches!(op.as_str(), "=" | "<" | "<=" | ">" | ">=") {
                    return Err(invalid());
                }
                conditions.push((op.clone(), n.as_f64().ok_or_else(invalid)?));
            }
            Matcher::Numeric(conditions)
        }
        _ => return Err(invalid()),
    })
}

fn literal_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.to_string() == y.to_string(),
        _ => a == b,
    }
}

impl Matcher {
    fn matches_value(&self, value: &Value) -> bool {
        match self {
            Self::Exact(expected) => literal_eq(expected, value),
            Self::Prefix(p) => value.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Self::Suffix(p) => value.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Self::EqualsIgnoreCase(p) => value.as_str().is_some_and(|s| s.to_lowercase() == *p),
            Self::AnythingBut(values) => {
                !matches!(value, Value::Null) && !values.iter().any(|v| literal_eq(v, value))
            }
            Self::Numeric(conditions) => value.as_f64().is_some_and(|n| {
                conditions.iter().all(|(op, bound)| match op.as_str() {
                    "=" => n == *bound,
                    "<" => n < *bound,
                    "<=" => n <= *bound,
                    ">" => n > *bound,
                    _ => n >= *bound,
                })
            }),
            Self::Exists(_) => true,
        }
    }
}

fn matches_node(node: &Node, value: Option<&Value>) -> bool {
    match node {
        Node::Object(fields) => {
            let map = value.and_then(Value::as_object);
            fields
                .iter()
                .all(|(key, child)| matches_node(child, map.and_then(|m| m.get(key))))
        }
        Node::Matchers(matchers) => matchers.iter().any(|matcher| match (matcher, value) {
            (Matcher::Exists(wanted), found) => *wanted == found.is_some(),
            (_, None) => false,
            (matcher, Some(Value::Array(items))) => {
                items.iter().any(|item| matcher.matches_value(item))
            }
            (matcher, Some(value)) => matcher.matches_value(value),
        }),
    }
}

impl Filters {
    /// Compiles the mapping's patterns (JSON objects); an empty list passes every record.
    pub fn compile(patterns: &[Value]) -> Result<Self, String> {
        patterns
            .iter()
            .map(|p| {
                if p.is_object() {
                    compile_node(p)
                } else {
                    Err(invalid())
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|patterns| Self { patterns })
    }

    /// Whether no filter is configured.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `record` passes (is delivered to the function).
    pub fn passes(&self, record: &StreamRecord) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let data: Option<Value> = serde_json::from_slice(&record.data).ok();
        let mut event = Map::new();
        event.insert(
            "partitionKey".into(),
            Value::String(record.partition_key.clone()),
        );
        event.insert(
            "sequenceNumber".into(),
            Value::String(record.sequence_number.to_string()),
        );
        if let Some(data) = &data {
            event.insert("data".into(), data.clone());
        }
        let event = Value::Object(event);
        self.patterns.iter().any(|pattern| {
            let names_data =
                matches!(pattern, Node::Object(fields) if fields.iter().any(|(k, _)| k == "data"));
            if names_data && data.is_none() {
                return false;
            }
            matches_node(pattern, Some(&event))
        })
    }
}

impl Filters {
    /// Whether an SQS message passes. Filters see the message as the event shows it (`body`,
    /// `attributes`, `messageAttributes`, `messageId`, `md5OfBody`, `eventSource`), with Lambda's
    /// body-format rule: a JSON body (an object or a list) is matched by a pattern that names
    /// fields inside `body`, a plain body by a pattern that lists values for `body`; a pattern of
    /// the other form drops the message.
    pub fn passes_message(&self, message: &QueueMessage) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let body = serde_json::from_str::<Value>(&message.body)
            .ok()
            .filter(|v| v.is_object() || v.is_array());
        let body_is_json = body.is_some();
        let mut event = Map::new();
        event.insert("messageId".into(), message.message_id.clone().into());
        event.insert(
            "body".into(),
            body.unwrap_or_else(|| Value::String(message.body.clone())),
        );
        let attributes: Map<String, Value> = message
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        event.insert("attributes".into(), Value::Object(attributes));
        let message_attributes: Map<String, Value> = message
            .message_attributes
            .iter()
            .map(|(name, a)| {
                let mut fields = Map::new();
                if let Some(v) = &a.string_value {
                    fields.insert("stringValue".into(), v.clone().into());
                }
                if let Some(v) = &a.binary_value {
                    fields.insert("binaryValue".into(), v.clone().into());
                }
                fields.insert("dataType".into(), a.data_type.clone().into());
                (name.clone(), Value::Object(fields))
            })
            .collect();
        event.insert(
            "messageAttributes".into(),
            Value::Object(message_attributes),
        );
        event.insert("md5OfBody".into(), message.md5_of_body.clone().into());
        event.insert("eventSource".into(), "aws:sqs".into());
        let event = Value::Object(event);
        self.patterns.iter().any(|pattern| {
            let body_pattern = match pattern {
                Node::Object(fields) => fields.iter().find(|(k, _)| k == "body").map(|(_, n)| n),
                Node::Matchers(_) => None,
            };
            let form_fits = match body_pattern {
                None => true,
                Some(Node::Object(_)) => body_is_json,
                Some(Node::Matchers(_)) => !body_is_json,
            };
            form_fits && matches_node(pattern, Some(&event))
        })
    }
}

/// Most filters per mapping (AWS's default quota).
pub const MAX_FILTERS: usize = 5;
/// Longest filter pattern, in characters: the API model's `Pattern` maximum length.
pub const MAX_PATTERN_LENGTH: usize = 4096;

/// Validates `FilterCriteria` the same way for every kind of mapping: at most [`MAX_FILTERS`]
/// filters, each pattern at most [`MAX_PATTERN_LENGTH`] characters (counted as the service
/// counts a string's length, in UTF-16 code units) and a JSON object in Lambda's filter-rule
/// syntax. Returns the patterns; pushes AWS's refusal for each problem onto `errors`.
pub fn filter_patterns(
    criteria: Option<&RawFilterCriteria>,
    errors: &mut Vec<ConfigError>,
) -> Vec<serde_json::Value> {
    let mut c = Collector(std::mem::take(errors));
    let mut patterns = Vec::new();
    let filters = criteria
        .and_then(|f| f.filters.as_deref())
        .unwrap_or_default();
    if filters.len() > MAX_FILTERS {
        c.invalid(
            "FilterCriteria",
            format!(
                "The number of filters ({}) exceeds the limit of {MAX_FILTERS} per event source \
                 mapping.",
                filters.len()
            ),
        );
    }
    for (index, filter) in filters.iter().enumerate() {
        let pattern = filter.pattern.as_deref().unwrap_or_default();
        if pattern.encode_utf16().count() > MAX_PATTERN_LENGTH {
            c.0.push(ConfigError {
                property: "FilterCriteria",
                kind: ConfigErrorKind::Validation,
                message: format!(
                    "Value '{pattern}' at 'filterCriteria.filters.{}.member.pattern' failed to \
                     satisfy constraint: Member must have length less than or equal to \
                     {MAX_PATTERN_LENGTH}",
                    index + 1
                ),
            });
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(pattern) {
            Ok(value) if Filters::compile(std::slice::from_ref(&value)).is_ok() => {
                patterns.push(value);
            }
            _ => c.invalid("FilterCriteria", "Invalid filter pattern definition."),
        }
    }
    *errors = c.0;
    patterns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SequenceNumber;

    fn record(data: &str) -> StreamRecord {
        StreamRecord {
            sequence_number: SequenceNumber::parse("1").unwrap(),
            partition_key: "user-1".into(),
            data: bytes::Bytes::from(data.to_owned()),
            arrival_ms: 0,
        }
    }

    fn passes(pattern: &str, data: &str) -> bool {
        let filters = Filters::compile(&[serde_json::from_str(pattern).unwrap()]).unwrap();
        filters.passes(&record(data))
    }

    #[test]
    fn exact_and_or_lists() {
        assert!(passes(
            r#"{"data":{"type":["order","refund"]}}"#,
            r#"{"type":"refund"}"#
        ));
        assert!(!passes(
            r#"{"data":{"type":["order"]}}"#,
            r#"{"type":"refund"}"#
        ));
        assert!(passes(r#"{"data":{"n":[300]}}"#, r#"{"n":300}"#));
        assert!(
            !passes(r#"{"data":{"n":[300]}}"#, r#"{"n":300.0}"#),
            "numbers compare by their text"
        );
        assert!(passes(r#"{"data":{"v":[null]}}"#, r#"{"v":null}"#));
        assert!(passes(r#"{"data":{"v":[""]}}"#, r#"{"v":""}"#));
        assert!(
            passes(r#"{"data":{"tags":["a"]}}"#, r#"{"tags":["b","a"]}"#),
            "any element of a list"
        );
    }

    #[test]
    fn prefix_suffix_anything_but_and_case() {
        assert!(passes(
            r#"{"data":{"id":[{"prefix":"ord-"}]}}"#,
            r#"{"id":"ord-1"}"#
        ));
        assert!(passes(
            r#"{"data":{"file":[{"suffix":".png"}]}}"#,
            r#"{"file":"a.png"}"#
        ));
        assert!(passes(
            r#"{"data":{"s":[{"equals-ignore-case":"ok"}]}}"#,
            r#"{"s":"OK"}"#
        ));
        assert!(passes(
            r#"{"data":{"s":[{"anything-but":["bad","worse"]}]}}"#,
            r#"{"s":"fine"}"#
        ));
        assert!(!passes(
            r#"{"data":{"s":[{"anything-but":"bad"}]}}"#,
            r#"{"s":"bad"}"#
        ));
        assert!(passes(
            r#"{"data":{"s":[{"equals-ignore-case":"straße"}]}}"#,
            r#"{"s":"STRAßE"}"#
        ));
    }

    fn compiles(pattern: &str) -> bool {
        Filters::compile(&[serde_json::from_str(pattern).unwrap()]).is_ok()
    }

    /// Every row of Lambda's filter-rule syntax table compiles, and EventBridge's operators that
    /// Lambda's table does not list are refused.
    #[test]
    fn the_operator_set_is_exactly_lambdas_filter_rule_table() {
        for row in [
            r#"{"UserID":[null]}"#,
            r#"{"LastName":[""]}"#,
            r#"{"Name":["Alice"]}"#,
            r#"{"Name":[{"equals-ignore-case":"alice"}]}"#,
            r#"{"Location":["New York"],"Day":["Monday"]}"#,
            r#"{"PaymentType":["Credit","Debit"]}"#,
            r#"{"Weather":[{"anything-but":["Raining"]}]}"#,
            r#"{"Price":[{"numeric":["=",100]}]}"#,
            r#"{"Price":[{"numeric":[">",10,"<=",20]}]}"#,
            r#"{"ProductName":[{"exists":true}]}"#,
            r#"{"ProductName":[{"exists":false}]}"#,
            r#"{"Region":[{"prefix":"us-"}]}"#,
            r#"{"FileName":[{"suffix":".png"}]}"#,
        ] {
            assert!(compiles(row), "in Lambda's table: {row}");
        }
        for eventbridge_only in [
            r#"{"FileName":[{"wildcard":"*.png"}]}"#,
            r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
            r#"{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}"#,
            r#"{"s":[{"anything-but":{"prefix":"tmp"}}]}"#,
            r#"{"s":[{"anything-but":{"suffix":".tmp"}}]}"#,
            r#"{"s":[{"anything-but":{"wildcard":"*.tmp"}}]}"#,
            r#"{"s":[{"anything-but":{"equals-ignore-case":"x"}}]}"#,
            r#"{"s":[{"anything-but":[{"prefix":"tmp"}]}]}"#,
            r#"{"s":[{"numeric":["!=",1]}]}"#,
        ] {
            assert!(
                !compiles(eventbridge_only),
                "not in Lambda's table: {eventbridge_only}"
            );
        }
    }

    #[test]
    fn numeric_ranges_and_exists() {
        let range = r#"{"data":{"amount":[{"numeric":[">",0,"<=",100]}]}}"#;
        assert!(passes(range, r#"{"amount":100}"#));
        assert!(!passes(range, r#"{"amount":0}"#));
        assert!(!passes(range, r#"{"amount":"50"}"#));
        assert!(passes(r#"{"data":{"x":[{"exists":true}]}}"#, r#"{"x":1}"#));
        assert!(passes(r#"{"data":{"x":[{"exists":false}]}}"#, r#"{"y":1}"#));
        assert!(!passes(
            r#"{"data":{"x":[{"exists":false}]}}"#,
            r#"{"x":1}"#
        ));
    }

    #[test]
    fn every_field_must_match_and_nested_objects_nest() {
        let pattern = r#"{"data":{"order":{"state":["paid"]},"region":["eu"]}}"#;
        assert!(passes(
            pattern,
            r#"{"order":{"state":"paid"},"region":"eu"}"#
        ));
        assert!(!passes(
            pattern,
            r#"{"order":{"state":"paid"},"region":"us"}"#
        ));
        assert!(
            !passes(pattern, r#"{"order":{"state":"paid"}}"#),
            "a named field must be present"
        );
    }

    #[test]
    fn non_json_data_is_dropped_by_data_patterns_and_metadata_still_matches() {
        assert!(!passes(r#"{"data":{"a":[{"exists":false}]}}"#, "not json"));
        assert!(passes(r#"{"partitionKey":["user-1"]}"#, "not json"));
        assert!(!passes(r#"{"partitionKey":["user-2"]}"#, r#"{"a":1}"#));
    }

    #[test]
    fn several_filters_are_ored() {
        let filters = Filters::compile(&[
            serde_json::from_str(r#"{"data":{"t":["a"]}}"#).unwrap(),
            serde_json::from_str(r#"{"data":{"t":["b"]}}"#).unwrap(),
        ])
        .unwrap();
        assert!(filters.passes(&record(r#"{"t":"b"}"#)));
        assert!(!filters.passes(&record(r#"{"t":"c"}"#)));
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        for pattern in [
            r#"{"data":{"t":"a"}}"#,
            r#"{"data":{"t":[]}}"#,
            r#"{"data":{"t":[{"numeric":[">"]}]}}"#,
            r#"{"data":{"t":[{"numeric":["!=",1]}]}}"#,
            r#"{"data":{"t":[{"wildcard-ish":"x"}]}}"#,
            r#"{"data":{"t":[{"prefix":1}]}}"#,
            r#"["not an object"]"#,
        ] {
            let value: Value = serde_json::from_str(pattern).unwrap();
            assert!(Filters::compile(&[value]).is_err(), "{pattern}");
        }
    }

    fn message(body: &str) -> QueueMessage {
        QueueMessage {
            message_id: "m-1".into(),
            receipt_handle: "r-1".into(),
            body: body.into(),
            md5_of_body: String::new(),
            attributes: vec![("ApproximateReceiveCount".into(), "1".into())],
            message_attributes: vec![(
                "kind".into(),
                crate::sqs::event::EventAttribute {
                    data_type: "String".into(),
                    string_value: Some("order".into()),
                    binary_value: None,
                },
            )],
            md5_of_message_attributes: None,
        }
    }

    fn message_passes(pattern: &str, body: &str) -> bool {
        let filters = Filters::compile(&[serde_json::from_str(pattern).unwrap()]).unwrap();
        filters.passes_message(&message(body))
    }

    #[test]
    fn sqs_body_format_rules() {
        // Plain body with a plain pattern: filtered on the string.
        assert!(message_passes(r#"{"body": ["hello"]}"#, "hello"));
        assert!(!message_passes(r#"{"body": ["hello"]}"#, "bye"));
        // Plain body with a JSON pattern: dropped.
        assert!(!message_passes(r#"{"body": {"kind": ["a"]}}"#, "hello"));
        // JSON body with a plain pattern: dropped, even if the text would match.
        assert!(!message_passes(
            r#"{"body": ["{\"kind\":\"a\"}"]}"#,
            r#"{"kind":"a"}"#
        ));
        // JSON body with a JSON pattern: filtered on the fields.
        assert!(message_passes(
            r#"{"body": {"kind": ["a"]}}"#,
            r#"{"kind":"a"}"#
        ));
        assert!(!message_passes(
            r#"{"body": {"kind": ["a"]}}"#,
            r#"{"kind":"b"}"#
        ));
    }

    #[test]
    fn sqs_metadata_filters_need_no_body_pattern() {
        assert!(message_passes(
            r#"{"messageAttributes": {"kind": {"stringValue": ["order"]}}}"#,
            "not json"
        ));
        assert!(!message_passes(
            r#"{"messageAttributes": {"kind": {"stringValue": ["refund"]}}}"#,
            r#"{"any":1}"#
        ));
        assert!(message_passes(
            r#"{"attributes": {"ApproximateReceiveCount": ["1"]}}"#,
            "x"
        ));
    }
}
