//! The template as a located tree: every value and every key carries its line and column.
//!
//! Invariant: CloudFormation's short-form tags are rewritten to their long forms while the
//! tree is built (`!GetAtt X.Arn` becomes `{"Fn::GetAtt": "X.Arn"}`, `!Ref X` becomes
//! `{"Ref": "X"}`), so everything downstream handles one form; a tag CloudFormation does not
//! define is reported where it is written, never dropped.

use std::borrow::Cow;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::error::{Problem, Scope, Sink};

/// A place in the text: 1-based line and column; line 0 means "not in the text".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// A value with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) at: Pos,
}

/// A YAML value; mappings keep document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_at: Pos,
    pub(crate) value: Node,
}

/// The short-form tags CloudFormation defines, and the long form each stands for.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("If", "Fn::If"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("FindInMap", "Fn::FindInMap"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Base64", "Fn::Base64"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Cidr", "Fn::Cidr"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Transform", "Fn::Transform"),
    ("ForEach", "Fn::ForEach"),
];

impl Node {
    pub(crate) fn new(value: Value, at: Pos) -> Self {
        Self { value, at }
    }

    pub(crate) fn str(text: impl Into<String>, at: Pos) -> Self {
        Self::new(Value::Str(text.into()), at)
    }

    /// The entry named `key`, when this is a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|entry| entry.key == key)
    }

    pub(crate) fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub(crate) fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// A scalar as CloudFormation turns it into a string (`5` → `"5"`); `None` for null,
    /// lists and mappings.
    pub(crate) fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match &self.value {
            Value::Str(text) => Some(Cow::Borrowed(text)),
            Value::Int(number) => Some(Cow::Owned(number.to_string())),
            Value::Float(number) => Some(Cow::Owned(number.to_string())),
            Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The function name and argument when this is an intrinsic function call: a mapping with
    /// one key, `Ref`, `Condition` or `Fn::…`.
    pub(crate) fn intrinsic(&self) -> Option<(&str, &Node)> {
        match self.entries()? {
            [entry]
                if entry.key == "Ref"
                    || entry.key == "Condition"
                    || entry.key.starts_with("Fn::") =>
            {
                Some((&entry.key, &entry.value))
            }
            _ => None,
        }
    }

    /// What the value is, for messages: `a list`, `the string "abc"`, `the integer 5`, ….
    pub(crate) fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(flag) => format!("the boolean {flag}"),
            Value::Int(number) => format!("the integer {number}"),
            Value::Float(number) => format!("the number {number}"),
            Value::Str(text) => format!("the string {text:?}"),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => match self.intrinsic() {
                Some((name, _)) => name.to_owned(),
                None => "a mapping".to_owned(),
            },
        }
    }

    /// The value as JSON (a float that JSON cannot carry becomes null).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(number) => serde_json::Value::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(text) => serde_json::Value::String(text.clone()),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|entry| (entry.key.clone(), entry.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses the template text into one located tree. Syntax errors and unknown tags are recorded
/// in `sink`; `None` when there is no tree to read.
pub(crate) fn parse(source: &str, sink: &mut Sink) -> Option<Node> {
    let documents = match MarkedYaml::load_from_str(source) {
        Ok(documents) => documents,
        Err(error) => {
            let marker = error.marker();
            sink.error(
                Pos {
                    line: marker.line(),
                    column: marker.col() + 1,
                },
                &Scope::section(""),
                Problem::Yaml {
                    message: error.info().to_owned(),
                },
            );
            return None;
        }
    };
    let mut documents = documents.iter();
    let Some(first) = documents.next() else {
        sink.error(
            Pos { line: 1, column: 1 },
            &Scope::section(""),
            Problem::Yaml {
                message: "the template is empty".to_owned(),
            },
        );
        return None;
    };
    if let Some(second) = documents.next() {
        sink.error(
            position(second),
            &Scope::section(""),
            Problem::Yaml {
                message: "a template is one YAML document, this is a second one".to_owned(),
            },
        );
    }
    Some(convert(first, Pos { line: 1, column: 1 }, "", sink))
}

fn position(node: &MarkedYaml<'_>) -> Pos {
    Pos {
        line: node.span.start.line(),
        column: node.span.start.col() + 1,
    }
}

/// Converts a saphyr node; `fallback` is used for nodes without a position (the payload of a
/// tagged scalar carries none; the tag's position is the one to report).
fn convert(node: &MarkedYaml<'_>, fallback: Pos, path: &str, sink: &mut Sink) -> Node {
    let mut at = position(node);
    if at.line == 0 {
        at = fallback;
    }
    let value = match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => Value::Seq(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| convert(item, at, &format!("{path}[{index}]"), sink))
                .collect(),
        ),
        YamlData::Mapping(mapping) => {
            let mut entries = Vec::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key_at = if position(key).line == 0 {
                    at
                } else {
                    position(key)
                };
                let key_text = match &key.data {
                    YamlData::Value(scalar) => scalar_key(scalar),
                    YamlData::Representation(text, _, _) => Some(text.to_string()),
                    _ => None,
                };
                let Some(key_text) = key_text else {
                    sink.error(
                        key_at,
                        &Scope::section(path),
                        Problem::Yaml {
                            message: "mapping keys must be strings".to_owned(),
                        },
                    );
                    continue;
                };
                let child_path = if path.is_empty() {
                    key_text.clone()
                } else {
                    format!("{path}.{key_text}")
                };
                let value = convert(value, key_at, &child_path, sink);
                entries.push(Entry {
                    key: key_text,
                    key_at,
                    value,
                });
            }
            Value::Map(entries)
        }
        YamlData::Tagged(tag, inner) => {
            let inner = convert(inner, at, path, sink);
            let long_form = (tag.handle == "!")
                .then(|| SHORT_FORMS.iter().find(|(short, _)| *short == tag.suffix))
                .flatten();
            match long_form {
                Some((_, long)) => Value::Map(vec![Entry {
                    key: (*long).to_owned(),
                    key_at: at,
                    value: inner,
                }]),
                None => {
                    sink.error(
                        at,
                        &Scope::section(path),
                        Problem::UnknownIntrinsic {
                            name: format!("{}{}", tag.handle, tag.suffix),
                        },
                    );
                    Value::Null
                }
            }
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            sink.error(
                at,
                &Scope::section(path),
                Problem::Yaml {
                    message: "a value that cannot be read (unknown alias or a core tag that \
                              does not fit its value)"
                        .to_owned(),
                },
            );
            Value::Null
        }
    };
    Node { value, at }
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(flag) => Value::Bool(*flag),
        Scalar::Integer(number) => Value::Int(*number),
        Scalar::FloatingPoint(number) => Value::Float(number.into_inner()),
        Scalar::String(text) => Value::Str(text.to_string()),
    }
}

fn scalar_key(scalar: &Scalar<'_>) -> Option<String> {
    match scalar {
        Scalar::Null => None,
        Scalar::Boolean(flag) => Some(flag.to_string()),
        Scalar::Integer(number) => Some(number.to_string()),
        Scalar::FloatingPoint(number) => Some(number.to_string()),
        Scalar::String(text) => Some(text.to_string()),
    }
}

/// The defined name closest to `name`, when one is close enough to be a likely misspelling.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&name.to_ascii_lowercase(), &candidate.to_ascii_lowercase());
        let common_prefix = name
            .chars()
            .zip(candidate.chars())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count();
        let close = distance <= 3.max(candidate.len() / 5) || common_prefix >= 10;
        if close && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(source: &str) -> Node {
        let mut sink = Sink::new("t.yaml");
        let node = parse(source, &mut sink).unwrap();
        assert!(sink.diagnostics.is_empty(), "{:?}", sink.diagnostics);
        node
    }

    #[test]
    fn short_forms_become_long_forms_at_the_tag_position() {
        let node = parse_ok("A:\n  B: !GetAtt X.Arn\n  C: !Sub\n    - 'x${y}'\n    - y: 1\n");
        let a = &node.get("A").unwrap().value;
        let b = &a.get("B").unwrap().value;
        assert_eq!(b.at, Pos { line: 2, column: 6 });
        let (name, argument) = b.intrinsic().unwrap();
        assert_eq!(name, "Fn::GetAtt");
        assert_eq!(argument.as_str(), Some("X.Arn"));
        assert_eq!(argument.at, Pos { line: 2, column: 6 });
        let (name, argument) = a.get("C").unwrap().value.intrinsic().unwrap();
        assert_eq!(name, "Fn::Sub");
        assert_eq!(argument.items().unwrap()[0].at, Pos { line: 4, column: 7 });
    }

    #[test]
    fn unknown_tags_and_syntax_errors_are_located() {
        let mut sink = Sink::new("t.yaml");
        parse("A: 1\nB: !Foo x\n", &mut sink).unwrap();
        let d = &sink.diagnostics[0];
        assert_eq!(d.location.as_ref().unwrap().line, 2);
        assert_eq!(
            d.problem,
            Problem::UnknownIntrinsic {
                name: "!Foo".into()
            }
        );

        let mut sink = Sink::new("t.yaml");
        assert!(parse("A: 1\nA: 2\n", &mut sink).is_none());
        assert_eq!(sink.diagnostics[0].location.as_ref().unwrap().line, 2);
        assert!(sink.diagnostics[0].to_string().contains("duplicated key"));
    }

    #[test]
    fn closest_names_catch_misspellings_only() {
        let names = [
            "BisectBatchOnFunctionError",
            "BatchSize",
            "StreamModeDetails",
        ];
        assert_eq!(
            closest("BisectBatchOnFunctionErrorX", names).as_deref(),
            Some("BisectBatchOnFunctionError")
        );
        assert_eq!(closest("batchsize", names).as_deref(), Some("BatchSize"));
        assert_eq!(
            closest("StreamModeSpecification", names).as_deref(),
            Some("StreamModeDetails")
        );
        assert_eq!(closest("Policies", names), None);
    }
}
