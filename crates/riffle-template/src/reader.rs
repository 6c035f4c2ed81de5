//! Reading a template: its sections and its resources, in order. [`crate::globals`] merges
//! `Globals`, [`crate::resources`] reads streams, queues and functions, [`crate::mapping`] the
//! event source mappings.
//!
//! Invariants: every key of every section and resource Riffle reads is either read, ignored
//! with a warning that says why that is harmless, or refused with an error; nothing is skipped
//! silently except documentation (`Description`, `Metadata` outside build settings, `Tags`,
//! `DependsOn` and deletion policies). Reading continues after an error so that all problems
//! are reported at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::Options;
use crate::error::{Diagnostic, Failed, Problem, Scope, Severity, Sink};
use crate::globals::{globals, ignored_globals, merge_globals};
use crate::intrinsics::{
    BUCKET, DELIVERY_STREAM, Declaration, EVENT_SOURCE_MAPPING, FUNCTION, QUEUE, Resolver, STREAM,
    STREAM_CONSUMER, Target,
};
use crate::model::{Application, Output};
use crate::node::{self, Entry, Node, Pos, Value, closest};
use crate::parameters;

/// How Riffle treats a property of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handling {
    /// Read into the model.
    Read,
    /// Accepted with a warning giving the reason it has no local effect.
    Ignored(&'static str),
    /// Refused: Riffle cannot run it this way.
    Unsupported(&'static str),
    /// Documentation only (`Description`, `Tags`).
    Silent,
}

use Handling::{Ignored, Read, Silent, Unsupported};

const SECTIONS: &[(&str, Handling)] = &[
    ("AWSTemplateFormatVersion", Read),
    ("Description", Silent),
    ("Metadata", Silent),
    ("Transform", Read),
    ("Parameters", Read),
    ("Mappings", Read),
    ("Conditions", Read),
    ("Globals", Read),
    ("Resources", Read),
    ("Outputs", Read),
    ("Rules", Ignored("template rules are not checked locally")),
    ("Hooks", Ignored("CloudFormation hooks do not run locally")),
];

const RESOURCE_ATTRIBUTES: &[(&str, Handling)] = &[
    ("Type", Read),
    ("Properties", Read),
    ("Metadata", Read),
    ("Condition", Read),
    ("IgnoreGlobals", Read),
    ("DependsOn", Silent),
    ("DeletionPolicy", Silent),
    ("UpdateReplacePolicy", Silent),
    ("UpdatePolicy", Silent),
    ("CreationPolicy", Silent),
    (
        "Connectors",
        Ignored("connectors only grant IAM permissions, which are not enforced locally"),
    ),
];

/// Resource types that have no effect on a local run: created nowhere, warned about once.
const HARMLESS_TYPES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "IAM is not enforced locally"),
    ("AWS::IAM::Policy", "IAM is not enforced locally"),
    ("AWS::IAM::ManagedPolicy", "IAM is not enforced locally"),
    (
        "AWS::SQS::QueuePolicy",
        "queue policies are not enforced locally",
    ),
    (
        "AWS::Lambda::Permission",
        "resource policies are not enforced locally",
    ),
    (
        "AWS::Logs::LogGroup",
        "function logs are shown by riffle local",
    ),
    (
        "AWS::CloudWatch::Alarm",
        "CloudWatch is not emulated; riffle local shows its own metrics",
    ),
    (
        "AWS::CloudWatch::Dashboard",
        "CloudWatch is not emulated; riffle local shows its own metrics",
    ),
    (
        "AWS::Serverless::Connector",
        "connectors only grant IAM permissions, which are not enforced locally",
    ),
];

const SERVERLESS_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// Reads a template; the application is meaningful only when no error was recorded.
pub(crate) fn read(source: &str, options: &Options) -> (Application, Vec<Diagnostic>) {
    let mut sink = Sink::new(&options.file_name);
    let Some(root) = node::parse(source, &mut sink) else {
        return (Application::default(), sink.diagnostics);
    };
    if root.entries().is_none() {
        sink.error(
            root.at,
            &Scope::section(""),
            Problem::Yaml {
                message: format!(
                    "a template is a mapping of sections, found {}",
                    root.describe()
                ),
            },
        );
        return (Application::default(), sink.diagnostics);
    }
    let top = Scope::section("");
    check_keys(
        &mut sink,
        Some(&root),
        SECTIONS,
        "a template",
        &top,
        &BTreeSet::new(),
    );
    check_sections(&root, &mut sink);
    let parameters = parameters::read(
        root.get("Parameters"),
        &options.parameter_overrides,
        &mut sink,
    );
    let (global_function, global_positions) = globals(root.get("Globals"), &mut sink);

    let resource_entries: &[Entry] = match root.get("Resources") {
        Some(entry) => entry.value.entries().unwrap_or_else(|| {
            sink.error(
                entry.value.at,
                &Scope::section("Resources"),
                Problem::WrongType {
                    expected: "a mapping of logical ids to resources".to_owned(),
                    found: entry.value.describe(),
                },
            );
            &[]
        }),
        None => {
            sink.error(
                Pos { line: 1, column: 1 },
                &top,
                Problem::MissingProperty {
                    property: "Resources".to_owned(),
                },
            );
            &[]
        }
    };
    check_transform(&root, resource_entries, &mut sink);

    // Functions' properties with Globals merged in, owned here so declarations can borrow them.
    let mut merged: BTreeMap<&str, Node> = BTreeMap::new();
    for entry in resource_entries {
        let is_function = entry.value.get("Type").and_then(|t| t.value.as_str()) == Some(FUNCTION);
        if is_function {
            let local = entry.value.get("Properties").map(|p| &p.value);
            let ignore = ignored_globals(&entry.value);
            merged.insert(
                &entry.key,
                merge_globals(global_function, local, &ignore, entry.key_at),
            );
        }
    }
    let mut declarations = Vec::with_capacity(resource_entries.len());
    for entry in resource_entries {
        if let Some(declaration) = declare(entry, merged.get(entry.key.as_str()), &mut sink) {
            declarations.push(declaration);
        }
    }

    let mut resolver = Resolver::new(sink, options);
    resolver.set_parameters(parameters);
    resolver.set_mappings(root.get("Mappings").map(|entry| &entry.value));
    if let Some(conditions) = root.get("Conditions") {
        resolver.set_conditions(&conditions.value);
    }
    for declaration in &declarations {
        resolver.add_resource(*declaration);
    }
    resolver.evaluate_all_conditions();

    let mut reader = Reader {
        resolver,
        options,
        application: Application::default(),
        global_positions,
    };
    reader.read_resources(&declarations);
    reader.read_outputs(root.get("Outputs"));
    (reader.application, reader.resolver.sink.diagnostics)
}

/// What a resource whose name failed to resolve is read as.
fn placeholder(declaration: &Declaration<'_>) -> Target {
    let name = declaration.logical_id.to_owned();
    match declaration.type_name {
        STREAM => Target::Stream {
            name,
            arn: String::new(),
        },
        STREAM_CONSUMER => Target::Consumer {
            name,
            arn: String::new(),
            stream_arn: String::new(),
        },
        QUEUE => Target::Queue {
            name,
            arn: String::new(),
            url: String::new(),
            fifo: false,
        },
        FUNCTION => Target::Function {
            name,
            arn: String::new(),
        },
        BUCKET => Target::Bucket {
            name,
            arn: String::new(),
        },
        DELIVERY_STREAM => Target::DeliveryStream {
            name,
            arn: String::new(),
        },
        other => Target::Other {
            type_name: other.to_owned(),
        },
    }
}

/// Checks the format version and that the sections that hold named entries are mappings.
fn check_sections(root: &Node, sink: &mut Sink) {
    if let Some(version) = root.get("AWSTemplateFormatVersion")
        && version.value.scalar_text().as_deref() != Some("2010-09-09")
    {
        sink.error(
            version.value.at,
            &Scope::section("AWSTemplateFormatVersion"),
            Problem::InvalidValue {
                property: "AWSTemplateFormatVersion".to_owned(),
                value: version.value.describe(),
                rule: "the only version is 2010-09-09".to_owned(),
            },
        );
    }
    for section in ["Mappings", "Conditions", "Outputs"] {
        if let Some(entry) = root.get(section)
            && entry.value.entries().is_none()
        {
            sink.error(
                entry.value.at,
                &Scope::section(section),
                Problem::WrongType {
                    expected: "a mapping".to_owned(),
                    found: entry.value.describe(),
                },
            );
        }
    }
}

/// Checks the keys of a mapping against what is defined for it.
pub(crate) fn check_keys(
    sink: &mut Sink,
    node: Option<&Node>,
    specs: &[(&str, Handling)],
    owner: &str,
    scope: &Scope<'_>,
    checked_elsewhere: &BTreeSet<Pos>,
) {
    for entry in node.and_then(Node::entries).unwrap_or_default() {
        if checked_elsewhere.contains(&entry.key_at) {
            continue;
        }
        match specs.iter().find(|(name, _)| *name == entry.key) {
            None => {
                sink.error(
                    entry.key_at,
                    scope,
                    Problem::UnknownProperty {
                        property: entry.key.clone(),
                        owner: owner.to_owned(),
                        suggestion: closest(&entry.key, specs.iter().map(|(name, _)| *name)),
                    },
                );
            }
            Some((_, handling)) => {
                let key_scope = scope.child(&entry.key);
                report_handling(sink, entry.key_at, &key_scope, &entry.key, *handling);
            }
        }
    }
}

/// Reports property `key` at `at` as `handling` has it: a warning for one Riffle ignores, an
/// error for one it cannot run, nothing for one it reads or that only documents.
pub(crate) fn report_handling(
    sink: &mut Sink,
    at: Pos,
    scope: &Scope<'_>,
    key: &str,
    handling: Handling,
) {
    match handling {
        Read | Silent => {}
        Ignored(reason) => sink.warning(
            at,
            scope,
            Problem::IgnoredProperty {
                property: key.to_owned(),
                reason: reason.to_owned(),
            },
        ),
        Unsupported(reason) => {
            sink.error(
                at,
                scope,
                Problem::UnsupportedProperty {
                    property: key.to_owned(),
                    reason: reason.to_owned(),
                },
            );
        }
    }
}

fn check_transform(root: &Node, resources: &[Entry], sink: &mut Sink) {
    let scope = Scope::section("Transform");
    let mut serverless = false;
    if let Some(entry) = root.get("Transform") {
        let single = std::slice::from_ref(&entry.value);
        let transforms = entry.value.items().unwrap_or(single);
        for transform in transforms {
            match transform.as_str() {
                Some(SERVERLESS_TRANSFORM) => serverless = true,
                Some("AWS::LanguageExtensions") => sink.warning(
                    transform.at,
                    &scope,
                    Problem::IgnoredProperty {
                        property: "AWS::LanguageExtensions".to_owned(),
                        reason: "only Fn::FindInMap's DefaultValue is supported locally; other \
                                 language extensions are reported where used"
                            .to_owned(),
                    },
                ),
                _ => {
                    sink.error(
                        transform.at,
                        &scope,
                        Problem::UnsupportedProperty {
                            property: format!("Transform {}", transform.describe()),
                            reason: format!(
                                "Riffle applies {SERVERLESS_TRANSFORM} (and reads \
                                 AWS::LanguageExtensions templates)"
                            ),
                        },
                    );
                }
            }
        }
    }
    if !serverless {
        for entry in resources {
            if let Some(type_entry) = entry.value.get("Type")
                && type_entry
                    .value
                    .as_str()
                    .is_some_and(|t| t.starts_with("AWS::Serverless::"))
            {
                sink.error(
                    type_entry.value.at,
                    &Scope::resource(&entry.key, "Type"),
                    Problem::MissingProperty {
                        property: format!("Transform: {SERVERLESS_TRANSFORM} (needed by AWS::Serverless:: resources)"),
                    },
                );
            }
        }
    }
}

/// The declaration of one resource, or `None` when it is not even shaped like one.
fn declare<'t>(
    entry: &'t Entry,
    merged: Option<&'t Node>,
    sink: &mut Sink,
) -> Option<Declaration<'t>> {
    let scope = Scope::resource(&entry.key, "");
    if entry.value.entries().is_none() {
        sink.error(
            entry.value.at,
            &scope,
            Problem::WrongType {
                expected: "a resource (a mapping with Type)".to_owned(),
                found: entry.value.describe(),
            },
        );
        return None;
    }
    check_keys(
        sink,
        Some(&entry.value),
        RESOURCE_ATTRIBUTES,
        "a resource",
        &scope,
        &BTreeSet::new(),
    );
    let (type_name, type_at) =
        sink.type_name(&entry.value, entry.key_at, &scope, "a resource type name")?;
    let properties = match entry.value.get("Properties") {
        Some(properties) if properties.value.entries().is_none() => {
            sink.error(
                properties.value.at,
                &scope.child("Properties"),
                Problem::WrongType {
                    expected: "a mapping".to_owned(),
                    found: properties.value.describe(),
                },
            );
            None
        }
        Some(properties) => Some(&properties.value),
        None => None,
    };
    let condition = match entry.value.get("Condition") {
        Some(condition) => match condition.value.as_str() {
            Some(name) => Some((name, condition.value.at)),
            None => {
                sink.error(
                    condition.value.at,
                    &scope.child("Condition"),
                    Problem::WrongType {
                        expected: "the name of a condition".to_owned(),
                        found: condition.value.describe(),
                    },
                );
                return None;
            }
        },
        None => None,
    };
    Some(Declaration {
        logical_id: &entry.key,
        at: entry.key_at,
        type_name,
        type_at,
        properties: if type_name == FUNCTION {
            merged
        } else {
            properties
        },
        condition,
        node: &entry.value,
    })
}

/// Reads resources into the application.
pub(crate) struct Reader<'t> {
    pub(crate) resolver: Resolver<'t>,
    pub(crate) options: &'t Options,
    pub(crate) application: Application,
    global_positions: BTreeSet<Pos>,
}

impl<'t> Reader<'t> {
    fn read_resources(&mut self, declarations: &[Declaration<'t>]) {
        let mut created = Vec::with_capacity(declarations.len());
        for declaration in declarations {
            let scope = Scope::resource(declaration.logical_id, "");
            let target = match self
                .resolver
                .target(declaration.logical_id, declaration.at, &scope)
            {
                Ok(Target::NotCreated { .. }) => continue,
                Ok(target) => target,
                // Its name could not be resolved (that is reported): read the rest of it
                // anyway, under its logical id, so that its other problems are reported too.
                Err(Failed) => placeholder(declaration),
            };
            created.push(*declaration);
            match (declaration.type_name, target) {
                (STREAM, Target::Stream { name, arn }) => self.read_stream(declaration, name, arn),
                (
                    STREAM_CONSUMER,
                    Target::Consumer {
                        name,
                        arn,
                        stream_arn,
                    },
                ) => self.read_consumer(declaration, name, arn, stream_arn),
                (
                    QUEUE,
                    Target::Queue {
                        name,
                        arn,
                        url,
                        fifo,
                    },
                ) => {
                    self.read_queue(declaration, name, arn, url, fifo);
                }
                (FUNCTION, Target::Function { name, arn }) => {
                    self.read_function(declaration, name, arn)
                }
                (BUCKET, Target::Bucket { name, arn }) => self.read_bucket(declaration, name, arn),
                (EVENT_SOURCE_MAPPING | DELIVERY_STREAM, _) => {}
                (type_name, _) => self.other_resource(declaration, type_name),
            }
        }
        self.check_dead_letter_queues();
        for declaration in &created {
            match declaration.type_name {
                FUNCTION => self.read_events(declaration),
                EVENT_SOURCE_MAPPING => self.read_event_source_mapping(declaration),
                // After buckets, streams and functions: it names them.
                DELIVERY_STREAM => self.read_delivery_stream(declaration),
                _ => {}
            }
        }
    }

    fn other_resource(&mut self, declaration: &Declaration<'t>, type_name: &str) {
        let scope = Scope::resource(declaration.logical_id, "Type");
        if let Some((_, reason)) = HARMLESS_TYPES.iter().find(|(t, _)| *t == type_name) {
            self.resolver.sink.warning(
                declaration.type_at,
                &scope,
                Problem::IgnoredResource {
                    resource_type: type_name.to_owned(),
                    reason: (*reason).to_owned(),
                },
            );
        } else {
            self.resolver.sink.error(
                declaration.type_at,
                &scope,
                Problem::UnsupportedResourceType {
                    resource_type: type_name.to_owned(),
                    reason:
                        "Riffle runs AWS::Serverless::Function, AWS::Lambda::EventSourceMapping, \
                             AWS::Kinesis::Stream, AWS::Kinesis::StreamConsumer, \
                             AWS::SQS::Queue, AWS::S3::Bucket and \
                             AWS::KinesisFirehose::DeliveryStream"
                            .to_owned(),
                },
            );
        }
    }

    /// A resource's `Properties`, checked against `specs` (each key of an `owner` read, or
    /// reported as its handling says), with the scope its problems are reported under.
    pub(crate) fn resource_properties(
        &mut self,
        declaration: &Declaration<'t>,
        specs: &[(&str, Handling)],
        owner: &str,
    ) -> (Option<&'t Node>, Scope<'t>) {
        let scope = Scope::resource(declaration.logical_id, "Properties");
        self.check(declaration.properties, specs, owner, &scope);
        (declaration.properties, scope)
    }

    pub(crate) fn check(
        &mut self,
        properties: Option<&Node>,
        specs: &[(&str, Handling)],
        owner: &str,
        scope: &Scope<'_>,
    ) {
        check_keys(
            &mut self.resolver.sink,
            properties,
            specs,
            owner,
            scope,
            &self.global_positions,
        );
    }

    /// The resolved value of a property; `None` when absent, `AWS::NoValue` or unresolvable
    /// (then reported).
    pub(crate) fn value(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        scope: &Scope<'_>,
    ) -> Option<Node> {
        let entry = properties?.get(key)?;
        self.resolver
            .resolve(&entry.value, &scope.child(key))
            .ok()
            .flatten()
    }

    /// A resolved value as an integer (YAML numbers, or strings such as parameters give).
    pub(crate) fn integer_value(&mut self, value: &Node, scope: &Scope<'_>) -> Result<i64, Failed> {
        let number = match &value.value {
            Value::Int(number) => Some(*number),
            Value::Float(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => {
                Some(*number as i64)
            }
            Value::Str(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        number.ok_or_else(|| {
            self.resolver.sink.error(
                value.at,
                scope,
                Problem::WrongType {
                    expected: "an integer".to_owned(),
                    found: value.describe(),
                },
            )
        })
    }

    /// An integer property within `min..=max`.
    pub(crate) fn integer(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        scope: &Scope<'_>,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let value = self.value(properties, key, scope)?;
        let scope = scope.child(key);
        let number = self.integer_value(&value, &scope).ok()?;
        if number < min || number > max {
            let rule = if max == i64::MAX {
                format!("must be at least {min}")
            } else {
                format!("must be between {min} and {max}")
            };
            self.resolver.sink.error(
                value.at,
                &scope,
                Problem::InvalidValue {
                    property: key.to_owned(),
                    value: number.to_string(),
                    rule,
                },
            );
            return None;
        }
        Some(number)
    }

    pub(crate) fn unsigned(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        scope: &Scope<'_>,
        min: u32,
        max: u32,
    ) -> Option<u32> {
        self.integer(properties, key, scope, i64::from(min), i64::from(max))
            .and_then(|n| u32::try_from(n).ok())
    }

    pub(crate) fn boolean(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        scope: &Scope<'_>,
    ) -> Option<bool> {
        let value = self.value(properties, key, scope)?;
        self.resolver.boolean(&value, &scope.child(key)).ok()
    }

    pub(crate) fn string(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        scope: &Scope<'_>,
    ) -> Option<String> {
        let value = self.value(properties, key, scope)?;
        self.resolver.text(&value, &scope.child(key)).ok()
    }

    pub(crate) fn required(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        at: Pos,
        scope: &Scope<'_>,
    ) -> bool {
        if properties.and_then(|p| p.get(key)).is_some() {
            return true;
        }
        self.resolver.sink.missing(at, scope, key);
        false
    }

    pub(crate) fn invalid_value(
        &mut self,
        properties: Option<&Node>,
        key: &str,
        value: &str,
        rule: &str,
        scope: &Scope<'_>,
    ) {
        let at = properties
            .and_then(|p| p.get(key))
            .map_or(Pos::default(), |e| e.value.at);
        self.resolver.sink.error(
            at,
            &scope.child(key),
            Problem::InvalidValue {
                property: key.to_owned(),
                value: value.to_owned(),
                rule: rule.to_owned(),
            },
        );
    }

    fn read_outputs(&mut self, section: Option<&Entry>) {
        let Some(section) = section else {
            return;
        };
        for output in section.value.entries().unwrap_or_default() {
            let scope = Scope::resource(&output.key, "");
            let body = Some(&output.value);
            if output.value.entries().is_none() {
                self.resolver.sink.warning(
                    output.value.at,
                    &scope,
                    Problem::WrongType {
                        expected: "an output (a mapping with Value)".to_owned(),
                        found: output.value.describe(),
                    },
                );
                continue;
            }
            self.check(
                body,
                &[
                    ("Value", Read),
                    ("Description", Silent),
                    ("Export", Silent),
                    ("Condition", Read),
                ],
                "an output",
                &scope,
            );
            if let Some(condition) = output.value.get("Condition")
                && let Some(name) = condition.value.as_str()
                && !self
                    .resolver
                    .condition(name, condition.value.at, &scope.child("Condition"))
                    .unwrap_or(false)
            {
                continue;
            }
            // An output Riffle cannot compute does not stop the application: its problems are
            // reported as warnings.
            let before = self.resolver.sink.diagnostics.len();
            let value = self.value(body, "Value", &scope);
            for diagnostic in &mut self.resolver.sink.diagnostics[before..] {
                diagnostic.severity = Severity::Warning;
            }
            let Some(value) = value else { continue };
            let text = match (&value.value, value.scalar_text()) {
                (_, Some(text)) => Some(text.into_owned()),
                (Value::Seq(items), None) => Some(
                    items
                        .iter()
                        .filter_map(|item| item.scalar_text().map(|t| t.into_owned()))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => None,
            };
            if let Some(text) = text {
                self.application.outputs.push(Output {
                    name: output.key.clone(),
                    value: text,
                });
            }
        }
    }
}
