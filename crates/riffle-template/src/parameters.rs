//! The `Parameters` section: each parameter's value, from `--parameter-overrides` or its
//! `Default`, checked against its constraints as CloudFormation checks them.
//!
//! Invariant: every parameter has a value or an error saying how to give it one; an override
//! for a parameter the template does not declare is an error, not ignored. Values are strings
//! (as `Ref` of a parameter gives in CloudFormation), or lists of strings for list types.

use std::collections::BTreeMap;

use crate::error::{Problem, Scope, Sink};
use crate::node::{Entry, Node, Pos, Value, closest};

/// The properties a parameter declaration may have.
const PARAMETER_PROPERTIES: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "Description",
    "MaxLength",
    "MaxValue",
    "MinLength",
    "MinValue",
    "NoEcho",
];

/// Reads every parameter's value. `section` is the `Parameters` entry, if any.
pub(crate) fn read(
    section: Option<&Entry>,
    overrides: &BTreeMap<String, String>,
    sink: &mut Sink,
) -> BTreeMap<String, Node> {
    let mut values = BTreeMap::new();
    let declarations = match section {
        Some(entry) => match entry.value.entries() {
            Some(entries) => entries,
            None => {
                sink.error(
                    entry.value.at,
                    &Scope::section("Parameters"),
                    Problem::WrongType {
                        expected: "a mapping of parameter names to declarations".to_owned(),
                        found: entry.value.describe(),
                    },
                );
                &[]
            }
        },
        None => &[],
    };
    for declaration in declarations {
        if let Some(value) = read_one(declaration, overrides.get(&declaration.key), sink) {
            values.insert(declaration.key.clone(), value);
        }
    }
    for name in overrides.keys() {
        if !declarations.iter().any(|d| &d.key == name) {
            sink.error(
                Pos::default(),
                &Scope::section("--parameter-overrides"),
                Problem::Parameter {
                    name: name.clone(),
                    reason: format!(
                        "the template declares no such parameter{}",
                        closest(name, declarations.iter().map(|d| d.key.as_str()))
                            .map_or_else(String::new, |s| format!(" (did you mean {s}?)"))
                    ),
                },
            );
        }
    }
    values
}

fn read_one(declaration: &Entry, supplied: Option<&String>, sink: &mut Sink) -> Option<Node> {
    let name = declaration.key.as_str();
    let scope = Scope::resource(name, "");
    let body = &declaration.value;
    let Some(properties) = body.entries() else {
        sink.error(
            body.at,
            &scope,
            Problem::WrongType {
                expected: "a parameter declaration (a mapping with Type)".to_owned(),
                found: body.describe(),
            },
        );
        return None;
    };
    for property in properties {
        if !PARAMETER_PROPERTIES.contains(&property.key.as_str()) {
            sink.error(
                property.key_at,
                &scope,
                Problem::UnknownProperty {
                    property: property.key.clone(),
                    owner: "a parameter".to_owned(),
                    suggestion: closest(&property.key, PARAMETER_PROPERTIES.iter().copied()),
                },
            );
        }
    }
    let (type_name, type_at) =
        sink.type_name(body, declaration.key_at, &scope, "a parameter type")?;
    let kind = match kind_of(type_name) {
        Ok(kind) => kind,
        Err(reason) => {
            sink.error(
                type_at,
                &scope.child("Type"),
                Problem::Parameter {
                    name: name.to_owned(),
                    reason,
                },
            );
            return None;
        }
    };
    let (text, at) = match (supplied, body.get("Default")) {
        (Some(text), _) => (text.clone(), declaration.key_at),
        (None, Some(default)) => match default.value.scalar_text() {
            Some(text) => (text.into_owned(), default.value.at),
            None if matches!(default.value.value, Value::Seq(_)) && kind != Kind::Scalar => {
                let parts: Vec<String> = default
                    .value
                    .items()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|item| item.scalar_text().map(|t| t.into_owned()))
                    .collect();
                (parts.join(","), default.value.at)
            }
            None => {
                sink.error(
                    default.value.at,
                    &scope.child("Default"),
                    Problem::WrongType {
                        expected: "a string".to_owned(),
                        found: default.value.describe(),
                    },
                );
                return None;
            }
        },
        (None, None) => {
            sink.error(
                declaration.key_at,
                &scope,
                Problem::Parameter {
                    name: name.to_owned(),
                    reason: format!(
                        "no Default and no value given; pass one with --parameter-overrides \
                         {name}=VALUE"
                    ),
                },
            );
            return None;
        }
    };
    let values: Vec<String> = match kind {
        Kind::Scalar | Kind::Number => vec![text.clone()],
        Kind::List | Kind::NumberList => text.split(',').map(|s| s.trim().to_owned()).collect(),
    };
    let errors_before = sink.error_count();
    for value in &values {
        check_constraints(name, value, kind, body, at, sink);
    }
    if sink.error_count() > errors_before {
        return None;
    }
    Some(match kind {
        Kind::Scalar | Kind::Number => Node::str(text, at),
        Kind::List | Kind::NumberList => Node::new(
            Value::Seq(values.into_iter().map(|v| Node::str(v, at)).collect()),
            at,
        ),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Number,
    List,
    NumberList,
}

fn kind_of(type_name: &str) -> Result<Kind, String> {
    match type_name {
        "String" | "AWS::SSM::Parameter::Name" => Ok(Kind::Scalar),
        "Number" => Ok(Kind::Number),
        "CommaDelimitedList" => Ok(Kind::List),
        "List<Number>" => Ok(Kind::NumberList),
        _ if type_name.starts_with("AWS::SSM::Parameter::Value<") => Err(format!(
            "type {type_name} reads SSM Parameter Store, which Riffle does not emulate; use a \
             String parameter"
        )),
        _ if type_name.starts_with("List<AWS::") => Ok(Kind::List),
        _ if type_name.starts_with("AWS::") => Ok(Kind::Scalar),
        _ => Err(format!(
            "unknown type {type_name} (String, Number, List<Number>, CommaDelimitedList or an \
             AWS-specific type)"
        )),
    }
}

fn check_constraints(name: &str, value: &str, kind: Kind, body: &Node, at: Pos, sink: &mut Sink) {
    let scope = Scope::resource(name, "");
    let explain = body
        .get("ConstraintDescription")
        .and_then(|e| e.value.scalar_text())
        .map_or_else(String::new, |text| format!(" ({text})"));
    let fail = |sink: &mut Sink, reason: String| {
        sink.error(
            at,
            &scope,
            Problem::Parameter {
                name: name.to_owned(),
                reason: format!("{reason}{explain}"),
            },
        );
    };
    let number = value.trim().parse::<f64>().ok();
    if matches!(kind, Kind::Number | Kind::NumberList) && number.is_none() {
        fail(sink, format!("value {value:?} must be a number"));
        return;
    }
    if let Some(allowed) = body.get("AllowedValues").and_then(|e| e.value.items()) {
        let allowed: Vec<String> = allowed
            .iter()
            .filter_map(|item| item.scalar_text().map(|t| t.into_owned()))
            .collect();
        if !allowed.iter().any(|a| a == value) {
            fail(
                sink,
                format!(
                    "value {value:?} must be one of AllowedValues [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }
    if let Some(pattern) = body
        .get("AllowedPattern")
        .and_then(|e| e.value.scalar_text())
    {
        match regex_lite::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(regex) if !regex.is_match(value) => {
                fail(
                    sink,
                    format!("value {value:?} must match pattern {pattern}"),
                );
            }
            Ok(_) => {}
            Err(error) => fail(
                sink,
                format!("AllowedPattern {pattern} is not a valid regular expression: {error}"),
            ),
        }
    }
    let limit = |key: &str| {
        body.get(key)
            .and_then(|e| e.value.scalar_text())
            .and_then(|t| t.trim().parse::<f64>().ok())
    };
    let length = if matches!(kind, Kind::Scalar | Kind::List) {
        value.chars().count() as f64
    } else {
        f64::NAN
    };
    if let Some(min) = limit("MinLength").filter(|min| length < *min) {
        fail(
            sink,
            format!("value {value:?} must be at least {min} characters long"),
        );
    }
    if let Some(max) = limit("MaxLength").filter(|max| length > *max) {
        fail(
            sink,
            format!("value {value:?} must be at most {max} characters long"),
        );
    }
    if let Some(number) = number.filter(|_| matches!(kind, Kind::Number | Kind::NumberList)) {
        if let Some(min) = limit("MinValue").filter(|min| number < *min) {
            fail(sink, format!("value {value} must be at least {min}"));
        }
        if let Some(max) = limit("MaxValue").filter(|max| number > *max) {
            fail(sink, format!("value {value} must be at most {max}"));
        }
    }
}
