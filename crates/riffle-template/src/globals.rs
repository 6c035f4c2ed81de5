//! `Globals`: the `Function` section checked once and merged into each function as SAM merges
//! it.
//!
//! Invariant: a problem in `Globals.Function` is reported once, where it is written, not again
//! for every function it is merged into.

use std::collections::BTreeSet;

use crate::error::{Problem, Scope, Sink};
use crate::node::{Entry, Node, Pos, Value};
use crate::reader::Handling::{self, Ignored, Read, Silent};
use crate::reader::check_keys;
use crate::resources::FUNCTION_PROPERTIES;

/// Function properties SAM does not accept in `Globals.Function`.
const NOT_GLOBAL: &[&str] = &[
    "FunctionName",
    "Events",
    "Policies",
    "Role",
    "InlineCode",
    "ImageUri",
    "ImageConfig",
    "PackageType",
    "VersionDescription",
    "AutoPublishCodeSha256",
];

const GLOBAL_SECTIONS: &[(&str, Handling)] = &[
    ("Function", Read),
    ("Api", Ignored("Riffle runs no AWS::Serverless::Api")),
    (
        "HttpApi",
        Ignored("Riffle runs no AWS::Serverless::HttpApi"),
    ),
    (
        "SimpleTable",
        Ignored("Riffle runs no AWS::Serverless::SimpleTable"),
    ),
    (
        "StateMachine",
        Ignored("Riffle runs no AWS::Serverless::StateMachine"),
    ),
    (
        "LayerVersion",
        Ignored("Riffle runs no AWS::Serverless::LayerVersion"),
    ),
    (
        "CapacityProvider",
        Ignored("Riffle runs no AWS::Serverless::CapacityProvider"),
    ),
];

/// Checks `Globals` and returns its `Function` section, with the positions of its keys (each
/// reported here, once, rather than for every function it is merged into).
pub(crate) fn globals<'t>(
    section: Option<&'t Entry>,
    sink: &mut Sink,
) -> (Option<&'t Node>, BTreeSet<Pos>) {
    let mut positions = BTreeSet::new();
    let Some(section) = section else {
        return (None, positions);
    };
    let scope = Scope::section("Globals");
    if section.value.entries().is_none() {
        sink.error(
            section.value.at,
            &scope,
            Problem::WrongType {
                expected: "a mapping".to_owned(),
                found: section.value.describe(),
            },
        );
        return (None, positions);
    }
    check_keys(
        sink,
        Some(&section.value),
        GLOBAL_SECTIONS,
        "Globals",
        &scope,
        &positions,
    );
    let Some(function) = section.value.get("Function") else {
        return (None, positions);
    };
    let scope = scope.child("Function");
    let Some(entries) = function.value.entries() else {
        sink.error(
            function.value.at,
            &scope,
            Problem::WrongType {
                expected: "a mapping".to_owned(),
                found: function.value.describe(),
            },
        );
        return (None, positions);
    };
    for entry in entries {
        if NOT_GLOBAL.contains(&entry.key.as_str()) {
            sink.error(
                entry.key_at,
                &scope.child(&entry.key),
                Problem::UnsupportedProperty {
                    property: entry.key.clone(),
                    reason: "SAM does not accept it in Globals; set it on each function".to_owned(),
                },
            );
        }
    }
    let allowed: Vec<(&str, Handling)> = FUNCTION_PROPERTIES
        .iter()
        .copied()
        .filter(|(name, _)| !NOT_GLOBAL.contains(name))
        .chain(NOT_GLOBAL.iter().map(|name| (*name, Silent)))
        .collect();
    check_keys(
        sink,
        Some(&function.value),
        &allowed,
        "Globals.Function",
        &scope,
        &positions,
    );
    // Every key of Globals.Function has been checked here: the functions it is merged into
    // do not report it again.
    positions.extend(entries.iter().map(|entry| entry.key_at));
    (Some(&function.value), positions)
}

/// `IgnoreGlobals`: `'*'` or a list of property names.
pub(crate) fn ignored_globals(resource: &Node) -> Vec<String> {
    let Some(entry) = resource.get("IgnoreGlobals") else {
        return Vec::new();
    };
    match &entry.value.value {
        Value::Str(text) => vec![text.clone()],
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A function's properties with `Globals.Function` merged in as SAM merges them: mappings
/// key by key (the function's value wins), lists concatenated (Globals' items first), anything
/// else (including intrinsic functions) replaced by the function's value.
pub(crate) fn merge_globals(
    global: Option<&Node>,
    local: Option<&Node>,
    ignore: &[String],
    at: Pos,
) -> Node {
    let global = match global {
        Some(global) if !ignore.iter().any(|i| i == "*") => {
            let kept = global
                .entries()
                .unwrap_or_default()
                .iter()
                .filter(|entry| !ignore.contains(&entry.key))
                .cloned()
                .collect();
            Some(Node::new(Value::Map(kept), global.at))
        }
        _ => None,
    };
    match (global, local) {
        (Some(global), Some(local)) if local.entries().is_some() => merge(&global, local),
        (_, Some(local)) => local.clone(),
        (Some(global), None) => global,
        (None, None) => Node::new(Value::Map(Vec::new()), at),
    }
}

fn merge(global: &Node, local: &Node) -> Node {
    match (&global.value, &local.value) {
        (Value::Map(global_entries), Value::Map(local_entries))
            if global.intrinsic().is_none() && local.intrinsic().is_none() =>
        {
            let mut entries = global_entries.clone();
            for entry in local_entries {
                match entries.iter_mut().find(|e| e.key == entry.key) {
                    Some(existing) => {
                        existing.value = merge(&existing.value, &entry.value);
                        existing.key_at = entry.key_at;
                    }
                    None => entries.push(entry.clone()),
                }
            }
            Node::new(Value::Map(entries), local.at)
        }
        (Value::Seq(global_items), Value::Seq(local_items)) => {
            let items = global_items.iter().chain(local_items).cloned().collect();
            Node::new(Value::Seq(items), local.at)
        }
        _ => local.clone(),
    }
}
