//! Checking a mapping's properties: the source ARN, the conversion of SAM's names and of
//! parameter strings to AWS's properties, and riffle-core's validation of the result.
//!
//! Invariant: the rules are riffle-core's, never re-implemented here; each problem it reports
//! is placed on the property it names.

use super::*;

impl<'t> Reader<'t> {
    /// Whether the source ARN can be used; a template stream's name or a queue's URL (what
    /// `!Ref` gives), or a stream consumer's name, is the classic mistake and gets its own
    /// message.
    pub(super) fn source_is_usable(
        &mut self,
        arn: &str,
        key: &str,
        kind: SourceKind,
        at: Pos,
        scope: &Scope<'_>,
    ) -> bool {
        let hint = match kind {
            SourceKind::Kinesis => self
                .application
                .streams
                .iter()
                .find(|s| s.name == arn)
                .map(|s| {
                    let id = &s.logical_id;
                    format!("use !GetAtt {id}.Arn (!Ref {id} gives its name)")
                })
                .or_else(|| {
                    let consumers = &self.application.consumers;
                    consumers.iter().find(|c| c.name == arn).map(|c| {
                        let id = &c.logical_id;
                        format!("use !GetAtt {id}.ConsumerARN or !Ref {id} (this is its name)")
                    })
                }),
            SourceKind::Sqs => self
                .application
                .queues
                .iter()
                .find(|q| q.url == arn || q.name == arn)
                .map(|q| {
                    let id = &q.logical_id;
                    format!("use !GetAtt {id}.Arn (!Ref {id} gives its URL)")
                }),
        };
        if let Some(hint) = hint {
            self.resolver.sink.error(
                at,
                scope,
                Problem::InvalidValue {
                    property: key.to_owned(),
                    value: arn.to_owned(),
                    rule: format!("must be an ARN: {hint}"),
                },
            );
            return false;
        }
        true
    }

    /// A resolved property value as the JSON riffle-core takes.
    pub(super) fn convert(
        &mut self,
        value: &Node,
        kind: Kind,
        key: &str,
        origin: Origin,
        scope: &Scope<'_>,
    ) -> Result<serde_json::Value, Failed> {
        let wrong = |reader: &mut Self, expected: &str| {
            reader.resolver.sink.error(
                value.at,
                scope,
                Problem::WrongType {
                    expected: expected.to_owned(),
                    found: value.describe(),
                },
            )
        };
        match kind {
            Kind::Integer => self
                .integer_value(value, scope)
                .map(serde_json::Value::from),
            Kind::Boolean => self
                .resolver
                .boolean(value, scope)
                .map(serde_json::Value::Bool),
            Kind::Text => match value.scalar_text() {
                Some(text) => Ok(serde_json::Value::String(text.into_owned())),
                None => Err(wrong(self, "a string")),
            },
            Kind::Number => match &value.value {
                Value::Int(number) => Ok(serde_json::Value::from(*number)),
                Value::Float(number) => Ok(serde_json::Value::from(*number)),
                Value::Str(text) => match text.trim().parse::<f64>() {
                    Ok(number) => Ok(serde_json::Value::from(number)),
                    Err(_) => Err(wrong(self, "a number (Unix seconds)")),
                },
                _ => Err(wrong(self, "a number (Unix seconds)")),
            },
            Kind::TextList => match value.items() {
                Some(items) => items
                    .iter()
                    .map(|item| {
                        item.scalar_text()
                            .map(|text| serde_json::Value::String(text.into_owned()))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(serde_json::Value::Array)
                    .ok_or_else(|| wrong(self, "a list of strings")),
                None => Err(wrong(self, "a list of strings")),
            },
            Kind::Object => {
                if value.entries().is_none() {
                    return Err(wrong(self, "a mapping"));
                }
                let mut json = value.to_json();
                if key == "DestinationConfig" && origin == Origin::Event {
                    self.strip_destination_type(&mut json, value, scope)?;
                }
                if key == "ScalingConfig"
                    && let Some(concurrency) = value.get("MaximumConcurrency")
                {
                    let number =
                        self.integer_value(&concurrency.value, &scope.child("MaximumConcurrency"))?;
                    json["MaximumConcurrency"] = serde_json::Value::from(number);
                }
                Ok(json)
            }
        }
    }

    /// SAM's `DestinationConfig.OnFailure.Type` (`SQS`, `SNS` or `S3`) only tells SAM which
    /// policy to attach; SAM removes it, and so does Riffle.
    pub(super) fn strip_destination_type(
        &mut self,
        json: &mut serde_json::Value,
        value: &Node,
        scope: &Scope<'_>,
    ) -> Result<(), Failed> {
        let Some(on_failure) = json.get_mut("OnFailure").and_then(|v| v.as_object_mut()) else {
            return Ok(());
        };
        let Some(kind) = on_failure.remove("Type") else {
            return Ok(());
        };
        if matches!(kind.as_str(), Some("SQS" | "SNS" | "S3")) {
            return Ok(());
        }
        let at = value
            .get("OnFailure")
            .and_then(|e| e.value.get("Type"))
            .map_or(value.at, |e| e.value.at);
        Err(self.resolver.sink.error(
            at,
            &scope.child("OnFailure.Type"),
            Problem::InvalidValue {
                property: "Type".to_owned(),
                value: kind.to_string(),
                rule: "The only valid values for 'Type' are 'SQS', 'SNS', and 'S3'".to_owned(),
            },
        ))
    }

    /// Whether riffle-core's raw type accepts this one property; if not, its serde message
    /// (an unknown nested key, a wrong type) is reported on the property.
    pub(super) fn deserializes(
        &mut self,
        kind: SourceKind,
        key: &str,
        json: &serde_json::Value,
        at: Pos,
        scope: &Scope<'_>,
    ) -> bool {
        let single =
            serde_json::Value::Object(std::iter::once((key.to_owned(), json.clone())).collect());
        let error = match kind {
            SourceKind::Kinesis => serde_json::from_value::<RawKinesisMapping>(single).err(),
            SourceKind::Sqs => serde_json::from_value::<RawSqsMapping>(single).err(),
        };
        let Some(error) = error else {
            return true;
        };
        self.resolver.sink.error(
            at,
            scope,
            Problem::InvalidValue {
                property: key.to_owned(),
                value: abbreviate(&json.to_string()),
                rule: error.to_string(),
            },
        );
        false
    }

    /// Validates the mapping with riffle-core and adds it to the application.
    pub(super) fn finish(&mut self, draft: Draft<'_>) {
        let Draft {
            logical_id,
            function,
            kind,
            mut properties,
            places,
            failed,
            errors_reported,
            at,
            scope,
        } = draft;
        properties.insert(
            "FunctionName".to_owned(),
            serde_json::Value::String(function.name.clone()),
        );
        let event_source_arn = properties
            .get("EventSourceArn")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let json = serde_json::Value::Object(properties);
        // Notes the event source as external if the template does not declare it.
        let note_source = |checks: &mut Self| {
            checks.note_external(
                &event_source_arn,
                kind,
                "EventSourceArn",
                &places,
                at,
                &scope,
            );
        };
        let config = match kind {
            SourceKind::Kinesis => {
                note_source(self);
                let raw: RawKinesisMapping = match serde_json::from_value(json.clone()) {
                    Ok(raw) => raw,
                    Err(error) => return self.malformed(&error, at, &scope),
                };
                let destination = raw
                    .destination_config
                    .as_ref()
                    .and_then(|d| d.on_failure.as_ref())
                    .and_then(|d| d.destination.clone());
                match destination {
                    Some(destination) if arn_service(&destination) == Some("sqs") => self
                        .note_external(
                            &destination,
                            SourceKind::Sqs,
                            "DestinationConfig",
                            &places,
                            at,
                            &scope,
                        ),
                    Some(destination)
                        if arn_service(&destination) == Some("s3")
                            && self.application.bucket_by_arn(&destination).is_none() =>
                    {
                        let (at, scope) = places
                            .get("DestinationConfig")
                            .map_or((at, scope.clone()), |(at, scope)| (*at, scope.clone()));
                        self.resolver.sink.warning(
                            at,
                            &scope,
                            Problem::ExternalResource {
                                arn: destination,
                                kind: "bucket".to_owned(),
                                consequence: "Riffle does not create it; failure records reach \
                                              it only if it exists at the endpoint"
                                    .to_owned(),
                            },
                        );
                    }
                    _ => {}
                }
                match raw.validate(self.options.now_ms) {
                    Ok(config) => MappingConfig::Kinesis(config),
                    Err(errors) => return self.rules(errors, &places, &failed, at, &scope),
                }
            }
            SourceKind::Sqs => {
                let raw: RawSqsMapping = match serde_json::from_value(json.clone()) {
                    Ok(raw) => raw,
                    Err(error) => return self.malformed(&error, at, &scope),
                };
                let facts = match self.application.queue_by_arn(&event_source_arn) {
                    Some(queue) => SqsFacts {
                        fifo: queue.fifo,
                        visibility_timeout_seconds: u64::from(queue.visibility_timeout()),
                        function_timeout_seconds: u64::from(function.timeout_seconds),
                    },
                    None => {
                        note_source(self);
                        SqsFacts {
                            fifo: event_source_arn.ends_with(".fifo"),
                            visibility_timeout_seconds: u64::from(function.timeout_seconds),
                            function_timeout_seconds: u64::from(function.timeout_seconds),
                        }
                    }
                };
                match raw.validate(facts) {
                    Ok(config) => {
                        if let Some(risk) = crate::concurrency::reserved_concurrency_risk(
                            &function.name,
                            function.reserved_concurrent_executions,
                            config.maximum_concurrency,
                        ) {
                            let (at, scope) = places
                                .get("ScalingConfig")
                                .map_or((at, scope.clone()), |(at, s)| (*at, s.clone()));
                            self.resolver.sink.warning(at, &scope, risk);
                        }
                        MappingConfig::Sqs(config)
                    }
                    Err(errors) => return self.rules(errors, &places, &failed, at, &scope),
                }
            }
        };
        if errors_reported {
            return;
        }
        if let Some(other) =
            self.application.mappings.iter().find(|m| {
                m.function_name == function.name && m.event_source_arn == event_source_arn
            })
        {
            let other = other.logical_id.clone();
            self.resolver.sink.error(
                at,
                &scope,
                Problem::DuplicateMapping {
                    event_source_arn,
                    function_name: function.name,
                    other,
                },
            );
            return;
        }
        let location = self.resolver.sink.location(at);
        self.application.mappings.push(Mapping {
            logical_id,
            function: function.logical_id,
            function_name: function.name,
            event_source_arn,
            kind,
            properties: json,
            config,
            location,
        });
    }

    /// Warns about a stream or queue ARN the template does not declare, at the property
    /// (`property`) that names it.
    pub(super) fn note_external(
        &mut self,
        arn: &str,
        kind: SourceKind,
        property: &str,
        places: &BTreeMap<String, (Pos, Scope<'_>)>,
        at: Pos,
        scope: &Scope<'_>,
    ) {
        let declared = match kind {
            SourceKind::Kinesis => {
                self.application.stream_by_arn(arn).is_some()
                    || self.application.consumer_by_arn(arn).is_some()
            }
            SourceKind::Sqs => self.application.queue_by_arn(arn).is_some(),
        };
        if declared || arn.is_empty() {
            return;
        }
        let (at, scope) = places
            .get(property)
            .map_or((at, scope.clone()), |(at, scope)| (*at, scope.clone()));
        let (kind, consequence) = match (kind, property) {
            (SourceKind::Kinesis, _) if arn.contains("/consumer/") => (
                "stream consumer",
                "Riffle does not register it; the mapping reads through it only if it exists at \
                 the endpoint",
            ),
            (SourceKind::Kinesis, _) => (
                "stream",
                "Riffle does not create it; the mapping reads it only if it exists at the endpoint",
            ),
            (SourceKind::Sqs, "EventSourceArn") => (
                "queue",
                "Riffle does not create it, and cannot check its visibility timeout against the \
                 function's timeout",
            ),
            (SourceKind::Sqs, _) => (
                "queue",
                "Riffle does not create it; failure records reach it only if it exists at the \
                 endpoint",
            ),
        };
        self.resolver.sink.warning(
            at,
            &scope,
            Problem::ExternalResource {
                arn: arn.to_owned(),
                kind: kind.to_owned(),
                consequence: consequence.to_owned(),
            },
        );
    }

    pub(super) fn malformed(&mut self, error: &serde_json::Error, at: Pos, scope: &Scope<'_>) {
        self.resolver.sink.error(
            at,
            scope,
            Problem::InvalidValue {
                property: "Properties".to_owned(),
                value: String::new(),
                rule: error.to_string(),
            },
        );
    }

    /// Places each of riffle-core's problems on the property it names (except those about
    /// properties already reported).
    pub(super) fn rules(
        &mut self,
        errors: riffle_core::config::ConfigErrors,
        places: &BTreeMap<String, (Pos, Scope<'_>)>,
        failed: &BTreeSet<String>,
        at: Pos,
        scope: &Scope<'_>,
    ) {
        for error in errors.0 {
            if failed.contains(error.property) {
                continue;
            }
            let (at, scope) = places
                .get(error.property)
                .map_or((at, scope.clone()), |(at, scope)| (*at, scope.clone()));
            self.resolver.sink.error(
                at,
                &scope,
                Problem::MappingRule {
                    property: error.property,
                    kind: error.kind,
                    message: error.message,
                },
            );
        }
    }
}

fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}…")
    }
}
