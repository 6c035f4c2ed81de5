//! The constraint pass (after the type pass found none): every violation of the whole input,
//! as AWS words and orders them inside one `ValidationException`.
//!
//! A member is named in lowerCamel (`streamName`); a structure's member below another as
//! `outer.inner`, a list's element as `list.N.member` (N from 1). A list or map of scalars
//! reports its elements' failures once, as the list's (`Member must satisfy constraint: [...]`)
//! or map's (`Map keys must satisfy constraint: [...]`).

use std::fmt::Write as _;
use std::sync::OnceLock;

use regex_lite::Regex;
use serde_json::Value;

use super::shape::{Kind, Model, Shape};
use crate::error::Violations;

/// Adds every violation below `value` (of `shape`, at `path`) to `v`.
pub(super) fn check(model: &Model, shape_: &Shape, value: &Value, path: &str, v: &mut Violations) {
    match (&shape_.kind, value) {
        (Kind::Structure(members), Value::Object(map)) => {
            let has = |name: &str| map.get(name).is_some_and(|v| !v.is_null());
            // AWS requires a stream name where the model offers a stream ARN beside it
            // (unless the operation pages by token, as ListShards does).
            let name_or_arn = members.iter().any(|m| m.name == "StreamARN")
                && !members.iter().any(|m| m.name == "NextToken");
            for member in *members {
                let at = join(path, member.name);
                match map.get(member.name).filter(|v| !v.is_null()) {
                    Some(value) => check(model, model.shape(member.shape), value, &at, v),
                    None if member.required => v.missing(&at),
                    None if member.name == "StreamName" && name_or_arn && !has("StreamARN") => {
                        v.missing(&at)
                    }
                    None => {}
                }
            }
        }
        (Kind::List(element), Value::Array(items)) => {
            size(shape_, items.len(), value, path, v);
            let element = model.shape(*element);
            if matches!(element.kind, Kind::Structure(_)) {
                for (i, item) in items.iter().enumerate() {
                    check(model, element, item, &format!("{path}.{}.member", i + 1), v);
                }
            } else if items.iter().any(|item| !scalar_ok(element, item)) {
                let text = format!("Member must satisfy constraint: [{}]", rules(element));
                v.constraint(path, display(value), &text);
            }
        }
        (Kind::Map(key, values), Value::Object(map)) => {
            size(shape_, map.len(), value, path, v);
            let (key, values) = (model.shape(*key), model.shape(*values));
            if map
                .keys()
                .any(|k| !scalar_ok(key, &Value::String(k.clone())))
            {
                let text = format!("Map keys must satisfy constraint: [{}]", rules(key));
                v.constraint(path, display(value), &text);
            }
            if map.values().any(|item| !scalar_ok(values, item)) {
                let text = format!("Map value must satisfy constraint: [{}]", rules(values));
                v.constraint(path, display(value), &text);
            }
        }
        _ => {
            let failures = scalar(shape_, value);
            if failures.is_empty() {
                return;
            }
            let shown = match (&shape_.kind, value) {
                (Kind::Blob, Value::String(s)) => show_blob(blob_len(s)),
                (Kind::Integer, Value::Number(n)) => int_value(n).to_string(),
                _ => display(value),
            };
            for failure in failures {
                v.failed(path, &shown, &failure);
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    let mut chars = name.chars();
    let camel: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
    if path.is_empty() {
        camel
    } else {
        format!("{path}.{camel}")
    }
}

fn size(shape: &Shape, len: usize, value: &Value, path: &str, v: &mut Violations) {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    if let Some(min) = shape.min.filter(|&min| len < min) {
        v.failed(
            path,
            display(value),
            &format!("have length greater than or equal to {min}"),
        );
    }
    if let Some(max) = shape.max.filter(|&max| len > max) {
        v.failed(
            path,
            display(value),
            &format!("have length less than or equal to {max}"),
        );
    }
}

/// A JSON number as AWS reads an integer member: saturated to Java's `int` range (its recorded
/// answer to a `ShardCount` of 100000000000 shows `'2147483647'`).
fn int_value(n: &serde_json::Number) -> i32 {
    match n.as_i64() {
        Some(n) => i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }),
        None if n.is_u64() => i32::MAX,
        None => n.as_f64().map_or(0, |f| f as i32),
    }
}

fn scalar_ok(shape: &Shape, value: &Value) -> bool {
    value.is_null() || scalar(shape, value).is_empty()
}

/// The constraints (after "Member must ") a scalar value fails.
fn scalar(shape: &Shape, value: &Value) -> Vec<String> {
    let mut failed = Vec::new();
    let (len, text) = match (&shape.kind, value) {
        (Kind::String, Value::String(s)) => (s.chars().count(), Some(s.as_str())),
        (Kind::Blob, Value::String(s)) => (blob_len(s), None),
        (Kind::Integer | Kind::Long, Value::Number(n)) => {
            let n = match shape.kind {
                Kind::Integer => i64::from(int_value(n)),
                _ => n.as_i64().unwrap_or(if n.is_u64() { i64::MAX } else { 0 }),
            };
            if let Some(min) = shape.min.filter(|&min| n < min) {
                failed.push(format!("have value greater than or equal to {min}"));
            }
            if let Some(max) = shape.max.filter(|&max| n > max) {
                failed.push(format!("have value less than or equal to {max}"));
            }
            return failed;
        }
        (Kind::Double, Value::Number(n)) => {
            let n = n.as_f64().unwrap_or(0.0);
            if let Some(min) = shape.min.filter(|&min| n < min as f64) {
                failed.push(format!("have value greater than or equal to {min}"));
            }
            if let Some(max) = shape.max.filter(|&max| n > max as f64) {
                failed.push(format!("have value less than or equal to {max}"));
            }
            return failed;
        }
        _ => return failed,
    };
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    if let Some(text) = text {
        if let Some(pattern) = shape.pattern.filter(|p| !matches(p, text)) {
            failed.push(format!("satisfy regular expression pattern: {pattern}"));
        }
        if !shape.enumeration.is_empty() && !shape.enumeration.contains(&text) {
            let set = shape.enumeration.join(", ");
            failed.push(format!("satisfy enum value set: [{set}]"));
        }
    }
    if let Some(min) = shape.min.filter(|&min| len < min) {
        failed.push(format!("have length greater than or equal to {min}"));
    }
    if let Some(max) = shape.max.filter(|&max| len > max) {
        failed.push(format!("have length less than or equal to {max}"));
    }
    failed
}

/// A scalar shape's constraints as AWS lists them for the elements of a list or map.
fn rules(shape: &Shape) -> String {
    let mut rules = Vec::new();
    let length = !matches!(shape.kind, Kind::Integer | Kind::Long | Kind::Double);
    let noun = if length { "length" } else { "value" };
    if let Some(max) = shape.max {
        rules.push(format!(
            "Member must have {noun} less than or equal to {max}"
        ));
    }
    if let Some(min) = shape.min {
        rules.push(format!(
            "Member must have {noun} greater than or equal to {min}"
        ));
    }
    if let Some(pattern) = shape.pattern {
        rules.push(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ));
    }
    if !shape.enumeration.is_empty() {
        let set = shape.enumeration.join(", ");
        rules.push(format!("Member must satisfy enum value set: [{set}]"));
    }
    rules.join(", ")
}

/// Whether the whole of `text` matches the Java regex `pattern`.
fn matches(pattern: &'static str, text: &str) -> bool {
    static CACHE: OnceLock<std::sync::Mutex<Vec<(&'static str, Regex)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, re)) = cache.iter().find(|(p, _)| *p == pattern) {
        return re.is_match(text);
    }
    match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(re) => {
            let matched = re.is_match(text);
            cache.push((pattern, re));
            matched
        }
        // A pattern this engine cannot read is not held against the request.
        Err(_) => true,
    }
}

/// The decoded length of a blob's base64 text, which the type pass found valid: worked out,
/// not decoded (every PutRecords entry's data is measured here).
pub(crate) fn blob_len(text: &str) -> usize {
    let (_, pads) = super::types::unpadded(text.as_bytes());
    (text.len() / 4 * 3).saturating_sub(pads)
}

/// A value as AWS shows it in a violation (Java's `toString`).
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(display).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let mut out = String::from("{");
            for (i, (k, v)) in map.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(out, "{sep}{k}={}", display(v));
            }
            out.push('}');
            out
        }
        other => other.to_string(),
    }
}

/// A blob as AWS shows it.
fn show_blob(len: usize) -> String {
    format!("java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]")
}
