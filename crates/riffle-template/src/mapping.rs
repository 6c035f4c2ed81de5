//! Event source mappings: a function's `Kinesis` and `SQS` events, and
//! `AWS::Lambda::EventSourceMapping` resources, turned into AWS's properties and validated by
//! riffle-core.
//!
//! Invariants: the rules are riffle-core's (`RawKinesisMapping::validate`,
//! `RawSqsMapping::validate` with the facts of the template's queue and function), never
//! re-implemented here; every problem riffle-core reports is placed on the property it names.
//! SAM's names are translated as SAM translates them (`Stream`/`Queue` → `EventSourceArn`,
//! `DestinationConfig.OnFailure.Type` removed), and values a parameter gives as strings are
//! converted to the number or boolean the property takes, as CloudFormation does.

use std::collections::{BTreeMap, BTreeSet};

use riffle_core::kinesis::config::RawKinesisMapping;
use riffle_core::sqs::config::{RawSqsMapping, SqsFacts};

use crate::error::{Failed, Problem, Scope};
use crate::intrinsics::{Declaration, EVENT_SOURCE_MAPPING};
use crate::model::{Function, Mapping, MappingConfig, SourceKind};
use crate::node::{Node, Pos, Value, closest};
use crate::reader::{Handling, Reader, report_handling};
use crate::resources::arn_service;

mod checks;

/// The type a mapping property takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Boolean,
    Text,
    Number,
    TextList,
    Object,
}

const STREAM_PROPERTIES: &[(&str, Kind)] = &[
    ("StartingPosition", Kind::Text),
    ("StartingPositionTimestamp", Kind::Number),
    ("BatchSize", Kind::Integer),
    ("MaximumBatchingWindowInSeconds", Kind::Integer),
    ("BisectBatchOnFunctionError", Kind::Boolean),
    ("MaximumRetryAttempts", Kind::Integer),
    ("MaximumRecordAgeInSeconds", Kind::Integer),
    ("ParallelizationFactor", Kind::Integer),
    ("TumblingWindowInSeconds", Kind::Integer),
    ("DestinationConfig", Kind::Object),
    ("FunctionResponseTypes", Kind::TextList),
    ("FilterCriteria", Kind::Object),
    ("Enabled", Kind::Boolean),
];

/// SQS's own properties; the stream-only ones are passed on too, so that riffle-core refuses
/// them with AWS's message.
const QUEUE_PROPERTIES: &[(&str, Kind)] = &[("ScalingConfig", Kind::Object)];

const IGNORED: &[(&str, &str)] = &[
    ("KmsKeyArn", "filter criteria are not encrypted locally"),
    (
        "MetricsConfig",
        "CloudWatch metrics are not published; riffle local shows its own",
    ),
];

/// Properties of Kafka, Amazon MQ and DocumentDB mappings (and SAM's names for them).
const OTHER_SOURCES: &[&str] = &[
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "SelfManagedKafkaEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "KafkaBootstrapServers",
    "ConsumerGroupId",
    "SecretsManagerKmsKeyId",
];

/// What a key of a mapping's properties is.
enum Class {
    /// The source ARN (`Stream`, `Queue` or `EventSourceArn`).
    Source,
    /// `FunctionName` of an `AWS::Lambda::EventSourceMapping`.
    FunctionName,
    Property(Kind),
    /// A property Riffle does not read: silent, ignored or refused, as [`report_handling`] says.
    Handled(Handling),
    Unknown,
}

/// Where a mapping comes from: a function's event, or a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Event,
    Resource,
}

fn classify(key: &str, kind: SourceKind, origin: Origin) -> Class {
    let source_key = match (origin, kind) {
        (Origin::Resource, _) => "EventSourceArn",
        (Origin::Event, SourceKind::Kinesis) => "Stream",
        (Origin::Event, SourceKind::Sqs) => "Queue",
    };
    if key == source_key {
        return Class::Source;
    }
    if origin == Origin::Resource && key == "FunctionName" {
        return Class::FunctionName;
    }
    if origin == Origin::Resource && key == "Tags" {
        return Class::Handled(Handling::Silent);
    }
    let own = match kind {
        SourceKind::Kinesis => STREAM_PROPERTIES.iter(),
        SourceKind::Sqs => QUEUE_PROPERTIES.iter(),
    };
    let shared = match kind {
        SourceKind::Kinesis => [].iter(),
        // SQS takes BatchSize, the window, filters, response types and Enabled like streams;
        // the rest is refused by riffle-core by name.
        SourceKind::Sqs => STREAM_PROPERTIES.iter(),
    };
    if let Some((_, property_kind)) = own.chain(shared).find(|(name, _)| *name == key) {
        return Class::Property(*property_kind);
    }
    if let Some((_, reason)) = IGNORED.iter().find(|(name, _)| *name == key) {
        return Class::Handled(Handling::Ignored(reason));
    }
    match (key, kind) {
        ("ProvisionedPollerConfig", SourceKind::Sqs) => Class::Handled(Handling::Ignored(
            "Riffle scales pollers as in on-demand mode",
        )),
        ("ProvisionedPollerConfig", SourceKind::Kinesis) => Class::Handled(Handling::Unsupported(
            "provisioned mode applies to SQS and Kafka mappings",
        )),
        ("ScalingConfig", SourceKind::Kinesis) => Class::Handled(Handling::Unsupported(
            "ScalingConfig applies to SQS mappings only",
        )),
        _ if OTHER_SOURCES.contains(&key) => Class::Handled(Handling::Unsupported(
            "it belongs to Kafka, Amazon MQ and DocumentDB mappings, which Riffle does not run",
        )),
        _ => Class::Unknown,
    }
}

fn known_names(kind: SourceKind, origin: Origin) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = STREAM_PROPERTIES.iter().map(|(name, _)| *name).collect();
    names.extend(IGNORED.iter().map(|(name, _)| *name));
    match (origin, kind) {
        (Origin::Resource, _) => names.extend(["EventSourceArn", "FunctionName"]),
        (Origin::Event, SourceKind::Kinesis) => names.push("Stream"),
        (Origin::Event, SourceKind::Sqs) => names.push("Queue"),
    }
    if kind == SourceKind::Sqs {
        names.extend(["ScalingConfig", "ProvisionedPollerConfig"]);
    }
    names
}

/// A mapping's properties on their way to riffle-core.
struct Draft<'a> {
    logical_id: String,
    function: Function,
    kind: SourceKind,
    /// `EventSourceArn` and the properties, with AWS's names.
    properties: serde_json::Map<String, serde_json::Value>,
    /// Where each AWS property is written, for riffle-core's messages.
    places: BTreeMap<String, (Pos, Scope<'a>)>,
    /// AWS properties already reported (unresolvable, wrong type, missing source): riffle-core's
    /// complaints about their absence are not repeated.
    failed: BTreeSet<String>,
    /// Whether anything in the mapping was reported as an error before riffle-core's validation.
    errors_reported: bool,
    at: Pos,
    scope: Scope<'a>,
}

impl<'t> Reader<'t> {
    /// Reads the `Events` of a function.
    pub(crate) fn read_events(&mut self, declaration: &Declaration<'t>) {
        let Some(events) = declaration.properties.and_then(|p| p.get("Events")) else {
            return;
        };
        let id = declaration.logical_id;
        let scope = Scope::resource(id, "Properties.Events");
        let Some(entries) = events.value.entries() else {
            self.resolver.sink.error(
                events.value.at,
                &scope,
                Problem::WrongType {
                    expected: "a mapping of event names to events".to_owned(),
                    found: events.value.describe(),
                },
            );
            return;
        };
        let Some(function) = self.application.function(id).cloned() else {
            return;
        };
        for event in entries {
            let scope = scope.child(&event.key);
            if event.value.entries().is_none() {
                self.resolver.sink.error(
                    event.value.at,
                    &scope,
                    Problem::WrongType {
                        expected: "an event (a mapping with Type and Properties)".to_owned(),
                        found: event.value.describe(),
                    },
                );
                continue;
            }
            self.check(
                Some(&event.value),
                &[
                    ("Type", crate::reader::Handling::Read),
                    ("Properties", crate::reader::Handling::Read),
                ],
                "an event",
                &scope,
            );
            let Some(type_entry) = event.value.get("Type") else {
                self.resolver.sink.missing(event.key_at, &scope, "Type");
                continue;
            };
            let kind = match type_entry.value.as_str() {
                Some("Kinesis") => SourceKind::Kinesis,
                Some("SQS") => SourceKind::Sqs,
                _ => {
                    self.resolver.sink.error(
                        type_entry.value.at,
                        &scope.child("Type"),
                        Problem::UnsupportedEventType {
                            event_type: type_entry
                                .value
                                .scalar_text()
                                .map_or_else(|| type_entry.value.describe(), |t| t.into_owned()),
                        },
                    );
                    continue;
                }
            };
            let Some(properties) = event.value.get("Properties") else {
                self.resolver
                    .sink
                    .missing(event.key_at, &scope, "Properties");
                continue;
            };
            let properties_scope = scope.child("Properties");
            let mut draft = Draft {
                logical_id: format!("{id}{}", event.key),
                function: function.clone(),
                kind,
                properties: serde_json::Map::new(),
                places: BTreeMap::new(),
                failed: BTreeSet::new(),
                errors_reported: false,
                at: event.key_at,
                scope: scope.clone(),
            };
            let owner = format!(
                "resource of type {}",
                if kind == SourceKind::Kinesis {
                    "Kinesis"
                } else {
                    "SQS"
                }
            );
            self.collect(
                &mut draft,
                &properties.value,
                Origin::Event,
                &owner,
                &properties_scope,
            );
            self.finish(draft);
        }
    }

    /// Reads an `AWS::Lambda::EventSourceMapping` resource.
    pub(crate) fn read_event_source_mapping(&mut self, declaration: &Declaration<'t>) {
        let id = declaration.logical_id;
        let scope = Scope::resource(id, "Properties");
        // The kind decides which properties apply: read the source first.
        let Some((properties, source)) = declaration
            .properties
            .and_then(|properties| Some((properties, properties.get("EventSourceArn")?)))
        else {
            self.resolver
                .sink
                .missing(declaration.at, &scope, "EventSourceArn");
            return;
        };
        let source_scope = scope.child("EventSourceArn");
        let Ok(arn) = self.resolver.resolve_text(&source.value, &source_scope) else {
            return;
        };
        let kind = match arn_service(&arn) {
            Some("kinesis") => SourceKind::Kinesis,
            Some("sqs") => SourceKind::Sqs,
            Some(service) => {
                self.resolver.sink.error(
                    source.value.at,
                    &source_scope,
                    Problem::UnsupportedProperty {
                        property: format!("EventSourceArn {arn}"),
                        reason: format!(
                            "Riffle runs Kinesis and SQS mappings, this is a {service} source"
                        ),
                    },
                );
                return;
            }
            None => {
                self.resolver.sink.error(
                    source.value.at,
                    &source_scope,
                    Problem::InvalidValue {
                        property: "EventSourceArn".to_owned(),
                        value: arn,
                        rule: "must be the ARN of a Kinesis stream or an SQS queue".to_owned(),
                    },
                );
                return;
            }
        };
        let Some(function_entry) = properties.get("FunctionName") else {
            self.resolver
                .sink
                .missing(declaration.at, &scope, "FunctionName");
            return;
        };
        let function_scope = scope.child("FunctionName");
        let Ok(function_name) = self
            .resolver
            .resolve_text(&function_entry.value, &function_scope)
        else {
            return;
        };
        let Some(function) = self
            .application
            .functions
            .iter()
            .find(|f| f.name == function_name || f.arn == function_name)
            .cloned()
        else {
            self.resolver.sink.error(
                function_entry.value.at,
                &function_scope,
                Problem::UnresolvableReference {
                    target: function_name,
                    reason: "not a function of this template (use !Ref or !GetAtt …Arn of an \
                             AWS::Serverless::Function)"
                        .to_owned(),
                },
            );
            return;
        };
        let mut draft = Draft {
            logical_id: id.to_owned(),
            function,
            kind,
            properties: serde_json::Map::new(),
            places: BTreeMap::new(),
            failed: BTreeSet::new(),
            errors_reported: false,
            at: declaration.at,
            scope: scope.clone(),
        };
        draft.places.insert(
            "FunctionName".to_owned(),
            (function_entry.value.at, function_scope),
        );
        self.collect(
            &mut draft,
            properties,
            Origin::Resource,
            EVENT_SOURCE_MAPPING,
            &scope,
        );
        self.finish(draft);
    }

    /// Resolves, classifies and converts every property into `draft`, reporting what cannot
    /// be.
    fn collect<'s>(
        &mut self,
        draft: &mut Draft<'s>,
        properties: &Node,
        origin: Origin,
        owner: &str,
        scope: &Scope<'s>,
    ) {
        let errors_before = self.resolver.sink.error_count();
        let Some(entries) = properties.entries() else {
            self.resolver.sink.error(
                properties.at,
                scope,
                Problem::WrongType {
                    expected: "a mapping".to_owned(),
                    found: properties.describe(),
                },
            );
            draft.errors_reported = true;
            draft.failed.insert("EventSourceArn".to_owned());
            return;
        };
        let mut source_seen = false;
        for entry in entries {
            let key = entry.key.as_str();
            let property_scope = scope.child(key);
            let class = classify(key, draft.kind, origin);
            match class {
                Class::Unknown => {
                    self.resolver.sink.error(
                        entry.key_at,
                        scope,
                        Problem::UnknownProperty {
                            property: key.to_owned(),
                            owner: owner.to_owned(),
                            suggestion: closest(key, known_names(draft.kind, origin)),
                        },
                    );
                    continue;
                }
                Class::Handled(handling) => {
                    let sink = &mut self.resolver.sink;
                    report_handling(sink, entry.key_at, &property_scope, key, handling);
                    continue;
                }
                Class::FunctionName => continue,
                Class::Source | Class::Property(_) => {}
            }
            let aws_name = if let Class::Source = class {
                "EventSourceArn"
            } else {
                key
            };
            let Ok(resolved) = self.resolver.resolve(&entry.value, &property_scope) else {
                draft.failed.insert(aws_name.to_owned());
                continue;
            };
            let Some(value) = resolved else {
                // AWS::NoValue: as if the property were not written.
                continue;
            };
            let at = if value.scalar_text().is_some() {
                value.at
            } else {
                entry.key_at
            };
            draft
                .places
                .insert(aws_name.to_owned(), (at, property_scope.clone()));
            let json = match class {
                Class::Source => {
                    source_seen = true;
                    match self.resolver.text(&value, &property_scope) {
                        Ok(arn)
                            if self.source_is_usable(
                                &arn,
                                key,
                                draft.kind,
                                at,
                                &property_scope,
                            ) =>
                        {
                            Ok(serde_json::Value::String(arn))
                        }
                        _ => Err(Failed),
                    }
                }
                Class::Property(kind) => self
                    .convert(&value, kind, key, origin, &property_scope)
                    .and_then(|json| {
                        if self.deserializes(draft.kind, key, &json, at, &property_scope) {
                            Ok(json)
                        } else {
                            Err(Failed)
                        }
                    }),
                _ => continue,
            };
            match json {
                Ok(json) => {
                    draft.properties.insert(aws_name.to_owned(), json);
                }
                Err(Failed) => {
                    draft.failed.insert(aws_name.to_owned());
                }
            }
        }
        if origin == Origin::Event && !source_seen {
            self.resolver.sink.missing(
                properties.at,
                scope,
                if draft.kind == SourceKind::Kinesis {
                    "Stream"
                } else {
                    "Queue"
                }
                .to_owned(),
            );
            draft.failed.insert("EventSourceArn".to_owned());
        }
        if self.resolver.sink.error_count() > errors_before {
            draft.errors_reported = true;
        }
    }
}
